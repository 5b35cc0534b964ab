// MOTChallenge frames as detection samples (see mot_frame_dataset.h).
#include "datasets/mot_frame_dataset.h"

#include "core/error.h"
#include "core/image_io.h"

#include <ATen/ATen.h>

#include <array>
#include <map>

namespace vss {

bool is_detection_target(const track::Box& b, bool has_class, double min_visibility) {
  if (b.score == 0) return false;                 // consider flag 0: ignore
  if (has_class && b.cls != 1) return false;      // pedestrians only (distractors, vehicles, ... out)
  if (has_class && min_visibility > 0 && b.visibility < min_visibility) return false;
  return b.w > 0 && b.h > 0;
}

MotFrameDataset::MotFrameDataset(const std::vector<std::filesystem::path>& dirs, MotFrameOptions o) {
  if (o.frame_step < 1) throw Error("frame_step must be >= 1");
  for (const auto& dir : dirs) {
    const track::Sequence seq = track::open_sequence(dir);
    if (!std::filesystem::exists(seq.gt_path())) throw_file_error(seq.gt_path().string(), "missing gt of sequence");
    const track::BoxFile gt = track::read_boxes(seq.gt_path(), track::FileKind::GroundTruth, seq.info.seq_length);
    std::map<int64_t, std::vector<std::array<float, 4>>> by_frame;
    for (const auto& b : gt.boxes)
      if (is_detection_target(b, gt.has_class, o.min_visibility))
        by_frame[b.frame].push_back({static_cast<float>(b.x), static_cast<float>(b.y), static_cast<float>(b.x + b.w),
                                     static_cast<float>(b.y + b.h)});
    for (int64_t f = 1; f <= seq.info.seq_length; f += o.frame_step) {
      const auto image = seq.image_path(f);
      if (!std::filesystem::exists(image))
        throw_file_error(image.string(), "missing frame " + std::to_string(f) + " of sequence " + seq.info.name +
                                             " (seqLength " + std::to_string(seq.info.seq_length) + ")");
      const auto it = by_frame.find(f);
      frames_.push_back({image, it == by_frame.end() ? std::vector<std::array<float, 4>>{} : it->second,
                         seq.info.name + ":" + std::to_string(f)});
    }
  }
  if (frames_.empty()) throw Error("no frames in the given sequences");
}

DetSample MotFrameDataset::sample(int64_t index) const {
  const Frame& f = frames_.at(static_cast<size_t>(index));
  DetSample s;
  s.image = read_image(f.image.string(), ImageMode::kRgb);
  s.boxes = at::empty({static_cast<int64_t>(f.boxes.size()), 4}, at::kFloat);
  for (size_t i = 0; i < f.boxes.size(); ++i)
    for (int k = 0; k < 4; ++k) s.boxes[static_cast<int64_t>(i)][k] = f.boxes[i][static_cast<size_t>(k)];
  s.classes = at::zeros({static_cast<int64_t>(f.boxes.size())}, at::kLong);
  s.name = f.name;
  return s;
}

}  // namespace vss
