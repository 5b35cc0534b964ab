#!/usr/bin/env bash
# vsskit set-up: installs what is missing (Debian packages, pip's torch==2.11.0 and the
# test oracles), configures and builds, then runs one job:
#   bash tools/bootstrap.sh demo   # the main job on bundled data
#   bash tools/bootstrap.sh test   # every test (ctest)
#   bash tools/bootstrap.sh build  # just install + build
# Idempotent: a second run installs nothing and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOB=${1:-build}
BUILD_DIR=${VSS_BUILD_DIR:-$ROOT/build}
VENV=${VSS_VENV:-$ROOT/.venv}
TORCH_VERSION=2.11.0

say() { printf '[vsskit] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Debian packages ---------------------------------------------------------------
APT_PKGS=(cmake ninja-build g++ git pkg-config libyaml-cpp-dev nlohmann-json3-dev
          libgtest-dev libgmock-dev libbenchmark-dev ccache
          libgloo-dev  # headers for c10d's gloo backend (CPU data-parallel; the code is in libtorch_cpu)
          libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev libopencv-videoio-dev)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python: LibTorch from the torch wheel, plus test oracles and demo data ----------
# (scikit-learn: its bundled handwritten digits are the classification demo's data set)
# --system-site-packages: a torch already installed for this python is reused, not downloaded.
# cmake: the current release (4.x, as on the GPU machine), for the test that builds the op
# library with it (tools/check_cmake_build.sh); the build itself uses Debian's.
PY_PKGS=("torch==$TORCH_VERSION" numpy safetensors scipy scikit-image scikit-learn motmetrics==1.4.0 trackeval==1.3.0 pycocotools "cmake>=4")
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  python3 -m venv --system-site-packages "$VENV"
fi
PY="$VENV/bin/python"
if ! "$PY" - "$TORCH_VERSION" <<'PYEOF' 2>/dev/null
import sys, importlib
import torch
assert torch.__version__.split("+")[0] == sys.argv[1]
for m in ("numpy", "safetensors", "scipy", "skimage", "sklearn", "motmetrics", "trackeval", "pycocotools", "cmake"):
    importlib.import_module(m)
PYEOF
then
  say "installing Python packages: ${PY_PKGS[*]}"
  "$PY" -m pip install -q --disable-pip-version-check "${PY_PKGS[@]}"
fi
TORCH_PREFIX=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')

# --- configure + build -------------------------------------------------------------
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
if [ -z "${CUDACXX:-}" ] && ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export CUDACXX=/usr/local/cuda/bin/nvcc
fi
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  say "configuring $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" -DVSS_PYTHON="$PY" "${launcher[@]}" ${VSS_CMAKE_ARGS:-} >/dev/null
fi
say "building (this takes a few minutes the first time)"
cmake --build "$BUILD_DIR" -j "$(nproc)"

# --- the job -----------------------------------------------------------------------
case "$JOB" in
  build) ;;
  demo) exec bash tools/demo.sh "$BUILD_DIR" ;;
  # One intra-op thread per test: ctest already runs one test per core, and torch's OpenMP
  # threads spinning against each other made single tests up to 50x slower.
  test) cd "$BUILD_DIR" && OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} exec ctest -j "$(nproc)" --output-on-failure --timeout 900 "${@:2}" ;;
  *) say "unknown job '$JOB' (demo | test | build)"; exit 2 ;;
esac
