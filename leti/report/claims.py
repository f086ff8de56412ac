"""The claims check: each of the poster's claims, its measured effect, a 95% CI and a verdict.

Effects are paired differences (X - Y) in percentage points (loss: nats/token; the step ratio: a
ratio). The resampling unit is the problem: the same problems recur in every seed, so a problem is
resampled with all its seeds attached, and with two or more seeds the seeds are resampled as a
second level (`stats.cluster_bootstrap`). Without per-problem counts the interval is binomial with
the number of problems as the sample size; held-out loss uses a t interval over seeds. Verdicts:
REPRODUCED (the CI excludes 0 in the claimed direction; for "no degradation" claims: lies inside
the stated margin), NOT REPRODUCED (the other way), INCONCLUSIVE (the CI says neither, or no
interval: e.g. fewer than 10 problems), NOT TESTED (this grid lacks the arms or benchmarks).
"""
from __future__ import annotations

from leti.report import paper as P
from leti.report.collect import Results
from leti.report.stats import (BOOTSTRAP_B, BOOTSTRAP_SEED, Interval, binomial_difference, cluster_bootstrap, pass_at_k,
                               seed_t_interval, verdict)
from leti.report.tables import IN_DOMAIN, Builder

import numpy as np

BINARY = P.ROW_BY_LABEL["LeTI w/o textual feedback"].facets
NO_REG = P.ROW_BY_LABEL["LeTI w/o regularization"].facets
OUT_OF_DOMAIN = ("synth_retention", "gsm8k", "bbh_direct", "bbh_cot")
HUMANEVAL = ("synth_transfer", "humaneval_t08", "humaneval")
VARIANT = {"synth_test": "raw", "mbpp": "raw", "synth_retention": "postprocessed", "gsm8k": "postprocessed",
           "bbh_direct": "lenient", "bbh_cot": "lenient", "synth_transfer": "raw", "humaneval": "postprocessed",
           "humaneval_t02": "postprocessed", "humaneval_t06": "postprocessed", "humaneval_t08": "postprocessed"}
NO_DEGRADATION_MARGIN = 5.0  # percentage points: "no significant degradation" = LeTI - pre-trained within +-5

CLAIMS = [
    {"id": "pass1_rises", "claim": "pass@1 rises over iterations (LeTI: last iteration vs the pre-trained model)",
     "kind": "iterations", "arm": P.LETI, "benches": IN_DOMAIN, "metric": "pass", "direction": +1},
    {"id": "syntax_errors_fall", "claim": "syntax-type errors (SyntaxError + IndentationError) fall over iterations (LeTI)",
     "kind": "iterations", "arm": P.LETI, "benches": IN_DOMAIN, "metric": "syntax", "direction": -1},
    {"id": "executable_share_rises",
     "claim": "the share of executable code (pass + AssertionError) rises over iterations (LeTI; poster: +63.2 points, 2B)",
     "kind": "iterations", "arm": P.LETI, "benches": IN_DOMAIN, "metric": "executable", "direction": +1},
    {"id": "textual_needs_fewer_steps",
     "claim": "textual feedback needs fewer FCFT steps than binary to reach binary's best pass@1 (poster: 0.5x, 2B)",
     "kind": "efficiency", "a": P.LETI, "b": BINARY, "benches": IN_DOMAIN, "metric": "ratio", "direction": -1},
    {"id": "textual_higher_over_iterations",
     "claim": "textual feedback has the higher pass@1 over iterations >= 1 than binary (mean gap, same FCFT steps)",
     "kind": "curves", "a": P.LETI, "b": BINARY, "benches": IN_DOMAIN, "metric": "pass", "direction": +1},
    {"id": "regularization_protects_out_of_domain",
     "claim": "removing regularization hurts out-of-domain performance (LeTI minus w/o regularization, last iteration)",
     "kind": "arms", "a": P.LETI, "b": NO_REG, "benches": OUT_OF_DOMAIN, "metric": "pass", "direction": +1},
    {"id": "no_out_of_domain_degradation",
     "claim": f"with regularization, no significant out-of-domain degradation (LeTI minus pre-trained within "
              f"+-{NO_DEGRADATION_MARGIN:g} points)",
     "kind": "iterations", "arm": P.LETI, "benches": OUT_OF_DOMAIN, "metric": "pass", "direction": +1,
     "margin": NO_DEGRADATION_MARGIN},
    {"id": "regularization_protects_out_of_domain_no_token",
     "claim": "removing regularization hurts out-of-domain performance, no reward token (the poster's reading)",
     "kind": "arms", "a": P.LETI, "b": NO_REG, "benches": OUT_OF_DOMAIN, "metric": "pass", "direction": +1,
     "cond": "none"},
    {"id": "no_out_of_domain_degradation_no_token",
     "claim": f"with regularization, no significant out-of-domain degradation, no reward token (the poster's reading; "
              f"within +-{NO_DEGRADATION_MARGIN:g} points)",
     "kind": "iterations", "arm": P.LETI, "benches": OUT_OF_DOMAIN, "metric": "pass", "direction": +1,
     "margin": NO_DEGRADATION_MARGIN, "cond": "none"},
    {"id": "no_regularization_raises_heldout_loss",
     "claim": "removing regularization raises the held-out LM loss (w/o regularization minus LeTI, last iteration)",
     "kind": "loss", "a": NO_REG, "b": P.LETI, "benches": ("heldout_loss",), "metric": "loss", "direction": +1},
    {"id": "humaneval_pass10_improves", "claim": "HumanEval pass@10 improves (LeTI last iteration vs pre-trained)",
     "kind": "iterations", "arm": P.LETI, "benches": HUMANEVAL, "metric": "pass@10", "direction": +1},
    {"id": "humaneval_pass100_improves", "claim": "HumanEval pass@100 improves (LeTI last iteration vs pre-trained)",
     "kind": "iterations", "arm": P.LETI, "benches": HUMANEVAL, "metric": "pass@100", "direction": +1},
    {"id": "good_beats_bad", "claim": "<|good|> beats <|bad|> conditioning (LeTI, last iteration)",
     "kind": "conditioning", "conds": ("good", "bad"), "arm": P.LETI, "benches": IN_DOMAIN, "metric": "pass",
     "direction": +1},
    {"id": "good_beats_none", "claim": "<|good|> beats no reward token (LeTI, last iteration)",
     "kind": "conditioning", "conds": ("good", "none"), "arm": P.LETI, "benches": IN_DOMAIN, "metric": "pass",
     "direction": +1},
    {"id": "bad_beats_none", "claim": "<|bad|> beats no reward token (LeTI, last iteration; poster: good > bad > none)",
     "kind": "conditioning", "conds": ("bad", "none"), "arm": P.LETI, "benches": IN_DOMAIN, "metric": "pass",
     "direction": +1},
]


