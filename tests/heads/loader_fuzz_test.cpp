// Every loader of user files against damaged copies of the bundled ones: YAML configs (a
// backbone, the tracker's training config, a palette), safetensors weights (the bundled
// tracker and detector, loaded into their models), COCO instances / results JSON, images (PNG, a JPEG made from a bundled PNG, a label mask),
// MOTChallenge det / gt / seqinfo.ini and change pairs (one of A, B, label damaged at a time).
// Each file is cut short at fixed and random points, has single bits flipped (anywhere, and
// in its first 512 bytes where the headers are) and is made oversized: twice its content,
// sizes in its header far beyond any limit. A fixed seed makes the cases the same on every
// run. Each case must load, or throw a vss::Error of one line; anything else (another
// exception, a crash, a hang caught by ctest's timeout) fails, and no case may leave a file
// behind. The test prints how many cases ran and how many were refused.
#include "backbones/vssm_options.h"
#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "core/safetensors.h"
#include "datasets/change_folder.h"
#include "datasets/coco_detection.h"
#include "datasets/mot_challenge.h"
#include "heads/detect/detector_weights.h"
#include "heads/seg/palette.h"
#include "heads/track/mamba_motion_predictor.h"
#include "heads/track/mtp_weights.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <random>

namespace vss::test {
namespace {

namespace fs = std::filesystem;

struct Damage {
  std::string what;   // "cut at 17", "bit 3 of byte 120", ...
  std::string bytes;  // the damaged file
};

// The damaged versions of `bytes`; `oversized` adds the format's own giant-size cases.
std::vector<Damage> damaged(const std::string& bytes, std::mt19937_64& rng, const std::vector<Damage>& oversized) {
  std::vector<Damage> out;
  const size_t n = bytes.size();
  std::vector<size_t> cuts{0, 1, 7, 8, 9, n / 4, n / 2, n - 1};
  for (int i = 0; i < 4; ++i) cuts.push_back(std::uniform_int_distribution<size_t>(0, n - 1)(rng));
  for (size_t cut : cuts) out.push_back({"cut at " + std::to_string(cut), bytes.substr(0, cut)});
  for (int i = 0; i < 32; ++i) {
    const size_t limit = i < 16 ? n : std::min<size_t>(n, 512);  // half of them in the headers
    const size_t at = std::uniform_int_distribution<size_t>(0, limit - 1)(rng);
    const int bit = std::uniform_int_distribution<int>(0, 7)(rng);
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ (1 << bit));
    out.push_back({"bit " + std::to_string(bit) + " of byte " + std::to_string(at), flipped});
  }
  out.push_back({"twice its content", bytes + bytes});
  out.insert(out.end(), oversized.begin(), oversized.end());
  return out;
}

// Text files: the first digit replaced by a huge number (three ways), and a megabyte-long line.
std::vector<Damage> oversized_text(const std::string& text) {
  std::vector<Damage> out;
  const size_t digit = text.find_first_of("0123456789");
  if (digit != std::string::npos) {
    for (const char* huge : {"99999999999999999999", "1e999", "2000000000"})
      out.push_back({std::string("first digit made ") + huge, text.substr(0, digit) + huge + text.substr(digit + 1)});
  }
  out.push_back({"a 1 MB line", std::string(1 << 20, '7') + "\n" + text});
  return out;
}

// PNG: the bundled image's header claiming 100000 x 100000 (with a valid CRC), its pixels after it.
std::vector<Damage> oversized_png(const std::string& png) {
  return {{"IHDR 100000x100000", png_claiming_size(100000, 100000).substr(0, 33) + png.substr(33)}};
}

// JPEG: the first SOF0 frame header claiming 65535 x 65535.
std::vector<Damage> oversized_jpeg(const std::string& jpeg) {
  std::string big = jpeg;
  const size_t sof = big.find("\xFF\xC0");
  if (sof == std::string::npos || sof + 9 > big.size()) return {};
  for (size_t i = sof + 5; i < sof + 9; ++i) big[i] = '\xFF';
  return {{"SOF0 65535x65535", big}};
}

// safetensors: the header length claiming far more than the file, and one shape grown huge.
std::vector<Damage> oversized_safetensors(const std::string& file) {
  std::string huge_header = file;
  for (int i = 0; i < 8; ++i) huge_header[i] = i == 7 ? '\x3F' : '\xFF';
  std::string huge_shape = file;
  const size_t shape = huge_shape.find("\"shape\":[");
  if (shape != std::string::npos) huge_shape.insert(shape + 9, "999999999999");
  return {{"header length 2^62", huge_header}, {"a shape of 999999999999...", huge_shape}};
}

struct Loader {
  std::string name;
  fs::path source;                                // the bundled file it is fed damaged copies of
  std::vector<Damage> (*oversized)(const std::string&);
  std::function<void(const fs::path& damaged)> load;
};

class LoaderFuzz : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("vss_loader_fuzz");
    fs::create_directory(dir_ / "cases");
  }
  void TearDown() override { remove_tree(dir_); }

  // Feeds every damaged copy of loader.source to loader.load; counts cases and refusals.
  void run(const Loader& loader, const std::string& extension) {
    std::mt19937_64 rng(0x5EEDu + cases_);  // fixed: the same cases every run
    const std::string bytes = read_bytes(loader.source);
    ASSERT_FALSE(bytes.empty()) << loader.source;
    const fs::path file = dir_ / "cases" / ("case" + extension);
    for (const Damage& d : damaged(bytes, rng, loader.oversized(bytes))) {
      std::ofstream(file, std::ios::binary | std::ios::trunc) << d.bytes;
      const auto start = std::chrono::steady_clock::now();
      try {
        loader.load(file);
      } catch (const Error& e) {
        ++refused_;
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << loader.name << ", " << d.what << ": " << e.what();
      } catch (const std::exception& e) {
        ADD_FAILURE() << loader.name << ", " << d.what << ": not a vss::Error: " << e.what();
      }
      slowest_ = std::max(slowest_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      ++cases_;
      fs::remove(file);
      EXPECT_TRUE(fs::is_empty(dir_ / "cases")) << loader.name << ", " << d.what << ": a file was left behind";
    }
  }

  fs::path dir_;  // the sources made here; cases/ holds the damaged file of the moment, nothing else
  int cases_ = 0, refused_ = 0;
  double slowest_ = 0;
};

