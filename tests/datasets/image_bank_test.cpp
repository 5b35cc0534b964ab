// Image banks: packing a folder tree (8-bit RGB, grey, RGBA, 16-bit) and reading it back;
// the file read by Python's safetensors equals the images as OpenCV reads them (a standard
// safetensors file an outside tool can open); errors leave no file behind.
#include "core/error.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "core/safetensors.h"
#include "datasets/image_bank.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

namespace fs = std::filesystem;

namespace vss::test {
namespace {

class ImageBankTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!all_image_formats_available()) GTEST_SKIP() << "built without OpenCV";
    dir_ = make_temp_dir("vss-image-bank-test");
    fs::create_directories(dir_ / "tree" / "HR");
    fs::create_directories(dir_ / "tree" / "LR" / "X2");
    torch::manual_seed(0);
    images_ = {{"HR/a", torch::randint(0, 256, {6, 8, 3}, torch::kByte)},
               {"HR/b", torch::randint(0, 256, {5, 3, 1}, torch::kByte)},
               {"HR/c", torch::randint(0, 256, {4, 4, 4}, torch::kByte)},
               {"LR/X2/ax2", torch::randint(0, 65536, {3, 4, 3}, torch::kInt).to(torch::kUInt16)},
               {"top", torch::randint(0, 256, {1, 1, 3}, torch::kByte)}};
    for (const auto& [name, img] : images_) write_image((dir_ / "tree" / (name + ".png")).string(), img);
    std::ofstream(dir_ / "tree" / "notes.txt") << "not an image";
  }
  void TearDown() override {
    if (!dir_.empty()) remove_tree(dir_);
  }
  fs::path dir_;
  std::vector<std::pair<std::string, at::Tensor>> images_;
};

TEST_F(ImageBankTest, PacksAFolderTreeAndReadsItBack) {
  int64_t calls = 0;
  const fs::path file = dir_ / "bank.safetensors";
  EXPECT_EQ(pack_image_bank(dir_ / "tree", file, [&](int64_t done, int64_t total) {
              ++calls;
              EXPECT_EQ(total, 5);
              EXPECT_EQ(done, calls);
            }),
            5);
  const ImageBank bank(file);
  EXPECT_EQ(bank.size(), 5);
  for (const auto& [name, img] : images_) {
    ASSERT_TRUE(bank.contains(name)) << name;
    EXPECT_EQ(bank.image(name).scalar_type(), img.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(bank.image(name).to(torch::kInt), img.to(torch::kInt))) << name;
  }
  EXPECT_EQ(bank.list("HR"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(bank.list("HR/"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(bank.list("LR/X2"), (std::vector<std::string>{"ax2"}));
  EXPECT_EQ(bank.list(""), (std::vector<std::string>{"top"}));
  EXPECT_TRUE(bank.list("LR").empty());
  EXPECT_THROW(bank.image("HR/zz"), Error);
}

TEST_F(ImageBankTest, PythonSafetensorsReadsWhatOpenCvDecodes) {
  if (!python_has({"cv2", "numpy", "safetensors"})) GTEST_SKIP() << "python cv2 / safetensors not available";
  const fs::path file = dir_ / "bank.safetensors";
  pack_image_bank(dir_ / "tree", file);
  std::string out;
  ASSERT_EQ(run_python("import sys, os, cv2, numpy as np\n"
                       "from safetensors.numpy import load_file\n"
                       "bank = load_file(sys.argv[1]); root = sys.argv[2]\n"
                       "for name in ['HR/a', 'HR/b', 'HR/c', 'LR/X2/ax2', 'top']:\n"
                       "    img = cv2.imread(os.path.join(root, name + '.png'), cv2.IMREAD_UNCHANGED)\n"
                       "    if img.ndim == 2: img = img[:, :, None]\n"
                       "    if img.shape[2] == 3: img = img[:, :, ::-1]\n"
                       "    if img.shape[2] == 4: img = img[:, :, [2, 1, 0, 3]]\n"
                       "    t = bank[name]\n"
                       "    if img.dtype == np.uint16: t = t.view(np.uint16)\n"
                       "    assert t.shape == img.shape and (t == img).all(), name\n"
                       "print('ok', len(bank))",
                       {file.string(), (dir_ / "tree").string()}, &out),
            0)
      << out;
  EXPECT_NE(out.find("ok 5"), std::string::npos) << out;
}

TEST_F(ImageBankTest, ErrorsNameTheFileAndLeaveNoBank) {
  const fs::path file = dir_ / "bank.safetensors";
  std::ofstream(dir_ / "tree" / "HR" / "a.jpg") << "truncated";
  try {
    pack_image_bank(dir_ / "tree", file);
    ADD_FAILURE() << "duplicate stem accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a."), std::string::npos) << e.what();
  }
  fs::remove(dir_ / "tree" / "HR" / "a.jpg");
  std::ofstream(dir_ / "tree" / "HR" / "d.png") << "\x89PNG truncated";
  try {
    pack_image_bank(dir_ / "tree", file);
    ADD_FAILURE() << "broken image accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("d.png"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(file));
  fs::create_directories(dir_ / "empty");
  EXPECT_THROW(pack_image_bank(dir_ / "empty", file), Error);
  EXPECT_THROW(pack_image_bank(dir_ / "missing", file), Error);
  write_safetensors(dir_ / "other.safetensors", {{"w", torch::zeros({2})}});
  EXPECT_THROW(ImageBank(dir_ / "other.safetensors"), Error);
}

}  // namespace
}  // namespace vss::test
