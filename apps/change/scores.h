#pragma once
// Pairing input files by name and the change scores, shared by the change run (--gt) and
// `eval`: binary (precision ... kappa) and semantic (OA, mIoU, SeK ...) tables and JSON.
#include "datasets/file_matching.h"
#include "datasets/semantic_change_pair.h"
#include "heads/change/change_metrics.h"
#include "heads/change/semantic_change_metrics.h"

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vss_change {

// Files named by `specs` (each a file, folder or glob) matched by name; two lone files are a
// pair whatever their names (named after the first).
vss::FileMatching pair_inputs(const std::vector<std::pair<std::string, std::string>>& specs);

nlohmann::json to_json(const vss::change::ChangeMetrics& m);
void print_header(const vss::change::ChangeMetrics&);
void print_row(const std::string& name, const vss::change::ChangeMetrics& m);

nlohmann::json to_json(const vss::change::SemanticChangeMetrics& m);
void print_header(const vss::change::SemanticChangeMetrics&);
void print_row(const std::string& name, const vss::change::SemanticChangeMetrics& m);

// Rows per image pair and the combined row of the counts summed
// over the set (as papers report), in percent, or the JSON summary.
template <class Counts, class Metrics>
struct ScoreTable {
  std::string rows_key;  // the JSON key of the rows
  Counts combined;
  Metrics (*score)(const Counts&);
  std::vector<std::pair<std::string, Metrics>> rows;

  void add(const std::string& name, const Counts& counts) {
    rows.emplace_back(name, score(counts));
    combined += counts;
  }
  void to_json(nlohmann::json& out) const {
    out[rows_key] = nlohmann::json::object();
    for (const auto& [name, m] : rows) out[rows_key][name] = vss_change::to_json(m);
    out["combined"] = vss_change::to_json(score(combined));
  }
  void print() const {
    print_header(Metrics{});
    for (const auto& [name, m] : rows) print_row(name, m);
    print_row("combined", score(combined));
  }
};

struct Scores : ScoreTable<vss::change::ConfusionMatrix, vss::change::ChangeMetrics> {
  Scores() : ScoreTable{"images", {}, vss::change::change_metrics, {}} {}
};

struct SemanticScores : ScoreTable<vss::change::SemanticConfusion, vss::change::SemanticChangeMetrics> {
  explicit SemanticScores(int64_t classes)
      : ScoreTable{"images", vss::change::SemanticConfusion(classes), vss::change::semantic_change_metrics, {}} {}
};

// Both dates' maps of one pair against its ground truth.
vss::change::SemanticConfusion pair_confusion(const vss::change::SemanticChangePair& truth, const at::Tensor& label1,
                                              const at::Tensor& label2, int64_t classes, const std::string& what);

void print_skipped(const std::vector<std::string>& skipped);

}  // namespace vss_change
