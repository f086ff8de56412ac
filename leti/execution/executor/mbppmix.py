"""MBPP-style program mixes for the evaluator's tests and benchmark (bench/executor.py).

Reference solutions of the real MBPP test split plus mutants that raise each error class the paper
counts, plus (optionally) a few infinite loops. Deterministic for a given seed.
"""
from __future__ import annotations

import ast
import json
import random
import re
import warnings
from pathlib import Path

from leti.core.paths import default_data_root

# MBPP 123 (amicable numbers up to 9999) needs ~2.7 s of CPU: near the 5 s wall limit on a loaded
# 2-core machine and it would dominate any throughput figure, so mixes leave it out.
SLOW_TASKS = {123}
KINDS = ("reference", "AssertionError", "SyntaxError", "IndentationError", "NameError", "TypeError", "other", "loop")




def load_mbpp_test(root: Path | None = None) -> list[dict]:
    """The 500 MBPP test-split rows (task ids 11-510) from <data_root>/mbpp/mbpp.jsonl."""
    path = (root or default_data_root()) / "mbpp" / "mbpp.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if 11 <= r["task_id"] <= 510]


def mbpp_program(row: dict, kind: str = "reference") -> dict:
    """The reference as a program record, with the judge metadata its reference gives (as `leti programs`
    records it for a problem): mutants keep the reference's, never their own."""
    from leti.execution.programs import judge_metadata

    code = row["code"].replace("\r\n", "\n")
    setup = (row.get("test_setup_code") or "").replace("\r\n", "\n")
    tests = "\n".join(([setup] if setup.strip() else []) + list(row["test_list"]))
    judge = judge_metadata(tests, "", code, "")
    return {"id": f"mbpp/{row['task_id']}#{kind}", "program": code, "tests": tests,
            "meta": {"task_id": row["task_id"], "kind": kind}, **({"judge": judge} if judge else {})}


def _entry(row: dict) -> str | None:
    m = re.search(r"assert\s+(?:not\s+)?\(?\s*(?:set\(|sorted\(|math\.isclose\()?\s*([A-Za-z_]\w*)\s*\(", row["test_list"][0])
    if not m:
        return None
    name = m.group(1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(row["code"].replace("\r\n", "\n"))
    except SyntaxError:
        return None
    defs = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    return name if name in defs else None


def mutate(row: dict, kind: str) -> dict | None:
    """A mutant of the reference that fails with `kind` (None when this row has no such mutant)."""
    p = mbpp_program(row, kind)
    code, tests = p["program"], p["tests"]
    name = _entry(row)
    if kind == "reference":
        return p
    if kind == "AssertionError":
        p["tests"] = tests + "\nassert False"  # the real asserts still run first
    elif kind == "SyntaxError":
        p["program"] = code + "\ndef broken(:\n    pass"
    elif kind == "IndentationError":
        p["program"] = code + "\ndef broken():\nreturn 1"
    elif kind == "NameError":
        if not name:
            return None
        p["program"] = re.sub(rf"\bdef {name}\s*\(", f"def {name}_renamed(", code, count=1)
    elif kind == "TypeError":
        if not name:
            return None
        p["program"] = code + f"\n{name} = (lambda f: (lambda *a, **k: f(*a, None, None, None, **k)))({name})"
    elif kind == "other":
        if not name:
            return None
        p["program"] = code + f"\n{name} = lambda *a, **k: 1 / 0"
    elif kind == "loop":
        p["program"] = code + "\nwhile True:\n    pass"
    else:
        raise ValueError(kind)
    return p


def build_mix(rows: list[dict], n: int, n_loops: int = 4, seed: int = 0) -> list[dict]:
    """n programs: about half references, the rest mutants of every class, plus n_loops infinite loops."""
    rng = random.Random(seed)
    pool = []
    rows = [r for r in rows if r["task_id"] not in SLOW_TASKS]
    for row in rows:
        for kind in KINDS[:-1]:
            m = mutate(row, kind)
            if m is not None:
                pool.append(m)
    refs = [p for p in pool if p["meta"]["kind"] == "reference"]
    muts = [p for p in pool if p["meta"]["kind"] != "reference"]
    out = []
    loops = [mutate(r, "loop") for r in rng.sample(rows, min(n_loops, len(rows)))]
    k = n - len(loops)
    while len(out) < k:
        src = refs if len(out) % 2 == 0 else muts
        out.append(dict(rng.choice(src)))
    out += loops
    rng.shuffle(out)
    for i, p in enumerate(out):
        p["id"] = f"{p['id']}@{i}"
    return out
