// vss-restore: image restoration with MambaIR / MaIR networks (heads.md §1): super-resolution
// x2/x3/x4, colour denoising, JPEG deblocking.
//   vss-restore -i FILE|DIR|GLOB -o DIR --weights FILE [--config FILE] [-t/--tile N]
//               [--tile-overlap N] [--tile-blend seam|average] [-s/--scale S] [--gt DIR [--baseline]]
//               [--device cpu|cuda[:i]] [--dtype fp32|bf16] [--suffix S] [--ext auto|png|jpg|tif]
//               [--noise SIGMA [--seed N]] [--set key=value] [--json]
// restores every image into DIR/<name>[_<suffix>].<ext>, keeping its bit depth (16-bit in,
// 16-bit out) and alpha (enlarged separately by MATLAB bicubic; Real-ESRGAN's
// --alpha_upsampler bicubic, despite its name, calls cv2.resize INTER_LINEAR); grey images go through a 3-channel model replicated to RGB and come back grey
// (BT.601 luma, as Real-ESRGAN does), and a 1-channel model runs on each colour channel.
// With --gt (paired by file name) it prints PSNR / SSIM on RGB and on Y per image and their
// mean, exactly as BasicSR (conventions.md §2.1); --baseline also scores the bicubic
// enlargement (SR) or the input itself (denoising / JPEG). --noise adds the noise to clean
// inputs in float, unclipped, as MambaIR's / KAIR's denoising tests do (a noisy PNG from
// `degrade --noise` is clipped and rounded, which scores somewhat lower).
//   vss-restore eval --gt DIR --res DIR [--scale S] [--crop-border N] [--y] [--json]
//   vss-restore degrade -i DIR -o DIR (--bicubic S | --noise SIGMA [--seed N] | --jpeg Q)
//   vss-restore pack -i DIR -o BANK.safetensors          (datasets/image_bank.h)
//   vss-restore export --run RUN_DIR [--checkpoint best|last] [--no-ema] --out FILE
// Bad images (unreadable, truncated, unsupported depth) are skipped with a warning naming them
// and the run exits 1 at the end; every output is written to a temporary name and renamed.
#include "apps/restore/commands.h"
#include "core/cli.h"

int main(int argc, char** argv) {
  return vss::run_app("vss-restore", argc, argv, [](const std::vector<std::string>& args) {
    return vss::run_subcommand(args,
                               {{"eval", vss_restore::run_eval},
                                {"degrade", vss_restore::run_degrade},
                                {"pack", vss_restore::run_pack},
                                {"export", vss_restore::run_export}},
                               vss_restore::run_restore);
  });
}
