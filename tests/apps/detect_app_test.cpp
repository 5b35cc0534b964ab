// vss-detect and the detector in vss-track from the command line: `vss-detect eval` prints
// pycocotools' own numbers (the oracle runs pycocotools on the same files); a detector (tiny,
// random weights written here) runs on images (COCO results whose ids come from --ann) and on
// rendered frames (MOT det files that the tracker reads back); `vss-track --seq/--frames
// --detector` tracks from pixels and reports its timings; and bad input (--frames and --seq
// together, frames of different sizes, weights of another config, an empty frames folder) is
// a one-line error naming the file or option, a non-zero exit and no results file.
#include "core/config.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "core/video_writer.h"
#include "datasets/coco_detection.h"
#include "heads/detect/centernet.h"
#include "heads/detect/detector_weights.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using vss::test::run_app_command;

const char* kTinyDetector = R"(type: centernet
num_classes: 1
backbone: {type: vssm_backbone, patch_size: 4, in_chans: 3, depths: [1, 1, 1, 1], dims: [8, 8, 16, 16],
           ssm_d_state: 1, ssm_ratio: 1.0, ssm_conv: 3, ssm_conv_bias: false, forward_type: v05_noz,
           mlp_ratio: 2.0, norm_layer: ln2d, downsample_version: v3, patchembed_version: v2, scan: {type: cross}}
neck: {channels: 8}
head: {head_conv: 8}
test: {top_k: 20, score_threshold: 0.05}
)";

class DetectApp : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = vss::test::make_temp_dir("vss_detect_app");
    torch::manual_seed(1);
    auto model = vss::detect::make_centernet(vss::Config::parse(kTinyDetector, "tiny"));
    // Heatmap bias raised and a size bias of 6 x 12 cells (24 x 48 px), so random weights give
    // person-sized boxes above the thresholds.
    {
      torch::NoGradGuard ng;
      model->named_parameters()["hm.2.bias"].fill_(0.5);
      model->named_parameters()["wh.2.bias"].copy_(torch::tensor({6.0f, 12.0f}));
    }
    weights_ = root_ / "tiny.safetensors";
    vss::detect::save_detector(model, kTinyDetector, weights_);
    std::string out;
    ASSERT_EQ(run_app_command("vss-track", {"make-data", "--out", (root_ / "data").string(), "--sequences", "1",
                                            "--frames", "12", "--objects", "4", "--seed", "3", "--render",
                                            "--image-size", "160x96"},
                              &out),
              0)
        << out;
    seq_ = root_ / "data" / "synth-0001";
  }
  void TearDown() override { vss::remove_tree(root_); }
  fs::path root_, seq_, weights_;
};

TEST_F(DetectApp, MakeDataRendersFrames) {
  EXPECT_TRUE(fs::exists(seq_ / "img1" / "000001.jpg"));
  EXPECT_TRUE(fs::exists(seq_ / "img1" / "000012.jpg"));
  EXPECT_EQ(vss::read_image((seq_ / "img1" / "000005.jpg").string()).sizes(), (at::IntArrayRef{96, 160, 3}));
}

