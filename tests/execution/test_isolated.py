"""Isolated verdicts: the plain-data encoding, the splitting of tests into probes, the trusted judge,
and the forgery corpus (tests/hostile/forgery.py) end to end through the sandboxed evaluator."""
from __future__ import annotations

import collections
import json
import math
import sys
from pathlib import Path

import pytest

from leti.execution.executor import execute_many
from leti.execution.executor import isolated, plaindata

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile.forgery import FORGERY  # noqa: E402


def roundtrip(v):
    return plaindata.decode(json.loads(json.dumps(plaindata.encode(v), ensure_ascii=True)))


# ---------------------------------------------------------------- plain data

@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2 ** 100, 10 ** 5000, -(10 ** 5000), 1.5, -0.0, 1e308, "", "é\ud800x", [1, [2, "a"]],
    (1, (2,)), {1, 2}, frozenset({"a"}), {"a": 1, (1, 2): [3]}, b"\x00\xff", 1 + 2j, [], (), {},
], ids=lambda v: type(v).__name__)
def test_plain_values_roundtrip_with_their_exact_types(value):
    out = roundtrip(value)
    assert out == value and type(out) is type(value)


def test_special_floats_roundtrip():
    assert math.isnan(roundtrip(float("nan")))
    assert roundtrip(float("inf")) == math.inf and roundtrip(float("-inf")) == -math.inf
    assert math.copysign(1, roundtrip(-0.0)) == -1


def test_stdlib_dicts_and_namedtuples_cross_as_what_they_equal():
    P = collections.namedtuple("P", "a b")
    assert roundtrip(collections.Counter("aab")) == {"a": 2, "b": 1}
    assert type(roundtrip(collections.OrderedDict(a=1))) is dict
    assert roundtrip(P(1, 2)) == (1, 2) and type(roundtrip(P(1, 2))) is tuple


@pytest.mark.parametrize("make", [
    lambda: type("I", (int,), {})(3),
    lambda: type("S", (str,), {"__eq__": lambda s, o: True, "__hash__": str.__hash__})("x"),
    lambda: type("Any", (), {"__eq__": lambda s, o: True})(),
    lambda: (x for x in range(3)),
    lambda: [1, type("F", (float,), {})(2.0)],
    lambda: type("T", (tuple,), {"_fields": ("a",), "__eq__": lambda s, o: True, "__hash__": tuple.__hash__})((1,)),
])
def test_anything_else_is_refused_with_a_reason(make):
    with pytest.raises(plaindata.Unencodable, match="not plain data"):
        plaindata.encode(make())
    assert "x" in plaindata.encode_or_reject(make())


def test_cycles_and_depth_are_refused():
    a: list = []
    a.append(a)
    assert "x" in plaindata.encode_or_reject(a)
    deep: list = []
    for _ in range(200):
        deep = [deep]
    assert "x" in plaindata.encode_or_reject(deep)


@pytest.mark.parametrize("line", ['[0, [{"s": [[1]]}]]', '[0, [{"q": 1}]]', '[0, [{"t": 1, "s": []}]]', "not json",
                                  '["0", []]', '[0, [{"d": [[[1], 2]]}]]', '[0, [{"c": ["a", 1]}]]', "[" * 10000])
def test_malformed_events_are_dropped(line):
    assert plaindata.loads_event(line) is None


# ---------------------------------------------------------------- splitting

MBPP = 'assert remove_Occ("hello","l") == "heo"\nassert remove_Occ("abcda","a") == "bcd"\nassert remove_Occ("PHP","P") == "H"'
PROGRAM = "def remove_Occ(s, ch):\n    return s.replace(ch, '')"


def test_split_keeps_lines_and_sends_no_expected_value():
    plan = isolated.split(PROGRAM, MBPP)
    assert plan is not None and len(plan.checks) == 3
    assert plan.child_tests.count("\n") == MBPP.count("\n")
    for expected in ('"heo"', '"bcd"', '"H"'):
        assert expected not in plan.child_tests
    assert '"hello"' in plan.child_tests  # inputs go to the child


