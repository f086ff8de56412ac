"""Where an FCFT optimizer step of the 350M shape spends its GPU time (docs/gpu.md §7).

Runs the optimized variant of bench/gpu.py (SDPA, bf16 autocast, packed, fused AdamW) once to warm
up, then one step under torch.profiler, and prints the top kernels by self CUDA time plus a split
into forward+backward and optimizer. Also times the same step with bf16 weights (no autocast).
    python bench/gpu_profile.py --micro 32
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

import gpu  # noqa: E402  (bench/gpu.py)


def step_fn(model, opt, run, shape, autocast, seed):
    from leti.model.loss import global_batch_loss
    vocab = gpu.SHAPES[shape]["vocab_size"]
    rows, masks = gpu.fcft_batch(run, vocab, seed)
    opt.zero_grad(set_to_none=True)
    torch.cuda.synchronize(); t0 = time.perf_counter()
    global_batch_loss(model, rows, masks, vocab - 1, run["micro"], torch.device("cuda"), autocast, False,
                       packing=True, pack_len=gpu.SHAPES[shape]["n_positions"])
    torch.cuda.synchronize(); t1 = time.perf_counter()
    opt.step()
    torch.cuda.synchronize(); t2 = time.perf_counter()
    tokens = sum(len(r) for r in rows)
    return t1 - t0, t2 - t1, tokens, gpu.model_flops(shape, [len(r) for r in rows])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="350m")
    ap.add_argument("--micro", type=int, default=32)
    ap.add_argument("--act", default=None, help="override activation_function (e.g. gelu_pytorch_tanh: one fused kernel)")
    ap.add_argument("--compile", action="store_true", help="also time torch.compile(model)")
    ap.add_argument("--no-profile", action="store_true")
    args = ap.parse_args()
    if args.act:
        from transformers import CodeGenConfig
        init = CodeGenConfig.__init__

        def patched(self, *a, **kw):
            kw["activation_function"] = args.act
            init(self, *a, **kw)
        CodeGenConfig.__init__ = patched
    run = dict(gpu.RUNS[args.shape], micro=args.micro)
    dev = torch.device("cuda")
    peak = gpu.peak_flops(torch.cuda.get_device_name(), None)
    variants = [("fp32 weights + bf16 autocast", torch.float32, True, False),
                ("bf16 weights", torch.bfloat16, False, False)]
    if args.compile:
        variants.append(("fp32 weights + bf16 autocast + torch.compile", torch.float32, True, True))
    for label, dtype, use_autocast, compiled in variants:
        model = gpu.build_model(args.shape, "sdpa", dev, dtype=dtype)
        if compiled:
            model = torch.compile(model, dynamic=True)
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=True)
        autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_autocast else contextlib.nullcontext
        step_fn(model, opt, run, args.shape, autocast, 0)  # warm-up
        if compiled:
            step_fn(model, opt, run, args.shape, autocast, 3)
        fb, op, tok, fl = step_fn(model, opt, run, args.shape, autocast, 1)
        print(f"{label} [act={args.act or 'config'}]: fwd+bwd {fb:.3f}s optimizer {op:.3f}s tokens {tok} -> {tok/(fb+op):.0f} tok/s, "
              f"MFU {fl/(fb+op)/peak:.3f} (fwd+bwd alone {fl/fb/peak:.3f})", flush=True)
        if use_autocast and not compiled and not args.no_profile:
            with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA,
                                                    torch.profiler.ProfilerActivity.CPU]) as prof:
                step_fn(model, opt, run, args.shape, autocast, 2)
            table = None
            for key in ("self_device_time_total", "self_cuda_time_total"):
                try:
                    table = prof.key_averages().table(sort_by=key, row_limit=25, max_name_column_width=60)
                    break
                except (AttributeError, KeyError, ValueError):
                    continue
            print(table)
        model = opt = None
        torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
