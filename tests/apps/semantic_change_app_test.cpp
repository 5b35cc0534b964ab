// vss-change --semantic on the command line: make-data --semantic writes both SECOND layouts
// deterministically; a run writes the change mask, the two land-cover maps (0 where
// unchanged) and their colour renderings, with --gt metrics equal to those of `eval
// --semantic` on the written maps, and tiles at least the image size give the whole-image
// maps; `eval --semantic` is checked against an independent numpy transcription of the
// official SCDD_eval_all (PIL reads the PNGs, colour labels through the table) on maps of
// odd and mixed sizes, a perfect and an all-wrong prediction; bad input stops with one line
// naming the file and nothing written; the bundled weights work on the bundled pair;
// train -> export -> run works end to end.
#include "backbones/weights.h"
#include "core/config.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "heads/change/mamba_bcd.h"
#include "heads/change/mamba_scd.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>

// Named: the unity build puts several test files in one translation unit.
namespace vss::test::scd_app_tests {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string test_config() { return (source_dir() / "configs/change/mambascd_test.yaml").string(); }

const std::vector<std::array<int, 3>> kTable{{255, 255, 255}, {0, 0, 255}, {128, 128, 128}, {0, 128, 0},
                                             {0, 255, 0},     {128, 0, 0}, {255, 0, 0}};

class SemanticChangeApp : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!all_image_formats_available()) GTEST_SKIP() << "built without OpenCV";
    dir_ = make_temp_dir("vss_scd_app");
    torch::manual_seed(1);
    auto model = change::make_mamba_scd(Config::load(test_config()));
    // Bias the change head towards "changed" so the untrained net writes land-cover classes.
    for (auto& p : model->named_parameters())
      if (p.key() == "main_clf_cd.bias") p.value().data()[1] += 2.0;
    weights_ = (dir_ / "random.safetensors").string();
    save_weights(*model, weights_);
  }
  void TearDown() override {
    if (!dir_.empty()) remove_tree(dir_);
  }
  int make_data(const fs::path& out, const std::string& layout, int num, int size, std::string* text = nullptr) {
    return run_app_command("vss-change", {"make-data", "--semantic", "--layout", layout, "--out", out.string(), "--num",
                                          std::to_string(num), "--size", std::to_string(size), "--seed", "4"},
                           text);
  }
  int run(const fs::path& a, const fs::path& b, const fs::path& out, std::vector<std::string> extra, std::string* text) {
    std::vector<std::string> args{"--semantic", "--a", a.string(), "--b", b.string(), "-o", out.string(), "--config",
                                  test_config(), "--weights", weights_};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_app_command("vss-change", args, text);
  }
  fs::path dir_;
  std::string weights_;
};

TEST_F(SemanticChangeApp, MakeDataWritesBothLayoutsDeterministically) {
  std::string out;
  ASSERT_EQ(make_data(dir_ / "s1", "second", 2, 24, &out), 0) << out;
  ASSERT_EQ(make_data(dir_ / "s2", "second", 2, 24, &out), 0) << out;
  ASSERT_EQ(make_data(dir_ / "c", "changemamba", 2, 24, &out), 0) << out;
  for (const char* sub : {"im1", "im2", "label1", "label2"})
    for (const auto& f : list_images((dir_ / "s1/test" / sub).string()))
      EXPECT_TRUE(torch::equal(read_image(f, ImageMode::kUnchanged),
                               read_image((dir_ / "s2/test" / sub / fs::path(f).filename()).string(), ImageMode::kUnchanged)));
  // The same pair in both layouts: colours of the table <-> indices; GT_CD = 255 where GT_T1 != 0.
  const auto colours = read_image((dir_ / "s1/test/label2/test_1.png").string(), ImageMode::kUnchanged);
  const auto indices = read_image((dir_ / "c/test/GT_T2/test_1.png").string(), ImageMode::kUnchanged).squeeze(-1);
  ASSERT_EQ(colours.size(2), 3);
  for (int64_t k = 0; k < 7; ++k)
    for (int c = 0; c < 3; ++c)
      EXPECT_TRUE(colours.select(2, c).masked_select(indices.eq(k)).eq(kTable[k][c]).all().item<bool>()) << k;
  const auto cd = read_image((dir_ / "c/test/GT_CD/test_1.png").string(), ImageMode::kUnchanged).squeeze(-1);
  const auto t1 = read_image((dir_ / "c/test/GT_T1/test_1.png").string(), ImageMode::kUnchanged).squeeze(-1);
  EXPECT_TRUE(torch::equal(cd.eq(255), t1.ne(0)));
  EXPECT_TRUE(torch::equal(read_image((dir_ / "s1/test/im1/test_1.png").string()),
                           read_image((dir_ / "c/test/T1/test_1.png").string())));
}

