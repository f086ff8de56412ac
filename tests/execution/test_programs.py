"""Program building: prefixes, reward-token stripping (exact vs the original's lstrip), variants."""
from __future__ import annotations

import json

import pytest

from leti.cli import main
from leti.core.errors import UserError
from leti.core.vocab import condition_prompt
from leti.data.benchmarks.common import make_problem
from leti.execution.programs import build_program, build_programs

HE = make_problem(task_id="humaneval/HumanEval/X", benchmark="humaneval", split="test",
                  prompt='def add(a, b):\n    """Add."""', tests="\n\ndef check(c):\n    assert c(1, 2) == 3\n\ncheck(add)",
                  postprocess="humaneval")
GSM = make_problem(task_id="gsm8k/0", benchmark="gsm8k", split="test", prompt="Q: 1+1?\n# solution in Python:\n\n\n",
                   tests="\nassert solution() == 2\n", program_prefix="none", postprocess="gsm8k_pal", target=2,
                   meta={"tests_variants": {"pal_tolerance": "\nassert abs(solution() - 2) < 0.001\n"}})


def sample(problem, cond="none", completion="\n    return a + b\n", idx=0):
    return {"task_id": problem["task_id"], "sample_idx": idx, "conditioning": cond,
            "model_input": condition_prompt(problem["prompt"], cond), "completion": completion}


def test_prompt_prefix_exact_mode_for_every_condition():
    for cond in ("none", "good", "bad"):
        prog = build_program(HE, sample(HE, cond), postprocess=False)
        assert prog["program"] == HE["prompt"] + "\n    return a + b\n"
        assert prog["id"] == "humaneval/HumanEval/X#0"
        assert prog["meta"]["strip_mode"] == "exact" and prog["meta"]["conditioning"] == cond
        assert prog["tests"] == HE["tests"] and prog["timeout"] == 5.0 and prog["capture"] is None


def test_lstrip_mode_reproduces_the_def_quirk():
    prog = build_program(HE, sample(HE, "good"), postprocess=False, strip_mode="lstrip")
    assert prog["program"].startswith("ef add(a, b):")
    assert build_program(HE, sample(HE, "bad"), False, "lstrip")["program"].startswith("ef add")
    # no token: nothing to strip, identical to exact
    assert build_program(HE, sample(HE, "none"), False, "lstrip")["program"] == build_program(HE, sample(HE, "none"), False)["program"]
    # MBPP-style prompts start with quotes and are unaffected
    mb = make_problem(task_id="mbpp/11", benchmark="mbpp", split="test", prompt='"""\nx\n"""', tests="", postprocess="mbpp")
    assert build_program(mb, sample(mb, "good"), False, "lstrip")["program"].startswith('"""')


def test_postprocess_flag_and_meta():
    s = sample(HE, completion="\n    return a + b\n\ndef junk():\n    pass\n")
    raw = build_program(HE, s, postprocess=False)
    pp = build_program(HE, s, postprocess=True)
    assert raw["program"].endswith("pass\n") and raw["meta"]["postprocessed"] is False
    assert pp["program"] == HE["prompt"] + "\n    return a + b\n"
    assert pp["meta"]["postprocessed"] is True and pp["meta"]["postprocess_kind"] == "humaneval"


def test_gsm_executes_only_the_completion_and_tests_variants():
    s = sample(GSM, completion="def solution():\n    return 2\nQ: next")
    prog = build_program(GSM, s, postprocess=True)
    assert prog["program"] == "def solution():\n    return 2"
    assert prog["tests"] == "\nassert solution() == 2\n"
    tol = build_program(GSM, s, postprocess=True, tests_variant="pal_tolerance")
    assert "abs(solution() - 2)" in tol["tests"] and tol["meta"]["tests_variant"] == "pal_tolerance"
    with pytest.raises(UserError):
        build_program(GSM, s, True, tests_variant="nope")


def test_errors_are_user_errors():
    bad = dict(sample(HE), model_input="something else")
    with pytest.raises(UserError, match="model_input"):
        build_program(HE, bad, False)
    with pytest.raises(UserError, match="not in the problems"):
        build_programs([HE], [dict(sample(HE), task_id="nope")])
    with pytest.raises(UserError, match="duplicate"):
        build_programs([HE], [sample(HE), sample(HE)])
    bbh = make_problem(task_id="bbh/x/0", benchmark="bbh", split="test", prompt="Q", scorer="bbh_direct", program_prefix="none")
    with pytest.raises(UserError, match="not executed"):
        build_programs([bbh], [sample(bbh)])


def test_cli(tmp_path, capsys):
    (tmp_path / "p.jsonl").write_text(json.dumps(HE) + "\n")
    rows = [sample(HE, "good", idx=i) for i in range(3)]
    (tmp_path / "s.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "o.jsonl"
    assert main(["programs", "--problems", str(tmp_path / "p.jsonl"), "--samples", str(tmp_path / "s.jsonl"),
                 "--out", str(out), "--postprocess", "--strip-mode", "lstrip"]) == 0
    progs = [json.loads(l) for l in out.read_text().splitlines()]
    assert [p["id"] for p in progs] == [f"humaneval/HumanEval/X#{i}" for i in range(3)]
    assert all(p["program"].startswith("ef add") and p["meta"]["strip_mode"] == "lstrip" for p in progs)
    (tmp_path / "bad.jsonl").write_text('{"task_id": "x"}\n')
    assert main(["programs", "--problems", str(tmp_path / "p.jsonl"), "--samples", str(tmp_path / "bad.jsonl"),
                 "--out", str(out)]) == 2
    assert "missing field 'sample_idx'" in capsys.readouterr().err


def test_time_limits_come_from_the_override_then_the_problem_then_the_executor():
    from leti.execution.executor import normalize_program
    from leti.execution.programs import build_program

    problem = {"task_id": "t", "prompt": "", "tests": "assert True", "scorer": "execute"}
    sample = {"task_id": "t", "sample_idx": 0, "completion": "x = 1"}
    plain = build_program(problem, sample, False)
    assert "timeout" not in plain  # the executor's default (leti execute --timeout) applies
    assert normalize_program(plain, defaults={"timeout": 7.0})["timeout"] == 7.0
    assert build_program({**problem, "timeout": 30.0}, sample, False)["timeout"] == 30.0  # EAE's own limit
    assert build_program({**problem, "timeout": 30.0}, sample, False, timeout=5.0)["timeout"] == 5.0


def test_score_honours_a_benchmark_timeout(tmp_path):
    import json

    from leti.cli import main

    problems = tmp_path / "p.jsonl"
    problems.write_text(json.dumps({"task_id": "t", "benchmark": "synth", "split": "test", "prompt": "",
                                    "tests": "import time\ntime.sleep(0.6)", "scorer": "execute"}) + "\n")
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"benchmark": "b", "task_id": "t", "sample_idx": 0, "completion": "x = 1"}) + "\n")
    out = {}
    for limit in (0.3, None):
        item = {"benchmark": "b", "problems": str(problems), "timeout": 5.0, "workers": 1}
        if limit:
            item["benchmark_timeout"] = limit
        m = tmp_path / f"m{limit}.json"
        assert main(["score", "--spec", json.dumps([item]), "--samples", str(samples), "--out", str(m),
                     "--no-progress"]) == 0
        out[limit] = json.loads(m.read_text())["benchmarks"]["b"]["metrics"]["raw"]["buckets_fine"]
    assert out[0.3]["timeout"] == 1 and out[None]["pass"] == 1
