// vss-track from the command line: a generated sequence tracked with both motion models gives a
// valid results file (frames within seqLength, no id twice in a frame, ByteTrack's 10 columns)
// whose scores `eval` reproduces, and every kind of bad detection file is a one-line error
// naming file and line, with exit code 1 and no results file.
#include "core/remove_tree.h"
#include "core/video_writer.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using vss::test::run_app_command;

class TrackApp : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = vss::test::make_temp_dir("vss_track_app");
    std::string out;
    ASSERT_EQ(run_app_command("vss-track", {"make-data", "--out", (root_ / "data").string(), "--sequences", "1",
                                            "--frames", "60", "--objects", "6", "--seed", "7"},
                              &out),
              0)
        << out;
    seq_ = root_ / "data" / "synth-0001";
  }
  void TearDown() override { vss::remove_tree(root_); }

  // A copy of the sequence with `line` appended to det/det.txt.
  fs::path with_det_line(const std::string& name, const std::string& line) {
    const fs::path dir = root_ / name;
    fs::copy(seq_, dir, fs::copy_options::recursive);
    std::ofstream(dir / "det" / "det.txt", std::ios::app) << line << "\n";
    return dir;
  }

  fs::path root_, seq_;
};

TEST_F(TrackApp, ResultsAreValidAndEvalAgrees) {
  for (const std::string motion : {"kalman", "mtp"}) {
    const fs::path out = root_ / ("res-" + motion);
    std::vector<std::string> args = {"--seq", seq_.string(), "--out", out.string(), "--gt", "auto", "--json",
                                     "--motion", motion, "--video", (out / "vis").string()};
    if (motion == "mtp")
      args.insert(args.end(), {"--weights", (vss::test::source_dir() / "weights/mtp_synth.safetensors").string()});
    std::string text;
    ASSERT_EQ(run_app_command("vss-track", args, &text), 0) << text;
    const auto report = nlohmann::json::parse(text.substr(text.find('{')));
    EXPECT_EQ(report["motion"], motion);
    const double hota = report["combined"]["HOTA"];
    EXPECT_GT(hota, 0.5) << motion;  // a working tracker on clean synthetic detections
    EXPECT_LE(hota, 1.0);

    std::ifstream in(out / "synth-0001.txt");
    ASSERT_TRUE(in) << "no results file";
    std::set<std::pair<long, long>> frame_ids;
    std::string line;
    int lines = 0;
    while (std::getline(in, line)) {
      ++lines;
      std::vector<std::string> cols;
      std::stringstream ss(line);
      for (std::string c; std::getline(ss, c, ',');) cols.push_back(c);
      ASSERT_EQ(cols.size(), 10u) << line;
      const long frame = std::stol(cols[0]), id = std::stol(cols[1]);
      EXPECT_GE(frame, 1) << line;
      EXPECT_LE(frame, 60) << line;
      EXPECT_GE(id, 1) << line;
      EXPECT_TRUE(frame_ids.insert({frame, id}).second) << "id twice in a frame: " << line;
      EXPECT_GT(std::stod(cols[4]), 0) << line;
      EXPECT_GT(std::stod(cols[5]), 0) << line;
      EXPECT_EQ(cols[7] + cols[8] + cols[9], "-1-1-1") << line;
    }
    EXPECT_GT(lines, 100);
    if (vss::video_io_available()) {
      EXPECT_GT(fs::file_size(out / "vis" / "synth-0001.mp4"), 10000u);
    }

    // Scoring the written file separately gives the same numbers.
    std::string eval;
    ASSERT_EQ(run_app_command("vss-track", {"eval", "--gt", (seq_ / "gt" / "gt.txt").string(), "--res",
                                            (out / "synth-0001.txt").string(), "--json"},
                              &eval),
              0)
        << eval;
    const auto scored = nlohmann::json::parse(eval.substr(eval.find('{')));
    EXPECT_DOUBLE_EQ(scored["combined"]["HOTA"].get<double>(), hota);
    EXPECT_DOUBLE_EQ(scored["combined"]["MOTA"].get<double>(), report["combined"]["MOTA"].get<double>());
  }
}

TEST_F(TrackApp, BadDetectionsAreOneLineErrorsNamingFileAndLine) {
  const struct {
    std::string name, line, needle;
  } cases[] = {
      {"malformed", "3,-1,1,2,abc,4,0.9,-1,-1,-1", "expected a number"},
      {"beyond", "999,-1,1,2,30,40,0.9,-1,-1,-1", "beyond seqLength"},
      {"frame0", "0,-1,1,2,30,40,0.9,-1,-1,-1", "frames start at 1"},
      {"negative", "3,-1,1,2,-30,40,0.9,-1,-1,-1", "negative width"},
      {"zero", "3,-1,1,2,0,40,0.9,-1,-1,-1", "zero-size"},
      {"nan", "3,-1,1,2,30,40,nan,-1,-1,-1", "not finite"},
      {"short", "3,-1,1,2", "column"},
  };
  for (const auto& c : cases) {
    const fs::path dir = with_det_line(c.name, c.line);
    const fs::path out = root_ / ("out-" + c.name);
    std::string text;
    EXPECT_EQ(run_app_command("vss-track", {"--seq", dir.string(), "--out", out.string()}, &text), 1) << c.name;
    EXPECT_NE(text.find("det.txt:"), std::string::npos) << c.name << ": " << text;
    EXPECT_NE(text.find(c.needle), std::string::npos) << c.name << ": " << text;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << c.name << ": " << text;
    EXPECT_FALSE(fs::exists(out / (c.name + ".txt"))) << c.name << ": a results file was written";
  }
}

