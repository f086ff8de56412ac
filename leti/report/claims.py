"""The claims check: every claim of the poster, tested at the level the grid allows, with its power.

Each row compares two readings X and Y (an arm's checkpoint under a conditioning, on a benchmark
variant: the same readings the tables show) and gives the paired effect X - Y (percentage points;
loss: nats/token; sample efficiency: a ratio of steps), its 95 % interval, the smallest effect the
procedure could detect (MDE, 80 % power), and a verdict that says what it is about:

- with >= 3 seeds the seed is the unit (a paired t interval over seeds): a claim about the method,
  "REPRODUCED (over 3 seeds)";
- with fewer, the problem is the unit (a paired t interval over problems, seeds fixed): a claim
  about this run only, "REPRODUCED (this run)" (leti.report.stats explains both).

The test depends on the claim: a direction ("rises", "beats") excludes 0 on the claimed side; "no
degradation" is non-inferiority within a margin set from the poster's own numbers
(paper.NONINFERIORITY_MARGIN), with the w/o-regularization arm run through the same test as a
control; a comparison whose two sides both sit at the floor (or ceiling) is INCONCLUSIVE whatever the
interval says. Where the poster gives a number for the effect (and our model and benchmark are the
poster's), a second verdict says whether the effect is within a stated tolerance of it. NOT TESTED:
the grid lacks the arms, benchmarks or iterations the claim needs. Simulated coverage, false-positive
rates and power of every procedure: bench/claims_sim.py, docs/claims.md.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from leti.report import paper as P
from leti.report.collect import Results
from leti.report.efficiency import RATIO_BOOTSTRAP_B, step_ratio_interval  # noqa: F401 (cli)
from leti.report.stats import (INCONCLUSIVE, MIN_CLUSTERS, NOT_TESTED, SEED_LEVEL_MIN, Interval,
                               at_floor, binomial_difference, degradation_verdict, level_text, paired_interval,
                               pass_at_k, seed_t_interval, tolerance_verdict, verdict)
from leti.report.tables import IN_DOMAIN, Builder

NO_TOKEN = "none"
BINARY = P.ROW_BY_LABEL["LeTI w/o textual feedback"].facets
NO_REG = P.ROW_BY_LABEL["LeTI w/o regularization"].facets
PP_ARMS = (P.ROW_BY_LABEL[P.PP].facets, P.ROW_BY_LABEL[P.PP + " + language feedback"].facets)
HUMANEVAL = ("synth_transfer", "humaneval")  # the analogue, then the real one (resolved per temperature)
GSM_LIKE = ("synth_retention", "gsm8k")
OUT_OF_DOMAIN = ("synth_retention", "gsm8k", "bbh_direct", "bbh_cot")
VARIANT = {"synth_test": "raw", "mbpp": "raw", "synth_retention": "postprocessed", "gsm8k": "postprocessed",
           "bbh_direct": "lenient", "bbh_cot": "lenient", "synth_transfer": "raw", "humaneval": "postprocessed",
           "eae": "postprocessed"}
MARGIN = P.NONINFERIORITY_MARGIN


def family(bench: str) -> str:
    """The poster's benchmark a grid benchmark is (humaneval_t08 -> humaneval); synth_* are analogues."""
    return "humaneval" if bench.startswith("humaneval") else bench


def _pp(n_before: int, n_after: int) -> float:
    return 100.0 * (n_after - n_before) / P.ERROR_TOTAL


_RAW, _PPC = P.ERROR_COUNTS["raw"], P.ERROR_COUNTS["postprocessed"]
_SYN = ("SyntaxError", "IndentationError")
_GSM = {(m, r): P.GSM_BBH[(m, r)] for m in ("350M", "2B") for r in ("pre-trained", "LeTI", "LeTI w/o regularization")}


def _ood(first: str, second: str) -> dict:
    return {(m, b): P.GSM_BBH[(m, second)][i] - P.GSM_BBH[(m, first)][i]
            for m in ("350M", "2B") for i, b in enumerate(("gsm8k", "bbh_direct", "bbh_cot"))
            if (m, first) in P.GSM_BBH and (m, second) in P.GSM_BBH}


@dataclass(frozen=True)
class Claim:
    id: str
    claim: str
    kind: str                       # iterations | arms | conditioning | curves | efficiency | loss | eae
    benches: tuple
    metric: str                     # pass | pass@k | syntax | executable | NameError | loss | ratio | eae:...
    direction: int = +1
    test: str = "direction"         # direction | noninferiority | degradation
    arm: tuple = (P.LETI,)          # iterations / conditioning / eae: the arm(s) whose checkpoints are compared
    a: tuple = ()                   # arms: X arm(s)
    b: dict | None = None           # arms: Y arm
    cond: str | None = None         # conditioning of the trained checkpoint(s) (None: <|good|> where evaluated)
    conds: tuple = ()               # conditioning: the two reward tokens compared
    variant: str | None = None      # overrides VARIANT
    poster: dict = field(default_factory=dict, hash=False)   # (model, benchmark family) -> the poster's effect
    poster_source: str = P.SOURCE_POSTER
    no_magnitude: str = ""          # why the poster's effect cannot be compared (cross-protocol, ...)


