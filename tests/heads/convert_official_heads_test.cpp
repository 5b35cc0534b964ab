// tools/convert_pth.py on head checkpoints as the official code publishes them, written by
// Python torch under the official names: MambaIR / MaIR as BasicSR saves them (`params`, or
// `params` and `params_ema` after EMA training: the EMA weights are taken), MambaBCD as
// MambaCD's train script saves it (a bare state_dict) and wrapped in `model` / `state_dict`.
// Each converted file loads strictly through the loader the app uses, every tensor equal.
#include "backbones/weights.h"
#include "core/config.h"
#include "core/remove_tree.h"
#include "core/safetensors.h"
#include "heads/change/mamba_bcd.h"
#include "heads/restore/restoration_weights.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

// argv: dir, then "<name>:<family>" for each <dir>/<name>.safetensors; writes
// <dir>/<name>.<layout>.pth and converts it to <dir>/<name>.<layout>.safetensors.
constexpr const char* kWriteAndConvert = R"PY(
from safetensors.torch import load_file
out_dir = sys.argv[1]
for spec in sys.argv[2:]:
    name, family = spec.split(":")
    state = load_file(f"{out_dir}/{name}.safetensors")
    other = {k: v + 1 if v.is_floating_point() else v for k, v in state.items()}
    if family == "basicsr":
        layouts = {"params": {"params": state}, "params_ema": {"params": other, "params_ema": state}}
    else:
        layouts = {"bare": state, "model": {"model": state}, "state_dict": {"state_dict": state}}
    for layout, ckpt in layouts.items():
        convert(ckpt, f"{out_dir}/{name}.{layout}")
)PY";

// Parameters and buffers, so BatchNorm statistics are compared too.
void expect_same_state(const torch::nn::Module& loaded, const torch::nn::Module& source, const std::string& label) {
  const NamedTensors want = model_state(source), got = model_state(loaded);
  ASSERT_EQ(got.size(), want.size()) << label;
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i].first, want[i].first) << label;
    EXPECT_TRUE(got[i].second.equal(want[i].second)) << label << " " << want[i].first;
  }
}

// Random values everywhere, BatchNorm statistics included, so a swapped tensor shows.
void perturb(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.parameters()) p.add_(torch::randn_like(p));
  for (auto& b : m.buffers())
    if (b.is_floating_point()) b.add_(torch::rand_like(b));
}

Config restore_model(const std::string& file) { return Config::load(source_dir() / "configs/restore" / file)["model"]; }

TEST(convert_pth, official_head_checkpoints_convert_and_load_strictly) {
  if (!python_has({"torch", "safetensors"})) GTEST_SKIP() << "skipped: python torch/safetensors missing";
  const auto dir = make_temp_dir("vss-convert-heads");
  torch::manual_seed(5);
  auto mambair = restore::make_restoration_net(restore_model("mambair_tiny_test.yaml"));
  auto mair = restore::make_restoration_net(restore_model("mair_tiny_test.yaml"));
  const Config bcd_config = Config::load(source_dir() / "configs/change/mambabcd_test.yaml");
  auto bcd = change::make_mamba_bcd(bcd_config);
  for (torch::nn::Module* m : std::initializer_list<torch::nn::Module*>{mambair.get(), mair.get(), bcd.get()}) perturb(*m);
  save_weights(*mambair, dir / "mambair.safetensors");
  save_weights(*mair, dir / "mair.safetensors");
  save_weights(*bcd, dir / "mambabcd.safetensors");
  std::string log;
  ASSERT_EQ(run_python_converting(kWriteAndConvert, {dir.string(), "mambair:basicsr", "mair:basicsr", "mambabcd:mambacd"},
                                  &log),
            0)
      << log;

  for (const std::string layout : {"params", "params_ema"}) {
    for (const auto& [name, source] : {std::pair{std::string("mambair"), mambair}, std::pair{std::string("mair"), mair}}) {
      const auto file = dir / (name + "." + layout + ".safetensors");
      auto loaded = restore::make_restoration_net(restore_model(name + "_tiny_test.yaml"));
      restore::load_restoration_weights(*loaded, read_safetensors(file).tensors, file.string());
      expect_same_state(*loaded, *source, file.filename().string());
    }
  }
  for (const std::string layout : {"bare", "model", "state_dict"}) {
    const auto file = dir / ("mambabcd." + layout + ".safetensors");
    auto loaded = change::make_mamba_bcd(bcd_config);
    load_weights(*loaded, file, /*strict=*/true);
    expect_same_state(*loaded, *bcd, file.filename().string());
  }
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
