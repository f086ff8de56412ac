"""Spec §4 post-processing against hand-labelled cases (tests/fixtures/benchmarks)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from leti.core.paths import default_data_root
from leti.execution.postprocess import (
    FEEDBACK_TEMPLATE,
    postprocess,
    postprocess_feedback,
)

CASES = [json.loads(l) for l in (Path(__file__).parents[1] / "fixtures/benchmarks/postprocess_cases.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['kind']}-{c['mode']}-{c['note'][:30]}" for c in CASES])
def test_labelled_cases(case):
    assert postprocess(case["kind"], case["text"], case["mode"]) == case["expected"]


@pytest.mark.parametrize("case", CASES, ids=[c["note"][:30] for c in CASES])
def test_result_is_a_prefix(case):
    out = postprocess(case["kind"], case["text"], case["mode"])
    assert case["text"].startswith(out)


def test_modes_differ_only_for_mbpp():
    texts = [c["text"] for c in CASES]
    for kind in ("humaneval", "gsm8k_pal", "eae"):
        for t in texts:
            assert postprocess(kind, t, "exact") == postprocess(kind, t, "leti")


def test_none_kind_and_bad_arguments():
    assert postprocess(None, "anything\nQ:") == "anything\nQ:"
    with pytest.raises(ValueError):
        postprocess("bbh", "x")
    with pytest.raises(ValueError):
        postprocess("mbpp", "x", mode="lstrip")


def test_feedback():
    original = "\ndef f():\n    return 1\nprint(f())\n"
    processed = postprocess("mbpp", original)
    assert processed == "\ndef f():\n    return 1"
    assert postprocess_feedback(original, processed) == FEEDBACK_TEMPLATE.format(rest="print(f())")
    assert "Try to use <|endoftext|> to end your code." in postprocess_feedback(original, processed)
    assert postprocess_feedback(processed, processed) == ""
    assert postprocess_feedback(processed + "  \n\n", processed) == ""  # only whitespace cut
    long = processed + "\nprint(" + "x" * 300 + ")"
    fb = postprocess_feedback(long, processed)
    rest = fb.split("[", 1)[1].rsplit("]", 1)[0]
    assert len(rest) == 128 and rest.startswith("print(")
    with pytest.raises(ValueError):
        postprocess_feedback("abc", "xyz")


def test_leti_mode_only_differs_where_a_slash_or_newline_lt_occurs():
    """On the 500 MBPP test references, the original's regex changes exactly those texts that
    contain '/' or '\\n<' before the first literal stop word (no execution needed)."""

    from leti.data.benchmarks import prepare

    root = default_data_root()
    if not root.is_dir():
        pytest.skip("benchmark data root not present")
    problems, _ = prepare("mbpp", "test", data_root=root)
    changed = 0
    for p in problems:
        exact = postprocess("mbpp", p["reference"], "exact")
        leti = postprocess("mbpp", p["reference"], "leti")
        assert exact.startswith(leti)
        if exact != leti:
            changed += 1
            assert "/" in exact or "\n<" in exact
    assert changed > 50  # measured: 76 of 500 references are cut short by the original's regex
