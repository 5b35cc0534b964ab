#include "engine/motion_task.h"

#include "core/error.h"
#include "datasets/mot_challenge.h"
#include "datasets/synthetic_mot.h"
#include "heads/track/mamba_motion_predictor.h"
#include "heads/track/track_box.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <map>

namespace vss {
namespace {

namespace fs = std::filesystem;

// Windows of one split: q + 2 consecutive true boxes of a track [N, q + 2, 4] (float64, normalised
// cx, cy, w, h): q + 1 boxes whose q differences are the input, and the next box.
struct MotionWindows {
  at::Tensor boxes;
  int64_t size() const { return boxes.defined() ? boxes.size(0) : 0; }
};

// A batch as the tracker sees it: the input boxes jittered as a detector does
// (datasets/synthetic_mot.h's noise model: w, h scaled by 1 + σ·n, the centre moved by σ·w·n,
// σ·h·n), inputs their scaled differences [N, q, 4], the target the difference from the last
// (noisy) input box to the true next box [N, 4]. The predictor so learns to predict through
// detector jitter, which it meets at inference (trained on clean boxes only, it follows the
// noise). σ = 0: the clean differences. Also returns the last input box for the IoU metric.
struct NoisyWindows {
  at::Tensor inputs, targets, last_box;
};
NoisyWindows jitter_windows(const at::Tensor& boxes, double sigma, double scale, uint64_t seed) {
  const int64_t q1 = boxes.size(1) - 1;
  at::Tensor seen = boxes.narrow(1, 0, q1);
  if (sigma > 0) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    const at::Tensor n = at::randn(seen.sizes(), gen, seen.options()) * sigma;
    const at::Tensor wh = seen.narrow(2, 2, 2);
    seen = torch::cat({seen.narrow(2, 0, 2) + n.narrow(2, 0, 2) * wh, wh * (1 + n.narrow(2, 2, 2))}, 2);
  }
  const at::Tensor last = seen.select(1, q1 - 1);
  return {((seen.narrow(1, 1, q1 - 1) - seen.narrow(1, 0, q1 - 1)) * scale).to(at::kFloat),
          ((boxes.select(1, q1) - last) * scale).to(at::kFloat), last.to(at::kFloat)};
}

struct Collector {
  int64_t q;
  std::vector<double> boxes;  // float64: differences of nearby boxes keep their digits

  // Boxes of one gt sequence -> windows of q + 2 consecutive frames of each track.
  void add_sequence(const std::vector<track::Box>& gt, double width, double height) {
    std::map<int64_t, std::vector<const track::Box*>> tracks;
    for (const auto& b : gt)
      if (b.score != 0 && (b.cls == -1 || b.cls == 1) && b.w > 0 && b.h > 0) tracks[b.id].push_back(&b);
    for (auto& [id, track_boxes] : tracks) {
      std::sort(track_boxes.begin(), track_boxes.end(),
                [](const track::Box* a, const track::Box* b) { return a->frame < b->frame; });
      std::vector<std::array<double, 4>> run;
      for (size_t i = 0; i <= track_boxes.size(); ++i) {
        if (i == track_boxes.size() || (i > 0 && track_boxes[i]->frame != track_boxes[i - 1]->frame + 1)) {
          add_run(run);
          run.clear();
          if (i == track_boxes.size()) break;
        }
        const track::Box& b = *track_boxes[i];
        run.push_back(track::to_normalised_cxcywh({b.x, b.y, b.w, b.h}, width, height));
      }
    }
  }

  void add_run(const std::vector<std::array<double, 4>>& run) {
    const size_t window = static_cast<size_t>(q) + 2;
    for (size_t s = 0; s + window <= run.size(); ++s)
      for (size_t t = s; t < s + window; ++t)
        for (int k = 0; k < 4; ++k) boxes.push_back(run[t][k]);
  }

