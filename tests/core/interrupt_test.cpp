// Ctrl-C in an app (core/interrupt.h), in a forked child so the handlers stay out of the test
// process: one line on stderr naming the program and the signal, exit code 128 + signal, the
// registered temporary files removed; a signal during an InterruptDeferral takes effect when
// the last one ends, after the files it guards are all written.
#include "core/interrupt.h"
#include "core/remove_tree.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

class Interrupt : public testing::Test {
 protected:
  void SetUp() override { dir_ = vss::test::make_temp_dir("vss-interrupt"); }
  void TearDown() override { vss::remove_tree(dir_); }

  // Runs `body` in a child with the handlers installed and stderr in dir/stderr.txt; its exit code.
  int in_child(const std::function<void()>& body) {
    const std::string log = (dir_ / "stderr.txt").string();
    const pid_t pid = fork();
    if (pid == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0 || dup2(fd, 2) < 0) _exit(126);
      vss::exit_on_interrupt("vss-test");
      body();
      _exit(0);
    }
    return vss::test::wait_app(pid);
  }
  std::string stderr_text() const { return vss::test::read_bytes(dir_ / "stderr.txt"); }
  fs::path dir_;
};

TEST_F(Interrupt, says_one_line_removes_temporaries_and_exits_with_128_plus_the_signal) {
  const fs::path temp = dir_ / "out.png.tmp";
  EXPECT_EQ(in_child([&] {
              std::ofstream(temp) << "half";
              vss::TempFileRegistration registered(temp);
              std::raise(SIGINT);
              std::ofstream(dir_ / "after") << "not reached";
            }),
            128 + SIGINT);
  EXPECT_EQ(stderr_text(), "vss-test: interrupted (SIGINT); the files written so far are complete, unfinished ones removed\n");
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_FALSE(fs::exists(dir_ / "after"));
  EXPECT_EQ(in_child([] { std::raise(SIGTERM); }), 128 + SIGTERM);
  EXPECT_NE(stderr_text().find("vss-test: terminated (SIGTERM)"), std::string::npos) << stderr_text();
}

TEST_F(Interrupt, a_deferral_finishes_its_files_first) {
  EXPECT_EQ(in_child([&] {
              {
                vss::InterruptDeferral pair;
                std::ofstream(dir_ / "image") << "1";
                {
                  vss::InterruptDeferral nested;
                  std::raise(SIGINT);
                }
                std::ofstream(dir_ / "mask") << "2";  // the outer deferral still holds the signal
              }
              std::ofstream(dir_ / "next") << "not reached";
            }),
            128 + SIGINT);
  EXPECT_TRUE(fs::exists(dir_ / "image"));
  EXPECT_TRUE(fs::exists(dir_ / "mask"));
  EXPECT_FALSE(fs::exists(dir_ / "next"));
  const std::string text = stderr_text();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
}

}  // namespace
