#!/usr/bin/env bash
# Configures this checkout with another CMake and builds the op library (every .cu file) with
# the default unity build: what the GPU machine's CMake 4 does, checked where CI's own build
# uses Debian's CMake 3.25 (CMake 4 also batches CUDA sources unless told not to, and writes
# test properties as bracket arguments). Exit 77 (ctest: skipped) when that CMake is absent.
#   tools/check_cmake_build.sh CMAKE BUILD_DIR TORCH_PREFIX PYTHON
set -euo pipefail
cmake_bin=$1 build=$2 torch_prefix=$3 python=$4
src=$(cd "$(dirname "$0")/.." && pwd)
if ! "$cmake_bin" --version >/dev/null 2>&1; then
  echo "no CMake at $cmake_bin (bash tools/bootstrap.sh installs pip's): skipped"
  exit 77
fi
"$cmake_bin" --version | head -1
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
"$cmake_bin" -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVSS_UNITY_BUILD=ON \
  -DCMAKE_PREFIX_PATH="$torch_prefix" -DVSS_PYTHON="$python" "${launcher[@]}" >"$build.configure.log" 2>&1 ||
  { tail -20 "$build.configure.log"; exit 1; }
grep -h "vsskit:" "$build.configure.log"
# A unity batch of .cu files is what broke (twin helpers in anonymous namespaces collide).
if ls "$build"/kernels/CMakeFiles/vss_kernels.dir/Unity/*.cu >/dev/null 2>&1; then
  echo "CUDA sources were put in a unity batch: $(ls "$build"/kernels/CMakeFiles/vss_kernels.dir/Unity/*.cu)"
  exit 1
fi
"$cmake_bin" --build "$build" --target vss_kernels -j "$(nproc)" >"$build.build.log" 2>&1 ||
  { grep -E "error|FAILED" -A3 "$build.build.log" | head -40; exit 1; }
echo "vss_kernels built with $("$cmake_bin" --version | head -1)"
