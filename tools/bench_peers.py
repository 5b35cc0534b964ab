#!/usr/bin/env python3
"""Peer backbones timed on the same GPU as vss-bench model, for same-run ratios.

timm's ConvNeXt-T, Swin-T and ViT-S (random weights, eval, channels_last, torch.inference_mode;
bf16 = torch.autocast as timm's --amp), images/s from the median of CUDA-event timed forward
passes after warm-up, and the caching allocator's peak memory; one JSON line per case:
    python3 tools/bench_peers.py [--cases 224:128:fp32,224:128:bf16,1024:4:bf16,2048:1:bf16]
Never a test oracle: a yardstick for the benchmark tables only.
"""
import argparse
import json
import statistics

import timm
import torch

MODELS = {
    "convnext_tiny": {},
    "swin_tiny_patch4_window7_224": {"img_size": None},  # filled with the input size
    "vit_small_patch16_224": {"img_size": None, "dynamic_img_size": False},
}


def time_model(name, res, batch, dtype, repeat, warmup):
    kwargs = {k: (res if v is None else v) for k, v in MODELS[name].items()}
    model = timm.create_model(name, pretrained=False, **kwargs).cuda().eval()
    model = model.to(memory_format=torch.channels_last)
    x = torch.randn(batch, 3, res, res, device="cuda").to(memory_format=torch.channels_last)
    ctx = torch.autocast("cuda", dtype=torch.bfloat16, enabled=dtype == "bf16")
    times = []
    with torch.inference_mode(), ctx:
        for _ in range(warmup):
            model(x)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        for _ in range(repeat):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            model(x)
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end))
    ms = statistics.median(times)
    return {"model": name, "res": res, "batch": batch, "dtype": dtype, "ms_per_batch": ms,
            "images_per_s": batch / (ms / 1e3),
            "peak_mib": torch.cuda.max_memory_allocated() / 2**20,
            "params": sum(p.numel() for p in model.parameters()), "timm": timm.__version__,
            "gpu": torch.cuda.get_device_name()}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", default="224:128:fp32,224:128:bf16,1024:4:bf16,2048:1:bf16")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    a = p.parse_args()
    for case in a.cases.split(","):
        res, batch, dtype = case.split(":")
        for name in a.models.split(","):
            try:
                r = time_model(name, int(res), int(batch), dtype, a.repeat, a.warmup)
            except Exception as e:  # a peer that cannot run a size is reported, not fatal
                r = {"model": name, "res": int(res), "batch": int(batch), "dtype": dtype, "error": str(e)[:200]}
            print(json.dumps(r), flush=True)
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