TEST_F(SemanticChangeApp, RunWritesMapsAndColoursAndScoresAsEval) {
  std::string out;
  ASSERT_EQ(make_data(dir_ / "d", "changemamba", 2, 40, &out), 0) << out;
  const fs::path test = dir_ / "d/test";
  ASSERT_EQ(run(test / "T1", test / "T2", dir_ / "o", {"--gt", test.string(), "--json"}, &out), 0) << out;
  const json ran = json_of(out);
  EXPECT_EQ(ran["pairs"], 2);
  for (const char* name : {"test_1", "test_2"}) {
    const std::string file = std::string(name) + ".png";
    const auto change = read_image((dir_ / "o/change" / file).string(), ImageMode::kUnchanged).squeeze(-1);
    const auto l1 = read_image((dir_ / "o/label1" / file).string(), ImageMode::kUnchanged);
    const auto l2 = read_image((dir_ / "o/label2" / file).string(), ImageMode::kUnchanged).squeeze(-1);
    ASSERT_EQ(l1.size(2), 1);
    EXPECT_TRUE(change.eq(0).logical_or(change.eq(255)).all().item<bool>());
    EXPECT_TRUE(l2.masked_select(change.eq(0)).eq(0).all().item<bool>());  // 0 wherever unchanged
    EXPECT_TRUE(l1.squeeze(-1).masked_select(change.eq(255)).ne(0).any().item<bool>());
    const auto colours = read_image((dir_ / "o/label2_colour" / file).string(), ImageMode::kUnchanged);
    for (int64_t k = 0; k < 7; ++k)
      for (int c = 0; c < 3; ++c)
        EXPECT_TRUE(colours.select(2, c).masked_select(l2.eq(k)).eq(kTable[k][c]).all().item<bool>()) << k;
  }
  std::string evaluated;
  ASSERT_EQ(run_app_command("vss-change", {"eval", "--semantic", "--gt", test.string(), "--res", (dir_ / "o").string(),
                                           "--json"},
                            &evaluated),
            0)
      << evaluated;
  const json e = json_of(evaluated);
  for (const char* key : {"OA", "mIoU", "SeK", "F_scd", "IoU_nc", "IoU_c", "kappa_n0", "P_scd", "R_scd"})
    EXPECT_DOUBLE_EQ(ran["combined"][key].get<double>(), e["combined"][key].get<double>()) << key;
  EXPECT_EQ(ran["images"].size(), 2u);
  EXPECT_EQ(e["images"].size(), 2u);
  // Tiles at least the image size are the whole image.
  ASSERT_EQ(run(test / "T1", test / "T2", dir_ / "tiled", {"--tile", "64"}, &out), 0) << out;
  for (const char* sub : {"change", "label1", "label2"})
    EXPECT_TRUE(torch::equal(read_image((dir_ / "o" / sub / "test_1.png").string(), ImageMode::kUnchanged),
                             read_image((dir_ / "tiled" / sub / "test_1.png").string(), ImageMode::kUnchanged)))
        << sub;
  // Smaller tiles still cover every pixel with valid maps.
  ASSERT_EQ(run(test / "T1", test / "T2", dir_ / "tiles", {"--tile", "24", "--tile-stride", "16"}, &out), 0) << out;
  EXPECT_EQ(read_image((dir_ / "tiles/label1/test_2.png").string(), ImageMode::kUnchanged).size(0), 40);
}

