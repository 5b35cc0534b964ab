#pragma once
// The images of a restoration split, paired as the community's layouts pair them
// (specs/conventions.md §2.2):
//   BasicSR  gt: DIV2K_train_HR, lq: DIV2K_train_LR_bicubic/X4, filename_tmpl: '{}x4'
//            (the LQ name is filename_tmpl with the GT stem, as paired_paths_from_folder;
//            Set5/GTmod12 + Set5/LRbicx4 keep the names: the default '{}')
//   SwinIR   gt: testsets/Set5/HR, lq: testsets/Set5/LR_bicubic/X4, filename_tmpl: '{}x4'
//   GT only  no lq: the pair's input is made from the GT (bicubic, noise, JPEG; see
//            datasets/degradations.h), by the reader for bicubic and by the caller otherwise.
// Folders are directories on disk, or folders inside an image bank (datasets/image_bank.h).
// The GT is cropped to a multiple of the scale (BasicSR's GTmod; SwinIR's h_lr·scale) and
// must then be exactly scale x the LQ.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vss {

class ImageBank;

struct PairedImagesOptions {
  std::string gt;                   // folder of GT images (required)
  std::string lq;                   // folder of degraded inputs; empty: none on disk
  std::string filename_tmpl = "{}"; // LQ stem from the GT stem ('{}' is replaced)
  std::shared_ptr<const ImageBank> bank;  // folders are inside it when set
  int64_t scale = 1;                // SR scale (1 for denoising / JPEG)
  bool bicubic_lq = false;          // no lq folder: make LQ = MATLAB bicubic of GTmod
};

struct ImagePair {
  std::string name;    // GT stem
  std::string source;  // where the GT came from (errors, tables)
  at::Tensor gt;       // [H, W, C] uint8 / uint16, GTmod
  at::Tensor lq;       // [H/scale, W/scale, C]; undefined when the caller degrades the GT
};

// Reads every GT image of the folder (sorted by name) and its LQ partner. Errors name the
// file at fault: an empty folder, a missing LQ partner, an unreadable image, an LQ whose
// size times the scale is not the GTmod size.
std::vector<ImagePair> read_paired_images(const PairedImagesOptions& options);

// "{}x4" with "baby" -> "babyx4" (every "{}" is replaced).
std::string apply_filename_tmpl(const std::string& tmpl, const std::string& stem);

}  // namespace vss
