"""`leti sample`: completions for a problem file from a checkpoint (hub name or local dir)."""
from __future__ import annotations

import json
import os

import torch

from leti.errors import UserError
from leti.io import atomic_write_jsonl, read_jsonl


def configure(p):
    p.add_argument("--model", required=True, help="checkpoint dir or hub name")
    p.add_argument("--problems", default=None, help="problem JSONL (docs/contracts.md)")
    p.add_argument("--spec", default=None, help="JSON list of {benchmark, problems, n, temperature, top_p, "
                   "max_new_tokens, seed, limit}: several problem files in one job, one model load")
    p.add_argument("--out", required=True, help="sample JSONL to write")
    p.add_argument("--n", type=int, default=1, help="samples per problem")
    p.add_argument("--temperature", type=float, default=1.0, help="0 = greedy")
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--stop", action="append", default=[], help="stop sequence (repeatable)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=64, help="sequences decoded together")
    p.add_argument("--conditioning", choices=["good", "bad", "none"], default="none")
    p.add_argument("--limit", type=int, default=None, help="first N problems only")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--no-progress", action="store_true")


def run(args):
    from leti.model import load_model, load_tokenizer, pick_device
    from leti.provenance import environment
    from leti.sampling.driver import sample_problems
    from leti.sampling.sampler import DecodingConfig, TorchSampler
    from leti.fcft.checkpoint import read_meta

    if args.threads:
        torch.set_num_threads(args.threads)
    if bool(args.problems) == bool(args.spec):
        raise UserError("give exactly one of --problems and --spec")
    device = pick_device(args.device)
    tok = load_tokenizer(args.model)
    model = load_model(args.model, device)
    autocast = torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else None
    sampler = TorchSampler(model, tok, device, autocast_dtype=autocast)
    meta = read_meta(args.model)
    env = environment()  # once per job: it asks importlib.metadata for every pinned package
    items = json.loads(args.spec) if args.spec else [{
        "benchmark": None, "problems": args.problems, "n": args.n, "temperature": args.temperature,
        "top_p": args.top_p, "max_new_tokens": args.max_new_tokens, "seed": args.seed, "limit": args.limit}]
    parts = []
    for k, item in enumerate(items):
        problems = read_jsonl(item["problems"], required=("task_id", "prompt"))
        if item.get("limit"):
            problems = problems[: item["limit"]]
        config = DecodingConfig(n=item.get("n", 1), temperature=item.get("temperature", 1.0),
                                top_p=item.get("top_p", 1.0), max_new_tokens=item.get("max_new_tokens", 128),
                                stop=tuple(item.get("stop", args.stop)), seed=item.get("seed", args.seed),
                                batch_size=args.batch_size)
        provenance = {"checkpoint": str(args.model), "checkpoint_step": meta.get("global_step"),
                      "decoding": config.to_dict(), "conditioning": args.conditioning,
                      "versions": env["versions"], "slurm": env.get("slurm")}
        part = args.out if not args.spec else f"{args.out}.part{k}"
        sample_problems(problems, sampler, config, args.conditioning, part, provenance,
                        progress=not args.no_progress)
        parts.append((item.get("benchmark"), part))
    if args.spec:  # one file for all benchmarks, each row tagged with its benchmark
        rows = [{"benchmark": bench, **row} for bench, part in parts for row in read_jsonl(part)]
        atomic_write_jsonl(args.out, rows)
        for _, part in parts:
            os.unlink(part)
    print(f"wrote samples to {args.out}")
    return 0
