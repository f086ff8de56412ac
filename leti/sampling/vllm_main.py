"""`leti sample --engine vllm` inside the vLLM environment: `python -m leti.sampling.vllm_main ARGS_JSON`.

The parent (`leti sample` in the project's environment) parsed and checked the arguments and hands them
over as JSON (leti.sampling.vllm_env.handoff); this runs the same `run_sample` with vLLM importable.
The parent writes the job's record once this exits with 0. vLLM's engine may spawn processes, which
re-import the main module: hence the `__main__` guard.
"""
from __future__ import annotations

import argparse
import json
import sys

from leti.core.errors import UserError


def main(argv: list[str]) -> int:
    args = argparse.Namespace(**json.loads(argv[0]))
    from leti.sampling.cli import run_sample

    try:
        return int(run_sample(args) or 0)
    except UserError as exc:
        print(f"leti sample: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
