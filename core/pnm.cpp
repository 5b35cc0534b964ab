// Binary PGM / PPM (see pnm.h). Header grammar (netpbm's pgm(5) / ppm(5)): the magic number,
// then width, height and maxval as ASCII decimals, each after whitespace (blanks, TABs, CRs,
// LFs, VTs, FFs); a comment runs from '#' to the end of its line and counts as whitespace
// (as libnetpbm and OpenCV read it); exactly one whitespace character separates maxval from
// the raster.
#include "core/pnm.h"

#include "core/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <limits>

namespace vss {
namespace {

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

class HeaderReader {
 public:
  HeaderReader(const unsigned char* data, size_t size, const std::string& what)
      : p_(data), end_(data + size), what_(what) {}

  // Whitespace and comments, then a decimal of at most INT_MAX ended by whitespace or '#'.
  // (What precedes is whitespace: the magic number's check and the previous field's end.)
  int64_t number(const char* field) {
    while (p_ < end_ && (is_space(*p_) || *p_ == '#')) {
      if (*p_ == '#')
        while (p_ < end_ && *p_ != '\n' && *p_ != '\r') ++p_;
      else
        ++p_;
    }
    if (p_ == end_) fail(std::string("truncated header: no ") + field);
    if (!std::isdigit(*p_)) fail(std::string("bad header: the ") + field + " is not a decimal number");
    int64_t value = 0;
    for (; p_ < end_ && std::isdigit(*p_); ++p_) {
      value = value * 10 + (*p_ - '0');
      if (value > std::numeric_limits<int32_t>::max()) fail(std::string("bad header: the ") + field + " is too large");
    }
    if (p_ == end_) fail("truncated header: it ends after the " + std::string(field));
    if (!is_space(*p_) && *p_ != '#') fail(std::string("bad header: the ") + field + " is not a decimal number");
    return value;
  }

  // The single whitespace character after maxval; the raster starts behind it.
  const unsigned char* raster() {
    if (!is_space(*p_)) fail("bad header: maxval must be followed by one whitespace character, not a comment");
    return p_ + 1;
  }

  [[noreturn]] void fail(const std::string& message) const { throw_file_error(what_, "PNM " + message); }

 private:
  const unsigned char* p_;
  const unsigned char* end_;
  const std::string& what_;
};

}  // namespace

bool is_binary_pnm(const unsigned char* data, size_t size) {
  return size >= 3 && data[0] == 'P' && (data[1] == '5' || data[1] == '6') && is_space(data[2]);
}

bool is_pnm_extension(const std::string& extension) {
  std::string ext = extension;
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".ppm" || ext == ".pgm";
}

at::Tensor decode_pnm(const unsigned char* data, size_t size, ImageMode mode, const std::string& what) {
  if (!is_binary_pnm(data, size))
    throw_file_error(what, "PNM bad magic number: expected P5 (grey) or P6 (RGB) and whitespace");
  const int64_t channels = data[1] == '6' ? 3 : 1;
  HeaderReader header(data + 2, size - 2, what);
  const int64_t width = header.number("width");
  const int64_t height = header.number("height");
  const int64_t maxval = header.number("maxval");
  if (width < 1 || height < 1)
    header.fail("bad header: image of " + std::to_string(width) + "x" + std::to_string(height) + " pixels");
  if (maxval < 1 || maxval > 65535)
    header.fail("bad header: maxval " + std::to_string(maxval) + " (netpbm allows 1 to 65535)");
  const unsigned char* raster = header.raster();
  const int64_t sample_bytes = maxval < 256 ? 1 : 2;
  // Checked against the bytes present before anything is allocated: a header claiming a huge
  // image in a small file is a truncation error, not an allocation. Division, not a product
  // that could overflow.
  const uint64_t available = static_cast<uint64_t>(data + size - raster);
  const uint64_t row_bytes = static_cast<uint64_t>(width * channels * sample_bytes);
  if (available / row_bytes < static_cast<uint64_t>(height))
    header.fail("truncated: the header promises " + std::to_string(width) + "x" + std::to_string(height) + "x" +
                std::to_string(channels) + " samples of " + std::to_string(sample_bytes) + " byte(s), " +
                std::to_string(available) + " bytes follow the header");

  const int64_t samples = width * height * channels;
  // kRgb (model inputs) is 8-bit: of a 16-bit sample OpenCV keeps the high byte.
  const bool high_bytes = sample_bytes == 2 && mode == ImageMode::kRgb;
  at::Tensor image = at::empty({height, width, channels}, sample_bytes == 2 && !high_bytes ? at::kUInt16 : at::kByte);
  if (sample_bytes == 1) {
    std::memcpy(image.data_ptr(), raster, static_cast<size_t>(samples));
  } else if (high_bytes) {
    auto* out = static_cast<uint8_t*>(image.data_ptr());
    for (int64_t i = 0; i < samples; ++i) out[i] = raster[2 * i];  // big-endian: the high byte first
  } else {
    auto* out = static_cast<uint16_t*>(image.data_ptr());
    for (int64_t i = 0; i < samples; ++i) out[i] = static_cast<uint16_t>((raster[2 * i] << 8) | raster[2 * i + 1]);
  }
  if (mode == ImageMode::kUnchanged || channels == 3) return image;
  return image.expand({height, width, 3}).contiguous();
}

std::vector<unsigned char> encode_pnm(const at::Tensor& image, const std::string& extension, const std::string& what) {
  const at::Tensor t = (image.dim() == 2 ? image.unsqueeze(-1) : image).to(at::kCPU).contiguous();
  std::string ext = extension;
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  const bool grey = ext == ".pgm";
  if (!grey && ext != ".ppm") throw_file_error(what, "PNM files end in .ppm (RGB) or .pgm (grey), not '" + extension + "'");
  const int64_t channels = grey ? 1 : 3;
  if (t.dim() != 3 || t.size(2) != channels || t.size(0) < 1 || t.size(1) < 1)
    throw_file_error(what, std::string(grey ? "a .pgm holds grey images [H, W, 1]" : "a .ppm holds RGB images [H, W, 3]") +
                               ", got " + shape_to_string(image.sizes().vec()));
  if (t.scalar_type() != at::kByte && t.scalar_type() != at::kUInt16)
    throw_file_error(what, "PNM samples must be uint8 or uint16, got " + std::string(c10::toString(t.scalar_type())));
  const bool deep = t.scalar_type() == at::kUInt16;
  const std::string head = std::string(grey ? "P5" : "P6") + "\n" + std::to_string(t.size(1)) + " " +
                           std::to_string(t.size(0)) + "\n" + (deep ? "65535" : "255") + "\n";
  const size_t samples = static_cast<size_t>(t.numel());
  std::vector<unsigned char> out(head.begin(), head.end());
  out.resize(head.size() + samples * (deep ? 2 : 1));
  unsigned char* raster = out.data() + head.size();
  if (!deep) {
    std::memcpy(raster, t.data_ptr(), samples);
  } else {
    const auto* in = static_cast<const uint16_t*>(t.data_ptr());
    for (size_t i = 0; i < samples; ++i) {
      raster[2 * i] = static_cast<unsigned char>(in[i] >> 8);
      raster[2 * i + 1] = static_cast<unsigned char>(in[i] & 0xFF);
    }
  }
  return out;
}

}  // namespace vss
