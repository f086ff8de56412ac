"""Do TorchSampler and vLLM draw the same distribution of programs? (issue 25: equivalence, measured)

Both engines sample the same problems from the same checkpoint with the same decoding (by default the
tiny default's base: its iteration-1 training draws, 4 per synthetic training problem, and its
`synth_test` evaluation, 8 per problem, T=1, 128 new tokens); every sample is executed by the sandboxed
evaluator (`leti score`) and the two sets are compared on the pass rate, the share of every error type,
and the completion length (characters). The unit of resampling is the problem (its samples stay
together, both engines' draws of it together, every seed's), B=2000 bootstrap replicates; a metric agrees when
the 95% interval of the difference (vLLM - hf) contains 0; with eight metrics per comparison one
per-metric disagreement in three comparisons is what chance alone gives, so a family-wise interval
(Bonferroni over the comparison's metrics) is reported beside it. Three sampling seeds are pooled by
default (about 7,900 samples per engine); each seed's pass-rate difference is printed too.

First, bench/sampling_exactness.py (in the vLLM environment) checks the cause a statistical difference
would have: both engines' greedy decodes token for token, and every drawn token's PIT under the model.

    python bench/sampling_equivalence.py --out bench/results/sampling-equivalence.json
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SYNTH = REPO / "work" / "data" / "synth" / "seed=0"


def leti(*args, env=None) -> None:
    cmd = [str(Path(sys.executable).with_name("leti")), *args]
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "LETI_WARM": "0", **(env or {})})
    if r.returncode:
        raise SystemExit(f"{' '.join(cmd[:4])} failed:\n{(r.stdout + r.stderr)[-3000:]}")


def draw_and_score(engine: str, sets: list[tuple[str, str, int]], args, tmp: Path, seed: int) -> list[dict]:
    """Per-sample rows {set, task_id, bucket, passed, chars} of `engine`'s draws with `seed`."""
    rows = []
    for name, problems, n in sets:
        stem = tmp / f"{engine}-{name}-{seed}"
        samples = stem.with_suffix(".jsonl")
        leti("sample", "--model", args.ckpt, "--problems", problems, "--n", str(n), "--temperature", "1.0",
             "--max-new-tokens", "128", "--seed", str(seed), "--batch-size", "128", "--threads", "1",
             "--engine", engine, "--vllm-env", args.stamp, "--out", str(samples), "--no-progress")
        spec = [{"benchmark": name, "problems": problems, "strip_mode": "exact", "timeout": 5.0, "memory_mb": 1024,
                 "workers": 2}]
        per_sample = stem.with_suffix(".per_sample.jsonl")
        leti("score", "--spec", json.dumps(spec), "--samples", str(samples), "--out", str(stem.with_suffix(".json")),
             "--per-sample", str(per_sample), "--no-progress")
        chars = {(s["task_id"], s["sample_idx"]): len(s["completion"])
                 for s in map(json.loads, samples.read_text().splitlines())}
        for r in map(json.loads, per_sample.read_text().splitlines()):
            if r.get("variant", "raw") != "raw":
                continue
            rows.append({"set": name, "seed": seed, "task_id": r["task_id"], "bucket": r["bucket"],
                         "passed": r["bucket"] == "pass",
                         "chars": chars[(r["task_id"], r["sample_idx"])]})
    return rows


def exact_sampling(args, problems: str) -> dict:
    """bench/sampling_exactness.py in the vLLM environment: greedy decodes compared token for token, and every
    drawn token's randomized PIT under the model (both engines), on the synthetic training prompts."""
    python = json.loads(Path(args.stamp).read_text())["python"]
    r = subprocess.run([python, str(REPO / "bench" / "sampling_exactness.py"), args.ckpt, problems, "--n", "4"],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO),
                                                            "OMP_NUM_THREADS": "1", "VLLM_LOGGING_LEVEL": "ERROR"})
    if r.returncode:
        raise SystemExit(f"sampling_exactness.py failed:\n{r.stderr[-3000:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    print(f"greedy: {out['greedy']['identical']}/{out['greedy']['of']} decodes identical; PIT KS "
          + ", ".join(f"{e} {v['ks']} (5 % critical {v['ks_crit95']})" for e, v in out["pit"].items()), flush=True)
    return out


def metrics(rows: list[dict], buckets: list[str]) -> dict:
    n = len(rows)
    out = {"pass_rate": sum(r["passed"] for r in rows) / n, "mean_chars": statistics.fmean(r["chars"] for r in rows)}
    counts = Counter(r["bucket"] for r in rows)
    out.update({f"share:{b}": counts[b] / n for b in buckets})
    return out