// numpy + PIL transcription of Bi-SRNet / MambaCD's SCDD_eval_all (7 classes, both dates of
// every pair into one hist[pred][gt]) and of their per-map accuracy mean; colour labels go
// through the SECOND table. JSON with the keys of `vss-change eval --semantic --json`.
constexpr char kOracle[] = R"PY(
import json, math, os, sys
import numpy as np
from PIL import Image
gt_root, res_root = sys.argv[1], sys.argv[2]
table = [(255, 255, 255), (0, 0, 255), (128, 128, 128), (0, 128, 0), (0, 255, 0), (128, 0, 0), (255, 0, 0)]
def read(path):
    a = np.asarray(Image.open(path)).astype(np.int64)
    if a.ndim == 2: return a
    out = np.full(a.shape[:2], -1, np.int64)
    for k, c in enumerate(table): out[(a[..., 0] == c[0]) & (a[..., 1] == c[1]) & (a[..., 2] == c[2])] = k
    assert (out >= 0).all()
    return out
def fast_hist(a, b, n):
    k = (a >= 0) & (a < n)
    return np.bincount(n * a[k].astype(int) + b[k], minlength=n ** 2).reshape(n, n)
def div(a, b): return a / b if b else 0.0
def kappa(h):
    if h.sum() == 0: return 0.0
    po = np.diag(h).sum() / h.sum()
    pe = np.matmul(h.sum(1), h.sum(0).T) / h.sum() ** 2
    return 0.0 if pe == 1 else (po - pe) / (1 - pe)
def scores(hist, accs):
    c2 = np.zeros((2, 2))
    c2[0][0] = hist[0][0]
    c2[0][1] = hist.sum(1)[0] - hist[0][0]
    c2[1][0] = hist.sum(0)[0] - hist[0][0]
    c2[1][1] = hist[1:, 1:].sum()
    n0 = hist.copy(); n0[0][0] = 0
    k = kappa(n0)
    iu = [div(c2[i][i], c2.sum(1)[i] + c2.sum(0)[i] - c2[i][i]) for i in range(2)]
    total = hist.sum()
    pred_changed, gt_changed = total - hist.sum(1)[0], total - hist.sum(0)[0]
    tp = np.diag(hist[1:, 1:]).sum()
    p, r = div(tp, pred_changed), div(tp, gt_changed)
    return {"OA": float(np.mean(accs)), "mIoU": (iu[0] + iu[1]) / 2, "SeK": k * math.exp(iu[1]) / math.e,
            "F_scd": div(2 * p * r, p + r), "IoU_nc": iu[0], "IoU_c": iu[1], "kappa_n0": k, "P_scd": p, "R_scd": r}
total, accs, out = np.zeros((7, 7), np.int64), [], {"images": {}}
for f in sorted(os.listdir(os.path.join(gt_root, "label1"))):
    name = os.path.splitext(f)[0]
    hist, pair_accs = np.zeros((7, 7), np.int64), []
    for date in ("label1", "label2"):
        g = read(os.path.join(gt_root, date, f))
        p = read(os.path.join(res_root, date, name + ".png"))
        hist += fast_hist(p.flatten(), g.flatten(), 7)
        pair_accs.append(float((p == g).sum()) / g.size)
    total += hist
    accs += pair_accs
    out["images"][name] = scores(hist, pair_accs)
out["combined"] = scores(total, accs)
print(json.dumps(out))
)PY";

void write_labels(const fs::path& root, const std::string& name, const at::Tensor& l1, const at::Tensor& l2, bool colour) {
  for (const char* sub : {"label1", "label2"}) fs::create_directories(root / sub);
  auto encode = [&](const at::Tensor& l) {
    if (!colour) return l.to(torch::kByte).unsqueeze(-1).contiguous();
    auto c = torch::zeros({l.size(0), l.size(1), 3}, torch::kByte);
    for (int64_t k = 0; k < 7; ++k)
      for (int ch = 0; ch < 3; ++ch) c.select(2, ch).masked_fill_(l.eq(k), kTable[k][ch]);
    return c;
  };
  write_image((root / "label1" / (name + ".png")).string(), encode(l1));
  write_image((root / "label2" / (name + ".png")).string(), encode(l2));
}