TEST_F(TrackApp, MissingSeqinfoAndUsageErrors) {
  const fs::path dir = root_ / "noinfo";
  fs::copy(seq_, dir, fs::copy_options::recursive);
  fs::remove(dir / "seqinfo.ini");
  std::string text;
  EXPECT_EQ(run_app_command("vss-track", {"--seq", dir.string(), "--out", (root_ / "o").string()}, &text), 1);
  EXPECT_NE(text.find("seqinfo.ini"), std::string::npos) << text;
  EXPECT_EQ(run_app_command("vss-track", {"--seq", seq_.string(), "--out", (root_ / "o").string(), "--motion", "lstm"},
                            &text),
            2)
      << text;
  EXPECT_EQ(run_app_command("vss-track", {"--seq", seq_.string(), "--out", (root_ / "o").string(), "--motion", "mtp"},
                            &text),
            2)
      << text;  // mtp without weights
  EXPECT_NE(text.find("--weights"), std::string::npos) << text;
  // An empty detection file is a valid (empty) input, not an error.
  const fs::path empty = root_ / "empty";
  fs::copy(seq_, empty, fs::copy_options::recursive);
  std::ofstream(empty / "det" / "det.txt", std::ios::trunc).flush();
  EXPECT_EQ(run_app_command("vss-track", {"--seq", empty.string(), "--out", (root_ / "e").string()}, &text), 0) << text;
  EXPECT_TRUE(fs::exists(root_ / "e" / "empty.txt"));
}

// A gt folder whose sequence lacks seqinfo.ini is refused as TrackEval refuses it (its length
// bounds the frames), naming the file.
TEST_F(TrackApp, EvalRefusesAGtSequenceWithoutSeqinfo) {
  const fs::path gt = root_ / "gt", res = root_ / "res";
  fs::create_directories(gt);
  fs::create_directories(res);
  fs::copy(seq_, gt / "synth-0001", fs::copy_options::recursive);
  fs::copy_file(seq_ / "gt" / "gt.txt", res / "synth-0001.txt");  // a perfect tracker
  std::string text;
  ASSERT_EQ(run_app_command("vss-track", {"eval", "--gt", gt.string(), "--res", res.string()}, &text), 0) << text;
  fs::remove(gt / "synth-0001" / "seqinfo.ini");
  EXPECT_EQ(run_app_command("vss-track", {"eval", "--gt", gt.string(), "--res", res.string()}, &text), 1) << text;
  EXPECT_EQ(text, "vss-track: " + (gt / "synth-0001" / "seqinfo.ini").string() +
                      ": missing seqinfo.ini of sequence synth-0001\n");
}

// Failures found before anything is made: no output folder is left behind.
TEST_F(TrackApp, BadRunsLeaveNoOutputFolder) {
  const std::string det = (seq_ / "det" / "det.txt").string(), mtp = (vss::test::source_dir() / "weights/mtp_synth.safetensors").string();
  const fs::path out = root_ / "o";
  std::string text;
  // A bare det file gives the MTP no image size: say which option gives it.
  EXPECT_EQ(run_app_command("vss-track", {"--det", det, "--motion", "mtp", "--weights", mtp, "--out", out.string()}, &text), 1);
  EXPECT_EQ(text, "vss-track: " + det + ": --motion mtp needs the image size, which a det file alone lacks: pass "
                                        "--image-size WxH\n");
  EXPECT_FALSE(fs::exists(out));
  ASSERT_EQ(run_app_command("vss-track", {"--det", det, "--motion", "mtp", "--weights", mtp, "--image-size", "640x480",
                                          "--out", out.string()},
                            &text),
            0)
      << text;
  vss::remove_tree(out);
  // A video where no file can be made: one line of ours, none of OpenCV's or GStreamer's.
  std::ofstream(root_ / "a_file") << "x";
  const std::string video = (root_ / "a_file" / "v.mp4").string();
  EXPECT_EQ(run_app_command("vss-track", {"--seq", seq_.string(), "--out", out.string(), "--video", video}, &text), 1);
  EXPECT_EQ(text, "vss-track: " + video + ": " + (root_ / "a_file").string() + " is not a folder\n");
  EXPECT_FALSE(fs::exists(out));
  // Results over the detections they come from (a det file named like its sequence's results).
  EXPECT_EQ(run_app_command("vss-track", {"--det", det, "--out", (seq_ / "det").string()}, &text), 1);
  EXPECT_NE(text.find("det.txt: would overwrite the input " + det), std::string::npos) << text;
  EXPECT_GT(fs::file_size(det), 100u);
}

}  // namespace
