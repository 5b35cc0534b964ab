#include "core/image_io.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/opencv_log.h"
#include "core/pnm.h"

#include <ATen/ATen.h>

#include <glob.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#ifdef VSS_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace fs = std::filesystem;

namespace vss {

namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

bool is_image_extension(std::string ext) {
  static const char* kExt[] = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"};
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::any_of(std::begin(kExt), std::end(kExt), [&](const char* e) { return ext == e; });
}

#ifdef VSS_HAVE_OPENCV
// OpenCV Mat (BGR / BGRA / grey, 8 or 16 bit) -> owning [H, W, C] tensor in RGB(A).
at::Tensor mat_to_tensor(cv::Mat mat, ImageMode mode, const std::string& what) {
  if (mode == ImageMode::kRgb) {
    if (mat.depth() == CV_16U) mat.convertTo(mat, CV_8U, 1.0 / 257.0);
    if (mat.channels() == 1) cv::cvtColor(mat, mat, cv::COLOR_GRAY2RGB);
    else if (mat.channels() == 4) cv::cvtColor(mat, mat, cv::COLOR_BGRA2RGB);
    else cv::cvtColor(mat, mat, cv::COLOR_BGR2RGB);
  } else {
    if (mat.channels() == 3) cv::cvtColor(mat, mat, cv::COLOR_BGR2RGB);
    else if (mat.channels() == 4) cv::cvtColor(mat, mat, cv::COLOR_BGRA2RGBA);
  }
  at::ScalarType type;
  if (mat.depth() == CV_8U) type = at::kByte;
  else if (mat.depth() == CV_16U) type = at::kUInt16;
  else throw_file_error(what, "unsupported pixel depth (only 8- and 16-bit images are read)");
  if (!mat.isContinuous()) mat = mat.clone();
  return at::from_blob(mat.data, {mat.rows, mat.cols, mat.channels()}, at::TensorOptions(type)).clone();
}

// OpenCV's setting `name` (an environment variable, as OpenCV reads it), else its default.
unsigned long long opencv_limit(const char* name, unsigned long long fallback) {
  const char* text = std::getenv(name);
  char* end = nullptr;
  const unsigned long long value = text ? std::strtoull(text, &end, 10) : 0;
  return text && end != text && *end == '\0' ? value : fallback;
}

std::string image_size_limit_text() {
  return "image too large: its header claims more than OpenCV decodes (" +
         std::to_string(opencv_limit("OPENCV_IO_MAX_IMAGE_PIXELS", 1ull << 30)) + " pixels, " +
         std::to_string(opencv_limit("OPENCV_IO_MAX_IMAGE_WIDTH", 1ull << 20)) + " wide, " +
         std::to_string(opencv_limit("OPENCV_IO_MAX_IMAGE_HEIGHT", 1ull << 20)) +
         " high; the environment variables OPENCV_IO_MAX_IMAGE_PIXELS, _WIDTH, _HEIGHT raise the limits)";
}

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

cv::Mat tensor_to_mat(const at::Tensor& image, const std::string& what) {
  at::Tensor t = image.dim() == 2 ? image.unsqueeze(-1) : image;
  if (t.dim() != 3 || t.size(2) < 1 || t.size(2) > 4 || t.size(2) == 2)
    throw Error(what + ": expected an image tensor [H, W, 1|3|4], got " + shape_to_string(image.sizes().vec()));
  int depth;
  if (t.scalar_type() == at::kByte) depth = CV_8U;
  else if (t.scalar_type() == at::kUInt16) depth = CV_16U;
  else throw Error(what + ": image tensors must be uint8 or uint16, got " + std::string(c10::toString(t.scalar_type())));
  t = t.to(at::kCPU).contiguous();
  const int c = static_cast<int>(t.size(2));
  cv::Mat rgb(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_MAKETYPE(depth, c), t.data_ptr());
  cv::Mat bgr;
  if (c == 3) cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  else if (c == 4) cv::cvtColor(rgb, bgr, cv::COLOR_RGBA2BGRA);
  else bgr = rgb.clone();
  return bgr;
}
#endif

#ifndef VSS_HAVE_OPENCV
[[noreturn]] void no_opencv(const std::string& what) {
  throw_file_error(what, "no codec for this format in this vsskit build: without OpenCV it reads and writes binary "
                         ".ppm/.pgm only (rebuild with -DVSS_WITH_OPENCV=ON)");
}
#endif

}  // namespace