CLAIMS = [
    Claim("pass1_rises", "pass@1 rises over iterations (LeTI, last iteration vs pre-trained)", "iterations",
          IN_DOMAIN, "pass", poster={("2B", "mbpp"): 28.00 - 4.50}),
    Claim("syntax_errors_fall", "syntax-type errors (SyntaxError + IndentationError) fall over iterations (LeTI)",
          "iterations", IN_DOMAIN, "syntax", -1,
          poster={("2B", "mbpp"): _pp(sum(_RAW["pre-trained"][b] for b in _SYN), sum(_RAW["LeTI"][b] for b in _SYN))}),
    Claim("executable_share_rises", "the share of executable code (pass + AssertionError) rises over iterations (LeTI)",
          "iterations", IN_DOMAIN, "executable", poster={("2B", "mbpp"): 63.2}),
    Claim("textual_needs_fewer_steps",
          "textual feedback reaches the same pass@1 as binary in fewer FCFT steps (step ratio at common levels)",
          "efficiency", IN_DOMAIN, "ratio", -1, a=(P.LETI,), b=BINARY, poster={("2B", "mbpp"): P.SAMPLE_EFFICIENCY_RATIO}),
    Claim("textual_higher_over_iterations", "textual feedback has the higher pass@1 than binary over iterations >= 1 "
          "(mean gap at equal FCFT steps)", "curves", IN_DOMAIN, "pass", a=(P.LETI,), b=BINARY),
    Claim("textual_beats_binary_final", "textual feedback beats binary at the final iteration (pass@1)", "arms",
          IN_DOMAIN, "pass", a=(P.LETI,), b=BINARY),
    Claim("good_beats_bad", "<|good|> beats <|bad|> conditioning (LeTI, last iteration)", "conditioning", IN_DOMAIN,
          "pass", conds=("good", "bad")),
    Claim("good_beats_none", "<|good|> beats no reward token (LeTI, last iteration)", "conditioning", IN_DOMAIN,
          "pass", conds=("good", "none")),
    Claim("bad_beats_none", "<|bad|> beats no reward token (LeTI, last iteration; poster: good > bad > none)",
          "conditioning", IN_DOMAIN, "pass", conds=("bad", "none")),
    Claim("postprocess_training_improves", "training on post-processed output improves MBPP pass@1 w/ post-processing "
          "(trained w/ post-processing, its last iteration vs pre-trained)", "iterations", ("mbpp",), "pass",
          arm=PP_ARMS, variant="postprocessed_leti",
          poster={("2B", "mbpp"): _pp(_PPC["pre-trained"]["pass"], _PPC["LeTI"]["pass"])}),
    Claim("postprocess_training_cuts_nameerror", "training on post-processed output cuts NameError w/ post-processing "
          "(poster: 10 % -> 1 % within 2 iterations)", "iterations", ("mbpp",), "NameError", -1, arm=PP_ARMS,
          variant="postprocessed_leti",
          poster={("2B", "mbpp"): _pp(_PPC["pre-trained"]["NameError"], _PPC["LeTI"]["NameError"])}),
    Claim("postprocess_training_beats_leti_pass10", "trained w/ post-processing beats LeTI on HumanEval pass@10 "
          "(each at its evaluated iteration, no token)", "arms", HUMANEVAL, "pass@10", a=PP_ARMS, b=P.LETI, cond=NO_TOKEN,
          poster={("2B", "humaneval"): P.HUMANEVAL[("2B", P.PP)][1] - P.HUMANEVAL[("2B", "LeTI")][1]}),
    Claim("postprocess_training_beats_leti_pass100", "trained w/ post-processing beats LeTI on HumanEval pass@100 "
          "(each at its evaluated iteration, no token)", "arms", HUMANEVAL, "pass@100", a=PP_ARMS, b=P.LETI,
          cond=NO_TOKEN, poster={("2B", "humaneval"): P.HUMANEVAL[("2B", P.PP)][2] - P.HUMANEVAL[("2B", "LeTI")][2]}),
    Claim("postprocess_training_beats_leti_gsm8k", "trained w/ post-processing beats LeTI on GSM8K (no token)", "arms",
          GSM_LIKE, "pass", a=PP_ARMS, b=P.LETI, cond=NO_TOKEN,
          poster={("2B", "gsm8k"): P.GSM_BBH[("2B", P.PP)][0] - P.GSM_BBH[("2B", "LeTI")][0]},
          poster_source=P.SOURCE_POSTER + "; " + P.ASSUMED_NO_TOKEN),
    Claim("no_out_of_domain_degradation", f"with regularization, no out-of-domain degradation: LeTI (last iteration) "
          f"non-inferior to pre-trained within {MARGIN:g} points (no token)", "iterations", OUT_OF_DOMAIN, "pass",
          test="noninferiority", cond=NO_TOKEN, poster=_ood("pre-trained", "LeTI"),
          poster_source=P.SOURCE_POSTER + "; " + P.ASSUMED_NO_TOKEN),
    Claim("no_regularization_degrades_control", f"control: without regularization the same test fails, a degradation "
          f"beyond {MARGIN:g} points (w/o regularization, last iteration, vs pre-trained; no token)", "iterations",
          GSM_LIKE, "pass", test="degradation", arm=(NO_REG,), cond=NO_TOKEN,
          poster={k: v for k, v in _ood("pre-trained", "LeTI w/o regularization").items() if k[1] == "gsm8k"},
          poster_source=P.SOURCE_POSTER + "; " + P.ASSUMED_NO_TOKEN),
    Claim("regularization_protects_out_of_domain", "removing regularization hurts out-of-domain performance (LeTI "
          "minus w/o regularization, last iteration, no token)", "arms", ("synth_retention", "gsm8k", "bbh_cot"), "pass",
          a=(P.LETI,), b=NO_REG, cond=NO_TOKEN,
          poster={k: v for k, v in _ood("LeTI w/o regularization", "LeTI").items() if k[1] != "bbh_direct"},
          poster_source=P.SOURCE_POSTER + "; " + P.ASSUMED_NO_TOKEN),
    Claim("no_regularization_raises_heldout_loss", "removing regularization raises the held-out LM loss "
          "(w/o regularization minus LeTI, last iteration)", "loss", ("heldout_loss",), "loss", a=(NO_REG,), b=P.LETI),
    Claim("humaneval_pass1_not_worse", f"HumanEval pass@1 comparable to the pre-trained model: LeTI (last "
          f"iteration) non-inferior within {MARGIN:g} points (no token)", "iterations", HUMANEVAL, "pass@1",
          test="noninferiority", cond=NO_TOKEN,
          no_magnitude="the poster's pre-trained HumanEval numbers are the CodeGen paper's (another protocol)"),
    Claim("humaneval_pass10_improves", "HumanEval pass@10 improves (LeTI last iteration vs pre-trained, no token)",
          "iterations", HUMANEVAL, "pass@10", cond=NO_TOKEN,
          no_magnitude="the poster's pre-trained HumanEval numbers are the CodeGen paper's (another protocol)"),
    Claim("humaneval_pass100_improves", "HumanEval pass@100 improves (LeTI last iteration vs pre-trained, no token)",
          "iterations", HUMANEVAL, "pass@100", cond=NO_TOKEN,
          no_magnitude="the poster's pre-trained HumanEval numbers are the CodeGen paper's (another protocol)"),
    Claim("eae_arg_i_f1_rises", "EAE: Arg-I F1 rises over iterations (trained on EAE, last vs pre-trained)", "eae",
          ("eae",), "eae:f1:arg_i", arm=({"train_task": "eae"},),
          no_magnitude="the paper text's 21.2 -> 33.5 is on ACE05 with spaCy heads (here GENEVA, a head rule), "
                       "via a third-party summary"),
    Claim("eae_arg_c_f1_rises", "EAE: Arg-C F1 rises over iterations (trained on EAE, last vs pre-trained)", "eae",
          ("eae",), "eae:f1:arg_c", arm=({"train_task": "eae"},),
          no_magnitude="the paper text's 8.0 -> 10.6 is on ACE05 with spaCy heads (here GENEVA, a head rule), "
                       "via a third-party summary"),
    Claim("eae_precision_over_recall", "EAE: the rule-based evaluator favours precision over recall (Arg-I "
          "precision gains more than recall, last vs pre-trained; poster: r with train pass@1 0.93 vs -0.08)", "eae",
          ("eae",), "eae:p-r:arg_i", arm=({"train_task": "eae"},),
          no_magnitude="the poster gives correlations, not gains"),
]
CLAIM_BY_ID = {c.id: c for c in CLAIMS}


