"""The solution evaluator: runs untrusted programs in jailed, forked children of pre-warmed workers and
decides two verdicts for each: faithful (program and tests in one namespace, as the original) and
hardened (the real tests in a trusted judge process, the program's values crossing as typed data).

Public API: `execute_one`, `execute_many`, `error_bucket`, `content_key`, `choose_verdict`, `EVALUATOR_VERSION`.
Record formats: docs/contracts.md; isolation levels, verdicts and guarantees: docs/executor.md.
"""
from __future__ import annotations

import json
import math
import os
from typing import Iterable

from leti.core.errors import UserError
from leti.core.vocab import FINE_BUCKETS as BUCKETS  # noqa: F401 (re-exported)
from leti.core.vocab import error_bucket

# 2: library frames kept, SyntaxError lines joined with "\n" (the original); 3: isolated verdicts, sandbox v2;
# 4: both verdicts (faithful + hardened judge), bubblewrap jail + seccomp, exit()/quit() as the original
EVALUATOR_VERSION = "leti-exec-4"
VERDICTS = ("faithful", "hardened")
DEFAULT_VERDICT = "hardened"
DEFAULT_TIMEOUT = 5.0
DEFAULT_MEMORY_MB = 1024
MAX_TIMEOUT_S = 3600.0  # limits above these are input errors (params.execute has the same bounds)
MAX_MEMORY_MB = 1 << 20
STATUSES = ("pass", "fail", "error", "syntax_error", "timeout", "memory", "output_limit", "harness_error")
RESULT_FIELDS = ("id", "key", "status", "exc_type", "message", "feedback", "failed_test", "stdout_tail",
                 "stderr_tail", "wall_s", "cpu_s", "peak_rss_mb", "sandbox", "verdict", "verdicts", "captured",
                 "evaluator_version", "meta")
VERDICT_FIELDS = ("status", "exc_type", "message", "feedback", "failed_test")

__all__ = ["EVALUATOR_VERSION", "VERDICTS", "execute_one", "execute_many", "error_bucket", "content_key",
           "normalize_program", "choose_verdict"]


def normalize_program(p: dict, where: str = "program", defaults: dict | None = None) -> dict:
    """Validate a program record and return the job the worker runs (defaults filled in).

    Raises UserError("<where>: field '<name>' ...") on bad input."""
    if not isinstance(p, dict):
        raise UserError(f"{where}: expected a JSON object, got {type(p).__name__}")
    defaults = defaults or {}
    if "program" not in p:
        raise UserError(f"{where}: missing field 'program'")
    job: dict = {}
    for field in ("program", "tests", "header"):
        v = p.get(field, "")
        if v is None and field != "program":
            v = ""
        if not isinstance(v, str):
            raise UserError(f"{where}: field '{field}' must be a string, got {type(v).__name__}")
        job[field] = v
    timeout = p.get("timeout", defaults.get("timeout", DEFAULT_TIMEOUT))
    if timeout is None:
        timeout = defaults.get("timeout", DEFAULT_TIMEOUT)
    if (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout)
            or not 0 < timeout <= MAX_TIMEOUT_S):
        raise UserError(f"{where}: field 'timeout' must be a positive number of seconds up to {MAX_TIMEOUT_S:g}, "
                        f"got {timeout!r}")
    # memory_mb: absent -> the default; null -> no per-program memory limit (the original had none)
    mem = p["memory_mb"] if "memory_mb" in p else defaults.get("memory_mb", DEFAULT_MEMORY_MB)
    if mem is not None and (isinstance(mem, bool) or not isinstance(mem, int) or not 0 < mem <= MAX_MEMORY_MB):
        raise UserError(f"{where}: field 'memory_mb' must be a positive integer up to {MAX_MEMORY_MB} or null, "
                        f"got {mem!r}")
    cap = p.get("capture")
    if cap is not None and not isinstance(cap, str):
        raise UserError(f"{where}: field 'capture' must be a string or null, got {type(cap).__name__}")
    job.update(timeout=float(timeout), memory_mb=mem, capture=cap or None)
    judge = p.get("judge")
    if judge is not None:
        if (not isinstance(judge, dict) or set(judge) - {"provides", "prelude"}
                or not (judge.get("provides") is None or (isinstance(judge["provides"], list)
                                                          and all(isinstance(n, str) and n.isidentifier()
                                                                  for n in judge["provides"])))
                or not isinstance(judge.get("prelude", ""), str)):
            raise UserError(f"{where}: field 'judge' must be an object with 'provides' (a list of names) and "
                            "'prelude' (trusted code the judge runs before the tests)")
        job["judge"] = {"provides": judge.get("provides"), "prelude": judge.get("prelude") or ""}
    return job


def content_key(job: dict, python: str | None = None) -> str:
    """Hash of program + tests + header + capture + limits + judge metadata + evaluator version (+ the
    interpreter, if not ours). Both verdicts are in every record, so the chosen one is not part of it."""
    import hashlib

    extra = {"python": python} if python else {}
    if job.get("judge"):
        extra["judge"] = job["judge"]
    blob = json.dumps({k: job[k] for k in ("program", "tests", "header", "timeout", "memory_mb", "capture")}
                      | {"evaluator_version": EVALUATOR_VERSION} | extra, sort_keys=True, ensure_ascii=True,
                      separators=(",", ":"))
    return hashlib.sha256(blob.encode("ascii")).hexdigest()[:24]


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover
        return max(1, os.cpu_count() or 1)


