#pragma once
// MOTChallenge-style text files and sequence folders (MOT15/16/17/20, DanceTrack, SportsMOT):
// seqinfo.ini, det/det.txt, gt/gt.txt, tracker results and seqmaps (conventions.md §1.1-1.2).
// Readers reject what TrackEval rejects (non-integer or out-of-range frames, duplicate ids in
// a frame of gt/results) with a one-line vss::Error "<file>:<line>: ...".
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace vss::track {

struct SeqInfo {
  std::string name;
  std::string im_dir = "img1";
  std::string im_ext = ".jpg";
  double frame_rate = 0;
  int64_t seq_length = 0;  // frames are 1 .. seq_length
  int64_t im_width = 0, im_height = 0;
};

// Reads the [Sequence] section; seqLength is required, the other keys keep their defaults.
SeqInfo read_seqinfo(const std::filesystem::path& ini);

// One line of a det / gt / results file. `score` is column 6: the detector or tracker
// confidence, or for gt the consider flag (0 = ignore, TrackEval's zero_marked).
struct Box {
  int64_t frame = 0, id = -1;
  double x = 0, y = 0, w = 0, h = 0;
  double score = 1;
  int cls = -1;             // gt column 7 of 9-column files; -1 when the file has no class
  double visibility = -1;   // gt column 8 of 9-column files
};

enum class FileKind { Detections, GroundTruth, Results };

struct BoxFile {
  std::vector<Box> boxes;  // in file order
  bool has_class = false;  // 9-column gt (MOT16/17/20, DanceTrack, SportsMOT); MOT15 gt has none
};

// `seq_length` > 0 bounds the frames (an error names the line beyond it). Comma-separated
// values with optional spaces, or whitespace-separated; empty lines are skipped, an empty
// file gives no boxes. Duplicate (frame, id) pairs are errors for gt and results.
BoxFile read_boxes(const std::filesystem::path& file, FileKind kind, int64_t seq_length = 0);

// Writes `{frame},{id},{x},{y},{w},{h},{score},-1,-1,-1` per box as ByteTrack's writer does
// (Python's round(x, 1) for boxes, round(s, 2) for the score: "12.3", "0.88", "1.0"), sorted
// by frame then id, through an AtomicFile. Error (and no file) for a duplicate id in a frame.
void write_results(const std::filesystem::path& file, const std::vector<Box>& boxes);

// A seqmap: first line "name" (header), then one sequence name per line.
std::vector<std::string> read_seqmap(const std::filesystem::path& file);

// One sequence folder: <dir>/{seqinfo.ini, det/det.txt, gt/gt.txt, <imDir>/<frame><imExt>}.
struct Sequence {
  std::filesystem::path dir;
  SeqInfo info;
  int image_digits = 6;
  std::filesystem::path seqinfo_path() const { return dir / "seqinfo.ini"; }
  std::filesystem::path det_path() const { return dir / "det" / "det.txt"; }
  std::filesystem::path gt_path() const { return dir / "gt" / "gt.txt"; }
  // <imDir>/<frame zero-padded to image_digits><imExt>.
  std::filesystem::path image_path(int64_t frame) const;
  // The images of frames 1 .. seqLength; an error naming the first missing one, or seqinfo.ini
  // when seqLength is 0.
  std::vector<std::filesystem::path> frame_paths() const;
};

// Error if seqinfo.ini is missing. Image names have 6 digits (MOT17, SportsMOT) unless
// frame 1 exists with 8 digits (DanceTrack).
Sequence open_sequence(const std::filesystem::path& dir);

}  // namespace vss::track
