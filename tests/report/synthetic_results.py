"""A complete results tree for any grid config, with values that say where they come from.

Every evaluation's pass rate is a fixed function of (its evaluation key, iteration, conditioning,
benchmark, variant): `rate(...)`, the same on every problem, so a table cell or a claim's X / Y can be
checked against the reading it must come from (arm, iteration, reward token, temperature). No model
is involved; used by the pairing tests (the paper grid) and the many-arms tests (12 arms).
"""
from __future__ import annotations

import hashlib
import json
import os

from leti.report.stats import pass_at_k
from leti.workflow.plan import Plan

N_PROBLEMS = 12
VERSIONS = {"leti-harness": "0.1.0", "python": "3.11.7"}


def rate(key: str, it: int, cond: str, bench: str, variant: str) -> float:
    """A pass rate in [0.05, 0.95] that identifies its reading."""
    h = hashlib.sha256(f"{key}|{it}|{cond}|{bench}|{variant}".encode()).digest()
    return 0.05 + 0.9 * int.from_bytes(h[:4], "big") / 2 ** 32


def _kind(bcfg: dict) -> str:
    p = bcfg["problems"]
    return p.get("benchmark") or ("eae" if p.get("source") == "eae" else "synth")


def _code(key, it, cond, name, n, variants, ks):
    metrics, per_problem = {}, {}
    for variant in variants:
        k = round(rate(key, it, cond, name, variant) * n)
        syn = (n - k) // 3
        other = (n - k - syn) // 4
        buckets = {"pass": k, "SyntaxError": syn - syn // 4, "IndentationError": syn // 4, "NameError": other,
                   "AssertionError": n - k - syn - 2 * other, "other": other}
        total = {b: v * N_PROBLEMS for b, v in buckets.items()}
        m = {"n_pass": k * N_PROBLEMS, "n_samples": n * N_PROBLEMS, "buckets": total, "solve_rate": float(k > 0)}
        for kk in ks:
            if n >= kk:
                m[f"pass@{kk}"] = round(pass_at_k(n, k, kk), 6)
        metrics[variant] = m
        per_problem[variant] = {f"{name}/{i}": [k, n, syn, k + buckets["AssertionError"]] for i in range(N_PROBLEMS)}
    return metrics, per_problem


def _eae(key, it, cond, name):
    metrics, per_problem = _code(key, it, cond, name, 1, ("raw", "postprocessed"), (1,))
    for variant in ("raw", "postprocessed"):
        r = rate(key, it, cond, name, variant + "_eae")
        gold, pred = 40, 10 + round(20 * r)
        mi, mc = round(pred * r), round(pred * r * 0.5)
        def prf(m):
            p, rr = m / pred, m / gold
            return {"p": p, "r": rr, "f1": 2 * m / (pred + gold)}
        metrics[f"{variant}_eae"] = {"arg_i": prf(mi), "arg_c": prf(mc), "pass_rate": r,
                                     "counts": {"matched_arg_i": mi, "matched_arg_c": mc, "n_gold": gold, "n_pred": pred,
                                                "n_problems": N_PROBLEMS}}
    return metrics, per_problem


def _bbh(key, it, cond, name):
    metrics, per_problem = {}, {}
    for variant in ("lenient", "strict"):
        k = round(rate(key, it, cond, name, variant) * N_PROBLEMS)
        acc = k / N_PROBLEMS
        metrics[variant] = {"micro": acc, "macro": acc, "n": N_PROBLEMS, "by_task": {"t": acc}}
        per_problem[variant] = {f"{name}/{i}": [1 if i < k else 0, 1, 0, 0] for i in range(N_PROBLEMS)}
    return metrics, per_problem


def _write(path: str, obj) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, sort_keys=True)


def write_results(config: dict, out_dir: str, steps_per_iteration: int = 100) -> dict:
    """Write every file the report reads for `config` under `out_dir`; returns the config pointing there."""
    cfg = {**config, "results": out_dir}
    plan = Plan(cfg)
    for run in plan.runs:
        for it in range(plan.iterations(run) + 1):
            key = plan.eval_key(run, it)
            for cond in plan.conditionings(run, it):
                benches, per_problem = {}, {}
                for name in plan.benchmarks_at(run, it, cond):
                    bcfg = cfg["benchmarks"][name]
                    kind, n = _kind(bcfg), int(bcfg.get("n", 1))
                    if kind == "bbh":
                        m, pp = _bbh(key, it, cond, name)
                    elif kind == "eae":
                        m, pp = _eae(key, it, cond, name)
                    else:
                        variants = ("raw", "postprocessed") + (("postprocessed_leti",) if kind == "mbpp" else ())
                        m, pp = _code(key, it, cond, name, n, variants, (1, 10, 100))
                    prov = {"problems_sha256": f"sha-{name}", "prompt_template": [f"tpl-{name}"],
                            "evaluator_version": "leti-exec-3",
                            "decoding": {"n": n, "temperature": bcfg.get("temperature", 1.0), "top_p": 1.0,
                                         "max_new_tokens": 8, "stop": [], "seed": run.seed * 1000 + it, "batch_size": 8}}
                    benches[name] = {"benchmark": name, "n_problems": N_PROBLEMS, "n_samples_per_problem": n,
                                     "conditioning": cond, "metrics": m, "provenance": prov,
                                     "prompts": {"n": N_PROBLEMS, "no_room": 0, "capped": 0, "max_prompt_tokens": 100}}
                    per_problem[name] = pp
                _write(plan.metrics(run, it, cond), {"run": {"iteration": it, "conditioning": cond}, "benchmarks": benches,
                                                     "environment": {"versions": VERSIONS}})
                _write(plan.per_problem(run, it, cond), per_problem)
            if cfg.get("heldout_loss", True):
                _write(plan.heldout_loss(run, it), {"loss": round(1.0 + rate(key, it, "-", "loss", "-"), 6)})
            if it >= 1:
                _write(plan.train_stats(run, it), {"pass_rate": rate(key, it, "-", "train", "-")})
                _write(plan.train_summary(run, it), {"fcft_steps_total": steps_per_iteration * it})
                path = plan.loss_csv(run, it)
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write("iteration,step,global_step,fcft_step,kind,loss,tokens,lr,elapsed_s\n")
    return cfg