# ------------------------------------------------------------------------------------- reading values
def _value(counts: list[int], metric: str) -> float | None:
    """One problem's value from its per-problem record [n_pass, n, n_syntax(, n_executable)]."""
    k, n = int(counts[0]), int(counts[1])
    if metric == "syntax":
        return None if len(counts) < 3 else counts[2] / n
    if metric == "executable":
        return None if len(counts) < 4 else counts[3] / n
    if metric.startswith("pass@"):
        return pass_at_k(n, k, int(metric[5:]))
    if metric != "pass":
        return None
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
    """(k, n, n_problems) from a metrics JSON entry, for the binomial fallback (pass/syntax/executable/buckets)."""
    m = ((bench or {}).get("metrics") or {}).get(variant)
    if not m or not m.get("n_samples") or metric.startswith("pass@") and metric != "pass@1":
        return None
    n, bk = int(m["n_samples"]), m.get("buckets") or {}
    if metric == "syntax":
        k = sum(int(bk.get(b, 0)) for b in P.SYNTAX_BUCKETS)
    elif metric == "executable":
        k = int(bk.get("pass", 0)) + int(bk.get("AssertionError", 0))
    elif metric in ("pass", "pass@1"):
        k = m.get("n_pass")
        k = int(k) if k is not None else round(m["pass@1"] * n)
    elif metric in bk:
        k = int(bk[metric])
    else:
        return None
    return k, n, int(bench.get("n_problems") or 1)


def _eae_counts(bench: dict | None, variant: str, metric: str) -> tuple[int, int, int] | None:
    """(k, n, n_problems) of an EAE ratio: F1 = 2m / (pred + gold), P = m / pred, R = m / gold."""
    e = ((bench or {}).get("metrics") or {}).get(f"{variant}_eae") or {}
    c = e.get("counts")
    if not c:
        return None
    _, what, arg = metric.split(":")
    m = int(c[f"matched_{arg}"])
    k, n = {"f1": (2 * m, c["n_pred"] + c["n_gold"]), "p": (m, c["n_pred"]), "r": (m, c["n_gold"])}[what]
    return int(k), int(n), int(c.get("n_problems") or bench.get("n_problems") or 1)


