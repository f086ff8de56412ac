"""`leti execute IN.jsonl OUT.jsonl`: run program records through the sandboxed evaluator."""
from __future__ import annotations

import argparse
import collections
import json
import sys

from leti.errors import UserError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="program records (JSONL, docs/contracts.md)")
    parser.add_argument("output", help="result records (JSONL), written atomically")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: usable cores)")
    parser.add_argument("--cache", default=None, help="append-only JSONL result cache; a killed run resumes from it")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds, for records without a 'timeout' field (default 5)")
    parser.add_argument("--memory-mb", type=int, default=None,
                        help="address-space budget in MiB above the worker's size, for records without 'memory_mb' (default 1024)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def read_programs(path: str, defaults: dict) -> list[dict]:
    """Strict reader: a bad line is a one-line UserError naming file, line and field."""
    from leti.executor import normalize_program

    try:
        raw = open(path, "rb").read()
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror})") from None
    programs = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(raw.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise UserError(f"{path}:{lineno}: not valid UTF-8") from None
        try:
            rec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
        where = f"{path}:{lineno}"
        if not isinstance(rec, dict):
            raise UserError(f"{where}: expected a JSON object, got {type(rec).__name__}")
        if "id" not in rec:
            raise UserError(f"{where}: missing field 'id'")
        if not isinstance(rec["id"], str):
            raise UserError(f"{where}: field 'id' must be a string")
        if rec["id"] in seen:
            raise UserError(f"{where}: field 'id' {rec['id']!r} duplicates line {seen[rec['id']]}")
        seen[rec["id"]] = lineno
        normalize_program(rec, where, defaults)  # validates; execute_many normalises again
        programs.append(rec)
    return programs


def run(args: argparse.Namespace) -> int:
    from leti.executor import execute_many
    from leti.io import atomic_write_jsonl

    if args.workers is not None and args.workers < 1:
        raise UserError("--workers must be at least 1")
    defaults = {}
    if args.timeout is not None:
        defaults["timeout"] = args.timeout
    if args.memory_mb is not None:
        defaults["memory_mb"] = args.memory_mb
    programs = read_programs(args.input, defaults)
    results = execute_many(programs, workers=args.workers, cache_path=args.cache,
                           progress=not args.no_progress, defaults=defaults)
    atomic_write_jsonl(args.output, results)
    counts = collections.Counter(r["status"] for r in results)
    sandbox = next((r["sandbox"] for r in results if r.get("sandbox")), "-")
    print(f"leti execute: {len(results)} programs -> {args.output}: "
          + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) + f" (sandbox {sandbox})", file=sys.stderr)
    return 0
