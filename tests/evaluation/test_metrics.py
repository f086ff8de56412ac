"""pass@k, solve rate, error buckets and the BBH scorers."""
from __future__ import annotations

import json
from math import comb
from pathlib import Path

import numpy as np
import pytest

from leti.evaluation import metrics

BBH = [json.loads(l) for l in (Path(__file__).parents[1] / "fixtures/benchmarks/bbh_labelled.jsonl").read_text().splitlines()]


def _exact(n, c, k):
    return 1.0 if n - c < k else 1 - comb(n - c, k) / comb(n, k)


def test_pass_at_k_matches_the_closed_form():
    n = [16, 16, 16, 16]
    c = [0, 1, 8, 16]
    got = metrics.pass_at_k(n, c, ks=(1, 10, 100))
    assert set(got) == {"pass@1", "pass@10"}  # 100 > n: not reported
    for k in (1, 10):
        assert got[f"pass@{k}"] == pytest.approx(np.mean([_exact(a, b, k) for a, b in zip(n, c)]))
    assert got["pass@1"] == pytest.approx((0 + 1 / 16 + 0.5 + 1) / 4)


def test_pass_at_k_only_when_every_problem_has_enough_samples():
    assert set(metrics.pass_at_k([256, 9], [3, 1])) == {"pass@1"}
    assert metrics.pass_at_k([], []) == {}
    with pytest.raises(ValueError):
        metrics.pass_at_k([2], [3])


def test_solve_rate():
    assert metrics.solve_rate([0, 1, 5, 0]) == 0.5
    assert metrics.solve_rate([]) == 0.0


def _res(status, exc=None):
    return {"status": status, "exc_type": exc}


def test_bucket_counts_over_all_samples():
    results = [_res("pass"), _res("pass"), _res("fail", "AssertionError"), _res("syntax_error", "SyntaxError"),
               _res("syntax_error", "IndentationError"), _res("error", "NameError"), _res("error", "TypeError"),
               _res("timeout"), _res("error", "ZeroDivisionError")]
    paper, fine = metrics.bucket_counts(results)
    assert list(paper) == list(metrics.PAPER_BUCKETS)
    assert paper == {"pass": 2, "AssertionError": 1, "SyntaxError": 1, "IndentationError": 1, "NameError": 1, "other": 3}
    assert fine["TypeError"] == 1 and fine["timeout"] == 1 and fine["other"] == 1
    assert sum(paper.values()) == sum(fine.values()) == len(results)


@pytest.mark.parametrize("row", BBH, ids=[f"{r['style']}-{r['note'][:40]}" for r in BBH])
def test_bbh_hand_labelled(row):
    assert metrics.bbh_lenient(row["style"], row["generation"], row["target"]) is row["lenient"]
    assert metrics.bbh_strict(row["style"], row["generation"], row["target"]) is row["strict"]


def test_bbh_summary_micro_and_macro():
    rows = [{"task": "a", "ok": True}, {"task": "a", "ok": False}, {"task": "b", "ok": True}]
    s = metrics.bbh_summary(rows, "ok")
    assert s["micro"] == pytest.approx(2 / 3) and s["macro"] == pytest.approx(0.75)
    assert s["by_task"] == {"a": 0.5, "b": 1.0} and s["n"] == 3


def test_bbh_bad_style():
    with pytest.raises(ValueError):
        metrics.bbh_lenient("fewshot", "x", "x")