json eval_semantic(const fs::path& gt, const fs::path& res) {
  std::string out;
  EXPECT_EQ(run_app_command("vss-change", {"eval", "--semantic", "--gt", gt.string(), "--res", res.string(), "--json"},
                            &out),
            0)
      << out;
  return json_of(out);
}

TEST_F(SemanticChangeApp, EvalMatchesANumpyTranscriptionOfTheOfficialFormula) {
  if (!python_has({"numpy", "PIL"})) GTEST_SKIP() << "numpy / PIL not available";
  const fs::path gt = dir_ / "gt", res = dir_ / "res", perfect = dir_ / "perfect", wrong = dir_ / "wrong";
  torch::manual_seed(4);
  // Odd and mixed sizes: the mean of per-map accuracies and the pooled accuracy differ.
  const std::vector<std::pair<int64_t, int64_t>> sizes{{7, 13}, {32, 32}, {1, 5}, {17, 64}};
  for (size_t i = 0; i < sizes.size(); ++i) {
    const auto [h, w] = sizes[i];
    std::string name = "p";  // (not "p" + to_string: GCC 12 warns falsely on that)
    name += std::to_string(i);
    const auto change = torch::rand({h, w}).lt(0.4);
    const auto g1 = torch::randint(1, 7, {h, w}, torch::kLong) * change, g2 = torch::randint(1, 7, {h, w}, torch::kLong) * change;
    write_labels(gt, name, g1, g2, /*colour=*/true);  // SECOND's original colour labels
    // A noisy prediction: the change map 80 % right, the classes 70 % right.
    const auto pred_change = torch::where(torch::rand({h, w}).lt(0.8), change, change.logical_not());
    auto guess = [&](const at::Tensor& g) {
      const auto cls = torch::where(torch::rand({h, w}).lt(0.7).logical_and(g.ne(0)), g, torch::randint(1, 7, {h, w}, torch::kLong));
      return cls * pred_change;
    };
    write_labels(res, name, guess(g1), guess(g2), false);
    write_labels(perfect, name, g1, g2, false);
    // All wrong: unchanged predicted where it changed, another class where it did not.
    write_labels(wrong, name, change.logical_not() * ((g1 + 1) % 6 + 1), change.logical_not() * 3, false);
  }
  const json ours = eval_semantic(gt, res);
  std::string text;
  ASSERT_EQ(run_python(kOracle, {gt.string(), res.string()}, &text), 0) << text;
  const json theirs = json::parse(text);
  const std::vector<std::string> keys{"OA", "mIoU", "SeK", "F_scd", "IoU_nc", "IoU_c", "kappa_n0", "P_scd", "R_scd"};
  auto same = [&](const json& a, const json& b, const std::string& where) {
    for (const auto& key : keys) EXPECT_NEAR(a[key].get<double>(), b[key].get<double>(), 1e-12) << where << " " << key;
  };
  ASSERT_EQ(ours["images"].size(), sizes.size());
  for (const auto& [name, m] : theirs["images"].items()) same(ours["images"][name], m, name);
  same(ours["combined"], theirs["combined"], "combined");
  EXPECT_GT(theirs["combined"]["SeK"].get<double>(), 0.05);
  // Pooled accuracy would differ from the mean of maps here: the test would see it.
  const json best = eval_semantic(gt, perfect);
  for (const auto& key : keys) EXPECT_DOUBLE_EQ(best["combined"][key].get<double>(), 1.0) << key;
  const json worst = eval_semantic(gt, wrong);
  ASSERT_EQ(run_python(kOracle, {gt.string(), wrong.string()}, &text), 0) << text;
  same(worst["combined"], json::parse(text)["combined"], "all wrong");
  for (const char* key : {"OA", "mIoU", "F_scd", "IoU_c"}) EXPECT_EQ(worst["combined"][key].get<double>(), 0.0) << key;
  EXPECT_LT(worst["combined"]["SeK"].get<double>(), 0.0);
}

