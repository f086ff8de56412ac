"""Coverage, false-positive rate and power of every procedure of the claims check, by simulation.

    python bench/claims_sim.py [--reps 1000] [--out bench/results/claims_sim.md]

Each procedure is the report's own code (leti.report.stats, leti.report.efficiency), fed with
simulated benchmark results: problems of fixed difficulty (per-problem pass rates spread on the logit
scale, as real benchmarks are), a training seed that shifts each arm's effect (the seed-to-seed
standard deviation of the effect, tau, 1.7 or 5.3 points: the range measured on this harness,
docs/claims.md) with a problem-by-seed interaction, and binomial samples per problem. Benchmarks at
their real sizes: MBPP 500 problems x 16 samples, HumanEval 164 x 256, GSM8K 1319 x 40.

For each procedure, seeds in {1, 3, 10}, and tau:
- coverage: how often the 95 % interval holds the truth it is about (the method's effect at the seed
  level; this run's effect at the run level);
- null: how often it says REPRODUCED when the claim is false at its boundary (a direction: effect 0;
  non-inferiority: effect = -margin; a degradation claim: effect = -margin; a magnitude: effect at
  the edge of the tolerance; the step ratio: 1). At the run level (fewer than 3 seeds) the verdict is
  "REPRODUCED (this run)": two rates are shown, when this run's own effect is null (what the verdict
  is about) and when only the method's is (how often a one-seed run would mislead if read as a claim
  about the method);
- power: how often it says REPRODUCED at a realistic effect, and the median MDE (80 % power).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from leti.report import paper as P  # noqa: E402
from leti.report.efficiency import step_ratio_interval  # noqa: E402
from leti.report.stats import (REPRODUCED, WITHIN, binomial_difference, degradation_verdict,  # noqa: E402
                               paired_interval, seed_t_interval, tolerance_verdict, verdict)

BENCHES = {"MBPP": (500, 16, 0.30), "HumanEval": (164, 256, 0.25), "GSM8K": (1319, 40, 0.35)}
TAUS = (1.7, 5.3)
SEEDS = (1, 3, 10)
INTERACTION = 0.4     # sd (logit) of the problem-by-seed part of training randomness
SPREAD = 1.8          # sd (logit) of problem difficulty


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class World:
    """One benchmark with fixed problems; arm X differs from the reference Y by `delta` (logit) plus a
    seed shift u ~ N(0, su) and an interaction v ~ N(0, INTERACTION) per problem."""
    a: np.ndarray
    n: int
    su: float

    @staticmethod
    def make(bench: str, tau: float, rng) -> "World":
        P_, n, base = BENCHES[bench]
        a = math.log(base / (1 - base)) + SPREAD * rng.standard_normal(P_)
        w = World(a, n, 0.0)
        w.su = w._calibrate(tau, rng)
        return w

    def run_effect(self, delta, u, v):
        """This run's effect in points (seeds x ...): mean over problems of p_X - p_Y."""
        return 100 * (_sig(self.a + delta + u[:, None] + v) - _sig(self.a)).mean(axis=1)

    def _calibrate(self, tau, rng, draws=2000):
        u0 = rng.standard_normal(draws)
        v = INTERACTION * rng.standard_normal((draws, len(self.a)))
        lo, hi = 0.0, 3.0
        for _ in range(25):
            mid = (lo + hi) / 2
            if self.run_effect(0.0, mid * u0, v).std() < tau:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    def method_effect(self, delta) -> float:
        """The method-level effect in points: the mean over seeds of the run effect. Over seeds, u + v of one
        problem is N(0, su^2 + INTERACTION^2), so it is mean_j E[sig(a_j + delta + z)] - sig(a_j), by
        Gauss-Hermite quadrature."""
        x, wts = np.polynomial.hermite_e.hermegauss(40)
        z = math.sqrt(self.su ** 2 + INTERACTION ** 2) * x
        ex = (_sig(self.a[:, None] + delta + z[None, :]) * wts).sum(axis=1) / wts.sum()
        return float(100 * (ex - _sig(self.a)).mean())

    def delta_for(self, effect) -> float:
        """The logit shift whose method-level effect is `effect` points."""
        lo, hi = -4.0, 4.0
        for _ in range(30):
            mid = (lo + hi) / 2
            if self.method_effect(mid) < effect:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    def draw(self, delta, seeds, rng, run_null=False):
        """Per-seed per-problem paired differences of pass rates, and each seed's true effect."""
        if run_null:   # this run's effect is exactly 0: X and Y have the same pass rates
            px = np.broadcast_to(_sig(self.a), (seeds, len(self.a)))
        else:
            u = self.su * rng.standard_normal(seeds)
            v = INTERACTION * rng.standard_normal((seeds, len(self.a)))
            px = _sig(self.a + delta + u[:, None] + v)
        py = np.broadcast_to(_sig(self.a), px.shape)
        kx, ky = rng.binomial(self.n, px), rng.binomial(self.n, py)
        truth = 100 * (px - py).mean(axis=1)
        return kx, ky, truth


