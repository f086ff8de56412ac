"""Sample efficiency: how many FCFT gradient steps textual feedback needs, relative to binary, to reach
the same pass@1 (the poster: 0.5x on 2B MBPP).

The statistic is the **step ratio at common levels**: both arms start from the same pre-trained model
(pass@1 `base` at step 0); `top` is the lower of the two arms' best pass@1; at the levels
base + f * (top - base), f in LEVELS, each arm's pass@1 curve (linear between its evaluated
checkpoints) is crossed for the first time at some step count, and the statistic is the geometric
mean over the levels of textual steps / binary steps. Both arms reach every level by construction,
so the ratio is always finite when both improve (an earlier statistic, "steps to reach binary's
best", was infinite whenever noise put binary's best above textual's curve); under curves of the
same shape, textual's steps scaled by rho, it equals rho at every level. Its behaviour (bias,
coverage, false positives, power) is simulated in bench/claims_sim.py (docs/claims.md).
"""
from __future__ import annotations

import numpy as np

LEVELS = (0.5, 0.75)  # lower levels fall in the first, most curved segment: more interpolation bias


def crossings(steps, curves: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """First step at which each curve reaches each level, linear between points (nan: never).

    `steps` (K,) increasing, `curves` (B, K), `levels` (B, L) -> (B, L). A curve already at the level
    at its first point crosses at that point's step."""
    steps = np.asarray(steps, dtype=float)
    c = np.asarray(curves, dtype=float)[:, None, :]          # B x 1 x K
    lv = np.asarray(levels, dtype=float)[:, :, None]         # B x L x 1
    reached = c >= lv                                       # B x L x K
    first = reached.argmax(axis=2)                          # B x L
    ok = reached.any(axis=2)
    k = np.maximum(first, 1)
    y0 = np.take_along_axis(c.repeat(lv.shape[1], axis=1), (k - 1)[..., None], axis=2)[..., 0]
    y1 = np.take_along_axis(c.repeat(lv.shape[1], axis=1), k[..., None], axis=2)[..., 0]
    x0, x1 = steps[k - 1], steps[k]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(y1 > y0, (lv[..., 0] - y0) / (y1 - y0), 1.0)
    x = x0 + np.clip(frac, 0.0, 1.0) * (x1 - x0)
    x = np.where(first == 0, steps[0], x)
    return np.where(ok, x, np.nan)


def log_step_ratio(steps_t, curve_t: np.ndarray, steps_b, curve_b: np.ndarray, levels=LEVELS) -> np.ndarray:
    """log(textual steps / binary steps) at common levels, geometric mean over `levels`, per row.

    `curve_*` (B, K_*) are pass@1 curves whose first point is the pre-trained model (step 0). Rows where
    an arm does not improve on the base, or a level is crossed at step 0, give nan."""
    ct, cb = np.atleast_2d(np.asarray(curve_t, float)), np.atleast_2d(np.asarray(curve_b, float))
    base = (ct[:, 0] + cb[:, 0]) / 2
    top = np.minimum(ct[:, 1:].max(axis=1), cb[:, 1:].max(axis=1))
    gain = top - base
    f = np.asarray(levels, dtype=float)
    lv = base[:, None] + f[None, :] * gain[:, None]
    xt, xb = crossings(steps_t, ct, lv), crossings(steps_b, cb, lv)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(xt) - np.log(xb)
    out = r.mean(axis=1)
    bad = (gain <= 0) | ~np.isfinite(out)
    return np.where(bad, np.nan, out)


RATIO_BOOTSTRAP_B = 1000


def step_ratio_interval(textual: dict, binary: dict, b: int = RATIO_BOOTSTRAP_B):
    """(Interval of log step ratio, reason or None) from per-seed curves.

    `textual[seed]` / `binary[seed]` = (steps, matrix points x problems of pass@1), the problems in the
    same order in both arms, the first point the pre-trained model. With >= SEED_LEVEL_MIN seeds: a t
    interval over the seeds' log ratios (the claim about the method). With fewer: a percentile bootstrap
    over problems, seeds fixed (this run); no interval below MIN_CLUSTERS problems or when more than
    2.5 % of the resamples show no gain."""
    from leti.report.stats import BOOTSTRAP_SEED, MIN_CLUSTERS, SEED_LEVEL_MIN, Interval, seed_t_interval

    seeds = sorted(set(textual) & set(binary))
    n_prob = min(textual[s][1].shape[1] for s in seeds)
    where = f"{n_prob} problems x {len(seeds)} seed(s)"
    logs = [float(log_step_ratio(textual[s][0], textual[s][1].mean(axis=1)[None],
                                 binary[s][0], binary[s][1].mean(axis=1)[None])[0]) for s in seeds]
    if any(not np.isfinite(v) for v in logs):
        return (Interval(float("nan"), None, None, f"no step ratio ({where})", n_prob, len(seeds)),
                "an arm does not improve on the pre-trained model in some seed: no common level to reach")
    levels = f"levels {list(LEVELS)} of the common gain"
    if len(seeds) >= SEED_LEVEL_MIN:
        iv = seed_t_interval(logs)
        return (Interval(iv.effect, iv.lo, iv.hi, f"{iv.method} of log(step ratio), {levels} ({n_prob} problems)",
                         n_prob, len(seeds), iv.se, iv.df, "seeds"), None)
    effect = float(np.mean(logs))
    if n_prob < MIN_CLUSTERS:
        return Interval(effect, None, None, f"no interval: {where}, fewer than {MIN_CLUSTERS} problems", n_prob,
                        len(seeds)), None
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    pick = rng.integers(0, n_prob, size=(b, n_prob))
    draws = np.mean([log_step_ratio(textual[s][0], textual[s][1][:, pick].mean(axis=2).T,
                                    binary[s][0], binary[s][1][:, pick].mean(axis=2).T) for s in seeds], axis=0)
    ok = np.isfinite(draws)
    method = f"bootstrap over problems of log(step ratio) ({where}; seeds fixed), {levels}, B={b}"
    if ok.mean() < 0.975:
        return Interval(effect, None, None, method + f": {100 * (1 - ok.mean()):.1f} % of resamples show no gain",
                        n_prob, len(seeds)), None
    lo, hi = np.percentile(draws[ok], [2.5, 97.5])
    return Interval(effect, float(lo), float(hi), method, n_prob, len(seeds), float(draws[ok].std(ddof=1)), None,
                    "run"), None
