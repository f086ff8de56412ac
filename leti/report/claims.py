"""The claims check: each of the paper's claims, its measured effect, a 95% CI and a verdict.

Effects are paired differences (X - Y) in percentage points (loss: nats/token). The interval is
a paired bootstrap over (seed, problem) units when every evaluation involved has per-problem
pass counts (`per_problem.json` beside its metrics), otherwise a binomial interval over samples
(Agresti-Caffo, pairing ignored); held-out loss uses a t interval over seeds. Verdicts:
REPRODUCED (CI excludes 0 in the claimed direction), NOT REPRODUCED (excludes 0 the other way),
INCONCLUSIVE (CI contains 0, or no interval), NOT TESTED (this grid lacks the arms/benchmarks).
"""
from __future__ import annotations

from leti.report import paper as P
from leti.report.collect import Results
from leti.report.stats import BOOTSTRAP_B, BOOTSTRAP_SEED, Interval, binomial_difference, paired_bootstrap, seed_t_interval, verdict
from leti.report.tables import IN_DOMAIN, Builder, efficiency_row

OUT_OF_DOMAIN = ("synth_retention", "gsm8k")
BINARY = P.ROW_BY_LABEL["LeTI w/o textual feedback"].facets
NO_REG = P.ROW_BY_LABEL["LeTI w/o regularization"].facets
VARIANT = {"synth_test": "raw", "mbpp": "raw", "synth_retention": "postprocessed", "gsm8k": "postprocessed"}

CLAIMS = [
    {"id": "pass1_rises", "claim": "pass@1 rises over iterations (LeTI: last iteration vs the pre-trained model)",
     "kind": "iterations", "arm": P.LETI, "benches": IN_DOMAIN, "metric": "pass", "direction": +1},
    {"id": "syntax_errors_fall", "claim": "syntax-type errors (SyntaxError + IndentationError) fall over iterations (LeTI)",
     "kind": "iterations", "arm": P.LETI, "benches": IN_DOMAIN, "metric": "syntax", "direction": -1},
    {"id": "textual_more_sample_efficient",
     "claim": "textual feedback is more sample-efficient than binary (mean pass@1 gap over iterations >= 1, same FCFT steps)",
     "kind": "curves", "a": P.LETI, "b": BINARY, "benches": IN_DOMAIN, "metric": "pass", "direction": +1},
    {"id": "regularization_protects_out_of_domain",
     "claim": "removing regularization hurts out-of-domain performance (LeTI minus w/o regularization, last iteration)",
     "kind": "arms", "a": P.LETI, "b": NO_REG, "benches": OUT_OF_DOMAIN, "metric": "pass", "direction": +1},
    {"id": "no_regularization_raises_heldout_loss",
     "claim": "removing regularization raises the held-out LM loss (w/o regularization minus LeTI, last iteration)",
     "kind": "loss", "a": NO_REG, "b": P.LETI, "benches": ("heldout_loss",), "metric": "loss", "direction": +1},
    {"id": "good_beats_bad", "claim": "<|good|> beats <|bad|> conditioning (LeTI, last iteration)",
     "kind": "conditioning", "arm": P.LETI, "benches": IN_DOMAIN, "metric": "pass", "direction": +1},
]


def _counts_from_metrics(bench: dict | None, variant: str, metric: str):
    m = ((bench or {}).get("metrics") or {}).get(variant)
    if not m or not m.get("n_samples"):
        return None
    n = int(m["n_samples"])
    if metric == "syntax":
        bk = m.get("buckets") or {}
        return sum(int(bk.get(b, 0)) for b in P.SYNTAX_BUCKETS), n
    k = m.get("n_pass")
    return (int(k) if k is not None else round(m["pass@1"] * n)), n


def _per_problem(data: dict | None, variant: str, metric: str) -> dict | None:
    """{task: (k, n)} from per_problem.json's {task: [n_pass, n(, n_syntax)]} (raw variant) or
    {variant: {task: [...]}}; None when this variant/metric is not there."""
    if not data:
        return None
    first = next(iter(data.values()), None)
    table = data if isinstance(first, list) else data.get(variant) if isinstance(first, dict) else None
    if table is None or (isinstance(first, list) and variant != "raw"):
        return None
    out = {}
    for task, v in table.items():
        if metric == "syntax":
            if len(v) < 3:
                return None
            out[task] = (int(v[2]), int(v[1]))
        else:
            out[task] = (int(v[0]), int(v[1]))
    return out