def _diffs(kx, ky, n):
    d = (kx - ky) / n
    return {s: {j: float(x) for j, x in enumerate(row)} for s, row in enumerate(d)}


def _interval(kx, ky, n, totals=False):
    if not totals:
        return paired_interval(_diffs(kx, ky, n))
    seeds, P_ = kx.shape
    if seeds >= 3:
        return seed_t_interval([(kx[s].sum() - ky[s].sum()) / (n * P_) for s in range(seeds)])
    return binomial_difference([[(int(kx[s].sum()), n * P_, int(ky[s].sum()), n * P_, P_)] for s in range(seeds)])


def _decide(kind, iv):
    if kind == "direction":
        return verdict(iv, +1)
    if kind == "noninferiority":
        return verdict(iv, +1, P.NONINFERIORITY_MARGIN / 100)
    if kind == "degradation":
        return degradation_verdict(iv, P.NONINFERIORITY_MARGIN / 100)
    raise ValueError(kind)


def _covers(iv, truth_pts):
    return iv.lo is not None and iv.lo <= truth_pts / 100 <= iv.hi


def simulate_difference(kind, bench, tau, seeds, reps, rng, null_effect, power_effect, totals=False,
                        target=None, tol=None):
    """One row: a procedure on a paired difference (a direction, non-inferiority, degradation, magnitude)."""
    w = World.make(bench, tau, rng)
    d_null, d_pow = w.delta_for(null_effect), w.delta_for(power_effect)
    method_null = null_effect
    stats = {"cover": 0, "null": 0, "null_run": 0, "power": 0, "mde": []}
    for _ in range(reps):
        kx, ky, truth = w.draw(d_null, seeds, rng)
        iv = _interval(kx, ky, w.n, totals)
        level_truth = truth.mean() if seeds < 3 else method_null
        stats["cover"] += _covers(iv, level_truth)
        if target is None:
            stats["null"] += _decide(kind, iv) == REPRODUCED
        else:
            stats["null"] += tolerance_verdict(iv, target / 100, tol / 100) == WITHIN
        if seeds < 3:
            kx0, ky0, _ = w.draw(0.0, seeds, rng, run_null=True)
            iv0 = _interval(kx0, ky0, w.n, totals)
            if target is None:
                # the run-level null of each test: this run's effect at the test's boundary
                shift = 0.0 if kind == "direction" else -P.NONINFERIORITY_MARGIN / 100
                stats["null_run"] += _decide(kind, iv0.shifted(-shift)) == REPRODUCED
            else:
                stats["null_run"] += tolerance_verdict(iv0.shifted(-(null_effect / 100)), target / 100,
                                                       tol / 100) == WITHIN
        kx, ky, _ = w.draw(d_pow, seeds, rng)
        iv = _interval(kx, ky, w.n, totals)
        if target is None:
            stats["power"] += _decide(kind, iv) == REPRODUCED
        else:
            stats["power"] += tolerance_verdict(iv, target / 100, tol / 100) == WITHIN
        if iv.mde is not None:
            stats["mde"].append(100 * iv.mde)
    return stats


