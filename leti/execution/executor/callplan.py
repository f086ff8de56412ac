"""The calls a problem's tests will make of the program, predicted from the tests alone (cached per problem
by the judge), so that the judge can send them to the program's process up front instead of one round trip
per call.

A *plan* is the calls with literal arguments that the tests' straight-line prefix makes, in the order the
tests make them: `assert f(1) == 2` (MBPP), `check(f)` with a `check` whose body is such asserts on its
parameter (HumanEval), `math.isclose(f(0.5), 0.25)`, `set(f([1, 2])) == {1, 2}`. The prediction stops at the
first point where the order of the calls, or whether one happens, could depend on a value: control flow
(`if`, loops, `try`, comprehensions, `and`/`or`, conditional expressions, chained comparisons), an argument
that is not a literal, an attribute of a value, a program name used as a value, a call of anything but a
provided name, a listed pure built-in, `math`/`cmath`, or the tests' own straight-line function. Up to that
point the calls are certain, in this order, unless one of them raises or an assert fails, which ends the
tests: so the program's process can compute them ahead, and the judge uses the results in order, never
waiting for one the tests would not reach.

**Barriers** keep the information flow of a sequential run where it matters: a call whose arguments
contain a value that an earlier comparison of the tests expects (an expected value, or a string containing
one) is sent only once the results of every earlier call are in the judge. Otherwise a program could read
a later call's arguments (its own process holds them) and answer an earlier call with them, as in
`assert encode("ab") == "bc"` followed by `assert decode("bc") == "ab"`. Small integers, booleans, None,
one-character strings and empty containers are not barriers: they are guessable anyway.

Nothing here runs the tests or reads a program: the plan is a function of the test text (and of the names
the problem says a solution provides), so no program text can change how the tests are judged.
"""
from __future__ import annotations

import ast
import builtins
import warnings

MAX_CALLS = 1000            # calls in one plan
MAX_BATCH_BYTES = 48 * 1024  # encoded arguments per batch (a batch is one write into a pipe of 64 KiB+)

# built-ins that call no method of their arguments but the special ones (which a handle refuses): a call of
# one never reaches the program's process, whatever its arguments hold
PURE_BUILTINS = frozenset({
    "abs", "all", "any", "ascii", "bin", "bool", "bytes", "chr", "complex", "dict", "divmod", "enumerate",
    "float", "format", "frozenset", "hash", "hex", "int", "isinstance", "issubclass", "len", "list", "max",
    "min", "oct", "ord", "pow", "range", "repr", "reversed", "round", "set", "sorted", "str", "sum", "tuple",
    "type", "zip"})
PURE_MODULES = frozenset({"math", "cmath"})


class PlannedCall:
    __slots__ = ("name", "args", "kwargs", "depth", "barrier")

    def __init__(self, name: str, args: list, kwargs: list, depth: int):
        self.name = name
        self.args = args        # literal values, in order
        self.kwargs = kwargs    # [(keyword, literal value)]
        self.depth = depth      # frames of the test code at the call (the module is 1, `check` 2)
        self.barrier = False    # sent only once every earlier call's result is in the judge


class _Stop(Exception):
    """The prediction ends here (what follows may depend on values)."""


def plan_calls(tests: str, provides, prelude: str = "") -> list[PlannedCall]:
    """The planned calls of `tests` (see the module's docstring); [] when nothing can be predicted."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(tests)
            pre = ast.parse(prelude) if prelude else None
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return []
    try:
        planner = _Planner(tree, set(provides or ()), _bound(pre) if pre is not None else set())
        planner.block(tree.body, depth=1, param=None)
    except _Stop:
        pass
    except (RecursionError, MemoryError):
        return []
    calls = planner.calls[:MAX_CALLS]
    _mark_barriers(calls, planner.secrets)
    return calls


def _bound(tree) -> set[str]:
    """Every name a piece of code binds anywhere (assignments, defs, imports, arguments, handlers, ...)."""
    out: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            out.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
        elif isinstance(n, ast.arg):
            out.add(n.arg)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            for a in n.names:
                out.add((a.asname or a.name).split(".")[0])
        elif isinstance(n, ast.ExceptHandler) and n.name:
            out.add(n.name)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            out.update(n.names)
        elif isinstance(n, ast.MatchAs) and n.name:
            out.add(n.name)
    return out


def _literal(node):
    """(True, value) for a literal expression, else (False, None). The value is built by the compiler's own
    code for the expression, as the tests build it: a set's iteration order (and so its encoding) depends on
    how it was built, and the judge checks each planned call's encoded arguments against the call made."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None
    try:
        expr = ast.fix_missing_locations(ast.Expression(body=node))
        return True, eval(compile(expr, "<plan>", "eval", dont_inherit=True), {"__builtins__": {}})  # noqa: S307
    except Exception:  # noqa: BLE001 - `set()`, which literal_eval accepts: its value then
        return True, value