bool all_image_formats_available() {
#ifdef VSS_HAVE_OPENCV
  return true;
#else
  return false;
#endif
}

bool image_format_available(const std::string& extension) {
  return all_image_formats_available() ? is_image_extension(extension) : is_pnm_extension(extension);
}

bool has_image_extension(const std::string& path) { return is_image_extension(fs::path(path).extension().string()); }

at::Tensor decode_image(const std::vector<unsigned char>& bytes, ImageMode mode, const std::string& what) {
  // Binary PNM by the built-in codec in every build: the decoder a build without OpenCV runs
  // is the one every build tests (it decodes as OpenCV does, tests/core/pnm_test.cpp).
  if (is_binary_pnm(bytes.data(), bytes.size())) return decode_pnm(bytes.data(), bytes.size(), mode, what);
#ifdef VSS_HAVE_OPENCV
  silence_opencv_log();
  const int flags = mode == ImageMode::kRgb ? cv::IMREAD_COLOR : cv::IMREAD_UNCHANGED;
  try {
    cv::Mat mat = cv::imdecode(bytes, flags);
    if (mat.empty()) throw_file_error(what, "cannot decode image (corrupt or unsupported format)");
    return mat_to_tensor(mat, mode, what);
  } catch (const cv::Exception& e) {
    // OpenCV checks the header's size against its limits before allocating (an assertion).
    if (e.err.find("CV_IO_MAX_IMAGE") != std::string::npos) throw_file_error(what, image_size_limit_text());
    throw_file_error(what, "cannot decode image (" + one_line(e.err) + ")");
  }
#else
  // A .ppm/.pgm that is not binary PNM: the built-in decoder says what is wrong with it.
  if (is_pnm_extension(lower_extension(what))) return decode_pnm(bytes.data(), bytes.size(), mode, what);
  no_opencv(what);
#endif
}

at::Tensor read_image(const std::string& path, ImageMode mode) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw_file_error(path, "is a folder, not an image");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw_file_error(path, "cannot open image (missing file or no permission)");
  // One read of the whole file (a 1280x720 frame is 2.7 MB as .ppm): the decode time of a frame.
  const std::streamoff size = in.tellg();
  if (size <= 0) throw_file_error(path, "image file is empty");
  std::vector<unsigned char> bytes(static_cast<size_t>(size));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), size)) throw_file_error(path, "cannot read image (I/O error)");
  return decode_image(bytes, mode, path);
}

std::vector<unsigned char> encode_image(const at::Tensor& image, const std::string& extension, int jpeg_quality) {
  if (is_pnm_extension(extension)) return encode_pnm(image, extension, "image" + extension);
#ifdef VSS_HAVE_OPENCV
  cv::Mat mat = tensor_to_mat(image, "image" + extension);
  std::vector<int> params;
  if (extension == ".jpg" || extension == ".jpeg") params = {cv::IMWRITE_JPEG_QUALITY, jpeg_quality};
  std::vector<unsigned char> out;
  if (!cv::imencode(extension, mat, out, params))
    throw Error("cannot encode an image as '" + extension + "'");
  return out;
#else
  no_opencv("image" + extension);
#endif
}

void write_image(const std::string& path, const at::Tensor& image, int jpeg_quality) {
  const std::string ext = lower_extension(path);
  if (!has_image_extension(path)) throw_file_error(path, "unknown image extension (use .png, .jpg, .tif, .bmp, .ppm)");
  std::vector<unsigned char> bytes;
  try {
    bytes = encode_image(image, ext, jpeg_quality);
  } catch (const Error& e) {
    throw_file_error(path, e.what());
  }
  write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::vector<std::string> list_images(const std::string& spec) {
  std::vector<std::string> out;
  std::error_code ec;
  if (fs::is_directory(spec, ec)) {
    for (fs::directory_iterator it(spec, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file() && has_image_extension(it->path().string())) out.push_back(it->path().string());
    if (out.empty()) throw_file_error(spec, "folder holds no image files (.png .jpg .tif .bmp ...)");
  } else if (spec.find_first_of("*?[") != std::string::npos) {
    glob_t g{};
    if (::glob(spec.c_str(), 0, nullptr, &g) == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i)
        if (has_image_extension(g.gl_pathv[i])) out.emplace_back(g.gl_pathv[i]);
    globfree(&g);
    if (out.empty()) throw_file_error(spec, "pattern matches no image files");
  } else {
    if (!fs::exists(spec, ec)) throw_file_error(spec, "no such file or folder");
    out.push_back(spec);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace vss
