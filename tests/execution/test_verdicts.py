"""Both verdicts end to end through the jailed evaluator: the hardened judge runs the real tests with the
program's callables as proxies; the faithful run is the original's. Honest programs get the same verdict
(or `unverifiable` where only the program's own code could compare); forgeries never pass hardened."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from leti.execution.executor import choose_verdict, execute_many

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile.forgery import FORGERY  # noqa: E402

SEQ = "assert f(1) == 2\nassert f(2) == 4\nassert f(3) == 6"
HE = "\n\ndef check(candidate):\n    assert candidate(1) == 2\n    assert candidate(2) == 4\n\ncheck(f)"


def run(programs, verdict="hardened", workers=2):
    for i, p in enumerate(programs):
        p.setdefault("id", str(i))
        p.setdefault("timeout", 3.0)
    return execute_many(programs, workers=workers, progress=False, verdict=verdict)


def both(rec):
    v = rec["verdicts"]
    return v["faithful"], v["hardened"]


# ---------------------------------------------------------------- honest programs: the same verdict
SAME = [
    dict(id="pass", program="def f(x):\n    return 2 * x", tests=SEQ),
    dict(id="fail2", program="def f(x):\n    return 2 * x if x != 2 else 0", tests=SEQ),
    dict(id="raise3", program="def f(x):\n    if x == 3:\n        raise KeyError(x)\n    return 2 * x", tests=SEQ),
    dict(id="name_error_inside", program="def f(x):\n    return y", tests=SEQ),
    dict(id="missing_function", program="def g(x):\n    return 2 * x", tests=SEQ),
    dict(id="type_error_args", program="def f(x, y):\n    return 2 * x", tests=SEQ),
    dict(id="recursion", program="def f(x):\n    return f(x)", tests=SEQ),
    dict(id="zerodiv", program="def f(x):\n    return 1 / 0", tests=SEQ),
    dict(id="typeerror_compare", program="def f(x):\n    return None", tests="assert f(1) < 2"),
    dict(id="msg", program="def f(x):\n    return 0", tests="assert f(1) == 2, 'wrong answer'"),
    dict(id="he", program="def f(x):\n    return 2 * x if x < 2 else x", tests=HE),
    dict(id="he_raise", program="def f(x):\n    return [][x]", tests=HE),
    dict(id="isclose", program="def f(x):\n    return 2.0000001 * x", tests="import math\nassert math.isclose(f(1), 2.0, rel_tol=1e-3)"),
    dict(id="multiline", program="def f(x):\n    return 0", tests="assert f(\n    1) == (\n    2)"),
    dict(id="loops_in_tests", program="def f(x):\n    return 2 * x", tests="for i in range(5):\n    assert f(i) == 2 * i"),
    dict(id="helper_in_tests", program="def f(x):\n    return 2 * x", tests="def twice(v):\n    return v + v\nassert f(3) == twice(3)"),
    dict(id="program_constant", program="N = 5\ndef f(x):\n    return N * x", tests="assert f(1) == N"),
    dict(id="numpy_scalar", program="import numpy as np\ndef f(x):\n    return np.int64(2) * x", tests=SEQ),
    dict(id="numpy_element", program="import numpy as np\ndef f(x):\n    return np.array([2 * x, 0])[0]", tests=SEQ),
    dict(id="numpy_float_close", program="import numpy as np\ndef f(x):\n    return np.float32(2 * x)",
         tests="assert abs(f(1) - 2.0) < 1e-6"),
    dict(id="numpy_array_eq", program="import numpy as np\ndef f(x):\n    return np.array([x, x])",
         tests="import numpy as np\nassert (f(1) == np.array([1, 1])).all()"),
    dict(id="numpy_array_ambiguous", program="import numpy as np\ndef f(x):\n    return np.array([x, x])",
         tests="assert f(1) == [1, 1]"),
    dict(id="fraction", program="from fractions import Fraction\ndef f(x):\n    return Fraction(4 * x, 2)", tests=SEQ),
    dict(id="decimal", program="from decimal import Decimal\ndef f(x):\n    return Decimal(2 * x)", tests=SEQ),
    dict(id="decimal_vs_float", program="from decimal import Decimal\ndef f(x):\n    return Decimal('0.1') * x",
         tests="assert f(1) == 0.1"),
    dict(id="int_subclass", program="class Num(int):\n    pass\ndef f(x):\n    return Num(2 * x)", tests=SEQ),
    dict(id="str_subclass", program="class S(str):\n    def shout(self):\n        return self.upper()\ndef f(x):\n    return S('a' * x)",
         tests="assert f(2) == 'aa'"),
    dict(id="namedtuple", program="from collections import namedtuple\nP = namedtuple('P', 'a b')\ndef f(x):\n    return P(x, 2 * x)",
         tests="assert f(1) == (1, 2)\nassert f(2).b == 4"),
    dict(id="counter", program="from collections import Counter\ndef f(s):\n    return Counter(s)", tests="assert f('aab') == {'a': 2, 'b': 1}"),
    dict(id="ordereddict", program="from collections import OrderedDict\ndef f(x):\n    return OrderedDict(a=x)", tests="assert f(1) == {'a': 1}"),
    dict(id="deque_vs_list", program="from collections import deque\ndef f(x):\n    return deque([x])", tests="assert f(1) == [1]"),
    dict(id="generator_listed", program="def f(n):\n    for i in range(n):\n        yield i", tests="assert list(f(3)) == [0, 1, 2]"),
    dict(id="generator_compared", program="def f(n):\n    yield n", tests="assert f(3) == [3]"),
    dict(id="map_object", program="def f(xs):\n    return map(str, xs)", tests="assert list(f([1])) == ['1']"),
    dict(id="in_place_sort", program="def f(xs):\n    xs.sort()", tests="a = [3, 1, 2]\nf(a)\nassert a == [1, 2, 3]"),
    dict(id="in_place_dict", program="def f(d):\n    d['k'] = 1", tests="d = {}\nf(d)\nassert d == {'k': 1}"),
    dict(id="expected_exception", program="def f(x):\n    if x < 0:\n        raise ValueError('neg')\n    return x",
         tests="try:\n    f(-1)\n    raise AssertionError('no error')\nexcept ValueError:\n    pass\nassert f(2) == 2"),
    dict(id="exception_message", program="def f(x):\n    raise KeyError('a')", tests=SEQ),
    dict(id="class_instances_passed_back", program=(
        "class Node:\n    def __init__(self, v, nxt=None):\n        self.v, self.nxt = v, nxt\n"
        "def length(n):\n    return 0 if n is None else 1 + length(n.nxt)"),
        tests="head = Node(1, Node(2))\nassert length(head) == 2\nassert head.v == 1\nhead.v = 5\nassert head.v == 5"),
    dict(id="own_exception_class", program="class Bad(Exception):\n    pass\ndef f(x):\n    raise Bad('no')", tests=SEQ),
    dict(id="sys_exit_in_function", program="import sys\ndef f(x):\n    sys.exit(3)", tests=SEQ),
    dict(id="prints", program="def f(x):\n    print('hi', x)\n    return 2 * x", tests=SEQ),
    dict(id="global_state", program="calls = []\ndef f(x):\n    calls.append(x)\n    return 2 * len(calls)", tests=SEQ),
    dict(id="mutable_default", program="def f(x, acc=[]):\n    acc.append(x)\n    return 2 * len(acc)", tests=SEQ),
    dict(id="module_level_error", program="def f(x):\n    return 2 * x\nraise ValueError('at import')", tests=SEQ),
    dict(id="syntax", program="def f(x) return", tests=SEQ),
    dict(id="empty", program="", tests=SEQ),
    dict(id="bigint", program="def f(x):\n    return 7 ** 20000", tests="assert f(1) % 10 == 1"),
    dict(id="tuple_keys", program="def f(x):\n    return {(x, 1): [x]}", tests="assert f(1) == {(1, 1): [1]}"),
    dict(id="nan", program="def f(x):\n    return float('nan')", tests="import math\nassert math.isnan(f(1))"),
    dict(id="bytes", program="def f(x):\n    return bytes([x])", tests="assert f(65) == b'A'"),
    dict(id="set_order", program="def f(x):\n    return {3, 1, x}", tests="assert f(2) == {1, 2, 3}"),
    dict(id="none_compare", program="def f(x):\n    pass", tests="assert f(1) is None"),
    dict(id="lambda_entry", program="f = lambda x: 2 * x", tests=SEQ),
    dict(id="class_method_entry", program="class S:\n    def f(self, x):\n        return 2 * x\nf = S().f", tests=SEQ),
    dict(id="returns_callable", program="def f(x):\n    return lambda y: x + y", tests="assert f(1)(1) == 2"),
    dict(id="timeout", program="def f(x):\n    while True:\n        pass", tests=SEQ, timeout=1.0),
    dict(id="late_timeout", program="def f(x):\n    while x == 3:\n        pass\n    return 2 * x", tests=SEQ, timeout=1.0),
    dict(id="fail_before_loop", program="def f(x):\n    while x == 3:\n        pass\n    return 0", tests=SEQ, timeout=1.0),
]


@pytest.fixture(scope="module")
def same_results():
    return {r["id"]: r for r in run([dict(p) for p in SAME])}


@pytest.mark.parametrize("pid", [p["id"] for p in SAME])
def test_honest_programs_get_the_same_verdict_and_feedback(pid, same_results):
    f, h = both(same_results[pid])
    assert f["status"] == h["status"], (pid, f, h)
    for k in ("exc_type", "feedback", "failed_test"):
        assert f[k] == h[k], (pid, k, f[k], h[k])


def test_some_expected_outcomes(same_results):
    by = {k: both(v)[1] for k, v in same_results.items()}
    assert by["pass"]["status"] == "pass" and by["numpy_scalar"]["status"] == "pass"
    assert by["fail2"]["failed_test"] == "assert f(2) == 4"
    assert by["fail_before_loop"]["status"] == "fail" and by["late_timeout"]["status"] == "timeout"
    assert by["msg"]["feedback"].endswith("AssertionError: wrong answer\n")
    assert by["in_place_sort"]["status"] == "pass" and by["class_instances_passed_back"]["status"] == "pass"
    assert by["expected_exception"]["status"] == "pass" and by["decimal_vs_float"]["status"] == "fail"
    assert by["numpy_array_ambiguous"]["exc_type"] == "ValueError"
    assert by["sys_exit_in_function"]["exc_type"] == "SystemExit"
    assert by["own_exception_class"]["exc_type"] == "Bad"


# ---------------------------------------------------------------- values only the program could judge
def test_own_class_with_own_eq_is_unverifiable_never_a_pass():
    prog = ("class P:\n    def __init__(self, v):\n        self.v = v\n    def __eq__(self, o):\n"
            "        return isinstance(o, P) and o.v == self.v\ndef f(x):\n    return P(2 * x)")
    rec = run([dict(program=prog, tests="assert f(1) == P(2)")])[0]
    f, h = both(rec)
    assert f["status"] == "pass" and h["status"] == "unverifiable" and "own type" in h["reason"]
    assert rec["status"] == "error" and rec["exc_type"] == "Unverifiable"  # the hardened choice: not a pass
    assert choose_verdict(rec, "faithful")["status"] == "pass"


def test_choose_verdict_never_turns_a_hardened_non_pass_into_a_pass():
    base = {"status": "pass", "exc_type": None, "message": None, "feedback": None, "failed_test": None}
    for hstatus in ("fail", "error", "timeout", "memory", "unverifiable", "syntax_error"):
        rec = dict(base, verdicts={"faithful": dict(base), "hardened": dict(base, status=hstatus, reason="r")})
        assert choose_verdict(rec, "hardened")["status"] != "pass"
        assert choose_verdict(rec, "faithful")["status"] == "pass"
    fail = dict(base, status="fail", exc_type="AssertionError")
    rec = dict(fail, verdicts={"faithful": fail, "hardened": dict(base, status="unverifiable", reason="r")})
    assert choose_verdict(rec, "hardened")["status"] == "fail"  # the faithful failure decides


# ---------------------------------------------------------------- forgery never passes hardened
@pytest.fixture(scope="module")
def forgery_results():
    recs = run([dict(id=e["name"], program=e["program"], tests=e["tests"], timeout=5.0) for e in FORGERY])
    return {r["id"]: r for r in recs}


@pytest.mark.parametrize("entry", FORGERY, ids=[e["name"] for e in FORGERY])
def test_forgery_never_passes_hardened(entry, forgery_results):
    rec = forgery_results[entry["name"]]
    f, h = both(rec)
    assert h["status"] != "pass" and rec["status"] != "pass", (h, rec["status"])
    assert h["status"] in entry["expect"], (h["status"], h["message"])


def test_the_forgery_corpus_has_teeth(forgery_results):
    """The same attacks fool the faithful verdict (the tests in the program's own process)."""
    known = [e["name"] for e in FORGERY if e["faithful"] == "pass"]
    assert len(FORGERY) >= 30 and len(known) >= 15
    fooled = [n for n in known if both(forgery_results[n])[0]["status"] == "pass"]
    assert len(fooled) >= len(known) - 2, sorted(set(known) - set(fooled))


def test_a_forged_harness_error_is_an_error():
    entry = next(e for e in FORGERY if e["name"] == "forge_harness_error_record")
    rec = run([dict(program=entry["program"], tests=entry["tests"])])[0]
    f, h = both(rec)
    assert f["status"] == "error" and "invalid" in f["message"] and h["status"] != "pass"


# ---------------------------------------------------------------- text never decides how tests are judged
@pytest.mark.parametrize("program", [
    "def f(x):",                           # the IndentationError points at the first test line
    "def f(x):\n    return 2 * x + \\",  # a continuation would join the first test line
    "def f(x):\n    return (2 * x",         # an open bracket swallows the tests
    'def f(x):\n    return 2 * x\ns = """',
])
def test_programs_that_do_not_parse_alone(program):
    """The faithful verdict compiles the original text (program + tests) as the original did; the
    hardened one is the program's own syntax error, whatever the tests' text would have completed."""
    rec = run([dict(program=program, tests=SEQ)])[0]
    f, h = both(rec)
    assert f["status"] == "syntax_error" and h["status"] == "syntax_error"


def test_a_trailing_line_that_completes_with_the_tests_is_no_pass():
    prog = "def f(x):\n    return 2 * x\nif False: (\n"  # ( ... ) would swallow the tests in the original text
    rec = run([dict(program=prog, tests="0)\n" + SEQ)])[0]
    f, h = both(rec)
    assert h["status"] in ("syntax_error", "unverifiable") and rec["status"] != "pass"


def test_metadata_names_the_provided_names_and_prelude():
    """A problem's `judge` metadata (from its reference): the name the tests call that shadows a built-in
    is the program's; a helper the prompt defines is the judge's own, whatever the program redefines."""
    recs = run([
        dict(program="def sum(a, b):\n    return a + b", tests="assert sum(1, 2) == 3", judge={"provides": ["sum"]}),
        dict(program="def sum(a, b):\n    return a + b", tests="assert sum(1, 2) == 3"),  # no metadata: the built-in
        dict(program="def helper(x):\n    return 4\ndef f(x):\n    return 0", tests="assert helper(f(1)) == 4",
             judge={"provides": ["f"], "prelude": "def helper(x):\n    return 2 * x"}),
    ])
    assert both(recs[0])[1]["status"] == "pass" and both(recs[1])[1]["status"] != "pass"
    assert both(recs[2])[0]["status"] == "pass" and both(recs[2])[1]["status"] == "fail"


def test_memory_budget_can_be_switched_off():
    recs = run([dict(program="x = bytearray(300 * 1024 * 1024)\ndef f():\n    return len(x)",
                     tests="assert f() > 0", memory_mb=None),
                dict(program="x = bytearray(300 * 1024 * 1024)\ndef f():\n    return len(x)",
                     tests="assert f() > 0", memory_mb=64)], workers=1)
    assert recs[0]["status"] == "pass" and both(recs[0])[0]["status"] == "pass"
    assert recs[1]["status"] == "memory"


def test_a_test_stuck_in_c_code_on_a_programs_value_costs_only_that_program():
    """The judge's CPU alarm ends it; the pool re-runs that program with a hardened timeout, and the other
    programs of the batch keep their records."""
    recs = run([dict(id="ok1", program="def f(x):\n    return 2 * x", tests=SEQ),
                dict(id="stuck", program="def f(x):\n    return 10 ** 12", tests="assert sum(range(f(1))) == 3", timeout=1.0),
                dict(id="ok2", program="def f(x):\n    return 2 * x", tests=SEQ)], workers=1)
    by = {r["id"]: r for r in recs}
    assert by["ok1"]["status"] == by["ok2"]["status"] == "pass"
    f, h = both(by["stuck"])
    assert h["status"] == "timeout" and f["status"] in ("timeout", "fail", "error", "memory")
    assert by["stuck"]["status"] != "harness_error"
