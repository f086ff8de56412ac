"""Programs in, final verdicts out: the sandboxed evaluator, then, outside the sandbox, the rule-based
EAE verifier on the captured arguments and PaL's GSM8K check on the captured answers. Every later stage (FCFT data, scoring) reads these verdicts and
never verifies again."""
from __future__ import annotations

import os
from typing import Iterable


def execute_with_verdicts(programs: list[dict], problems: Iterable[dict] | None = None, eae_occurrence: str = "nearest",
                          **execute_kw) -> list[dict]:
    """`execute_many(programs, **execute_kw)`; results of EAE problems are then verified (outside the sandbox)."""
    from leti.execution.executor import execute_many

    python = execute_kw.get("python")
    if python and not (os.path.isfile(python) and os.access(python, os.X_OK)):
        from leti.core.errors import UserError

        raise UserError(f"execute.python: {python} is not an executable file")
    results = execute_many(programs, **execute_kw)
    problems = list(problems or [])
    if any(p.get("scorer") == "eae" or p.get("benchmark") == "eae" for p in problems):
        from leti.execution.eae_verify import verify_results

        results = verify_results(problems, results, occurrence=eae_occurrence)
    if any(p.get("benchmark") == "gsm8k" for p in problems):
        from leti.execution import gsm8k_verdict

        results = gsm8k_verdict.verify_results(problems, results)
    return results