class _Planner:
    def __init__(self, tree, provides: set[str], prelude_bound: set[str]):
        self.bound = _bound(tree)
        # a provided name the tests never bind: a call of it goes to the program (if the program's value is
        # a handle: the judge and the program's process both skip the others)
        self.provides = {n for n in provides if n not in self.bound}
        self.shadowed = self.bound | prelude_bound | provides
        self.defs: dict[str, ast.FunctionDef] = {}
        defs_count: dict[str, int] = {}
        for n in ast.walk(tree):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                if not isinstance(n, ast.Lambda):
                    defs_count[n.name] = defs_count.get(n.name, 0) + 1
        # test functions that can be followed: defined once at the top level, bound by nothing else
        self.inlinable = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and defs_count.get(n.name) == 1
                          and not any(isinstance(m, ast.Name) and m.id == n.name and not isinstance(m.ctx, ast.Load)
                                      for m in ast.walk(tree))}
        self.calls: list[PlannedCall] = []
        self.secrets: list[tuple[int, object]] = []  # (calls planned before it, an expected value)
        self.inlining = 0

    # ------------------------------------------------------------------ statements
    def block(self, body, depth: int, param) -> None:
        for st in body:
            self.statement(st, depth, param)

    def statement(self, st, depth: int, param) -> None:
        if isinstance(st, ast.Expr):
            self.expr(st.value, depth, param)
        elif isinstance(st, ast.Assert):
            if st.msg is not None and not _literal(st.msg)[0]:
                raise _Stop  # evaluated only when the assert fails: its calls are not certain
            self.expr(st.test, depth, param)
        elif isinstance(st, ast.Assign):
            self.expr(st.value, depth, param)
            for t in st.targets:
                self.target(t, param)
        elif isinstance(st, (ast.AugAssign, ast.AnnAssign)):
            if st.value is None:
                return
            self.expr(st.value, depth, param)
            self.target(st.target, param)
        elif isinstance(st, (ast.Import, ast.ImportFrom)):
            if any(a.name == "*" for a in st.names):
                raise _Stop
        elif isinstance(st, ast.FunctionDef):
            if depth != 1:
                raise _Stop
            self.defs[st.name] = st
        elif isinstance(st, ast.Pass):
            return
        else:
            raise _Stop

    def target(self, t, param) -> None:
        if isinstance(t, ast.Name):
            if t.id == param or t.id in self.provides:
                raise _Stop
        elif isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                self.target(e, param)
        else:
            raise _Stop  # an attribute or item of a value (perhaps the program's object)

    # ------------------------------------------------------------------ expressions, in evaluation order
    def expr(self, e, depth: int, param) -> None:
        if isinstance(e, ast.Constant):
            return
        ok, value = _literal(e)
        if ok:
            self.secret(value)
            return
        if isinstance(e, ast.Name):
            if e.id == param or e.id in self.provides:
                raise _Stop  # the program's value itself, as a value: the tests may call or inspect it
            return
        if isinstance(e, ast.Call):
            self.call(e, depth, param)
        elif isinstance(e, ast.Compare):
            self.expr(e.left, depth, param)
            for i, c in enumerate(e.comparators):
                if i and _has_call(c):
                    raise _Stop  # a chained comparison stops at the first false link
                self.expr(c, depth, param)
        elif isinstance(e, ast.BoolOp):
            if any(_has_call(v) for v in e.values[1:]):
                raise _Stop
            for v in e.values:
                self.expr(v, depth, param)
        elif isinstance(e, ast.BinOp):
            self.expr(e.left, depth, param)
            self.expr(e.right, depth, param)
        elif isinstance(e, ast.UnaryOp):
            self.expr(e.operand, depth, param)
        elif isinstance(e, (ast.Tuple, ast.List, ast.Set)):
            for x in e.elts:
                if isinstance(x, ast.Starred):
                    raise _Stop
                self.expr(x, depth, param)
        elif isinstance(e, ast.Dict):
            for k, v in zip(e.keys, e.values):
                if k is None:
                    raise _Stop
                self.expr(k, depth, param)
                self.expr(v, depth, param)
        elif isinstance(e, ast.Subscript):
            self.expr(e.value, depth, param)
            self.expr(e.slice, depth, param)
        elif isinstance(e, ast.Slice):
            for x in (e.lower, e.upper, e.step):
                if x is not None:
                    self.expr(x, depth, param)
        else:
            raise _Stop  # attributes, lambdas, comprehensions, f-strings, walrus, conditional expressions, ...

    def call(self, e: ast.Call, depth: int, param) -> None:
        f = e.func
        if any(isinstance(a, ast.Starred) for a in e.args) or any(k.arg is None for k in e.keywords):
            raise _Stop
        if isinstance(f, ast.Name) and (f.id == param or f.id in self.provides):
            args, kwargs = [], []
            for a in e.args:
                ok, v = _literal(a)
                if not ok:
                    raise _Stop
                args.append(v)
            for k in e.keywords:
                ok, v = _literal(k.value)
                if not ok:
                    raise _Stop
                kwargs.append((k.arg, v))
            if len(self.calls) >= MAX_CALLS:
                raise _Stop
            self.calls.append(PlannedCall(self.provides_name(f.id, param), args, kwargs, depth))
            return
        if isinstance(f, ast.Name) and f.id in PURE_BUILTINS and f.id not in self.shadowed:
            pass
        elif (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in PURE_MODULES
              and f.value.id not in self.provides and f.value.id != param and not f.attr.startswith("_")):
            pass
        elif (isinstance(f, ast.Name) and f.id in self.defs and f.id in self.inlinable and depth == 1
              and not self.inlining):
            self.inline(self.defs[f.id], e, depth)
            return
        else:
            raise _Stop
        for a in e.args:
            self.expr(a, depth, param)
        for k in e.keywords:
            self.expr(k.value, depth, param)

    def provides_name(self, name: str, param) -> str:
        return self.param_target if name == param else name

    def inline(self, fn: ast.FunctionDef, e: ast.Call, depth: int) -> None:
        """`check(candidate)`: the body of a test function whose one parameter is a provided name."""
        a = fn.args
        if (a.posonlyargs or a.vararg or a.kwonlyargs or a.kwarg or a.defaults or len(a.args) != 1
                or len(e.args) != 1 or e.keywords or fn.decorator_list):
            raise _Stop
        arg = e.args[0]
        if not (isinstance(arg, ast.Name) and arg.id in self.provides):
            raise _Stop
        param = a.args[0].arg
        if param in self.provides or param in PURE_BUILTINS or param in PURE_MODULES:
            raise _Stop
        local = _bound(ast.Module(body=fn.body, type_ignores=[]))
        if param in local:
            raise _Stop
        self.param_target = arg.id
        self.inlining += 1
        try:
            self.block(fn.body, depth + 1, param)
        finally:
            self.inlining -= 1

    def secret(self, value) -> None:
        self.secrets.append((len(self.calls), value))


