#!/usr/bin/env python3
"""Checks the layering rule: every `#include "layer/..."` of a non-test source file points
at its own layer or one below it, in

    core <- kernels <- scans <- backbones <- heads <- engine <- apps, bench
    core <- datasets <- heads

(heads may read datasets' record types; datasets never sees a model). Prints one line per
include against the order, `file:line: X includes Y (Y is above X)`, and exits 1 if any.

    python tools/check_includes.py [ROOT]     # ROOT: the checkout (default: this script's)
"""
import re
import sys
from pathlib import Path

# Each layer and the layers it builds on directly; what it may include is the closure.
BUILDS_ON = {
    "core": [],
    "kernels": ["core"],
    "scans": ["kernels"],
    "backbones": ["scans"],
    "datasets": ["core"],
    "heads": ["backbones", "datasets"],
    "engine": ["heads"],
    "apps": ["engine"],
    "bench": ["engine"],
}
SOURCE_SUFFIXES = {".h", ".hpp", ".cpp", ".cu", ".cuh"}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def below(layer):
    """Every layer `layer` may include, itself excluded."""
    found, todo = set(), list(BUILDS_ON[layer])
    while todo:
        lower = todo.pop()
        if lower not in found:
            found.add(lower)
            todo.extend(BUILDS_ON[lower])
    return found


def violations(root):
    allowed = {layer: below(layer) | {layer} for layer in BUILDS_ON}
    for layer in BUILDS_ON:
        for path in sorted((root / layer).rglob("*")):
            if path.suffix not in SOURCE_SUFFIXES:
                continue
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                match = INCLUDE.match(line)
                if not match:
                    continue
                # Includes are written from the checkout root; a bare name is a neighbour, and
                # anything else (a quoted third-party header) is no layer's.
                target = match.group(1).split("/")[0] if "/" in match.group(1) else layer
                if target not in BUILDS_ON or target in allowed[layer]:
                    continue
                where = "above" if layer in below(target) else "not below"
                yield f"{path.relative_to(root)}:{number}: {layer} includes {target} ({target} is {where} {layer})"


def main():
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    found = list(violations(root))
    for line in found:
        print(line)
    if found:
        sys.exit(1)
    print(f"check_includes.py: {', '.join(BUILDS_ON)}: no include against the order")


if __name__ == "__main__":
    main()
