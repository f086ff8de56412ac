"""Isolated verdicts: the comparison of an assert-style test runs outside the program's process.

`split(program, tests, header)` rewrites tests such as MBPP's `assert f(x) == y` and HumanEval's
`def check(candidate): assert candidate(x) == y ...; check(f)` into *probes*: the child evaluates only
the candidate-dependent sub-expressions (`f(x)`) and sends their values as plain data
(`plaindata`); the rest of each assert (`== y`, `math.isclose(.., y)`, `abs(.. - y) < tol`, set or
sorted equality) stays here and is evaluated by `judge` with the real built-ins on freshly decoded
values. Expected values never reach the child: the rewritten tests keep every statement on its
original line (so tracebacks are unchanged) but contain only the probe expressions.

Tests that cannot be split this way (loops, helper functions, comprehensions, short-circuits that would
skip a probe) return None and run as before, inside the child (`verdict: in_child`).

Order is preserved: asserts are judged in the order they would run; the first one that fails, raises
or was not reached decides, exactly as a sequential run would (a child that died or timed out while
computing a probe gives the child's own outcome at that point).
"""
from __future__ import annotations

import ast
import builtins
import math
import operator
import re
import warnings
from dataclasses import dataclass, field

from leti.execution.executor import feedback as fb
from leti.execution.executor import plaindata

PROBE = plaindata.PROBE

TRUSTED_BUILTINS = frozenset(
    "abs all any bin bool chr complex dict divmod enumerate float frozenset hex int isinstance len list "
    "max min oct ord range repr reversed round set sorted str sum tuple type zip".split())
TRUSTED_MODULES = {"math": math}
# what the trusted side may call on a module (math.factorial(10**7) of a hostile value would hang it)
TRUSTED_ATTRS = {"math": frozenset(
    "isclose fabs sqrt floor ceil trunc pi e tau inf nan isnan isinf isfinite log log2 log10 exp pow copysign "
    "hypot sin cos tan asin acos atan atan2 radians degrees gcd fsum dist".split())}
# the sizes a trusted operation may build from candidate values (a hostile value cannot make it allocate more)
MAX_BUILT = 1_000_000

_SKELETON_ALWAYS = (ast.Compare, ast.BoolOp)
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
           ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitOr: operator.or_,
           ast.BitXor: operator.xor, ast.BitAnd: operator.and_}
_CMPOPS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
           ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
           ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}
_UNARY = {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}


class Unsplittable(Exception):
    pass


@dataclass
class Probe:
    """One candidate-dependent sub-expression, by its position in the child's probe call."""
    index: int


@dataclass
class Check:
    """One assert: where it is, what the trusted side evaluates, and how many probe values it needs."""
    k: int
    line: int                    # 1-based line in the tests text
    skeleton: ast.expr           # with Probe placeholders (as ast.Constant(value=Probe))
    n_probes: int
    msg: ast.expr | None
    in_check: bool               # inside HumanEval's check(candidate)


@dataclass
class Plan:
    child_tests: str             # the tests the child runs: same lines, probes only
    checks: list[Check]
    order: list[int]             # check indices in execution order
    check_call_line: int | None  # tests line of `check(entry_point)`
    constants: dict = field(default_factory=dict)
    tests_lines: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- what the program binds

def _parse(text: str) -> ast.Module:
    with warnings.catch_warnings():  # invalid escapes etc.: the worker reports what matters when it compiles
        warnings.simplefilter("ignore")
        return ast.parse(text)


class Incomplete(Exception):
    """The program (or header) does not parse on its own: its last line may run into the tests."""