def _value(counts: list[int], metric: str) -> float | None:
    """One problem's value from its per-problem record [n_pass, n, n_syntax(, n_executable)]."""
    k, n = int(counts[0]), int(counts[1])
    if metric == "syntax":
        return None if len(counts) < 3 else counts[2] / n
    if metric == "executable":
        return None if len(counts) < 4 else counts[3] / n
    if metric.startswith("pass@"):
        return pass_at_k(n, k, int(metric[5:]))
    return k / n


def _per_problem(data: dict | None, variant: str, metric: str) -> dict[str, float] | None:
    """{task: value} from per_problem.json ({variant: {task: [...]}}, or the old flat raw layout)."""
    if not data:
        return None
    first = next(iter(data.values()), None)
    table = data if isinstance(first, list) else data.get(variant) if isinstance(first, dict) else None
    if table is None or (isinstance(first, list) and variant != "raw"):
        return None
    out = {}
    for task, v in table.items():
        x = _value(v, metric)
        if x is None:
            return None
        out[task] = x
    return out


def _totals(bench: dict | None, variant: str, metric: str) -> tuple[int, int, int] | None:
    """(k, n, n_problems) from a metrics JSON entry, for the binomial fallback (pass/syntax/executable)."""
    m = ((bench or {}).get("metrics") or {}).get(variant)
    if not m or not m.get("n_samples") or metric.startswith("pass@") and metric != "pass@1":
        return None
    n, bk = int(m["n_samples"]), m.get("buckets") or {}
    if metric == "syntax":
        k = sum(int(bk.get(b, 0)) for b in P.SYNTAX_BUCKETS)
    elif metric == "executable":
        k = int(bk.get("pass", 0)) + int(bk.get("AssertionError", 0))
    else:
        k = m.get("n_pass")
        k = int(k) if k is not None else round(m["pass@1"] * n)
    return k, n, int(bench.get("n_problems") or 1)


