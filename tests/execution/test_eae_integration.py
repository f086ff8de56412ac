"""EAE through the sandboxed solution evaluator: model-style code runs only in `leti.execution.executor`,
the arguments come back as `captured` data and are verified outside the sandbox."""
from __future__ import annotations

import pytest

from leti.core.errors import UserError
from leti.data import eae
from leti.evaluation.eae_metrics import metrics as eae_metrics
from leti.execution.eae_verify import verify_results
from leti.execution.programs import build_program

executor = pytest.importorskip("leti.execution.executor")

from pathlib import Path  # noqa: E402

FIX = Path(__file__).parents[1] / "fixtures" / "eae"


def fixture_problems(style="full"):
    return eae.build_problems("test", style=style, path=FIX / "sample.json", ontology_path=FIX / "ontology.json")


def _run(programs):
    return executor.execute_many(programs, workers=2, progress=False)


def test_gold_through_sandbox_scores_perfectly_on_geneva_slice():
    try:
        probs = eae.build_problems("test", style="compact", limit=40)
    except UserError:
        pytest.skip("GENEVA data root not available")
    progs = [build_program(p, {"task_id": p["task_id"], "sample_idx": 0, "completion": p["reference"]}, False) for p in probs]
    raw = _run(progs)
    assert all(r["status"] == "pass" and isinstance(r["captured"], dict) for r in raw), \
        [(r["id"], r["status"], r.get("message")) for r in raw if r["status"] != "pass"][:3]
    out = verify_results(probs, raw, occurrence="gold")  # the gold is perfect when occurrences follow the labels
    m = eae_metrics(probs, out, occurrence="gold")
    assert m["arg_i"] == {"p": 1.0, "r": 1.0, "f1": 1.0}
    assert m["arg_c"] == {"p": 1.0, "r": 1.0, "f1": 1.0}
    assert m["pass_rate"] == 1.0 and m["counts"]["n_gold"] > 40


def test_feedback_cases_through_sandbox():
    probs = fixture_problems()
    b = probs[0]
    cases = {
        "gold": (b["reference"], "pass", None),
        "postprocessed": ('    agent=[Participant("the city")],\n    created_entity=[Participant("library")],\n'
                          '    means=[Content("taxes")],\n)\n"""\nTranslate the next one', "pass", None),
        "not_list": ("    agent=None,\n)\n", "fail",
                     "ValueError: Expecting a list of Entity instance for role agent, but got <class 'NoneType'>"),
        "wrong_role": ('    agent=[Participant("the city")],\n    means=[Content("library")],\n)\n', "fail",
                       'ValueError: A successfully identified argument "library" is assigned to wrong role "Means"'),
        "no_gold": ('    agent=[Participant("Smith")],\n)\n', "fail",
                    'ValueError: An identified argument "Smith" does not match any ground truth argument.'),
        "only_k": ('    agent=[Participant("the city")],\n)\n', "fail",
                   "ValueError: Only 1 out of 3 arguments are correctly identified: {'city'}"),
        "bad_kwarg": ('    owner=[Participant("the city")],\n)\n', "error", None),
        "syntax": ('    agent=[Participant("the city"],\n)\n', "syntax_error", None),
    }
    progs = [dict(build_program(b, {"task_id": b["task_id"], "sample_idx": i, "completion": comp}, True), id=f"{b['task_id']}#{i}")
             for i, (comp, _, _) in enumerate(cases.values())]
    out = verify_results(probs, _run(progs))
    for (name, (_, status, feedback)), r in zip(cases.items(), out):
        assert r["status"] == status, (name, r["status"], r.get("message"))
        if feedback is not None:
            assert r["feedback"] == feedback, name
    assert "unexpected keyword argument" in out[6]["feedback"] and out[6]["exc_type"] == "TypeError"
