"""Event argument extraction (EAE) as code generation (Code4Struct) on GENEVA; spec §8.5.

Public API:

* `build_problems(split, style="full"|"compact", data_root=None, limit=None)` -> Problem records
  (benchmark/scorer/postprocess ``eae``; an extra top-level ``capture`` field holds the code the
  evaluator must run after the program to return the instantiated arguments as data);
* `make_program(problem, completion, sample_idx=0, postprocess=True)` -> a Program record;
* `verify_results(problems, results, unlocated="fail")` -> results with the final EAE verdicts;
* `metrics(problems, results)` -> ``{arg_i: {p, r, f1}, arg_c: {...}, pass_rate, counts}``.

See README.md in this folder for the design (head rule vs spaCy, prompt styles, deviations).
"""
from __future__ import annotations

from leti.eae.data import build_problems, capture_code, load_ontology
from leti.eae.prompts import Ontology
from leti.eae.verify import metrics, verify_one, verify_results

__all__ = ["build_problems", "capture_code", "load_ontology", "Ontology", "make_program",
           "metrics", "postprocess_generation", "verify_one", "verify_results"]


def postprocess_generation(text: str) -> str:
    """Spec §4.1 EAE post-processing (`leti.postprocess` when present, same rule)."""
    try:
        from leti.postprocess import postprocess
        return postprocess("eae", text)
    except ImportError:  # pragma: no cover - the shared module is part of the package
        import re
        return re.split('"""|class|print|#', text, maxsplit=1)[0]


def make_program(problem: dict, completion: str, *, sample_idx: int = 0, postprocess: bool = True) -> dict:
    """Program record (docs/contracts.md) for one completion of an EAE problem."""
    if postprocess and problem.get("postprocess") == "eae":
        completion = postprocess_generation(completion)
    return {
        "id": f"{problem['task_id']}#{sample_idx}",
        "program": problem["prompt"] + completion,
        "tests": problem.get("tests", ""),
        "header": problem.get("header", ""),
        "timeout": problem.get("timeout", 30.0),
        "capture": problem.get("capture"),
        "meta": {"task_id": problem["task_id"], "sample_idx": sample_idx},
    }