def _load_cache(path: str) -> dict[str, dict]:
    """Read an append-only result cache; a truncated last line (a killed run) is cut off."""
    from leti.core.io import iter_jsonl

    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return {}
    with open(path, "rb+") as fh:  # drop a partial last line so that appends start on a fresh line
        data = fh.read()
        if not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            fh.truncate(cut)
    out = {}
    for rec in iter_jsonl(path, tolerate_truncated_tail=True):
        if rec.get("status") != "harness_error" and rec.get("evaluator_version") == EVALUATOR_VERSION and rec.get("key"):
            out[rec["key"]] = rec
    return out


def escape_text(v, depth: int = 0):
    """`v` with every string (dict keys included) made encodable as UTF-8: a lone surrogate becomes the
    text `\\udXXX`, so that no writer (JSONL with ensure_ascii=False, a UTF-8 file) can fail on a record.
    Values nested deeper than the worker lets through (64) are cut, never a RecursionError."""
    if depth > 200:
        return None
    if isinstance(v, str):
        try:
            v.encode("utf-8")
            return v
        except UnicodeEncodeError:
            return v.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(v, dict):
        return {escape_text(k, depth + 1): escape_text(x, depth + 1) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [escape_text(x, depth + 1) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "backslashreplace")
    return v


def choose_verdict(rec: dict, verdict: str) -> dict:
    """The record with its top-level status, exc_type, message, feedback and failed_test taken from the
    chosen verdict (`verdict` says which). A hardened `unverifiable` is never a pass: where the faithful
    verdict failed too, its failure stands; where the faithful verdict passed, the result is an `error`
    with exc_type `Unverifiable` (the hardened side could not judge a value only the program's code could)."""
    out = dict(rec, verdict=verdict)
    both = rec.get("verdicts") or {}
    f = both.get("faithful") if isinstance(both.get("faithful"), dict) else None
    if f is not None:  # the record may already carry another choice: start from the faithful verdict
        out.update({k: f.get(k) for k in VERDICT_FIELDS})
    if verdict != "hardened" or not isinstance(both.get("hardened"), dict):
        return out
    h, f = both["hardened"], f or {}
    if h.get("status") == "unverifiable":
        if f.get("status") != "pass":
            return out  # the faithful failure decides (it is not a pass either way)
        why = str(h.get("reason") or h.get("message") or "a value the hardened side cannot judge")
        out.update(status="error", exc_type="Unverifiable", message=why, failed_test=None,
                   feedback=f"Traceback (most recent call last):\nUnverifiable: {why}\n", captured=None)
        return out
    out.update({k: h.get(k) for k in VERDICT_FIELDS if not (k == "message" and h.get("status") == "pass")})
    if h.get("status") != "pass":
        out["captured"] = None
    return out


def _finish(result: dict, p: dict, key: str, verdict: str | None = None) -> dict:
    rec = {f: result.get(f) for f in RESULT_FIELDS}
    rec.update(id=p.get("id"), key=key, evaluator_version=EVALUATOR_VERSION, meta=p.get("meta"))
    if verdict is not None:
        rec = choose_verdict(rec, verdict)
    return escape_text(rec)


def execute_many(programs: Iterable[dict], workers: int | None = None, cache_path: str | None = None,
                 progress: bool = True, defaults: dict | None = None, python: str | None = None,
                 verdict: str = DEFAULT_VERDICT) -> list[dict]:
    """Run program records (docs/contracts.md); results come back in input order.

    Every result carries both verdicts (`verdicts.faithful`, `verdicts.hardened`); `verdict` chooses which
    one the top-level fields (status, feedback, ...) are taken from. `cache_path`: append-only JSONL keyed
    by content key; programs already there are not re-run, so a killed run resumes (a cached record serves
    either verdict). `defaults`: timeout / memory_mb for records that lack them."""
    import threading

    from leti.execution.executor.pool import get_pool

    if verdict not in VERDICTS:
        raise UserError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")

    programs = list(programs)
    jobs = [normalize_program(p, f"program #{i} (id={p.get('id')!r})" if isinstance(p, dict) else f"program #{i}",
                              defaults) for i, p in enumerate(programs)]
    keys = [content_key(j, python) for j in jobs]
    cache = _load_cache(cache_path) if cache_path else {}
    todo: dict[str, int] = {}
    for i, k in enumerate(keys):
        if k not in cache and k not in todo:
            todo[k] = i
    done: dict[str, dict] = dict(cache)
    order = list(todo.items())
    if order:
        n = workers or _default_workers()
        n = min(n, len(order))
        pool = get_pool(n, python)
        lock = threading.Lock()
        bar = None
        if progress:
            from leti.core.progress import progress as progress_bar  # tqdm on a terminal, timed lines in logs

            bar = progress_bar(len(order), "execute", unit="prog")
        fh = open(cache_path, "a", encoding="utf-8") if cache_path else None
        try:
            def on_result(j: int, result: dict) -> None:
                key, i = order[j]
                rec = _finish(result, programs[i], key)  # both verdicts; the choice is made on the way out
                with lock:
                    done[key] = rec
                    if fh is not None:
                        fh.write(json.dumps(rec, ensure_ascii=True) + "\n")
                        fh.flush()
                    if bar is not None:
                        bar.update(1)

            pool.run([jobs[i] for _k, i in order], on_result)
        finally:
            if fh is not None:
                fh.close()
            if bar is not None:
                bar.close()
    return [_finish(done[k], p, k, verdict) for p, k in zip(programs, keys)]


def execute_one(program: dict, verdict: str = DEFAULT_VERDICT) -> dict:
    """Run one program record in the shared one-slot pool (started on first use)."""
    return execute_many([program], workers=1, progress=False, verdict=verdict)[0]
