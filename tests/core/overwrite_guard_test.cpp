// Outputs never replace inputs: the same file reached through another spelling, a symlink or a
// hard link is refused with a line naming both; other outputs, missing files and outputs that
// do not exist yet pass.
#include "core/overwrite_guard.h"
#include "core/remove_tree.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <fstream>

namespace {

namespace fs = std::filesystem;

class OverwriteGuard : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = vss::test::make_temp_dir("vss-overwrite-guard");
    fs::create_directories(dir_ / "in");
    std::ofstream(input_ = dir_ / "in" / "a.png") << "image";
  }
  void TearDown() override { vss::remove_tree(dir_); }
  fs::path dir_, input_;
};

TEST_F(OverwriteGuard, the_same_file_under_any_name_is_refused_naming_both) {
  fs::create_directory_symlink(dir_ / "in", dir_ / "link");
  fs::create_hard_link(input_, dir_ / "hard.png");
  for (const fs::path& out : {dir_ / "in" / "." / "a.png", dir_ / "link" / "a.png", dir_ / "hard.png"}) {
    const std::string what = vss::test::error_of([&] { vss::refuse_overwriting_inputs({out}, {input_}, "pick another -o"); });
    EXPECT_EQ(what, out.string() + ": would overwrite the input " + input_.string() + " (pick another -o)");
  }
  EXPECT_EQ(vss::test::read_bytes(input_), "image");
}

TEST_F(OverwriteGuard, other_and_new_outputs_pass) {
  std::ofstream(dir_ / "other.png") << "x";
  EXPECT_NO_THROW(vss::refuse_overwriting_inputs({dir_ / "other.png", dir_ / "new.png", dir_ / "in"},
                                                 {input_, dir_ / "missing.png"}, "-"));
  EXPECT_NO_THROW(vss::refuse_overwriting_inputs({}, {input_}, "-"));
}

}  // namespace
