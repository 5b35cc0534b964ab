#pragma once
// Change detection data on disk, in the layouts the community uses (conventions.md §3.4):
//   LEVIR-CD / WHU-CD:  ROOT/{train,val,test}/{A,B,label}/<name>.png
//   BIT_CD:             ROOT/{A,B,label}/<name>.png, the split's names in ROOT/list/<split>.txt
// A is the first date, B the second, label 0 (unchanged) / 255 (changed). Files pair by name
// (datasets/file_matching.h): a name without all its partners is skipped and listed, so the
// caller can warn; a BIT list names files with or without their extension.
#include "datasets/change_pair.h"
#include "datasets/file_matching.h"

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace vss::change {

struct ChangeSplit {
  std::string layout;                // "levir" or "bit"
  std::vector<MatchedFiles> pairs;   // paths: A, B, label (label only when asked for)
  std::vector<std::string> skipped;  // names without a partner file, one line each
};

// The LEVIR-CD layout when ROOT/<split>/A exists, else BIT_CD's when ROOT/list/<split>.txt
// does; otherwise an error naming both paths. `labels`: also pair the label folder.
ChangeSplit find_change_split(const std::filesystem::path& root, const std::string& split, bool labels = true);

// The two dates as [3, H, W] uint8 RGB. 16-bit images are scaled to 8 bits (round(v / 257),
// as image_io's RGB mode), alpha is dropped. A grey date beside a colour one: the colour one
// is made grey too (BT.601 luma 0.299 R + 0.587 G + 0.114 B, rounded, as OpenCV's RGB2GRAY),
// so that colour alone never looks like change, and both are repeated to 3 channels;
// *grey_mix is set then (callers warn). Different sizes are an error naming both files.
std::pair<at::Tensor, at::Tensor> read_dates(const std::string& a, const std::string& b, bool* grey_mix = nullptr);

// A LEVIR-CD mask (one channel, or several equal ones; alpha ignored) -> [H, W] uint8 0/1.
// Any value other than 0 and 255 is an error naming the file, the value and where it is.
at::Tensor read_change_mask(const std::string& path);

// files.paths = {A, B} or {A, B, label}: read_dates + read_change_mask, sizes checked.
ChangePair read_change_pair(const MatchedFiles& files, bool* grey_mix = nullptr);

// SPLIT_DIR/{A,B,label}/<name>.png (label written 0/255), each file atomically.
void write_change_pair(const std::filesystem::path& split_dir, const std::string& name, const ChangePair& pair);

// [H, W] 0/1 -> [H, W, 1] uint8 0/255, as LEVIR-CD stores masks (other values are an error).
at::Tensor mask_to_png(const at::Tensor& mask);

}  // namespace vss::change