class Claims:
    def __init__(self, res: Results, builder: Builder):
        self.res = res
        self.b = builder

    # ---------------------------------------------------------------- which evaluations a claim compares
    def _pairs(self, spec: dict, ctx: str, bench: str):
        """seed -> [((run, it, cond), (run, it, cond))], or the reason this grid cannot test it."""
        res = self.res
        if spec["kind"] in ("iterations", "conditioning"):
            arm = res.leti_arm(ctx, spec["arm"])
            if arm is None:
                return "no LeTI arm (feedback textual, regularization on) in this grid"
            last, evald = res.last(arm), res.evaluated(bench, arm)
            if spec["kind"] == "iterations":
                if not (0 in evald and last in evald and last > 0):
                    return f"{bench} is not evaluated at iteration 0 and at the last iteration"
                cond = spec.get("cond")  # None: Results' default, <|good|> where evaluated (the poster's LeTI rows)
                if cond and cond not in res.conds(arm.runs[0], last, bench):
                    return f"{bench} is not evaluated under {'no token' if cond == 'none' else cond} at the last iteration"
                return {r.seed: [((r, last, cond), (r, 0, None))] for r in arm.runs}
            cx, cy = spec["conds"]
            conds = res.conds(arm.runs[0], last, bench)
            if not (cx in conds and cy in conds) or last not in evald or last == 0:
                return f"the LeTI arm is not evaluated under both <|{cx}|> and <|{cy}|> at the last iteration"
            return {r.seed: [((r, last, cx), (r, last, cy))] for r in arm.runs}
        a, b = res.leti_arm(ctx, spec["a"]), res.leti_arm(ctx, spec["b"])
        if a is None or b is None:
            missing = [f for x, f in ((a, spec["a"]), (b, spec["b"])) if x is None]
            return "this grid has no arm with " + " / ".join(", ".join(f"{k}={v}" for k, v in f.items()) for f in missing)
        if res.last(a) != res.last(b):
            return f"the two arms run different numbers of iterations ({res.last(a)} vs {res.last(b)})"
        last, evald = res.last(a), [i for i in res.evaluated(bench, a) if i in res.evaluated(bench, b)]
        rb = {r.seed: r for r in b.runs}
        seeds = [r for r in a.runs if r.seed in rb]
        if not seeds:
            return "the two arms share no seed"
        if spec["kind"] == "loss":
            return {r.seed: [((r, last, None), (rb[r.seed], last, None))] for r in seeds}
        if spec["kind"] == "arms":
            if last not in evald or last == 0:
                return f"{bench} is not evaluated at the last iteration"
            cond = spec.get("cond")
            if cond and not (cond in res.conds(a.runs[0], last, bench) and cond in res.conds(b.runs[0], last, bench)):
                return f"{bench} is not evaluated under {'no token' if cond == 'none' else cond} at the last iteration"
            return {r.seed: [((r, last, cond), (rb[r.seed], last, cond))] for r in seeds}
        its = [i for i in evald if i >= 1]
        if len(its) < (2 if spec["kind"] == "efficiency" else 1):
            return f"{bench} is not evaluated at enough iterations >= 1"
        return {r.seed: [((r, i, None), (rb[r.seed], i, None)) for i in its] for r in seeds}

    # ---------------------------------------------------------------- intervals
    def _interval(self, spec, bench, pairs) -> Interval | None:
        if spec["kind"] == "loss":
            diffs = []
            for seed in sorted(pairs):
                (x, ix, _), (y, iy, _) = pairs[seed][0]
                diffs.append(self.res.heldout[(x.id, ix)]["loss"] - self.res.heldout[(y.id, iy)]["loss"])
            return seed_t_interval(diffs)
        if spec["kind"] == "efficiency":
            return self._ratio_interval(bench, pairs)
        variant, metric = VARIANT.get(bench, "raw"), spec["metric"]
        diffs = self._problem_diffs(bench, pairs, variant, metric)
        if diffs is not None:
            return cluster_bootstrap(diffs)
        counts = []
        for seed in sorted(pairs):
            entries = []
            for (x, ix, cx), (y, iy, cy) in pairs[seed]:
                tx = _totals(self.res.bench(x, ix, bench, cx), variant, metric)
                ty = _totals(self.res.bench(y, iy, bench, cy), variant, metric)
                if tx is not None and ty is not None:
                    entries.append((tx[0], tx[1], ty[0], ty[1], min(tx[2], ty[2])))
            if entries:
                counts.append(entries)
        return binomial_difference(counts) if counts else None

    def _problem_diffs(self, bench, pairs, variant, metric) -> dict[int, dict[str, float]] | None:
        """seed -> {problem: mean over the seed's pairs of (X - Y)}, or None without per-problem data."""
        out = {}
        for seed in sorted(pairs):
            per_task: dict[str, float] = {}
            for (x, ix, cx), (y, iy, cy) in pairs[seed]:
                px = _per_problem(self.res.problems(x, ix, bench, cx), variant, metric)
                py = _per_problem(self.res.problems(y, iy, bench, cy), variant, metric)
                if px is None or py is None or sorted(px) != sorted(py):
                    return None
                for t in px:
                    per_task[t] = per_task.get(t, 0.0) + (px[t] - py[t]) / len(pairs[seed])
            out[seed] = per_task
        return out or None

    def _curves(self, bench, pairs, side: int):
        """seed -> (steps per point, problems, matrix points x problems of pass@1) for one arm."""
        out = {}
        for seed in sorted(pairs):
            runs_its = [(p[side][0], p[side][1]) for p in pairs[seed]]
            cols, steps = [], []
            for run, it in runs_its:
                per = _per_problem(self.res.problems(run, it, bench), VARIANT.get(bench, "raw"), "pass")
                s = (self.res.train_summary.get((run.id, it)) or {}).get("fcft_steps_total")
                if per is None or s is None:
                    return None
                cols.append(per)
                steps.append(int(s))
            tasks = sorted(set.intersection(*(set(c) for c in cols)))
            out[seed] = (steps, tasks, np.array([[c[t] for t in tasks] for c in cols]))
        return out

    def _ratio_interval(self, bench, pairs) -> Interval | None:
        """Steps for textual to reach binary's best pass@1, over binary's steps to it (poster: 0.5);
        problems (with their seeds) and seeds resampled; never reaching it counts as a ratio of inf."""
        ta, tb = self._curves(bench, pairs, 0), self._curves(bench, pairs, 1)
        if not ta or not tb:
            return None
        seeds = sorted(set(ta) & set(tb))
        tasks = sorted(set.intersection(*(set(ta[s][1]) & set(tb[s][1]) for s in seeds)))

        def ratio(seed_idx, task_idx) -> float:
            vals = []
            for s in seed_idx:
                (sa, tka, ma), (sb, tkb, mb) = ta[seeds[s]], tb[seeds[s]]
                ia = [tka.index(tasks[j]) for j in task_idx]
                ib = [tkb.index(tasks[j]) for j in task_idx]
                ca, cb = ma[:, ia].mean(axis=1), mb[:, ib].mean(axis=1)
                best = cb.max()
                bsteps = min(st for st, v in zip(sb, cb) if v == best)
                reach = [st for st, v in sorted(zip(sa, ca)) if v >= best]
                vals.append(reach[0] / bsteps if reach else float("inf"))
            return float(np.mean(vals))

        allp, alls = list(range(len(tasks))), list(range(len(seeds)))
        effect = ratio(alls, allp)
        where = f"{len(tasks)} problems x {len(seeds)} seed(s)"
        if len(tasks) < 10:
            return Interval(effect, None, None, f"no interval: {where}, fewer than 10 problems", len(tasks), len(seeds))
        rng = np.random.default_rng(BOOTSTRAP_SEED)
        b = BOOTSTRAP_B // 4  # each replicate recomputes both curves
        draws = [ratio(list(rng.integers(0, len(seeds), len(seeds))) if len(seeds) > 1 else alls,
                       list(rng.integers(0, len(tasks), len(tasks)))) for _ in range(b)]
        lo, hi = np.percentile(draws, [2.5, 97.5], method="nearest")  # inf: textual never reached it there
        return Interval(effect, float(lo), float(hi), f"cluster bootstrap of the step ratio ({where}), B={b}",
                        len(tasks), len(seeds))

    # ---------------------------------------------------------------- rows
    def evaluate(self) -> list[dict]:
        rows = []
        for spec in CLAIMS:
            for ctx in self.res.contexts():
                benches = [bn for bn in spec["benches"] if spec["kind"] == "loss" or self.res.evaluated(bn)]
                if spec["kind"] == "loss" and not self.res.heldout:
                    benches = []
                if spec["benches"] is HUMANEVAL:  # one HumanEval: the analogue, or the t=0.8 run of the paper grid
                    benches = benches[:1]
                if not benches:
                    rows.append(self._row(spec, ctx, "/".join(spec["benches"]), None,
                                          reason="none of these benchmarks is evaluated in this grid"))
                    continue
                for bench in benches:
                    pairs = self._pairs(spec, ctx, bench)
                    if isinstance(pairs, str):
                        rows.append(self._row(spec, ctx, bench, None, reason=pairs))
                        continue
                    iv = self._interval(spec, bench, pairs)
                    rows.append(self._row(spec, ctx, bench, iv,
                                          reason=None if iv is not None else "no metrics for this comparison"))
        return rows

    def _row(self, spec, ctx, bench, iv: Interval | None, reason=None) -> dict:
        ratio = spec["kind"] == "efficiency"
        scale = 1.0 if spec["kind"] == "loss" or ratio else 100.0
        unit = "nats/token" if spec["kind"] == "loss" else "ratio of FCFT steps" if ratio else "percentage points"
        tested = iv is not None
        return {
            "id": spec["id"], "claim": spec["claim"], "context": ctx, "benchmark": bench,
            "variant": None if spec["kind"] == "loss" else VARIANT.get(bench, "raw"),
            "direction": ("within +-%g" % spec["margin"]) if spec.get("margin") else
                         ("increase" if spec["direction"] > 0 else "decrease"),
            "effect": _finite(iv.effect * scale) if tested else None,
            "ci_low": _finite(iv.lo * scale) if tested and iv.lo is not None else None,
            "ci_high": _finite(iv.hi * scale) if tested and iv.hi is not None else None,
            "unit": unit,
            "ci_method": iv.method if tested else None,
            "n_problems": iv.n_units if tested and spec["kind"] != "loss" else None,
            "n_seeds": iv.n_seeds if tested else 0,
            "verdict": (verdict(iv if not ratio else _shift(iv, 1.0), spec["direction"],
                                None if spec.get("margin") is None else spec["margin"] / scale)
                        if tested else "NOT TESTED"),
            "reason": reason,
        }


