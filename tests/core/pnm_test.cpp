// The built-in PNM codec (core/pnm.h), in every build: hand-written files with hand-computed
// pixels, round trips through files, bad input; and where the build has OpenCV, its decoder
// (an independent implementation) on the same bytes.
#include "core/error.h"
#include "core/image_io.h"
#include "core/pnm.h"
#include "core/remove_tree.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <random>

#ifdef VSS_TEST_WITH_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace fs = std::filesystem;

namespace {

std::vector<unsigned char> bytes_of(const std::string& header, const std::vector<int>& raster) {
  std::vector<unsigned char> out(header.begin(), header.end());
  for (int b : raster) out.push_back(static_cast<unsigned char>(b));
  return out;
}

at::Tensor decode(const std::vector<unsigned char>& b, vss::ImageMode mode = vss::ImageMode::kUnchanged) {
  return vss::decode_pnm(b.data(), b.size(), mode, "mem.ppm");
}

std::string decode_error(const std::vector<unsigned char>& b) {
  return vss::test::error_of([&] { decode(b); });
}

std::vector<int64_t> values(const at::Tensor& t) {
  const at::Tensor flat = t.to(torch::kInt64).flatten().contiguous();
  return {flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel()};
}

class PnmFiles : public testing::Test {
 protected:
  void SetUp() override { dir_ = vss::test::make_temp_dir("vss-pnm-test"); }
  void TearDown() override { vss::remove_tree(dir_); }
  fs::path dir_;
};

}  // namespace

TEST(Pnm, p6_with_a_comment_decodes_to_the_bytes_in_rgb_order) {
  // 2 wide, 2 high: pixels row by row, R G B each.
  const auto b = bytes_of("P6\n# made by hand\n2 2\n255\n", {1, 2, 3, 4, 5, 6, 7, 8, 9, 250, 251, 252});
  const at::Tensor t = decode(b);
  EXPECT_EQ(t.scalar_type(), torch::kByte);
  EXPECT_EQ(t.sizes().vec(), (std::vector<int64_t>{2, 2, 3}));
  EXPECT_EQ(values(t), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 250, 251, 252}));
  EXPECT_EQ(values(t[1][0]), (std::vector<int64_t>{7, 8, 9}));  // row 1, column 0
  EXPECT_TRUE(torch::equal(decode(b, vss::ImageMode::kRgb), t));
}

TEST(Pnm, header_whitespace_and_comments_follow_the_netpbm_rules) {
  // Tabs, CR LF, VT, FF and comments (ended by CR or LF) anywhere before maxval; a comment
  // right after a number ends it. Exactly one whitespace byte after maxval: the raster here
  // starts with LF, space and '#' bytes, which are pixels.
  const auto b = bytes_of("P5\t3#w\r\n#second comment\r\v1\f# h\n255\n", {'\n', ' ', '#'});
  const at::Tensor t = decode(b);
  EXPECT_EQ(t.sizes().vec(), (std::vector<int64_t>{1, 3, 1}));
  EXPECT_EQ(values(t), (std::vector<int64_t>{10, 32, 35}));
  // kRgb: grey replicated to three channels.
  const at::Tensor rgb = decode(b, vss::ImageMode::kRgb);
  EXPECT_EQ(rgb.sizes().vec(), (std::vector<int64_t>{1, 3, 3}));
  EXPECT_EQ(values(rgb), (std::vector<int64_t>{10, 10, 10, 32, 32, 32, 35, 35, 35}));
}

TEST(Pnm, sixteen_bit_samples_are_big_endian_and_krgb_keeps_the_high_byte) {
  // maxval 65535: 0x0102 = 258, 0xFF00 = 65280.
  const auto grey = bytes_of("P5\n2 1\n65535\n", {0x01, 0x02, 0xFF, 0x00});
  const at::Tensor t = decode(grey);
  EXPECT_EQ(t.scalar_type(), torch::kUInt16);
  EXPECT_EQ(values(t), (std::vector<int64_t>{258, 65280}));
  EXPECT_EQ(values(decode(grey, vss::ImageMode::kRgb)), (std::vector<int64_t>{1, 1, 1, 255, 255, 255}));
  // maxval 1000 (> 255: two bytes per sample): samples as stored, not rescaled to 65535.
  const auto rgb = bytes_of("P6 1 1 1000 ", {0x03, 0xE8, 0x00, 0x07, 0x01, 0x00});
  EXPECT_EQ(values(decode(rgb)), (std::vector<int64_t>{1000, 7, 256}));
  EXPECT_EQ(decode(rgb).scalar_type(), torch::kUInt16);
}

