// Classification folders: torchvision's ImageFolder (sorted class folders, recursive, other
// files ignored) and ImageNet's flat validation folder with a labels file (names with or
// without extension, commas, Kaggle's CSV header, indices), with the errors each layout's
// bad input gets: an empty class folder, a class only in val, labels-file lines that name no
// file, images without a line, unknown classes.
#include "core/error.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "datasets/image_folder.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

namespace {

namespace fs = std::filesystem;
using vss::test::error_of;

class ImageFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!vss::all_image_formats_available()) GTEST_SKIP() << "no image codecs in this build";
    root_ = vss::test::make_temp_dir("vss-image-folder");
  }
  void TearDown() override {
    if (!root_.empty()) vss::remove_tree(root_);
  }
  std::string image(const std::string& rel) {
    fs::create_directories((root_ / rel).parent_path());
    vss::write_image((root_ / rel).string(), torch::full({4, 5, 3}, 7, torch::kByte));
    return (root_ / rel).string();
  }
  std::string text(const std::string& rel, const std::string& content) {
    std::ofstream((root_ / rel).string()) << content;
    return (root_ / rel).string();
  }
  fs::path root_;
};

TEST_F(ImageFolder, ClassesAreSortedFoldersAndImagesAreFoundRecursively) {
  const auto z1 = image("train/zebra/b.png"), z0 = image("train/zebra/a.jpg");
  const auto c0 = image("train/cat/deep/er/x.png");
  text("train/cat/notes.txt", "not an image");
  const vss::LabelledImages set = vss::open_image_folder(root_ / "train");
  EXPECT_EQ(set.classes, (std::vector<std::string>{"cat", "zebra"}));
  EXPECT_EQ(set.paths, (std::vector<std::string>{c0, z0, z1}));
  EXPECT_EQ(set.labels, (std::vector<int64_t>{0, 1, 1}));

  // Validation with the training classes: a subset keeps the training indices.
  image("val/zebra/v.png");
  const vss::LabelledImages val = vss::open_image_folder(root_ / "val", set.classes);
  EXPECT_EQ(val.classes, set.classes);
  EXPECT_EQ(val.labels, (std::vector<int64_t>{1}));
}

TEST_F(ImageFolder, BadLayoutsNameTheFolder) {
  image("train/cat/a.png");
  fs::create_directories(root_ / "train/dog");
  EXPECT_EQ(error_of([&] { vss::open_image_folder(root_ / "train"); }),
            (root_ / "train/dog").string() + ": class folder holds no images (.jpg .jpeg .png .bmp .tif .webp .ppm .pgm)");
  image("val/cow/a.png");
  EXPECT_EQ(error_of([&] { vss::open_image_folder(root_ / "val", {"cat", "dog"}); }),
            (root_ / "val/cow").string() + ": class 'cow' is not one of the 2 training classes");
  EXPECT_NE(error_of([&] { vss::open_image_folder(root_ / "missing"); }).find("no such folder"), std::string::npos);
  image("flat/a.png");
  EXPECT_NE(error_of([&] { vss::open_image_folder(root_ / "flat"); }).find("holds no class folders"), std::string::npos);
}

TEST_F(ImageFolder, FlatFolderWithLabelsFile) {
  const auto a = image("val/ILSVRC2012_val_00000001.JPEG"), b = image("val/ILSVRC2012_val_00000002.png");
  const auto c = image("val/ILSVRC2012_val_00000003.png");
  // Kaggle's LOC_val_solution.csv: header, stem, synset then boxes.
  const auto csv = text("loc.csv",
                        "ImageId,PredictionString\n"
                        "ILSVRC2012_val_00000002,n02 10 20 30 40 n02 1 2 3 4\n"
                        "ILSVRC2012_val_00000001,n01 1 2 3 4\n"
                        "\n"
                        "ILSVRC2012_val_00000003.png,n01\n");
  const vss::LabelledImages named = vss::open_labelled_folder(root_ / "val", csv);
  EXPECT_EQ(named.classes, (std::vector<std::string>{"n01", "n02"}));
  EXPECT_EQ(named.paths, (std::vector<std::string>{a, c, b}));
  EXPECT_EQ(named.labels, (std::vector<int64_t>{0, 0, 1}));

  // Indices into a given class list (the caffe-style val.txt), names mixed in.
  const auto txt = text("val.txt", "ILSVRC2012_val_00000001.JPEG 2\nILSVRC2012_val_00000002.png\tzero\n"
                                   "ILSVRC2012_val_00000003.png 1\n");
  const vss::LabelledImages indexed = vss::open_labelled_folder(root_ / "val", txt, {"zero", "one", "two"});
  EXPECT_EQ(indexed.paths, (std::vector<std::string>{b, c, a}));
  EXPECT_EQ(indexed.labels, (std::vector<int64_t>{0, 1, 2}));
}

TEST_F(ImageFolder, LabelsFileErrorsNameTheLine) {
  image("val/a.png");
  image("val/b.png");
  const std::vector<std::string> classes{"x", "y"};
  auto error = [&](const std::string& content) {
    const auto file = text("labels.txt", content);
    return error_of([&] { vss::open_labelled_folder(root_ / "val", file, classes); });
  };
  const std::string file = (root_ / "labels.txt").string();
  EXPECT_EQ(error("a.png x\nc.png y\n"), file + ":2: no image 'c.png' in " + (root_ / "val").string());
  EXPECT_EQ(error("a.png x\n"), (root_ / "val/b.png").string() + ": has no line in the labels file " + file);
  EXPECT_EQ(error("a.png x\nb y\na y\n"), file + ":3: " + (root_ / "val/a.png").string() + " was already labelled on line 1");
  EXPECT_EQ(error("a.png x\nb.png zebra\n"), file + ":2: class 'zebra' is not one of the 2 training classes");
  EXPECT_EQ(error("a.png x\nb.png 2\n"), file + ":2: class index 2 is out of range (2 classes)");
  EXPECT_EQ(error("a.png\n"), file + ":1: expected '<file> <class>', got 'a.png'");
  EXPECT_NE(error_of([&] { vss::open_labelled_folder(root_ / "val", root_ / "none.txt"); }).find("cannot open the labels file"),
            std::string::npos);
}

}  // namespace
