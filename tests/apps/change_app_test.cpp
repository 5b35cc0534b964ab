// vss-change on the command line: make-data writes the LEVIR-CD layout deterministically; a
// run writes 0/255 masks and TP/FP/FN maps whose colours match the masks and the gt, with a
// JSON summary whose combined scores are those of `eval` on the written masks; a missing
// partner is skipped and listed; a size mismatch or a bad label value stops with one line
// naming the file and leaves no mask for that pair; tiles at least the image size give the
// whole-image masks; train -> export -> run works end to end; the bundled weights find the
// changes of the bundled pair; usage errors exit 2. `eval` is
// checked against an independent numpy implementation (PIL reads the PNGs) on masks of odd
// and 1-pixel sizes.
#include "backbones/weights.h"
#include "core/config.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "heads/change/mamba_bcd.h"
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

std::string test_config() { return (source_dir() / "configs/change/mambabcd_test.yaml").string(); }


class ChangeApp : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!all_image_formats_available()) GTEST_SKIP() << "built without OpenCV";
    dir_ = make_temp_dir("vss_change_app");
    torch::manual_seed(1);
    auto model = change::make_mamba_bcd(Config::load(test_config()));
    weights_ = (dir_ / "random.safetensors").string();
    save_weights(*model, weights_);
  }
  void TearDown() override {
    if (!dir_.empty()) remove_tree(dir_);
  }
  int make_data(const fs::path& out, int num, int size, int seed, std::string* text = nullptr) {
    return run_app_command("vss-change", {"make-data", "--out", out.string(), "--num", std::to_string(num), "--size",
                                          std::to_string(size), "--seed", std::to_string(seed)},
                           text);
  }
  int run_change(const fs::path& data, const fs::path& out, std::vector<std::string> extra, std::string* text) {
    std::vector<std::string> args{"--a", (data / "test/A").string(), "--b", (data / "test/B").string(), "-o", out.string(),
                                  "--config", test_config(), "--weights", weights_};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_app_command("vss-change", args, text);
  }
  fs::path dir_;
  std::string weights_;
};

TEST_F(ChangeApp, MakeDataWritesTheLevirLayoutDeterministically) {
  std::string out;
  ASSERT_EQ(make_data(dir_ / "d1", 3, 24, 5, &out), 0) << out;
  ASSERT_EQ(make_data(dir_ / "d2", 3, 24, 5, &out), 0) << out;
  ASSERT_EQ(make_data(dir_ / "d3", 3, 24, 6, &out), 0) << out;
  for (const char* sub : {"A", "B", "label"}) {
    const auto files = list_images((dir_ / "d1/test" / sub).string());
    ASSERT_EQ(files.size(), 3u) << sub;
    EXPECT_EQ(fs::path(files[0]).filename(), "test_1.png");
    for (const auto& f : files) {
      const auto twin = dir_ / "d2/test" / sub / fs::path(f).filename();
      EXPECT_TRUE(torch::equal(read_image(f, ImageMode::kUnchanged), read_image(twin.string(), ImageMode::kUnchanged)));
    }
  }
  const auto label = read_image((dir_ / "d1/test/label/test_1.png").string(), ImageMode::kUnchanged);
  EXPECT_TRUE(label.eq(0).logical_or(label.eq(255)).all().item<bool>());
  EXPECT_FALSE(torch::equal(read_image((dir_ / "d1/test/A/test_1.png").string()),
                            read_image((dir_ / "d3/test/A/test_1.png").string())));
  EXPECT_EQ(run_app_command("vss-change", {"make-data", "--out", (dir_ / "x").string(), "--num", "0"}, &out), 2);
}

