#pragma once
// Restoring one stored image with a restoration network (what `vss-restore` does per input):
// read it, fit its channels to the network (grey replicated to RGB and back to BT.601 luma;
// a 1-channel network runs on each colour channel), optionally add Gaussian noise, run the
// network (tiled), and write the result at the input's bit depth with its alpha (enlarged by
// MATLAB bicubic). Reports go to the caller: this layer does not print.
#include "heads/restore/restoration_net.h"
#include "heads/restore/tiled_inference.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace vss::restore {

// The output file's extension: the input's for `auto`, except PNG where the input's format
// cannot hold the result (alpha or 16 bits in a JPEG), as Real-ESRGAN's --ext auto.
std::string output_extension(const std::string& input, const std::string& choice, bool alpha, bool deep);

// OUT/<name>[_<suffix>]<extension>
std::filesystem::path output_path(const std::filesystem::path& out_dir, const std::string& input,
                                  const std::string& suffix, const std::string& extension);

struct RestoreOptions {
  TileOptions tile;
  c10::Device device = c10::kCPU;  // where the network is
  // Runs the network's pass in the caller's context (the app's autocast scope, which lives in
  // engine/); a plain call when empty.
  std::function<at::Tensor(const std::function<at::Tensor()>&)> around_forward;
  double noise_sigma = 0;  // > 0: add N(0, sigma/255) to the input, unclipped
  uint64_t noise_seed = 0;
  std::filesystem::path out_dir;
  std::string suffix;        // output name <name>_<suffix>; empty keeps the name
  std::string ext = "auto";  // auto | png | jpg | tif
};

// An input read and checked against the network.
struct RestoreInput {
  std::string path;
  at::Tensor image;  // as stored: [H, W, C] uint8 / uint16, alpha included
  at::Tensor color;  // the image without alpha
  at::Tensor x;      // float [C, H, W] in [0, 1], noise added: what the network restores
  bool has_alpha = false, deep = false;
  bool grey_to_rgb = false;  // a grey image through a 3-channel network
  std::string extension;
  std::filesystem::path output;
};

struct RestoredImage {
  std::filesystem::path output;
  at::Tensor restored;  // [H·s, W·s, C] at the input's depth without alpha: what is scored
  at::Tensor result;    // what is written: with the enlarged alpha, 8-bit in a JPEG
  std::string note;     // what the written file lost (alpha, 16 bits); empty when nothing
  int64_t tiles = 1;
  double seconds = 0;  // the network's time, device synchronised
};

// Each step runs under the caller's grad mode (inference: c10::InferenceMode). Errors are
// vss::Error naming the file.
class RestoreRun {
 public:
  RestoreRun(RestorationNet net, RestoreOptions options);

  // Reads `path`; an error when its channels cannot go through the network.
  RestoreInput read(const std::string& path) const;
  // The network on the input, back to the stored form.
  RestoredImage run(const RestoreInput& input);
  // Writes the result to its output (a temporary name, then renamed).
  void write(const RestoredImage& restored) const;
  // read -> run -> write.
  RestoredImage restore(const std::string& path);

  // What the restored image is compared with: the input enlarged by MATLAB bicubic (SR) or
  // the input itself (denoising / JPEG), uint8.
  at::Tensor baseline(const RestoreInput& input) const;

  int64_t scale() const { return net_->options().upscale; }
  const RestoreOptions& options() const { return options_; }

 private:
  // float [C, H, W] in [0, 1], C = the network's channels or a multiple run as a batch
  // -> [C, H·s, W·s] on the CPU.
  at::Tensor forward(const at::Tensor& chw, int64_t* tiles, double* seconds);

  RestorationNet net_;
  RestoreOptions options_;
};

}  // namespace vss::restore
