// Tracking from .ppm frames, the path a build without OpenCV (the GPU machine) has, so this
// runs in every build: `vss-track make-data --render --image-ext ppm` writes binary PPM frames
// (checked against Pillow where it is importable), `vss-track --detector` tracks them and
// times decode / detect / associate / write, `vss-bench track-pixels` runs the same pipeline
// (its results file is byte-identical to the app's), and broken frames or formats are
// one-line errors naming the file, with no results left.
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#ifdef VSS_BENCH_PATH
namespace {

namespace fs = std::filesystem;
using vss::test::json_of;
using vss::test::read_bytes;
using vss::test::run_app_command;

const std::string kWidth = "320", kHeight = "192";

class TrackPixelsApp : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = vss::test::make_temp_dir("vss_track_pixels_app");
    std::string out;
    ASSERT_EQ(run_app_command("vss-track", {"make-data", "--out", (root_ / "data").string(), "--sequences", "1",
                                            "--frames", "12", "--objects", "4", "--seed", "3", "--render",
                                            "--image-ext", "ppm", "--image-size", kWidth + "x" + kHeight},
                              &out),
              0)
        << out;
    seq_ = root_ / "data" / "synth-0001";
  }
  void TearDown() override { vss::remove_tree(root_); }

  fs::path detector() const { return vss::test::source_dir() / "weights/centernet_tiny.safetensors"; }

  // The four stages add up to the end-to-end rate.
  static void expect_timings(const nlohmann::json& t, int64_t frames) {
    EXPECT_EQ(t["frames"].get<int64_t>(), frames);
    double sum = 0;
    for (const char* key : {"decode_seconds", "detect_seconds", "associate_seconds", "write_seconds"}) {
      ASSERT_TRUE(t.contains(key)) << t.dump();
      EXPECT_GT(t[key].get<double>(), 0) << key;
      sum += t[key].get<double>();
    }
    EXPECT_NEAR(t["fps_end_to_end"].get<double>(), static_cast<double>(frames) / sum, 1e-9 * frames / sum);
  }

  fs::path root_, seq_;
};

TEST_F(TrackPixelsApp, MakeDataWritesPpmFramesThatSeqinfoNames) {
  EXPECT_NE(read_bytes(seq_ / "seqinfo.ini").find("imExt=.ppm\n"), std::string::npos);
  int files = 0;
  for (const auto& e : fs::directory_iterator(seq_ / "img1")) {
    EXPECT_EQ(e.path().extension(), ".ppm") << e.path();
    ++files;
  }
  EXPECT_EQ(files, 12);  // frames 1-12 and no temporary files
  const std::string bytes = read_bytes(seq_ / "img1" / "000005.ppm");
  const std::string header = "P6\n" + kWidth + " " + kHeight + "\n255\n";
  EXPECT_EQ(bytes.substr(0, header.size()), header);
  EXPECT_EQ(bytes.size(), header.size() + 320u * 192u * 3u);
  const at::Tensor frame = vss::read_image((seq_ / "img1" / "000005.ppm").string());
  EXPECT_EQ(frame.sizes(), (at::IntArrayRef{192, 320, 3}));
  if (!vss::test::python_has({"PIL", "numpy"})) return;
  // Pillow (an independent PPM reader) sees the same pixels: a weighted sum over all of them.
  std::string out;
  ASSERT_EQ(vss::test::run_python("import sys, numpy as np; from PIL import Image\n"
                                  "a = np.asarray(Image.open(sys.argv[1]).convert('RGB')).astype(np.int64)\n"
                                  "w = np.arange(a.size, dtype=np.int64).reshape(a.shape) % 1009\n"
                                  "print(a.shape, int((a * w).sum()))",
                                  {(seq_ / "img1" / "000005.ppm").string()}, &out),
            0)
      << out;
  const at::Tensor w = torch::arange(frame.numel(), torch::kLong).view(frame.sizes()).remainder(1009);
  EXPECT_EQ(out, "(192, 320, 3) " + std::to_string((frame.to(torch::kLong) * w).sum().item<int64_t>()) + "\n");
}

