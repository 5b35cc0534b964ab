// Tiled inference: the tile grid (KAIR's starts, last tile flush), seam blending equal to
// whole-image inference for convolution nets whose reach is <= overlap/2 (with and without
// upscaling), average blending equal to it for pointwise nets, the tiny MambaIR with a
// fast-forgetting state, and the argument errors.
#include "core/config.h"
#include "core/error.h"
#include "heads/restore/restoration_net.h"
#include "heads/restore/tiled_inference.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

using restore::TileBlend;
using restore::TileOptions;
using restore::tiled_forward;

// Two 3x3 convs (reach 2 px) and an optional pixel shuffle.
struct ConvNet {
  torch::nn::Conv2d a{torch::nn::Conv2dOptions(3, 8, 3).padding(1)}, b{torch::nn::Conv2dOptions(8, 12, 3).padding(1)};
  int64_t scale;
  at::Tensor operator()(const at::Tensor& x) {
    const at::Tensor y = b->forward(torch::gelu(a->forward(x)));
    return scale == 2 ? torch::pixel_shuffle(y, 2) : y.narrow(1, 0, 3);
  }
};

TEST(TiledInference, SeamEqualsWholeImageForConvNets) {
  torch::manual_seed(0);
  torch::NoGradGuard no_grad;
  const at::Tensor x = torch::rand({2, 3, 37, 29});
  for (int64_t scale : {1, 2}) {
    ConvNet net{.scale = scale};
    const at::Tensor whole = net(x);
    for (int64_t tile : {8, 12, 16, 40}) {
      int64_t tiles = 0;
      const at::Tensor tiled = tiled_forward(net, x, scale, TileOptions{tile, 4, TileBlend::kSeam},
                                             [&](int64_t done, int64_t total) {
                                               tiles = total;
                                               EXPECT_LE(done, total);
                                             });
      EXPECT_LT(max_abs_diff(tiled, whole), 1e-5) << "tile " << tile << " scale " << scale;
      // 8 px tiles every 4 px: rows start 0, 4, .., 28 and 29; columns 0, 4, .., 20 and 21.
      if (tile == 8) {
        EXPECT_EQ(tiles, 9 * 7);
      }
      if (tile == 40) {
        EXPECT_EQ(tiles, 1);
      }
    }
    // Averaging mixes in tile-border outputs: not equal for a net that sees its neighbours.
    EXPECT_GT(max_abs_diff(tiled_forward(net, x, scale, TileOptions{8, 4, TileBlend::kAverage}), whole), 1e-3);
  }
}

TEST(TiledInference, AverageEqualsWholeImageForPointwiseNets) {
  torch::NoGradGuard no_grad;
  const at::Tensor x = torch::rand({1, 3, 21, 30});
  const auto net = [](const at::Tensor& t) { return torch::sigmoid(3 * t) * t; };
  EXPECT_LT(max_abs_diff(tiled_forward(net, x, 1, TileOptions{10, 3, TileBlend::kAverage}), net(x)), 1e-6);
}

// With Δ ≈ softplus(8) the state forgets within a few steps, so what a tile cannot see barely
// matters, and the tiny MambaIR tiled with a 16 px overlap matches the whole image.
TEST(TiledInference, TinyMambaIRWithShortMemoryMatchesWholeImage) {
  torch::manual_seed(1);
  torch::NoGradGuard no_grad;
  auto net = restore::make_restoration_net(Config::load(source_dir() / "configs/restore/mambair_tiny_test.yaml")["model"]);
  net->eval();
  for (auto& item : net->named_parameters())
    if (item.key().find("dt_projs_bias") != std::string::npos) item.value().fill_(8.0);
  const at::Tensor x = torch::rand({1, 3, 40, 36});
  const auto run = [&](const at::Tensor& t) { return net->forward(t); };
  const at::Tensor whole = run(x);
  const at::Tensor tiled = tiled_forward(run, x, 2, TileOptions{24, 16, TileBlend::kSeam});
  EXPECT_LT(max_abs_diff(tiled, whole), 1e-3);
}

TEST(TiledInference, BadArgumentsAreErrors) {
  const auto net = [](const at::Tensor& t) { return t; };
  const at::Tensor x = torch::rand({1, 3, 8, 8});
  EXPECT_THROW(tiled_forward(net, x, 1, TileOptions{4, 4, TileBlend::kSeam}), Error);  // tile <= overlap
  EXPECT_THROW(tiled_forward(net, x, 1, TileOptions{4, -1, TileBlend::kSeam}), Error);
  EXPECT_THROW(tiled_forward(net, x, 2, TileOptions{4, 1, TileBlend::kSeam}), Error);  // output not x2
  EXPECT_THROW(restore::tile_blend_from_string("feather"), Error);
}

}  // namespace
}  // namespace vss::test
