"""Every numeric result of the grid as one tidy (long) pandas table: `metrics.csv` of the report.

One row per value, so a notebook needs no knowledge of the results tree:

    df = pd.read_csv("results/report/metrics.csv")
    df.query("benchmark == 'synth_test' and variant == 'raw' and metric == 'pass@1'")

Columns: `run_id`, one per config axis (the run's value), `seed`, `iteration`, `source` (the file:
metrics, heldout_loss, train_stats, train_summary), `benchmark`, `conditioning`, `variant`,
`metric` (a dotted path inside the file, e.g. `buckets.SyntaxError`), `value` (a float, as stored).
`benchmark` is "heldout_loss" / "train" for the training-side files, which have no conditioning or
variant (empty). Per-problem counts and per-step loss curves are not metrics of a checkpoint and stay
in their own files. Iteration 0 (the shared base model) is listed under every run.
"""
from __future__ import annotations

import pandas as pd

from leti.core.errors import UserError
from leti.report.collect import Results

KEY = ["run_id", "iteration", "source", "benchmark", "conditioning", "variant", "metric"]
# train_summary.json also holds the training config and environment, which are not results
TRAIN_SUMMARY_KEYS = ("fcft_steps_total", "global_step", "metrics")


def numeric_leaves(obj, prefix: str = ""):
    """(dotted path, number) for every int/float inside nested dicts; lists, strings and bools are skipped."""
    if isinstance(obj, dict):
        for k in sorted(obj):
            yield from numeric_leaves(obj[k], f"{prefix}.{k}" if prefix else k)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield prefix, obj


def _records(res: Results):
    """(run, iteration, source, benchmark, conditioning, variant, values) for every result file."""
    for run in res.plan.runs:
        for it in range(res.last(run) + 1):
            for cond in res.plan.conditionings(run, it):
                for bench, b in res.metrics[(run.id, it, cond)]["benchmarks"].items():
                    for variant, m in (b.get("metrics") or {}).items():
                        yield run, it, "metrics", bench, cond, variant, m
            yield run, it, "heldout_loss", "heldout_loss", None, None, res.heldout.get((run.id, it)) or {}
            yield run, it, "train_stats", "train", None, None, res.train_stats.get((run.id, it)) or {}
            summary = res.train_summary.get((run.id, it)) or {}
            summary = {k: summary[k] for k in TRAIN_SUMMARY_KEYS if k in summary}
            yield run, it, "train_summary", "train", None, None, summary


def metrics_frame(res: Results) -> pd.DataFrame:
    """The long table, sorted by KEY so that the CSV is byte-identical across rebuilds."""
    axes = list(res.config["axes"])
    clash = sorted(set(axes) & set(KEY + ["seed", "value"]))
    if clash:
        raise UserError(f"axes {clash}: named like a column of metrics.csv; rename the axis")
    rows = [{"run_id": run.id, **{a: run.axes.get(a) for a in axes}, "seed": run.seed, "iteration": it,
             "source": source, "benchmark": bench, "conditioning": cond, "variant": variant,
             "metric": metric, "value": float(v)}
            for run, it, source, bench, cond, variant, values in _records(res)
            for metric, v in numeric_leaves(values)]
    columns = ["run_id", *axes, "seed", "iteration", "source", "benchmark", "conditioning", "variant", "metric",
               "value"]
    return pd.DataFrame(rows, columns=columns).sort_values(KEY, ignore_index=True)


def metrics_csv(res: Results) -> str:
    """`metrics.csv`: floats written in full (repr), so `pd.read_csv` gives back the stored values."""
    return metrics_frame(res).to_csv(index=False, lineterminator="\n")
