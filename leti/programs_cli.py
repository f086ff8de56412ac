"""`leti programs`: join problems and samples into evaluator programs (input of `leti execute`).

    leti programs --problems P --samples S --out O [--postprocess] [--postprocess-mode exact|leti]
                  [--strip-mode exact|lstrip] [--tests-variant pal_tolerance]
"""
from __future__ import annotations

import argparse

from leti.errors import UserError
from leti.io import atomic_write_jsonl, read_jsonl
from leti.programs import STRIP_MODES, build_programs
from leti.postprocess import MODES as POSTPROCESS_MODES


def configure(parser: argparse.ArgumentParser) -> None:
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


def run(args: argparse.Namespace) -> int:
    problems = read_jsonl(args.problems, ("task_id", "prompt", "tests"))
    samples = read_jsonl(args.samples, ("task_id", "sample_idx", "completion"))
    if not samples:
        raise UserError(f"{args.samples}: no samples")
    programs = build_programs(problems, samples, args.postprocess, args.strip_mode,
                              args.postprocess_mode, args.tests_variant)
    n = atomic_write_jsonl(args.out, programs)
    print(f"leti programs: {n} programs -> {args.out} (postprocess={'on/' + args.postprocess_mode if args.postprocess else 'off'}, "
          f"strip_mode={args.strip_mode})")
    return 0
