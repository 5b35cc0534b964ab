// vss-restore export: a vss-train run's network as a self-describing weights file.
#include "apps/restore/commands.h"
#include "core/config.h"
#include "core/error.h"
#include "engine/run_export.h"
#include "heads/restore/restoration_net.h"
#include "heads/restore/restoration_weights.h"

#include <cstdio>
#include <filesystem>
#include <optional>

namespace vss_restore {

namespace fs = std::filesystem;

int run_export(const std::vector<std::string>& args) {
  int rc = 0;
  const auto e = vss::parse_run_export(args, "vss-restore export",
                                       "Writes the network of a vss-train run (task: restoration) as a weights file for "
                                       "vss-restore --weights: the state dict under the official names, with the run's "
                                       "model, degradation and metrics in its metadata, so no --config is needed.",
                                       "best", &rc);
  if (!e) return rc;
  const vss::Config& root = e->config;
  if (!root.has("task") || root["task"].get_or<std::string>("type", "") != "restoration")
    throw vss::Error(e->source + ": not a restoration run (task.type is not 'restoration')");
  auto net = vss::restore::make_restoration_net(root["model"]);
  vss::restore::load_restoration_weights(*net, e->weights.state, e->source);
  const vss::Config task = root["task"];
  const vss::Config degradation = task["degradation"];
  std::optional<vss::Config> metrics;
  if (task.has("metrics")) metrics = task["metrics"];
  vss::restore::save_restoration_weights(
      *net, vss::restore::restore_config_yaml(root["model"], &degradation, metrics ? &*metrics : nullptr), e->out);
  std::printf("%s, %.2f MB\n", e->summary(*net).c_str(), static_cast<double>(fs::file_size(e->out)) / 1e6);
  return 0;
}

}  // namespace vss_restore
