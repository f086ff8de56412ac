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
