#pragma once
// Image files <-> tensors, the one place the toolkit touches an image codec: binary .ppm/.pgm
// in every build (core/pnm.h), every other format through OpenCV when the build has it
// (without it they are a one-line error naming the file).
// Tensors are [H, W, C] uint8 or uint16 (16-bit PNG / TIFF), channels in RGB(A) order
// (grey images have C = 1), so no caller ever sees OpenCV's BGR.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace vss {

enum class ImageMode {
  kUnchanged,  // as stored: grey stays C=1, alpha kept, 16-bit kept (label masks, restoration)
  kRgb,        // 3 channels, 8-bit (model inputs)
};

// Every format (.png, .jpg, .tif, .bmp, .webp, .ppm, .pgm) can be read and written: the build
// has OpenCV. Without it, only binary .ppm/.pgm can (image_format_available).
bool all_image_formats_available();
// This build reads and writes files with this extension (".png", ".PPM", ...: the dot included).
bool image_format_available(const std::string& extension);

// Throws vss::Error "<path>: cannot read image (...)" for a missing / undecodable file.
at::Tensor read_image(const std::string& path, ImageMode mode = ImageMode::kRgb);

// Writes a [H, W, C] (or [H, W]) uint8/uint16 tensor; the format follows the extension
// (.png, .jpg/.jpeg with `jpeg_quality`, .tif/.tiff, .bmp, .ppm/.pgm). Written to a temporary file and
// renamed, so an interrupted run never leaves a half-written image.
void write_image(const std::string& path, const at::Tensor& image, int jpeg_quality = 95);

// Encodes / decodes in memory (JPEG degradation for training, tests).
std::vector<unsigned char> encode_image(const at::Tensor& image, const std::string& extension,
                                        int jpeg_quality = 95);
at::Tensor decode_image(const std::vector<unsigned char>& bytes, ImageMode mode, const std::string& what);

bool has_image_extension(const std::string& path);

// A file, a folder (its image files, not recursive) or a glob pattern -> sorted image paths.
// Errors name the argument when nothing matches.
std::vector<std::string> list_images(const std::string& file_dir_or_glob);

}  // namespace vss