@pytest.mark.parametrize("tests,secret", [
    ("import math\nassert math.isclose(f(1), 3.25, rel_tol=0.001)", "3.25"),
    ("assert abs(f(1) - 3.25) < 1e-6", "3.25"),
    ("assert set(f(1)) == set([7, 8])", "7, 8"),
    ("assert sorted(f(1)) == [7, 8]", "7, 8"),
    ("assert round(f(1), 2) == 3.25", "3.25"),
    ("assert f(1) in (77, 78)", "77"),
    ("assert not f(1) == 77", "77"),
    ("EXPECTED = 77\nassert f(1) == EXPECTED", "77"),
    ("\n\ndef check(candidate):\n    assert candidate(1) == 77\n\ncheck(f)", "77"),
    ("assert f(1) == 2 and f(2) == 77", None),  # a later operand of `and` needs a probe: run in the child
])
def test_split_shapes(tests, secret):
    plan = isolated.split("def f(x):\n    return x", tests)
    if secret is None:
        assert plan is None
    else:
        assert plan is not None and secret not in plan.child_tests, plan and plan.child_tests


@pytest.mark.parametrize("tests", [
    "for i in range(3):\n    assert f(i) == i",
    "def helper():\n    return 1\nassert f(1) == helper()",
    "assert f(1) == [i for i in range(3)]",
    "assert f(1) == 1; assert f(2) == 2",
    "x = f(1)\nassert x == 1",
    "",
    "def check(candidate):\n    assert candidate(1) == 1",  # never called
])
def test_unsplittable_tests_run_in_the_child(tests):
    assert isolated.split("def f(x):\n    return x", tests) is None


def test_a_program_binding_a_builtin_name_makes_it_the_candidate():
    plan = isolated.split("def sum(xs):\n    return 0", "assert sum([1, 2]) == 3")
    assert plan is not None and "sum([1, 2])" in plan.child_tests and "3" not in plan.child_tests.split(",", 1)[1]


# ---------------------------------------------------------------- end to end, both verdicts

def run(programs, verdict="isolated"):
    return execute_many(programs, workers=2, progress=False, verdict=verdict)


SEQ = "assert f(1) == 2\nassert f(2) == 4\nassert f(3) == 6"
SAME_AS_IN_CHILD = [
    dict(id="pass", program="def f(x):\n    return 2 * x", tests=SEQ),
    dict(id="fail2", program="def f(x):\n    return 2 * x if x != 2 else 0", tests=SEQ),
    dict(id="raise3", program="def f(x):\n    if x == 3:\n        raise KeyError(x)\n    return 2 * x", tests=SEQ),
    dict(id="fail_before_loop", program="def f(x):\n    while x == 3:\n        pass\n    return 0", tests=SEQ),
    dict(id="loop_after_pass", program="def f(x):\n    while x == 3:\n        pass\n    return 2 * x", tests=SEQ),
    dict(id="typeerror", program="def f(x):\n    return None", tests="assert f(1) < 2"),
    dict(id="msg", program="def f(x):\n    return 0", tests="assert f(1) == 2, 'wrong answer'"),
    dict(id="he", program="def f(x):\n    return x", tests="\n\ndef check(candidate):\n    assert candidate(1) == 1\n"
                                                        "    assert candidate(2) == 4\n\ncheck(f)"),
    dict(id="he_raise", program="def f(x):\n    return [][x]", tests="\n\ndef check(candidate):\n    assert candidate(1) == 1\n\ncheck(f)"),
    dict(id="exit", program="import sys\ndef f(x):\n    sys.exit(0)", tests=SEQ),
    dict(id="isclose", program="def f(x):\n    return 2.0000001 * x", tests="import math\nassert math.isclose(f(1), 2.0, rel_tol=1e-3)"),
    dict(id="multiline", program="def f(x):\n    return 0", tests="assert f(\n    1) == (\n    2)"),
    dict(id="syntax", program="def f(x) return", tests=SEQ),
]


def test_isolated_verdicts_match_in_child_runs_of_honest_programs():
    for p in SAME_AS_IN_CHILD:
        p.setdefault("timeout", 2.0)
    iso, child = run(SAME_AS_IN_CHILD), run(SAME_AS_IN_CHILD, "in_child")
    for a, b in zip(iso, child):
        assert a["verdict"] == ("isolated" if a["id"] != "syntax" else "isolated")
        assert b["verdict"] == "in_child"
        for k in ("status", "exc_type", "feedback", "failed_test"):
            assert a[k] == b[k], (a["id"], k, a[k], b[k])
    by = {r["id"]: r for r in iso}
    assert by["fail2"]["failed_test"] == "assert f(2) == 4"
    assert by["fail_before_loop"]["status"] == "fail"  # assert 1 already failed: the loop at 3 does not matter
    assert by["loop_after_pass"]["status"] == "timeout"
    assert by["msg"]["feedback"].endswith("AssertionError: wrong answer\n")


