#!/usr/bin/env python3
"""Charts inference throughput against resolution, VMamba-T beside its timm peers, from the JSON
lines that tools/device_bench.sh commits (`vss-bench model --json` lines for VMamba-T, and
tools/bench_peers.py's lines for ConvNeXt-T, Swin-T and ViT-S, measured in the same run on one
GPU). One panel: images/s on a log scale against the side of the square input; a second: each
model's throughput relative to the best peer at that resolution.

    python tools/plot_resolution.py bench/results/h100_2026-12-07c_run7.jsonl -o chart.png --gpu "one H100"
"""
import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

PEERS = {
    "convnext_tiny": "ConvNeXt-T",
    "swin_tiny_patch4_window7_224": "Swin-T",
    "vit_small_patch16_224": "ViT-S",
}
VMAMBA_T = "configs/backbones/vmamba_tiny.yaml"


def read_points(path, dtype):
    """{label: {resolution: images_per_s}} for inference lines of `dtype`: VMamba-T (no
    overrides) and the peers. Exits with `file:line: why` on a line that is not JSON."""
    points = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"plot_resolution.py: {path}:{number}: not JSON ({e.msg})")
            if r.get("dtype") != dtype or r.get("mode") == "train" or r.get("images_per_s") is None:
                continue
            is_model_bench = "vss-bench model " in r.get("cmd", "")  # not a seg / train line of the same config
            if is_model_bench and r.get("config") == VMAMBA_T and not r.get("overrides") and r.get("H") == r.get("W"):
                label, res = "VMamba-T (vsskit)", r["H"]
            elif r.get("model") in PEERS:
                label, res = PEERS[r["model"]], r["res"]
            else:
                continue
            series = points.setdefault(label, {})
            if res in series:
                sys.exit(f"plot_resolution.py: {path}:{number}: a second {dtype} line for {label} at {res}")
            series[res] = r["images_per_s"]
    return points


def relative_to_best_peer(points):
    """{label: {resolution: images_per_s / best peer's}} where at least one peer was measured."""
    peers = [p for label, p in points.items() if label in PEERS.values()]
    out = {}
    for label, series in points.items():
        for res, ips in series.items():
            best = max((p[res] for p in peers if res in p), default=None)
            if best:
                out.setdefault(label, {})[res] = ips / best
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jsonl", type=Path, help="committed JSON lines of one benchmark run")
    parser.add_argument("-o", "--output", type=Path, required=True, help="PNG to write")
    parser.add_argument("--dtype", default="bf16", help="the lines' dtype to chart (default bf16)")
    parser.add_argument("--gpu", default="", help="the GPU, for the title")
    args = parser.parse_args()
    if not args.jsonl.is_file():
        sys.exit(f"plot_resolution.py: {args.jsonl}: no such file")
    points = read_points(args.jsonl, args.dtype)
    if "VMamba-T (vsskit)" not in points:
        sys.exit(f"plot_resolution.py: {args.jsonl}: no {args.dtype} VMamba-T line ({VMAMBA_T}, no overrides)")

    import matplotlib
    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    fig, (ax, rel) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, series in sorted(points.items()):
        res = sorted(series)
        style = {"linewidth": 2.5, "color": "black"} if label.startswith("VMamba") else {}
        ax.plot(res, [series[r] for r in res], marker="o", label=label, **style)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("input side (pixels, square)")
    ax.set_ylabel(f"images/s ({args.dtype})")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    for label, series in sorted(relative_to_best_peer(points).items()):
        res = sorted(series)
        style = {"linewidth": 2.5, "color": "black"} if label.startswith("VMamba") else {}
        rel.plot(res, [series[r] for r in res], marker="o", label=label, **style)
    rel.axhline(1.0, color="gray", linestyle="--", linewidth=1)
    rel.set_xscale("log", base=2)
    rel.set_xlabel("input side (pixels, square)")
    rel.set_ylabel("throughput / best peer's")
    rel.grid(alpha=0.3)
    title = f"Inference throughput against resolution ({args.jsonl.name}"
    fig.suptitle(title + (f", {args.gpu})" if args.gpu else ")"))
    fig.tight_layout()
    # Written to a temporary file in the target folder and renamed: never a half-written PNG.
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=args.output.parent, suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=100)
        os.replace(tmp, args.output)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(args.output)


if __name__ == "__main__":
    main()
