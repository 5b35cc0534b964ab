#include "heads/track/kalman_motion.h"

#include "heads/track/kalman_filter.h"

namespace vss::track {
namespace {

class KalmanMotionState : public MotionState {
 public:
  explicit KalmanMotionState(const Tlwh& detection) : state(KalmanFilter::initiate(tlwh_to_xyah(detection))) {}
  Tlwh box() const override { return xyah_to_tlwh({state.mean[0], state.mean[1], state.mean[2], state.mean[3]}); }
  KalmanState state;
};

class KalmanMotion : public MotionModel {
 public:
  std::unique_ptr<MotionState> initiate(const Tlwh& detection) override {
    return std::make_unique<KalmanMotionState>(detection);
  }

  void predict(const std::vector<MotionState*>& states, const std::vector<char>& lost) override {
    std::vector<KalmanState*> filters;
    filters.reserve(states.size());
    for (size_t i = 0; i < states.size(); ++i) {
      auto& s = static_cast<KalmanMotionState&>(*states[i]).state;
      if (lost[i]) s.mean[7] = 0;  // ByteTrack: a lost box keeps its size
      filters.push_back(&s);
    }
    KalmanFilter::multi_predict(filters);
  }

  void update(MotionState& state, const Tlwh& detection) override {
    KalmanFilter::update(static_cast<KalmanMotionState&>(state).state, tlwh_to_xyah(detection));
  }

  std::string name() const override { return "kalman"; }
};

}  // namespace

std::unique_ptr<MotionModel> make_kalman_motion() { return std::make_unique<KalmanMotion>(); }

}  // namespace vss::track