TEST_F(ChangeApp, RunWritesMasksComparisonMapsAndScoresLikeEval) {
  std::string out;
  ASSERT_EQ(make_data(dir_ / "data", 3, 40, 2, &out), 0) << out;
  const fs::path res = dir_ / "res";
  ASSERT_EQ(run_change(dir_ / "data", res, {"--gt", (dir_ / "data/test/label").string(), "--json"}, &out), 0) << out;
  const json run = json_of(out);
  EXPECT_EQ(run["pairs"], 3);
  ASSERT_EQ(run["images"].size(), 3u);
  int64_t tp = 0, fp = 0, fn = 0, tn = 0;
  for (const auto& [name, m] : run["images"].items()) {
    const auto mask = read_image((res / (name + ".png")).string(), ImageMode::kUnchanged).squeeze(-1).to(torch::kInt);
    EXPECT_TRUE(mask.eq(0).logical_or(mask.eq(255)).all().item<bool>());
    const auto gt = read_image((dir_ / "data/test/label" / (name + ".png")).string(), ImageMode::kUnchanged).squeeze(-1).to(torch::kInt);
    const auto map = read_image((res / "compare" / (name + ".png")).string()).to(torch::kInt);
    const auto p = mask.eq(255), g = gt.eq(255);
    auto colour_is = [&](const at::Tensor& where, std::vector<int> rgb) {
      for (int c = 0; c < 3; ++c)
        if (!map.select(2, c).masked_select(where).eq(rgb[c]).all().item<bool>()) return false;
      return true;
    };
    EXPECT_TRUE(colour_is(p.logical_and(g), {255, 255, 255})) << name;
    EXPECT_TRUE(colour_is(p.logical_and(g.logical_not()), {255, 0, 0})) << name;
    EXPECT_TRUE(colour_is(p.logical_not().logical_and(g), {0, 255, 0})) << name;
    EXPECT_TRUE(colour_is(p.logical_not().logical_and(g.logical_not()), {0, 0, 0})) << name;
    EXPECT_EQ(m["TP"], p.logical_and(g).sum().item<int64_t>());
    tp += m["TP"].get<int64_t>(), fp += m["FP"].get<int64_t>(), fn += m["FN"].get<int64_t>(), tn += m["TN"].get<int64_t>();
  }
  EXPECT_EQ(run["combined"]["TP"], tp);
  EXPECT_EQ(run["combined"]["FP"], fp);
  EXPECT_EQ(run["combined"]["FN"], fn);
  EXPECT_EQ(tp + fp + fn + tn, 3 * 40 * 40);
  // eval on the written masks reports the same.
  ASSERT_EQ(run_app_command("vss-change", {"eval", "--gt", (dir_ / "data/test/label").string(), "--res", res.string(), "--json"}, &out), 0)
      << out;
  const json ev = json_of(out);
  for (const char* key : {"precision", "recall", "F1", "IoU", "OA", "kappa", "TP", "FN"})
    EXPECT_EQ(ev["combined"][key], run["combined"][key]) << key;
  // The table form names every image and the combined row.
  ASSERT_EQ(run_change(dir_ / "data", dir_ / "res2", {"--gt", (dir_ / "data/test/label").string()}, &out), 0) << out;
  EXPECT_NE(out.find("combined"), std::string::npos) << out;
  EXPECT_NE(out.find("test_3"), std::string::npos) << out;
}