def program_names(program: str, header: str) -> set[str] | None:
    """Names the program (or header) may bind; None = unknown (then no built-in is trusted by name).
    Raises Incomplete if either does not parse on its own."""
    names: set[str] = set()
    for text in (header, program):
        if not text:
            continue
        try:
            tree = _parse(text)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            raise Incomplete from None
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Import):
                for a in node.names:  # `import math` binds the real module: its name stays trusted here
                    if not (a.asname is None and a.name in TRUSTED_MODULES):
                        names.add((a.asname or a.name).split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                for a in node.names:
                    if a.name == "*":
                        return None
                    names.add(a.asname or a.name)
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                names.update(node.names)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                names.add(node.name)
            elif isinstance(node, ast.MatchAs) and node.name:
                names.add(node.name)
    return names


# ---------------------------------------------------------------- splitting

def compile_in_parent(job: dict) -> dict | None:
    """The syntax_error result of a program that does not parse on its own, decided here by compiling
    the original text (compiling runs no program code; the tests' expected values stay in this
    process); None if the whole text compiles after all (then the tests run in the child)."""
    import time

    from leti.execution.executor.worker import compile_program

    t0 = time.monotonic()
    with warnings.catch_warnings():  # SyntaxWarnings of model output are not the harness's to print
        warnings.simplefilter("ignore")
        _code, rec = compile_program(job)
    if rec is None:
        return None
    rec.update(failed_test=None, captured=None, stdout_tail="", stderr_tail="", wall_s=round(time.monotonic() - t0, 4),
               cpu_s=None, peak_rss_mb=None, sandbox="none")
    return rec


def free_names(node: ast.AST) -> set[str]:
    """Names `node` reads that it does not bind itself (comprehension targets, lambda parameters, :=)."""
    loads: set[str] = set()
    bound: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            (loads if isinstance(n.ctx, ast.Load) else bound).add(n.id)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
    return loads - bound

class _Splitter:
    def __init__(self, program_binds: set[str] | None):
        self.binds = program_binds
        self.modules: set[str] = set()
        self.constants: dict[str, object] = {}
        self.local_names: set[str] = set()  # the check function's parameter(s)
        self.probe_names: set[str] = set()  # names the child needs (test constants among them stay)

    # a name the trusted side resolves itself, identically to what the tests meant
    def trusted_name(self, name: str) -> bool:
        if name in self.local_names:
            return False
        if self.binds is None or name in self.binds:
            return False
        return name in TRUSTED_BUILTINS or name in self.modules or name in self.constants

    def candidate_dependent(self, node: ast.AST) -> bool:
        """Does `node` read a name the trusted side cannot resolve itself (the candidate, or anything the
        program may have bound)? Names bound inside it (comprehension variables, lambda parameters) do not
        count: `[i for i in range(3)]` is a constant the child must never compute."""
        return any(not self.trusted_name(name) for name in free_names(node))

    def split_expr(self, node: ast.expr, probes: list[ast.expr]) -> ast.expr:
        if not self.candidate_dependent(node):
            self._check_evaluable(node)
            return node
        if isinstance(node, ast.BoolOp):
            if any(self.candidate_dependent(v) for v in node.values[1:]):
                raise Unsplittable("a later operand of and/or depends on the candidate (short-circuit)")
            return ast.BoolOp(op=node.op, values=[self.split_expr(v, probes) for v in node.values])
        if isinstance(node, ast.Compare):
            if len(node.comparators) > 1 and any(self.candidate_dependent(c) for c in node.comparators[1:]):
                raise Unsplittable("a chained comparison would skip a probe (short-circuit)")
            return ast.Compare(left=self.split_expr(node.left, probes), ops=node.ops,
                               comparators=[self.split_expr(c, probes) for c in node.comparators])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ast.UnaryOp(op=node.op, operand=self.split_expr(node.operand, probes))
        mixed = self._mixed_children(node)
        if mixed is not None:
            return mixed(probes)
        return self._probe(node, probes)

    def leaks(self, node: ast.expr) -> bool:
        """Would probing `node` whole send a constant of the test (possibly an expected value) into the
        child? Arguments of a candidate's own call are its inputs, not expected values."""
        if not self.candidate_dependent(node):
            return True
        if isinstance(node, (ast.BinOp, ast.Compare, ast.BoolOp)):
            return any(self.leaks(c) for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr))
        if isinstance(node, ast.UnaryOp):
            return self.leaks(node.operand)
        if isinstance(node, ast.Call) and self._trusted_callable(node.func):
            return any(self.leaks(a) for a in node.args)  # keyword options (reverse=True) are not expected values
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return any(self.leaks(e) for e in node.elts)
        if isinstance(node, ast.Dict):
            return any(self.leaks(e) for e in list(node.keys) + list(node.values) if e is not None)
        return False

    def _mixed_children(self, node: ast.expr):
        """A rebuild function when `node` combines candidate values with constants the trusted side must
        apply itself (an expected value must never enter the child); None to probe `node` whole."""
        if isinstance(node, ast.BinOp):
            if not self.leaks(node):
                return None
            return lambda probes: ast.BinOp(left=self.split_expr(node.left, probes), op=node.op,
                                            right=self.split_expr(node.right, probes))
        if isinstance(node, ast.UnaryOp):
            if not self.leaks(node):
                return None
            return lambda probes: ast.UnaryOp(op=node.op, operand=self.split_expr(node.operand, probes))
        if isinstance(node, ast.Call) and self._trusted_callable(node.func):
            if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
                raise Unsplittable("starred arguments")
            if not self.leaks(node):
                return None  # e.g. sorted(f(x)), list(f(x)), sorted(f(x), reverse=True): the child converts
            return lambda probes: ast.Call(func=node.func, args=[self.split_expr(a, probes) for a in node.args],
                                           keywords=[ast.keyword(arg=k.arg, value=self.split_expr(k.value, probes))
                                                     for k in node.keywords])
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            if any(isinstance(e, ast.Starred) for e in node.elts):
                raise Unsplittable("starred display")
            if not self.leaks(node):
                return None
            return lambda probes: type(node)(elts=[self.split_expr(e, probes) for e in node.elts], ctx=ast.Load())
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                raise Unsplittable("dict unpacking")
            if not self.leaks(node):
                return None
            return lambda probes: ast.Dict(keys=[self.split_expr(k, probes) for k in node.keys],
                                           values=[self.split_expr(v, probes) for v in node.values])
        return None

    def _trusted_callable(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Name):
            return self.trusted_name(func.id) and func.id not in self.constants
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            return (func.value.id in self.modules and self.trusted_name(func.value.id)
                    and func.attr in TRUSTED_ATTRS.get(func.value.id, ()))
        return False

    def _probe(self, node: ast.expr, probes: list[ast.expr]) -> ast.expr:
        probes.append(node)
        self.probe_names.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
        return ast.Constant(value=Probe(len(probes) - 1))

    def _check_evaluable(self, node: ast.expr) -> None:
        for n in ast.walk(node):
            if not isinstance(n, _EVALUABLE):
                raise Unsplittable(f"cannot evaluate {type(n).__name__} outside the program")
            if isinstance(n, ast.Attribute) and not (isinstance(n.value, ast.Name) and n.value.id in self.modules
                                                     and n.attr in TRUSTED_ATTRS.get(n.value.id, ())):
                raise Unsplittable("attribute of a value")


