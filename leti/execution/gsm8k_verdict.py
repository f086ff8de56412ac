"""PaL's GSM8K check, decided outside the sandbox: `abs(float(solution()) - target) < 1e-3` on the
answer the program returned as plain data (`leti.data.benchmarks.gsm8k.PAL_CAPTURE`).

As PaL: a string answer such as '18' or '18.0' is converted by float() and can be right; a complex
or any other object cannot (float() of it fails). Unlike a check run inside the program, the program
cannot patch `abs` or `float`, nor return an object whose comparisons always succeed.
"""
from __future__ import annotations

import math
from typing import Iterable

from leti.data.benchmarks.gsm8k import PAL_TOLERANCE

VARIANT = "pal_tolerance"


def answer_value(captured) -> tuple[float | None, str | None]:
    """(float(answer), None) or (None, why PaL's float() would fail)."""
    if not isinstance(captured, dict) or "type" not in captured:
        return None, "no answer was captured"
    kind = captured["type"]
    if kind == "other":
        return None, f"float() argument must be a string or a real number, not '{captured.get('name')}'"
    try:
        value = float(captured["value"]) if kind != "bool" else float(captured["value"] == "True")
    except (TypeError, ValueError):
        return None, f"could not convert {kind} to float: {str(captured.get('value'))[:60]!r}"
    return value, None


def judge(captured, target) -> tuple[bool, str | None]:
    value, why = answer_value(captured)
    if why is not None:
        return False, why
    ok = math.isfinite(value) and abs(value - float(target)) < PAL_TOLERANCE
    return ok, None if ok else f"solution() returned {value!r}, expected {target!r} (within {PAL_TOLERANCE})"


def verify_results(problems: Iterable[dict], results: list[dict]) -> list[dict]:
    """Final verdicts of the pal_tolerance programs of GSM8K problems; other results pass through."""
    targets = {p["task_id"]: p.get("target") for p in problems if p.get("benchmark") == "gsm8k"}
    out = []
    for r in results:
        meta = r.get("meta") or {}
        if meta.get("tests_variant") != VARIANT or meta.get("task_id") not in targets or "pal" in r:
            out.append(r)
            continue
        r = dict(r)  # decided here, on the captured answer, outside the sandbox (leti.execution.verdicts)
        info = {"exec_status": r.get("status")}
        if r.get("status") == "pass":
            if r.get("captured") is None:  # solution() raised or was missing: PaL's check would have raised
                msg = str(r.get("message") or "capture failed").removeprefix("capture failed: ")
                exc_type = msg.split(":", 1)[0] if ":" in msg else "Exception"
                r.update(status="error", exc_type=exc_type, feedback=msg, failed_test=None)
            else:
                ok, why = judge(r["captured"], targets[meta["task_id"]])
                if ok:
                    r.update(status="pass", exc_type=None, message=None, feedback=None, failed_test=None)
                else:
                    r.update(status="fail", exc_type="AssertionError", message=why,
                             feedback=f"AssertionError: {why}", failed_test=None)
        r["pal"] = info
        out.append(r)
    return out