TEST(Pnm, small_maxval_keeps_samples_as_stored) {
  // maxval 15 (one byte per sample): 15 stays 15, as OpenCV decodes binary PNM.
  const at::Tensor t = decode(bytes_of("P5\n2 1\n15\n", {0, 15}));
  EXPECT_EQ(t.scalar_type(), torch::kByte);
  EXPECT_EQ(values(t), (std::vector<int64_t>{0, 15}));
}

TEST(Pnm, encoder_writes_the_spec_header_and_raster) {
  auto rgb = torch::tensor({1, 2, 3, 4, 5, 6}, torch::kByte).view({1, 2, 3});
  const auto out = vss::encode_pnm(rgb, ".ppm", "x.ppm");
  EXPECT_EQ(out, bytes_of("P6\n2 1\n255\n", {1, 2, 3, 4, 5, 6}));
  auto deep = torch::tensor({258, 65280}, torch::kInt32).to(torch::kUInt16).view({1, 2});
  EXPECT_EQ(vss::encode_pnm(deep, ".PGM", "x.pgm"), bytes_of("P5\n2 1\n65535\n", {0x01, 0x02, 0xFF, 0x00}));
}

TEST(Pnm, encoder_refuses_what_the_format_cannot_hold) {
  const auto rgb = torch::zeros({2, 2, 3}, torch::kByte);
  const auto grey = torch::zeros({2, 2, 1}, torch::kByte);
  EXPECT_NE(vss::test::error_of([&] { vss::encode_pnm(grey, ".ppm", "g.ppm"); }).find("g.ppm: a .ppm holds RGB"),
            std::string::npos);
  EXPECT_NE(vss::test::error_of([&] { vss::encode_pnm(rgb, ".pgm", "c.pgm"); }).find("c.pgm: a .pgm holds grey"),
            std::string::npos);
  EXPECT_NE(vss::test::error_of([&] { vss::encode_pnm(torch::zeros({2, 2, 4}, torch::kByte), ".ppm", "a.ppm"); })
                .find("[2, 2, 4]"),
            std::string::npos);
  EXPECT_NE(vss::test::error_of([&] { vss::encode_pnm(rgb.to(torch::kFloat), ".ppm", "f.ppm"); }).find("uint8 or uint16"),
            std::string::npos);
}