_EVALUABLE = (ast.Constant, ast.Name, ast.Load, ast.Attribute, ast.Call, ast.keyword, ast.Compare, ast.BoolOp,
              ast.UnaryOp, ast.BinOp, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Subscript, ast.Slice,
              ast.And, ast.Or, ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def split(program: str, tests: str, header: str = "") -> Plan | None:
    """The isolated-verdict plan of these tests for this program, or None (run them in the child);
    raises Incomplete if the program does not parse on its own (see compile_in_parent).

    A plan depends on the program only through which of the tests' names it binds, so plans are
    cached by (tests, that set): the samples of one problem share one split."""
    if not tests.strip():
        return None
    parsed = _parsed_tests(tests)
    if parsed is None:
        return None
    tree, names = parsed
    # raises Incomplete: an unfinished last line (an open bracket, a backslash) would run into the
    # rewritten tests and could parse differently there; the caller compiles the original text instead
    binds = program_names(program, header)
    key = (tests, None if binds is None else frozenset(binds & names))
    if key in _PLANS:
        return _PLANS[key]
    try:
        plan = _split(tree, tests, binds)
    except (Unsplittable, RecursionError):
        plan = None
    if len(_PLANS) >= _CACHE_SIZE:
        _PLANS.pop(next(iter(_PLANS)))
    _PLANS[key] = plan
    return plan


_CACHE_SIZE = 4096
_PLANS: dict = {}
_TREES: dict = {}


def _parsed_tests(tests: str):
    """(tree, every name the tests mention) or None if they do not parse; cached per tests text."""
    if tests in _TREES:
        return _TREES[tests]
    try:
        tree = _parse(tests)
        out = (tree, frozenset({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {"check", PROBE}))
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        out = None
    if len(_TREES) >= _CACHE_SIZE:
        _TREES.pop(next(iter(_TREES)))
    _TREES[tests] = out
    return out


def _split(tree: ast.Module, tests: str, binds: set[str] | None) -> Plan:
    sp = _Splitter(binds)
    lines = tests.split("\n")
    child = list(lines)
    checks: list[Check] = []
    order: list[int] = []
    check_fn: ast.FunctionDef | None = None
    check_call_line = None
    body_checks: list[int] = []

    def import_(node) -> None:
        for a in node.names:
            if isinstance(node, ast.Import) and a.asname is None and a.name in TRUSTED_MODULES:
                sp.modules.add(a.name)

    def assert_(node: ast.Assert, in_check: bool) -> int:
        probes: list[ast.expr] = []
        skeleton = sp.split_expr(node.test, probes)
        if node.msg is not None and sp.candidate_dependent(node.msg):
            raise Unsplittable("assert message depends on the candidate")
        if node.msg is not None:
            sp._check_evaluable(node.msg)
        k = len(checks)
        checks.append(Check(k=k, line=node.lineno, skeleton=skeleton, n_probes=len(probes), msg=node.msg,
                            in_check=in_check))
        _rewrite(child, lines, node, k, probes, tests)
        return k

    const_assigns: list[tuple[ast.Assign, str]] = []

    def blank(node) -> None:
        for i in range(node.lineno - 1, node.end_lineno):
            child[i] = ""

    for node in tree.body:
        if isinstance(node, ast.Assert):
            order.append(assert_(node, False))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            import_(node)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            pass
        elif isinstance(node, ast.Pass):
            pass
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
              and not sp.candidate_dependent(node.value)):
            name = node.targets[0].id
            if binds is not None and name not in binds and name not in TRUSTED_BUILTINS:
                sp._check_evaluable(node.value)
                sp.constants[name] = _Evaluator(sp.modules, sp.constants, []).eval(node.value)
                const_assigns.append((node, name))
            # else: kept as it is in the child, and the name counts as candidate-dependent there
        elif isinstance(node, ast.FunctionDef) and node.name == "check" and check_fn is None:
            check_fn = node
            a = node.args
            if (len(a.args) != 1 or a.posonlyargs or a.kwonlyargs or a.vararg or a.kwarg or a.defaults
                    or node.decorator_list):
                raise Unsplittable("check() must take exactly one parameter")
            sp.local_names = {a.args[0].arg}
            for st in node.body:
                if isinstance(st, ast.Assert):
                    body_checks.append(assert_(st, True))
                elif isinstance(st, ast.Import):
                    import_(st)
                elif isinstance(st, (ast.Pass,)) or (isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant)):
                    pass
                else:
                    raise Unsplittable(f"check() contains a {type(st).__name__}")
            sp.local_names = set()
        elif (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and check_fn is not None
              and isinstance(node.value.func, ast.Name) and node.value.func.id == "check"
              and check_call_line is None and len(node.value.args) == 1 and not node.value.keywords
              and isinstance(node.value.args[0], ast.Name)):
            check_call_line = node.lineno
            order.extend(body_checks)
        else:
            raise Unsplittable(f"a top-level {type(node).__name__} in the tests")
    if check_fn is not None and check_call_line is None:
        raise Unsplittable("check() is defined but not called once")
    # (a program's own `check` or `__leti_probe__` is replaced by the tests' definitions, which run later; a
    # program that rebinds them at run time only changes which values it reports)
    if not checks:
        raise Unsplittable("no assert")
    for node, name in const_assigns:  # a constant the probes use is an input: the child keeps it
        if name not in sp.probe_names:
            blank(node)  # the child never sees it (it may hold an expected value)
    seen: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.Module)):
            span = set(range(node.lineno, node.end_lineno + 1))
            if span & seen:
                raise Unsplittable("two statements share a line")
            seen |= span
    return Plan(child_tests="\n".join(child), checks=checks, order=order, check_call_line=check_call_line,
                constants=sp.constants, tests_lines=lines)


