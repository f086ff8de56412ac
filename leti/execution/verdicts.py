"""Programs in, final verdicts out: the sandboxed evaluator, then, outside the sandbox, the rule-based
EAE verifier on the captured arguments and PaL's GSM8K check on the captured answers. Every later stage
(FCFT data, scoring) reads these verdicts and never verifies again.

A check made outside the sandbox on captured data decides both verdicts alike (the faithful and the
hardened one, `verdicts`): where a verdict's run passed, the check's outcome replaces it; a run that
failed keeps its failure."""
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
    return [_sync(r) for r in results]


FIELDS = ("status", "exc_type", "message", "feedback", "failed_test")


def _sync(r: dict) -> dict:
    """Mirror an outside check (EAE's `eae`, GSM8K's `pal`) into both verdicts whose run passed."""
    both = r.get("verdicts")
    if not isinstance(both, dict) or not ("eae" in r or "pal" in r):
        return r
    out = dict(r, verdicts=dict(both))
    for name, v in both.items():
        if isinstance(v, dict) and v.get("status") == "pass":
            out["verdicts"][name] = dict(v, **{k: r.get(k) for k in FIELDS})
    return out
