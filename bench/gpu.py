"""GPU-path benchmark: FCFT training throughput / MFU / peak memory and sampling throughput.

Builds the CodeGen-mono architectures from hand-written configurations (values from the public
model cards) with random weights, so nothing is downloaded. Every figure is measured against a
plain baseline in the same run:
  training   optimized: bf16 autocast (fp32 master weights) + SDPA + packed FCFT sequences
             [+ fused AdamW on CUDA]; baseline: fp32, eager attention, left-padded micro-batches.
             Both call leti.model.loss.global_batch_loss (the trainer's own code) plus AdamW.step.
  sampling   optimized: leti's TorchSampler, one prefill per prompt, KV cache copied n times,
             n=128 per prompt, T=1, top_p=1 (paper settings), bf16 autocast on CUDA;
             baseline: fp32 eager, one sequence at a time, the prompt re-encoded for every sample.
             The baseline decodes only a few sequences; tokens/s is a rate, so it is comparable.
MFU = model FLOPs / time / peak bf16 dense rate of the device, with model FLOPs per optimizer
step = 6 * N * tokens + 12 * n_layer * d_model * sum(L_i^2) (PaLM convention; N excludes the
input embedding, whose lookup costs no matmul; only real tokens count, never padding).

    .venv/bin/python bench/gpu.py --cpu-smoke --out /tmp/gpu-smoke.json   # CI, < 60 s, any machine
    python bench/gpu.py --shape 350m --out bench-350m.json                 # on a GPU node
    python bench/gpu.py --shape 2b --skip-sampling --out bench-2b.json
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import json
import platform
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from leti.core.io import atomic_write_json  # noqa: E402

# CodeGen-mono configurations (Salesforce model cards / config.json); vocab padded to 51200.
SHAPES = {
    "350m": dict(n_layer=20, n_embd=1024, n_head=16, rotary_dim=32, n_positions=2048, vocab_size=51200),
    "2b": dict(n_layer=32, n_embd=2560, n_head=32, rotary_dim=64, n_positions=2048, vocab_size=51200),
    "smoke": dict(n_layer=2, n_embd=128, n_head=4, rotary_dim=16, n_positions=256, vocab_size=1024),
}

# Peak dense bf16 tensor-core rates (FLOP/s), vendor data sheets; matched on the CUDA device name.
PEAK_BF16 = [
    ("H200", 989.4e12),          # H200 SXM (same compute as H100 SXM)
    ("H100 NVL", 835.0e12),
    ("H100 PCIe", 756.0e12),
    ("H100", 989.4e12),          # H100 SXM5 ("NVIDIA H100 80GB HBM3")
    ("A100", 312.0e12),          # SXM4 and PCIe
]

# Per-run settings. GPU shapes follow the paper: 128 sequences per optimizer step, FCFT lengths
# ~200-700 tokens, sampling n=128 per prompt with ~192-token prompts and 256 new tokens
# (spec §3: max_length 512 minus the prompt padded to 128).
RUNS = {
    "350m": dict(global_batch=128, micro=16, len_lo=200, len_hi=700, train_steps=3, ckpt=False,
                 prompts=2, prompt_len=192, n=128, max_new=256, base_seqs=4),
    "2b": dict(global_batch=64, micro=16, len_lo=200, len_hi=700, train_steps=2, ckpt=True,
               prompts=1, prompt_len=192, n=128, max_new=256, base_seqs=2),
    "smoke": dict(global_batch=8, micro=4, len_lo=12, len_hi=48, train_steps=5, ckpt=False,
                  prompts=2, prompt_len=16, n=8, max_new=8, base_seqs=2, sample_repeats=3),
}


def peak_flops(device_name: str, override_tflops: float | None) -> float | None:
    if override_tflops:
        return override_tflops * 1e12
    for key, val in PEAK_BF16:
        if key.lower() in device_name.lower():
            return val
    return None


def build_model(shape: str, attn: str, device, dtype=torch.float32, seed: int = 0):
    from transformers import CodeGenConfig, CodeGenForCausalLM

    s = SHAPES[shape]
    eos = s["vocab_size"] - 1
    cfg = CodeGenConfig(**s, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=eos,
                        eos_token_id=eos, pad_token_id=eos)
    cfg._attn_implementation = attn
    torch.manual_seed(seed)
    with torch.device(device):
        model = CodeGenForCausalLM(cfg)
    return model.to(dtype)


def count_params(shape: str) -> dict:
    """Parameter counts from the configuration (no model needed)."""
    s = SHAPES[shape]
    d, layers, V = s["n_embd"], s["n_layer"], s["vocab_size"]
    per_layer = 2 * d + 3 * d * d + d * d + (d * 4 * d + 4 * d) + (4 * d * d + d)  # ln, qkv, out, fc_in, fc_out
    total = V * d + layers * per_layer + 2 * d + (d * V + V)  # wte, blocks, ln_f, lm_head (+bias)
    return {"total": total, "matmul": total - V * d}


def memory_budget(shape: str, micro_tokens: int, checkpointing: bool, bf16_autocast: bool = True) -> dict:
    """Rough training memory (GB) for AdamW with fp32 master weights on one GPU.

    weights 4 + grads 4 + Adam m 4 + v 4 = 16 B/param; autocast keeps a bf16 copy of every weight
    it casts (2 B/param) for the duration of the forward/backward; activations per layer per token
    ~34*d bytes in 16-bit with SDPA (Korthikanti et al. 2022, no attention-score storage), or only
    the fp32 layer input (4*d) with checkpointing plus one layer recomputed; logits: bf16 output +
    fp32 copy + fp32 log-softmax/grad, ~10 B per token per vocab entry."""
    s = SHAPES[shape]
    p = count_params(shape)["total"]
    d, layers, V = s["n_embd"], s["n_layer"], s["vocab_size"]
    gb = 1e9
    states = 16 * p / gb
    cast = (2 * p / gb) if bf16_autocast else 0.0
    act_layer = 34 * d * micro_tokens / gb
    acts = (layers * 4 * d * micro_tokens / gb + act_layer) if checkpointing else layers * act_layer
    logits = 10 * V * micro_tokens / gb
    return {"params": p, "states_gb": round(states, 1), "autocast_copies_gb": round(cast, 1),
            "activations_gb": round(acts, 1), "logits_gb": round(logits, 1),
            "total_gb": round(states + cast + acts + logits, 1), "micro_tokens": micro_tokens,
            "checkpointing": checkpointing}


def fcft_batch(run: dict, vocab: int, seed: int) -> tuple[list[list[int]], list[list[int]]]:
    rng = random.Random(seed)
    rows = [[rng.randrange(vocab - 1) for _ in range(rng.randint(run["len_lo"], run["len_hi"]))]
            for _ in range(run["global_batch"])]
    return rows, [[1] * len(r) for r in rows]


def model_flops(shape: str, lengths: list[int]) -> float:
    s = SHAPES[shape]
    n = count_params(shape)["matmul"]
    return 6.0 * n * sum(lengths) + 12.0 * s["n_layer"] * s["n_embd"] * sum(L * L for L in lengths)


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def _reset_peak(device):
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak_gb(device):
    return round(torch.cuda.max_memory_allocated() / 1e9, 2) if device.type == "cuda" else None


def bench_train(shape: str, run: dict, variant: dict, device, peak: float | None) -> dict:
    from leti.model.loss import global_batch_loss

    _reset_peak(device)
    res = {"variant": variant["name"], "attn": variant["attn"], "precision": variant["precision"],
           "packing": variant["packing"], "checkpointing": run["ckpt"], "micro_batch_size": run["micro"],
           "global_batch": run["global_batch"]}
    try:
        model = build_model(shape, variant["attn"], device)
        if variant.get("fused_gelu"):
            from leti.model.fused_ops import fuse_gelu
            fuse_gelu(model)
        if run["ckpt"]:
            model.gradient_checkpointing_enable()
        model.train()
        kw = {"fused": True} if variant.get("fused") and device.type == "cuda" else {}
        opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.01, **kw)
        autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) \
            if variant["precision"] == "bf16-autocast" else contextlib.nullcontext
        vocab = SHAPES[shape]["vocab_size"]
        times, losses, tokens, flops = [], [], 0, 0.0
        for step in range(run["train_steps"] + 1):  # step 0 warms up (allocator, kernels)
            rows, masks = fcft_batch(run, vocab, seed=step)
            _sync(device)
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss, _ = global_batch_loss(model, rows, masks, vocab - 1, run["micro"], device, autocast, False,
                                         packing=variant["packing"], pack_len=SHAPES[shape]["n_positions"])
            opt.step()
            _sync(device)
            if step:
                times.append(time.perf_counter() - t0)
                tokens += sum(len(r) for r in rows)
                flops += model_flops(shape, [len(r) for r in rows])
                losses.append(round(loss, 4))
        # the median step time, scaled to all steps: robust to a machine shared with other work
        secs = sorted(times)[len(times) // 2] * len(times)
        res.update({"ok": True, "steps": len(times), "seconds": round(sum(times), 3),
                    "tokens_per_s": round(tokens / secs, 1), "tflops_per_s": round(flops / secs / 1e12, 3),
                    "mfu": round(flops / secs / peak, 4) if peak else None, "peak_mem_gb": _peak_gb(device),
                    "losses": losses})
    except torch.cuda.OutOfMemoryError as exc:  # a baseline that does not fit is a result too
        res.update({"ok": False, "error": "OOM: " + str(exc).splitlines()[0][:160], "peak_mem_gb": _peak_gb(device)})
    finally:
        model = opt = None  # noqa: F841
        _reset_peak(device)
    return res


class _FakeTokenizer:
    """Prompt text -> fixed random ids; ids -> space-separated text. Enough for TorchSampler."""

    def __init__(self, vocab: int, prompt_len: int):
        self.vocab, self.prompt_len = vocab, prompt_len
        self.eos_token_id = self.pad_token_id = vocab - 1

    def __call__(self, texts, add_special_tokens=False):
        out = []
        for t in texts:
            rng = random.Random(t)
            out.append([rng.randrange(self.vocab - 1) for _ in range(self.prompt_len)])
        return {"input_ids": out}

    def decode(self, ids, skip_special_tokens=True):
        return " ".join(str(i) for i in ids if i != self.eos_token_id)


def bench_sampling(shape: str, run: dict, device, baseline: bool) -> dict:
    from leti.sampling.sampler import DecodingConfig, TorchSampler

    _reset_peak(device)
    vocab = SHAPES[shape]["vocab_size"]
    tok = _FakeTokenizer(vocab, run["prompt_len"])
    attn = "eager" if baseline else "sdpa"
    bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported() and not baseline
    res = {"variant": "baseline" if baseline else "optimized", "attn": attn,
           "precision": "bf16-autocast" if bf16 else "fp32", "n_per_prompt": 1 if baseline else run["n"],
           "prompt_len": run["prompt_len"], "max_new_tokens": run["max_new"], "temperature": 1.0, "top_p": 1.0}
    try:
        model = build_model(shape, attn, device)
        sampler = TorchSampler(model, tok, device, autocast_dtype=torch.bfloat16 if bf16 else None)
        prompts = [f"prompt {k}" for k in range(run["prompts"])]
        # warm-up (kernels, allocator), not timed
        sampler.sample(prompts[:1], DecodingConfig(n=2, temperature=1.0, max_new_tokens=2, seed=0))
        best = None
        for _ in range(run.get("sample_repeats", 1)):
            secs, texts = _timed_sampling(sampler, prompts, run, device, baseline)
            best = secs if best is None else min(best, secs)
        secs = best
        tokens = sum(len(t.split()) for t in texts)
        res.update({"ok": True, "sequences": len(texts), "tokens": tokens, "seconds": round(secs, 3),
                    "tokens_per_s": round(tokens / secs, 1), "peak_mem_gb": _peak_gb(device)})
    except torch.cuda.OutOfMemoryError as exc:
        res.update({"ok": False, "error": "OOM: " + str(exc).splitlines()[0][:160], "peak_mem_gb": _peak_gb(device)})
    finally:
        model = sampler = None  # noqa: F841
        _reset_peak(device)
    return res


def _timed_sampling(sampler, prompts, run, device, baseline):
    from leti.sampling.sampler import DecodingConfig

    _sync(device)
    t0 = time.perf_counter()
    texts = []
    if baseline:  # one sequence at a time, prompt encoded again for every sample
        for k in range(run["base_seqs"]):
            cfg = DecodingConfig(n=1, temperature=1.0, top_p=1.0, max_new_tokens=run["max_new"], seed=k)
            texts += sampler.sample([prompts[k % len(prompts)]], cfg, batch_key=str(k))[0]
    else:  # the driver's pattern: one call per prompt with all its n samples
        cfg = DecodingConfig(n=run["n"], temperature=1.0, top_p=1.0, max_new_tokens=run["max_new"], seed=0,
                             batch_size=run["n"])
        for p in prompts:
            texts += sampler.sample([p], cfg, batch_key=p)[0]
    _sync(device)
    return time.perf_counter() - t0, texts


def _ratio(a: dict, b: dict, key: str = "tokens_per_s"):
    if a.get("ok") and b.get("ok") and b.get(key):
        return round(a[key] / b[key], 2)
    return None


def fmt_table(rows: list[dict], cols: list[str]) -> str:
    cells = [[str(r.get(c, "")) if r.get(c) is not None else "-" for c in cols] for r in rows]
    widths = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(cols)]
    line = lambda xs: "  ".join(x.ljust(w) for x, w in zip(xs, widths))  # noqa: E731
    return "\n".join([line(cols), line(["-" * w for w in widths])] + [line(x) for x in cells])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", choices=["350m", "2b", "smoke"], default=None,
                    help="model shape (default: 350m on CUDA, smoke otherwise)")
    ap.add_argument("--cpu-smoke", action="store_true", help="reduced shape on CPU, seconds (CI)")
    ap.add_argument("--device", default=None, help="cuda | cpu (default: cuda if available, cpu for --cpu-smoke)")
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--skip-sampling", action="store_true")
    ap.add_argument("--train-steps", type=int, default=None, help="timed optimizer steps per variant")
    ap.add_argument("--micro", type=int, default=None, help="micro-batch size (sequences)")
    ap.add_argument("--global-batch", type=int, default=None, help="sequences per optimizer step")
    ap.add_argument("--checkpointing", choices=["on", "off"], default=None, help="gradient checkpointing")
    ap.add_argument("--max-new-tokens", type=int, default=None)
    ap.add_argument("--peak-tflops", type=float, default=None, help="override the device's peak bf16 TFLOP/s")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default 1 on CPU: a shared machine makes multi-thread timings noise)")
    ap.add_argument("--fused-gelu", action="store_true", help="add a variant with train.fused_gelu (one GELU kernel)")
    ap.add_argument("--out", default=None, help="write the figures to this JSON file")
    args = ap.parse_args(argv)

    cuda = torch.cuda.is_available()
    device = torch.device(args.device or ("cpu" if args.cpu_smoke or not cuda else "cuda"))
    shape = args.shape or ("smoke" if args.cpu_smoke or device.type != "cuda" else "350m")
    run = dict(RUNS[shape])
    for key, val in (("train_steps", args.train_steps), ("micro", args.micro), ("global_batch", args.global_batch),
                     ("max_new", args.max_new_tokens)):
        if val is not None:
            run[key] = val
    if args.checkpointing:
        run["ckpt"] = args.checkpointing == "on"
    threads = args.threads or (1 if device.type == "cpu" else None)
    if threads:
        torch.set_num_threads(threads)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else (platform.processor() or platform.machine())
    peak = peak_flops(name, args.peak_tflops) if device.type == "cuda" or args.peak_tflops else None
    bf16_ok = device.type == "cuda" and torch.cuda.is_bf16_supported()
    print(f"device: {device.type} ({name}); shape {shape}: {SHAPES[shape]}; params {count_params(shape)['total']:,}; "
          f"peak bf16 {peak / 1e12 if peak else 'n/a'} TFLOP/s; torch {torch.__version__}"
          + (f"; threads {torch.get_num_threads()}" if device.type == "cpu" else ""))
    report = {"device": {"type": device.type, "name": name, "peak_bf16_flops": peak,
                         "cuda": torch.version.cuda, "torch": torch.__version__},
              "shape": shape, "config": SHAPES[shape], "params": count_params(shape), "run": run,
              "label": "CPU, reduced shape" if device.type == "cpu" else f"{name}, {shape}",
              "train": [], "sampling": [], "ratios": {}}
    import transformers
    report["device"]["transformers"] = transformers.__version__

    if not args.skip_train:
        variants = [
            {"name": "baseline", "attn": "eager", "precision": "fp32", "packing": False},
            {"name": "sdpa+bf16" if bf16_ok else "sdpa", "attn": "sdpa",
             "precision": "bf16-autocast" if bf16_ok else "fp32", "packing": False, "fused": True},
            {"name": "sdpa+bf16+packed" if bf16_ok else "sdpa+packed", "attn": "sdpa",
             "precision": "bf16-autocast" if bf16_ok else "fp32", "packing": True, "fused": True},
        ]
        if args.fused_gelu:  # train.fused_gelu: gelu_new as one kernel (docs/gpu.md §7)
            variants.append(dict(variants[-1], name=variants[-1]["name"] + "+fused-gelu", fused_gelu=True))
        for v in variants:
            r = bench_train(shape, run, v, device, peak)
            report["train"].append(r)
            print(f"  train {r['variant']}: {r.get('tokens_per_s', r.get('error'))} tok/s", flush=True)
        base, best = report["train"][0], report["train"][-1]
        report["ratios"]["train_tokens_per_s_vs_baseline"] = _ratio(best, base)
        report["ratios"]["train_packed_vs_padded"] = _ratio(report["train"][2], report["train"][1])
        if args.fused_gelu:
            report["ratios"]["train_fused_gelu_vs_packed"] = _ratio(best, report["train"][2])
        print("\nFCFT training (tokens/s counts real tokens; padding is not work)")
        print(fmt_table(report["train"], ["variant", "attn", "precision", "packing", "checkpointing",
                                          "tokens_per_s", "tflops_per_s", "mfu", "peak_mem_gb", "seconds"]))
    if not args.skip_sampling:
        for baseline in (True, False):
            r = bench_sampling(shape, run, device, baseline)
            report["sampling"].append(r)
            print(f"  sample {r['variant']}: {r.get('tokens_per_s', r.get('error'))} tok/s", flush=True)
        report["ratios"]["sampling_tokens_per_s_vs_baseline"] = _ratio(report["sampling"][1], report["sampling"][0])
        print("\nSampling (T=1, top_p=1; baseline: one sequence at a time, no prompt dedup)")
        print(fmt_table(report["sampling"], ["variant", "attn", "precision", "n_per_prompt", "sequences",
                                             "tokens", "tokens_per_s", "peak_mem_gb", "seconds"]))
    micro_tokens = run["micro"] * (run["len_lo"] + run["len_hi"]) // 2
    report["memory_budget"] = {s: {f"ckpt_{c}": memory_budget(s, 16 * 450, c == "on") for c in ("off", "on")}
                               for s in ("350m", "2b")}
    report["memory_budget_this_run"] = memory_budget(shape, micro_tokens, run["ckpt"])
    if device.type == "cpu":
        report["process_max_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)
    print("\nratios:", json.dumps(report["ratios"]))
    print("memory estimate, 2B, micro 16 x 450 tokens:",
          {k: v["total_gb"] for k, v in report["memory_budget"]["2b"].items()}, "GB")
    if args.out:
        atomic_write_json(args.out, report)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
