#pragma once
// A training task: its model, training data, loss and validation metric, chosen by the
// config's `task: {type: ...}` (classification; segmentation, restoration, change and motion
// plug in the same way). The trainer owns the loop; a task owns what is task-specific.
#include "core/registry.h"
#include "engine/batch.h"

#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <vector>

namespace torch::nn {
class Module;
}

namespace vss {

class Task {
 public:
  virtual ~Task() = default;
  virtual torch::nn::Module& model() = 0;
  virtual int64_t train_size() const = 0;
  // Called on the loader thread: must not touch the model. `seed` is a pure function of
  // (train.seed, micro-batch number): augmentations draw from it, so a resumed run sees
  // the same augmented batches.
  virtual Batch train_batch(const std::vector<int64_t>& indices, uint64_t seed) const = 0;
  // Forward and loss of a batch already on the model's device (scalar).
  virtual at::Tensor loss(const Batch& batch) = 0;
  // The validation metric (higher is better), the model in eval mode meanwhile.
  virtual double evaluate() = 0;
  virtual std::string metric_name() const = 0;
  // The names of the classes a classifier's outputs stand for, when the data named them
  // (image folders); kept in the run's checkpoints so exported weights carry them.
  virtual std::vector<std::string> class_names() const { return {}; }
};

// Factories take the `task:` node, the whole config (model, data) and the device.
Registry<Task, const Config&, c10::Device>& task_registry();
std::shared_ptr<Task> make_task(const Config& root, c10::Device device);

}  // namespace vss
