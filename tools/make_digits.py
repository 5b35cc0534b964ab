#!/usr/bin/env python3
"""Writes scikit-learn's bundled handwritten digits (1797 real 8x8 scans, 10 classes; UCI
"Optical Recognition of Handwritten Digits", shipped inside the pip package, so nothing is
downloaded) as a torchvision ImageFolder for vss-train / vss-classify eval:

    OUT/train/<digit>/<index>.png, OUT/val/<digit>/<index>.png   (8x8 grey PNG, 0..16 -> 0..255)

The split is stratified, 25% held out, fixed by --seed (sklearn's train_test_split). It also
prints the accuracy of a linear baseline on the same split (multinomial logistic regression on
the 64 raw pixels), the number a VSSM trained on the folder is compared with.

    python tools/make_digits.py out/digits [--seed 0] [--json]
"""
import argparse
import json
import sys
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="folder to create (must not hold a train/ or val/ folder yet)")
    ap.add_argument("--seed", type=int, default=0, help="split seed (default 0)")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args()
    try:
        import numpy as np
        from PIL import Image
        from sklearn.datasets import load_digits
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split
    except ImportError as e:
        sys.exit(f"make_digits.py: {e.name} is missing (bash tools/bootstrap.sh installs scikit-learn and Pillow)")
    for split in ("train", "val"):
        if (args.out / split).exists():
            sys.exit(f"make_digits.py: {args.out / split} already exists; pick another OUT or remove it")

    digits = load_digits()
    index = np.arange(len(digits.target))
    train, val = train_test_split(index, test_size=0.25, random_state=args.seed, stratify=digits.target)
    for split, members in (("train", train), ("val", val)):
        for i in members:
            folder = args.out / split / str(digits.target[i])
            folder.mkdir(parents=True, exist_ok=True)
            pixels = np.rint(digits.images[i] * (255.0 / 16.0)).astype(np.uint8)
            Image.fromarray(pixels, mode="L").save(folder / f"{i:04d}.png")

    baseline = LogisticRegression(max_iter=5000).fit(digits.data[train], digits.target[train])
    top1 = float(baseline.score(digits.data[val], digits.target[val]))
    summary = {"out": str(args.out), "train": int(len(train)), "val": int(len(val)),
               "linear_baseline_top1": top1}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"wrote {len(train)} training and {len(val)} held-out digits under {args.out}/; "
              f"linear baseline (logistic regression on raw pixels): top1 {top1:.4f}")


if __name__ == "__main__":
    main()