def test_a_record_says_which_verdict_applied():
    recs = run([dict(id="a", program="def f(x):\n    return x", tests="assert f(1) == 1"),
                dict(id="b", program="def f(x):\n    return x", tests="for i in range(2):\n    assert f(i) == i")])
    assert [r["verdict"] for r in recs] == ["isolated", "in_child"]
    assert all(r["status"] == "pass" for r in recs)


def test_a_skipped_check_is_not_a_pass():
    prog = "import os\ndef f(x):\n    return 2 * x\nos._exit(0)"
    rec = run([dict(id="x", program=prog, tests=SEQ)])[0]
    assert rec["status"] == "error"


@pytest.mark.parametrize("entry", FORGERY, ids=[e["name"] for e in FORGERY])
def test_forgery_never_passes_under_the_isolated_verdict(entry):
    rec = run([dict(id=entry["name"], program=entry["program"], tests=entry["tests"], timeout=5.0)])[0]
    assert rec["verdict"] == "isolated"
    assert rec["status"] in entry["expect"], (rec["status"], rec["message"], rec["feedback"])


def test_the_forgery_corpus_has_teeth():
    """The same attacks fool a verdict taken inside the program's process (which is why it is not the default)."""
    known = [e for e in FORGERY if e["in_child"] == "pass"]
    assert len(FORGERY) >= 15 and len(known) >= 10
    recs = run([dict(id=e["name"], program=e["program"], tests=e["tests"], timeout=5.0) for e in known], "in_child")
    fooled = [r["id"] for r in recs if r["status"] == "pass"]
    assert len(fooled) >= len(known) - 2, [(r["id"], r["status"]) for r in recs]


def test_crafted_hash_collisions_are_refused_not_built():
    """Ints that share a hash (multiples of 2**61 - 1) would make building a set quadratic in the parent."""
    m = (1 << 61) - 1
    line = json.dumps([0, [{"s": [i * m for i in range(1, 5001)]}]])
    assert plaindata.loads_event(line) is None
    assert plaindata.loads_event(json.dumps([0, [{"s": list(range(5000))}]])) is not None


def test_the_trusted_side_refuses_huge_work():
    plan = isolated.split("def f(x):\n    return x", "assert list(range(f(1), 3)) == [1, 2]\nassert f(1) * 'ab' == 'x'")
    assert plan is not None
    res = isolated.judge(plan, 2, {"status": "pass"}, {0: [10 ** 12], 1: [10 ** 12]})
    assert res["status"] == "memory" and "too large" in res["message"]
    # a math function outside the list is probed whole (the child pays for it), never run here
    plan = isolated.split("def f(x):\n    return x", "import math\nassert math.factorial(f(1)) == 120")
    assert "120" not in plan.child_tests.split("\n")[1].split(")", 1)[0] and "factorial" in plan.child_tests


@pytest.mark.parametrize("verdict", ["isolated", "in_child"])
def test_a_program_cannot_launder_itself_into_a_harness_error(verdict):
    entry = next(e for e in FORGERY if e["name"] == "forge_harness_error_record")
    rec = run([dict(id="x", program=entry["program"], tests=entry["tests"])], verdict)[0]
    assert rec["status"] == "error" and "invalid status" in rec["message"]


@pytest.mark.parametrize("program", [
    "def f(x):",                       # the IndentationError points at the first test line
    "def f(x):\n    return 2 * x + \\",  # a continuation would join the (rewritten) first test line
    "def f(x):\n    return (2 * x",     # an open bracket swallows the tests
    'def f(x):\n    return 2 * x\ns = """',
])
def test_programs_that_do_not_parse_alone_are_judged_on_the_original_text(program):
    """Their syntax error is decided by compiling the original text in the parent: the same feedback as
    an in-child run, nothing forked, and no rewritten test line can complete the program."""
    iso, child = run([dict(id="x", program=program, tests=SEQ)]), run([dict(id="x", program=program, tests=SEQ)], "in_child")
    assert iso[0]["status"] == child[0]["status"] == "syntax_error"
    assert iso[0]["feedback"] == child[0]["feedback"] and iso[0]["message"] == child[0]["message"]
    assert iso[0]["verdict"] == "isolated" and iso[0]["sandbox"] == "none"
