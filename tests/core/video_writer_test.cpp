// Video files appear only when finished (temporary name, then rename), have the container's
// header, and bad frames or paths are one-line errors.
#include "core/error.h"
#include "core/remove_tree.h"
#include "core/video_writer.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;

TEST(VideoWriter, WritesAFinishedFileOrNothing) {
  const fs::path dir = vss::test::make_temp_dir("vss_video");
  if (!vss::video_io_available()) {
    EXPECT_THROW(vss::VideoWriter((dir / "a.mp4").string(), 25), vss::Error);
    vss::remove_tree(dir);
    GTEST_SKIP() << "built without OpenCV videoio";
  }
  {
    vss::VideoWriter w((dir / "a.mp4").string(), 25);
    for (int i = 0; i < 5; ++i) w.write(torch::full({48, 64, 3}, 40 * i, torch::kUInt8));
    EXPECT_FALSE(fs::exists(dir / "a.mp4"));  // not before close()
    EXPECT_THROW(w.write(torch::zeros({32, 64, 3}, torch::kUInt8)), vss::Error);  // another size
    EXPECT_THROW(w.write(torch::zeros({48, 64}, torch::kUInt8)), vss::Error);
    w.close();
  }
  ASSERT_TRUE(fs::exists(dir / "a.mp4"));
  std::ifstream in(dir / "a.mp4", std::ios::binary);
  char head[12] = {};
  in.read(head, sizeof(head));
  EXPECT_EQ(std::string(head + 4, 4), "ftyp");  // an ISO media file
  {
    vss::VideoWriter w((dir / "b.mp4").string(), 25);
    w.write(torch::zeros({16, 16, 3}, torch::kUInt8));
  }  // destroyed without close(): nothing is left
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.path().filename() != "a.mp4";
  EXPECT_EQ(files, 0u);
  EXPECT_THROW(vss::VideoWriter((dir / "c.gif").string(), 25), vss::Error);
  EXPECT_THROW(vss::VideoWriter((dir / "d.mp4").string(), 0), vss::Error);
  vss::remove_tree(dir);
}

}  // namespace