def _shift(iv: Interval, by: float) -> Interval:
    """A ratio's interval as a difference from `by` (so that "fewer steps" means ratio - 1 < 0)."""
    return Interval(iv.effect - by, None if iv.lo is None else iv.lo - by, None if iv.hi is None else iv.hi - by,
                    iv.method, iv.n_units, iv.n_seeds)


def _r(x: float) -> float:
    return float(f"{x:.6g}")


def _finite(x: float) -> float | None:
    """A bound that JSON can hold: an infinite one (textual never reached binary's best) becomes None."""
    return _r(x) if np.isfinite(x) else None


def _unit_note(r: dict) -> str:
    if r["unit"] == "nats/token":
        return f"rests on {r['n_seeds']} seed(s) (held-out loss per seed)."
    note = f"rests on {r['n_problems']} problems x {r['n_seeds']} seed(s)."
    if r["n_seeds"] == 1:
        note += (" With one seed (the paper preset) the interval covers which problems were drawn, not training "
                 "randomness: it says the effect holds on these problems for this training run, not that another "
                 "run would reproduce it.")
    return note


def claims_markdown(rows: list[dict], provenance: str) -> str:
    out = ["# Claims check", "",
           "Each of the poster's claims with the measured effect (X - Y, in the unit shown), its 95% confidence "
           "interval and the verdict: REPRODUCED when the CI excludes 0 in the claimed direction (for 'within' "
           "claims: lies inside the margin), NOT REPRODUCED when it excludes 0 in the opposite direction (lies "
           "below the margin), INCONCLUSIVE otherwise (also when there is no interval: fewer than 10 problems); "
           "NOT TESTED when this grid lacks the arms or benchmarks the claim needs. Problems are the resampling "
           "unit, with their seeds attached.", "",
           "| claim | context | benchmark | claimed | effect | 95% CI | problems x seeds | verdict |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lo, hi = ("" if r["ci_low"] is None else f"{r['ci_low']:.4g}"), ("inf" if r["ci_high"] is None else f"{r['ci_high']:.4g}")
        ci = "" if r["ci_low"] is None and r["ci_high"] is None else f"[{lo}, {hi}]"
        eff = "" if r["effect"] is None else f"{r['effect']:.4g}"
        bench = r["benchmark"] + (f" ({r['variant']})" if r["variant"] else "")
        units = "" if r["verdict"] == "NOT TESTED" else (f"{r['n_problems']} x {r['n_seeds']}" if r["n_problems"]
                                                           else f"{r['n_seeds']} seeds")
        out.append(f"| {r['claim'].replace('|', chr(92) + '|')} | {r['context']} | {bench} | {r['direction']} | "
                   f"{eff} | {ci} | {units} | **{r['verdict']}** |")
    out += ["", "## Notes", ""]
    for r in rows:
        bits = [f"`{r['id']}` on {r['benchmark']} ({r['context']}):"]
        if r["ci_method"]:
            bits.append(f"{r['ci_method']}; effect in {r['unit']}; {_unit_note(r)}")
        if r["reason"]:
            bits.append(r["reason"] + ".")
        out.append("- " + " ".join(bits))
    out += ["", f"Bootstrap: B={BOOTSTRAP_B}, seed {BOOTSTRAP_SEED}, percentile interval. {provenance}", ""]
    return "\n".join(out)
