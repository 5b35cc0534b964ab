#include "core/remove_tree.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <fstream>

namespace fs = std::filesystem;

TEST(remove_tree, removes_nested_dirs_without_following_symlinks) {
  const fs::path outside = vss::test::make_temp_dir("vss-rt-outside");
  std::ofstream(outside / "keep.txt") << "keep";
  const fs::path dir = vss::test::make_temp_dir("vss-rt");
  fs::create_directories(dir / "a" / "b" / "c");
  std::ofstream(dir / "a" / "b" / "c" / "f.bin") << "x";
  std::ofstream(dir / "top.txt") << "y";
  fs::create_directory_symlink(outside, dir / "a" / "link");
  vss::remove_tree(dir);
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_TRUE(fs::exists(outside / "keep.txt"));  // the link was removed, not followed
  vss::remove_tree(dir);                          // already gone: fine
  vss::remove_tree(outside);
  EXPECT_FALSE(fs::exists(outside));
}
