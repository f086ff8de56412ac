"""Seed aggregates and the confidence intervals of the claims check (deterministic)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_SEED = 20230517
BOOTSTRAP_B = 2000
Z975 = 1.959964
# A percentile bootstrap over fewer clusters than this under-covers badly: no verdict from it.
MIN_CLUSTERS = 10
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
    n_units: int        # problems (clusters), or seeds for seed-level intervals
    n_seeds: int = 1


def _percentile(means: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def cluster_bootstrap(diffs: dict[int, dict[str, float]], seed: int = BOOTSTRAP_SEED, b: int = BOOTSTRAP_B,
                      stat=None) -> Interval:
    """Percentile CI of a paired difference with the problem as the resampling unit.

    `diffs[seed][problem]` is one problem's paired difference in one seed. The same problems recur
    in every seed, so a problem is resampled with all its seeds attached (a cluster); with two or
    more seeds the seeds are resampled too (a second level), so the interval carries seed-to-seed
    variation as well. The point estimate is the mean over seeds of the mean over problems. With
    fewer than MIN_CLUSTERS problems no interval is given (the percentile bootstrap under-covers)."""
    seeds = sorted(diffs)
    problems = sorted(set.intersection(*(set(diffs[s]) for s in seeds))) if seeds else []
    if not problems:
        return Interval(float("nan"), None, None, "no problem is shared by every seed", 0, len(seeds))
    m = np.array([[diffs[s][p] for p in problems] for s in seeds], dtype=float)  # seeds x problems
    effect = float(m.mean())
    where = f"{len(problems)} problems x {len(seeds)} seed(s)"
    if len(problems) < MIN_CLUSTERS:
        return Interval(effect, None, None, f"no interval: {where}, fewer than {MIN_CLUSTERS} problems", len(problems),
                        len(seeds))
    rng = np.random.default_rng(seed)
    pi = rng.integers(0, len(problems), size=(b, len(problems)))
    if len(seeds) >= 2:
        si = rng.integers(0, len(seeds), size=(b, len(seeds)))
        means = np.array([m[np.ix_(si[k], pi[k])].mean() for k in range(b)])
        how = f"two-level cluster bootstrap ({where}: problems resampled with their seeds, seeds resampled)"
    else:
        means = m[0][pi].mean(axis=1)
        how = f"cluster bootstrap over problems ({where}: seed-to-seed variation not covered)"
    lo, hi = _percentile(means)
    return Interval(effect, lo, hi, f"{how}, B={b}", len(problems), len(seeds))


def naive_bootstrap(diffs: dict[int, dict[str, float]], seed: int = BOOTSTRAP_SEED, b: int = BOOTSTRAP_B) -> Interval:
    """(seed, problem) cells resampled as if independent: kept only to show what the cluster bootstrap corrects."""
    d = np.array([v for s in sorted(diffs) for _, v in sorted(diffs[s].items())], dtype=float)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(b, len(d)))].mean(axis=1)
    lo, hi = _percentile(means)
    return Interval(float(d.mean()), lo, hi, f"naive bootstrap over (seed, problem) cells, B={b}", len(d), len(diffs))


def binomial_difference(pairs: list[list[tuple[int, int, int, int, int]]]) -> Interval:
    """Mean over seeds of the difference of two proportions, Agresti-Caffo interval, when only totals exist.

    `pairs[s]` lists (kX, nX, kY, nY, n_problems) for seed s. Samples of one problem are not
    independent, so each proportion's variance uses the number of problems as its sample size (a
    conservative design effect of n_samples / n_problems), not the number of samples."""
    effects, var = [], 0.0
    for entries in pairs:
        e, v = 0.0, 0.0
        for kx, nx, ky, ny, n_prob in entries:
            e += kx / nx - ky / ny
            px, py = (kx + 1) / (nx + 2), (ky + 1) / (ny + 2)
            v += px * (1 - px) / (n_prob + 2) + py * (1 - py) / (n_prob + 2)
        effects.append(e / len(entries))
        var += v / len(entries) ** 2
    s = len(effects)
    effect = math.fsum(effects) / s
    half = Z975 * math.sqrt(var) / s
    n_prob = min(x[4] for entries in pairs for x in entries)
    return Interval(effect, effect - half, effect + half,
                    "binomial (Agresti-Caffo) from totals, problems as the sample size (no per-problem data)",
                    n_prob, s)


def seed_t_interval(diffs: list[float]) -> Interval:
    """Student t interval over per-seed paired differences; no interval with one seed."""
    n = len(diffs)
    mean = math.fsum(diffs) / n
    if n < 2:
        return Interval(mean, None, None, "one seed: no interval (needs >= 2 seeds)", n, n)
    sd = math.sqrt(math.fsum((d - mean) ** 2 for d in diffs) / (n - 1))
    half = t975(n - 1) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, f"t interval over {n} seeds (paired)", n, n)


def verdict(iv: Interval | None, direction: int, margin: float | None = None) -> str:
    """Directional claims: REPRODUCED when the 95% CI excludes 0 in the claimed direction, NOT
    REPRODUCED when it excludes 0 in the opposite one, else INCONCLUSIVE. Equivalence claims
    ("no degradation", `margin` m): REPRODUCED when the CI lies inside [-m, m], NOT REPRODUCED when it
    lies wholly below -m, else INCONCLUSIVE."""
    if iv is None or iv.lo is None or iv.hi is None:
        return "INCONCLUSIVE"
    if margin is not None:
        if -margin <= iv.lo and iv.hi <= margin:
            return "REPRODUCED"
        return "NOT REPRODUCED" if iv.hi < -margin else "INCONCLUSIVE"
    lo, hi = (iv.lo, iv.hi) if direction > 0 else (-iv.hi, -iv.lo)
    if lo > 0:
        return "REPRODUCED"
    if hi < 0:
        return "NOT REPRODUCED"
    return "INCONCLUSIVE"


def pass_at_k(n: int, c: int, k: int) -> float | None:
    """Unbiased pass@k of one problem (1 - C(n-c, k) / C(n, k)); None when n < k."""
    if n < k:
        return None
    if n - c < k:
        return 1.0
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def pearson(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 3:
        return None
    x, y = np.asarray(xs, float), np.asarray(ys, float)
    if x.std() == 0 or y.std() == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])