class Claims:
    def __init__(self, res: Results, builder: Builder):
        self.res = res
        self.b = builder

    def _pairs(self, spec: dict, ctx: str, bench: str):
        """seed -> [((run, it, cond), (run, it, cond))] or a reason string."""
        res = self.res
        if spec["kind"] in ("iterations", "conditioning"):
            arm = res.leti_arm(ctx, spec["arm"])
            if arm is None:
                return "no LeTI arm (feedback textual, regularization on) in this grid"
            last, evald = res.last(arm), res.evaluated(bench, arm)
            if spec["kind"] == "iterations":
                if not (0 in evald and last in evald and last > 0):
                    return f"{bench} is not evaluated at iteration 0 and at the last iteration"
                return {r.seed: [((r, last, None), (r, 0, None))] for r in arm.runs}
            conds = res.conds(arm.runs[0], last, bench)
            if not ("good" in conds and "bad" in conds) or last not in evald or last == 0:
                return "the LeTI arm is not evaluated under both <|good|> and <|bad|> at the last iteration"
            return {r.seed: [((r, last, "good"), (r, last, "bad"))] for r in arm.runs}
        a, b = res.leti_arm(ctx, spec["a"]), res.leti_arm(ctx, spec["b"])
        if a is None or b is None:
            missing = [n for n, x, f in (("A", a, spec["a"]), ("B", b, spec["b"])) if x is None]
            return "this grid has no arm with " + " / ".join(
                ", ".join(f"{k}={v}" for k, v in (spec["a"] if m == "A" else spec["b"]).items()) for m in missing)
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
            return {r.seed: [((r, last, None), (rb[r.seed], last, None))] for r in seeds}
        its = [i for i in evald if i >= 1]
        if not its:
            return f"{bench} is not evaluated at any iteration >= 1"
        return {r.seed: [((r, i, None), (rb[r.seed], i, None)) for i in its] for r in seeds}

    def _interval(self, spec, bench, pairs) -> Interval:
        if spec["kind"] == "loss":
            diffs = []
            for seed in sorted(pairs):
                (x, ix, _), (y, iy, _) = pairs[seed][0]
                diffs.append(self.res.heldout[(x.id, ix)]["loss"] - self.res.heldout[(y.id, iy)]["loss"])
            return seed_t_interval(diffs)
        variant, metric = VARIANT.get(bench, "raw"), spec["metric"]
        # per-problem data for every evaluation involved?
        units, ok = [], True
        for seed in sorted(pairs):
            per_task: dict[str, float] = {}
            for (x, ix, cx), (y, iy, cy) in pairs[seed]:
                px = _per_problem(self.res.problems(x, ix, bench, cx), variant, metric)
                py = _per_problem(self.res.problems(y, iy, bench, cy), variant, metric)
                if px is None or py is None or sorted(px) != sorted(py):
                    ok = False
                    break
                for t in px:
                    (kx, nx), (ky, ny) = px[t], py[t]
                    per_task[t] = per_task.get(t, 0.0) + (kx / nx - ky / ny) / len(pairs[seed])
            if not ok:
                break
            units += [per_task[t] for t in sorted(per_task)]
        if ok and units:
            return paired_bootstrap(units)
        counts = []
        for seed in sorted(pairs):
            entries = []
            for (x, ix, cx), (y, iy, cy) in pairs[seed]:
                cx_ = _counts_from_metrics(self.res.bench(x, ix, bench, cx), variant, metric)
                cy_ = _counts_from_metrics(self.res.bench(y, iy, bench, cy), variant, metric)
                if cx_ is None or cy_ is None:
                    continue
                entries.append((cx_[0], cx_[1], cy_[0], cy_[1]))
            if entries:
                counts.append(entries)
        if not counts:
            return None
        return binomial_difference(counts)

    def _details(self, spec, ctx, bench) -> dict:
        if spec["kind"] != "curves":
            return {}
        a, b = self.res.leti_arm(ctx, spec["a"]), self.res.leti_arm(ctx, spec["b"])
        pa, pb = self.b.efficiency_points(a, bench), self.b.efficiency_points(b, bench)
        out = {}
        for seed in sorted(set(pa) & set(pb)):
            row = efficiency_row(pa[seed], pb[seed])
            if row is not None:
                out[f"seed={seed}"] = {"binary_best_pass1": _r(row[0] * 100), "binary_steps": row[1],
                                       "textual_steps_to_reach": row[2],
                                       "steps_ratio": None if row[3] is None else _r(row[3])}
        return {"steps_to_reach_binary_best": out, "paper_steps_ratio": P.SAMPLE_EFFICIENCY_RATIO}

    def evaluate(self) -> list[dict]:
        rows = []
        for spec in CLAIMS:
            for ctx in self.res.contexts():
                benches = [bn for bn in spec["benches"] if spec["kind"] == "loss" or self.res.evaluated(bn)]
                if spec["kind"] == "loss" and not self.res.heldout:
                    benches = []
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
                    rows.append(self._row(spec, ctx, bench, iv, details=self._details(spec, ctx, bench),
                                          reason=None if iv is not None else "no metrics for this comparison"))
        return rows

    def _row(self, spec, ctx, bench, iv: Interval | None, reason=None, details=None) -> dict:
        scale = 1.0 if spec["kind"] == "loss" else 100.0
        unit = "nats/token" if spec["kind"] == "loss" else "percentage points"
        tested = iv is not None
        return {
            "id": spec["id"], "claim": spec["claim"], "context": ctx, "benchmark": bench,
            "variant": None if spec["kind"] == "loss" else VARIANT.get(bench, "raw"),
            "direction": "increase" if spec["direction"] > 0 else "decrease",
            "effect": _r(iv.effect * scale) if tested else None,
            "ci_low": _r(iv.lo * scale) if tested and iv.lo is not None else None,
            "ci_high": _r(iv.hi * scale) if tested and iv.hi is not None else None,
            "unit": unit,
            "ci_method": iv.method if tested else None,
            "n_units": iv.n_units if tested else 0,
            "verdict": verdict(iv, spec["direction"]) if tested else "NOT TESTED",
            "reason": reason,
            "details": details or {},
        }


