"""`leti evaluate`: score samples (and their executions) into one metrics JSON.

    leti evaluate --problems P --samples S --executions E [--executions-postprocessed E2]
                  [--extra-executions NAME=FILE ...] --out metrics.json [--per-sample rows.jsonl]
                  [--checkpoint CKPT]

Execute-scored benchmarks (MBPP, HumanEval, GSM8K, synth) need at least one executions file;
each one becomes a *variant* of the metrics ("raw", "postprocessed", or NAME, e.g.
``postprocessed_pal_tolerance`` for GSM8K or ``postprocessed_leti`` for the original's MBPP
regex). BBH needs no executions: its samples are scored lenient (LeTI) and strict.

Metrics JSON (flat; consumed by the report builder)::

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

import argparse
import json
from collections import defaultdict
from pathlib import Path

from leti.errors import UserError
from leti.io import atomic_write_json, atomic_write_jsonl, read_jsonl, sha256_file
from leti.metrics import (DEFAULT_KS, bbh_extract, bbh_lenient, bbh_strict, bbh_summary, bucket_counts,
                          fine_bucket, paper_bucket, pass_at_k, solve_rate)

MANIFEST_SUFFIX = ".manifest.json"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--problems", required=True)
    parser.add_argument("--samples", required=True)
    parser.add_argument("--executions", default=None, help="results of the raw programs")
    parser.add_argument("--executions-postprocessed", default=None, help="results of the post-processed programs")
    parser.add_argument("--extra-executions", nargs="*", default=[], metavar="NAME=FILE",
                        help="further variants, e.g. postprocessed_pal_tolerance=gsm-tol.jsonl")
    parser.add_argument("--out", required=True, help="metrics JSON")
    parser.add_argument("--per-sample", default=None, help="per-sample JSONL (one row per sample and variant)")
    parser.add_argument("--checkpoint", default=None, help="checkpoint name (default: from the samples' provenance)")
    parser.add_argument("--ks", type=int, nargs="*", default=list(DEFAULT_KS))


def _uniform(values, empty=None):
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
            fine = fine_bucket(r)
            ok = r.get("status") == "pass"
            passed += ok
            rows.append({"task_id": tid, "sample_idx": key[1], "status": r.get("status"),
                         "exc_type": r.get("exc_type"), "bucket": paper_bucket(fine), "bucket_fine": fine,
                         "passed": ok})
        n.append(len(keys))
        c.append(passed)
    paper, fine = bucket_counts(results[k] for tid in problem_ids for k in keys_by_task[tid])
    metas = [(r.get("meta") or {}) for r in results.values()]
    metrics = {
        **pass_at_k(n, c, ks),
        "solve_rate": solve_rate(c),
        "n_pass": int(sum(c)), "n_samples": int(sum(n)),
        "buckets": paper, "buckets_fine": fine,
        "postprocessed": _uniform(m.get("postprocessed") for m in metas),
        "postprocess_mode": _uniform(m.get("postprocess_mode") for m in metas),
        "tests_variant": _uniform(m.get("tests_variant") for m in metas),
        "strip_mode": _uniform(m.get("strip_mode") for m in metas),
    }
    return metrics, rows


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


def run(args: argparse.Namespace) -> int:
    problems = read_jsonl(args.problems, ("task_id", "benchmark", "split", "scorer"))
    if not problems:
        raise UserError(f"{args.problems}: no problems")
    samples = read_jsonl(args.samples, ("task_id", "sample_idx", "completion"))
    by_id = {p["task_id"]: p for p in problems}
    samples_by_task = defaultdict(list)
    seen = set()
    for lineno, s in enumerate(samples, 1):
        if s["task_id"] not in by_id:
            raise UserError(f"{args.samples}:{lineno}: task_id {s['task_id']!r} is not in {args.problems}")
        key = (s["task_id"], int(s["sample_idx"]))
        if key in seen:
            raise UserError(f"{args.samples}:{lineno}: duplicate sample {key[0]}#{key[1]}")
        seen.add(key)
        samples_by_task[s["task_id"]].append(s)
    without = [p["task_id"] for p in problems if not samples_by_task[p["task_id"]]]
    if without:
        raise UserError(f"{args.samples}: no samples for {len(without)} problem(s), e.g. {without[0]}")

    scorers = {p["scorer"] for p in problems}
    benchmark = _uniform(p["benchmark"] for p in problems)
    split = _uniform(p["split"] for p in problems)
    counts = [len(samples_by_task[p["task_id"]]) for p in problems]
    problem_ids = [p["task_id"] for p in problems]
    per_sample: list[dict] = []
    executions_prov = {}
    evaluator_versions = set()

    if scorers <= {"bbh_direct", "bbh_cot"}:
        if args.executions or args.executions_postprocessed or args.extra_executions:
            raise UserError("bbh is not executed: drop --executions*")
        metrics, per_sample = score_bbh(problems, samples_by_task)
        strip_mode = None
    elif scorers <= {"execute", "eae"}:
        variants = []
        if args.executions:
            variants.append(("raw", args.executions))
        if args.executions_postprocessed:
            variants.append(("postprocessed", args.executions_postprocessed))
        for spec in args.extra_executions:
            name, sep, path = spec.partition("=")
            if not sep or not name or not path:
                raise UserError(f"--extra-executions: expected NAME=FILE, got {spec!r}")
            variants.append((name, path))
        if not variants:
            raise UserError(f"{args.problems}: execute-scored problems need --executions and/or --executions-postprocessed")
        names = [v[0] for v in variants]
        if len(set(names)) != len(names):
            raise UserError(f"duplicate variant names: {names}")
        keys_by_task = {tid: sorted((tid, int(s["sample_idx"])) for s in samples_by_task[tid]) for tid in problem_ids}
        expected = {k for ks_ in keys_by_task.values() for k in ks_}
        metrics = {}
        for name, path in variants:
            results = load_executions(path, expected)
            metrics[name], rows = score_variant(problem_ids, keys_by_task, results, args.ks)
            per_sample += [{**r, "variant": name} for r in rows]
            executions_prov[name] = {"file": str(path), "sha256": sha256_file(path)}
            evaluator_versions |= {r.get("evaluator_version") for r in results.values()}
        strip_mode = _uniform(m["strip_mode"] for m in metrics.values())
    else:
        raise UserError(f"{args.problems}: cannot mix scorers {sorted(scorers)} in one evaluation")

    manifest_path = Path(str(args.problems) + MANIFEST_SUFFIX)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    sample_prov = [s.get("provenance") or {} for s in samples]
    from leti import __version__

    provenance = {
        "problems_file": str(args.problems),
        "problems_sha256": sha256_file(args.problems),
        "data_files": manifest.get("files", {}),
        "data_source": manifest.get("source"),
        "prompt_template": _uniform((p.get("meta") or {}).get("prompt_template") for p in problems),
        "samples_file": str(args.samples),
        "samples_sha256": sha256_file(args.samples),
        "checkpoint": args.checkpoint or _uniform(sp.get("checkpoint") for sp in sample_prov),
        "decoding": _uniform(sp.get("decoding") for sp in sample_prov),
        "executions": executions_prov,
        "evaluator_version": _uniform(v for v in evaluator_versions),
        "harness_version": __version__,
        "scorer": sorted(scorers),
    }
    out = {
        "benchmark": benchmark, "split": split, "n_problems": len(problems),
        "n_samples_per_problem": counts[0] if len(set(counts)) == 1 else {"min": min(counts), "max": max(counts)},
        "conditioning": _uniform((s.get("conditioning") or "none") for s in samples),
        "strip_mode": strip_mode,
        "metrics": metrics,
        "provenance": provenance,
    }
    atomic_write_json(args.out, out)
    if args.per_sample:
        atomic_write_jsonl(args.per_sample, per_sample)
    summary = {k: {m: v for m, v in d.items() if m.startswith("pass@") or m == "micro"} for k, d in metrics.items()}
    print(f"leti evaluate: {benchmark}/{split} {len(problems)} problems -> {args.out} {json.dumps(summary)}")
    return 0
