"""The `leti` command: one thin subcommand per workflow step.

Subcommands are imported lazily so that `leti execute` never imports torch
and `leti --help` stays fast. With LETI_WARM=1 (the workflow sets it for local runs) the commands
that import torch run in a fork of a server that imported it once (leti.warmstart).
"""
from __future__ import annotations

import argparse
import importlib
import sys

from leti.core.errors import UserError
from leti.warmstart.protocol import enabled as warm_enabled

# name -> (stage command module, one-line help), in pipeline order. Each module defines
# `configure_<name>(parser)` and `run_<name>(args) -> int|None` (dashes as underscores) and imports
# heavy libraries inside them, so `leti execute` never imports torch and `leti --help` stays fast.
COMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("leti.data.cli", "build the synthetic task family and pre-training corpus"),
    "data": ("leti.data.cli", "prepare canonical JSONL for a benchmark split (mbpp, humaneval, gsm8k, bbh, eae)"),
    "pretrain-corpus": ("leti.data.cli", "build the regularization corpus (The Stack or local files)"),
    "tokenizer": ("leti.model.cli", "train the tiny byte-level BPE tokenizer"),
    "pretrain": ("leti.model.cli", "pre-train the tiny base model"),
    "init-model": ("leti.model.cli", "load a hub/local model, add LeTI tokens, save"),
    "lm-loss": ("leti.model.cli", "held-out LM loss of a checkpoint"),
    "hub-standin": ("leti.model.cli", "offline stand-ins for the Hub: micro CodeGen models, a dataset mirror"),
    "vllm-model": ("leti.model.cli", "a checkpoint as vLLM loads it (CodeGen rewritten exactly as GPT-J)"),
    "vllm-env": ("leti.sampling.cli", "build the separate environment of `sample --engine vllm` (once)"),
    "sample": ("leti.sampling.cli", "sample completions from a checkpoint"),
    "programs": ("leti.execution.cli", "join problems and samples into evaluator programs"),
    "execute": ("leti.execution.cli", "run programs in the sandboxed solution evaluator (EAE: verified)"),
    "fcft-data": ("leti.fcft.cli", "build the FCFT dataset from execution records"),
    "train": ("leti.fcft.cli", "run one FCFT iteration"),
    "ckpt-summary": ("leti.fcft.cli", "copy a checkpoint's metrics and loss curve into results/"),
    "score": ("leti.evaluation.cli", "score a checkpoint's samples on several benchmarks (one executor pool)"),
    "evaluate": ("leti.evaluation.cli", "score one benchmark's samples/executions into a metrics JSON"),
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
    fn = name.replace("-", "_")
    sub = argparse.ArgumentParser(prog=f"leti {name}", description=COMMANDS[name][1])
    getattr(module, f"configure_{fn}")(sub)
    sub.add_argument("--record", default=None, metavar="JSON",
                     help="on success, write this parameter record beside each of its 'outputs' (leti.core.records)")
    args = sub.parse_args(argv[1:])
    try:
        record = _parse_record(args.record)
        rc = getattr(module, f"run_{fn}")(args)
    except UserError as exc:  # bad input: one line, no traceback
        print(f"leti {name}: error: {exc}", file=sys.stderr)
        return 2
    if not rc and record is not None:
        from leti.core.records import write_records

        write_records(record)
    return int(rc or 0)


def _parse_record(text: str | None) -> dict | None:
    if text is None:
        return None
    import json

    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"--record: not valid JSON ({exc.msg})") from None
    if not isinstance(record, dict) or not isinstance(record.get("outputs"), list) or "hash" not in record:
        raise UserError("--record: expected an object with 'outputs' (a list) and 'hash'")
    return record


if __name__ == "__main__":
    sys.exit(main())