TEST_F(DetectApp, EvalPrintsPycocotoolsNumbers) {
  if (!vss::test::python_has({"pycocotools"})) GTEST_SKIP() << "pycocotools not importable by $VSS_PYTHON";
  // Two categories, a crowd region, an image without boxes, misses and false positives.
  vss::coco::Instances gt;
  gt.images = {{1, "a.jpg", 200, 100}, {2, "b.jpg", 200, 100}, {3, "c.jpg", 200, 100}};
  gt.categories = {{1, "person"}, {3, "car"}};
  gt.annotations = {{1, 1, 1, 10, 10, 20, 50, 1000, false}, {2, 1, 1, 60, 10, 30, 60, 1800, false},
                    {3, 1, 3, 100, 20, 90, 70, 6300, false}, {4, 2, 1, 0, 0, 120, 90, 10800, true},
                    {5, 2, 1, 130, 5, 8, 12, 96, false}};
  std::vector<vss::coco::Result> res = {{1, 1, 11, 9, 20, 52, 0.9},  {1, 1, 58, 14, 30, 55, 0.6},
                                        {1, 3, 100, 25, 85, 70, 0.8}, {1, 1, 150, 50, 20, 30, 0.7},
                                        {2, 1, 10, 10, 30, 40, 0.95}, {2, 1, 129, 6, 9, 12, 0.3},
                                        {3, 3, 10, 10, 40, 40, 0.5},  {2, 3, 50, 50, 20, 20, 0.4}};
  vss::coco::write_instances(root_ / "gt.json", gt);
  vss::coco::write_results(root_ / "res.json", res);
  std::string text;
  ASSERT_EQ(run_app_command("vss-detect", {"eval", "--gt", (root_ / "gt.json").string(), "--res",
                                           (root_ / "res.json").string(), "--json"},
                            &text),
            0)
      << text;
  const auto ours = vss::test::json_of(text)["combined"];
  std::string oracle;
  ASSERT_EQ(vss::test::run_python(R"PY(
import sys, io, contextlib
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
with contextlib.redirect_stdout(io.StringIO()):
  gt = COCO(sys.argv[1]); dt = gt.loadRes(sys.argv[2])
  e = COCOeval(gt, dt, 'bbox'); e.evaluate(); e.accumulate(); e.summarize()
print(" ".join(repr(float(v)) for v in e.stats[:9]))
)PY",
                                  {(root_ / "gt.json").string(), (root_ / "res.json").string()}, &oracle),
            0)
      << oracle;
  std::istringstream in(oracle);
  for (const char* key : {"AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100"}) {
    double v = 0;
    in >> v;
    EXPECT_NEAR(ours[key].get<double>(), v, 1e-12) << key;
  }
  // The table form runs too, and a results file for unknown images is a one-line error.
  ASSERT_EQ(run_app_command("vss-detect", {"eval", "--gt", (root_ / "gt.json").string(), "--res",
                                           (root_ / "res.json").string()},
                            &text),
            0);
  EXPECT_NE(text.find("COMBINED"), std::string::npos);
  vss::coco::write_results(root_ / "bad.json", {{9, 1, 0, 0, 1, 1, 0.5}});
  ASSERT_EQ(run_app_command("vss-detect", {"eval", "--gt", (root_ / "gt.json").string(), "--res",
                                           (root_ / "bad.json").string()},
                            &text),
            1);
  EXPECT_EQ(text, "vss-detect: " + (root_ / "bad.json").string() +
                      ": [0].image_id: image 9 is not in the gt (results do not correspond to the gt set)\n");
}

TEST_F(DetectApp, DetectsOnImagesAndFrames) {
  // Images -> COCO results with ids from --ann.
  fs::create_directories(root_ / "images");
  fs::copy(seq_ / "img1" / "000001.jpg", root_ / "images" / "x.jpg");
  fs::copy(seq_ / "img1" / "000002.jpg", root_ / "images" / "y.jpg");
  vss::coco::Instances ann;
  ann.images = {{17, "y.jpg", 160, 96}, {5, "x.jpg", 160, 96}};
  ann.categories = {{1, "person"}};
  vss::coco::write_instances(root_ / "ann.json", ann);
  std::string text;
  ASSERT_EQ(run_app_command("vss-detect", {"--weights", weights_.string(), "--images", (root_ / "images").string(),
                                           "--ann", (root_ / "ann.json").string(), "-o", (root_ / "det.json").string()},
                            &text),
            0)
      << text;
  const auto results = vss::coco::read_results(root_ / "det.json");
  ASSERT_FALSE(results.empty());
  for (const auto& r : results) {
    EXPECT_TRUE(r.image_id == 5 || r.image_id == 17);
    EXPECT_EQ(r.category_id, 1);
    EXPECT_GE(r.score, 0.05);
    EXPECT_LE(r.x + r.w, 160 + 1e-9);
  }
  // Frames -> MOT det file, the same through vss-track detect; the tracker reads it back.
  ASSERT_EQ(run_app_command("vss-detect", {"--weights", weights_.string(), "--seq", seq_.string(), "-o",
                                           (root_ / "a.txt").string(), "--batch", "5", "--score-thresh", "0.1"},
                            &text),
            0)
      << text;
  ASSERT_EQ(run_app_command("vss-track", {"detect", "--seq", seq_.string(), "-o", (root_ / "b.txt").string(),
                                          "--detector", weights_.string(), "--score-thresh", "0.1", "--batch", "3"},
                            &text),
            0)
      << text;
  const std::string a = vss::test::read_bytes(root_ / "a.txt");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, vss::test::read_bytes(root_ / "b.txt"));  // batch size does not change the boxes
  ASSERT_EQ(run_app_command("vss-track", {"--seq", seq_.string(), "--det", (root_ / "b.txt").string(), "--out",
                                          (root_ / "from-det").string()},
                            &text),
            0)
      << text;
}

