"""`leti synth`: build the synthetic task family and pre-training corpus."""
from __future__ import annotations

import argparse
import json

from leti.tasks.build import DEFAULT_SIZES, build_synthetic

_HELP = {
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


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Build the synthetic task family (train/test/transfer/retention problems), the pre-training "
        "corpus and a held-out pre-training shard; same seed -> byte-identical files.")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument("--out", required=True, help="output directory")
    for name, default in DEFAULT_SIZES.items():
        parser.add_argument("--" + name.replace("_", "-"), dest=name, type=int, default=default,
                            metavar="N", help=f"{_HELP[name]} (default {default})")


def run(args: argparse.Namespace) -> int:
    sizes = {name: getattr(args, name) for name in DEFAULT_SIZES}
    manifest = build_synthetic(args.seed, args.out, **sizes)
    print(json.dumps({"out": args.out, "counts": manifest["counts"], "corpus_kinds": manifest["corpus_kinds"]}))
    return 0
