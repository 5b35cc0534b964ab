// vss-change make-data: generated bitemporal pairs (LEVIR-CD layout) or, with --semantic,
// semantic change pairs (SECOND layouts).
#include "apps/change/commands.h"
#include "core/cli.h"
#include "core/progress.h"
#include "datasets/change_folder.h"
#include "datasets/second_folder.h"
#include "datasets/synthetic_change.h"
#include "datasets/synthetic_semantic_change.h"

#include <cstdio>
#include <filesystem>
#include <functional>

namespace vss_change {

namespace fs = std::filesystem;

int run_make_data(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-change make-data",
                   "Writes generated bitemporal pairs in the LEVIR-CD layout, OUT/<split>/{A,B,label}/<split>_<i>.png "
                   "(labels 0/255): buildings built, demolished or rebuilt, with illumination, misregistration, "
                   "noise, seasonal and vehicle changes as distractors that are not change. With --semantic, "
                   "semantic change pairs in a SECOND layout: land-cover regions (SECOND's 6 classes) that change "
                   "class between the dates, per-date illumination and noise as distractors.");
  auto& out = p.option("--out", "DIR", "", "dataset root", true);
  auto& num = p.option("--num", "N", "16", "number of pairs");
  auto& size = p.option("--size", "S", "256", "image size S x S");
  auto& seed = p.option("--seed", "S", "3", "split seed: pair i is a pure function of (S, i); other seeds, other pairs");
  auto& split = p.option("--split", "NAME", "test", "split folder under DIR");
  auto& clean = p.flag("--clean", "no distractors: the dates differ only where the label says");
  auto& semantic = p.flag("--semantic", "semantic change pairs (SECOND layout)");
  auto& layout = p.option("--layout", "second|changemamba", "second",
                          "with --semantic: {im1,im2,label1,label2} with colour labels, or {T1,T2,GT_CD,GT_T1,GT_T2}");
  if (int rc = p.parse(args); rc >= 0) return rc;
  const long long n = num.as_int(1, vss::kMaxListEntry);
  const int64_t side = size.as_int(semantic ? 8 : 1, vss::kMaxListEntry);
  if (layout.str() != "second" && layout.str() != "changemamba")
    return vss::usage_error("vss-change make-data", "--layout: expected second or changemamba, got '" + layout.str() + "'");
  const fs::path dir = fs::path(out.str()) / split.str();
  std::function<void(long long, const std::string&)> write_pair;
  std::string folders = "{A,B,label}";
  if (semantic) {
    vss::change::SyntheticSemanticChangeOptions o;
    o.height = o.width = side;
    o.seed = static_cast<uint64_t>(seed.as_int());
    if (clean) o.illumination = o.noise = 0;
    write_pair = [o, dir, l = layout.str()](long long i, const std::string& name) {
      vss::change::write_semantic_change_pair(dir, name, vss::change::make_synthetic_semantic_change(o, i), l);
    };
    folders = layout.str() == "second" ? "{im1,im2,label1,label2}" : "{T1,T2,GT_CD,GT_T1,GT_T2}";
  } else {
    vss::change::SyntheticChangeOptions o;
    o.height = o.width = side;
    o.seed = static_cast<uint64_t>(seed.as_int());
    if (clean) {
      o.illumination = o.misregistration = o.noise = o.seasonal = 0;
      o.shadows = o.vehicles = false;
    }
    write_pair = [o, dir](long long i, const std::string& name) {
      vss::change::write_change_pair(dir, name, vss::change::make_synthetic_change(o, i));
    };
  }
  vss::Progress bar(n, "make-data", {.unit = "pair"});
  for (long long i = 0; i < n; ++i) {
    write_pair(i, split.str() + "_" + std::to_string(i + 1));
    bar.advance();
  }
  bar.finish();
  std::printf("wrote %lld pair(s) of %lldx%lld to %s/%s\n", n, static_cast<long long>(side),
              static_cast<long long>(side), dir.string().c_str(), folders.c_str());
  return 0;
}

}  // namespace vss_change
