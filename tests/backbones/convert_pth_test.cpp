// tools/convert_pth.py on checkpoints written by Python torch in the official layouts:
// classification (`model`, old key names), mmseg (`state_dict`, `backbone.` prefix) and
// BasicSR (`params_ema`); the converted file loads strictly into our model.
#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "backbones/weights.h"
#include "core/config.h"
#include "core/remove_tree.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss {
namespace {

// Reads our safetensors state, writes it as official checkpoints with torch.save
// (classification with old key names under `model`, mmseg `state_dict` with `backbone.`,
// BasicSR `params_ema`), and runs the converter on each.
constexpr const char* kWriteAndConvert = R"PY(
from safetensors.torch import load_file
src, out_dir = sys.argv[1:3]
state = load_file(src)
old = {}
for k, v in state.items():
    k = k.replace("patch_embed.0.", "patch_embed.proj.").replace("patch_embed.2.", "patch_embed.norm.")
    k = k.replace(".op.", ".self_attention.").replace("blocks.0.norm.", "blocks.0.ln_1.")
    k = k.replace("classifier.norm.", "norm.").replace("classifier.head.", "head.")
    old[k] = v.clone()
checkpoints = {
    "model": {"model": old, "epoch": 299, "max_accuracy": 82.6},
    "mmseg": {"meta": {"iter": 160000}, "state_dict": {"backbone." + k: v for k, v in state.items()}},
    "params_ema": {"params_ema": old, "params": {}},
}
for name, ckpt in checkpoints.items():
    convert(ckpt, f"{out_dir}/{name}")
)PY";

std::string converter() { return (test::source_dir() / "tools" / "convert_pth.py").string(); }

TEST(convert_pth, official_layouts_convert_and_load_strictly) {
  if (!test::python_has({"torch", "safetensors"})) GTEST_SKIP() << "skipped: python torch/safetensors missing";
  const auto dir = test::make_temp_dir("vss-convert");
  const auto node = Config::load(test::source_dir() / "configs" / "backbones" / "vss_tiny_test.yaml");
  torch::manual_seed(3);
  auto source = std::dynamic_pointer_cast<VSSM>(make_backbone(node));
  save_weights(*source, dir / "ours.safetensors");
  std::string log;
  ASSERT_EQ(test::run_python_converting(kWriteAndConvert, {(dir / "ours.safetensors").string(), dir.string()}, &log), 0)
      << log;
  for (const std::string layout : {"model", "mmseg", "params_ema"}) {
    torch::manual_seed(4);
    auto loaded = std::dynamic_pointer_cast<VSSM>(make_backbone(node));
    load_weights(*loaded, dir / (layout + ".safetensors"), /*strict=*/true);
    for (const auto& p : source->named_parameters())
      EXPECT_EQ(test::max_abs_diff(loaded->named_parameters()[p.key()], p.value()), 0.0) << layout << " " << p.key();
  }
  remove_tree(dir);
}

TEST(convert_pth, a_file_without_tensors_is_a_one_line_error) {
  if (!test::python_has({"torch", "safetensors"})) GTEST_SKIP() << "skipped: python torch/safetensors missing";
  const auto dir = test::make_temp_dir("vss-convert");
  const auto pth = dir / "empty.pth";
  std::string log;
  ASSERT_EQ(test::run_python("import sys, torch; torch.save({'epoch': 3}, sys.argv[1])", {pth.string()}, &log), 0) << log;
  EXPECT_NE(test::run_python("import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
                             {converter(), pth.string(), (dir / "x.safetensors").string()}, &log),
            0);
  EXPECT_NE(log.find("no state_dict found (top-level keys: epoch)"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.safetensors"));
  remove_tree(dir);
}

}  // namespace
}  // namespace vss
