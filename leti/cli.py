"""The `leti` command: one thin subcommand per workflow step.

Subcommands are imported lazily so that `leti execute` never imports torch
and `leti --help` stays fast. With LETI_WARM=1 (the workflow sets it for local runs) the commands
that import torch run in a fork of a server that imported it once (leti.warmstart).
"""
from __future__ import annotations

import argparse
import importlib
import sys

from leti.errors import UserError
from leti.warmstart.protocol import enabled as warm_enabled

# name -> (module, one-line help). Each module defines `configure(parser)` and `run(args) -> int|None`.
COMMANDS: dict[str, tuple[str, str]] = {
    "execute": ("leti.executor.cli", "run programs in the sandboxed solution evaluator"),
    "synth": ("leti.tasks.cli", "build the synthetic task family and pre-training corpus"),
    "data": ("leti.benchmarks.cli", "prepare canonical JSONL for a real benchmark split"),
    "programs": ("leti.programs_cli", "join problems and samples into evaluator programs"),
    "evaluate": ("leti.benchmarks.evaluate_cli", "score samples/executions into a metrics JSON"),
    "tokenizer": ("leti.model.cli_tokenizer", "train the tiny byte-level BPE tokenizer"),
    "pretrain": ("leti.model.cli_pretrain", "pre-train the tiny base model"),
    "init-model": ("leti.model.cli_init", "load a hub/local model, add LeTI tokens, save"),
    "sample": ("leti.sampling.cli", "sample completions from a checkpoint"),
    "fcft-data": ("leti.fcft.cli_data", "build the FCFT dataset from execution records"),
    "train": ("leti.fcft.cli_train", "run one FCFT iteration"),
    "lm-loss": ("leti.fcft.cli_lmloss", "held-out LM loss of a checkpoint"),
    "ckpt-summary": ("leti.fcft.cli_summary", "copy a checkpoint's metrics and loss curve into results/"),
    "score": ("leti.evaluation", "score a checkpoint's samples on several benchmarks (one executor pool)"),
    "eae": ("leti.eae.cli", "event argument extraction: prompts, verification, metrics"),
    "pretrain-corpus": ("leti.pretrain_corpus", "build the regularization corpus (The Stack or local files)"),
    "report": ("leti.report.cli", "tables, figures and claims from cached results"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leti", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        p.set_defaults(_lazy_name=name)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # prints help or the error
        parser.print_help()
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    if warm_enabled(argv[0]) and not any(a in ("-h", "--help") for a in argv[1:]):
        from leti.warmstart.client import run as run_warm

        rc = run_warm(argv)
        if rc is not None:
            return rc
    return run_command(argv)


def run_command(argv: list[str]) -> int:
    """Run one subcommand in this process (also what a warm-start child runs)."""
    name = argv[0]
    module = importlib.import_module(COMMANDS[name][0])
    sub = argparse.ArgumentParser(prog=f"leti {name}", description=COMMANDS[name][1])
    module.configure(sub)
    args = sub.parse_args(argv[1:])
    try:
        rc = module.run(args)
    except UserError as exc:  # bad input: one line, no traceback
        print(f"leti {name}: error: {exc}", file=sys.stderr)
        return 2
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