@dataclass
class Reading:
    """One side of a comparison: an arm's checkpoint under a conditioning, on a benchmark."""
    label: str
    iteration: int
    cond: str | None        # as evaluated (None: only when nothing was)
    runs: dict              # seed -> Run


class Claims:
    def __init__(self, res: Results, builder: Builder):
        self.res = res
        self.b = builder
        self.names = builder.arm_names

    # ---------------------------------------------------------------- which evaluations a claim compares
    def _arms(self, ctx: str, facets_list) -> list:
        out = []
        for f in facets_list:
            out += [a for a in self.res.arms_matching(ctx, f) if a not in out]
        return out

    def _reading(self, arm, it: int, bench: str, cond: str | None) -> Reading | str:
        if it not in self.res.evaluated(bench, arm):
            return f"{bench} is not evaluated at iteration {it} of {self.names[arm.id]}"
        c = self.res.cond_for(arm.runs[0], it, bench, cond)
        if c is None:
            return f"{bench} is not evaluated under {'no token' if cond == NO_TOKEN else cond} at iteration {it}"
        label = "pre-trained" if it == 0 else self.names[arm.id]
        return Reading(label, it, c, {r.seed: r for r in arm.runs})

    def comparisons(self, spec: Claim, ctx: str, bench: str) -> list[tuple[str, object]]:
        """[(arm label, (X, Y) readings or a reason)] for one claim, context and benchmark."""
        res = self.res
        if spec.kind in ("iterations", "conditioning", "eae"):
            arms = self._arms(ctx, spec.arm)
            if not arms:
                return [("", "this grid has no arm with " + _facets_text(spec.arm[0]))]
            out = []
            for arm in arms:
                last = res.last(arm)
                if last == 0:
                    out.append((self.names[arm.id], "the arm runs no iteration"))
                    continue
                if spec.kind == "conditioning":
                    cx, cy = spec.conds
                    conds = res.conds(arm.runs[0], last, bench)
                    if not (cx in conds and cy in conds):
                        out.append((self.names[arm.id], f"{bench} is not evaluated under both {_tok(cx)} and "
                                                        f"{_tok(cy)} at the last iteration"))
                        continue
                    x, y = self._reading(arm, last, bench, cx), self._reading(arm, last, bench, cy)
                else:
                    x, y = self._reading(arm, last, bench, spec.cond), self._reading(arm, 0, bench, None)
                out.append((self.names[arm.id], next((r for r in (x, y) if isinstance(r, str)), (x, y))))
            return out
        b = res.leti_arm(ctx, spec.b)
        arms = self._arms(ctx, spec.a)
        if b is None or not arms:
            missing = [f for f in (*spec.a[:1], spec.b) if not self._arms(ctx, (f,))]
            return [("", "this grid has no arm with " + " / ".join(_facets_text(f) for f in missing))]
        out = []
        for a in arms:
            seeds = sorted({r.seed for r in a.runs} & {r.seed for r in b.runs})
            if not seeds:
                out.append((self.names[a.id], "the two arms share no seed"))
                continue
            if spec.kind == "loss":
                out.append((self.names[a.id], (Reading(self.names[a.id], res.last(a), None, {r.seed: r for r in a.runs}),
                                               Reading(self.names[b.id], res.last(b), None, {r.seed: r for r in b.runs}))))
                continue
            if spec.kind == "arms":
                x, y = self._reading(a, res.last(a), bench, spec.cond), self._reading(b, res.last(b), bench, spec.cond)
                out.append((self.names[a.id], next((r for r in (x, y) if isinstance(r, str)), (x, y))))
                continue
            its = [i for i in res.evaluated(bench, a) if i in res.evaluated(bench, b) and i >= 1]
            if len(its) < (2 if spec.kind == "efficiency" else 1) or res.last(a) != res.last(b):
                out.append((self.names[a.id], f"{bench} is not evaluated at enough common iterations >= 1"))
                continue
            pairs = [(self._reading(a, i, bench, spec.cond), self._reading(b, i, bench, spec.cond)) for i in its]
            bad = next((r for p in pairs for r in p if isinstance(r, str)), None)
            out.append((self.names[a.id], bad or pairs))
        return out

    # ---------------------------------------------------------------- values
    def _matrix(self, r: Reading, bench: str, variant: str, metric: str) -> dict[int, dict[str, float]] | None:
        out = {}
        for seed, run in r.runs.items():
            pp = _per_problem(self.res.problems(run, r.iteration, bench, r.cond), variant, metric)
            if pp is None:
                return None
            out[seed] = pp
        return out

    def _totals(self, r: Reading, bench: str, variant: str, metric: str) -> dict[int, tuple[int, int, int]] | None:
        out = {}
        for seed, run in r.runs.items():
            b = self.res.bench(run, r.iteration, bench, r.cond)
            t = _eae_counts(b, variant, metric) if metric.startswith("eae:") else _totals(b, variant, metric)
            if t is None:
                return None
            out[seed] = t
        return out

    def _difference(self, pairs: list[tuple[Reading, Reading]], bench, variant, metric):
        """(interval, mean X, mean Y) of X - Y averaged over `pairs`, at the level the seeds allow."""
        seeds = sorted(set.intersection(*(set(x.runs) & set(y.runs) for x, y in pairs)))
        mats = [(self._matrix(x, bench, variant, metric), self._matrix(y, bench, variant, metric)) for x, y in pairs]
        if all(mx is not None and my is not None for mx, my in mats):
            diffs, xs, ys = {}, [], []
            for s in seeds:
                tasks = sorted(set.intersection(*(set(mx[s]) & set(my[s]) for mx, my in mats)))
                if not tasks:
                    return None, None, None
                diffs[s] = {t: float(np.mean([mx[s][t] - my[s][t] for mx, my in mats])) for t in tasks}
                xs.append(np.mean([mx[s][t] for mx, _ in mats for t in tasks]))
                ys.append(np.mean([my[s][t] for _, my in mats for t in tasks]))
            return paired_interval(diffs), float(np.mean(xs)), float(np.mean(ys))
        tots = [(self._totals(x, bench, variant, metric), self._totals(y, bench, variant, metric)) for x, y in pairs]
        if any(tx is None or ty is None for tx, ty in tots):
            return None, None, None
        per_seed = [[(tx[s][0], tx[s][1], ty[s][0], ty[s][1], min(tx[s][2], ty[s][2])) for tx, ty in tots] for s in seeds]
        xs = [np.mean([kx / nx if nx else 0.0 for kx, nx, _, _, _ in e]) for e in per_seed]
        ys = [np.mean([ky / ny if ny else 0.0 for _, _, ky, ny, _ in e]) for e in per_seed]
        n_prob = min(e[4] for es in per_seed for e in es)
        if len(seeds) < SEED_LEVEL_MIN and n_prob < MIN_CLUSTERS:
            return (Interval(float(np.mean(xs) - np.mean(ys)), None, None, f"no interval: {n_prob} problems x "
                             f"{len(seeds)} seed(s), fewer than {MIN_CLUSTERS} problems", n_prob, len(seeds)),
                    float(np.mean(xs)), float(np.mean(ys)))
        if len(seeds) >= SEED_LEVEL_MIN:
            iv = seed_t_interval([x - y for x, y in zip(xs, ys)])
            iv = Interval(iv.effect, iv.lo, iv.hi, iv.method + " (from totals: no per-problem data)", n_prob,
                          len(seeds), iv.se, iv.df, "seeds")
        else:
            iv = binomial_difference(per_seed)
        return iv, float(np.mean(xs)), float(np.mean(ys))

    def _eae_gain_gap(self, x: Reading, y: Reading, variant: str, arg: str):
        """(P_x - P_y) - (R_x - R_y): precision gains more than recall."""
        parts = {}
        for what in ("p", "r"):
            tx, ty = (self._totals(r, "eae", variant, f"eae:{what}:{arg}") for r in (x, y))
            if tx is None or ty is None:
                return None, None, None
            parts[what] = (tx, ty)
        seeds = sorted(set(parts["p"][0]) & set(parts["p"][1]))

        def frac(t):
            return t[0] / t[1] if t[1] else 0.0
        gaps = [(frac(parts["p"][0][s]) - frac(parts["p"][1][s])) - (frac(parts["r"][0][s]) - frac(parts["r"][1][s]))
                for s in seeds]
        gx = float(np.mean([frac(parts["p"][0][s]) - frac(parts["p"][1][s]) for s in seeds]))
        gy = float(np.mean([frac(parts["r"][0][s]) - frac(parts["r"][1][s]) for s in seeds]))
        if len(seeds) >= SEED_LEVEL_MIN:
            return seed_t_interval(gaps), gx, gy
        n_prob = min(parts["p"][0][s][2] for s in seeds)
        if n_prob < MIN_CLUSTERS:
            return (Interval(float(np.mean(gaps)), None, None, f"no interval: {n_prob} problems x {len(seeds)} seed(s), "
                             f"fewer than {MIN_CLUSTERS} problems", n_prob, len(seeds)), gx, gy)
        p = binomial_difference([[(*parts["p"][0][s][:2], *parts["p"][1][s][:2], parts["p"][0][s][2])] for s in seeds])
        r = binomial_difference([[(*parts["r"][0][s][:2], *parts["r"][1][s][:2], parts["r"][0][s][2])] for s in seeds])
        se = math.sqrt(p.se ** 2 + r.se ** 2)  # P and R share their matches: positively correlated, so conservative
        eff = float(np.mean(gaps))
        return (Interval(eff, eff - 1.959964 * se, eff + 1.959964 * se, "approximate binomial interval from EAE "
                         "totals (problems as the sample size; no per-problem EAE counts; seeds fixed)",
                         p.n_units, len(seeds), se, None, "run"), gx, gy)

    # ---------------------------------------------------------------- sample efficiency
    def _curve(self, r_by_seed: dict, bench: str, variant: str):
        """seed -> (steps, tasks, matrix points x problems of pass@1), iteration 0 = 0 steps."""
        out = {}
        for seed, run in r_by_seed.items():
            its = self.res.evaluated(bench, run)
            cols, steps = [], []
            for it in its:
                per = _per_problem(self.res.problems(run, it, bench), variant, "pass")
                s = 0 if it == 0 else (self.res.train_summary.get((run.id, it)) or {}).get("fcft_steps_total")
                if per is None or s is None:
                    return None
                cols.append(per)
                steps.append(int(s))
            tasks = sorted(set.intersection(*(set(c) for c in cols)))
            out[seed] = (steps, tasks, np.array([[c[t] for t in tasks] for c in cols]))
        return out

    def _ratio_interval(self, pairs, bench: str, variant: str):
        """(interval of log step ratio, mean final pass@1 textual, binary, reason): efficiency.step_ratio_interval
        on the two arms' per-problem curves."""
        (x0, y0) = pairs[0]
        ta, tb = self._curve(x0.runs, bench, variant), self._curve(y0.runs, bench, variant)
        if not ta or not tb:
            return None, None, None, "no per-problem pass counts or FCFT step counts for these curves"
        seeds = sorted(set(ta) & set(tb))
        tasks = sorted(set.intersection(*(set(ta[s][1]) & set(tb[s][1]) for s in seeds)))
        pick = {s: ([ta[s][1].index(t) for t in tasks], [tb[s][1].index(t) for t in tasks]) for s in seeds}
        ca = {s: (ta[s][0], ta[s][2][:, pick[s][0]]) for s in seeds}
        cb = {s: (tb[s][0], tb[s][2][:, pick[s][1]]) for s in seeds}
        iv, reason = step_ratio_interval(ca, cb)
        xs = float(np.mean([ca[s][1].mean(axis=1)[-1] for s in seeds]))
        ys = float(np.mean([cb[s][1].mean(axis=1)[-1] for s in seeds]))
        return iv, xs, ys, reason

    # ---------------------------------------------------------------- rows
    def benches_for(self, spec: Claim) -> list[str]:
        if spec.kind == "loss":
            return ["heldout_loss"] if self.res.heldout else []
        if spec.benches is HUMANEVAL:  # the analogue, or the real one at the temperature the tables read pass@k from
            k = {"pass@1": 0, "pass@10": 1, "pass@100": 2}[spec.metric]
            real = self.b.humaneval_sources()[k]
            return [b for b in ("synth_transfer", real) if self.res.evaluated(b)]
        return [bn for bn in spec.benches if self.res.evaluated(bn)]

    def evaluate(self) -> list[dict]:
        rows = []
        for spec in CLAIMS:
            for ctx in self.res.contexts():
                benches = self.benches_for(spec)
                if not benches:
                    rows.append(self._row(spec, ctx, "/".join(spec.benches), "",
                                          reason="none of these benchmarks is evaluated in this grid"))
                    continue
                for bench in benches:
                    for label, cmp in self.comparisons(spec, ctx, bench):
                        if isinstance(cmp, str):
                            rows.append(self._row(spec, ctx, bench, label, reason=cmp))
                            continue
                        rows.append(self._tested(spec, ctx, bench, label, cmp))
        return _drop_excluded(rows)

    def _tested(self, spec: Claim, ctx: str, bench: str, label: str, cmp) -> dict:
        pairs = cmp if isinstance(cmp, list) else [cmp]
        variant = spec.variant or VARIANT.get(family(bench), "raw")
        reason = None
        if spec.kind == "loss":
            x, y = pairs[0]
            seeds = sorted(set(x.runs) & set(y.runs))
            lx = [self.res.heldout[(x.runs[s].id, x.iteration)]["loss"] for s in seeds]
            ly = [self.res.heldout[(y.runs[s].id, y.iteration)]["loss"] for s in seeds]
            iv = seed_t_interval([a - b for a, b in zip(lx, ly)])
            if len(seeds) < 2:
                reason = "one seed: the held-out loss has no per-document record, so no interval"
            mx, my = float(np.mean(lx)), float(np.mean(ly))
        elif spec.kind == "efficiency":
            iv, mx, my, reason = self._ratio_interval(pairs, bench, variant)
        elif spec.metric.startswith("eae:p-r"):
            iv, mx, my = self._eae_gain_gap(pairs[0][0], pairs[0][1], variant, spec.metric.split(":")[2])
        else:
            iv, mx, my = self._difference(pairs, bench, variant, spec.metric)
        if iv is None:
            return self._row(spec, ctx, bench, label, pairs=pairs, variant=variant,
                             reason=reason or "no metrics for this comparison")
        floor = None
        if spec.kind not in ("loss", "efficiency") and not spec.metric.startswith("eae:p-r"):
            floor = at_floor([mx, my])
        return self._row(spec, ctx, bench, label, iv, pairs=pairs, variant=variant, means=(mx, my), floor=floor,
                         reason=reason)

    def _row(self, spec: Claim, ctx, bench, label, iv: Interval | None = None, pairs=None, variant=None, means=None,
             floor=None, reason=None) -> dict:
        ratio, loss = spec.kind == "efficiency", spec.kind == "loss"
        scale = 1.0 if loss or ratio else 100.0
        tested = iv is not None
        x, y = (pairs[0] if pairs else (None, None))
        model, exact = self.b.paper_model(ctx)
        row = {
            "id": spec.id, "claim": spec.claim, "context": ctx, "arm": label or None, "benchmark": bench,
            "variant": None if loss else variant, "metric": spec.metric,
            "x": _side(x, means[0] if means else None, scale if not ratio else 100.0),
            "y": _side(y, means[1] if means else None, scale if not ratio else 100.0),
            "iterations": sorted({p[0].iteration for p in pairs}) if pairs and len(pairs) > 1 else None,
            "test": spec.test, "claimed": _claimed(spec),
            "unit": "nats/token" if loss else "ratio of FCFT steps (textual / binary)" if ratio else "percentage points",
            "effect": None, "ci_low": None, "ci_high": None, "mde": None, "level": None, "ci_method": None,
            "n_problems": None, "n_seeds": 0, "outcome": NOT_TESTED, "verdict": NOT_TESTED,
            "magnitude": None, "rests_on": None, "reason": reason,
        }
        if not tested:
            return row
        tr = (lambda v: None if v is None or not np.isfinite(v) else _r(math.exp(v))) if ratio else \
            (lambda v: None if v is None or not np.isfinite(v) else _r(v * scale))
        row.update(effect=tr(iv.effect), ci_low=tr(iv.lo), ci_high=tr(iv.hi), level=iv.level, ci_method=iv.method,
                   n_problems=iv.n_units if not loss else None, n_seeds=iv.n_seeds)
        mde = iv.mde
        if mde is not None:
            row["mde"] = _r(math.exp(-mde)) if ratio else _r(mde * scale)
        if spec.test == "noninferiority":
            outcome = verdict(iv, spec.direction, MARGIN / scale)
        elif spec.test == "degradation":
            outcome = degradation_verdict(iv, MARGIN / scale)
        else:
            outcome = verdict(iv, spec.direction)
        if floor:
            outcome = INCONCLUSIVE
            row["reason"] = (f"both sides sit at the {floor} ({'<= 1 %' if floor == 'floor' else '>= 99 %'}): this "
                             "benchmark cannot show a difference here")
        row["outcome"] = outcome
        row["verdict"] = f"{outcome} ({level_text(iv.level, iv.n_seeds)})"
        row["magnitude"] = self._magnitude(spec, bench, model, exact, iv, scale, ratio, floor)
        row["rests_on"] = self._rests_on(spec, bench, variant, pairs, iv, row["magnitude"])
        return row

    def _magnitude(self, spec, bench, model, exact, iv, scale, ratio, floor) -> dict | None:
        fam = family(bench)
        if not spec.poster and not spec.no_magnitude:
            return None
        if fam.startswith("synth") or not exact:
            return {"poster": None, "verdict": "NOT COMPARABLE",
                    "reason": "an analogue model or benchmark: the poster's number is for CodeGen on the real benchmark"}
        if spec.no_magnitude:
            return {"poster": None, "verdict": "NOT COMPARABLE", "reason": spec.no_magnitude}
        value = spec.poster.get((model, fam))
        if value is None:
            others = sorted({f"{m} {f}" for m, f in spec.poster})
            return {"poster": None, "verdict": "NOT COMPARABLE",
                    "reason": f"the poster gives this number for {', '.join(others)} only"}
        if iv.lo is None:
            v = INCONCLUSIVE
        elif floor:
            v = INCONCLUSIVE
        elif ratio:
            v = tolerance_verdict(iv, math.log(value), math.log(P.TOLERANCE_RATIO_FACTOR))
        else:
            v = tolerance_verdict(iv, value / scale, P.TOLERANCE_POINTS / scale)
        tol = (f"x/÷{P.TOLERANCE_RATIO_FACTOR:g}" if ratio else f"±{P.TOLERANCE_POINTS:g} points")
        power = iv.power(math.log(value) if ratio else value / scale)
        return {"poster": value, "tolerance": tol, "verdict": v, "source": spec.poster_source,
                "power_at_poster": None if power is None else _r(power)}

    def _rests_on(self, spec, bench, variant, pairs, iv, mag) -> str:
        x, y = pairs[0]
        if spec.kind == "efficiency":
            what = f"{bench} {variant} pass@1 curves over FCFT steps, {x.label} vs {y.label} (all evaluated iterations)"
        elif spec.kind == "loss":
            what = f"held-out LM loss, {x.label} (iteration {x.iteration}) vs {y.label} (iteration {y.iteration})"
        elif len(pairs) > 1:
            what = (f"{bench} {variant} {spec.metric}: {x.label} vs {y.label} at iterations "
                    f"{', '.join(str(p[0].iteration) for p in pairs)} ({_tok(x.cond)})")
        else:
            what = (f"{bench} {variant} {spec.metric}: {x.label} (iteration {x.iteration}, {_tok(x.cond)}) vs "
                    f"{y.label} (iteration {y.iteration}, {_tok(y.cond)})")
        units = f"{iv.n_seeds} seed(s)" if spec.kind == "loss" else f"{iv.n_units} problems x {iv.n_seeds} seed(s)"
        src = f"; poster number: {mag['source']}" if mag and mag.get("source") else ""
        return f"{what}; {units}{src}"


