#!/usr/bin/env python3
"""Peer backbones timed on the same GPU as vss-bench model / train, for same-run ratios.

timm's ConvNeXt-T, Swin-T and ViT-S (random weights, channels_last; bf16 = torch.autocast as
timm's --amp), images/s from the median of CUDA-event timed passes after warm-up, and the
caching allocator's peak memory; one JSON line per case:
    python3 tools/bench_peers.py [--cases 224:128:fp32,224:128:bf16,1024:4:bf16,2048:1:bf16]
    python3 tools/bench_peers.py --train [--cases 224:128:bf16]
Inference: eval mode under torch.inference_mode. --train: what `vss-bench train` times for a
classifier, one full step on a batch kept on the GPU: zero grad, forward + cross-entropy on
random labels under autocast, backward, AdamW step (lr 1e-3, weight decay 0.05; PyTorch's
default multi-tensor implementation, or its fused one with --fused-adamw).
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


def median_ms(fn, repeat, warmup):
    """Median CUDA-event time of fn() after warm-up, and the peak memory over the timed runs."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times), torch.cuda.max_memory_allocated() / 2**20


def time_model(name, res, batch, dtype, repeat, warmup, train=False, fused_adamw=False):
    kwargs = {k: (res if v is None else v) for k, v in MODELS[name].items()}
    model = timm.create_model(name, pretrained=False, **kwargs).cuda()
    model = model.to(memory_format=torch.channels_last)
    x = torch.randn(batch, 3, res, res, device="cuda").to(memory_format=torch.channels_last)
    ctx = lambda: torch.autocast("cuda", dtype=torch.bfloat16, enabled=dtype == "bf16")
    if train:
        model.train()
        labels = torch.randint(0, model.num_classes, (batch,), device="cuda")
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05, fused=fused_adamw or None)

        def step():
            opt.zero_grad(set_to_none=True)
            with ctx():
                loss = torch.nn.functional.cross_entropy(model(x), labels)
            loss.backward()
            opt.step()

        ms, peak = median_ms(step, repeat, warmup)
    else:
        model.eval()
        with torch.inference_mode(), ctx():
            ms, peak = median_ms(lambda: model(x), repeat, warmup)
    r = {"model": name, "res": res, "batch": batch, "dtype": dtype, "ms_per_batch": ms,
         "images_per_s": batch / (ms / 1e3), "peak_mib": peak,
         "params": sum(p.numel() for p in model.parameters()), "timm": timm.__version__,
         "gpu": torch.cuda.get_device_name()}
    if train:
        r.update(mode="train", optimizer="adamw_fused" if fused_adamw else "adamw_foreach")
    return r


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", default=None,
                   help="res:batch:dtype,... (default 224:128:fp32,224:128:bf16,1024:4:bf16,2048:1:bf16; "
                        "with --train 224:128:bf16)")
    p.add_argument("--train", action="store_true", help="time training steps instead of inference")
    p.add_argument("--fused-adamw", action="store_true", help="--train: PyTorch's fused AdamW")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    a = p.parse_args()
    if a.cases is None:
        a.cases = "224:128:bf16" if a.train else "224:128:fp32,224:128:bf16,1024:4:bf16,2048:1:bf16"
    for case in a.cases.split(","):
        res, batch, dtype = case.split(":")
        for name in a.models.split(","):
            try:
                r = time_model(name, int(res), int(batch), dtype, a.repeat, a.warmup, a.train, a.fused_adamw)
            except Exception as e:  # a peer that cannot run a size is reported, not fatal
                r = {"model": name, "res": int(res), "batch": int(batch), "dtype": dtype, "error": str(e)[:200]}
            print(json.dumps(r), flush=True)
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
