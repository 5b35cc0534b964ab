#!/usr/bin/env bash
# Times everything whose speed the issues ask for, in one run on the GPU machine, after
# tools/device_check.sh has built $BUILD: the backbones (VMamba-T/S/B) and the timm peers on
# the same GPU, segmentation, restoration, change detection, the tracker (CPU and GPU) and
# training steps/s. One JSON line per measurement in $OUT/bench.jsonl, the tables in
# $OUT/bench.log.
#   bash tools/device_bench.sh [models] [peers] [seg] [restore] [change] [track] [detect] [track-pixels] [train] [train-t] [train-profile]
# (no arguments: all but train-t and train-profile)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/vss-out}
BUILD=${BUILD:-build-dev}
PY=${PY:-/opt/torch/.venv/bin/python}
[ -x "$PY" ] || PY=python3
B=$BUILD/bench/vss-bench
JSONL=$OUT/bench.jsonl
LOG=$OUT/bench.log
mkdir -p "$OUT"
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(models peers seg restore change track detect track-pixels train)
has() { local s; for s in "${steps[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
t0=$(date +%s)
stamp() { echo "[device_bench +$(( $(date +%s) - t0 ))s] $*" | tee -a "$LOG"; }
# One measurement: its JSON line goes to bench.jsonl tagged with the command; errors are logged.
bench() {
  local line
  if line=$("$@" --json 2>>"$LOG"); then
    printf '%s\n' "$line" | tail -1 | "$PY" -c 'import json,sys; d=json.loads(sys.stdin.read()); d["cmd"]=sys.argv[1]; print(json.dumps(d))' "$*" >>"$JSONL"
    printf '%s\n' "$line" | tail -1 >>"$LOG"
  else
    echo "FAILED: $*" | tee -a "$LOG"
  fi
}
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader | tee -a "$LOG"

if has models; then
  stamp models
  for m in tiny small base; do for d in fp32 bf16; do
    bench $B model --device cuda --repeat 20 --config configs/backbones/vmamba_$m.yaml --res 224 --batch 128 --dtype $d
  done; done
  for r in "512 16" "1024 4" "2048 1"; do set -- $r
    bench $B model --device cuda --repeat 20 --config configs/backbones/vmamba_tiny.yaml --res $1 --batch $2 --dtype bf16
  done
  bench $B model --device cuda --repeat 20 --config configs/backbones/vmamba_tiny.yaml --res 224 --batch 128 --dtype bf16 --set fused_scan=false
fi

if has peers; then
  stamp peers
  "$PY" tools/bench_peers.py >>"$JSONL" 2>>"$LOG" || echo "FAILED: peers" | tee -a "$LOG"
fi

if has seg; then
  stamp seg
  C=configs/seg/upernet_vmamba_tiny_ade20k_512.yaml
  bench $B seg --config $C --res 512 --batch 16 --dtype bf16
  bench $B seg --config $C --res 512 --batch 16 --dtype bf16 --unfused
  bench $B seg --config $C --res 512 --batch 16 --dtype fp32
  bench $B seg --config $C --res 512x683 --batch 1 --mode slide --crop 512 --stride 341 --dtype bf16
  bench $B seg --config $C --res 512x683 --batch 1 --mode slide --crop 512 --stride 341 --dtype bf16 --unfused
  bench $B seg --config $C --res 512 --batch 1 --dtype bf16
fi

if has restore; then
  stamp restore
  for c in mambair_light_x4 mambair_denoise_color_s25 mair_t_light_x4; do
    for r in 256 1024; do
      bench $B restore --config configs/restore/$c.yaml --res $r --dtype bf16
    done
    bench $B restore --config configs/restore/$c.yaml --res 256 --dtype bf16 --unfused
  done
  # light x4 to a 1920x1080 output: 480x270 input.
  bench $B restore --config configs/restore/mambair_light_x4.yaml --res 270x480 --dtype bf16
  bench $B restore --config configs/restore/mambair_light_x4.yaml --res 270x480 --dtype fp32
  bench $B restore --config configs/restore/mambair_classic_x4.yaml --res 256 --dtype bf16
fi

if has change; then
  stamp change
  C=configs/change/mambabcd_tiny.yaml
  bench $B change --config $C --res 256 --batch 16 --dtype bf16
  bench $B change --config $C --res 256 --batch 16 --dtype fp32
  bench $B change --config $C --res 1024 --batch 1 --tile 256 --dtype bf16
  bench $B change --config configs/change/awmambabcd_tiny.yaml --res 256 --batch 16 --dtype bf16
  bench $B change --config configs/change/mambascd_tiny.yaml --res 512 --batch 8 --dtype bf16
  bench $B change --config configs/change/mambascd_tiny.yaml --res 512 --batch 8 --dtype fp32
  bench $B change --config configs/change/awmambascd_tiny.yaml --res 512 --batch 8 --dtype bf16
fi

if has track; then
  stamp track
  W=weights/mtp_synth.safetensors
  for n in 50 200; do
    OMP_NUM_THREADS=1 bench $B track --tracks $n --motion kalman
    for t in 1 4 8 16; do OMP_NUM_THREADS=$t bench $B track --tracks $n --weights $W; done
    bench $B track --tracks $n --weights $W --device cuda
    OMP_NUM_THREADS=16 bench $B track --tracks $n --mtp-config '{type: mtp}' --frames 100
    bench $B track --tracks $n --mtp-config '{type: mtp}' --device cuda
  done
fi

if has detect; then
  stamp detect
  # The tracker's detector per batch of 1280x720 frames (forward + peak decoding), VMamba-T and
  # the tiny demo detector.
  for b in 1 8; do
    bench $B detect --config configs/detect/centernet_vmamba_tiny.yaml --res 720x1280 --batch $b --dtype bf16 --device cuda
  done
  bench $B detect --config configs/detect/centernet_vmamba_tiny.yaml --res 720x1280 --batch 8 --dtype fp32 --device cuda
  bench $B detect --config configs/detect/centernet_tiny.yaml --res 720x1280 --batch 8 --dtype bf16 --device cuda
fi

if has track-pixels; then
  stamp track-pixels
  # The tracker end to end (decode -> detect -> associate -> write, vss-bench track-pixels runs
  # vss-track's pipeline) on 200 rendered 1280x720 frames, written as .ppm: this build has no
  # OpenCV, and the built-in codec reads PPM. VMamba-T with its initial weights (none are
  # trained: boxes_per_frame says how much there was to associate) at bf16, batch 1 and 8; the
  # bundled tiny detector (trained: real boxes). PIXELS_SIZE / PIXELS_FRAMES / PIXELS_DEVICE
  # shrink it for a dry run on a CPU machine.
  PIX=${PIXELS_DIR:-/tmp/vss-pixels}
  PIX_DEV=${PIXELS_DEVICE:-cuda}
  rm -rf "$PIX"
  if $BUILD/apps/vss-track make-data --out "$PIX" --sequences 1 --frames "${PIXELS_FRAMES:-200}" --objects 12 \
       --seed 77 --render --image-ext ppm --image-size "${PIXELS_SIZE:-1280x720}" >>"$LOG" 2>&1; then
    S=$PIX/synth-0001
    for b in 1 8; do
      bench $B track-pixels --config configs/detect/centernet_vmamba_tiny.yaml --seq $S --device $PIX_DEV --dtype bf16 --batch $b
    done
    bench $B track-pixels --weights weights/centernet_tiny.safetensors --seq $S --device $PIX_DEV --dtype bf16 --batch 8
  else
    echo "FAILED: track-pixels make-data" | tee -a "$LOG"
  fi
  rm -rf "$PIX"
fi

if has train; then
  stamp train
  # Full training steps on a batch kept on the GPU (vss-bench train), the timm peers doing the
  # same step in the same run, then a real-size run through vss-train's loader.
  T224=(--config configs/backbones/vmamba_tiny.yaml --res 224 --batch 128 --repeat 10 --warmup 3)
  bench $B train "${T224[@]}" --dtype bf16
  bench $B train "${T224[@]}" --dtype bf16 --optimizer '{type: adamw, lr: 0.001, weight_decay: 0.05, fused: false}'
  bench $B train "${T224[@]}" --dtype bf16 --set sequence_scan=never
  bench $B train "${T224[@]}" --dtype bf16 --set sequence_scan=never --set fused_scan=false
  bench $B train "${T224[@]}" --dtype fp32
  bench $B train --config configs/seg/upernet_vmamba_tiny_synth_512.yaml --batch 16 --dtype bf16 --repeat 10 --warmup 3
  bench $B train --config configs/seg/upernet_vmamba_tiny_synth_512.yaml --batch 16 --dtype bf16 --repeat 10 --warmup 3 --set model.backbone.sequence_scan=never
  bench $B train --config configs/change/mambabcd_demo.yaml --batch 16 --dtype bf16 --repeat 10 --warmup 3
  "$PY" tools/bench_peers.py --train --repeat 10 >>"$JSONL" 2>>"$LOG" || echo "FAILED: peers --train" | tee -a "$LOG"
  # A real-size run: UPerNet + VMamba-T at 512² on generated scenes, bf16, 60 steps of 16.
  T=$BUILD/apps/vss-train
  "$T" --config configs/seg/upernet_vmamba_tiny_synth_512.yaml --device cuda --work-dir /tmp/train_real \
    --set train.steps=60 --set train.log_every=10 --set train.eval_every=0 --set train.checkpoint_every=0 \
    --set train.workers=12 --quiet >>"$LOG" 2>&1 || echo "FAILED: train" | tee -a "$LOG"
  [ -f /tmp/train_real/metrics.jsonl ] && sed 's/^/train_real /' /tmp/train_real/metrics.jsonl >>"$LOG"
fi

if has train-t; then
  stamp train-t
  # The issue's headline in a few minutes of GPU time: VMamba-T bf16 224² b128 training steps,
  # twice, beside timm's Swin-T and ConvNeXt-T doing the same step in the same run.
  for run in 1 2; do
    bench $B train --config configs/backbones/vmamba_tiny.yaml --res 224 --batch 128 --repeat 10 --warmup 3 --dtype bf16
  done
  "$PY" tools/bench_peers.py --train --repeat 10 --models swin_tiny_patch4_window7_224,convnext_tiny \
    >>"$JSONL" 2>>"$LOG" || echo "FAILED: peers --train" | tee -a "$LOG"
fi

if has train-profile; then
  stamp train-profile
  # Every kernel of one VMamba-T training step (bf16, 224² b128) with its duration, for
  # tools/kernel_breakdown.py: where a step's time goes (the second step: the first creates
  # the optimizer's state).
  NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null)
  timeout 240 "$NCU" --clock-control none --metrics gpu__time_duration.sum --csv --page raw \
    $B train --config configs/backbones/vmamba_tiny.yaml --res 224 --batch 128 --dtype bf16 --repeat 1 --warmup 1 \
    >"$OUT/train_kernels.csv" 2>>"$LOG" || echo "FAILED: train-profile" | tee -a "$LOG"
  "$PY" tools/kernel_breakdown.py "$OUT/train_kernels.csv" --skip-first-step | tee -a "$LOG"
fi
stamp done