TEST_F(DetectApp, TracksFromPixels) {
  std::string text;
  for (const std::string motion : {"kalman", "mtp"}) {
    std::vector<std::string> args = {"--seq", seq_.string(), "--detector", weights_.string(), "--out",
                                     (root_ / ("res-" + motion)).string(), "--gt", "auto", "--json", "--motion", motion};
    if (motion == "mtp")
      args.insert(args.end(), {"--weights", (vss::test::source_dir() / "weights/mtp_synth.safetensors").string()});
    ASSERT_EQ(run_app_command("vss-track", args, &text), 0) << text;
    const auto report = vss::test::json_of(text);
    EXPECT_TRUE(report["detector"].contains("detect_seconds"));
    EXPECT_GT(report["detector"]["fps_end_to_end"].get<double>(), 0);
    EXPECT_EQ(report["sequences"]["synth-0001"]["frames"], 12);
    EXPECT_TRUE(report["combined"].contains("HOTA"));
    EXPECT_TRUE(fs::exists(root_ / ("res-" + motion) / "synth-0001.txt"));
  }
  // The bundled detector from a tracker config (configs/track/pixels_demo.yaml: detector: {weights}).
  ASSERT_EQ(run_app_command("vss-track", {"--seq", seq_.string(), "--config",
                                          (vss::test::source_dir() / "configs/track/pixels_demo.yaml").string(), "--out",
                                          (root_ / "res-config").string(), "--json"},
                            &text),
            0)
      << text;
  EXPECT_NE(vss::test::json_of(text)["detector"]["weights"].get<std::string>().find("centernet_tiny.safetensors"),
            std::string::npos);
  EXPECT_EQ(vss::test::json_of(text)["motion"], "mtp");
  // --frames: a bare folder of images as one sequence, scored against a gt file.
  ASSERT_EQ(run_app_command("vss-track", {"--frames", (seq_ / "img1").string() + "/", "--detector", weights_.string(), "--out",
                                          (root_ / "frames-res").string(), "--gt", (seq_ / "gt/gt.txt").string()},
                            &text),
            0)
      << text;
  EXPECT_TRUE(fs::exists(root_ / "frames-res" / "synth-0001.txt"));
}

TEST_F(DetectApp, TracksFromAVideoFile) {
  if (!vss::video_io_available()) GTEST_SKIP() << "this build has no OpenCV videoio";
  const fs::path video = root_ / "clip.avi";
  {
    vss::VideoWriter w(video.string(), 25);
    for (int f = 1; f <= 12; ++f) {
      char name[32];
      std::snprintf(name, sizeof(name), "%06d.jpg", f);
      w.write(vss::read_image((seq_ / "img1" / name).string()));
    }
    w.close();
  }
  std::string text;
  ASSERT_EQ(run_app_command("vss-track", {"--input-video", video.string(), "--detector", weights_.string(), "--out",
                                          (root_ / "video-res").string(), "--gt", (seq_ / "gt/gt.txt").string(),
                                          "--json", "--video", (root_ / "video-res" / "drawn.avi").string()},
                            &text),
            0)
      << text;
  const auto report = vss::test::json_of(text);
  EXPECT_EQ(report["sequences"]["clip"]["frames"], 12);
  EXPECT_TRUE(fs::exists(root_ / "video-res" / "clip.txt"));
  EXPECT_TRUE(fs::exists(root_ / "video-res" / "drawn.avi"));
  // A truncated video: tracked up to its last good frame, with a warning naming the next one.
  {
    const std::string bytes = vss::test::read_bytes(video);
    std::ofstream(root_ / "cut.avi", std::ios::binary) << bytes.substr(0, bytes.size() * 6 / 10);
  }
  ASSERT_EQ(run_app_command("vss-track", {"--input-video", (root_ / "cut.avi").string(), "--detector", weights_.string(),
                                          "--out", (root_ / "cut-res").string(), "--json"},
                            &text),
            0)
      << text;
  EXPECT_NE(text.find("vss-track: warning: " + (root_ / "cut.avi").string() + ": frame "), std::string::npos) << text;
  const int64_t cut_frames = vss::test::json_of(text)["sequences"]["cut"]["frames"];
  EXPECT_GT(cut_frames, 0);
  EXPECT_LT(cut_frames, 12);
  // An empty video file and a video together with --seq are one-line errors.
  std::ofstream(root_ / "empty.mp4").close();  // and a file that is no video
  EXPECT_EQ(run_app_command("vss-track", {"--input-video", (root_ / "empty.mp4").string(), "--detector",
                                          weights_.string(), "--out", (root_ / "none").string()},
                            &text),
            1);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_NE(text.find((root_ / "empty.mp4").string() + ": empty file"), std::string::npos) << text;
  std::ofstream(root_ / "junk.mp4") << "not a video at all";
  EXPECT_EQ(run_app_command("vss-track", {"--input-video", (root_ / "junk.mp4").string(), "--detector",
                                          weights_.string(), "--out", (root_ / "none").string()},
                            &text),
            1);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_NE(text.find((root_ / "junk.mp4").string()), std::string::npos) << text;
  EXPECT_EQ(run_app_command("vss-track", {"--input-video", video.string(), "--seq", seq_.string(), "--detector",
                                          weights_.string(), "--out", (root_ / "none").string()},
                            &text),
            1);
  EXPECT_NE(text.find("give one of --seq, --data, --frames and --input-video"), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(root_ / "none"));
}

