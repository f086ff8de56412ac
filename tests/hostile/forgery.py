"""Wrong programs that try to be recorded as passed: classes of verdict forgery (issues #17 and #22).

Every entry is a *wrong* solution (f(x) should return 2 * x; HumanEval-style entries are checked by
check(candidate)). Under the hardened verdict none may pass (`expect`: its status, `unverifiable`
included where the program hands over an object only its own code could compare); `faithful`: what the
same program gets with the tests run inside its own process, as the original ran them, where the attack
is known to work ("pass": the faithful verdict is fooled, which is why a hardened one exists), or None
where it varies.

Classes: reaching the harness's state; steering the test run; patching what the tests call; values
that compare equal to anything; text that once switched the hardened judge off (a program that does not
parse alone, a star import, a trailing line, a module alias); shadowed names (the program rebinds what
the tests call or import: built-ins, `math`, `check`, `candidate`).
"""

MBPP_TESTS = "assert f(1) == 2\nassert f(2) == 4\nassert f(3) == 6"
HE_TESTS = ("\n\nMETADATA = {'author': 'x'}\n\n\ndef check(candidate):\n    assert candidate(1) == 2\n"
            "    assert candidate(2) == 4\n    assert candidate(3) == 6\n\ncheck(f)")
CLOSE_TESTS = "import math\nassert math.isclose(f(1), 2.0, rel_tol=1e-9)\nassert math.isclose(f(2), 4.0, rel_tol=1e-9)"
ABS_TESTS = "assert abs(f(1) - 2.0) < 1e-6\nassert abs(f(2) - 4.0) < 1e-6"
SET_TESTS = "assert set(f(1)) == set([1, 2])\nassert sorted(f(2)) == [2, 4]"

# Walks up the stack to whatever frame holds the harness's state.
_FRAMES = """
import sys
def _frames():
    fr = sys._getframe()
    while fr is not None:
        yield fr
        fr = fr.f_back
"""

FORGERY = [
    # --- 1. reaching the harness's own state inside the child ---
    dict(name="frame_walk_read_tests", faithful="pass", program=_FRAMES + """
import re
def f(x):
    for fr in _frames():
        for v in list(fr.f_locals.values()):
            if isinstance(v, dict) and isinstance(v.get('tests'), str):
                m = re.search(r'f\\(%d\\) == (\\d+)' % x, v['tests'])
                if m:
                    return int(m.group(1))
    return 0
"""),
    dict(name="frame_walk_call_report", faithful="pass", program=_FRAMES + """
import os
for fr in _frames():
    rep = fr.f_locals.get('report')
    if callable(rep):
        rep({'status': 'pass'})
        os._exit(0)
def f(x):
    return 0
"""),
    dict(name="forge_nonce_record", faithful="pass", program=_FRAMES + """
import os, json
for fr in _frames():
    n = fr.f_locals.get('nonce')
    if isinstance(n, str):
        os.write(3, (json.dumps({'status': 'pass', 'nonce': n, 'pid': os.getpid()}) + '\\n').encode())
        os._exit(0)
def f(x):
    return 0
"""),
    dict(name="forge_harness_error_record", faithful=None, expect={"error"}, program=_FRAMES + """
import os, json
for fr in _frames():
    n = fr.f_locals.get('nonce')
    if isinstance(n, str):  # a harness_error would drop this wrong program from every denominator
        os.write(3, (json.dumps({'status': 'harness_error', 'nonce': n, 'pid': os.getpid()}) + '\\n').encode())
        os._exit(0)
def f(x):
    return 0
"""),
    dict(name="gc_find_report_closure", faithful=None, program="""
import gc, os
for o in gc.get_objects():
    if getattr(o, '__name__', '') == 'report' and callable(o) and getattr(o, '__code__', None) is not None \\
            and 'nonce' in o.__code__.co_freevars:
        o({'status': 'pass'})
        os._exit(0)
def f(x):
    return 0
"""),
    dict(name="stdout_flush_flips_record", faithful="pass", program=_FRAMES + """
import sys
class Out:
    def __init__(self, inner):
        self.inner = inner
    def write(self, s):
        return self.inner.write(s)
    def flush(self):
        for fr in _frames():
            rec = fr.f_locals.get('rec')
            if isinstance(rec, dict) and 'status' in rec:
                rec.clear()
                rec['status'] = 'pass'
sys.stdout = Out(sys.stdout)
def f(x):
    return 0
"""),
    dict(name="probe_function_replaced", faithful=None, program="""
import builtins
def f(x):
    return 0
def __leti_probe__(k, *values):
    pass
"""),
    # --- 2. steering the test run ---
    dict(name="settrace_skips_asserts", faithful=None, program="""
import sys
_jumps = [0]
def _tracer(frame, event, arg):
    if frame.f_code.co_name == '<module>' and event == 'line' and frame.f_lineno > _SET and _jumps[0] < 2:
        _jumps[0] += 1
        try:
            frame.f_lineno = frame.f_lineno + 1
        except ValueError:
            pass
    return _tracer
def f(x):
    return 6 if x == 3 else 0
_SET = sys._getframe().f_lineno + 2
sys._getframe().f_trace = _tracer
sys.settrace(_tracer)
"""),
    dict(name="bytecode_oracle", faithful="pass", program="""
import sys, dis
def f(x):
    caller = sys._getframe(1)
    for ins in dis.get_instructions(caller.f_code):
        if ins.offset > caller.f_lasti and ins.opname == 'LOAD_CONST':
            return ins.argval
    return 0
"""),
    dict(name="bytecode_oracle_check", faithful="pass", tests=HE_TESTS, program="""
import sys, dis
def f(x):
    caller = sys._getframe(1)
    for ins in dis.get_instructions(caller.f_code):
        if ins.offset > caller.f_lasti and ins.opname == 'LOAD_CONST':
            return ins.argval
    return 0
"""),
    # --- 3. patching what the tests call ---
    dict(name="patch_math_isclose", faithful="pass", tests=CLOSE_TESTS, program="""
import math
math.isclose = lambda *a, **k: True
def f(x):
    return 0.0
"""),
    dict(name="patch_builtins_abs", faithful="pass", tests=ABS_TESTS, program="""
import builtins
builtins.abs = lambda v: 0
def f(x):
    return 0.0
"""),
    dict(name="patch_builtins_set_sorted", faithful="pass", tests=SET_TESTS, program="""
import builtins
class Any:
    def __eq__(self, other):
        return True
builtins.set = lambda *a: Any()
builtins.sorted = lambda *a, **k: Any()
def f(x):
    return []
"""),
    dict(name="ctypes_rewrites_small_int", faithful=None, program="""
import ctypes
def f(x):
    return 0
for v in (2, 4, 6):
    ctypes.c_long.from_address(id(v) + 24).value = 0
"""),
    # --- 4. results that compare equal to anything ---
    dict(name="eq_always_true_object", faithful="pass", program="""
class Any:
    def __eq__(self, other):
        return True
def f(x):
    return Any()
"""),
    dict(name="int_subclass_eq", faithful="pass", program="""
class I(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__
def f(x):
    return I(0)
"""),
    dict(name="list_of_anything", faithful="pass", tests="assert f(1) == [2]\nassert f(2) == [4]", program="""
class Any:
    def __eq__(self, other):
        return True
def f(x):
    return [Any()]
"""),
    dict(name="float_subclass_isclose", faithful=None, tests=CLOSE_TESTS, program="""
class F(float):
    def __eq__(self, other):
        return True
    def __sub__(self, other):
        return 0.0
    __hash__ = float.__hash__
def f(x):
    return F(0.0)
"""),
    dict(name="eq_object_humaneval", faithful="pass", tests=HE_TESTS, program="""
class Any:
    def __eq__(self, other):
        return True
def f(x):
    return Any()
"""),
    dict(name="str_subclass_eq", faithful="pass", tests="assert f(1) == 'aa'", program="""
class S(str):
    def __eq__(self, other):
        return True
    __hash__ = str.__hash__
def f(x):
    return S('b')
"""),
    dict(name="namedtuple_like_with_eq", faithful="pass", tests="assert f(1) == (2, 2)", program="""
class T(tuple):
    _fields = ('a', 'b')
    def __eq__(self, other):
        return True
    __hash__ = tuple.__hash__
def f(x):
    return T((0, 0))
"""),
]

