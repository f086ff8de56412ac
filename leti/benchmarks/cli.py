"""`leti data`: write the canonical Problem JSONL of one benchmark split, with a manifest.

    leti data --benchmark mbpp --split test --data-root ../shared/data --out data/mbpp-test.jsonl
    leti data --benchmark gsm8k --style leti --out gsm.jsonl
    leti data --benchmark bbh --style cot --limit 5 --out bbh-cot.jsonl   # 5 per task

The manifest (`<out>.manifest.json` unless --manifest) records the benchmark, split, source,
every data file read with its sha256, the prompt template id, shots/limit and the sha256 of
the written problems file.
"""
from __future__ import annotations

import argparse

from leti.benchmarks import BENCHMARKS, prepare
from leti.benchmarks.data import resolve_data_root
from leti.errors import UserError
from leti.io import atomic_write_json, atomic_write_jsonl, sha256_file

MANIFEST_SUFFIX = ".manifest.json"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--benchmark", required=True, choices=BENCHMARKS)
    parser.add_argument("--split", default="test", help="mbpp: prompt|train|validation|test; others: test")
    parser.add_argument("--data-root", default=None, help="folder holding mbpp/, humaneval/, ... (default $LETI_DATA_ROOT or <repo>/../shared/data)")
    parser.add_argument("--source", default="local", choices=["local", "hub", "local-gsm8k"],
                        help="local files (checked against sha256) or the Hugging Face hub (needs a network)")
    parser.add_argument("--out", required=True, help="problems JSONL to write")
    parser.add_argument("--manifest", default=None, help=f"manifest JSON (default <out>{MANIFEST_SUFFIX})")
    parser.add_argument("--limit", type=int, default=None, help="keep the first N problems (bbh: per task)")
    parser.add_argument("--shots", type=int, default=0, help="mbpp: k-shot prompt from the prompt split")
    parser.add_argument("--style", default=None, help="gsm8k: leti|pal (prompt template); bbh: direct|cot")
    parser.add_argument("--tasks", nargs="*", default=None, help="bbh: subset of tasks")


def run(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit <= 0:
        raise UserError(f"--limit must be positive, got {args.limit}")
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
