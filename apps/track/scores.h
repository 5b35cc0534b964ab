#pragma once
// TrackEval's scores of tracker results, shared by the tracking run (--gt) and `eval`: one
// sequence's counts from its files, and their table rows and JSON.
#include "heads/track/mot_metrics.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace vss_track {

// TrackEval's counts for one sequence from its gt and results files.
vss::track::MotCounts score_sequence(const std::filesystem::path& gt_file, const std::filesystem::path& res_file,
                                     int64_t seq_length, bool no_preproc);

nlohmann::json to_json(const vss::track::MotMetrics& m);
void print_header();
void print_row(const std::string& name, const vss::track::MotMetrics& m);

}  // namespace vss_track
