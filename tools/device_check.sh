#!/usr/bin/env bash
# Runs on the GPU machine (the `device` tool): configure (no OpenCV there), build, run every
# ctest with the label `cuda` (CUDA kernels, parity on the GPU, heads and training on CUDA),
# optionally the CUDA tests under compute-sanitizer, the scan benchmarks, and ncu profiles of the
# scan kernels (pipe use, stalls, occupancy: what bounds them). Logs and JSON go to $OUT (the
# device tool brings back at most 8 files: keep to few).
#   bash tools/device_check.sh [tests] [sanitize] [bench] [bench-quick] [resources] [profile]
# (no arguments: tests and bench). tools/device_bench.sh times the models and apps.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/vss-out}
mkdir -p "$OUT"
JOBS=${JOBS:-16}
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(tests bench)
has() { local s; for s in "${steps[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
PY=/opt/torch/.venv/bin/python
BUILD=build-dev
t0=$(date +%s)
stamp() { echo "[device_check +$(( $(date +%s) - t0 ))s] $*"; }

nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
if [ ! -f "$BUILD/build.ninja" ]; then
  stamp configure
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$($PY -c 'import torch;print(torch.utils.cmake_prefix_path)')" \
    -DVSS_PYTHON=$PY -DVSS_WITH_OPENCV=OFF >"$OUT/configure.log" 2>&1 || { tail -30 "$OUT/configure.log"; exit 1; }
fi
# What the CUDA tests, the benchmarks and the GPU training runs need (the rest is CI's).
targets=(vss_kernels_cuda_tests vss_backbones_cuda_tests vss_heads_cuda_tests vss_engine_cuda_tests vss_scans_tests vss_kernels_tests vss-bench vss-train vss-segment vss-restore vss-change vss-track)
if has resources; then  # registers / spills of the CUDA kernels, next to the build
  $PY - "$BUILD" >"$OUT/resources.log" 2>&1 <<'PYEOF' &
import json, subprocess, sys
for e in json.load(open(sys.argv[1] + "/compile_commands.json")):
    if e["file"].endswith(".cu"):
        cmd = e["command"].split(" -o ")[0] + " --resource-usage -o /dev/null"
        r = subprocess.run(cmd, shell=True, cwd=e["directory"], capture_output=True, text=True)
        print(e["file"]); print(r.stderr)
PYEOF
fi
stamp "build ${targets[*]}"
ninja -C "$BUILD" -j "$JOBS" "${targets[@]}" >"$OUT/build.log" 2>&1 || { grep -E "error|FAILED" -A5 "$OUT/build.log" | head -60; exit 1; }
stamp built
wait

if has tests; then
  stamp tests
  (cd "$BUILD" && ctest -L cuda -j 4 --timeout 600 --output-on-failure) >"$OUT/ctest_cuda.log" 2>&1
  echo "ctest -L cuda rc=$?"; grep -E "tests passed|Failed|\*\*\*|Skipped" "$OUT/ctest_cuda.log" | head -40
  stamp tests-done
fi

if has sanitize; then
  stamp sanitize
  SAN=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
  # The small cases only: memcheck is slow.
  "$SAN" --tool memcheck --error-exitcode 3 "$BUILD/tests/vss_kernels_cuda_tests" \
    --gtest_filter='*merge_weight*:*bad_inputs*:*reruns*:cuda_selective_scan.warp*:cuda_depthwise*' \
    >"$OUT/sanitize.log" 2>&1
  echo "memcheck rc=$?"; grep -E "ERROR SUMMARY|PASSED|FAILED" "$OUT/sanitize.log" | head
  stamp sanitize-done
fi

if has bench || has bench-quick; then
  stamp bench
  args=(--device cuda --json "$OUT/bench_fused.json")
  has bench-quick && args+=(--quick)
  "$BUILD/bench/vss-bench" scan --device cuda --dtype bf16 --shape 128,192,56,56,1 --backward 2>&1 | tail -4
  "$BUILD/bench/vss-bench" scan-fused "${args[@]}" 2>&1 | tee "$OUT/bench_fused.txt"
  stamp bench-done
fi

if has profile; then
  stamp profile
  NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null)
  B="$BUILD/bench/vss-bench"
  S=(--section SpeedOfLight --section ComputeWorkloadAnalysis --section WarpStateStats
     --section SchedulerStats --section Occupancy --section InstructionStats)
  {
    # The plain N = 1 warp kernels on the issue's first case: bf16 against float32.
    for dt in bf16 fp32; do
      "$NCU" "${S[@]}" -k regex:scan_fwd_warp --launch-count 1 \
        "$B" scan --device cuda --shape 128,192,56,56,1 --dtype $dt --repeat 1 --warmup 0
    done
    "$NCU" "${S[@]}" -k regex:scan_bwd --launch-count 1 \
      "$B" scan --device cuda --shape 128,192,56,56,1 --dtype bf16 --backward --repeat 1 --warmup 0
    # The channel-last plan kernels at VMamba-T 1024² b4's first stage (summary, entry states, k = 0).
    "$NCU" "${S[@]}" -k regex:plan_cl --launch-count 3 "$B" model --device cuda --repeat 1 --warmup 0 \
      --config configs/backbones/vmamba_tiny.yaml --res 1024 --batch 4 --dtype bf16
  } >"$OUT/profile.txt" 2>&1
  echo "ncu rc=$?"; grep -E "^  [a-z_]+.*\(|Duration|Issue Slots Busy|No Eligible|Achieved Occupancy" "$OUT/profile.txt" | head -60
  stamp profile-done
fi
