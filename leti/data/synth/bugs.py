"""Buggy solutions of our own code templates, for the pre-training corpus.

Every bug kind has a few variants; `make_bug` tries them in a seeded order and keeps the first
whose program (prompt + completion + "\\n" + tests) really fails the intended way when run:
`wrong_constant` / `wrong_operator` must fail an assert, the others must raise exactly the named
exception class.  Only our generated template code is executed here, never model output.
"""
from __future__ import annotations

import random
import re
from typing import Callable

from leti.data.synth.templates import ARGNAMES, CodeTemplate

# kind -> (intended exception class name, share of the buggy documents)
BUG_KINDS: dict[str, tuple[str, float]] = {
    "wrong_constant": ("AssertionError", 0.20),
    "wrong_operator": ("AssertionError", 0.15),
    "syntax_error": ("SyntaxError", 0.20),
    "indentation_error": ("IndentationError", 0.15),
    "name_error": ("NameError", 0.20),
    "type_error": ("TypeError", 0.10),
}


def run_trusted(program: str) -> str | None:
    """Run our own generated program in a throwaway namespace: None on pass, else the exception class name."""
    try:
        code = compile(program, "<synth>", "exec")
        exec(code, {"__name__": "__synth__"})  # our template code only (see module docstring)
    except BaseException as exc:  # noqa: BLE001 - we classify whatever it raises
        return type(exc).__name__
    return None


def _sub_arg(expr: str, old: str, new: str, count: int = 0) -> str:
    return re.sub(rf"\b{re.escape(old)}\b", new, expr, count=count)


def _variants(kind: str, t: CodeTemplate, a: str, k: int, rng: random.Random) -> list[Callable[[], str]]:
    """Candidate buggy completions (without the leading newline), most natural first, then shuffled."""
    head = f"def {t.fname}({a}):"
    body = t.expr.format(a=a, k=k)
    ret = f"    return {body}"
    cands: list[Callable[[], str]] = []
    if kind == "wrong_constant":
        others = [p for p in t.params if p != k]
        rng.shuffle(others)
        cands = [lambda p=p: t.code(a, p) for p in others]
    elif kind == "wrong_operator":
        cands = [lambda e=e: t.code(a, k, e) for e in t.op_bugs]
    elif kind == "syntax_error":
        cands = [
            lambda: f"def {t.fname}({a})\n{ret}",                      # missing colon
            lambda: f"def {t.fname} {a}):\n{ret}",                     # missing "("
        ]
        closer = max(body.rfind(")"), body.rfind("]"))
        if closer >= 0:                                                # unclosed bracket
            cands.append(lambda: f"{head}\n    return {body[:closer] + body[closer + 1:]}")
        else:
            cands.append(lambda: f"{head}\n    return ({body}")
    elif kind == "indentation_error":
        cands = [
            lambda: f"{head}\nreturn {body}",                           # expected an indented block
            lambda: f"  {head}\n{ret}",                                # unexpected indent
            lambda: f"{head}\n    result = {body}\n  return result",   # unindent does not match
        ]
    elif kind == "name_error":
        other_args = [x for x in ARGNAMES[t.argtype] if x != a]
        cands = [
            lambda: f"{head}\n    return {t.expr.format(a=rng.choice(other_args), k=k)}",  # wrong argument name
            lambda: f"{head}\n    return {t.expr.format(a=a, k='k')}",   # undefined constant name
        ]
    elif kind == "type_error":
        if t.argtype == "int":
            mixed = _sub_arg(body, a, f"len({a})", count=1)           # len() of an int
        else:
            mixed = _sub_arg(body, a, f"({a} + {k})", count=1)         # list/str + int
        cands = [
            lambda: f"def {t.fname}({a}, k):\n    return {t.expr.format(a=a, k='k')}",  # missing argument
            lambda: f"{head}\n    return {mixed}",
        ]
    else:
        raise ValueError(f"unknown bug kind {kind!r}")
    first, rest = cands[:1], cands[1:]
    rng.shuffle(rest)
    # Keep some variety: the first (most natural) variant is not always preferred.
    order = first + rest
    if len(order) > 1 and rng.random() < 0.5:
        order = rest + first
    return order


def make_bug(kind: str, t: CodeTemplate, a: str, k: int, prompt: str, tests: str,
             rng: random.Random, avoid: set[str] = frozenset()) -> str:
    """A buggy completion ("\\n" + code) that fails exactly as `kind` intends; raises if none does."""
    want = BUG_KINDS[kind][0]
    for make in _variants(kind, t, a, k, rng):
        completion = "\n" + make()
        if completion in avoid:
            continue
        got = run_trusted(prompt + completion + "\n" + tests)
        if got == want:
            return completion
    raise RuntimeError(f"no {kind} variant of template {t.name} (k={k}, arg={a}) fails as {want}")