TEST_F(ChangeApp, TilesAndWholeImagesAndSingleFiles) {
  std::string out;
  ASSERT_EQ(make_data(dir_ / "data", 2, 33, 4, &out), 0) << out;
  ASSERT_EQ(run_change(dir_ / "data", dir_ / "whole", {}, &out), 0) << out;
  ASSERT_EQ(run_change(dir_ / "data", dir_ / "big", {"--tile", "64"}, &out), 0) << out;
  ASSERT_EQ(run_change(dir_ / "data", dir_ / "tiled", {"--tile", "16", "--tile-stride", "8", "--dtype", "bf16"}, &out), 0) << out;
  for (const char* name : {"test_1.png", "test_2.png"}) {
    const auto whole = read_image((dir_ / "whole" / name).string(), ImageMode::kUnchanged);
    EXPECT_TRUE(torch::equal(whole, read_image((dir_ / "big" / name).string(), ImageMode::kUnchanged)));
    EXPECT_EQ(read_image((dir_ / "tiled" / name).string(), ImageMode::kUnchanged).sizes(), whole.sizes());
  }
  // Two lone files are one pair, named after the first.
  ASSERT_EQ(run_app_command("vss-change", {"--a", (dir_ / "data/test/A/test_2.png").string(), "--b",
                                           (dir_ / "data/test/B/test_2.png").string(), "-o", (dir_ / "one").string(),
                                           "--config", test_config(), "--weights", weights_, "--quiet"},
                            &out),
            0)
      << out;
  EXPECT_TRUE(torch::equal(read_image((dir_ / "one/test_2.png").string(), ImageMode::kUnchanged),
                           read_image((dir_ / "whole/test_2.png").string(), ImageMode::kUnchanged)));
}

TEST_F(ChangeApp, MissingPartnersSizeMismatchesAndBadLabels) {
  std::string out;
  ASSERT_EQ(make_data(dir_ / "data", 3, 24, 2, &out), 0) << out;
  fs::remove(dir_ / "data/test/B/test_2.png");
  ASSERT_EQ(run_change(dir_ / "data", dir_ / "res", {"--json"}, &out), 0) << out;
  EXPECT_NE(out.find("warning: skipped test_2: only in A (no B)"), std::string::npos) << out;
  const json j = json_of(out);
  EXPECT_EQ(j["pairs"], 2);
  ASSERT_EQ(j["skipped"].size(), 1u);
  EXPECT_FALSE(fs::exists(dir_ / "res/test_2.png"));
  // A pair of two sizes: exit 1, one line naming both files, found before anything is written.
  write_image((dir_ / "data/test/B/test_2.png").string(), torch::zeros({20, 24, 3}, torch::kByte));
  ASSERT_EQ(run_change(dir_ / "data", dir_ / "res3", {}, &out), 1) << out;
  EXPECT_NE(out.find((dir_ / "data/test/A/test_2.png").string() + " is 24x24"), std::string::npos) << out;
  EXPECT_NE(out.find((dir_ / "data/test/B/test_2.png").string() + " is 20x24"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "res3")) << "test_1's mask was written before test_2 was checked";
  // So is an unreadable image after a good one.
  write_image((dir_ / "data/test/B/test_2.png").string(), torch::zeros({24, 24, 3}, torch::kByte));
  std::ofstream(dir_ / "data/test/B/test_3.png", std::ios::trunc).flush();
  ASSERT_EQ(run_change(dir_ / "data", dir_ / "res3", {}, &out), 1) << out;
  EXPECT_NE(out.find("test_3.png: image file is empty"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "res3"));
  ASSERT_EQ(make_data(dir_ / "data", 3, 24, 2, &out), 0) << out;  // test_3 whole again
  // A label value other than 0/255 names the file and the value.
  auto label = read_image((dir_ / "data/test/label/test_3.png").string(), ImageMode::kUnchanged);
  label[5][7][0] = 3;
  write_image((dir_ / "data/test/label/test_3.png").string(), label);
  ASSERT_EQ(run_change(dir_ / "data", dir_ / "res4", {"--gt", (dir_ / "data/test/label").string()}, &out), 1) << out;
  EXPECT_NE(out.find("test_3.png: label value 3 at row 5, column 7"), std::string::npos) << out;
  // A grey first date beside colour second dates: warned, both used as grey.
  write_image((dir_ / "data/test/A/test_1.png").string(), torch::full({24, 24, 1}, 90, torch::kByte));
  ASSERT_EQ(run_change(dir_ / "data", dir_ / "res5", {}, &out), 0) << out;
  EXPECT_NE(out.find("one date is grey"), std::string::npos) << out;
}