  MotionWindows finish() const {
    const int64_t n = static_cast<int64_t>(boxes.size()) / (4 * (q + 2));
    if (n == 0) return {};
    return {torch::tensor(boxes, torch::kDouble).view({n, q + 2, 4}).clone()};
  }
};

MotionWindows load_split(const Config& data, const std::string& split, int64_t q) {
  const auto type = data.get<std::string>("type");
  const Config node = data[split];
  Collector c{q, {}};
  if (type == "synthetic_mot") {
    data.check_keys({"type", "train", "val", "input_noise"});
    node.check_keys({"sequences", "seed", "frames", "objects", "width", "height"});
    const int64_t count = node.get<int64_t>("sequences");
    if (count < 1) node["sequences"].fail("must be >= 1");
    for (int64_t i = 0; i < count; ++i) {
      track::SyntheticMotOptions o;
      o.seed = track::synthetic_sequence_seed(static_cast<uint64_t>(node.get<int64_t>("seed")), i);
      o.frames = node.get_or<int64_t>("frames", o.frames);
      o.objects = node.get_or<int64_t>("objects", o.objects);
      o.width = node.get_or<int64_t>("width", o.width);
      o.height = node.get_or<int64_t>("height", o.height);
      const auto seq = track::make_synthetic_mot(o);
      c.add_sequence(seq.gt, static_cast<double>(o.width), static_cast<double>(o.height));
    }
  } else if (type == "mot") {
    data.check_keys({"type", "train", "val", "input_noise"});
    node.check_keys({"dir", "seqmap"});
    const fs::path dir = node.get<std::string>("dir");
    if (!fs::is_directory(dir)) node["dir"].fail("no such directory: " + dir.string());
    std::vector<std::string> names;
    if (node.has("seqmap")) {
      names = track::read_seqmap(node.get<std::string>("seqmap"));
    } else {
      for (const auto& e : fs::directory_iterator(dir))
        if (fs::exists(e.path() / "gt" / "gt.txt")) names.push_back(e.path().filename().string());
      std::sort(names.begin(), names.end());
    }
    for (const auto& name : names) {
      const auto seq = track::open_sequence(dir / name);
      if (seq.info.im_width < 1 || seq.info.im_height < 1)
        throw_file_error(seq.seqinfo_path().string(), "needs imWidth and imHeight (boxes are normalised by them)");
      const auto gt = track::read_boxes(seq.gt_path(), track::FileKind::GroundTruth, seq.info.seq_length);
      c.add_sequence(gt.boxes, static_cast<double>(seq.info.im_width), static_cast<double>(seq.info.im_height));
    }
  } else {
    data["type"].fail("unknown motion data '" + type + "' (known: synthetic_mot, mot)");
  }
  MotionWindows w = c.finish();
  if (w.size() == 0) node.fail("no track has " + std::to_string(q + 2) + " consecutive gt boxes: no training windows");
  return w;
}

// IoU of normalised (cx, cy, w, h) boxes, row by row.
at::Tensor iou_cxcywh(const at::Tensor& a, const at::Tensor& b) {
  auto corners = [](const at::Tensor& t) {
    const auto c = t.narrow(1, 0, 2), s = t.narrow(1, 2, 2).clamp_min(0);
    return std::make_pair(c - s / 2, c + s / 2);
  };
  const auto [a0, a1] = corners(a);
  const auto [b0, b1] = corners(b);
  const auto wh = (torch::min(a1, b1) - torch::max(a0, b0)).clamp_min(0);
  const auto inter = wh.select(1, 0) * wh.select(1, 1);
  const auto area = [](const at::Tensor& t) { return t.select(1, 2).clamp_min(0) * t.select(1, 3).clamp_min(0); };
  return inter / (area(a) + area(b) - inter).clamp_min(1e-12);
}

class MotionTask : public Task {
 public:
  MotionTask(const Config& node, const Config& root, c10::Device device)
      : model_(track::mtp_options(root["model"])), device_(device) {
    node.check_keys({"type", "eval_batch_size"});
    eval_batch_size_ = node.get_or<int64_t>("eval_batch_size", 1024);
    if (eval_batch_size_ < 1) node["eval_batch_size"].fail("must be >= 1");
    const auto& o = model_->options();
    train_ = load_split(root["data"], "train", o.history);
    val_ = load_split(root["data"], "val", o.history);
    input_noise_ = root["data"].get_or<double>("input_noise", 0.0);
    if (!(input_noise_ >= 0 && input_noise_ < 1)) root["data"]["input_noise"].fail("must be in [0, 1)");
    // Validation sees noise too (one fixed draw), as the tracker does.
    val_batch_ = jitter_windows(val_.boxes, input_noise_, o.scale, kValSeed);
    model_->to(device_);
  }

  torch::nn::Module& model() override { return *model_; }
  int64_t train_size() const override { return train_.size(); }

  Batch train_batch(const std::vector<int64_t>& indices, uint64_t seed) const override {
    const auto idx = torch::tensor(indices, torch::kInt64);
    const NoisyWindows w = jitter_windows(train_.boxes.index_select(0, idx), input_noise_, model_->options().scale, seed);
    return {w.inputs, w.targets};
  }

  at::Tensor loss(const Batch& batch) override {
    return torch::nn::functional::smooth_l1_loss(model_->forward(batch.inputs), batch.targets);
  }

  double evaluate() override {
    torch::NoGradGuard no_grad;
    const bool was_training = model_->is_training();
    model_->eval();
    const double scale = model_->options().scale;
    double iou_sum = 0;
    for (int64_t start = 0; start < val_.size(); start += eval_batch_size_) {
      const int64_t n = std::min(eval_batch_size_, val_.size() - start);
      const at::Tensor diff = model_->forward(val_batch_.inputs.narrow(0, start, n).to(device_)).cpu() / scale;
      const at::Tensor predicted = val_batch_.last_box.narrow(0, start, n) + diff;
      const at::Tensor next = val_.boxes.narrow(0, start, n).select(1, val_.boxes.size(1) - 1).to(at::kFloat);
      iou_sum += iou_cxcywh(predicted, next).sum().item<double>();
    }
    model_->train(was_training);
    return iou_sum / static_cast<double>(val_.size());
  }

  std::string metric_name() const override { return "val_iou"; }

 private:
  track::MambaMotionPredictor model_;
  c10::Device device_;
  static constexpr uint64_t kValSeed = 0x5eed;
  int64_t eval_batch_size_ = 1024;
  double input_noise_ = 0;
  MotionWindows train_, val_;
  NoisyWindows val_batch_;
};

}  // namespace

std::shared_ptr<Task> make_motion_task(const Config& node, const Config& root, c10::Device device) {
  return std::make_shared<MotionTask>(node, root, device);
}

}  // namespace vss
