#pragma once
// The built-in image codec: binary netpbm files, P5 (PGM, grey) and P6 (PPM, RGB), 8-bit
// samples for maxval 1-255 and 16-bit big-endian ones for maxval 256-65535 (the netpbm spec).
// Every build has it, so a build without OpenCV (the GPU machine) still reads and writes
// frames; core/image_io.cpp sends P5/P6 bytes and .ppm/.pgm files here in every build, so the
// GPU machine's decoder is the one all the tests run.
// Decoding gives what OpenCV's decoder gives for the same bytes (tests/core/pnm_test.cpp checks
// it): samples as stored (no rescaling for a maxval other than 255 / 65535), and for kRgb
// grey replicated to 3 channels and 16-bit samples cut to their high byte.
#include "core/image_io.h"

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <string>
#include <vector>

namespace vss {

// The bytes start like a binary PGM / PPM ("P5" or "P6", then whitespace).
bool is_binary_pnm(const unsigned char* data, size_t size);

// .ppm / .pgm (any case, with the dot).
bool is_pnm_extension(const std::string& extension);

// [H, W, C] uint8 (maxval < 256) or uint16 tensor, C = 1 (P5) or 3 (P6); kRgb: [H, W, 3] uint8.
// A bad header, maxval 0 or > 65535, a width or height of 0, or fewer pixel bytes than the
// header promises: a one-line vss::Error "<what>: ...". Bytes after the first image are ignored
// (netpbm allows several images in one file).
at::Tensor decode_pnm(const unsigned char* data, size_t size, ImageMode mode, const std::string& what);

// A uint8 (maxval 255) or uint16 (maxval 65535) image: [H, W, 1] or [H, W] as P5 for ".pgm",
// [H, W, 3] as P6 for ".ppm"; anything else is a vss::Error naming `what`.
std::vector<unsigned char> encode_pnm(const at::Tensor& image, const std::string& extension, const std::string& what);

}  // namespace vss