// -o onto an input folder: the masks would replace the first-date images. Refused before any
// work, the images untouched.
TEST_F(ChangeApp, OutputsOverInputsAreRefused) {
  std::string out;
  ASSERT_EQ(make_data(dir_ / "data", 2, 16, 2, &out), 0) << out;
  const std::string before = read_bytes(dir_ / "data/test/A/test_1.png");
  for (const char* target : {"data/test/A", "data/test/label"}) {
    const std::vector<std::string> gt{"--gt", (dir_ / "data/test/label").string()};
    ASSERT_EQ(run_change(dir_ / "data", dir_ / target, gt, &out), 1) << out;
    EXPECT_NE(out.find("would overwrite the input"), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  }
  EXPECT_EQ(read_bytes(dir_ / "data/test/A/test_1.png"), before);
  // The comparison maps too: OUT/compare/<name>.png over a gt folder named compare.
  fs::create_directories(dir_ / "gt_here");
  fs::copy(dir_ / "data/test/label", dir_ / "gt_here/compare");
  ASSERT_EQ(run_change(dir_ / "data", dir_ / "gt_here", {"--gt", (dir_ / "gt_here/compare").string()}, &out), 1) << out;
  EXPECT_NE(out.find("compare/test_1.png: would overwrite the input"), std::string::npos) << out;
}

// Ctrl-C during make-data: A, B and label of a pair are written together or not at all.
TEST_F(ChangeApp, InterruptedMakeDataLeavesWholePairs) {
  const fs::path out = dir_ / "pairs";
  const pid_t pid = start_app("vss-change", {"make-data", "--out", out.string(), "--num", "100000", "--size", "32"},
                              dir_ / "log.txt");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::error_code ec;
  while (!fs::exists(out / "test/label/test_4.png", ec) && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  kill(pid, SIGINT);
  EXPECT_EQ(wait_app(pid), 130);
  EXPECT_NE(read_bytes(dir_ / "log.txt").find("vss-change: interrupted (SIGINT)"), std::string::npos);
  std::vector<std::vector<std::string>> names(3);
  for (int i = 0; i < 3; ++i)
    for (const auto& e : fs::directory_iterator(out / "test" / std::vector<std::string>{"A", "B", "label"}[i]))
      names[i].push_back(e.path().filename().string());
  for (auto& n : names) std::sort(n.begin(), n.end());
  EXPECT_GE(names[2].size(), 4u);
  EXPECT_EQ(names[0], names[2]);
  EXPECT_EQ(names[1], names[2]);
}

TEST_F(ChangeApp, UsageErrorsExitTwo) {
  std::string out;
  EXPECT_EQ(run_app_command("vss-change", {"--help"}, &out), 0);
  EXPECT_NE(out.find("make-data"), std::string::npos);
  EXPECT_EQ(run_app_command("vss-change", {"eval", "--help"}, &out), 0);
  EXPECT_EQ(run_app_command("vss-change", {"--version"}, &out), 0);
  const std::vector<std::string> base{"--a", "x", "--b", "y", "-o", (dir_ / "o").string(), "--config", test_config(),
                                      "--weights", weights_};
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return run_app_command("vss-change", args, &out);
  };
  EXPECT_EQ(run_app_command("vss-change", {"-o", "x"}, &out), 2);  // --a missing
  EXPECT_EQ(with({"--dtype", "fp8"}), 2);
  EXPECT_EQ(with({"--device", "gpu"}), 2);
  EXPECT_EQ(with({"--tile", "-1"}), 2);
  EXPECT_EQ(with({"--tile-stride", "8"}), 2);
  EXPECT_EQ(with({"--threshold", "1.5"}), 2);
  EXPECT_EQ(with({}), 1);  // no such input: a runtime error naming it
  EXPECT_NE(out.find("x"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "o"));  // nothing created before the inputs are known
}

TEST_F(ChangeApp, TrainExportRun) {
  const fs::path cfg = dir_ / "train.yaml";
  Config c = Config::parse(
      "task: {type: change}\n"
      "data: {type: synthetic_change, image_size: 24, train: {num: 16, seed: 1}, val: {num: 2, seed: 2}}\n"
      "optimizer: {type: adamw, lr: 0.001}\n"
      "train: {steps: 3, batch_size: 2, log_every: 1, eval_every: 0, checkpoint_every: 0}\n"
      "ema: {decay: 0.9}\n");
  c.apply_override("model=" + Config::load(test_config()).dump());
  std::ofstream(cfg) << c.dump();
  std::string out;
  ASSERT_EQ(run_app_command("vss-train", {"--config", cfg.string(), "--work-dir", (dir_ / "run").string(), "--quiet"}, &out), 0)
      << out;
  const auto exported = (dir_ / "model.safetensors").string();
  ASSERT_EQ(run_app_command("vss-change", {"export", "--run", (dir_ / "run").string(), "--out", exported}, &out), 0) << out;
  EXPECT_NE(out.find("EMA weights of step 3"), std::string::npos) << out;
  ASSERT_EQ(make_data(dir_ / "data", 1, 24, 9, &out), 0) << out;
  ASSERT_EQ(run_app_command("vss-change", {"--a", (dir_ / "data/test/A").string(), "--b", (dir_ / "data/test/B").string(),
                                           "-o", (dir_ / "res").string(), "--config", cfg.string(), "--weights", exported,
                                           "--quiet"},
                            &out),
            0)
      << out;
  EXPECT_TRUE(fs::exists(dir_ / "res/test_1.png"));
  // Weights of another architecture are refused by key and shape.
  ASSERT_EQ(run_app_command("vss-change", {"--a", (dir_ / "data/test/A").string(), "--b", (dir_ / "data/test/B").string(),
                                           "-o", (dir_ / "res").string(), "--config", cfg.string(), "--weights", exported,
                                           "--set", "model.decoder.channels=8"},
                            &out),
            1);
  EXPECT_NE(out.find(exported), std::string::npos) << out;
}

TEST_F(ChangeApp, BundledWeightsFindTheChangesOfTheBundledPair) {
  const fs::path demo = source_dir() / "assets/change_demo";
  std::string out;
  ASSERT_EQ(run_app_command("vss-change", {"--a", (demo / "A").string(), "--b", (demo / "B").string(), "--gt",
                                           (demo / "label").string(), "-o", (dir_ / "res").string(), "--config",
                                           (source_dir() / "configs/change/mambabcd_demo.yaml").string(), "--weights",
                                           (source_dir() / "weights/mambabcd_demo.safetensors").string(), "--json"},
                            &out),
            0)
      << out;
  const json j = json_of(out);
  // weights/mambabcd_demo.md: F1 0.889, IoU 0.800 on this pair.
  EXPECT_GT(j["combined"]["F1"].get<double>(), 0.85) << out;
  EXPECT_GT(j["combined"]["IoU"].get<double>(), 0.75) << out;
}

// numpy + PIL: the conventions.md §3.4 formulas on the confusion matrix summed over images,
// and per image; printed as JSON with the same keys as `vss-change eval --json`.
constexpr char kOracle[] = R"PY(
import json, os, sys
import numpy as np
from PIL import Image
gt_dir, res_dir = sys.argv[1], sys.argv[2]
def read(path):
    a = np.asarray(Image.open(path))
    if a.ndim == 3: a = a[..., 0]
    return (a == 255).astype(np.int64)
def scores(tp, fp, fn, tn):
    r = lambda a, b: a / b if b else 0.0
    n = tp + fp + fn + tn
    p, rc = r(tp, tp + fp), r(tp, tp + fn)
    oa = r(tp + tn, n)
    pe = r((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn), n * n)
    return {"precision": p, "recall": rc, "F1": r(2 * p * rc, p + rc), "IoU": r(tp, tp + fp + fn), "OA": oa,
            "kappa": r(oa - pe, 1 - pe), "TP": tp, "FP": fp, "FN": fn, "TN": tn}
out, total = {"images": {}}, np.zeros(4, np.int64)
for f in sorted(os.listdir(gt_dir)):
    name = os.path.splitext(f)[0]
    if not os.path.exists(os.path.join(res_dir, name + ".png")): continue
    g, p = read(os.path.join(gt_dir, f)), read(os.path.join(res_dir, name + ".png"))
    c = np.array([(p & g).sum(), (p & (1 - g)).sum(), ((1 - p) & g).sum(), ((1 - p) & (1 - g)).sum()])
    total += c
    out["images"][name] = scores(*[int(v) for v in c])
out["combined"] = scores(*[int(v) for v in total])
print(json.dumps(out))
)PY";