TEST_F(SemanticChangeApp, BadInputStopsWithOneLineAndNothingWritten) {
  std::string out;
  ASSERT_EQ(make_data(dir_ / "d", "second", 2, 24, &out), 0) << out;
  const fs::path test = dir_ / "d/test";
  auto fails = [&](const fs::path& a, const fs::path& b, std::vector<std::string> extra, const std::string& needle) {
    const fs::path o = dir_ / "never";
    extra.push_back("--quiet");  // errors only: the one line
    EXPECT_EQ(run(a, b, o, extra, &out), 1) << out;
    EXPECT_NE(out.find(needle), std::string::npos) << "'" << out << "' lacks " << needle;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    EXPECT_FALSE(fs::exists(o)) << needle;
  };
  // A colour outside the table in the second pair's label: named with its pixel; no output
  // for the first pair either.
  const std::string label = (test / "label1/test_2.png").string();
  auto colours = read_image(label, ImageMode::kUnchanged);
  colours[3][5] = torch::tensor({1, 2, 3}, torch::kByte);
  write_image(label, colours);
  fails(test / "im1", test / "im2", {"--gt", test.string()}, label + ": colour (1,2,3) at row 3, column 5");
  // An index above the class count (ChangeMamba layout).
  ASSERT_EQ(make_data(dir_ / "c", "changemamba", 1, 24, &out), 0) << out;
  const fs::path c = dir_ / "c/test";
  auto indices = read_image((c / "GT_T2/test_1.png").string(), ImageMode::kUnchanged);
  indices[0][1][0] = 9;
  write_image((c / "GT_T2/test_1.png").string(), indices);
  fails(c / "T1", c / "T2", {"--gt", c.string()}, (c / "GT_T2/test_1.png").string() + ": class index 9 at row 0, column 1");
  // Dates of two sizes.
  write_image((test / "im2/test_1.png").string(), torch::zeros({20, 24, 3}, torch::kByte));
  fails(test / "im1", test / "im2", {}, "pair sizes differ: " + (test / "im1/test_1.png").string());
  // Names that do not pair up at all.
  fs::create_directories(dir_ / "x");
  fs::create_directories(dir_ / "y");
  write_image((dir_ / "x/a.png").string(), torch::zeros({8, 8, 3}, torch::kByte));
  write_image((dir_ / "y/b.png").string(), torch::zeros({8, 8, 3}, torch::kByte));
  fails(dir_ / "x", dir_ / "y", {}, "no complete pair");
  // A binary config or checkpoint in the semantic mode.
  const auto bcd_config = (source_dir() / "configs/change/mambabcd_test.yaml").string();
  EXPECT_EQ(run_app_command("vss-change", {"--semantic", "--a", (dir_ / "x").string(), "--b", (dir_ / "x").string(),
                                           "-o", (dir_ / "never").string(), "--config", bcd_config, "--weights", weights_},
                            &out),
            1);
  EXPECT_NE(out.find("--semantic needs a semantic one (type: mamba_scd)"), std::string::npos) << out;
  auto bcd = change::make_mamba_bcd(Config::load(bcd_config));
  save_weights(*bcd, dir_ / "bcd.safetensors");
  EXPECT_EQ(run_app_command("vss-change", {"--semantic", "--a", (dir_ / "x").string(), "--b", (dir_ / "x").string(), "-o",
                                           (dir_ / "never").string(), "--config", test_config(), "--weights",
                                           (dir_ / "bcd.safetensors").string()},
                            &out),
            1);
  EXPECT_NE(out.find("missing"), std::string::npos) << out;
  EXPECT_NE(out.find("decoder_T1."), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "never"));
  // The semantic config without --semantic says what to do.
  EXPECT_EQ(run_app_command("vss-change", {"--a", (dir_ / "x").string(), "--b", (dir_ / "x").string(), "-o",
                                           (dir_ / "never").string(), "--config", test_config(), "--weights", weights_},
                            &out),
            1);
  EXPECT_NE(out.find("run it with --semantic"), std::string::npos) << out;
}

