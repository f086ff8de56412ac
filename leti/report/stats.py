"""Seed aggregates, the intervals of the claims check and its decision rules (deterministic).

Two levels of inference, chosen by the number of seeds (`level_for`):

- **seeds** (>= SEED_LEVEL_MIN seeds): the seed is the replication unit of a claim about the method.
  Each seed gives one paired difference (the mean over problems of X - Y); a Student t interval over
  those differences covers training randomness as well as which samples were drawn
  (`seed_t_interval`).
- **run** (fewer seeds): what this run (these runs) can say. The problem is the unit: each
  problem's paired difference, averaged over the seeds, and a t interval over problems
  (`problem_t_interval`). Seed-to-seed variation is not covered, so a verdict at this level is about
  this run ("REPRODUCED (this run)"), never about the method.

Every interval carries its standard error and degrees of freedom, so each claim also reports its
minimal detectable effect (80 % power at the one-sided 2.5 % level: `Interval.mde`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_SEED = 20230517
BOOTSTRAP_B = 2000
Z975 = 1.959964
Z80 = 0.841621
# A t interval (or a percentile bootstrap) over fewer problems than this is unreliable: no interval.
MIN_CLUSTERS = 10
# Seeds needed before a claim is judged at the seed level (a claim about the method).
SEED_LEVEL_MIN = 3
# Student t quantiles, df = 1..30: two-sided 95 % (0.975) and 80 % power (0.80)
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042]
_T80 = [1.376, 1.061, 0.978, 0.941, 0.920, 0.906, 0.896, 0.889, 0.883, 0.879, 0.876, 0.873, 0.870, 0.868,
        0.866, 0.865, 0.863, 0.862, 0.861, 0.860, 0.859, 0.858, 0.858, 0.857, 0.856, 0.856, 0.855, 0.855,
        0.854, 0.854]

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_TESTED = "REPRODUCED", "NOT REPRODUCED", "INCONCLUSIVE", "NOT TESTED"
WITHIN, OUTSIDE = "WITHIN TOLERANCE", "OUTSIDE TOLERANCE"


def _t_quantile(z: float, table: list[float], df: float | None) -> float:
    """Student t quantile: the table up to df 30, a Cornish-Fisher expansion above (error < 1e-4), z without df."""
    if df is None or math.isinf(df):
        return z
    d = int(df)
    if d < 1:
        return float("nan")
    if d <= 30:
        return table[d - 1]
    return (z + (z ** 3 + z) / (4 * d) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * d ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * d ** 3))


def t975(df: float | None) -> float:
    return _t_quantile(Z975, _T975, df)


def t80(df: float | None) -> float:
    return _t_quantile(Z80, _T80, df)


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


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
    n_units: int        # problems, or seeds for seed-level intervals
    n_seeds: int = 1
    se: float | None = None     # standard error of `effect` (None: not available)
    df: float | None = None     # degrees of freedom of the interval (None: normal)
    level: str = "run"          # "run": about this run (these runs); "seeds": about the method

    @property
    def mde(self) -> float | None:
        """Minimal detectable effect: the true effect this procedure finds (one-sided 2.5 %) with 80 % power."""
        if self.se is None or self.lo is None:
            return None
        return (t975(self.df) + t80(self.df)) * self.se

    def power(self, effect: float) -> float | None:
        """Approximate power to declare an effect of this size in its direction (normal approximation)."""
        if self.se is None or self.lo is None:
            return None
        if self.se == 0:
            return 1.0 if effect != 0 else 0.0
        return normal_cdf(abs(effect) / self.se - t975(self.df))

    def shifted(self, by: float) -> "Interval":
        """The same interval for (effect - by): a difference from a reference value."""
        return Interval(self.effect - by, None if self.lo is None else self.lo - by,
                        None if self.hi is None else self.hi - by, self.method, self.n_units, self.n_seeds, self.se,
                        self.df, self.level)


def level_for(n_seeds: int) -> str:
    return "seeds" if n_seeds >= SEED_LEVEL_MIN else "run"


def level_text(level: str, n_seeds: int) -> str:
    """What a verdict is about, as its verdict column says it."""
    if level == "seeds":
        return f"over {n_seeds} seeds"
    return "this run" if n_seeds <= 1 else f"these {n_seeds} runs"


# ------------------------------------------------------------------------------------------- intervals
def _t_interval(values, method: str, level: str, n_seeds: int) -> Interval:
    d = np.asarray(values, dtype=float)
    n = len(d)
    mean = float(d.mean())
    if n < 2:
        return Interval(mean, None, None, method + ": one unit, no interval", n, n_seeds, level=level)
    se = float(d.std(ddof=1)) / math.sqrt(n)
    half = t975(n - 1) * se
    return Interval(mean, mean - half, mean + half, method, n, n_seeds, se, n - 1, level)


def seed_t_interval(diffs) -> Interval:
    """Student t interval over per-seed paired differences (the seed-level interval); none with one seed."""
    diffs = [float(x) for x in diffs]
    n = len(diffs)
    if n < 2:
        return Interval(math.fsum(diffs) / max(n, 1), None, None, "one seed: no seed-level interval (needs >= 2 seeds)",
                        n, n, level="run")
    return _t_interval(diffs, f"paired t interval over {n} seeds", "seeds", n)


def problem_t_interval(diffs: dict[int, dict[str, float]]) -> Interval:
    """Paired t interval over problems (the run-level interval): each problem's difference averaged over
    the seeds given, then a t interval over problems. Seeds are fixed, not sampled: the interval covers
    which samples were drawn on these problems in this run, not training randomness. None with fewer
    than MIN_CLUSTERS problems."""
    seeds = sorted(diffs)
    problems = sorted(set.intersection(*(set(diffs[s]) for s in seeds))) if seeds else []
    if not problems:
        return Interval(float("nan"), None, None, "no problem is shared by every seed", 0, len(seeds))
    m = np.array([[diffs[s][p] for p in problems] for s in seeds], dtype=float)
    per_problem = m.mean(axis=0)
    where = f"{len(problems)} problems x {len(seeds)} seed(s)"
    if len(problems) < MIN_CLUSTERS:
        return Interval(float(per_problem.mean()), None, None,
                        f"no interval: {where}, fewer than {MIN_CLUSTERS} problems", len(problems), len(seeds))
    iv = _t_interval(per_problem, f"paired t interval over problems ({where}; seeds fixed)", "run", len(seeds))
    return Interval(iv.effect, iv.lo, iv.hi, iv.method, len(problems), len(seeds), iv.se, iv.df, "run")


def paired_interval(diffs: dict[int, dict[str, float]]) -> Interval:
    """The interval of a paired per-problem difference at the level the number of seeds allows:
    `seed_t_interval` of the per-seed means with >= SEED_LEVEL_MIN seeds, else `problem_t_interval`."""
    seeds = sorted(diffs)
    if len(seeds) >= SEED_LEVEL_MIN:
        problems = sorted(set.intersection(*(set(diffs[s]) for s in seeds)))
        if not problems:
            return Interval(float("nan"), None, None, "no problem is shared by every seed", 0, len(seeds))
        iv = seed_t_interval([np.mean([diffs[s][p] for p in problems]) for s in seeds])
        return Interval(iv.effect, iv.lo, iv.hi, f"{iv.method} (each the mean over {len(problems)} problems)",
                        len(problems), len(seeds), iv.se, iv.df, "seeds")
    return problem_t_interval(diffs)


def _percentile(means: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def cluster_bootstrap(diffs: dict[int, dict[str, float]], seed: int = BOOTSTRAP_SEED, b: int = BOOTSTRAP_B,
                      stat=None) -> Interval:
    """Percentile CI of a paired difference with the problem as the resampling unit (kept to show, in
    tests, what a two-level bootstrap over few seeds does; the claims use `paired_interval`).

    `diffs[seed][problem]` is one problem's paired difference in one seed. A problem is resampled with
    all its seeds attached (a cluster); with two or more seeds the seeds are resampled too (a second
    level). With fewer than MIN_CLUSTERS problems no interval is given."""
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
    return Interval(effect, lo, hi, f"{how}, B={b}", len(problems), len(seeds), float(means.std(ddof=1)))


def naive_bootstrap(diffs: dict[int, dict[str, float]], seed: int = BOOTSTRAP_SEED, b: int = BOOTSTRAP_B) -> Interval:
    """(seed, problem) cells resampled as if independent: kept only to show what the cluster bootstrap corrects."""
    d = np.array([v for s in sorted(diffs) for _, v in sorted(diffs[s].items())], dtype=float)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(b, len(d)))].mean(axis=1)
    lo, hi = _percentile(means)
    return Interval(float(d.mean()), lo, hi, f"naive bootstrap over (seed, problem) cells, B={b}", len(d), len(diffs))


def binomial_difference(pairs: list[list[tuple[int, int, int, int, int]]]) -> Interval:
    """Mean over seeds of the difference of two proportions, Agresti-Caffo interval, when only totals exist
    (a run-level interval).

    `pairs[s]` lists (kX, nX, kY, nY, n_problems) for seed s. Samples of one problem are not
    independent, so each proportion's variance uses the number of problems as its sample size (a
    conservative design effect of n_samples / n_problems), not the number of samples."""
    effects, var = [], 0.0
    for entries in pairs:
        e, v = 0.0, 0.0
        for kx, nx, ky, ny, n_prob in entries:
            e += (kx / nx if nx else 0.0) - (ky / ny if ny else 0.0)  # 0/0 (no prediction): 0, as the metric
            px, py = (kx + 1) / (nx + 2), (ky + 1) / (ny + 2)
            v += px * (1 - px) / (n_prob + 2) + py * (1 - py) / (n_prob + 2)
        effects.append(e / len(entries))
        var += v / len(entries) ** 2
    s = len(effects)
    effect = math.fsum(effects) / s
    se = math.sqrt(var) / s
    half = Z975 * se
    n_prob = min(x[4] for entries in pairs for x in entries)
    return Interval(effect, effect - half, effect + half,
                    "binomial (Agresti-Caffo) from totals, problems as the sample size (no per-problem data; seeds fixed)",
                    n_prob, s, se, None, "run")


# ------------------------------------------------------------------------------------------- decisions
def verdict(iv: Interval | None, direction: int, margin: float | None = None) -> str:
    """The outcome of a claim's test on a 95 % interval (each side a one-sided 2.5 % test).

    Directional claims (`margin` None): REPRODUCED when the interval excludes 0 in the claimed
    direction, NOT REPRODUCED when it excludes 0 in the opposite one, else INCONCLUSIVE.
    Non-inferiority ("no degradation", margin m > 0, effect = X - Y): REPRODUCED when the lower bound
    lies above -m (any degradation is smaller than m), NOT REPRODUCED when the upper bound lies below -m
    (a degradation larger than m is shown), else INCONCLUSIVE. An improvement of any size passes."""
    if iv is None or iv.lo is None or iv.hi is None:
        return INCONCLUSIVE
    lo, hi = (iv.lo, iv.hi) if direction > 0 else (-iv.hi, -iv.lo)
    if margin is not None:
        if lo > -margin:
            return REPRODUCED
        return NOT_REPRODUCED if hi < -margin else INCONCLUSIVE
    if lo > 0:
        return REPRODUCED
    if hi < 0:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def degradation_verdict(iv: Interval | None, margin: float) -> str:
    """The same non-inferiority test read for a claim that a degradation *larger* than `margin` happens
    (the control arm): REPRODUCED when the upper bound lies below -margin, NOT REPRODUCED when the
    lower bound lies above -margin, else INCONCLUSIVE."""
    v = verdict(iv, +1, margin)
    return {REPRODUCED: NOT_REPRODUCED, NOT_REPRODUCED: REPRODUCED}.get(v, v)


def tolerance_verdict(iv: Interval | None, target: float, tol: float) -> str:
    """Is the effect within +-tol of a published value? WITHIN TOLERANCE when the whole 95 % interval of
    (effect - target) lies inside [-tol, tol] (two one-sided tests), OUTSIDE TOLERANCE when it lies
    wholly outside, else INCONCLUSIVE."""
    if iv is None or iv.lo is None or iv.hi is None:
        return INCONCLUSIVE
    lo, hi = iv.lo - target, iv.hi - target
    if -tol <= lo and hi <= tol:
        return WITHIN
    if hi < -tol or lo > tol:
        return OUTSIDE
    return INCONCLUSIVE


def at_floor(means, floor: float = 0.01) -> str | None:
    """"floor" / "ceiling" when every compared mean (proportions) sits within `floor` of 0 / of 1."""
    vals = [float(v) for v in means if v is not None]
    if not vals:
        return None
    if max(vals) <= floor:
        return "floor"
    if min(vals) >= 1 - floor:
        return "ceiling"
    return None


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