# ------------------------------------------------------------------------------------------ step ratio
ITERATIONS = 6
TAU_BINARY = 2.6     # binary's time constant in iterations: ~90 % of its gain by iteration 6 (2B MBPP-like)
GAIN = 2.4           # logit gain at saturation (4.5 % -> ~28 % pass@1 on a spread benchmark)


def _curves(a, n, speed, seed_shift, rng, inter):
    """pass counts (iterations+1 x problems) of one arm in one seed: logit a + (GAIN + shift)(1 - e^-t/tau)."""
    t = np.arange(ITERATIONS + 1, dtype=float)
    g = (1 - np.exp(-t / (TAU_BINARY * speed)))[:, None]
    p = _sig(a[None, :] + (GAIN + seed_shift + inter[None, :]) * g)
    return rng.binomial(n, p) / n


def simulate_ratio(tau, seeds, reps, rng, rho_null=1.0, rho_power=0.5, b=400):
    P_, n, _ = BENCHES["MBPP"]
    a = math.log(0.045 / 0.955) + SPREAD * rng.standard_normal(P_)
    # seed shift of the gain so that the final pass@1 varies by ~tau points between seeds
    probe = [100 * _sig(a + GAIN + x).mean() for x in (-0.1, 0.1)]
    su = tau / ((probe[1] - probe[0]) / 0.2)
    steps = list(range(0, 100 * (ITERATIONS + 1), 100))
    stats = {"cover": 0, "null": 0, "null_run": 0, "power": 0, "within": 0, "within_null": 0, "mde": [], "est": []}

    def run(rho, same=False):
        tx, bx = {}, {}
        for s in range(seeds):
            shift_t, shift_b = su * rng.standard_normal(2)
            it_, ib_ = INTERACTION * rng.standard_normal(P_), INTERACTION * rng.standard_normal(P_)
            if same:   # this run's two arms learn alike: its own ratio is 1
                shift_b, ib_ = shift_t, it_
            tx[s] = (steps, _curves(a, n, rho, shift_t, rng, it_))
            bx[s] = (steps, _curves(a, n, 1.0, shift_b, rng, ib_))
        iv, _ = step_ratio_interval(tx, bx, b=b)
        return iv

    lo_tol, hi_tol = math.log(P.SAMPLE_EFFICIENCY_RATIO), math.log(P.TOLERANCE_RATIO_FACTOR)
    for _ in range(reps):
        iv = run(rho_null)
        stats["null"] += verdict(iv, -1) == REPRODUCED
        if seeds < 3:   # the run level: this run's own ratio is 1 when its two arms learn alike
            iv_run = run(rho_null, same=True)
            stats["null_run"] += verdict(iv_run, -1) == REPRODUCED
            stats["cover"] += iv_run.lo is not None and iv_run.lo <= math.log(rho_null) <= iv_run.hi
        else:
            stats["cover"] += iv.lo is not None and iv.lo <= math.log(rho_null) <= iv.hi
        iv = run(rho_power)
        stats["power"] += verdict(iv, -1) == REPRODUCED
        stats["within"] += tolerance_verdict(iv, lo_tol, hi_tol) == WITHIN
        if np.isfinite(iv.effect):
            stats["est"].append(math.exp(iv.effect))
        if iv.mde is not None:
            stats["mde"].append(math.exp(-iv.mde))
        iv = run(P.SAMPLE_EFFICIENCY_RATIO * P.TOLERANCE_RATIO_FACTOR)   # at the edge of the tolerance
        stats["within_null"] += tolerance_verdict(iv, lo_tol, hi_tol) == WITHIN
    return stats


