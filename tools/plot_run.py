#!/usr/bin/env python3
"""Plots a vss-train run: reads RUN_DIR/metrics.jsonl (one JSON object per logged or
evaluated step) and writes one PNG with a panel per quantity (loss, lr, throughput and the
validation metric) against the step.

    python tools/plot_run.py runs/shapes_tiny [-o curves.png]
"""
import argparse
import json
import sys
from pathlib import Path


def read_series(metrics_file):
    """{name: ([steps], [values])} for every numeric key except 'step'."""
    series = {}
    with open(metrics_file) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"plot_run.py: {metrics_file}:{number}: not JSON ({e.msg})")
            step = record.get("step")
            if step is None:
                sys.exit(f"plot_run.py: {metrics_file}:{number}: no 'step'")
            for key, value in record.items():
                if key != "step" and isinstance(value, (int, float)):
                    steps, values = series.setdefault(key, ([], []))
                    steps.append(step)
                    values.append(value)
    return series


def main():
    parser = argparse.ArgumentParser(description="Plot a vss-train run's metrics.jsonl as PNG curves.")
    parser.add_argument("run_dir", type=Path, help="run directory (holds metrics.jsonl)")
    parser.add_argument("-o", "--output", type=Path, help="PNG to write (default RUN_DIR/curves.png)")
    args = parser.parse_args()
    metrics_file = args.run_dir / "metrics.jsonl"
    if not metrics_file.is_file():
        sys.exit(f"plot_run.py: {metrics_file}: no such file")
    series = read_series(metrics_file)
    if not series:
        sys.exit(f"plot_run.py: {metrics_file}: no numeric entries")

    import matplotlib
    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(series), 1, figsize=(7, 2.4 * len(series)), sharex=True, squeeze=False)
    for ax, (name, (steps, values)) in zip(axes[:, 0], series.items()):
        ax.plot(steps, values, marker="o" if len(steps) < 20 else None)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("step")
    fig.suptitle(str(args.run_dir))
    fig.tight_layout()
    output = args.output or args.run_dir / "curves.png"
    fig.savefig(output, dpi=100)
    print(output)


if __name__ == "__main__":
    main()
