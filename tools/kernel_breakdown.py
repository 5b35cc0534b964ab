#!/usr/bin/env python3
"""Where a GPU run's time goes, from Nsight Compute's per-kernel durations.

usage: kernel_breakdown.py NCU.csv [--top N] [--skip-first-step]

NCU.csv is `ncu --metrics gpu__time_duration.sum --csv --page raw <program>` (one row per
kernel launch; the program's own output before the table is skipped). Prints the summed
time per category (the scan forward / backward, GEMMs, norms, elementwise, optimizer, ...)
as a markdown table, then the N kernels that take the most time. --skip-first-step drops
every kernel up to the end of the first optimizer step (a warm-up step: the optimizer's state
is created there, hundreds of tiny fills no later step has).
"""
import argparse
import csv
import re
import sys
from collections import defaultdict

# First match wins: the order puts specific names (our kernels, cuBLAS) before generic ones.
CATEGORIES = [
    ("scan backward", r"scan.*bwd|bwd.*scan|plan_bwd"),
    ("scan forward", r"scan|plan_cl|plan_fwd"),
    ("walk flatten / merge", r"walk_flatten|walk_merge"),
    ("dt_proj (vss::dt_projection)", r"dt_projection"),
    ("GEMM (cuBLAS / CUTLASS)", r"gemm|cutlass|nvjet|xmma|sm90_|cublas"),
    ("convolution", r"conv|depthwise|cudnn|implicit|winograd|fft"),
    ("LayerNorm", r"layer_norm|layernorm|LayerNorm|channel_norm"),
    ("optimizer", r"adam|Adam|multi_tensor|foreach"),
    ("softmax / loss", r"softmax|nll_loss|cross_entropy|log_softmax"),
    ("reductions", r"reduce_kernel|Reduce|sum_|norm_kernel"),
    ("layout copies and casts", r"copy|transpose|permute|cat_|CatArray|index|gather|scatter|im2col|col2im"),
    ("elementwise", r"elementwise|vectorized|unrolled|Functor|gelu|GeLU|silu|mul|add|fill|channel_bias"),
]


def read_rows(path):
    with open(path, newline="") as f:
        lines = f.readlines()
    start = next((i for i, line in enumerate(lines) if line.startswith('"ID"')), None)
    if start is None:
        sys.exit(f"kernel_breakdown.py: {path}: no ncu CSV table (a line starting with \"ID\")")
    rows = list(csv.reader(lines[start:]))
    header, units = rows[0], rows[1]
    name_col = header.index("Kernel Name")
    time_col = header.index("gpu__time_duration.sum")
    scale = {"nsecond": 1e-6, "ns": 1e-6, "usecond": 1e-3, "us": 1e-3, "msecond": 1.0, "ms": 1.0, "second": 1e3, "s": 1e3}.get(units[time_col])
    if scale is None:
        sys.exit(f"kernel_breakdown.py: {path}: unknown time unit '{units[time_col]}'")
    for row in rows[2:]:
        if len(row) > time_col and row[time_col]:
            yield row[name_col], float(row[time_col].replace(",", "")) * scale


def category(name):
    for label, pattern in CATEGORIES:
        if re.search(pattern, name):
            return label
    return "other"


def after_first_step(rows):
    """The rows after the first optimizer step: its kernels and the fills between them that
    create the optimizer's state."""
    optimizer = dict(CATEGORIES)["optimizer"]
    step = optimizer + "|FillFunctor"
    seen = False
    out = []
    for name, ms in rows:
        if out or (seen and not re.search(step, name)):
            out.append((name, ms))
        elif re.search(optimizer, name):
            seen = True
    if not seen:
        sys.exit("kernel_breakdown.py: --skip-first-step: no optimizer kernel in the profile")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("csv")
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--skip-first-step", action="store_true")
    a = p.parse_args()
    rows = list(read_rows(a.csv))
    if a.skip_first_step:
        rows = after_first_step(rows)
    by_category, by_kernel, launches = defaultdict(float), defaultdict(float), defaultdict(int)
    for name, ms in rows:
        short = re.sub(r"\(.*", "", name)[:110]
        by_category[category(name)] += ms
        by_kernel[short] += ms
        launches[category(name)] += 1
    total = sum(by_category.values())
    print(f"{sum(launches.values())} kernels, {total:.2f} ms of kernel time\n")
    print("| category | ms | share | launches |\n|---|---|---|---|")
    for label, ms in sorted(by_category.items(), key=lambda kv: -kv[1]):
        print(f"| {label} | {ms:.2f} | {100 * ms / total:.1f}% | {launches[label]} |")
    print(f"\n| top kernels | ms | share |\n|---|---|---|")
    for name, ms in sorted(by_kernel.items(), key=lambda kv: -kv[1])[: a.top]:
        print(f"| `{name}` | {ms:.2f} | {100 * ms / total:.1f}% |")


if __name__ == "__main__":
    main()
