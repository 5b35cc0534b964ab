// Parity of the heads with the official MambaIR, MaIR and ChangeMamba code on CUDA
// (../shared/parity README): every case under restore/ and change/, float32 (no TF32) within
// 1e-3 max abs and bf16 autocast within 3e-2 relative to max(1, |reference|), through both
// scan paths (fused plan-driven op, unfused oracle).
#include "engine/mixed_precision.h"
#include "tests/support/gpu.h"
#include "tests/support/head_parity_model.h"
#include "tests/support/parity_check.h"

#include <gtest/gtest.h>

#include <optional>

namespace vss::test {
namespace {

void check_folder(const std::string& sub, const std::vector<std::string>& kinds) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "skipped: no CUDA device";
  const ScopedNoTf32 float32;
  torch::NoGradGuard no_grad;
  const int checked = for_each_head_case(sub, kinds, [](const std::string& label, const HeadParityModel& m,
                                                        const SafetensorsFile& file) {
    m.module->to(torch::kCUDA);
    const auto inputs = head_parity_inputs(m, file, torch::kCUDA);
    for (bool bf16 : {false, true}) {
      std::vector<at::Tensor> out;
      {
        const AutocastScope autocast(torch::kCUDA, bf16 ? std::optional(at::kBFloat16) : std::nullopt);
        out = m.forward(inputs);
      }
      for (size_t i = 0; i < out.size(); ++i)
        expect_parity(label + (bf16 ? " bf16 " : " fp32 ") + m.outputs[i], out[i].to(torch::kCPU, torch::kFloat),
                      file.at(m.outputs[i]), bf16 ? kGpuBf16Parity : kGpuFloat32Parity);
    }
  });
  if (checked == 0) GTEST_SKIP() << "skipped: no cases of kind " << kinds[0] << " in " << (parity_dir() / sub);
}

TEST(parity, restore_cuda) { check_folder("restore", {"mambair", "mair"}); }

TEST(parity, change_cuda) { check_folder("change", {"mambabcd"}); }

TEST(parity, change_semantic_cuda) { check_folder("change", {"mambascd"}); }

}  // namespace
}  // namespace vss::test