def _rewrite(child: list[str], lines: list[str], node: ast.Assert, k: int, probes: list[ast.expr], text: str) -> None:
    """Replace the assert's lines by `__leti_probe__(k, e0, e1, ...)`, each probe on its original line."""
    first, last = node.lineno - 1, node.end_lineno - 1
    indent = lines[first][:node.col_offset]
    out = f"{indent}{PROBE}({k}"
    line = first
    for p in probes:
        src = ast.get_source_segment(text, p)
        if src is None:
            raise Unsplittable("no source for a probe")
        out += ", "
        while line < p.lineno - 1:  # inside the call's parentheses a newline is free
            out += "\n"
            line += 1
        out += "(" + src + ")"
        line += src.count("\n")
    out += ")"
    new = out.split("\n")
    if line > last:
        raise Unsplittable("probe layout")
    new += [""] * (last - first + 1 - len(new))
    child[first:last + 1] = new


# ---------------------------------------------------------------- judging (trusted side)

class _Evaluator:
    def __init__(self, modules: set[str], constants: dict, values: list):
        self.modules = modules
        self.constants = constants
        self.values = values

    def eval(self, node: ast.expr):
        m = getattr(self, "_" + type(node).__name__, None)
        if m is None:
            raise Unsplittable(type(node).__name__)
        return m(node)

    def _Constant(self, n):
        if isinstance(n.value, Probe):
            v = self.values[n.value.index]
            if isinstance(v, plaindata.Rejected):
                raise _RejectedValue(v.why)
            return v
        return n.value

    def _Name(self, n):
        if n.id in self.constants:
            return self.constants[n.id]
        if n.id in self.modules:
            return TRUSTED_MODULES[n.id]
        if n.id in TRUSTED_BUILTINS:
            return getattr(builtins, n.id)
        raise Unsplittable(n.id)

    def _Attribute(self, n):
        if not (isinstance(n.value, ast.Name) and n.attr in TRUSTED_ATTRS.get(n.value.id, ())):
            raise Unsplittable("attribute")
        return getattr(self.eval(n.value), n.attr)

    def _Call(self, n):
        fn = self.eval(n.func)
        args = [self.eval(a) for a in n.args]
        kw = {k.arg: self.eval(k.value) for k in n.keywords}
        if fn is range and any(isinstance(a, int) and abs(a) > MAX_BUILT for a in args):
            raise MemoryError("range too large")
        if fn in (set, frozenset, dict) and args:
            try:
                plaindata.check_hashes(args[0].keys() if isinstance(args[0], dict) else
                                       (x[0] if fn is dict and isinstance(x, (list, tuple)) and x else x
                                        for x in args[0]))
            except ValueError as exc:
                raise MemoryError(str(exc)) from None
        return fn(*args, **kw)

    def _Compare(self, n):
        left = self.eval(n.left)
        for op, right_node in zip(n.ops, n.comparators):
            right = self.eval(right_node)
            if not _CMPOPS[type(op)](left, right):
                return False
            left = right
        return True

    def _BoolOp(self, n):
        value = None
        for v in n.values:
            value = self.eval(v)
            if isinstance(n.op, ast.And) and not value:
                return value
            if isinstance(n.op, ast.Or) and value:
                return value
        return value

    def _UnaryOp(self, n):
        return _UNARY[type(n.op)](self.eval(n.operand))

    def _BinOp(self, n):
        a, b = self.eval(n.left), self.eval(n.right)
        _guard_size(n.op, a, b)
        return _BINOPS[type(n.op)](a, b)

    def _List(self, n):
        return [self.eval(e) for e in n.elts]

    def _Tuple(self, n):
        return tuple(self.eval(e) for e in n.elts)

    def _Set(self, n):
        return {self.eval(e) for e in n.elts}

    def _Dict(self, n):
        return {self.eval(k): self.eval(v) for k, v in zip(n.keys, n.values)}

    def _Subscript(self, n):
        return self.eval(n.value)[self.eval(n.slice)]

    def _Slice(self, n):
        return slice(*(None if x is None else self.eval(x) for x in (n.lower, n.upper, n.step)))


