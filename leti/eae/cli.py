"""`leti eae ACTION ...`: prompts (Problem records), verification and metrics on files.

    leti eae data --split test --out problems.jsonl [--style full|compact] [--limit N]
    leti eae gold-programs --problems P --out programs.jsonl   # reference completions (sanity check)
    leti eae verify --problems P --executions E --out E2 [--unlocated fail|ignore]
    leti eae metrics --problems P --executions E2 --out M.json
"""
from __future__ import annotations

import argparse
import sys

from leti.errors import UserError
from leti.io import atomic_write_json, atomic_write_jsonl, read_jsonl


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = sub.add_parser("data", help="GENEVA split -> Problem records (one per event mention)")
    p.add_argument("--split", required=True, choices=["train", "test", "val"],
                   help="train = lr/lr1200/train-s160.json (1200 events), test, val")
    p.add_argument("--out", required=True)
    p.add_argument("--style", default="full", choices=["full", "compact"],
                   help="full: Code4Struct context with role descriptions (default); compact: short, for tiny models")
    p.add_argument("--limit", type=int, default=None, help="keep the first N events")
    p.add_argument("--data-root", default=None, help="default $LETI_DATA_ROOT or <repo>/../shared/data")

    p = sub.add_parser("gold-programs", help="Program records from the problems' reference completions")
    p.add_argument("--problems", required=True)
    p.add_argument("--out", required=True)

    p = sub.add_parser("verify", help="executions with captured arguments -> final EAE verdicts/feedback")
    p.add_argument("--problems", required=True)
    p.add_argument("--executions", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--unlocated", default="fail", choices=["fail", "ignore"],
                   help="an argument string not found in the sentence: fail (default) or ignore (original)")

    p = sub.add_parser("metrics", help="Arg-I / Arg-C P/R/F1 and pass rate -> JSON")
    p.add_argument("--problems", required=True)
    p.add_argument("--executions", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--unlocated", default="fail", choices=["fail", "ignore"])


def _problems(path: str) -> list[dict]:
    rows = read_jsonl(path, required=("task_id", "benchmark", "meta"))
    for i, r in enumerate(rows, 1):
        if r.get("benchmark") == "eae":
            for f in ("gold", "tokens", "trigger"):
                if f not in (r.get("meta") or {}):
                    raise UserError(f"{path}:{i}: meta is missing field '{f}' (not an EAE problem file?)")
    return rows


def run(args: argparse.Namespace) -> int:
    from leti import eae

    if args.action == "data":
        problems = eae.build_problems(args.split, style=args.style, data_root=args.data_root, limit=args.limit)
        n = atomic_write_jsonl(args.out, problems)
        print(f"leti eae data: {n} problems ({args.split}, style {args.style}) -> {args.out}", file=sys.stderr)
        return 0
    if args.action == "gold-programs":
        problems = _problems(args.problems)
        progs = [eae.make_program(p, p["reference"], postprocess=False) for p in problems
                 if p.get("benchmark") == "eae" and p.get("reference") is not None]
        atomic_write_jsonl(args.out, progs)
        print(f"leti eae gold-programs: {len(progs)} programs -> {args.out}", file=sys.stderr)
        return 0
    problems = _problems(args.problems)
    results = read_jsonl(args.executions, required=("id", "status"))
    if args.action == "verify":
        out = eae.verify_results(problems, results, unlocated=args.unlocated)
        atomic_write_jsonl(args.out, out)
        n_eae = sum(1 for r in out if "eae" in r)
        n_pass = sum(1 for r in out if "eae" in r and r["status"] == "pass")
        n_harness = sum(1 for r in out if "eae" in r and r["status"] == "harness_error")
        print(f"leti eae verify: {n_eae} EAE results, {n_pass} pass -> {args.out}", file=sys.stderr)
        if n_harness:
            print(f"leti eae verify: warning: {n_harness} results had no captured data", file=sys.stderr)
        return 0
    if args.action == "metrics":
        m = eae.metrics(problems, results, unlocated=args.unlocated)
        atomic_write_json(args.out, m)
        if m["counts"]["n_missing"]:
            print(f"leti eae metrics: warning: {m['counts']['n_missing']} problems have no result "
                  "(counted as no prediction)", file=sys.stderr)
        print(f"leti eae metrics: Arg-I F1 {m['arg_i']['f1']:.4f}, Arg-C F1 {m['arg_c']['f1']:.4f}, "
              f"pass {m['pass_rate']:.4f} -> {args.out}", file=sys.stderr)
        return 0
    raise UserError(f"unknown action {args.action!r}")