TEST_F(LoaderFuzz, DamagedFilesLoadOrFailWithOneLine) {
  if (!all_image_formats_available()) GTEST_SKIP() << "built without OpenCV";
  const fs::path src = source_dir();
  const fs::path seq = src / "assets/track_demo/dance-0001";
  const int64_t seq_length = track::read_seqinfo(seq / "seqinfo.ini").seq_length;
  const fs::path pair = src / "assets/change_demo";
  // The JPEG is made here from a bundled PNG (the assets hold no JPEG).
  const fs::path jpeg_source = dir_ / "seg_demo.jpg";
  {
    const auto encoded = encode_image(read_image((src / "assets/seg_demo.png").string()), ".jpg");
    std::ofstream(jpeg_source, std::ios::binary)
        .write(reinterpret_cast<const char*>(encoded.data()), static_cast<std::streamsize>(encoded.size()));
  }

  // COCO instances and results, written here (the assets hold none).
  const fs::path coco_gt = dir_ / "instances.json", coco_res = dir_ / "results.json";
  coco::write_instances(coco_gt, {{{1, "a.jpg", 64, 48}, {2, "b.jpg", 64, 48}},
                                  {{1, 1, 1, 1.5, 2, 10, 20, 150, false}, {2, 2, 3, 4, 5, 6, 7, 42, true}},
                                  {{1, "person"}, {3, "car"}}});
  coco::write_results(coco_res, {{1, 1, 1, 2, 10, 20, 0.9}, {2, 3, 4, 5, 6, 7, 0.25}});

  auto change_pair_with = [&](int damaged_role) {
    return [&, damaged_role](const fs::path& file) {
      std::vector<std::string> paths{(pair / "A/demo.png").string(), (pair / "B/demo.png").string(),
                                     (pair / "label/demo.png").string()};
      paths[damaged_role] = file.string();
      change::read_change_pair({"demo", paths});
    };
  };
  const std::vector<std::pair<Loader, std::string>> loaders = {
      {{"backbone config", src / "configs/backbones/vss_tiny_test.yaml", oversized_text,
        [](const fs::path& f) { vssm_options_from_config(Config::load(f)); }},
       ".yaml"},
      {{"training config", src / "configs/track/mtp_synth.yaml", oversized_text,
        [](const fs::path& f) { track::mtp_options(Config::load(f)["model"]); }},
       ".yaml"},
      {{"palette", src / "configs/seg/shapes_palette.yaml", oversized_text,
        [](const fs::path& f) { seg::load_palette(f.string(), 5); }},
       ".yaml"},
      {{"safetensors weights", src / "weights/mtp_synth.safetensors", oversized_safetensors,
        [](const fs::path& f) { track::load_mtp(f); }},
       ".safetensors"},
      {{"PNG image", src / "assets/seg_demo.png", oversized_png,
        [](const fs::path& f) { read_image(f.string(), ImageMode::kRgb); }},
       ".png"},
      {{"JPEG image", jpeg_source, oversized_jpeg, [](const fs::path& f) { read_image(f.string(), ImageMode::kRgb); }},
       ".jpg"},
      {{"label mask", pair / "label/demo.png", oversized_png,
        [](const fs::path& f) { read_image(f.string(), ImageMode::kUnchanged); }},
       ".png"},
      {{"MOT detections", seq / "det/det.txt", oversized_text,
        [&](const fs::path& f) { track::read_boxes(f, track::FileKind::Detections, seq_length); }},
       ".txt"},
      {{"MOT ground truth", seq / "gt/gt.txt", oversized_text,
        [&](const fs::path& f) { track::read_boxes(f, track::FileKind::GroundTruth, seq_length); }},
       ".txt"},
      {{"seqinfo.ini", seq / "seqinfo.ini", oversized_text, [](const fs::path& f) { track::read_seqinfo(f); }}, ".ini"},
      {{"detector weights", src / "weights/centernet_tiny.safetensors", oversized_safetensors,
        [](const fs::path& f) { detect::load_detector(f); }},
       ".safetensors"},
      {{"COCO instances", coco_gt, oversized_text, [](const fs::path& f) { coco::read_instances(f); }}, ".json"},
      {{"COCO results", coco_res, oversized_text, [](const fs::path& f) { coco::read_results(f); }}, ".json"},
      {{"change pair, A damaged", pair / "A/demo.png", oversized_png, change_pair_with(0)}, ".png"},
      {{"change pair, B damaged", pair / "B/demo.png", oversized_png, change_pair_with(1)}, ".png"},
      {{"change pair, label damaged", pair / "label/demo.png", oversized_png, change_pair_with(2)}, ".png"},
  };
  for (const auto& [loader, extension] : loaders) run(loader, extension);
  std::printf("loader fuzz: %d cases, %d refused with one line, %d loaded; slowest %.3f s\n", cases_, refused_,
              cases_ - refused_, slowest_);
  EXPECT_GT(refused_, cases_ / 2);  // most damage must be noticed, not loaded as data
}

}  // namespace
}  // namespace vss::test