class _RejectedValue(Exception):
    pass


def _guard_size(op, a, b) -> None:
    """Refuse operations whose result a hostile operand could make huge (sequence repetition, powers, shifts)."""
    if isinstance(op, ast.Mult):
        for s, n in ((a, b), (b, a)):
            if isinstance(s, (str, bytes, list, tuple)) and isinstance(n, int) and len(s) * max(n, 0) > MAX_BUILT:
                raise MemoryError("repetition too large")
    elif isinstance(op, ast.Pow) and isinstance(a, int) and isinstance(b, int) and b > 0:
        if max(a.bit_length(), 1) * b > 64 * MAX_BUILT:
            raise MemoryError("power too large")
    elif isinstance(op, ast.LShift) and isinstance(b, int) and b > 64 * MAX_BUILT:
        raise MemoryError("shift too large")


def read_events(lines: list[str]) -> dict[int, list]:
    """Probe index -> decoded values; the first well-formed event of an index counts."""
    out: dict[int, list] = {}
    for line in lines:
        ev = plaindata.loads_event(line)
        if ev is not None and ev[0] not in out:
            out[ev[0]] = ev[1]
    return out


def judge(plan: Plan, n_prog_lines: int, result: dict, events: dict[int, list]) -> dict:
    """The final result: the first check (in execution order) that fails, raises or was not reached
    decides; if every check passed, the child's own outcome stands."""
    result = dict(result)
    if result.get("status") == "syntax_error":
        return result
    for k in plan.order:
        c = plan.checks[k]
        values = events.get(k)
        if values is None or len(values) != c.n_probes:
            if result.get("status") == "pass":  # the child skipped a check it should have reached
                return _outcome(result, plan, c, n_prog_lines, "error", "RuntimeError",
                                f"the test on line {c.line + n_prog_lines} did not run to completion")
            return _restore_lines(result, plan, n_prog_lines)
        ev = _Evaluator(set(TRUSTED_MODULES), plan.constants, values)
        try:
            ok = bool(ev.eval(c.skeleton))
        except _RejectedValue as exc:
            return _outcome(result, plan, c, n_prog_lines, "fail", "AssertionError", "",
                            message=f"isolated verdict: {exc}")
        except Unsplittable as exc:  # cannot happen for a plan built by split(); fail closed
            return _outcome(result, plan, c, n_prog_lines, "error", "RuntimeError", f"unsupported test: {exc}")
        except RecursionError:
            return _outcome(result, plan, c, n_prog_lines, "error", "RecursionError",
                            "maximum recursion depth exceeded in comparison")
        except Exception as exc:  # noqa: BLE001 - what the assert itself would have raised (TypeError, ...)
            return _outcome(result, plan, c, n_prog_lines, "memory" if isinstance(exc, MemoryError) else "error",
                            type(exc).__name__, exc, exc=exc)
        if not ok:
            msg = ""
            if c.msg is not None:
                try:
                    msg = _Evaluator(set(TRUSTED_MODULES), plan.constants, []).eval(c.msg)
                except Exception:  # noqa: BLE001
                    msg = ""
            return _outcome(result, plan, c, n_prog_lines, "fail", "AssertionError", msg)
    return _restore_lines(result, plan, n_prog_lines)


