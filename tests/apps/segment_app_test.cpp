// vss-segment on the command line. make-data writes images/ + masks/ deterministically; a run
// writes index masks, overlays and probabilities at the input size (also through a test-scale
// resize), and its --gt scores equal `eval` on the written masks; whole == slide when the
// window covers the image; RGBA and grey inputs are converted with a warning; every bad input
// the issue lists (label values out of range, size mismatch, missing gt, empty folder, palette
// with too few colours, outputs over inputs, bad options) stops with one line naming the
// culprit and leaves no output folder; train -> export -> run works end to end; the bundled
// model runs on the bundled image. `eval` is checked against an independent numpy
// implementation of mmseg's IoUMetric (PIL reads and writes the PNGs) on random masks with
// ignore pixels, absent classes, out-of-range predictions, odd and 1-pixel sizes.
#include "backbones/weights.h"
#include "core/config.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "core/safetensors.h"
#include "engine/checkpoint.h"
#include "heads/seg/segmentor.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

namespace vss::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;


at::Tensor read_mask(const fs::path& path) { return read_image(path.string(), ImageMode::kUnchanged).select(2, 0).to(torch::kLong); }

class SegmentApp : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!all_image_formats_available()) GTEST_SKIP() << "built without OpenCV";
    dir_ = make_temp_dir("vss_segment_app");
    // A tiny FPN segmentor on the test backbone, random weights, trained on generated scenes.
    Config c = Config::parse("model: {type: fpn, num_classes: 5, decode_head: {channels: 8}}\n"
                             "data: {type: synthetic_scenes, image_size: 32, train: {size: 64, seed: 1}, val: {size: 4, seed: 2}}\n");
    c.apply_override("model.backbone=" + Config::load(source_dir() / "configs/backbones/vss_tiny_test.yaml").dump());
    c.apply_override("model.backbone.type=vssm_backbone");
    config_ = (dir_ / "tiny.yaml").string();
    std::ofstream(config_) << c.dump();
    torch::manual_seed(2);
    seg::Segmentor model = seg::make_segmentor(c["model"]);
    weights_ = (dir_ / "random.safetensors").string();
    save_weights(*model, weights_);
  }
  void TearDown() override {
    if (!dir_.empty()) remove_tree(dir_);
  }
  int make_data(const fs::path& out, int num, const std::string& size, int seed, std::string* text = nullptr) {
    return run_app_command("vss-segment", {"make-data", "--out", out.string(), "--num", std::to_string(num), "--size", size,
                                           "--seed", std::to_string(seed)},
                           text);
  }
  int segment(const std::string& input, const fs::path& out, std::vector<std::string> extra, std::string* text) {
    std::vector<std::string> args{"-i", input, "-o", out.string(), "--config", config_, "--weights", weights_};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_app_command("vss-segment", args, text);
  }
  fs::path dir_;
  std::string config_, weights_;
};

TEST_F(SegmentApp, MakeDataWritesImagesAndMasksDeterministically) {
  std::string out;
  ASSERT_EQ(make_data(dir_ / "a", 3, "24x40", 5, &out), 0) << out;
  ASSERT_EQ(make_data(dir_ / "b", 3, "24x40", 5, &out), 0) << out;
  ASSERT_EQ(make_data(dir_ / "c", 3, "24x40", 6, &out), 0) << out;
  for (const char* sub : {"images", "masks"}) {
    const auto files = list_images((dir_ / "a" / sub).string());
    ASSERT_EQ(files.size(), 3u);
    EXPECT_EQ(fs::path(files[0]).filename(), "scene_000000.png");
    const auto first = read_image(files[0], ImageMode::kUnchanged);
    EXPECT_EQ(first.size(0), 24);
    EXPECT_EQ(first.size(1), 40);
    EXPECT_EQ(first.size(2), std::string(sub) == "images" ? 3 : 1);
    EXPECT_TRUE(torch::equal(first, read_image((dir_ / "b" / sub / "scene_000000.png").string(), ImageMode::kUnchanged)));
    EXPECT_FALSE(torch::equal(first, read_image((dir_ / "c" / sub / "scene_000000.png").string(), ImageMode::kUnchanged)));
  }
  EXPECT_LE(read_mask(dir_ / "a/masks/scene_000001.png").max().item<int64_t>(), 4);
  EXPECT_EQ(make_data(dir_ / "d", 0, "8", 1, &out), 2) << out;
  EXPECT_EQ(make_data(dir_ / "d", 1, "8x", 1, &out), 2) << out;
}

