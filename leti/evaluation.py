"""`leti score`: score one checkpoint's samples on several benchmarks in one job.

For each benchmark: build the evaluator programs (raw and, where the benchmark has a
post-processing kind, post-processed; GSM8K also with the PaL tolerance tests), run them all
through one sandboxed executor pool, apply the EAE rule-based verifier outside the sandbox,
then score with `leti.benchmarks.evaluate_cli` (pass@k, buckets, BBH lenient/strict) into one
metrics JSON {benchmark: metrics} carrying provenance.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from leti.conditioning import CONDITIONS
from leti.errors import UserError
from leti.io import atomic_write_json, atomic_write_jsonl, read_jsonl, sha256_file


def configure(p):
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
    p.add_argument("--no-progress", action="store_true")


def _variants(problems: list[dict]) -> list[tuple[str, bool, str | None, str]]:
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


SYNTAX_BUCKETS = ("SyntaxError", "IndentationError")


def per_problem_counts(rows: list[dict]) -> dict:
    """{variant: {task_id: [n_pass, n, n_syntax_or_indentation]}} from per-sample rows (BBH: lenient/strict)."""
    out: dict = {}
    for r in rows:
        if "variant" in r:
            keyed = [(r["variant"], r["passed"])]
        else:  # BBH rows carry both checks
            keyed = [("lenient", r["lenient"]), ("strict", r["strict"])]
        for variant, ok in keyed:
            c = out.setdefault(variant, {}).setdefault(r["task_id"], [0, 0, 0])
            c[0] += int(bool(ok))
            c[1] += 1
            c[2] += int(r.get("bucket") in SYNTAX_BUCKETS)
    return {v: dict(sorted(t.items())) for v, t in sorted(out.items())}


def run(args):
    from leti.benchmarks.evaluate_cli import score_bbh, score_variant
    from leti.executor import EVALUATOR_VERSION, execute_many
    from leti.metrics import DEFAULT_KS
    from leti.programs import build_programs

    spec = json.loads(args.spec)
    run_meta = json.loads(args.meta)
    samples = read_jsonl(args.samples, required=("benchmark", "task_id", "sample_idx", "completion"))
    if args.conditioning:
        samples = [s for s in samples if s.get("conditioning", "none") == args.conditioning]
    by_bench = defaultdict(list)
    for s in samples:
        by_bench[s["benchmark"]].append(s)
    jobs, all_programs = [], []
    for item in spec:
        name = item["benchmark"]
        problems = read_jsonl(item["problems"], required=("task_id", "prompt", "scorer"))
        bench_samples = by_bench.get(name, [])
        sampled = {s["task_id"] for s in bench_samples}
        problems = [p for p in problems if p["task_id"] in sampled]  # sampling may have used --limit
        if not problems:
            under = f" under conditioning '{args.conditioning}'" if args.conditioning else ""
            raise UserError(f"{args.samples}: no samples for benchmark '{name}'{under}")
        scorers = {p["scorer"] for p in problems}
        job = {"name": name, "item": item, "problems": problems, "samples": bench_samples, "scorers": scorers,
               "variants": []}
        if not scorers <= {"bbh_direct", "bbh_cot"}:
            for vname, pp, tv, mode in _variants(problems):
                progs = build_programs(problems, bench_samples, postprocess=pp, postprocess_mode=mode,
                                       strip_mode=item.get("strip_mode", "exact"), tests_variant=tv)
                for prog in progs:
                    prog.setdefault("timeout", item.get("timeout", 5.0))
                    prog.setdefault("memory_mb", item.get("memory_mb", 1024))
                job["variants"].append((vname, len(all_programs), len(progs)))
                all_programs.extend(progs)
        jobs.append(job)
    if args.cache:
        Path(args.cache).parent.mkdir(parents=True, exist_ok=True)
    workers = max((j["item"].get("workers", 2) for j in jobs), default=2)
    results = execute_many(all_programs, workers=workers, cache_path=args.cache, progress=not args.no_progress) \
        if all_programs else []

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
                    from leti.eae import metrics as eae_metrics, verify_results

                    res = verify_results(problems, res)
                    metrics[f"{vname}_eae"] = eae_metrics(problems, res)
                by_key = {}
                for r in res:
                    m = r.get("meta") or {}
                    by_key[(m["task_id"], int(m["sample_idx"]))] = r
                metrics[vname], vrows = score_variant(ids, keys_by_task, by_key, DEFAULT_KS)
                rows += [{**r, "variant": vname, "benchmark": name} for r in vrows]
        per_sample += [{**r, "benchmark": name} for r in rows]
        per_problem[name] = per_problem_counts(rows)
        prov_samples = [s.get("provenance") or {} for s in job["samples"]]
        out[name] = {
            "benchmark": problems[0]["benchmark"], "split": problems[0].get("split"),
            "n_problems": len(problems),
            "n_samples_per_problem": len(job["samples"]) // max(1, len(problems)),
            "conditioning": job["samples"][0].get("conditioning", "none"),
            "strip_mode": job["item"].get("strip_mode", "exact"),
            "metrics": metrics,
            "provenance": {
                "problems_file": job["item"]["problems"], "problems_sha256": sha256_file(job["item"]["problems"]),
                "prompt_template": sorted({str((p.get("meta") or {}).get("prompt_template")) for p in problems}),
                "decoding": prov_samples[0].get("decoding") if prov_samples else None,
                "checkpoint": prov_samples[0].get("checkpoint") if prov_samples else None,
                "evaluator_version": EVALUATOR_VERSION,
            },
        }
    from leti.provenance import environment

    atomic_write_json(args.out, {"run": run_meta, "benchmarks": out, "environment": environment()})
    if args.per_sample:
        atomic_write_jsonl(args.per_sample, per_sample)
    if args.per_problem:
        atomic_write_json(args.per_problem, per_problem)
    brief = {k: v["metrics"].get("raw", v["metrics"].get("lenient", {})).get("pass@1",
             v["metrics"].get("lenient", {}).get("micro")) for k, v in out.items()}
    print(f"leti score: {json.dumps(brief)}")
    return 0