def _frames(plan: Plan, c: Check, n_prog_lines: int) -> list[tuple[str, int, str, str]]:
    src = plan.tests_lines[c.line - 1].strip()
    if c.in_check:
        call = plan.tests_lines[plan.check_call_line - 1].strip()
        return [(fb.FILENAME, plan.check_call_line + n_prog_lines, "<module>", call),
                (fb.FILENAME, c.line + n_prog_lines, "check", src)]
    return [(fb.FILENAME, c.line + n_prog_lines, "<module>", src)]


def _outcome(result: dict, plan: Plan, c: Check, n_prog_lines: int, status: str, exc_type: str, msg,
             message: str | None = None, exc: BaseException | None = None) -> dict:
    if exc is None:
        exc = AssertionError(msg) if exc_type == "AssertionError" and msg != "" else None
    if exc is not None:
        tail = fb.exception_only(exc)
        text = fb.safe_str(exc)
    else:
        tail = f"{exc_type}\n" if msg == "" else f"{exc_type}: {msg}\n"
        text = str(msg)
    frames = _frames(plan, c, n_prog_lines)
    result.update(status=status, exc_type=exc_type, message=message if message is not None else text,
                  feedback=fb.cap(fb.HEADER + "\n".join(fb.format_frames(frames)) + tail, fb.MAX_FEEDBACK),
                  failed_test=frames[-1][3], captured=None)
    return result


_FRAME = re.compile(r'  File "<string>", line (\d+), in [^\n]*\n    ([^\n]*)\n')


def _restore_lines(result: dict, plan: Plan, n_prog_lines: int) -> dict:
    """The child saw probe lines in place of the tests: show the original test lines in its feedback."""
    text = result.get("feedback")
    if not isinstance(text, str) or '"<string>"' not in text:
        return result
    last_test = None

    def sub(m: re.Match) -> str:
        nonlocal last_test
        n = int(m.group(1)) - n_prog_lines
        if 1 <= n <= len(plan.tests_lines):
            src = plan.tests_lines[n - 1].strip()
            last_test = src
            return m.group(0)[:m.start(2) - m.start(0)] + src + "\n"
        return m.group(0)
    result["feedback"] = _FRAME.sub(sub, text)
    if result.get("failed_test") is not None and last_test is not None:
        result["failed_test"] = last_test
    return result