TEST_F(SegmentApp, RunWritesMasksOverlaysAndProbabilitiesScoredAsEval) {
  std::string out;
  ASSERT_EQ(make_data(dir_ / "d", 3, "33x47", 4, &out), 0) << out;
  ASSERT_EQ(segment((dir_ / "d/images").string(), dir_ / "p", {"--gt", (dir_ / "d/masks").string(), "--save-probs", "--json"}, &out), 0) << out;
  const json report = json_of(out);
  ASSERT_EQ(report["images"].size(), 3u);
  for (const auto& name : {"scene_000000", "scene_000001", "scene_000002"}) {
    const at::Tensor mask = read_mask(dir_ / "p" / (std::string(name) + ".png"));
    EXPECT_EQ(mask.sizes(), (std::vector<int64_t>{33, 47}));
    const at::Tensor overlay = read_image((dir_ / "p" / (std::string(name) + "_overlay.png")).string(), ImageMode::kUnchanged);
    EXPECT_EQ(overlay.sizes(), (std::vector<int64_t>{33, 47, 3}));
    const auto probs = read_safetensors(dir_ / "p" / (std::string(name) + "_probs.safetensors"));
    const at::Tensor p = probs.at("probs").to(torch::kFloat);
    ASSERT_EQ(p.sizes(), (std::vector<int64_t>{5, 33, 47}));
    EXPECT_LT((p.sum(0) - 1).abs().max().item<float>(), 5e-3);
    // float16 rounding may only swap near-ties: the argmax is the mask almost everywhere.
    EXPECT_GT(p.argmax(0).eq(mask).to(torch::kFloat).mean().item<float>(), 0.99);
    EXPECT_EQ(probs.metadata.at("classes"), "background,disc,rectangle,triangle,striped blob");
    EXPECT_TRUE(report["images"][name].contains("metrics"));
  }
  // The run's scores are eval's on what it wrote.
  ASSERT_EQ(run_app_command("vss-segment", {"eval", "--gt", (dir_ / "d/masks").string(), "--res", (dir_ / "p").string(),
                                            "--num-classes", "5", "--json"},
                            &out),
            0)
      << out;
  const json eval = json_of(out);
  for (const char* key : {"aAcc", "mIoU", "mAcc", "mDice"}) EXPECT_EQ(eval["combined"][key], report["combined"][key]) << key;
  EXPECT_EQ(eval["images"].size(), 3u);  // overlays in the same folder are not predictions of a gt
  // Tables by default, with the scenes' class names.
  ASSERT_EQ(segment((dir_ / "d/images").string(), dir_ / "q", {"--gt", (dir_ / "d/masks").string()}, &out), 0) << out;
  EXPECT_NE(out.find("striped blob"), std::string::npos) << out;
  EXPECT_NE(out.find("mIoU"), std::string::npos) << out;
}

