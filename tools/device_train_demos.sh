#!/usr/bin/env bash
# Trains the bundled demo models on the GPU machine within a time budget, side by side on one
# GPU (they are small), after tools/device_check.sh has built $BUILD. Each job first times a
# 30-step probe, then trains as many steps as fit in the budget (the schedule is laid out over
# that many steps), and exports its weights to $OUT/<name>.safetensors; every run's
# metrics.jsonl lines go to $OUT/train_demos.log tagged with the job's name. The restoration
# jobs read data/restore_demo.safetensors (vss-restore pack; the GPU machine has no codecs).
#   bash tools/device_train_demos.sh [BUDGET_SECONDS [JOB ...]]   (default 300 s, the demo jobs)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/vss-out}
BUILD=${BUILD:-build-dev}
BUDGET=${1:-300}
shift $(( $# > 0 ? 1 : 0 ))
wanted=("$@")
LOG=$OUT/train_demos.log
mkdir -p "$OUT"
T=$BUILD/apps/vss-train

demo_bank="data.bank=data/restore_demo.safetensors data.train.gt=train data.train.repeat=1000 data.val.gt=test train.workers=3"
# name | config | exporter | max steps | extra key=value overrides (space-separated)
jobs=(
  "shapes_seg_tiny|configs/seg/shapes_seg_tiny.yaml|$BUILD/apps/vss-segment export --checkpoint last|60000|train.precision=bf16 train.workers=6"
  "restore_light_x2_bank|configs/restore/mambair_light_x2_bank.yaml|$BUILD/apps/vss-restore export --checkpoint last|20000|train.workers=3"
  "restore_denoise_s25_bank|configs/restore/mambair_denoise_s25_bank.yaml|$BUILD/apps/vss-restore export --checkpoint last|20000|train.workers=3"
  # The bundled demo networks' own configs, fed from the bank instead of the image folders.
  "restore_light_x2_demo|configs/restore/mambair_light_x2_demo.yaml|$BUILD/apps/vss-restore export --checkpoint last|40000|$demo_bank train.batch_size=16"
  "restore_denoise_s25_demo|configs/restore/mambair_denoise_s25_demo.yaml|$BUILD/apps/vss-restore export --checkpoint last|40000|$demo_bank train.batch_size=16"
)
[ ${#wanted[@]} -eq 0 ] && wanted=(shapes_seg_tiny restore_light_x2_demo restore_denoise_s25_demo)
is_wanted() { local w; for w in "${wanted[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

run_job() {
  local name=$1 config=$2 exporter=$3 max_steps=$4 extra=$5
  local overrides=() kv
  for kv in $extra; do overrides+=(--set "$kv"); done
  local sets=(--set train.eval_every=0 --set train.checkpoint_every=0 --set train.log_every=10 "${overrides[@]}")
  local t0=$SECONDS
  OMP_NUM_THREADS=4 "$T" --config "$config" --device cuda --quiet --work-dir "/tmp/probe_$name" "${sets[@]}" \
    --set train.steps=30 >"/tmp/$name.probe.log" 2>&1 || { echo "$name: probe failed"; tail -5 "/tmp/$name.probe.log"; return; }
  local per_step
  per_step=$(awk -v s=$((SECONDS - t0)) 'BEGIN { printf "%.4f", (s > 1 ? s : 1) / 30 }')
  local left=$((BUDGET - (SECONDS - t0) - 30))  # 30 s for the final evaluation and export
  local steps
  steps=$(awk -v l="$left" -v p="$per_step" -v m="$max_steps" 'BEGIN { n = int(l / p); if (n > m) n = m; if (n < 100) n = 100; print n }')
  echo "$name: probe $per_step s/step (startup included) -> $steps steps"
  OMP_NUM_THREADS=4 "$T" --config "$config" --device cuda --quiet --work-dir "/tmp/run_$name" \
    --set train.steps="$steps" --set train.eval_every="$steps" --set train.checkpoint_every="$steps" \
    --set train.log_every=100 "${overrides[@]}" >"/tmp/$name.log" 2>&1
  echo "$name: train rc=$? after $((SECONDS - t0)) s"
  tail -3 "/tmp/$name.log"
  $exporter --run "/tmp/run_$name" --out "$OUT/$name.safetensors"
  sed "s/^/$name /" "/tmp/run_$name/metrics.jsonl" >>"$LOG"
  cp "/tmp/run_$name/config.yaml" "/tmp/$name.config.yaml" 2>/dev/null
}

for j in "${jobs[@]}"; do
  IFS='|' read -r name config exporter max_steps extra <<<"$j"
  is_wanted "$name" || continue
  run_job "$name" "$config" "$exporter" "$max_steps" "$extra" 2>&1 | sed "s/^/[$name] /" &
done
wait
# The resolved configs travel back in one file (the device tool returns at most 8 files).
for j in "${jobs[@]}"; do IFS='|' read -r name _ <<<"$j"; is_wanted "$name" || continue; echo "=== $name"; cat "/tmp/$name.config.yaml" 2>/dev/null; done >"$OUT/train_configs.txt"