TEST_F(DetectApp, BadInputIsOneLineAndLeavesNoResults) {
  std::string text;
  const fs::path out = root_ / "bad-out";
  // --frames and --seq together: a usage error.
  EXPECT_EQ(run_app_command("vss-track", {"--frames", (seq_ / "img1").string(), "--seq", seq_.string(), "--detector",
                                          weights_.string(), "--out", out.string()},
                            &text),
            1);
  EXPECT_NE(text.find("give one of --seq, --data, --frames and --input-video"), std::string::npos) << text;
  // Frames of different sizes.
  fs::create_directories(root_ / "mixed");
  fs::copy(seq_ / "img1" / "000001.jpg", root_ / "mixed" / "000001.jpg");
  vss::write_image((root_ / "mixed" / "000002.jpg").string(), torch::zeros({64, 64, 3}, torch::kUInt8));
  EXPECT_EQ(run_app_command("vss-track", {"--frames", (root_ / "mixed").string(), "--detector", weights_.string(),
                                          "--out", out.string()},
                            &text),
            1);
  EXPECT_NE(text.find((root_ / "mixed" / "000002.jpg").string() + ": frame of 64x64, but the first frame"),
            std::string::npos)
      << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  // An empty frames folder.
  fs::create_directories(root_ / "empty");
  EXPECT_EQ(run_app_command("vss-track", {"--frames", (root_ / "empty").string(), "--detector", weights_.string(),
                                          "--out", out.string()},
                            &text),
            1);
  EXPECT_NE(text.find("no image files"), std::string::npos) << text;
  // Weights of another config: the keys and shapes are named.
  {
    std::string other = std::string(kTinyDetector).replace(std::string(kTinyDetector).find("channels: 8"), 11, "channels: 12");
    std::ofstream yaml(root_ / "other.yaml");
    yaml << "model:\n";
    std::istringstream lines(other);
    for (std::string line; std::getline(lines, line);) yaml << "  " << line << "\n";
  }
  EXPECT_EQ(run_app_command("vss-track", {"--seq", seq_.string(), "--detector", weights_.string(), "--detector-config",
                                          (root_ / "other.yaml").string(), "--out", out.string()},
                            &text),
            1);
  EXPECT_NE(text.find(weights_.string()), std::string::npos) << text;
  EXPECT_NE(text.find("lateral"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_FALSE(fs::exists(out));
  // vss-detect: --images and --seq together.
  EXPECT_EQ(run_app_command("vss-detect", {"--weights", weights_.string(), "--images", (seq_ / "img1").string(), "--seq",
                                           seq_.string(), "-o", (root_ / "x.json").string()},
                            &text),
            2);
  EXPECT_NE(text.find("give --images or --seq, not both"), std::string::npos) << text;
}

#ifdef VSS_BENCH_PATH
TEST(DetectBench, TimesTheDetectorOnRandomFrames) {
  std::string text;
  ASSERT_EQ(vss::test::run_command(VSS_BENCH_PATH, {"detect", "--config",
                                                    (vss::test::source_dir() / "configs/detect/centernet_tiny.yaml").string(),
                                                    "--res", "64x96", "--batch", "2", "--repeat", "1", "--warmup", "0",
                                                    "--device", "cpu", "--json"},
                                    &text),
            0)
      << text;
  const auto j = vss::test::json_of(text);
  EXPECT_EQ(j["H"], 64);
  EXPECT_EQ(j["W"], 96);
  EXPECT_GT(j["frames_per_s"].get<double>(), 0);
  EXPECT_EQ(j["params"], 266341);  // the bundled demo detector's size
}
#endif

}  // namespace