def compare(hf: list[dict], vl: list[dict], reps: int, seed: int) -> dict:
    buckets = sorted({r["bucket"] for r in hf + vl})
    by_problem = defaultdict(lambda: ([], []))
    for r in hf:
        by_problem[(r["set"], r["task_id"])][0].append(r)
    for r in vl:
        by_problem[(r["set"], r["task_id"])][1].append(r)
    keys = sorted(by_problem)
    point_hf, point_vl = metrics(hf, buckets), metrics(vl, buckets)
    rng = random.Random(seed)
    diffs = defaultdict(list)
    for _ in range(reps):
        pick = [keys[rng.randrange(len(keys))] for _ in keys]
        a = [r for k in pick for r in by_problem[k][0]]
        b = [r for k in pick for r in by_problem[k][1]]
        ma, mb = metrics(a, buckets), metrics(b, buckets)
        for m in ma:
            diffs[m].append(mb[m] - ma[m])
    out = {}
    tail = 0.025 / len(point_hf)  # Bonferroni over this comparison's metrics: a family-wise 95 %
    for m in point_hf:
        d = sorted(diffs[m])
        lo, hi = d[int(0.025 * reps)], d[int(0.975 * reps) - 1]
        flo, fhi = d[int(tail * reps)], d[max(int((1 - tail) * reps) - 1, 0)]
        out[m] = {"hf": round(point_hf[m], 4), "vllm": round(point_vl[m], 4),
                  "diff": round(point_vl[m] - point_hf[m], 4), "ci95": [round(lo, 4), round(hi, 4)],
                  "agree": lo <= 0 <= hi, "ci95_family": [round(flo, 4), round(fhi, 4)],
                  "agree_family": flo <= 0 <= fhi}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", default=str(REPO / "work" / "base" / "default" / "ckpt"))
    p.add_argument("--synth", default=str(SYNTH), help="the synthetic problem files (train.jsonl, test.jsonl)")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="sampling seeds (pooled)")
    p.add_argument("--reps", type=int, default=2000)
    p.add_argument("--vllm-env", default="auto")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    sets = [("synth_train", f"{args.synth}/train.jsonl", 4), ("synth_test", f"{args.synth}/test.jsonl", 8)]
    for _, f, _ in sets:
        if not Path(f).exists() or not Path(args.ckpt).exists():
            raise SystemExit(f"{f} or {args.ckpt} missing: `snakemake --cores 2 work/base/default/ckpt "
                             "work/data/synth/seed=0/test.jsonl`")
    with tempfile.TemporaryDirectory(prefix="bench-equiv-") as tmp:
        tmp = Path(tmp)
        args.stamp = str(tmp / "vllm.json")
        leti("vllm-env", "--env", args.vllm_env, "--out", args.stamp)
        exactness = exact_sampling(args, f"{args.synth}/train.jsonl")
        hf, vl = [], []
        for seed in args.seeds:  # engines alternate, so machine load hits both alike
            hf += draw_and_score("hf", sets, args, tmp, seed)
            vl += draw_and_score("vllm", sets, args, tmp, seed)
    result = {"samples_per_engine": len(hf), "problems": len({(r["set"], r["task_id"]) for r in hf}),
              "checkpoint": args.ckpt, "seeds": args.seeds, "bootstrap_reps": args.reps,
              "exactness": exactness, "overall": compare(hf, vl, args.reps, 0)}
    for name, _, _ in sets:
        result[name] = compare([r for r in hf if r["set"] == name], [r for r in vl if r["set"] == name], args.reps, 1)
    for seed in args.seeds:
        result[f"seed {seed}"] = {m: v for m, v in compare([r for r in hf if r["seed"] == seed],
                                                          [r for r in vl if r["seed"] == seed], args.reps, 2).items()
                                  if m == "pass_rate"}
    print(f"{result['samples_per_engine']} samples per engine on {result['problems']} problems")
    for part in ["overall"] + [s[0] for s in sets] + [f"seed {seed}" for seed in args.seeds]:
        print(f"\n{part}: metric, hf, vllm, diff [95% CI]")
        for m, v in result[part].items():
            print(f"  {m:28s} {v['hf']:8.4f} {v['vllm']:8.4f} {v['diff']:+8.4f} [{v['ci95'][0]:+.4f}, {v['ci95'][1]:+.4f}]"
                  f" {'agree' if v['agree'] else 'DIFFER'}; family-wise [{v['ci95_family'][0]:+.4f}, "
                  f"{v['ci95_family'][1]:+.4f}] {'agree' if v['agree_family'] else 'DIFFER'}")
    if args.out:
        from leti.core.io import atomic_write_json

        atomic_write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