# ------------------------------------------------------------------------------------------ helpers
def _drop_excluded(rows: list[dict]) -> list[dict]:
    """A claim tested in some context is not listed as NOT TESTED in the contexts whose grid leaves its arm
    out on purpose (e.g. the 350M model has no post-processing arm in the paper grid)."""
    tested = {r["id"] for r in rows if r["outcome"] != NOT_TESTED}
    return [r for r in rows if not (r["id"] in tested and r["outcome"] == NOT_TESTED
                                    and (r["reason"] or "").startswith("this grid has no arm"))]


def _tok(cond: str | None) -> str:
    return {None: "default token", "none": "no token", "good": "<|good|>", "bad": "<|bad|>"}.get(cond, str(cond))


def _facets_text(f: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in f.items())


def _claimed(spec: Claim) -> str:
    if spec.test == "noninferiority":
        return f"non-inferior (margin {MARGIN:g})"
    if spec.test == "degradation":
        return f"degrades beyond {MARGIN:g}"
    if spec.kind == "efficiency":
        return "ratio < 1"
    return "increase" if spec.direction > 0 else "decrease"


def _side(r: Reading | None, mean: float | None, scale: float) -> dict | None:
    if r is None:
        return None
    return {"label": r.label, "iteration": r.iteration, "conditioning": r.cond,
            "mean": None if mean is None or not np.isfinite(mean) else _r(mean * scale)}