def _r(x: float) -> float:
    return float(f"{x:.6g}")


def claims_markdown(rows: list[dict], provenance: str) -> str:
    out = ["# Claims check", "",
           "Each of the paper's claims with the measured effect (X - Y, in the unit shown), its 95% confidence "
           "interval and the verdict: REPRODUCED when the CI excludes 0 in the claimed direction, NOT REPRODUCED "
           "when it excludes 0 in the opposite direction, INCONCLUSIVE otherwise; NOT TESTED when this grid "
           "lacks the arms or benchmarks the claim needs.", "",
           "| claim | context | benchmark | claimed | effect | 95% CI | verdict |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        ci = "" if r["ci_low"] is None else f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}]"
        eff = "" if r["effect"] is None else f"{r['effect']:.4g}"
        bench = r["benchmark"] + (f" ({r['variant']})" if r["variant"] else "")
        out.append(f"| {r['claim'].replace('|', chr(92) + '|')} | {r['context']} | {bench} | {r['direction']} | {eff} | {ci} | **{r['verdict']}** |")
    out += ["", "## Notes", ""]
    for r in rows:
        bits = [f"`{r['id']}` on {r['benchmark']} ({r['context']}):"]
        if r["ci_method"]:
            bits.append(f"CI by {r['ci_method']}, {r['n_units']} units; effect in {r['unit']}.")
        if r["reason"]:
            bits.append(r["reason"] + ".")
        for seed, d in sorted((r["details"].get("steps_to_reach_binary_best") or {}).items()):
            bits.append(f"{seed}: binary best {d['binary_best_pass1']}% at {d['binary_steps']} steps, textual "
                        f"reaches it at {d['textual_steps_to_reach']} steps (ratio {d['steps_ratio']}; paper 2).")
        out.append("- " + " ".join(bits))
    out += ["", f"Bootstrap: B={BOOTSTRAP_B}, seed {BOOTSTRAP_SEED}, percentile interval. {provenance}", ""]
    return "\n".join(out)
