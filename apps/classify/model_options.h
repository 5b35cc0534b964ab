#pragma once
// The options vss-classify and its eval take to build the classifier and run it, and the note
// both print about unreadable images.
#include "core/cli.h"
#include "datasets/unreadable_images.h"
#include "engine/classifier_loader.h"
#include "engine/device_options.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vss_classify {

// The options both commands take to build the classifier and run it.
class ModelOptions {
 public:
  explicit ModelOptions(vss::ArgParser& p);

  // After parsing: the classifier, ready on its device, and the settings. Bad option values
  // are usage errors; files that do not fit are vss::Error naming them.
  vss::Classifier load();

  // Logits [B, C] float32 on the CPU of a batch of preprocessed images.
  at::Tensor logits(vss::Classifier& c, const std::vector<at::Tensor>& images) const;

  int64_t batch = 0;
  vss::DeviceChoice run_on;

 private:
  vss::ArgParser::Option &weights_, &config_, &sets_, &num_classes_, &non_strict_, &classes_, &size_, &crop_pct_,
      &interpolation_, &batch_;
  vss::DeviceOptions device_;
};

// ", 3 unreadable skipped", or nothing when every image was read.
std::string skipped_note(const vss::UnreadableImages& unreadable);

}  // namespace vss_classify