def _r(x: float) -> float:
    return float(f"{x:.6g}")


def _fmt(v, digits=4) -> str:
    return "" if v is None else f"{v:.{digits}g}"


def _ci(r: dict) -> str:
    if r["ci_low"] is None and r["ci_high"] is None:
        return ""
    return f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"


def _compared(r: dict) -> str:
    """"LeTI it 6 <|good|>: 28.1 vs pre-trained it 0 no token: 4.6" (curves and loss: no token to name)."""
    x, y = r["x"], r["y"]
    if not x:
        return ""

    def one(s):
        it = "" if r["iterations"] else f" it {s['iteration']}"
        cond = "" if s["conditioning"] is None else f" {_tok(s['conditioning'])}"
        mean = "" if s["mean"] is None else f": {_fmt(s['mean'])}"
        return f"{s['label']}{it}{cond}{mean}"
    return f"{one(x)} vs {one(y)}"


def _magnitude_cell(r: dict) -> tuple[str, str]:
    m = r["magnitude"]
    if not m:
        return "", ""
    if m["poster"] is None:
        return "—", m["verdict"]
    return f"{m['poster']:.4g} ({m['tolerance']})", m["verdict"]


def claims_markdown(rows: list[dict], provenance: str) -> str:
    out = ["# Claims check", "",
           "Each claim of the poster: the two readings compared (the same numbers the tables show), the effect "
           "X - Y with its 95 % interval, the smallest effect the procedure could detect (MDE, 80 % power), and the "
           "verdict with what it is about. **over N seeds**: the seed is the unit (a paired t interval over seeds), "
           "a claim about the method. **this run**: fewer than 3 seeds, the problem is the unit (a paired t interval "
           "over problems, seeds fixed): the effect holds on these problems in this training run, and another run may "
           "differ by the seed-to-seed variation it does not cover. REPRODUCED: the interval excludes 0 on the "
           f"claimed side (non-inferiority: its lower end lies above -{MARGIN:g} points, a margin set from the "
           "poster's own numbers: docs/claims.md); NOT REPRODUCED: the other way; INCONCLUSIVE: neither, no interval "
           "(fewer than 10 problems), or both sides at the floor/ceiling; NOT TESTED: this grid lacks what the claim "
           "needs. Where the poster states the effect's size for this model and benchmark, a second verdict says "
           "whether the effect lies within the stated tolerance of it.", "",
           "| claim | context | benchmark | compared (X vs Y, mean) | claimed | effect [95% CI] | MDE | problems x seeds "
           "| verdict | poster | magnitude |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        bench = r["benchmark"] + (f" ({r['variant']})" if r["variant"] else "")
        eff = "" if r["effect"] is None else f"{_fmt(r['effect'])} {_ci(r)}".strip()
        units = "" if r["outcome"] == NOT_TESTED else (f"{r['n_problems']} x {r['n_seeds']}" if r["n_problems"]
                                                       else f"{r['n_seeds']} seeds")
        claim = r["claim"] + (f" [{r['arm']}]" if r["arm"] and r["id"].startswith(("postprocess", "eae")) else "")
        poster, mag = _magnitude_cell(r)
        out.append("| " + " | ".join(s.replace("|", "\\|") for s in (
            claim, r["context"], bench, _compared(r), r["claimed"], eff, _fmt(r["mde"]), units,
            f"**{r['verdict']}**", poster, mag)) + " |")
    out += ["", "## What each verdict rests on", ""]
    for r in rows:
        bits = [f"`{r['id']}` on {r['benchmark']} ({r['context']}{', ' + r['arm'] if r['arm'] else ''}):"]
        if r["rests_on"]:
            bits.append(r["rests_on"] + ".")
        if r["ci_method"]:
            bits.append(f"Interval: {r['ci_method']}; unit: {r['unit']}.")
        m = r["magnitude"]
        if m and m.get("reason"):
            bits.append(f"Magnitude not compared: {m['reason']}.")
        elif m and m.get("power_at_poster") is not None:
            bits.append(f"Power to detect the poster's effect: {100 * m['power_at_poster']:.0f} %.")
        if r["reason"]:
            bits.append(r["reason"] + ".")
        out.append("- " + " ".join(bits))
    out += ["", f"{provenance}", ""]
    return "\n".join(out)
