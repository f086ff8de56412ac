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
