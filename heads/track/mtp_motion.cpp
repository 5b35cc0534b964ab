#include "heads/track/mtp_motion.h"

#include "core/error.h"
#include "heads/track/mamba_motion_predictor.h"
#include "heads/track/mtp_cpu_engine.h"

#include <torch/torch.h>

#include <algorithm>
#include <deque>
#include <map>
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
    std::map<size_t, std::vector<MtpState*>> by_length;  // number of differences -> tracks
    for (MotionState* base : states) {
      auto& s = static_cast<MtpState&>(*base);
      if (s.pending) push(s, *s.pending);  // missed last frame: the prediction stands in
      s.pending = s.history.back();
      if (s.history.size() >= 2) by_length[s.history.size() - 1].push_back(&s);
    }
    for (const auto& [n, group] : by_length) {
      const auto batch = static_cast<int64_t>(group.size()), length = static_cast<int64_t>(n);
      diffs_.resize(batch * length * 4);
      next_.resize(batch * 4);
      float* d = diffs_.data();
      for (const MtpState* s : group)
        for (size_t t = 0; t < n; ++t)
          for (int k = 0; k < 4; ++k) *d++ = static_cast<float>((s->history[t + 1][k] - s->history[t][k]) * scale);
      run_network(batch, length);
      const float* p = next_.data();
      for (MtpState* s : group) {
        Box4 b = s->history.back();
        for (int k = 0; k < 4; ++k) b[k] += static_cast<double>(p[k]) / scale;
        // A box never shrinks below a pixel (the IoU needs a positive size).
        b[2] = std::max(b[2], 1.0 / width_);
        b[3] = std::max(b[3], 1.0 / height_);
        s->pending = b;
        p += 4;
      }
    }
  }

  void update(MotionState& base, const Tlwh& detection) override {
    auto& s = static_cast<MtpState&>(base);
    s.pending.reset();
    push(s, to_normalised_cxcywh(detection, width_, height_));
  }

  std::string name() const override { return "mtp"; }

 private:
  // diffs_ [batch, length, 4] -> next_ [batch, 4]: the CPU engine, or the module on a GPU.
  void run_network(int64_t batch, int64_t length) {
    if (cpu_engine_) return cpu_engine_->forward(diffs_.data(), batch, length, next_.data());
    torch::InferenceMode inference;
    const at::Tensor in = torch::from_blob(diffs_.data(), {batch, length, 4}, torch::kFloat).to(device_);
    const at::Tensor out = model_->forward(in).to(torch::kCPU, torch::kFloat).contiguous();
    std::copy(out.data_ptr<float>(), out.data_ptr<float>() + batch * 4, next_.begin());
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
};

}  // namespace

std::unique_ptr<MotionModel> make_mtp_motion(std::shared_ptr<MambaMotionPredictorImpl> model, double image_width,
                                             double image_height, c10::Device device) {
  if (!model) throw Error("MTP motion model: no network");
  return std::make_unique<MtpMotion>(std::move(model), image_width, image_height, device);
}

}  // namespace vss::track
