"""The solution evaluator: runs untrusted programs in sandboxed, forked children of pre-warmed workers.

Public API: `execute_one`, `execute_many`, `error_bucket`, `content_key`, `EVALUATOR_VERSION`.
Record formats: docs/contracts.md; isolation levels and guarantees: docs/executor.md.
"""
from __future__ import annotations

import json
import math
import os
from typing import Iterable

from leti.core.errors import UserError
from leti.core.vocab import FINE_BUCKETS as BUCKETS  # noqa: F401 (re-exported)
from leti.core.vocab import error_bucket

# 2: library frames kept, SyntaxError lines joined with "\n" (the original); 3: isolated verdicts, sandbox v2
EVALUATOR_VERSION = "leti-exec-3"
VERDICTS = ("isolated", "in_child")
DEFAULT_TIMEOUT = 5.0
DEFAULT_MEMORY_MB = 1024
MAX_TIMEOUT_S = 3600.0  # limits above these are input errors (params.execute has the same bounds)
MAX_MEMORY_MB = 1 << 20
STATUSES = ("pass", "fail", "error", "syntax_error", "timeout", "memory", "output_limit", "harness_error")
RESULT_FIELDS = ("id", "key", "status", "exc_type", "message", "feedback", "failed_test", "stdout_tail",
                 "stderr_tail", "wall_s", "cpu_s", "peak_rss_mb", "sandbox", "verdict", "captured", "evaluator_version",
                 "meta")

__all__ = ["EVALUATOR_VERSION", "execute_one", "execute_many", "error_bucket", "content_key", "normalize_program"]


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
    mem = p.get("memory_mb", defaults.get("memory_mb", DEFAULT_MEMORY_MB))
    if mem is None:
        mem = defaults.get("memory_mb", DEFAULT_MEMORY_MB)
    if isinstance(mem, bool) or not isinstance(mem, int) or not 0 < mem <= MAX_MEMORY_MB:
        raise UserError(f"{where}: field 'memory_mb' must be a positive integer up to {MAX_MEMORY_MB}, got {mem!r}")
    cap = p.get("capture")
    if cap is not None and not isinstance(cap, str):
        raise UserError(f"{where}: field 'capture' must be a string or null, got {type(cap).__name__}")
    job.update(timeout=float(timeout), memory_mb=mem, capture=cap or None)
    return job


def content_key(job: dict, python: str | None = None, verdict: str = "isolated") -> str:
    """Hash of program + tests + header + capture + limits + evaluator version + verdict mode (+ the
    interpreter, if not ours)."""
    import hashlib

    extra = {"python": python} if python else {}
    if verdict != "isolated":
        extra["verdict"] = verdict
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


def escape_text(v):
    """`v` with every string (dict keys included) made encodable as UTF-8: a lone surrogate becomes the
    text `\\udXXX`, so that no writer (JSONL with ensure_ascii=False, a UTF-8 file) can fail on a record."""
    if isinstance(v, str):
        try:
            v.encode("utf-8")
            return v
        except UnicodeEncodeError:
            return v.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(v, dict):
        return {escape_text(k): escape_text(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [escape_text(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "backslashreplace")
    return v


def _finish(result: dict, p: dict, key: str) -> dict:
    rec = {f: result.get(f) for f in RESULT_FIELDS}
    rec.update(id=p.get("id"), key=key, evaluator_version=EVALUATOR_VERSION, meta=p.get("meta"))
    return escape_text(rec)


def execute_many(programs: Iterable[dict], workers: int | None = None, cache_path: str | None = None,
                 progress: bool = True, defaults: dict | None = None, python: str | None = None,
                 verdict: str = "isolated") -> list[dict]:
    """Run program records (docs/contracts.md); results come back in input order.

    `cache_path`: append-only JSONL keyed by content key; programs already there are not re-run, so a
    killed run resumes. `defaults`: timeout / memory_mb for records that lack them. `verdict`:
    "isolated" (default) judges assert-style tests outside the program's process wherever they can be
    split (`leti.execution.executor.isolated`), "in_child" runs every test inside it."""
    import threading

    from leti.execution.executor.pool import get_pool

    if verdict not in VERDICTS:
        raise UserError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")

    programs = list(programs)
    jobs = [normalize_program(p, f"program #{i} (id={p.get('id')!r})" if isinstance(p, dict) else f"program #{i}",
                              defaults) for i, p in enumerate(programs)]
    keys = [content_key(j, python, verdict) for j in jobs]
    cache = _load_cache(cache_path) if cache_path else {}
    todo: dict[str, int] = {}
    for i, k in enumerate(keys):
        if k not in cache and k not in todo:
            todo[k] = i
    done: dict[str, dict] = dict(cache)
    order = list(todo.items())
    plans, decided = _plans(jobs, [i for _k, i in order], verdict, python)
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
                result = result if i in decided else _apply_verdict(result, plans.get(i), jobs[i])
                rec = _finish(result, programs[i], key)
                with lock:
                    done[key] = rec
                    if fh is not None:
                        fh.write(json.dumps(rec, ensure_ascii=True) + "\n")
                        fh.flush()
                    if bar is not None:
                        bar.update(1)

            run_here = [j for j, (_k, i) in enumerate(order) if i in decided]
            for j in run_here:
                on_result(j, decided[order[j][1]])
            rest = [j for j, (_k, i) in enumerate(order) if i not in decided]
            if rest:
                pool.run([_to_worker(jobs[order[j][1]], plans.get(order[j][1])) for j in rest],
                         lambda n, result: on_result(rest[n], result))
        finally:
            if fh is not None:
                fh.close()
            if bar is not None:
                bar.close()
    return [_finish(done[k], p, k) for p, k in zip(programs, keys)]


def _plans(jobs: list[dict], indices: list[int], verdict: str, python: str | None) -> tuple[dict, dict]:
    """Isolated-verdict plans (None where the tests cannot be split) of the jobs that will run, and the
    results already decided here: syntax errors of programs that do not parse on their own."""
    if verdict != "isolated":
        return {}, {}
    from leti.execution.executor.isolated import Incomplete, compile_in_parent, split

    plans, decided = {}, {}
    for i in indices:
        j = jobs[i]
        try:
            plans[i] = split(j["program"], j["tests"], j["header"])
        except Incomplete:
            plans[i] = None
            rec = compile_in_parent(j) if python is None else None  # another interpreter: its own messages
            if rec is not None:
                decided[i] = dict(rec, verdict="isolated")
    return plans, decided


def _to_worker(job: dict, plan) -> dict:
    """What the worker gets: with a plan, the probe-only tests (no expected value leaves this process)."""
    if plan is None:
        return job
    return dict(job, tests=plan.child_tests, probe=True)


def _apply_verdict(result: dict, plan, job: dict) -> dict:
    probes = result.pop("probes", None)
    if plan is None:
        return dict(result, verdict="in_child")
    from leti.execution.executor.isolated import judge, read_events

    events = read_events(probes or [])
    return dict(judge(plan, job["program"].count("\n") + 1, result, events), verdict="isolated")


def execute_one(program: dict) -> dict:
    """Run one program record in the shared one-worker pool (started on first use)."""
    return execute_many([program], workers=1, progress=False)[0]