# ------------------------------------------------------------------------------------------ the table
PROCEDURES = [
    # (procedure, claims it serves, bench, kind, null effect, power effect, options)
    ("direction (paired difference)", "pass1_rises, syntax_errors_fall, executable_share_rises, textual_beats_binary_final, "
     "textual_higher_over_iterations, good/bad/none, postprocess_*, regularization_protects_out_of_domain",
     "MBPP", "direction", 0.0, 5.0, {}),
    ("direction (paired difference)", "humaneval_pass10_improves, humaneval_pass100_improves, postprocess_training_beats_leti_*",
     "HumanEval", "direction", 0.0, 5.0, {}),
    ("non-inferiority, margin %.1f" % P.NONINFERIORITY_MARGIN, "no_out_of_domain_degradation, humaneval_pass1_not_worse",
     "GSM8K", "noninferiority", -P.NONINFERIORITY_MARGIN, 0.0, {}),
    ("degradation beyond the margin (control)", "no_regularization_degrades_control", "GSM8K", "degradation",
     -P.NONINFERIORITY_MARGIN, -7.88, {}),
    ("magnitude: within ±%g of 23.5" % P.TOLERANCE_POINTS, "pass1_rises (2B MBPP 4.50 -> 28.00) and every magnitude "
     "in points", "MBPP", "direction", 23.5 - P.TOLERANCE_POINTS, 23.5, {"target": 23.5, "tol": P.TOLERANCE_POINTS}),
    ("totals only (binomial / seed t)", "postprocess_training_cuts_nameerror, eae_* (approximate)", "MBPP", "direction",
     0.0, 5.0, {"totals": True}),
]


def _pct(k, reps):
    return f"{100 * k / reps:.1f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--ratio-reps", type=int, default=300)
    ap.add_argument("--seed", type=int, default=23)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "claims_sim.md"))
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    t0 = time.time()
    lines = [f"# Claims check: simulated coverage, false positives and power ({args.reps} runs per row, step ratio "
             f"{args.ratio_reps}; `python bench/claims_sim.py --reps {args.reps} --ratio-reps {args.ratio_reps}`)", "",
             "| procedure | benchmark | seeds | tau | level | coverage % | REPRODUCED at the null % (this run's effect null) "
             "| REPRODUCED at the null % (method's effect null) | power % (effect) | median MDE |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, claims, bench, kind, null, power, opts in PROCEDURES:
        for seeds in SEEDS:
            for tau in TAUS:
                s = simulate_difference(kind, bench, tau, seeds, args.reps, rng, null, power, **opts)
                level = "run" if seeds < 3 else "seeds"
                run_null = _pct(s["null_run"], args.reps) if seeds < 3 else "—"
                mde = f"{np.median(s['mde']):.2f} pts" if s["mde"] else "—"
                lines.append(f"| {name} | {bench} | {seeds} | {tau} | {level} | {_pct(s['cover'], args.reps)} | {run_null} "
                             f"| {_pct(s['null'], args.reps)} | {_pct(s['power'], args.reps)} ({power:+g} pts) | {mde} |")
                print(lines[-1], flush=True)
    for seeds in SEEDS:
        for tau in TAUS:
            s = simulate_ratio(tau, seeds, args.ratio_reps, rng)
            r = args.ratio_reps
            est = f"median estimate at 0.5: {np.median(s['est']):.2f}" if s["est"] else ""
            mde = f"ratio {np.median(s['mde']):.2f}" if s["mde"] else "—"
            lines.append(f"| step ratio at common levels (direction < 1) | MBPP, 6 iterations | {seeds} | {tau} | "
                         f"{'run' if seeds < 3 else 'seeds'} | {_pct(s['cover'], r)} | {_pct(s['null_run'], r) if seeds < 3 else '—'} "
                         f"| {_pct(s['null'], r)} (ratio 1) | {_pct(s['power'], r)} (ratio 0.5); within x/÷1.5 of 0.5: "
                         f"{_pct(s['within'], r)} at 0.5, {_pct(s['within_null'], r)} at 0.75; {est} | {mde} |")
            print(lines[-1], flush=True)
    lines += ["", f"{time.time() - t0:.0f} s on this machine (`nproc` = {os.cpu_count()}).", ""]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines))
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