TEST(Pnm, bad_headers_and_truncated_data_are_one_line_errors_naming_the_file) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"P3\n1 1\n255\n1 2 3\n", "bad magic number"},  // ASCII PPM
      {"P7\n1 1\n255\n...", "bad magic number"},
      {"P6\n", "truncated header: no width"},
      {"P6\n2 2", "truncated header: it ends after the height"},
      {"P6\n2 2\n255", "truncated header: it ends after the maxval"},
      {"P6\n-2 2\n255\n", "the width is not a decimal number"},
      {"P6\n2x 2\n255\n", "the width is not a decimal number"},
      {"P6\n99999999999 1\n255\n", "the width is too large"},
      {"P6\n0 2\n255\n", "image of 0x2 pixels"},
      {"P6\n1 1\n0\n", "maxval 0"},
      {"P6\n1 1\n65536\n", "maxval 65536"},
      {"P6\n1 1\n255#c\n\x01\x02\x03", "followed by one whitespace character"},
      {"P6\n2 1\n255\n\x01\x02\x03\x04\x05", "truncated: the header promises 2x1x3 samples of 1 byte(s), 5 bytes"},
      {"P5\n1 1\n65535\n\x01", "truncated: the header promises 1x1x1 samples of 2 byte(s), 1 bytes"},
      // An absurd size is refused from the bytes present, before anything is allocated.
      {"P6\n2000000000 2000000000\n65535\n\x01", "truncated: the header promises 2000000000x2000000000x3"},
  };
  for (const auto& [text, needle] : cases) {
    const std::string message = decode_error(std::vector<unsigned char>(text.begin(), text.end()));
    EXPECT_EQ(message.rfind("mem.ppm: ", 0), 0u) << text << " -> " << message;
    EXPECT_NE(message.find(needle), std::string::npos) << text << " -> " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

// Every prefix of valid files, and files with random bytes of the header replaced, decode or
// throw vss::Error: never a crash, a hang or another exception (run under ASan it is a fuzz).
TEST(Pnm, every_truncation_and_header_corruption_is_an_error_not_a_crash) {
  std::mt19937 rng(7);
  // 3x2 RGB of 1-byte samples (18 bytes), 3x2 grey of 2-byte samples (12 bytes).
  for (const auto& [header, raster_bytes] : {std::pair<std::string, int>{"P6\n# c\n3 2\n255\n", 18},
                                              {"P5\n3 2\n65535\n", 12}}) {
    std::vector<unsigned char> file(header.begin(), header.end());
    for (int i = 0; i < raster_bytes; ++i) file.push_back(static_cast<unsigned char>(rng()));
    for (size_t n = 0; n < file.size(); ++n) {
      const std::vector<unsigned char> prefix(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_NE(decode_error(prefix), "") << "prefix of " << n << " bytes decoded";
    }
    EXPECT_EQ(decode_error(file), "");
    for (int trial = 0; trial < 2000; ++trial) {
      auto bad = file;
      bad[rng() % header.size()] = static_cast<unsigned char>(rng());
      try {
        decode(bad);
      } catch (const vss::Error&) {
      }
    }
  }
}

TEST_F(PnmFiles, write_and_read_round_trip_8_and_16_bit_through_files) {
  torch::manual_seed(0);
  const auto rgb = torch::randint(0, 256, {5, 7, 3}, torch::kByte);
  const auto grey = torch::randint(0, 256, {6, 2, 1}, torch::kByte);
  const auto deep_rgb = torch::randint(0, 65536, {3, 5, 3}, torch::kInt32).to(torch::kUInt16);
  const auto deep_grey = torch::randint(0, 65536, {4, 3, 1}, torch::kInt32).to(torch::kUInt16);
  for (const auto& [name, img] : {std::pair{"rgb.ppm", rgb}, {"grey.pgm", grey}, {"deep.ppm", deep_rgb},
                                  {"deep.pgm", deep_grey}}) {
    const std::string path = (dir_ / name).string();
    vss::write_image(path, img);
    const auto back = vss::read_image(path, vss::ImageMode::kUnchanged);
    EXPECT_EQ(back.scalar_type(), img.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(back.to(torch::kInt32), img.to(torch::kInt32))) << name;
  }
  // [H, W] grey is written as P5 too.
  vss::write_image((dir_ / "flat.pgm").string(), grey.squeeze(-1));
  EXPECT_TRUE(torch::equal(vss::read_image((dir_ / "flat.pgm").string(), vss::ImageMode::kUnchanged), grey));
  // kRgb: 8-bit, 3 channels; 16-bit samples keep their high byte.
  EXPECT_TRUE(torch::equal(vss::read_image((dir_ / "grey.pgm").string()), grey.expand({6, 2, 3})));
  EXPECT_TRUE(torch::equal(vss::read_image((dir_ / "deep.ppm").string()),
                           deep_rgb.to(torch::kInt32).div(256, "floor").to(torch::kByte)));
  // No temporary file is left beside the images.
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 5);
}

TEST_F(PnmFiles, every_build_has_the_pnm_formats_and_names_the_file_for_others) {
  EXPECT_TRUE(vss::image_format_available(".ppm"));
  EXPECT_TRUE(vss::image_format_available(".PGM"));
  EXPECT_EQ(vss::image_format_available(".png"), vss::all_image_formats_available());
  EXPECT_EQ(vss::image_format_available(".jpg"), vss::all_image_formats_available());
  EXPECT_FALSE(vss::image_format_available(".txt"));
  // A .ppm that is not a binary PNM: an error naming it, in every build.
  const fs::path bad = dir_ / "garbage.ppm";
  std::ofstream(bad) << "not an image";
  const std::string message = vss::test::error_of([&] { vss::read_image(bad.string()); });
  EXPECT_EQ(message.rfind(bad.string() + ": ", 0), 0u) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  const fs::path folder = dir_ / "folder.ppm";
  fs::create_directories(folder);
  EXPECT_NE(vss::test::error_of([&] { vss::read_image(folder.string()); }).find("is a folder"), std::string::npos);
  if (vss::all_image_formats_available()) return;
  // Without OpenCV: a PNG (here the bytes of one) is one line naming the file and the way out.
  const fs::path png = dir_ / "frame.png";
  std::ofstream(png, std::ios::binary) << vss::test::png_claiming_size(4, 4);
  const std::string no_codec = vss::test::error_of([&] { vss::read_image(png.string()); });
  EXPECT_EQ(no_codec.rfind(png.string() + ": no codec for this format", 0), 0u) << no_codec;
  EXPECT_NE(no_codec.find(".ppm/.pgm only"), std::string::npos) << no_codec;
  const std::string no_writer = vss::test::error_of([&] { vss::write_image((dir_ / "out.jpg").string(), torch::zeros({2, 2, 3}, torch::kByte)); });
  EXPECT_EQ(no_writer.rfind((dir_ / "out.jpg").string() + ": ", 0), 0u) << no_writer;
  EXPECT_FALSE(fs::exists(dir_ / "out.jpg"));
}

#ifdef VSS_TEST_WITH_OPENCV
namespace {

// OpenCV's decode of the same bytes, as an RGB(A) [H, W, C] tensor.
at::Tensor opencv_decode(const std::vector<unsigned char>& bytes, int flags) {
  cv::Mat mat = cv::imdecode(bytes, flags);
  if (mat.empty()) return {};
  if (mat.channels() == 3) cv::cvtColor(mat, mat, cv::COLOR_BGR2RGB);
  const auto type = mat.depth() == CV_16U ? torch::kUInt16 : torch::kByte;
  return torch::from_blob(mat.data, {mat.rows, mat.cols, mat.channels()}, torch::TensorOptions(type)).clone();
}

}  // namespace

// Random files of both kinds, 8- and 16-bit, several maxvals, headers with comments and odd
// whitespace: the built-in decoder and OpenCV's give the same tensors in both modes.
TEST(PnmOpenCv, decodes_as_opencv_decodes_the_same_bytes) {
  std::mt19937 rng(11);
  const std::vector<std::string> separators = {" ", "\n", "\t", "\r\n", "  \n# comment\n", "\n#c1\r#c2\n "};
  int checked = 0;
  for (const char kind : {'5', '6'})
    for (const int maxval : {1, 15, 200, 255, 256, 1000, 4095, 65535}) {
      const int w = 1 + static_cast<int>(rng() % 9), h = 1 + static_cast<int>(rng() % 7);
      const int channels = kind == '6' ? 3 : 1;
      auto sep = [&] { return separators[rng() % separators.size()]; };
      std::string header = std::string("P") + kind + sep() + std::to_string(w) + sep() + std::to_string(h) + sep() +
                           std::to_string(maxval) + (rng() % 2 ? "\n" : " ");
      std::vector<unsigned char> file(header.begin(), header.end());
      for (int i = 0; i < w * h * channels; ++i) {
        const int v = static_cast<int>(rng() % static_cast<unsigned>(maxval + 1));
        if (maxval > 255) file.push_back(static_cast<unsigned char>(v >> 8));
        file.push_back(static_cast<unsigned char>(v & 0xFF));
      }
      for (const auto& [mode, flags] : {std::pair{vss::ImageMode::kUnchanged, cv::IMREAD_UNCHANGED},
                                        std::pair{vss::ImageMode::kRgb, cv::IMREAD_COLOR}}) {
        const at::Tensor ours = vss::decode_image(file, mode, "mem");
        const at::Tensor theirs = opencv_decode(file, flags);
        ASSERT_TRUE(theirs.defined()) << header;
        EXPECT_EQ(ours.scalar_type(), theirs.scalar_type()) << header;
        EXPECT_EQ(ours.sizes(), theirs.sizes()) << header;
        EXPECT_TRUE(torch::equal(ours.to(torch::kInt32), theirs.to(torch::kInt32))) << header;
        ++checked;
      }
    }
  EXPECT_EQ(checked, 32);
}

// The encoder's files, read by OpenCV: the pixels written.
TEST(PnmOpenCv, opencv_reads_the_encoders_files) {
  torch::manual_seed(3);
  const auto rgb = torch::randint(0, 256, {4, 6, 3}, torch::kByte);
  const auto deep = torch::randint(0, 65536, {3, 2, 1}, torch::kInt32).to(torch::kUInt16);
  EXPECT_TRUE(torch::equal(opencv_decode(vss::encode_pnm(rgb, ".ppm", "x"), cv::IMREAD_UNCHANGED), rgb));
  EXPECT_TRUE(torch::equal(opencv_decode(vss::encode_pnm(deep, ".pgm", "x"), cv::IMREAD_UNCHANGED).to(torch::kInt32),
                           deep.to(torch::kInt32)));
}
#endif
