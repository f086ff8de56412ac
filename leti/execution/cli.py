"""Execution-stage commands (torch-free): `leti programs` (problems + samples -> programs) and
`leti execute` (programs -> results, through the sandboxed evaluator, EAE verdicts final)."""
from __future__ import annotations

import argparse
import collections
import json
import sys

from leti.core.errors import UserError
from leti.core.io import atomic_write_jsonl, read_jsonl
from leti.execution.postprocess import MODES as POSTPROCESS_MODES
from leti.execution.programs import STRIP_MODES, build_programs


# ---------------------------------------------------------------- leti programs
def configure_programs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--problems", required=True, help="Problem JSONL (leti data / leti synth)")
    parser.add_argument("--samples", required=True, help="Sample JSONL (leti sample)")
    parser.add_argument("--out", required=True, help="Program JSONL to write")
    parser.add_argument("--postprocess", action="store_true", help="apply the problem's spec §4.1 post-processing")
    parser.add_argument("--postprocess-mode", default="exact", choices=POSTPROCESS_MODES,
                        help="exact: literal stop words (default); leti: the original's unescaped MBPP regex")
    parser.add_argument("--strip-mode", default="exact", choices=STRIP_MODES,
                        help="reward-token removal: exact prefix (default) or the original's str.lstrip")
    parser.add_argument("--tests-variant", default=None,
                        help="use meta.tests_variants[NAME] instead of tests (gsm8k: pal_tolerance)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="time limit of every program (default: the problem's own, else `leti execute`'s)")


def run_programs(args: argparse.Namespace) -> int:
    problems = read_jsonl(args.problems, ("task_id", "prompt", "tests"))
    samples = read_jsonl(args.samples, ("task_id", "sample_idx", "completion"))
    if not samples:
        raise UserError(f"{args.samples}: no samples")
    if args.timeout is not None and not 0 < args.timeout <= 3600:
        raise UserError(f"--timeout must be in (0, 3600] seconds, got {args.timeout}")
    programs = build_programs(problems, samples, args.postprocess, args.strip_mode,
                              args.postprocess_mode, args.tests_variant, args.timeout)
    n = atomic_write_jsonl(args.out, programs)
    print(f"leti programs: {n} programs -> {args.out} (postprocess={'on/' + args.postprocess_mode if args.postprocess else 'off'}, "
          f"strip_mode={args.strip_mode})")
    return 0


# ---------------------------------------------------------------- leti execute
def configure_execute(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="program records (JSONL, docs/contracts.md)")
    parser.add_argument("output", help="result records (JSONL), written atomically")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: usable cores)")
    parser.add_argument("--cache", default=None, help="append-only JSONL result cache; a killed run resumes from it")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds, for records without a 'timeout' field (default 5)")
    parser.add_argument("--memory-mb", type=_memory_arg, default=None,
                        help="memory budget in MiB for records without 'memory_mb' (default 1024); 'none': no "
                             "per-program memory limit, as the original")
    parser.add_argument("--problems", default=None,
                        help="the programs' Problem JSONL: EAE results get their final verdict (rule-based verifier) here")
    parser.add_argument("--python", default=None, help="interpreter that runs the programs (default: this one)")
    parser.add_argument("--verdict", default="hardened", choices=["faithful", "hardened"],
                        help="which of the two verdicts every result carries decides its status: hardened (the "
                             "tests in a trusted judge process, default) or faithful (in the program's process, "
                             "as the original)")
    parser.add_argument("--eae-occurrence", default="nearest", choices=["nearest", "gold"],
                        help="EAE: a repeated string is the occurrence nearest the trigger (the original) or a gold one")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _memory_arg(text: str):
    if text.strip().lower() in ("none", "null"):
        return "none"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer number of MiB or 'none', got {text!r}") from None


def read_programs(path: str, defaults: dict) -> list[dict]:
    """Strict reader: a bad line is a one-line UserError naming file, line and field."""
    from leti.execution.executor import escape_text, normalize_program

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
        shown = escape_text(rec["id"])  # results carry ids escaped (a lone surrogate cannot be written)
        if shown in seen:
            raise UserError(f"{where}: field 'id' {shown!r} duplicates line {seen[shown]}")
        seen[shown] = lineno
        normalize_program(rec, where, defaults)  # validates; execute_many normalises again
        programs.append(rec)
    return programs


def run_execute(args: argparse.Namespace) -> int:
    from leti.execution.verdicts import execute_with_verdicts

    import math

    from leti.execution.executor import MAX_MEMORY_MB, MAX_TIMEOUT_S

    if args.workers is not None and args.workers < 1:
        raise UserError("--workers must be at least 1")
    if args.timeout is not None and not (math.isfinite(args.timeout) and 0 < args.timeout <= MAX_TIMEOUT_S):
        raise UserError(f"--timeout must be in (0, {MAX_TIMEOUT_S:g}] seconds, got {args.timeout}")
    if args.memory_mb not in (None, "none") and not 0 < args.memory_mb <= MAX_MEMORY_MB:
        raise UserError(f"--memory-mb must be in [1, {MAX_MEMORY_MB}] or 'none', got {args.memory_mb}")
    defaults = {}
    if args.timeout is not None:
        defaults["timeout"] = args.timeout
    if args.memory_mb is not None:
        defaults["memory_mb"] = None if args.memory_mb == "none" else args.memory_mb
    problems = read_jsonl(args.problems, ("task_id",)) if args.problems else None  # fail before any program runs
    programs = read_programs(args.input, defaults)
    results = execute_with_verdicts(programs, problems, args.eae_occurrence, workers=args.workers, cache_path=args.cache,
                                    progress=not args.no_progress, defaults=defaults, python=args.python,
                                    verdict=args.verdict)
    atomic_write_jsonl(args.output, results)
    counts = collections.Counter(r["status"] for r in results)
    sandbox = next((r["sandbox"] for r in results if r.get("sandbox")), "-")
    differ = sum(1 for r in results if _differ(r))
    print(f"leti execute: {len(results)} programs -> {args.output}: "
          + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
          + f" ({args.verdict} verdict; the two verdicts differ on {differ}; sandbox {sandbox})", file=sys.stderr)
    return 0


def _differ(r: dict) -> bool:
    v = r.get("verdicts") or {}
    f, h = v.get("faithful") or {}, v.get("hardened") or {}
    return bool(f) and bool(h) and f.get("status") != h.get("status")
