#pragma once
// Semantic change detection data on disk, the two SECOND layouts (specs/scd.md §4):
//   original release:  SPLIT/{im1,im2,label1,label2}/<name>.png, labels RGB colour maps in
//                      Bi-SRNet's table (second_palette);
//   ChangeMamba's:     SPLIT/{T1,T2,GT_CD,GT_T1,GT_T2}/<name>.png, GT_T1 / GT_T2 one-channel
//                      class indices, GT_CD 0/255 (255·(GT_T1 ≠ 0) when the folder is absent).
// Files pair by name (datasets/file_matching.h); a name without all its partners is skipped
// and listed. A list file (ChangeMamba's train_list.txt: one name a line, with or without
// extension) picks and orders the split's pairs.
#include "datasets/file_matching.h"
#include "datasets/semantic_change_pair.h"

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace vss::change {

// Bi-SRNet's colours of SECOND's classes: 0 no change (255,255,255), 1 water (0,0,255),
// 2 ground (128,128,128), 3 low vegetation (0,128,0), 4 tree (0,255,0), 5 building
// (128,0,0), 6 playground (255,0,0).
const std::array<std::array<uint8_t, 3>, kSecondClasses>& second_palette();

// The label folders of one split or prediction root: label1/ and label2/ (original layout
// and vss-change's output) or GT_T1/ and GT_T2/ (+ GT_CD/ when present). Neither pair: an
// error naming the folder and both layouts.
struct SemanticLabelFolders {
  std::string layout;          // "second" or "changemamba"
  std::filesystem::path label1, label2;
  std::filesystem::path change;  // empty when the layout has none
};
SemanticLabelFolders semantic_label_folders(const std::filesystem::path& dir);

struct SemanticChangeSplit {
  std::string layout;
  std::vector<MatchedFiles> pairs;   // paths: date 1, date 2, label1, label2 [, change]
  std::vector<std::string> skipped;  // names without a partner file, one line each
};
// SPLIT_DIR in either layout; `list` (may be empty) restricts and orders the names.
SemanticChangeSplit find_semantic_change_split(const std::filesystem::path& split_dir,
                                               const std::filesystem::path& list = {});

// A land-cover map -> [H, W] uint8 indices. One channel: indices, a value >= `classes` is an
// error naming the file, the value and its row / column. Three channels: colours of
// second_palette (with `classes` = 7), a colour not in it is an error naming the file, the
// pixel and the colour. Alpha is dropped.
at::Tensor read_semantic_label(const std::string& path, int64_t classes = kSecondClasses);

// files.paths as find_semantic_change_split gives them; sizes checked (error naming both files).
SemanticChangePair read_semantic_change_pair(const MatchedFiles& files, int64_t classes = kSecondClasses);

// [H, W] indices 0..6 -> [H, W, 3] uint8 colours of second_palette (other values: an error).
at::Tensor colour_semantic_label(const at::Tensor& indices);

// SPLIT_DIR/{im1,im2,label1,label2} (layout "second", colour labels) or
// SPLIT_DIR/{T1,T2,GT_CD,GT_T1,GT_T2} ("changemamba"), each file atomically, all or none.
void write_semantic_change_pair(const std::filesystem::path& split_dir, const std::string& name,
                                const SemanticChangePair& pair, const std::string& layout);

}  // namespace vss::change
