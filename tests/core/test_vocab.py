"""The one vocabulary: reward tokens, feedback types, error buckets."""
from __future__ import annotations

import pytest

from leti.core import vocab


def test_buckets_nest():
    assert set(vocab.PAPER_BUCKETS) <= set(vocab.FINE_BUCKETS) and set(vocab.SYNTAX_BUCKETS) <= set(vocab.PAPER_BUCKETS)
    assert vocab.paper_bucket("TypeError") == "other" and vocab.paper_bucket("timeout") == "other"


@pytest.mark.parametrize("record, bucket", [
    ({"status": "pass"}, "pass"), ({"status": "timeout"}, "timeout"),
    ({"status": "fail", "exc_type": "AssertionError"}, "AssertionError"),
    ({"status": "syntax_error", "exc_type": "IndentationError"}, "IndentationError"),
    ({"status": "error", "exc_type": "TabError"}, "other"),  # exact names only
    ({"status": "memory", "exc_type": "MemoryError"}, "other"),
])
def test_error_bucket(record, bucket):
    assert vocab.error_bucket(record) == bucket


def test_harness_error_is_never_a_bucket():
    with pytest.raises(ValueError):
        vocab.error_bucket({"status": "harness_error", "id": "x"})


def test_conditioning_round_trip():
    assert vocab.strip_condition(vocab.condition_prompt("def f():", "good"), "good") == "def f():"
    assert vocab.strip_condition(vocab.GOOD + "def f():", "good", "lstrip") == "ef f():"
    assert set(vocab.FEEDBACK_TYPES) == {"textual", "binary", "none"}
