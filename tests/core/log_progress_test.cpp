#include "core/log.h"
#include "core/progress.h"

#include <gtest/gtest.h>

#include <cstdio>

using vss::Progress;

namespace {

// Restores the process-wide log settings after each test.
class LogTest : public testing::Test {
 protected:
  void TearDown() override {
    vss::log::set_program("");
    vss::log::set_level(vss::log::Level::Info);
  }
};

std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_F(LogTest, levels_prefix_and_quiet) {
  testing::internal::CaptureStderr();
  vss::log::info("plain ", 1);
  vss::log::set_program("vss-x");
  vss::log::info("loaded ", 3, " tensors");
  vss::log::warn("no GPU");
  vss::log::error("bad ", 2.5);
  vss::log::debug("hidden");
  vss::log::set_quiet(true);
  EXPECT_TRUE(vss::log::quiet());
  vss::log::info("hidden");
  vss::log::warn("hidden");
  vss::log::error("still shown");
  vss::log::set_level(vss::log::Level::Debug);
  vss::log::debug("details");
  vss::log::set_level(vss::log::Level::Off);
  vss::log::error("hidden");
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "plain 1\nvss-x: loaded 3 tensors\nvss-x: warning: no GPU\nvss-x: error: bad 2.5\n"
            "vss-x: error: still shown\nvss-x: debug: details\n");
}

TEST(progress, render_lines) {
  // 47 of 100 after 15 s: 3.13 it/s, 53 left -> 16.9 s.
  EXPECT_EQ(Progress::render("seg", 47, 100, 15.0, "it", 20), "seg [=========>          ] 47/100  3.1 it/s  ETA 0:17");
  EXPECT_EQ(Progress::render("t", 0, 10, 0.0, "it", 4), "t [    ] 0/10");
  EXPECT_EQ(Progress::render("", 1, 10, 4.0, "epoch", 10), "[=>        ] 1/10  4.0 s/epoch  ETA 0:36");
  EXPECT_EQ(Progress::render("t", 10, 10, 65.0, "it", 4), "t [====] 10/10  6.5 s/it  1:05");
  EXPECT_EQ(Progress::render("x", 5, 0, 2.0, "img", 10), "x 5  2.5 img/s");  // unknown total
  EXPECT_EQ(Progress::render("f", 500, 1000, 2.0, "it", 2), "f [=>] 500/1000  250 it/s  ETA 0:02");
  EXPECT_EQ(Progress::format_duration(3723), "1:02:03");
  EXPECT_EQ(Progress::format_duration(59.6), "1:00");
  EXPECT_EQ(Progress::format_duration(7), "0:07");
}

TEST_F(LogTest, progress_is_silent_off_a_terminal_or_when_quiet) {
  testing::internal::CaptureStderr();  // stderr is a file now, not a terminal
  {
    Progress bar(3, "work");
    EXPECT_FALSE(bar.enabled());
    bar.advance();
    bar.update(3);
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");

  std::FILE* f = std::tmpfile();
  vss::log::set_quiet(true);
  {
    Progress::Options opt;
    opt.stream = f;
    opt.tty = 1;
    Progress bar(3, "work", opt);
    EXPECT_FALSE(bar.enabled());
    bar.advance(3);
  }
  EXPECT_EQ(contents(f), "");
  std::fclose(f);
}

TEST_F(LogTest, progress_redraws_in_place_on_a_terminal) {
  std::FILE* f = std::tmpfile();
  {
    Progress::Options opt;
    opt.stream = f;
    opt.tty = 1;
    opt.min_interval_s = 1000;  // only forced draws: start, completion, finish
    opt.width = 10;
    opt.unit = "img";
    Progress bar(10, "seg", opt);
    EXPECT_TRUE(bar.enabled());
    for (int i = 0; i < 10; ++i) bar.advance();
    EXPECT_EQ(bar.done(), 10);
  }  // the destructor finishes
  const std::string out = contents(f);
  std::fclose(f);
  EXPECT_EQ(count(out, "\r\033[K"), 3u) << out;
  EXPECT_EQ(out.rfind("\r\033[Kseg [          ] 0/10", 0), 0u) << out;
  EXPECT_NE(out.find("seg [==========] 10/10"), std::string::npos) << out;
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(count(out, "\n"), 1u);
}

TEST_F(LogTest, log_lines_clear_and_restore_the_bar) {
  testing::internal::CaptureStderr();
  {
    Progress::Options opt;
    opt.tty = 1;  // on stderr, as apps use it
    opt.width = 4;
    Progress bar(2, "p", opt);
    vss::log::info("hello");
    bar.update(2);
    bar.finish();
    vss::log::info("after");
  }
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out.rfind("\r\033[Kp [    ] 0/2\r\033[Khello\np [    ] 0/2\r\033[Kp [====] 2/2", 0), 0u) << out;
  // After finish the bar stays on its own line and later lines are plain.
  EXPECT_NE(out.find("\nafter\n"), std::string::npos) << out;
}
