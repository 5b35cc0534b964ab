#include "core/atomic_file.h"
#include "core/error.h"
#include "core/remove_tree.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class AtomicFileTest : public testing::Test {
 protected:
  void SetUp() override { dir_ = vss::test::make_temp_dir("vss-atomic-test"); }
  void TearDown() override { vss::remove_tree(dir_); }
  fs::path dir_;
};

}  // namespace

TEST_F(AtomicFileTest, writes_and_replaces_leaving_no_temporary) {
  const fs::path p = dir_ / "out.bin";
  const std::string binary("a\0b\xff", 4);
  vss::write_file_atomically(p, binary);
  EXPECT_EQ(vss::test::read_bytes(p), binary);
  vss::write_file_atomically(p, "second");
  EXPECT_EQ(vss::test::read_bytes(p), "second");
  EXPECT_EQ(entries(dir_), (std::vector<std::string>{"out.bin"}));
}

TEST_F(AtomicFileTest, stream_and_write_mix_and_nothing_appears_before_commit) {
  const fs::path p = dir_ / "log.txt";
  vss::write_file_atomically(p, "old");
  {
    vss::AtomicFile out(p);
    EXPECT_EQ(out.temp_path().parent_path(), p.parent_path());
    out.write("ab", 2);
    out.stream() << "cd" << 42;
    EXPECT_EQ(vss::test::read_bytes(p), "old");  // the target is untouched until commit
    EXPECT_TRUE(fs::exists(out.temp_path()));
    out.commit();
    EXPECT_FALSE(fs::exists(out.temp_path()));
    EXPECT_THROW(out.commit(), vss::Error);
    EXPECT_THROW(out.write("x", 1), vss::Error);
  }
  EXPECT_EQ(vss::test::read_bytes(p), "abcd42");
}

TEST_F(AtomicFileTest, abandoned_write_removes_temporary_and_keeps_old_file) {
  const fs::path p = dir_ / "keep.txt";
  vss::write_file_atomically(p, "old");
  fs::path temp;
  {
    vss::AtomicFile out(p);
    temp = out.temp_path();
    out.write("partial", 7);
  }  // e.g. an exception unwound past it
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_EQ(vss::test::read_bytes(p), "old");
  EXPECT_EQ(entries(dir_), (std::vector<std::string>{"keep.txt"}));
}

TEST_F(AtomicFileTest, failures_name_the_target_and_clean_up) {
  const fs::path missing = dir_ / "no_such_dir" / "x.bin";
  try {
    vss::write_file_atomically(missing, "x");
    FAIL() << "no throw";
  } catch (const vss::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(missing.string() + ": cannot create temporary file", 0), 0u) << e.what();
  }
  // A non-empty directory at the target makes the rename fail.
  const fs::path blocked = dir_ / "blocked";
  fs::create_directory(blocked);
  std::ofstream(blocked / "inside") << "x";
  try {
    vss::write_file_atomically(blocked, "data");
    FAIL() << "no throw";
  } catch (const vss::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(blocked.string() + ": cannot rename", 0), 0u) << e.what();
  }
  EXPECT_EQ(entries(dir_), (std::vector<std::string>{"blocked"}));  // no temporary left behind
}

TEST_F(AtomicFileTest, a_full_disk_names_the_file_and_the_reason) {
  if (!fs::is_character_file("/dev/full")) GTEST_SKIP() << "no /dev/full";
  // A device is written in place (nothing to rename onto); /dev/full fails every write with ENOSPC.
  const std::string what = vss::test::error_of([] { vss::write_file_atomically("/dev/full", std::string(100000, 'x')); });
  EXPECT_EQ(what, "/dev/full: write failed: No space left on device");
  EXPECT_TRUE(fs::is_character_file("/dev/full"));
  vss::write_file_atomically("/dev/null", "fine");  // a device that takes everything
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
}

TEST_F(AtomicFileTest, check_creatable_probes_without_leaving_anything) {
  vss::check_creatable(dir_ / "out.bin");
  vss::check_creatable(dir_ / "not" / "yet" / "made.mp4");  // folders to be made count
  EXPECT_TRUE(entries(dir_).empty());
  std::ofstream(dir_ / "file") << "x";
  const std::string what = vss::test::error_of([&] { vss::check_creatable(dir_ / "file" / "x.mp4"); });
  EXPECT_EQ(what, (dir_ / "file" / "x.mp4").string() + ": " + (dir_ / "file").string() + " is not a folder");
  EXPECT_EQ(entries(dir_), (std::vector<std::string>{"file"}));
}
