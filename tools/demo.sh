#!/usr/bin/env bash
# The main job (bash tools/bootstrap.sh demo): the three apps on bundled data with bundled
# weights, as a user would run them, writing everything under out/demo/:
#   1. vss-segment  segments assets/seg_demo.png       -> out/demo/seg/seg_demo_overlay.png
#   2. vss-restore  super-resolves (x2) and denoises (σ 25) a held-out photograph, PSNR/SSIM vs
#                   bicubic / the noisy input          -> out/demo/restore_x2/, out/demo/denoise/
#   3. vss-track    tracks the bundled dancer sequence with the Kalman filter and with the Mamba
#                   motion predictor, HOTA / MOTA / IDF1 of each -> out/demo/track_*/ (+ .mp4)
#   and vss-track from rendered frames with the bundled CenterNet-tiny detector in the loop
#                   (Kalman vs MTP)                    -> out/demo/track_pixels_*/
#   and vss-change on the bundled image pair           -> out/demo/change/
#   and vss-change --semantic on the bundled SECOND-style pair -> out/demo/change_semantic/ (colour maps)
#   and vss-classify on real handwritten digits (scikit-learn's bundled set, held-out quarter)
#   bash tools/demo.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
A=$BUILD/apps
OUT=out/demo
mkdir -p "$OUT"
section() { printf '\n== %s\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

section "segmentation: the bundled demo segmentor on a held-out generated scene" \
  "$A/vss-segment" -i assets/seg_demo.png -o "$OUT/seg" --config configs/seg/shapes_seg_tiny.yaml \
  --weights weights/shapes_seg_tiny.safetensors --palette configs/seg/shapes_palette.yaml
section "restoration: x2 super-resolution of a held-out photograph (vs MATLAB bicubic)" \
  "$A/vss-restore" -i assets/restore/lr_x2 -o "$OUT/restore_x2" --weights weights/restore_light_x2_demo.safetensors \
  --gt assets/restore/gt --baseline
section "restoration: colour denoising at sigma 25 (vs the noisy input)" \
  "$A/vss-restore" -i assets/restore/gt --noise 25 --seed 0 -o "$OUT/denoise" \
  --weights weights/restore_denoise_s25_demo.safetensors --gt assets/restore/gt --baseline
section "tracking: ByteTrack association with the Kalman filter" \
  "$A/vss-track" --seq assets/track_demo/dance-0001 --out "$OUT/track_kalman" --gt auto --motion kalman
section "tracking: the same with the Mamba motion predictor (and a video of its tracks)" \
  "$A/vss-track" --seq assets/track_demo/dance-0001 --out "$OUT/track_mtp" --gt auto --motion mtp \
  --weights weights/mtp_synth.safetensors --video "$OUT/track_mtp/dance-0001.mp4"
# Tracking from pixels: a rendered held-out sequence (frames only count: its det.txt is unused),
# the bundled CenterNet-tiny detector on every frame, then ByteTrack with each motion model.
[ -d "$OUT/track_render/synth-0001/img1" ] || "$A/vss-track" make-data --out "$OUT/track_render" --sequences 1 \
  --frames 150 --objects 8 --seed 77 --render --image-size 320x192 >/dev/null
section "tracking from frames: the bundled CenterNet-tiny detector + ByteTrack with the Kalman filter" \
  "$A/vss-track" --seq "$OUT/track_render/synth-0001" --detector weights/centernet_tiny.safetensors \
  --out "$OUT/track_pixels_kalman" --gt auto --motion kalman
section "tracking from frames: the same with the Mamba motion predictor (and a video of its tracks)" \
  "$A/vss-track" --seq "$OUT/track_render/synth-0001" --detector weights/centernet_tiny.safetensors \
  --out "$OUT/track_pixels_mtp" --gt auto --motion mtp --weights weights/mtp_synth.safetensors \
  --video "$OUT/track_pixels_mtp/synth-0001.mp4"
section "change detection: the bundled detector on a held-out generated pair" \
  "$A/vss-change" --a assets/change_demo/A --b assets/change_demo/B --gt assets/change_demo/label -o "$OUT/change" \
  --config configs/change/mambabcd_demo.yaml --weights weights/mambabcd_demo.safetensors
section "semantic change detection: what changed into what, on a held-out generated pair" \
  "$A/vss-change" --semantic --a assets/scd_demo/im1 --b assets/scd_demo/im2 --gt assets/scd_demo \
  -o "$OUT/change_semantic" --config configs/change/mambascd_demo.yaml --weights weights/mambascd_demo.safetensors
# scikit-learn's digits as an ImageFolder (written once; the linear baseline is printed beside).
[ -d "$OUT/digits/val" ] || "${VSS_VENV:-.venv}/bin/python" tools/make_digits.py "$OUT/digits"
section "classification: the bundled VSSM on 450 held-out handwritten digits (top-1, top-5, per class)" \
  "$A/vss-classify" eval --weights weights/digits_vssm.safetensors --data "$OUT/digits/val"
printf '\nAll outputs are under %s/ (overlay, restored images, tracks + video, change masks, land-cover maps).\n' "$OUT"
