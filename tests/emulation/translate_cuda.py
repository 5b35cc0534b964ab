#!/usr/bin/env python3
"""Rewrites a kernels/cuda/*.cu file into C++ that runs its kernels on the CPU emulator.

usage: translate_cuda.py IN.cu OUT.cpp

Only what a host compiler cannot take is changed, so the emulated code is the shipped code:
  - the CUDA runtime / c10 CUDA includes become tests/emulation/cuda_emulation.h;
  - `kernel<<<grid, block, smem, stream>>>(args)` becomes
    `vss_emu::launch_named("kernel", kernel, grid, block, smem, stream)(args)`;
  - `extern __shared__ T name[];` becomes a pointer to the launch's dynamic shared memory;
  - `TORCH_LIBRARY_IMPL(vss, CUDA, m)` registers on the emulated device instead.
"""
import re
import sys

CUDA_INCLUDE = re.compile(r'^#include <(ATen/cuda/|c10/cuda/|cuda_runtime|cuda_bf16|cuda_fp16)[^>]*>\s*$',
                          re.M)
# The kernel expression is an identifier with optional template arguments, ending right
# before `<<<`; neither may cross a statement or a brace.
LAUNCH = re.compile(r'([A-Za-z_][\w:]*(?:<[^;{}]*?>)?)\s*<<<([^;{}]*?)>>>\s*\(', re.S)
DYNAMIC_SHARED = re.compile(r'extern\s+__shared__\s+(\w+)\s+(\w+)\s*\[\s*\]\s*;')
REGISTRATION = re.compile(r'TORCH_LIBRARY_IMPL\(\s*vss\s*,\s*CUDA\s*,\s*(\w+)\s*\)')


def translate(text: str, src: str) -> str:
    text = CUDA_INCLUDE.sub('', text)
    # The #line keeps compiler errors and debugger locations pointing at the .cu file.
    text = f'#include "tests/emulation/cuda_emulation.h"\n#line 1 "{src}"\n' + text
    text = LAUNCH.sub(lambda m: f'vss_emu::launch_named("{" ".join(m[1].split())}", {m[1]}, {m[2]})(',
                      text)
    text = DYNAMIC_SHARED.sub(lambda m: f'{m[1]}* {m[2]} = vss_emu::dynamic_shared<{m[1]}>();', text)
    text, registrations = REGISTRATION.subn(lambda m: f'VSS_EMU_LIBRARY_IMPL({m[1]})', text)
    if '<<<' in text:
        raise SystemExit(f'translate_cuda.py: {src}: a kernel launch it cannot parse is left')
    if registrations != 1:
        raise SystemExit(f'translate_cuda.py: {src}: expected one TORCH_LIBRARY_IMPL(vss, CUDA, m), found {registrations}')
    return text


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding='utf-8') as f:
        text = translate(f.read(), src)
    with open(dst, 'w', encoding='utf-8') as f:
        f.write(text)


if __name__ == '__main__':
    main()
