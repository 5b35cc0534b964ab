// Rendered generated sequences as detection samples (see rendered_mot_dataset.h).
#include "datasets/rendered_mot_dataset.h"

#include "core/error.h"

#include <ATen/ATen.h>

#include <cstdio>

namespace vss {

RenderedMotDataset::RenderedMotDataset(const RenderedMotOptions& o) : frames_(o.frames) {
  if (o.sequences < 1 || o.frames < 1) throw Error("rendered MOT data: sequences and frames must be >= 1");
  for (int64_t i = 0; i < o.sequences; ++i) {
    track::SyntheticMotOptions s;
    char name[48];
    std::snprintf(name, sizeof(name), "render-%04lld", static_cast<long long>(i + 1));
    s.name = name;
    s.seed = track::synthetic_sequence_seed(o.seed, i);
    s.frames = o.frames;
    s.width = o.width;
    s.height = o.height;
    s.objects = o.objects;
    s.max_speed = 10.0 * static_cast<double>(o.height) / 720;  // the default's speed relative to the image
    sequences_.push_back(track::make_synthetic_mot(s));
    track::RenderOptions r;
    r.seed = s.seed;
    render_.push_back(r);
  }
}

DetSample RenderedMotDataset::sample(int64_t index) const {
  const auto s = static_cast<size_t>(index / frames_);
  const int64_t frame = index % frames_ + 1;
  const auto& seq = sequences_.at(s);
  DetSample out;
  out.image = track::render_frame(seq, frame, render_[s]);
  std::vector<float> boxes;
  for (const auto& b : seq.gt)
    if (b.frame == frame)
      boxes.insert(boxes.end(), {static_cast<float>(b.x), static_cast<float>(b.y), static_cast<float>(b.x + b.w),
                                 static_cast<float>(b.y + b.h)});
  const auto n = static_cast<int64_t>(boxes.size() / 4);
  out.boxes = at::from_blob(boxes.data(), {n, 4}, at::kFloat).clone();
  out.classes = at::zeros({n}, at::kLong);
  out.name = seq.info.name + ":" + std::to_string(frame);
  return out;
}

}  // namespace vss
