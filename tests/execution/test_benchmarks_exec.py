"""Reference solutions through the sandboxed solution evaluator (leti.execution.executor).

MBPP test refs (500, run once), HumanEval canonical solutions (164) and hand-written PaL
programs for GSM8K items; plus the original's `lstrip` conditioning quirk end to end.
Nothing here executes code in-process.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from leti.core.paths import default_data_root
from leti.data.benchmarks import prepare
from leti.execution.programs import build_programs

REPO = Path(__file__).resolve().parents[2]
ROOT = default_data_root()
executor = pytest.importorskip("leti.execution.executor")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not ROOT.is_dir(), reason="benchmark data root not present"),
              pytest.mark.skipif(not hasattr(executor, "execute_many"), reason="leti.execution.executor.execute_many not available")]

# MBPP task 367 needs its test_setup_code (it builds the tree `root`), which the original
# protocol (and this harness, faithfully) does not execute.
KNOWN_MBPP_TEST_REF_FAILURES = {"mbpp/367"}


def _ref_samples(problems, conditioning="none"):
    from leti.core.vocab import condition_prompt
    return [{"task_id": p["task_id"], "sample_idx": 0, "conditioning": conditioning,
             "model_input": condition_prompt(p["prompt"], conditioning), "completion": p["reference"]}
            for p in problems]


def _run(programs, verdict="hardened"):
    results = executor.execute_many(programs, progress=False, verdict=verdict)
    assert len(results) == len(programs)
    return {r["id"]: r for r in results}


@pytest.mark.slow
def test_mbpp_test_references_pass():
    problems, _ = prepare("mbpp", "test", data_root=ROOT)
    programs = build_programs(problems, _ref_samples(problems))
    # mbpp/123's reference (amicable numbers below 9999) needs ~3 s of CPU: on a loaded CI
    # machine it can pass the protocol's 5 s wall-clock limit, so this check allows 30 s.
    for prog in programs:
        prog["timeout"] = 30.0
    results = _run(programs)
    failed = {rid.split("#")[0] for rid, r in results.items() if r["status"] != "pass"}
    assert failed == KNOWN_MBPP_TEST_REF_FAILURES, {f: results[f + "#0"]["exc_type"] for f in failed}
    assert results["mbpp/367#0"]["exc_type"] == "NameError"


def test_humaneval_canonical_solutions_pass_and_lstrip_quirk():
    problems, _ = prepare("humaneval", data_root=ROOT)
    results = _run(build_programs(problems, _ref_samples(problems)))
    assert [rid for rid, r in results.items() if r["status"] != "pass"] == []
    # <|good|> + the original's str.lstrip: prompts starting with `def` lose their `d`.
    subset = problems[:12]
    good = _ref_samples(subset, "good")
    exact = _run(build_programs(subset, good, strip_mode="exact"))
    lstrip = _run(build_programs(subset, good, strip_mode="lstrip"))
    for p in subset:
        rid = p["task_id"] + "#0"
        assert exact[rid]["status"] == "pass"
        if p["prompt"].startswith("def"):
            assert lstrip[rid]["status"] != "pass" and lstrip[rid]["exc_type"] == "SyntaxError"
        else:
            assert lstrip[rid]["status"] == "pass"


def test_humaneval_postprocessed_canonical_solutions_mostly_fail():
    """Quirk: a completion without any stop word post-processes to "" (signature + docstring only)."""
    problems, _ = prepare("humaneval", data_root=ROOT, limit=5)
    results = _run(build_programs(problems, _ref_samples(problems), postprocess=True))
    from leti.execution.postprocess import postprocess
    for p in problems:
        if postprocess("humaneval", p["reference"]) == "":
            assert results[p["task_id"] + "#0"]["status"] != "pass"


def test_gsm8k_hand_written_pal_programs():
    problems, _ = prepare("gsm8k", data_root=ROOT, limit=6)
    rows = [json.loads(l) for l in (Path(__file__).parents[1] / "fixtures/benchmarks/gsm8k_pal_programs.jsonl").read_text().splitlines()]
    samples = [{"task_id": f"gsm8k/{r['index']}", "sample_idx": i, "conditioning": "none", "model_input": None,
                "completion": r["completion"] + "Q: A trailing question the post-processing removes"} for i, r in enumerate(rows)]
    for s in samples:
        s.pop("model_input")
    exact = _run(build_programs(problems, samples, postprocess=True))
    exact_faithful = _run(build_programs(problems, samples, postprocess=True), verdict="faithful")
    from leti.execution.verdicts import execute_with_verdicts

    tol_progs = build_programs(problems, samples, postprocess=True, tests_variant="pal_tolerance")
    assert all(p["tests"] == "" and "solution()" in p["capture"] for p in tol_progs)  # nothing checked in the sandbox
    tol = {r["id"]: r for r in execute_with_verdicts(tol_progs, problems, workers=2, progress=False)}
    raw = _run(build_programs(problems, samples, postprocess=False))
    for i, r in enumerate(rows):
        rid = f"gsm8k/{r['index']}#{i}"
        # `exact`: LeTI's own check run inside the program (an object equal to anything passes it);
        # `exact_isolated`: the same assert judged by the hardened judge (it does not)
        assert (exact_faithful[rid]["status"] == "pass") is r["exact"], rid
        assert (exact[rid]["status"] == "pass") is r.get("exact_isolated", r["exact"]), rid
        assert (tol[rid]["status"] == "pass") is r["pal_tolerance"], rid
        assert raw[rid]["status"] != "pass"  # the trailing "Q: ..." line is a syntax error
