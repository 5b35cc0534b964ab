#!/usr/bin/env bash
# Data-parallel check on a 2-GPU machine (the device tool's nvidia-h200-x2): UPerNet +
# VMamba-T at 512x512 on generated scenes (configs/seg/upernet_vmamba_tiny_synth_512.yaml),
# global batch 16, bf16, ~200 steps, three runs:
#   one     1 GPU, batch 16
#   accum   1 GPU, batch 8 x 2 accumulated micro-batches
#   two     2 GPUs (vss-train --gpus 2), batch 8 per GPU
# `two` and `accum` do the same arithmetic per micro-batch (8 samples, same BatchNorm batch),
# so their loss curves may differ only by float noise (non-deterministic CUDA reductions);
# `one` normalises BatchNorm over 16 samples, so it differs a little more. Prints the curves
# side by side every 10 steps, the max differences, steps/s (steps 21..N), the 2-GPU speed-up
# over `one`, and the peak memory per GPU (nvidia-smi, whole process). Builds nothing:
#   ninja -C build-dev vss-train      (first, on the GPU machine)
#   bash tools/gpu_ddp_check.sh [steps]         -> $OUT/ddp/{one,accum,two}/, $OUT/ddp/summary.txt
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/vss-out}
BUILD=${BUILD:-build-dev}
STEPS=${1:-200}
TRAIN=$BUILD/apps/vss-train
PY=${PY:-/opt/torch/.venv/bin/python}
[ -x "$PY" ] || PY=python3
DIR=$OUT/ddp
CONFIG=configs/seg/upernet_vmamba_tiny_synth_512.yaml
if [ ! -x "$TRAIN" ]; then echo "no $TRAIN: build it first (ninja -C $BUILD vss-train)"; exit 1; fi
gpus=$(nvidia-smi -L 2>/dev/null | wc -l)
if [ "$gpus" -lt 2 ]; then echo "needs 2 GPUs, nvidia-smi lists $gpus"; exit 1; fi
# The machine's rule: NVLink multicast stays off (an NCCL job that uses it can take the
# host's shared GPUs out of service); vss-train's ranks inherit this environment.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
rm -rf "$DIR" && mkdir -p "$DIR"
nvidia-smi --query-gpu=index,name,memory.total --format=csv | tee "$DIR/gpu.txt"

# No randomness that differs between the runs: drop-path and dropout off (the ranks draw
# their own streams), augmentation is already off in the config; 8 loader threads a rank.
common=(--config "$CONFIG" --set train.steps="$STEPS" --set model.backbone.drop_path_rate=0
        --set model.decode_head.dropout=0 --set model.auxiliary_head.dropout=0 --set train.workers=8 --quiet)

run() {  # name, then vss-train arguments
  local name=$1; shift
  nvidia-smi --query-gpu=index,memory.used --format=csv,noheader,nounits -lms 200 >"$DIR/$name.smi.csv" &
  local smi=$!
  local t0=$SECONDS
  "$TRAIN" "${common[@]}" --work-dir "$DIR/$name" "$@" >"$DIR/$name.log" 2>&1
  local rc=$?
  kill $smi 2>/dev/null; wait $smi 2>/dev/null
  echo "$name: rc=$rc, $((SECONDS - t0)) s wall"
  [ $rc -eq 0 ] || tail -20 "$DIR/$name.log"
}
run one   --device cuda:0 --set train.batch_size=16
run accum --device cuda:0 --set train.batch_size=8 --set train.grad_accum=2
run two   --device cuda --gpus 2 --set train.batch_size=8

"$PY" - "$DIR" <<'PYEOF' | tee "$DIR/summary.txt"
import json, os, sys
d = sys.argv[1]
def curve(name):
    rows = [json.loads(l) for l in open(os.path.join(d, name, "metrics.jsonl")) if '"loss"' in l]
    return {r["step"]: r for r in rows}
def peak(name):
    top = {}
    for line in open(os.path.join(d, name + ".smi.csv")):
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[1].isdigit():
            top[parts[0]] = max(top.get(parts[0], 0), int(parts[1]))
    return top
runs = {n: curve(n) for n in ("one", "accum", "two") if os.path.exists(os.path.join(d, n, "metrics.jsonl"))}
steps = sorted(set.intersection(*[set(c) for c in runs.values()])) if runs else []
print("step " + " ".join(f"{n:>10}" for n in runs))
for s in steps:
    if s % 10 == 0 or s == 1:
        print(f"{s:4d} " + " ".join(f"{runs[n][s]['loss']:10.6f}" for n in runs))
def maxdiff(a, b):
    if a not in runs or b not in runs: return float("nan"), float("nan")
    ab = [abs(runs[a][s]["loss"] - runs[b][s]["loss"]) for s in steps]
    rel = [x / abs(runs[b][s]["loss"]) for x, s in zip(ab, steps)]
    return max(ab), max(rel)
for a, b in (("two", "accum"), ("two", "one"), ("accum", "one")):
    m, r = maxdiff(a, b)
    print(f"max |loss {a} - loss {b}| = {m:.3g} (relative {r:.3g}) over {len(steps)} steps")
rate = {}
for n, c in runs.items():
    ips = [c[s]["img_per_s"] for s in steps if s > 20]
    rate[n] = sum(ips) / len(ips) / 16 if ips else float("nan")  # global batch 16
    print(f"{n}: {rate[n]:.3f} steps/s ({rate[n] * 16:.1f} img/s), peak memory.used MiB per GPU {peak(n)}")
if "two" in rate and "one" in rate:
    print(f"2 GPUs vs 1 GPU at global batch 16: {rate['two'] / rate['one']:.2f}x")
PYEOF