def _has_call(e) -> bool:
    return any(isinstance(n, (ast.Call, ast.Attribute, ast.Lambda, ast.NamedExpr)) for n in ast.walk(e))


# ------------------------------------------------------------------------------------------ barriers
def _trivial(v) -> bool:
    if v is None or type(v) is bool:
        return True
    if type(v) in (int, float):
        return v == v and abs(v) <= 9 and float(v).is_integer()
    if type(v) in (str, bytes):
        return len(v) <= 1
    if type(v) in (list, tuple, dict, set, frozenset):
        return len(v) == 0
    return False


def _key(v):
    """A hashable, type-aware stand-in for a literal value (1 and 1.0 alike, 1 and True apart)."""
    t = type(v)
    if t in (int, float, complex):
        return ("num", v)
    try:
        hash(v)
        return (t.__name__, v)
    except TypeError:
        return (t.__name__, repr(v))


def _values(v) -> list:
    """A literal and its direct elements."""
    out = [v]
    if type(v) in (list, tuple, set, frozenset):
        out.extend(v)
    elif type(v) is dict:
        out.extend(v)
        out.extend(v.values())
    return out


def _mark_barriers(calls: list[PlannedCall], secrets: list[tuple[int, object]]) -> None:
    """A call whose arguments hold a value an earlier part of the tests expects waits for every earlier
    result (its `barrier`). Expected values: the literals of the tests outside the planned calls' arguments
    (what comparisons compare with), each counted from the point of the tests where it appears."""
    seen: set = set()
    strings: list[str] = []
    pending = sorted(secrets, key=lambda s: s[0])
    j = 0
    for i, call in enumerate(calls):
        # the literals the tests evaluate before this call (its own expected value comes after it, and in a
        # sequential run the program sees every argument of a statement's calls before its comparison)
        while j < len(pending) and pending[j][0] <= i:
            for v in _values(pending[j][1]):
                if not _trivial(v):
                    seen.add(_key(v))
                    if type(v) is str and len(v) >= 3:
                        strings.append(v)
            j += 1
        if i == 0:
            continue
        for a in list(call.args) + [v for _k, v in call.kwargs]:
            for v in _values(a):
                if _trivial(v):
                    continue
                if _key(v) in seen or (type(v) is str and any(s in v for s in strings)):
                    call.barrier = True
                    break
            if call.barrier:
                break