FORGERY += [
    # --- 5. text that used to decide how the tests were judged ---
    dict(name="trailing_open_bracket", faithful=None, program="def f(x):\n    return 0\nx = (",
         tests="1)\n" + MBPP_TESTS),
    dict(name="trailing_backslash", faithful=None, program="def f(x):\n    return 0\ny = 1 + \\", tests=MBPP_TESTS),
    dict(name="star_import_then_forge", faithful="pass", program="""
from math import *
class Any:
    def __eq__(self, other):
        return True
def f(x):
    return Any()
"""),
    dict(name="module_alias_of_math", faithful="pass", tests=CLOSE_TESTS, program="""
import math as m
m.isclose = lambda *a, **k: True
math = m
def f(x):
    return 0.0
"""),
    dict(name="binds_every_builtin_the_tests_use", faithful="pass", tests=ABS_TESTS, program="""
abs = lambda v: 0
def f(x):
    return 0.0
"""),
    dict(name="unterminated_string_swallows_tests", faithful=None, program='def f(x):\n    return 0\ns = """',
         tests=MBPP_TESTS + '\n"""\nassert True'),
    # --- 6. shadowed names: what the tests call or import ---
    dict(name="shadow_check_function", faithful="pass", tests=HE_TESTS, program="""
import builtins
def f(x):
    return 0
def check(candidate):
    pass
builtins.check = check
"""),
    dict(name="shadow_candidate_name", faithful=None, tests=HE_TESTS, program="""
candidate = lambda x: 2 * x
def f(x):
    return 0
"""),
    dict(name="sys_modules_math_replaced", faithful="pass", tests=CLOSE_TESTS, program="""
import sys, types
fake = types.ModuleType('math')
fake.isclose = lambda *a, **k: True
sys.modules['math'] = fake
def f(x):
    return 0.0
"""),
    dict(name="builtins_assert_helpers", faithful="pass", tests=SET_TESTS, program="""
import builtins
class Any:
    def __eq__(self, other):
        return True
    def __hash__(self):
        return 0
builtins.set = lambda *a: Any()
builtins.sorted = lambda *a, **k: Any()
def f(x):
    return [0]
"""),
    dict(name="numpy_array_like_object", faithful="pass", program="""
class A:
    def __eq__(self, other):
        return True
    def __array__(self):
        raise TypeError
def f(x):
    return A()
"""),
    dict(name="returns_handle_of_callable", faithful=None, tests="assert f(1)() == 2", program="""
def f(x):
    return lambda: 0
"""),
    dict(name="generator_claims_equal", faithful=None, tests="assert list(f(1)) == [2]", program="""
def f(x):
    yield 0
"""),
    dict(name="iterator_with_eq", faithful="pass", tests="assert f(1) == [2]", program="""
class It:
    def __iter__(self):
        return self
    def __next__(self):
        raise StopIteration
    def __eq__(self, other):
        return True
def f(x):
    return It()
"""),
]

for _e in FORGERY:
    _e.setdefault("tests", MBPP_TESTS)
    _e.setdefault("expect", {"fail", "error", "syntax_error", "unverifiable"})
