// vss-restore pack: an image bank (one safetensors file) from a folder of images.
#include "apps/restore/commands.h"
#include "core/cli.h"
#include "core/progress.h"
#include "datasets/image_bank.h"

#include <cstdio>
#include <filesystem>

namespace vss_restore {

namespace fs = std::filesystem;

int run_pack(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-restore pack",
                   "Packs every image under a folder (recursively) into an image bank: one safetensors file of decoded "
                   "images named by their relative paths without extension, which vss-train reads (data.bank) where "
                   "there is no image codec, as BasicSR reads LMDB.");
  auto& in = p.option("-i", "DIR", "", "folder tree of images (e.g. one holding HR/ and LR_bicubic/X2/)", true);
  auto& out = p.option("-o", "FILE", "", "the bank (.safetensors)", true);
  if (int rc = p.parse(args); rc >= 0) return rc;
  vss::Progress bar(0, "pack", {.unit = "img"});
  const int64_t n = vss::pack_image_bank(in.str(), out.str(), [&](int64_t done, int64_t) { bar.update(done); });
  bar.finish();
  std::printf("packed %lld image(s) from %s into %s (%.1f MB)\n", static_cast<long long>(n), in.str().c_str(),
              out.str().c_str(), static_cast<double>(fs::file_size(out.str())) / 1e6);
  return 0;
}

}  // namespace vss_restore