TEST_F(SemanticChangeApp, AChangeMapDisagreeingWithTheLabelsIsAWarningWithItsCount) {
  std::string out;
  ASSERT_EQ(make_data(dir_ / "c", "changemamba", 1, 24, &out), 0) << out;
  const fs::path c = dir_ / "c/test";
  const auto t1 = read_image((c / "GT_T1/test_1.png").string(), ImageMode::kUnchanged);
  // Changed everywhere: every pixel without a class disagrees.
  write_image((c / "GT_CD/test_1.png").string(), torch::full({24, 24, 1}, 255, torch::kByte));
  const int64_t unlabelled = t1.eq(0).sum().item<int64_t>();
  ASSERT_GT(unlabelled, 0);
  ASSERT_EQ(run(c / "T1", c / "T2", dir_ / "o", {"--gt", c.string()}, &out), 0) << out;
  EXPECT_NE(out.find("disagrees with the land-cover maps on " + std::to_string(unlabelled) + " pixel(s)"),
            std::string::npos)
      << out;
}

TEST_F(SemanticChangeApp, BundledWeightsFindWhatChangedIntoWhatOnTheBundledPair) {
  const fs::path demo = source_dir() / "assets/scd_demo";
  std::string out;
  ASSERT_EQ(run_app_command("vss-change", {"--semantic", "--a", (demo / "im1").string(), "--b", (demo / "im2").string(),
                                           "--gt", demo.string(), "-o", (dir_ / "res").string(), "--config",
                                           (source_dir() / "configs/change/mambascd_demo.yaml").string(), "--weights",
                                           (source_dir() / "weights/mambascd_demo.safetensors").string(), "--json"},
                            &out),
            0)
      << out;
  const json j = json_of(out);
  // weights/mambascd_demo.md: SeK 0.788, F_scd 0.922 on this pair.
  EXPECT_GT(j["combined"]["SeK"].get<double>(), 0.75) << out;
  EXPECT_GT(j["combined"]["F_scd"].get<double>(), 0.9) << out;
}

TEST_F(SemanticChangeApp, TrainExportRun) {
  const fs::path cfg = dir_ / "train.yaml";
  Config c = Config::parse(
      "task: {type: semantic_change}\n"
      "data: {type: synthetic_semantic_change, image_size: 32, train: {num: 8, seed: 1}, val: {num: 2, seed: 2}}\n"
      "optimizer: {type: adamw, lr: 0.001}\n"
      "train: {steps: 2, batch_size: 2, log_every: 1, eval_every: 0, checkpoint_every: 0}\n");
  c.apply_override("model=" + Config::load(test_config()).dump());
  std::ofstream(cfg) << c.dump();
  std::string out;
  ASSERT_EQ(run_app_command("vss-train", {"--config", cfg.string(), "--work-dir", (dir_ / "run").string(), "--quiet"}, &out), 0)
      << out;
  const auto exported = (dir_ / "model.safetensors").string();
  ASSERT_EQ(run_app_command("vss-change", {"export", "--run", (dir_ / "run").string(), "--out", exported}, &out), 0) << out;
  ASSERT_EQ(make_data(dir_ / "data", "second", 1, 32, &out), 0) << out;
  ASSERT_EQ(run_app_command("vss-change", {"--semantic", "--a", (dir_ / "data/test/im1").string(), "--b",
                                           (dir_ / "data/test/im2").string(), "--gt", (dir_ / "data/test").string(), "-o",
                                           (dir_ / "res").string(), "--config", cfg.string(), "--weights", exported,
                                           "--quiet"},
                            &out),
            0)
      << out;
  EXPECT_TRUE(fs::exists(dir_ / "res/label1_colour/test_1.png"));
}

}  // namespace
}  // namespace vss::test::scd_app_tests
