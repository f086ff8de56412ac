"""Data-stage commands: `leti synth`, `leti data`, `leti pretrain-corpus` (problems and corpora as JSONL)."""
from __future__ import annotations

import argparse
import json

from leti.core.errors import UserError
from leti.core.io import atomic_write_json, atomic_write_jsonl, sha256_file
from leti.data import MANIFEST_SUFFIX
BENCHMARK_CHOICES = ("mbpp", "humaneval", "gsm8k", "bbh", "eae")

_SYNTH_HELP = {
    "n_train": "MBPP-format train problems",
    "n_test": "MBPP-format test problems (held-out (template, param) combinations)",
    "n_transfer": "HumanEval-format problems from held-out templates",
    "n_retention": "PaL arithmetic word problems (GSM8K analogue)",
    "n_heldout": "held-out pre-training documents (regularization metric)",
    "n_humaneval_docs": "HumanEval-format documents of train combinations in the corpus",
    "n_pal_docs": "PaL documents in the corpus (numbers disjoint from the retention set)",
    "test_params_per_template": "parameter values per template held out for test",
    "bugs_per_problem": "buggy solutions per train problem in the corpus",
}


# ---------------------------------------------------------------- leti synth
def configure_synth(parser: argparse.ArgumentParser) -> None:
    from leti.data.synth.build import DEFAULT_SIZES

    parser.description = (
        "Build the synthetic task family (train/test/transfer/retention problems), the pre-training "
        "corpus and a held-out pre-training shard; same seed -> byte-identical files.")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument("--out", required=True, help="output directory")
    for name, default in DEFAULT_SIZES.items():
        parser.add_argument("--" + name.replace("_", "-"), dest=name, type=int, default=default,
                            metavar="N", help=f"{_SYNTH_HELP[name]} (default {default})")


def run_synth(args: argparse.Namespace) -> int:
    from leti.data.synth.build import DEFAULT_SIZES, build_synthetic

    sizes = {name: getattr(args, name) for name in DEFAULT_SIZES}
    manifest = build_synthetic(args.seed, args.out, **sizes)
    print(json.dumps({"out": args.out, "counts": manifest["counts"], "corpus_kinds": manifest["corpus_kinds"]}))
    return 0


# ---------------------------------------------------------------- leti data
def configure_data(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Write the canonical Problem JSONL of one benchmark split (docs/contracts.md) and a manifest "
        f"(<out>{MANIFEST_SUFFIX}: data files read with their sha256, template id, shots/limit).")
    parser.add_argument("--benchmark", required=True, choices=BENCHMARK_CHOICES)
    parser.add_argument("--split", default="test",
                        help="mbpp: prompt|train|validation|test; eae: train|test|val; others: test")
    parser.add_argument("--data-root", default=None,
                        help="folder holding mbpp/, humaneval/, ... (default $LETI_DATA_ROOT or <repo>/../shared/data)")
    parser.add_argument("--source", default="local", choices=["local", "hub", "local-gsm8k"],
                        help="local files (checked against sha256) or the Hugging Face hub (needs a network)")
    parser.add_argument("--out", required=True, help="problems JSONL to write")
    parser.add_argument("--manifest", default=None, help=f"manifest JSON (default <out>{MANIFEST_SUFFIX})")
    parser.add_argument("--limit", type=int, default=None, help="keep the first N problems (bbh: per task; eae: events)")
    parser.add_argument("--shots", type=int, default=0, help="mbpp: k-shot prompt from the prompt split")
    parser.add_argument("--style", default=None,
                        help="gsm8k: leti|pal (prompt template); bbh: direct|cot; eae: full|compact")
    parser.add_argument("--tasks", nargs="*", default=None, help="bbh: subset of tasks")


def _eae_problems(args: argparse.Namespace) -> tuple[list[dict], dict]:
    from leti.data.eae import build_problems

    if args.source != "local" or args.shots or args.tasks:
        raise UserError("--benchmark eae reads local GENEVA files only (no --source, --shots, --tasks)")
    style = args.style or "full"
    if style not in ("full", "compact"):
        raise UserError(f"--style: eae prompts are 'full' or 'compact', got {style!r}")
    if args.split not in ("train", "test", "val"):
        raise UserError(f"--split: eae splits are train, test and val, got {args.split!r}")
    return build_problems(args.split, style=style, data_root=args.data_root, limit=args.limit), {"source": "local"}


def run_data(args: argparse.Namespace) -> int:
    from leti.data.benchmarks import prepare
    from leti.data.benchmarks.data import resolve_data_root

    if args.limit is not None and args.limit <= 0:
        raise UserError(f"--limit must be positive, got {args.limit}")
    if args.benchmark == "eae":
        problems, prov = _eae_problems(args)
        data_root = None
    else:
        if args.source == "local-gsm8k" and args.benchmark != "gsm8k":
            raise UserError("--source local-gsm8k applies to gsm8k only")
        data_root = None if args.source == "hub" else resolve_data_root(args.data_root)
        problems, prov = prepare(args.benchmark, args.split, data_root=data_root, source=args.source,
                                 shots=args.shots, style=args.style, limit=args.limit, tasks=args.tasks)
    n = atomic_write_jsonl(args.out, problems)
    manifest = {
        "benchmark": args.benchmark, "split": args.split, "n_problems": n,
        "style": args.style, "shots": args.shots, "limit": args.limit,
        "data_root": str(data_root) if data_root else None,
        "problems_sha256": sha256_file(args.out),
        **prov,
    }
    atomic_write_json(args.manifest or (str(args.out) + MANIFEST_SUFFIX), manifest)
    print(f"leti data: {n} {args.benchmark}/{args.split} problems -> {args.out}")
    return 0


# ---------------------------------------------------------------- leti pretrain-corpus
def configure_pretrain_corpus(p: argparse.ArgumentParser) -> None:
    p.description = ("The regularization corpus (spec §6) as JSONL {'text': ...}: the first N files of a hub "
                     "dataset (the paper: bigcode/the-stack, data/python) or local json:/parquet: files, "
                     "split into train and held-out.")
    p.add_argument("--source", required=True,
                   help="hub dataset (e.g. bigcode/the-stack@v1.1; read from $LETI_DATASETS_MIRROR/<org>/<name> "
                        "when that is set) or json:PATH / parquet:PATH for local files")
    p.add_argument("--data-dir", default=None, help="hub data_dir (the paper: data/python)")
    p.add_argument("--column", default="content", help="text column (The Stack: content)")
    p.add_argument("--n", type=int, default=50000, help="first N files")
    p.add_argument("--heldout-fraction", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--split", default="shuffle", choices=["datasets", "shuffle"],
                   help="datasets: Hugging Face train_test_split (the original's; train part in its permutation "
                        "order); shuffle: Python random, both parts in file order (leti.data.corpus.split_heldout)")
    p.add_argument("--out", required=True)
    p.add_argument("--heldout-out", required=True)


def run_pretrain_corpus(args: argparse.Namespace) -> int:
    from leti.data.corpus import load_texts, split_heldout

    if args.n < 1 or not 0 <= args.heldout_fraction < 1:
        raise UserError("--n must be >= 1 and --heldout-fraction in [0, 1)")
    texts = load_texts(args.source, args.data_dir, args.column, args.n)
    if not texts:
        raise UserError(f"{args.source}: no rows")
    train, held = split_heldout(texts, args.heldout_fraction, args.seed, args.split)
    atomic_write_jsonl(args.out, ({"text": t} for t in train))
    atomic_write_jsonl(args.heldout_out, ({"text": t} for t in held))
    print(f"{len(train)} train / {len(held)} held-out documents")
    return 0