TEST_F(SegmentApp, SlideEqualsWholeWhenTheWindowCoversTheImageAndTestScaleResizesBack) {
  std::string out;
  ASSERT_EQ(make_data(dir_ / "d", 2, "40x36", 4, &out), 0) << out;
  const std::string images = (dir_ / "d/images").string();
  ASSERT_EQ(segment(images, dir_ / "whole", {}, &out), 0) << out;
  ASSERT_EQ(segment(images, dir_ / "slide", {"--mode", "slide", "--crop", "64", "--stride", "48"}, &out), 0) << out;
  ASSERT_EQ(segment(images, dir_ / "windows", {"--mode", "slide", "--crop", "24x20", "--stride", "16"}, &out), 0) << out;
  ASSERT_EQ(segment(images, dir_ / "scaled", {"--set", "data.pipeline={test_scale: [72, 64]}"}, &out), 0) << out;
  for (const auto& name : {"scene_000000.png", "scene_000001.png"}) {
    EXPECT_TRUE(torch::equal(read_mask(dir_ / "whole" / name), read_mask(dir_ / "slide" / name)));
    EXPECT_EQ(read_mask(dir_ / "windows" / name).sizes(), (std::vector<int64_t>{40, 36}));
    EXPECT_EQ(read_mask(dir_ / "scaled" / name).sizes(), (std::vector<int64_t>{40, 36}));
  }
}

TEST_F(SegmentApp, RgbaAndGreyInputsAreConvertedWithAWarning) {
  torch::manual_seed(5);
  write_image((dir_ / "rgba.png").string(), torch::randint(0, 256, {9, 11, 4}, torch::kByte));
  write_image((dir_ / "grey.png").string(), torch::randint(0, 256, {1, 1, 1}, torch::kByte));
  std::string out;
  ASSERT_EQ(segment((dir_ / "rgba.png").string(), dir_ / "p", {}, &out), 0) << out;
  EXPECT_NE(out.find("alpha channel dropped"), std::string::npos) << out;
  EXPECT_EQ(read_mask(dir_ / "p/rgba.png").sizes(), (std::vector<int64_t>{9, 11}));
  EXPECT_EQ(read_image((dir_ / "p/rgba_overlay.png").string(), ImageMode::kUnchanged).size(2), 3);
  ASSERT_EQ(segment((dir_ / "grey.png").string(), dir_ / "p", {}, &out), 0) << out;  // a 1-pixel grey image
  EXPECT_NE(out.find("grey image repeated to RGB"), std::string::npos) << out;
  EXPECT_EQ(read_mask(dir_ / "p/grey.png").sizes(), (std::vector<int64_t>{1, 1}));
}