TEST_F(ChangeApp, EvalMatchesAnIndependentNumpyImplementation) {
  if (!python_has({"numpy", "PIL"})) GTEST_SKIP() << "numpy / PIL not available";
  const fs::path gt = dir_ / "gt", res = dir_ / "res";
  fs::create_directories(gt);
  fs::create_directories(res);
  torch::manual_seed(4);
  const std::vector<std::pair<int64_t, int64_t>> sizes{{1, 1}, {7, 13}, {32, 32}, {5, 1}, {64, 17}};
  for (size_t i = 0; i < sizes.size(); ++i) {
    const auto [h, w] = sizes[i];
    std::string name = "m";  // (not "m" + to_string: GCC 12 warns falsely on that)
    name += std::to_string(i) + ".png";
    // Sparse change in the gt, a noisy prediction of it.
    const auto g = torch::rand({h, w}).lt(0.2);
    const auto p = g.logical_xor(torch::rand({h, w}).lt(0.15));
    write_image((gt / name).string(), (g.to(torch::kByte) * 255).unsqueeze(-1));
    write_image((res / name).string(), (p.to(torch::kByte) * 255).unsqueeze(-1));
  }
  write_image((gt / "only_gt.png").string(), torch::zeros({3, 3, 1}, torch::kByte));
  std::string ours, theirs;
  ASSERT_EQ(run_app_command("vss-change", {"eval", "--gt", gt.string(), "--res", res.string(), "--json"}, &ours), 0) << ours;
  ASSERT_EQ(run_python(kOracle, {gt.string(), res.string()}, &theirs), 0) << theirs;
  const json a = json_of(ours), b = json::parse(theirs);
  ASSERT_EQ(a["skipped"].size(), 1u);
  ASSERT_EQ(a["images"].size(), sizes.size());
  auto same = [](const json& x, const json& y, const std::string& where) {
    for (const char* key : {"precision", "recall", "F1", "IoU", "OA", "kappa"})
      EXPECT_NEAR(x[key].get<double>(), y[key].get<double>(), 1e-12) << where << " " << key;
    for (const char* key : {"TP", "FP", "FN", "TN"}) EXPECT_EQ(x[key], y[key]) << where << " " << key;
  };
  for (const auto& [name, m] : b["images"].items()) same(a["images"][name], m, name);
  same(a["combined"], b["combined"], "combined");
  EXPECT_GT(b["combined"]["F1"].get<double>(), 0.3);
  // A prediction that is not a 0/255 mask is named.
  write_image((res / "m2.png").string(), torch::full({32, 32, 1}, 1, torch::kByte));
  EXPECT_EQ(run_app_command("vss-change", {"eval", "--gt", gt.string(), "--res", res.string()}, &ours), 1);
  EXPECT_NE(ours.find((res / "m2.png").string() + ": label value 1"), std::string::npos) << ours;
}

}  // namespace
}  // namespace vss::test
