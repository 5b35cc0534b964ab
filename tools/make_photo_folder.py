#!/usr/bin/env python3
"""Writes an ImageFolder of ImageNet-sized JPEG photographs for timing the training loader
(vss-bench loader): crops of scikit-image's bundled sample photographs (freely licensed,
shipped in the pip package, nothing downloaded), each resized to ImageNet's typical 500x375 or
375x500 and saved as JPEG quality 90, the same decode cost per image as ImageNet's files.

    python tools/make_photo_folder.py out/photos [--classes 4] [--per-class 32] [--seed 0]

Writes OUT/train/class<k>/<i>.jpg and OUT/val/class<k>/<i>.jpg (a quarter as many).
"""
import argparse
import sys
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--classes", type=int, default=4)
    ap.add_argument("--per-class", type=int, default=32, help="training images per class")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    try:
        import numpy as np
        from PIL import Image
        from skimage import data
    except ImportError as e:
        sys.exit(f"make_photo_folder.py: {e.name} is missing (bash tools/bootstrap.sh installs scikit-image and Pillow)")
    photos = [Image.fromarray(getattr(data, name)()).convert("RGB")
              for name in ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry")]
    rng = np.random.default_rng(args.seed)
    for split, count in (("train", args.per_class), ("val", max(1, args.per_class // 4))):
        for k in range(args.classes):
            folder = args.out / split / f"class{k}"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                photo = photos[int(rng.integers(len(photos)))]
                w, h = photo.size
                cw, ch = int(w * rng.uniform(0.6, 1.0)), int(h * rng.uniform(0.6, 1.0))
                x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
                size = (500, 375) if rng.random() < 0.7 else (375, 500)
                photo.crop((x, y, x + cw, y + ch)).resize(size, Image.BICUBIC).save(folder / f"{i:03d}.jpg", quality=90)
    print(f"wrote {args.classes} classes x {args.per_class} training JPEGs under {args.out}/")


if __name__ == "__main__":
    main()
