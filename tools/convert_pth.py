#!/usr/bin/env python3
"""Convert an official VMamba checkpoint (.pth) to safetensors with vsskit's key names.

    python tools/convert_pth.py vssm_tiny.pth vmamba_tiny.safetensors

Heads convert the same way: MambaIR / MaIR (BasicSR: `params`, or `params_ema` beside it) and
MambaCD's MambaBCD (a bare state_dict, as its train script saves it).
The state_dict is found under `model`, `state_dict`, `params_ema`, `params` or `module`
(classification, mmseg/mmdet, BasicSR checkpoints), or the file is a bare state_dict.
A leading `backbone.` (mmseg) or `module.` (DataParallel) is removed, and the renames the
official VSSM applies to older checkpoints (specs/vmamba.md §4) are applied (not to
restoration nets, recognised by `conv_first.weight`, whose names are current). Non-tensor
entries are dropped. The output is written to a temporary name and renamed.
"""
import argparse
import json
import os
import re
import sys

NESTED_KEYS = ("model", "state_dict", "params_ema", "params", "module")

# (pattern, replacement) on whole keys, as VSSM._load_from_state_dict does for old checkpoints.
RENAMES = [
    (re.compile(r"^patch_embed\.proj\."), "patch_embed.0."),
    (re.compile(r"^patch_embed\.norm\."), "patch_embed.2."),
    (re.compile(r"^(layers\.\d+\.blocks\.\d+)\.ln_1\."), r"\1.norm."),
    (re.compile(r"^(layers\.\d+\.blocks\.\d+)\.self_attention\."), r"\1.op."),
    (re.compile(r"^norm\."), "classifier.norm."),
    (re.compile(r"^head\."), "classifier.head."),
]


def find_state_dict(obj, key=None):
    """The tensor dict inside a loaded checkpoint (`key` forces one entry)."""
    import torch

    if key is not None:
        if not isinstance(obj, dict) or key not in obj:
            raise SystemExit(f"convert_pth: no entry '{key}' in the checkpoint")
        return obj[key]
    while isinstance(obj, dict) and not any(isinstance(v, torch.Tensor) for v in obj.values()):
        inner = next((obj[k] for k in NESTED_KEYS if isinstance(obj.get(k), dict)), None)
        if inner is None:
            raise SystemExit("convert_pth: no state_dict found (top-level keys: "
                             + ", ".join(map(str, obj.keys())) + ")")
        obj = inner
    if not isinstance(obj, dict):
        raise SystemExit(f"convert_pth: expected a dict of tensors, got {type(obj).__name__}")
    return obj


def rename(key, vmamba=True):
    for prefix in ("module.", "backbone."):
        if key.startswith(prefix):
            key = key[len(prefix):]
    if vmamba:
        for pattern, repl in RENAMES:
            key = pattern.sub(repl, key)
    return key


def is_restoration_net(state):
    """MambaIR / MaIR (BasicSR) state_dicts: their top-level `norm` and `patch_embed.norm`
    are real names, not VMamba's old ones, so the renames must not touch them."""
    return any(k.split("module.", 1)[-1] == "conv_first.weight" for k in state)


def convert(state):
    import torch

    out = {}
    vmamba = not is_restoration_net(state)
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            continue
        new = rename(key, vmamba)
        if new in out:
            raise SystemExit(f"convert_pth: keys '{key}' and another both map to '{new}'")
        out[new] = value.detach().cpu().contiguous()
    return out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="official .pth checkpoint")
    parser.add_argument("output", help="safetensors file to write")
    parser.add_argument("--key", help="take the state_dict from this top-level entry")
    parser.add_argument("--dtype", choices=["keep", "float32", "float16", "bfloat16"], default="keep",
                        help="cast floating-point tensors (default: keep)")
    parser.add_argument("--allow-pickle", action="store_true",
                        help="trust the file and unpickle non-tensor objects too (full training "
                             "checkpoints hold e.g. a yacs config); off by default")
    args = parser.parse_args(argv)

    import torch
    from safetensors.torch import save_file

    try:
        ckpt = torch.load(args.input, map_location="cpu", weights_only=not args.allow_pickle)
    except Exception as e:  # noqa: BLE001 - report any unreadable file in one line
        hint = "" if args.allow_pickle else " (if you trust it, retry with --allow-pickle)"
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise SystemExit(f"convert_pth: {args.input}: cannot read checkpoint{hint}: {first}")
    tensors = convert(find_state_dict(ckpt, args.key))
    if not tensors:
        raise SystemExit(f"convert_pth: {args.input}: the state_dict holds no tensors")
    if args.dtype != "keep":
        dtype = getattr(torch, args.dtype)
        tensors = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in tensors.items()}
    metadata = {"source": os.path.basename(args.input), "converter": "vsskit tools/convert_pth.py"}
    tmp = f"{args.output}.tmp.{os.getpid()}"
    try:
        save_file(tensors, tmp, metadata=metadata)
        os.replace(tmp, args.output)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(json.dumps({"output": args.output, "tensors": len(tensors)}))


if __name__ == "__main__":
    main(sys.argv[1:])