TEST_F(SegmentApp, BadInputStopsWithOneLineAndWritesNothing) {
  std::string out;
  ASSERT_EQ(make_data(dir_ / "d", 3, "16", 4, &out), 0) << out;
  const std::string images = (dir_ / "d/images").string(), masks = (dir_ / "d/masks").string();
  auto fails = [&](int code, std::vector<std::string> extra, const std::string& expect, const std::string& input = "") {
    const fs::path target = dir_ / "never";
    const int rc = segment(input.empty() ? images : input, target, extra, &out);
    EXPECT_EQ(rc, code) << out;
    EXPECT_NE(out.find(expect), std::string::npos) << "expected '" << expect << "' in: " << out;
    EXPECT_FALSE(fs::exists(target)) << "output written for: " << out;
  };
  // A label value outside the classes (255 is the ignore index and fine).
  at::Tensor label = read_mask(dir_ / "d/masks/scene_000001.png");
  label[3][5] = 255;
  write_image((dir_ / "d/masks/scene_000001.png").string(), label.to(torch::kByte).unsqueeze(2).contiguous());
  ASSERT_EQ(segment(images, dir_ / "ok", {"--gt", masks}, &out), 0) << out;
  label[3][5] = 7;
  write_image((dir_ / "d/masks/scene_000001.png").string(), label.to(torch::kByte).unsqueeze(2).contiguous());
  fails(1, {"--gt", masks}, "scene_000001.png: label value 7 at pixel (x 5, y 3) is outside the classes 0..4");
  label[3][5] = 0;
  write_image((dir_ / "d/masks/scene_000001.png").string(), label.to(torch::kByte).unsqueeze(2).contiguous());
  // Size mismatch: names both files.
  write_image((dir_ / "d/masks/scene_000002.png").string(), torch::zeros({16, 15, 1}, torch::kByte));
  fails(1, {"--gt", masks}, "scene_000002.png: label map is 16x15 (HxW) but its image");
  fs::remove(dir_ / "d/masks/scene_000002.png");
  fails(1, {"--gt", masks}, "scene_000002.png: has no label map 'scene_000002.<png|...>'");
  // An empty folder, a pattern matching nothing.
  fs::create_directories(dir_ / "empty");
  fails(1, {}, "folder holds no image files", (dir_ / "empty").string());
  fails(1, {}, "pattern matches no image files", (dir_ / "d/images/*.jpg").string());
  // A palette with too few colours.
  std::ofstream(dir_ / "palette.txt") << "0 0 0\n255 0 0\n";
  fails(1, {"--palette", (dir_ / "palette.txt").string()}, "palette has 2 colours but 5 classes need one each");
  // Outputs would overwrite the inputs.
  ASSERT_EQ(segment(images, dir_ / "d/images", {}, &out), 1) << out;
  EXPECT_NE(out.find("would overwrite the input"), std::string::npos) << out;
  // An empty or oversized image late in the folder: found before the first image's outputs.
  std::ofstream(dir_ / "d/images/zz_empty.png").flush();
  fails(1, {}, "zz_empty.png: image file is empty");
  fs::remove(dir_ / "d/images/zz_empty.png");
  std::ofstream(dir_ / "d/images/zz_huge.png", std::ios::binary) << png_claiming_size(100000, 100000);
  fails(1, {}, "zz_huge.png: image too large");
  fs::remove(dir_ / "d/images/zz_huge.png");
  // A malformed --set is a usage error; a width out of range names its key.
  fails(2, {"--set", "model.decode_head.channels"}, "--set model.decode_head.channels: expected key.path=value");
  fails(1, {"--set", "model.decode_head.channels=2000000000"}, "decode_head.channels: must be in 1..65536");
  // Weights of another model, a missing config.
  fails(1, {"--set", "model.decode_head.channels=9"}, "random.safetensors");
  // Usage errors exit 2.
  fails(2, {"--mode", "tiles"}, "--mode must be whole or slide");
  fails(2, {"--alpha", "1.5"}, "--alpha must be in [0, 1]");
  fails(2, {"--crop", "0"}, "--crop");
  fails(2, {"--dtype", "fp16"}, "--dtype");
  fails(2, {"--device", "gpu"}, "--device");
  fails(2, {"--binary"}, "need --gt");
  fails(2, {"--gt", masks, "--binary", "--reduce-zero-label"}, "exclude each other");
  EXPECT_EQ(run_app_command("vss-segment", {"-o", (dir_ / "never").string()}, &out), 2) << out;
  EXPECT_EQ(run_app_command("vss-segment", {"--help"}, &out), 0) << out;
  EXPECT_NE(out.find("make-data"), std::string::npos);
  EXPECT_EQ(run_app_command("vss-segment", {"--version"}, &out), 0) << out;
}

