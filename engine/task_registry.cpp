#include "engine/change_task.h"
#include "engine/classification_task.h"
#include "engine/detection_task.h"
#include "engine/motion_task.h"
#include "engine/restoration_task.h"
#include "engine/segmentation_task.h"
#include "engine/semantic_change_task.h"
#include "engine/task.h"

namespace vss {

Registry<Task, const Config&, c10::Device>& task_registry() {
  static Registry<Task, const Config&, c10::Device> registry = [] {
    Registry<Task, const Config&, c10::Device> r("task");
    r.add("change", make_change_task);
    r.add("classification", make_classification_task);
    r.add("detection", make_detection_task);
    r.add("motion", make_motion_task);
    r.add("restoration", make_restoration_task);
    r.add("segmentation", make_segmentation_task);
    r.add("semantic_change", make_semantic_change_task);
    return r;
  }();
  return registry;
}

std::shared_ptr<Task> make_task(const Config& root, c10::Device device) {
  return task_registry().create(root["task"], root, device);
}

}  // namespace vss
