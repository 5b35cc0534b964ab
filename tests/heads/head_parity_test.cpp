// Parity of the heads with the official MambaIR, MaIR and ChangeMamba code (../shared/parity
// README): every case under restore/ and change/ is built from its official `config`, loaded
// strictly with its official state_dict and run on CPU in float32 through both scan paths
// (fused plan-driven op, unfused oracle); each stored output must match within 1e-4.
#include "tests/support/head_parity_model.h"
#include "tests/support/parity_check.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace vss::test {
namespace {

void check_folder(const std::string& sub, const std::vector<std::string>& kinds) {
  torch::NoGradGuard no_grad;
  const int checked = for_each_head_case(sub, kinds, [](const std::string& label, const HeadParityModel& m,
                                                        const SafetensorsFile& file) {
    const auto out = m.forward(head_parity_inputs(m, file, torch::kCPU));
    for (size_t i = 0; i < out.size(); ++i)
      expect_parity(label + " " + m.outputs[i], out[i], file.at(m.outputs[i]), kCpuFloat32Parity);
  });
  if (checked == 0) GTEST_SKIP() << "skipped: no cases of kind " << kinds[0] << " in " << (parity_dir() / sub);
}

TEST(parity, restore) { check_folder("restore", {"mambair", "mair"}); }

TEST(parity, change) { check_folder("change", {"mambabcd"}); }

TEST(parity, change_semantic) { check_folder("change", {"mambascd"}); }

// The tests above pick cases by kind: a case of any other kind would be run by none of them.
TEST(parity, every_head_case_has_a_tested_kind) {
  const std::map<std::string, std::set<std::string>> kinds{{"restore", {"mambair", "mair"}},
                                                           {"change", {"mambabcd", "mambascd"}}};
  for (const auto& [sub, known] : kinds)
    for (const auto& path : parity_cases(sub))
      EXPECT_TRUE(known.count(read_safetensors(path).metadata.at("kind"))) << path << ": kind not tested";
}

}  // namespace
}  // namespace vss::test