// Ctrl-C during make-data: one line, exit 130, and every image has its mask (each pair is
// written under an InterruptDeferral), with no temporary file left.
TEST_F(SegmentApp, InterruptedMakeDataLeavesWholePairsAndSaysSo) {
  const fs::path out = dir_ / "scenes";
  const pid_t pid = start_app("vss-segment", {"make-data", "--out", out.string(), "--num", "100000", "--size", "48"},
                              dir_ / "log.txt");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto count = [&](const char* sub) {
    std::error_code ec;
    return fs::is_directory(out / sub, ec) ? std::distance(fs::directory_iterator(out / sub), fs::directory_iterator{}) : 0;
  };
  while (count("images") < 5 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  kill(pid, SIGINT);
  EXPECT_EQ(wait_app(pid), 130);
  const std::string log = read_bytes(dir_ / "log.txt");
  EXPECT_EQ(log, "vss-segment: interrupted (SIGINT); the files written so far are complete, unfinished ones removed\n");
  EXPECT_GE(count("images"), 5);
  for (const auto& e : fs::directory_iterator(out / "images")) {
    EXPECT_TRUE(fs::exists(out / "masks" / e.path().filename())) << e.path() << " has no mask";
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
  }
  EXPECT_EQ(count("masks"), count("images"));
}

TEST_F(SegmentApp, EvalErrors) {
  std::string out;
  ASSERT_EQ(make_data(dir_ / "d", 2, "8", 4, &out), 0) << out;
  fs::create_directories(dir_ / "res");
  fs::copy_file(dir_ / "d/masks/scene_000000.png", dir_ / "res/scene_000000.png");
  const std::vector<std::string> base{"eval", "--gt", (dir_ / "d/masks").string(), "--res", (dir_ / "res").string()};
  auto with = [&](std::vector<std::string> extra) {
    auto a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  EXPECT_EQ(run_app_command("vss-segment", with({"--num-classes", "5"}), &out), 1) << out;
  EXPECT_NE(out.find("scene_000001.png: has no prediction"), std::string::npos) << out;
  write_image((dir_ / "res/scene_000001.png").string(), torch::zeros({8, 9, 1}, torch::kByte));
  EXPECT_EQ(run_app_command("vss-segment", with({"--num-classes", "5"}), &out), 1) << out;
  EXPECT_NE(out.find("scene_000001.png: prediction is 8x9"), std::string::npos) << out;
  write_image((dir_ / "res/scene_000001.png").string(), torch::full({8, 8, 1}, 6, torch::kByte));
  EXPECT_EQ(run_app_command("vss-segment", with({"--num-classes", "5"}), &out), 0) << out;
  EXPECT_NE(out.find("64 pixel(s) hold values outside the classes 0..4"), std::string::npos) << out;
  EXPECT_EQ(run_app_command("vss-segment", with({"--num-classes", "3"}), &out), 1) << out;  // gt value 3 or 4
  EXPECT_NE(out.find("is outside the classes 0..2"), std::string::npos) << out;
  EXPECT_EQ(run_app_command("vss-segment", with({"--num-classes", "0"}), &out), 2) << out;
  EXPECT_EQ(run_app_command("vss-segment", with({"--num-classes", "5", "--binary", "--reduce-zero-label"}), &out), 2) << out;
  EXPECT_EQ(run_app_command("vss-segment", {"eval", "--gt", (dir_ / "d/masks/scene_000000.png").string(), "--res",
                                            (dir_ / "res").string(), "--num-classes", "5"},
                            &out),
            1)
      << out;
}

// mmseg's IoUMetric written independently in numpy: per image drop label == ignore, histograms
// over 0..K-1 (out-of-range predictions not counted), summed over images, ratios, nanmeans;
// PIL writes the masks and the gt convention (reduce_zero_label / binary) is applied in numpy.
TEST_F(SegmentApp, EvalMatchesANumpyImplementationOfMmsegIouMetric) {
  if (!python_has({"numpy", "PIL"})) GTEST_SKIP() << "no numpy / PIL";
  const std::string script = R"(
import sys, json, os, warnings, numpy as np
from PIL import Image
warnings.simplefilter('ignore')  # nanmean of all-NaN: the NaN is the answer
root, mode = sys.argv[1], sys.argv[2]
K, ignore = 6, 255
rng = np.random.default_rng(11 if mode == 'ids' else 12)
os.makedirs(root + '/gt', exist_ok=True); os.makedirs(root + '/res', exist_ok=True)
I = np.zeros(K); P = np.zeros(K); L = np.zeros(K); U = np.zeros(K); images = {}
def stats(i, p, l):
    with np.errstate(divide='ignore', invalid='ignore'):
        iou, acc, dice = i / (p + l - i), i / l, 2 * i / (p + l)
        prec, rec = i / p, i / l
        f = 2 * prec * rec / (prec + rec)
        nm = lambda v: None if np.isnan(v) else float(v)
        return dict(aAcc=nm(i.sum() / l.sum()), mIoU=nm(np.nanmean(iou)), mAcc=nm(np.nanmean(acc)),
                    mDice=nm(np.nanmean(dice)), mFscore=nm(np.nanmean(f)),
                    IoU=[nm(v) for v in iou], Acc=[nm(v) for v in acc], Dice=[nm(v) for v in dice])
for n, (h, w) in enumerate([(17, 23), (1, 1), (31, 8), (20, 20)]):
    if mode == 'ids':
        stored = rng.integers(0, K - 1, (h, w))          # class K-1 never in gt ...
        stored[rng.random((h, w)) < 0.15] = ignore
        label = stored
    elif mode == 'reduce':
        stored = rng.integers(0, K, (h, w))              # 0 = other, 1..K-1 -> 0..K-2
        label = np.where(stored == 0, ignore, stored - 1)
    else:
        stored = np.where(rng.random((h, w)) < 0.4, 255, 0)
        stored[rng.random((h, w)) < 0.05] = 200          # still foreground
        label = (stored >= 128).astype(np.int64)
    pred = np.where(rng.random((h, w)) < 0.5, label, rng.integers(0, K + 2, (h, w)))
    if mode == 'ids': pred[pred == K - 1] = 0         # ... and never predicted: NaN, left out of the means
    pred[pred == ignore] = 0
    Image.fromarray(stored.astype(np.uint8)).save(f'{root}/gt/m{n}.png')
    Image.fromarray(pred.astype(np.uint8)).save(f'{root}/res/m{n}.png')
    keep = label != ignore
    p, l = pred[keep], label[keep]
    hist = lambda v: np.bincount(v[(v >= 0) & (v < K)], minlength=K).astype(float)
    i, ap, al = hist(p[p == l]), hist(p), hist(l)
    images[f'm{n}'] = stats(i, ap, al)
    I += i; P += ap; L += al
print(json.dumps(dict(images=images, combined=stats(I, P, L))))
)";
  for (const std::string mode : {"ids", "reduce", "binary"}) {
    const fs::path root = dir_ / mode;
    std::string ref_text, out;
    ASSERT_EQ(run_python(script, {root.string(), mode}, &ref_text), 0) << ref_text;
    const json ref = json::parse(ref_text);
    // K = 6 in every mode (binary gt holds classes 0 / 1 only; the predictions range wider).
    std::vector<std::string> args{"eval", "--gt", (root / "gt").string(), "--res", (root / "res").string(), "--num-classes",
                                  "6", "--json"};
    if (mode == "reduce") args.push_back("--reduce-zero-label");
    if (mode == "binary") args.push_back("--binary");
    ASSERT_EQ(run_app_command("vss-segment", args, &out), 0) << out;
    const json ours = json_of(out);
    auto same = [&](const json& a, const json& b, const std::string& what) {
      if (b.is_null()) EXPECT_TRUE(a.is_null()) << what << ": " << a;
      else EXPECT_NEAR(a.get<double>(), b.get<double>(), 1e-12) << what;
    };
    for (const char* key : {"aAcc", "mIoU", "mAcc", "mDice", "mFscore"}) {
      same(ours["combined"][key], ref["combined"][key], mode + " combined " + key);
      for (const auto& [name, entry] : ref["images"].items()) same(ours["images"][name][key], entry[key], mode + " " + name + " " + key);
    }
    for (int c = 0; c < 6; ++c) {
      same(ours["combined"]["classes"][c]["IoU"], ref["combined"]["IoU"][c], mode + " IoU " + std::to_string(c));
      same(ours["combined"]["classes"][c]["Acc"], ref["combined"]["Acc"][c], mode + " Acc " + std::to_string(c));
      same(ours["combined"]["classes"][c]["Dice"], ref["combined"]["Dice"][c], mode + " Dice " + std::to_string(c));
    }
    if (mode == "ids") {  // the absent class is there
      EXPECT_TRUE(ours["combined"]["classes"][5]["IoU"].is_null());
    }
  }
}

TEST_F(SegmentApp, TrainExportRunEndToEnd) {
  std::string out;
  const fs::path run = dir_ / "run";
  ASSERT_EQ(run_app_command("vss-train", {"--config", (source_dir() / "configs/seg/shapes_seg_tiny.yaml").string(), "--work-dir",
                                          run.string(), "--quiet", "--set", "train.steps=2", "--set", "train.batch_size=2",
                                          "--set", "train.eval_every=0", "--set", "data.train.size=4", "--set",
                                          "data.val.size=2", "--set", "data.image_size=32"},
                            &out),
            0)
      << out;
  const fs::path weights = dir_ / "exported.safetensors";
  ASSERT_EQ(run_app_command("vss-segment", {"export", "--run", run.string(), "--out", weights.string()}, &out), 0) << out;
  EXPECT_NE(out.find("raw weights of step 2"), std::string::npos) << out;
  // The file is the checkpoint's model.* tensors under their own names.
  const auto exported = read_safetensors(weights);
  const auto ckpt = read_checkpoint(run, "last");
  size_t model_tensors = 0;
  for (const auto& [key, t] : ckpt.tensors)
    if (key.rfind("model.", 0) == 0) {
      ++model_tensors;
      EXPECT_TRUE(torch::equal(exported.at(key.substr(6)), t)) << key;
    }
  EXPECT_EQ(exported.tensors.size(), model_tensors);
  EXPECT_EQ(exported.metadata.at("step"), "2");
  ASSERT_EQ(make_data(dir_ / "d", 1, "32", 9, &out), 0) << out;
  EXPECT_EQ(run_app_command("vss-segment", {"-i", (dir_ / "d/images").string(), "-o", (dir_ / "p").string(), "--config",
                                            (source_dir() / "configs/seg/shapes_seg_tiny.yaml").string(), "--weights",
                                            weights.string()},
                            &out),
            0)
      << out;
  EXPECT_EQ(run_app_command("vss-segment", {"export", "--run", (dir_ / "nope").string(), "--out", weights.string()}, &out), 1);
  // Exporting over the checkpoint it reads would lose the run's optimizer state: refused.
  const std::string checkpoint = (run / "last.safetensors").string();
  const std::string before = read_bytes(checkpoint);
  EXPECT_EQ(run_app_command("vss-segment", {"export", "--run", run.string(), "--out", checkpoint}, &out), 1);
  EXPECT_NE(out.find("last.safetensors: would overwrite the input"), std::string::npos) << out;
  EXPECT_EQ(read_bytes(checkpoint), before);
}

// The README's command: the bundled model on the bundled image.
TEST_F(SegmentApp, BundledModelSegmentsTheBundledImage) {
  std::string out;
  ASSERT_EQ(run_app_command("vss-segment", {"-i", (source_dir() / "assets/seg_demo.png").string(), "-o", (dir_ / "demo").string(),
                                            "--config", (source_dir() / "configs/seg/shapes_seg_tiny.yaml").string(),
                                            "--weights", (source_dir() / "weights/shapes_seg_tiny.safetensors").string()},
                            &out),
            0)
      << out;
  const at::Tensor mask = read_mask(dir_ / "demo/seg_demo.png");
  EXPECT_EQ(mask.sizes(), (std::vector<int64_t>{128, 128}));
  EXPECT_GT(std::get<0>(torch::unique_dim(mask.reshape({-1, 1}), 0)).size(0), 1);  // not a constant mask
  EXPECT_TRUE(fs::exists(dir_ / "demo/seg_demo_overlay.png"));
}

}  // namespace
}  // namespace vss::test
