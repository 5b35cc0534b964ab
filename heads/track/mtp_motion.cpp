#include "heads/track/mtp_motion.h"

#include "core/error.h"
#include "heads/track/mamba_motion_predictor.h"
#include "heads/track/mtp_cpu_engine.h"

#include <torch/torch.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <string>

namespace vss::track {
namespace {

using Box4 = std::array<double, 4>;

class MtpState : public MotionState {
 public:
  MtpState(const Box4& first, double w, double h) : width_(w), height_(h) { history.push_back(first); }
  Tlwh box() const override { return from_normalised_cxcywh(pending ? *pending : history.back(), width_, height_); }

  std::deque<Box4> history;      // oldest first, at most history + 1 boxes
  std::optional<Box4> pending;   // this frame's prediction until a detection replaces it

 private:
  double width_, height_;
};

class MtpMotion : public MotionModel {
 public:
  MtpMotion(std::shared_ptr<MambaMotionPredictorImpl> model, double width, double height, c10::Device device)
      : model_(std::move(model)), width_(width), height_(height), device_(device) {
    if (!(width_ > 0) || !(height_ > 0))
      throw Error("MTP motion model: image size must be positive (seqinfo.ini imWidth/imHeight), got " +
                  std::to_string(width_) + "x" + std::to_string(height_));
    model_->to(device_);
    model_->eval();
    if (device_.is_cpu()) cpu_engine_.emplace(*model_);
  }

  std::unique_ptr<MotionState> initiate(const Tlwh& detection) override {
    return std::make_unique<MtpState>(to_normalised_cxcywh(detection, width_, height_), width_, height_);
  }

  void predict(const std::vector<MotionState*>& states, const std::vector<char>& /*lost*/) override {
    const double scale = model_->options().scale;
    std::vector<MtpState*> ready;  // tracks with at least one difference, by history length
    for (MotionState* base : states) {
      auto& s = static_cast<MtpState&>(*base);
      if (s.pending) push(s, *s.pending);  // missed last frame: the prediction stands in
      s.pending = s.history.back();
      if (s.history.size() >= 2) ready.push_back(&s);
    }
    std::stable_sort(ready.begin(), ready.end(),
                     [](const MtpState* a, const MtpState* b) { return a->history.size() < b->history.size(); });
    diffs_.clear();
    lengths_.clear();
    for (const MtpState* s : ready) {
      lengths_.push_back(static_cast<int64_t>(s->history.size()) - 1);
      for (size_t t = 0; t + 1 < s->history.size(); ++t)
        for (int k = 0; k < 4; ++k)
          diffs_.push_back(static_cast<float>((s->history[t + 1][k] - s->history[t][k]) * scale));
    }
    next_.resize(ready.size() * 4);
    run_network();
    const float* p = next_.data();
    for (MtpState* s : ready) {
      Box4 b = s->history.back();
      for (int k = 0; k < 4; ++k) b[k] += static_cast<double>(p[k]) / scale;
      // A box never shrinks below a pixel (the IoU needs a positive size).
      b[2] = std::max(b[2], 1.0 / width_);
      b[3] = std::max(b[3], 1.0 / height_);
      s->pending = b;
      p += 4;
    }
  }

  void update(MotionState& base, const Tlwh& detection) override {
    auto& s = static_cast<MtpState&>(base);
    s.pending.reset();
    push(s, to_normalised_cxcywh(detection, width_, height_));
  }

  std::string name() const override { return "mtp"; }

 private:
  // diffs_ (the tracks' differences one after another, lengths_ sorted) -> next_: the CPU
  // engine in one call, or on a GPU the module once per history length.
  void run_network() {
    const auto batch = static_cast<int64_t>(lengths_.size());
    if (cpu_engine_) return cpu_engine_->forward(diffs_.data(), lengths_.data(), batch, next_.data());
    torch::InferenceMode inference;
    for (int64_t b0 = 0, row = 0; b0 < batch;) {
      const int64_t length = lengths_[b0];
      int64_t b1 = b0;
      while (b1 < batch && lengths_[b1] == length) ++b1;
      const at::Tensor in = torch::from_blob(diffs_.data() + row * 4, {b1 - b0, length, 4}, torch::kFloat);
      const at::Tensor out = model_->forward(in.to(device_)).to(torch::kCPU, torch::kFloat).contiguous();
      std::copy(out.data_ptr<float>(), out.data_ptr<float>() + (b1 - b0) * 4, next_.begin() + b0 * 4);
      row += (b1 - b0) * length;
      b0 = b1;
    }
  }

  void push(MtpState& s, const Box4& b) const {
    s.history.push_back(b);
    while (static_cast<int64_t>(s.history.size()) > model_->options().history + 1) s.history.pop_front();
  }

  std::shared_ptr<MambaMotionPredictorImpl> model_;
  double width_, height_;
  c10::Device device_;
  std::optional<MtpCpuEngine> cpu_engine_;  // on the CPU: the weights snapshot at construction
  std::vector<float> diffs_, next_;
  std::vector<int64_t> lengths_;
};

}  // namespace

std::unique_ptr<MotionModel> make_mtp_motion(std::shared_ptr<MambaMotionPredictorImpl> model, double image_width,
                                             double image_height, c10::Device device) {
  if (!model) throw Error("MTP motion model: no network");
  return std::make_unique<MtpMotion>(std::move(model), image_width, image_height, device);
}

}  // namespace vss::track
