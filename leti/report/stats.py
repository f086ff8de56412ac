"""Seed aggregates and the confidence intervals of the claims check (deterministic)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_SEED = 20230517
BOOTSTRAP_B = 2000
Z975 = 1.959964
# two-sided 95% Student t quantiles, df = 1..30
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042]


def t975(df: int) -> float:
    return _T975[df - 1] if 1 <= df <= 30 else Z975


@dataclass(frozen=True)
class Stat:
    """Mean and spread over seeds of one quantity."""
    mean: float
    sd: float | None   # sample standard deviation (None with one seed)
    n: int

    @staticmethod
    def of(values) -> "Stat | None":
        vals = [float(v) for v in values if v is not None]
        if not vals:
            return None
        mean = math.fsum(vals) / len(vals)
        sd = math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else None
        return Stat(mean, sd, len(vals))


@dataclass(frozen=True)
class Interval:
    effect: float
    lo: float | None
    hi: float | None
    method: str
    n_units: int


def paired_bootstrap(diffs: list[float], seed: int = BOOTSTRAP_SEED, b: int = BOOTSTRAP_B) -> Interval:
    """Percentile CI of the mean of paired differences, resampling units with replacement."""
    d = np.asarray(diffs, dtype=float)
    effect = float(d.mean())
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(b, len(d)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return Interval(effect, float(lo), float(hi), f"paired bootstrap over (seed, problem) units, B={b}", len(d))


def binomial_difference(pairs: list[list[tuple[int, int, int, int]]]) -> Interval:
    """Mean over seeds of the difference of two proportions, with an Agresti-Caffo Wald interval.

    `pairs[s]` lists (kX, nX, kY, nY) for seed s; the seed's effect is the mean over its entries of
    kX/nX - kY/nY. Samples are treated as independent (problem clustering and pairing ignored)."""
    effects, var = [], 0.0
    for entries in pairs:
        e, v = 0.0, 0.0
        for kx, nx, ky, ny in entries:
            e += kx / nx - ky / ny
            px, py = (kx + 1) / (nx + 2), (ky + 1) / (ny + 2)
            v += px * (1 - px) / (nx + 2) + py * (1 - py) / (ny + 2)
        effects.append(e / len(entries))
        var += v / len(entries) ** 2
    s = len(effects)
    effect = math.fsum(effects) / s
    half = Z975 * math.sqrt(var) / s
    return Interval(effect, effect - half, effect + half,
                    "binomial (Agresti-Caffo) over samples; no per-problem data, pairing ignored", s)


def seed_t_interval(diffs: list[float]) -> Interval:
    """Student t interval over per-seed paired differences; no interval with one seed."""
    n = len(diffs)
    mean = math.fsum(diffs) / n
    if n < 2:
        return Interval(mean, None, None, "one seed: no interval (needs >= 2 seeds)", n)
    sd = math.sqrt(math.fsum((d - mean) ** 2 for d in diffs) / (n - 1))
    half = t975(n - 1) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, f"t interval over {n} seeds (paired)", n)


def verdict(iv: Interval | None, direction: int) -> str:
    """REPRODUCED when the 95% CI excludes 0 in the claimed direction, NOT REPRODUCED when it
    excludes 0 in the opposite one, else INCONCLUSIVE."""
    if iv is None or iv.lo is None or iv.hi is None:
        return "INCONCLUSIVE"
    lo, hi = (iv.lo, iv.hi) if direction > 0 else (-iv.hi, -iv.lo)
    if lo > 0:
        return "REPRODUCED"
    if hi < 0:
        return "NOT REPRODUCED"
    return "INCONCLUSIVE"


def pearson(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 3:
        return None
    x, y = np.asarray(xs, float), np.asarray(ys, float)
    if x.std() == 0 or y.std() == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])