TEST_F(TrackPixelsApp, TrackerAndBenchRunOnePipelineOnPpmFrames) {
  std::string text;
  ASSERT_EQ(run_app_command("vss-track", {"--seq", seq_.string(), "--detector", detector().string(), "--out",
                                          (root_ / "res").string(), "--gt", "auto", "--batch", "4", "--json"},
                            &text),
            0)
      << text;
  const auto report = json_of(text);
  expect_timings(report["detector"], 12);
  EXPECT_EQ(report["sequences"]["synth-0001"]["frames"], 12);
  // The bundled detector finds the rendered people in the .ppm frames (it was trained on such
  // frames): the tracks cover most of the gt.
  EXPECT_GT(report["combined"]["MOTA"].get<double>(), 0.5) << report["combined"].dump();

  // The benchmark: the same detector, batches and tracker give the same results file.
  ASSERT_EQ(vss::test::run_command(VSS_BENCH_PATH, {"track-pixels", "--weights", detector().string(), "--seq",
                                                    seq_.string(), "--batch", "4", "--out", (root_ / "bench").string(),
                                                    "--json"},
                                   &text),
            0)
      << text;
  const auto bench = json_of(text);
  expect_timings(bench, 12);
  EXPECT_EQ(bench["W"], 320);
  EXPECT_EQ(bench["H"], 192);
  EXPECT_EQ(bench["image_ext"], ".ppm");
  EXPECT_GT(bench["boxes_per_frame"].get<double>(), 1.0);
  const std::string app_results = read_bytes(root_ / "res" / "synth-0001.txt");
  EXPECT_FALSE(app_results.empty());
  EXPECT_EQ(read_bytes(root_ / "bench" / "synth-0001.txt"), app_results);

  // A config without trained weights: its initial network (the bundled one's size), no --out
  // (the results go to a temporary folder, removed).
  ASSERT_EQ(vss::test::run_command(VSS_BENCH_PATH, {"track-pixels", "--config",
                                                    (vss::test::source_dir() / "configs/detect/centernet_tiny.yaml").string(),
                                                    "--seq", seq_.string(), "--batch", "5", "--warmup", "0", "--json"},
                                   &text),
            0)
      << text;
  const auto initial = json_of(text);
  expect_timings(initial, 12);
  EXPECT_EQ(initial["params"], bench["params"]);
}

TEST_F(TrackPixelsApp, BrokenFramesAndUnwritableFormatsAreOneLineErrors) {
  std::string text;
  EXPECT_EQ(run_app_command("vss-track", {"make-data", "--out", (root_ / "gif").string(), "--render", "--image-ext", "gif"},
                            &text),
            2);
  EXPECT_NE(text.find("--image-ext must be jpg, png or ppm, got 'gif'"), std::string::npos) << text;
  if (!vss::all_image_formats_available()) {
    EXPECT_EQ(run_app_command("vss-track", {"make-data", "--out", (root_ / "jpg").string(), "--render"}, &text), 1);
    EXPECT_NE(text.find("cannot write .jpg frames (it has no OpenCV): use --image-ext ppm"), std::string::npos) << text;
    EXPECT_FALSE(fs::exists(root_ / "jpg"));
  }
  // Frame 7 cut short: the tracker and the benchmark name it; no results file.
  const fs::path frame = seq_ / "img1" / "000007.ppm";
  fs::resize_file(frame, fs::file_size(frame) / 2);
  const std::string needle = frame.string() + ": PNM truncated: the header promises 320x192x3 samples";
  EXPECT_EQ(run_app_command("vss-track", {"--seq", seq_.string(), "--detector", detector().string(), "--out",
                                          (root_ / "bad").string()},
                            &text),
            1);
  EXPECT_NE(text.find("vss-track: " + needle), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(root_ / "bad" / "synth-0001.txt"));
  EXPECT_EQ(vss::test::run_command(VSS_BENCH_PATH, {"track-pixels", "--weights", detector().string(), "--seq",
                                                    seq_.string(), "--out", (root_ / "bad-bench").string()},
                                   &text),
            1);
  EXPECT_NE(text.find("vss-bench track-pixels: " + needle), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(root_ / "bad-bench" / "synth-0001.txt"));
  // A missing frame.
  fs::remove(seq_ / "img1" / "000003.ppm");
  EXPECT_EQ(run_app_command("vss-track", {"--seq", seq_.string(), "--detector", detector().string(), "--out",
                                          (root_ / "bad").string()},
                            &text),
            1);
  EXPECT_NE(text.find("000003.ppm: missing frame 3 of sequence synth-0001 (seqLength 12)"), std::string::npos) << text;
}

}  // namespace
#endif
