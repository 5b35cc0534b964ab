// Parity with the official VMamba on CUDA (../shared/parity README): every ss2d/ and vssm/
// case, float32 within 1e-3 (max abs) and bf16 autocast within 3e-2 (relative to
// max(1, |reference|)), through the fused plan-driven scan (channel-first and channel-last
// kernels, whatever the map size) and the unfused oracle.
#include "backbones/ss2d.h"
#include "backbones/vssm.h"
#include "backbones/weights.h"
#include "core/config.h"
#include "core/safetensors.h"
#include "tests/support/gpu.h"
#include "tests/support/parity_check.h"
#include "tests/support/test_support.h"

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>

namespace vss {
namespace {

// Runs fn under CUDA bf16 autocast (or plainly), returning CPU float32 results.
std::vector<at::Tensor> run(bool bf16, const std::function<std::vector<at::Tensor>()>& fn) {
  if (bf16) {
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  }
  std::vector<at::Tensor> out = fn();
  if (bf16) {
    at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(at::kCUDA, false);
  }
  for (auto& t : out) t = t.to(at::kCPU, at::kFloat);
  return out;
}

void expect_close(const std::string& label, bool bf16, const at::Tensor& ours, const at::Tensor& official) {
  test::expect_parity(label, ours, official, bf16 ? test::kGpuBf16Parity : test::kGpuFloat32Parity);
}

at::Tensor to_channel_last(const at::Tensor& t, bool channel_first) {
  return channel_first ? t.permute({0, 2, 3, 1}) : t;
}

// The scan paths an SS2D can take on CUDA inference.
struct ScanPath {
  const char* name;
  bool fused;
  ScanPathChoice channels_last;
};
constexpr ScanPath kScanPaths[] = {{"fused", true, ScanPathChoice::kNever},
                                   {"fused-cl", true, ScanPathChoice::kAlways},
                                   {"unfused", false, ScanPathChoice::kNever}};

void apply(const ScanPath& path, SS2DOptions& o) {
  o.fused_scan = path.fused;
  o.channels_last_scan = path.channels_last;
}

std::string label_of(const std::filesystem::path& p, const ScanPath& path, bool bf16) {
  return p.stem().string() + " [" + path.name + (bf16 ? " bf16] " : " fp32] ");
}

TEST(parity, ss2d_cuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "skipped: no CUDA device";
  const auto cases = test::parity_cases("ss2d");
  if (cases.empty()) GTEST_SKIP() << "skipped: no cases";
  const test::ScopedNoTf32 float32;
  torch::NoGradGuard no_grad;
  for (const auto& path : cases) {
    const auto file = read_safetensors(path);
    const Config config = Config::parse(file.metadata.at("config"), path.string() + " config");
    const bool channel_first = config.get_or<bool>("channel_first", false);
    for (const ScanPath& scan : kScanPaths)
      for (bool bf16 : {false, true}) {
        SS2DOptions options = ss2d_options_from_config(config);
        apply(scan, options);
        SS2D layer(options);
        load_weights(*layer, path, true, "state.");
        layer->to(torch::kCUDA);
        layer->eval();
        const auto x = to_channel_last(file.at("x"), channel_first).to(torch::kCUDA);
        const auto y = run(bf16, [&] { return std::vector<at::Tensor>{layer->forward(x)}; })[0];
        expect_close(label_of(path, scan, bf16) + "y", bf16, y, to_channel_last(file.at("y"), channel_first));
      }
  }
}

TEST(parity, vssm_cuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "skipped: no CUDA device";
  const auto cases = test::parity_cases("vssm");
  if (cases.empty()) GTEST_SKIP() << "skipped: no cases";
  const test::ScopedNoTf32 float32;
  torch::NoGradGuard no_grad;
  for (const auto& path : cases) {
    const auto file = read_safetensors(path);
    const Config config = Config::parse(file.metadata.at("config"), path.string() + " config");
    const bool dense = file.metadata.at("kind") == "vssm_backbone";
    const std::string norm = config.get_or<std::string>("norm_layer", "ln");
    const bool channel_first = norm == "ln2d" || norm == "bn";
    for (const ScanPath& scan : kScanPaths)
      for (bool bf16 : {false, true}) {
        VSSMOptions options = vssm_options_from_config(config);
        apply(scan, options.ssm);
        VSSM model(options, dense);
        load_weights(model, path, true, "state.");
        model.to(torch::kCUDA);
        model.eval();
        const auto input = file.at("input").to(torch::kCUDA);
        const std::string label = label_of(path, scan, bf16);
        if (dense) {
          const auto outs = run(bf16, [&] { return model.forward_features(input); });
          for (size_t i = 0; i < outs.size(); ++i)
            expect_close(label + "out." + std::to_string(i), bf16, outs[i], file.at("out." + std::to_string(i)));
          continue;
        }
        const auto outs = run(bf16, [&] {
          auto t = model.trace(input);
          std::vector<at::Tensor> all{t.patch_embed};
          all.insert(all.end(), t.stages.begin(), t.stages.end());
          all.push_back(model.forward(input));
          return all;
        });
        expect_close(label + "patch_embed", bf16, outs[0], to_channel_last(file.at("patch_embed"), channel_first));
        for (size_t i = 0; i + 2 < outs.size(); ++i)
          expect_close(label + "stage." + std::to_string(i), bf16, outs[i + 1],
                       to_channel_last(file.at("stage." + std::to_string(i)), channel_first));
        expect_close(label + "logits", bf16, outs.back(), file.at("logits"));
      }
  }
}

}  // namespace
}  // namespace vss
