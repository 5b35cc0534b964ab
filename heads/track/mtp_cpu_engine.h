#pragma once
// The Mamba motion predictor's forward pass on the CPU without LibTorch ops: a snapshot of the
// network's weights and hand-written loops (register-blocked dense layers, the causal conv, the
// selective scan with the state laid out along the channels, vectorised exp / SiLU / softplus),
// parallel over tracks. A tracker calls the network once per frame on ~10-step histories of
// tens of tracks: through LibTorch that is ~100 small ops whose dispatch costs more than their
// arithmetic and that do not parallelise. MambaMotionPredictorImpl::forward stays the
// reference; the tests hold the two within float rounding of each other.
#include <cstdint>
#include <vector>

namespace vss::track {

class MambaMotionPredictorImpl;

class MtpCpuEngine {
 public:
  // Copies the weights: later changes to the module are not seen.
  explicit MtpCpuEngine(const MambaMotionPredictorImpl& model);

  // Histories of any lengths in one call (one parallel pass per tracker frame): track b's
  // lengths[b] >= 1 differences (4 floats each) follow the previous track's in diffs
  // ([Σ lengths, 4]); next[b] ([batch, 4]) equals model.forward on that track alone.
  void forward(const float* diffs, const int64_t* lengths, int64_t batch, float* next) const;

  // A dense layer y = x·Wᵀ + b with Wᵀ stored [in][out_padded], out_padded a multiple of the
  // micro-kernel's width (zero columns), so every output row is written in whole blocks.
  struct Dense {
    int64_t in = 0, out = 0, out_padded = 0;
    std::vector<float> weight_t, bias;  // [in * out_padded], [out_padded]
  };
  struct Mamba {
    Dense in_proj, x_proj, dt_proj, out_proj;  // dt_proj's bias is the scan's delta_bias
    std::vector<float> conv_weight;            // [d_conv][d_inner]
    std::vector<float> conv_bias;              // [d_inner]
    std::vector<float> D;                      // [d_inner padded like a dense layer's output]
    std::vector<float> A;                      // -exp(A_log) as [d_state][d_inner padded]
  };
  struct Layer {
    Mamba forward_mamba, backward_mamba;
    std::vector<float> norm_weight, norm_bias;
    float norm_eps = 1e-5f;
    Dense fc1, fc2;
  };
  struct Network {
    int64_t d_model = 0, d_inner = 0, d_state = 0, d_conv = 0, dt_rank = 0;
    Dense embed, head_fc1, head_fc2;
    std::vector<Layer> layers;
  };

 private:
  Network net_;
};

}  // namespace vss::track
