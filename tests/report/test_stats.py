"""The claims' intervals: problems are the resampling unit, with their seeds attached."""
from __future__ import annotations

import math

import numpy as np
import pytest

from leti.report.stats import (MIN_CLUSTERS, Interval, binomial_difference, cluster_bootstrap, naive_bootstrap, pass_at_k,
                               verdict)


def _one_problem_drives_it(n_problems=12, n_seeds=5):
    """Every seed: one problem gains 100 points, the rest nothing. The same problems recur in every
    seed, so there are 12 independent units, not 60: a resample misses that problem a third of the time."""
    return {s: {f"p{i}": (1.0 if i == 0 else 0.0) for i in range(n_problems)} for s in range(n_seeds)}


def test_naive_bootstrap_is_over_confident_where_the_cluster_bootstrap_is_not():
    diffs = _one_problem_drives_it()
    naive, cluster = naive_bootstrap(diffs), cluster_bootstrap(diffs)
    assert naive.effect == pytest.approx(cluster.effect) == pytest.approx(1 / 12)
    # the naive interval treats 60 cells as independent: narrower, and it excludes 0
    assert naive.lo > 0 and verdict(naive, +1) == "REPRODUCED"
    assert cluster.lo <= 0 <= cluster.hi and verdict(cluster, +1) == "INCONCLUSIVE"
    assert (cluster.hi - cluster.lo) > (naive.hi - naive.lo)
    assert cluster.n_units == 12 and cluster.n_seeds == 5


def test_a_consistent_effect_over_many_problems_is_reproduced():
    rng = np.random.default_rng(0)
    diffs = {s: {f"p{i}": 0.2 + 0.05 * rng.standard_normal() for i in range(40)} for s in range(2)}
    iv = cluster_bootstrap(diffs)
    assert iv.lo > 0.15 and verdict(iv, +1) == "REPRODUCED" and "two-level" in iv.method


def test_seeds_are_a_second_level():
    """Two seeds that disagree: resampling seeds widens the interval beyond the problem-only one."""
    diffs = {0: {f"p{i}": 0.3 for i in range(20)}, 1: {f"p{i}": -0.1 for i in range(20)}}
    two = cluster_bootstrap(diffs)
    one_seed = cluster_bootstrap({0: diffs[0]})
    assert two.lo < 0 < two.hi and one_seed.lo == one_seed.hi == pytest.approx(0.3)
    assert "seed-to-seed variation not covered" in one_seed.method


def test_too_few_problems_give_no_interval():
    diffs = {s: {f"p{i}": -0.5 for i in range(MIN_CLUSTERS - 4)} for s in range(3)}
    iv = cluster_bootstrap(diffs)
    assert iv.lo is None and verdict(iv, -1) == "INCONCLUSIVE" and "fewer than" in iv.method


def test_binomial_fallback_uses_problems_not_samples():
    # 10 problems x 100 samples: as if 1000 independent samples the interval would be ~10x narrower
    iv = binomial_difference([[(600, 1000, 500, 1000, 10)]])
    naive_half = 1.96 * math.sqrt(0.6 * 0.4 / 1000 + 0.5 * 0.5 / 1000)
    assert (iv.hi - iv.lo) / 2 > 5 * naive_half and iv.n_units == 10


def test_equivalence_verdict():
    inside = Interval(0.5, -2.0, 3.0, "", 50)
    assert verdict(inside, +1, margin=5.0) == "REPRODUCED"
    assert verdict(Interval(-8, -12.0, -6.0, "", 50), +1, margin=5.0) == "NOT REPRODUCED"
    assert verdict(Interval(-4, -7.0, -1.0, "", 50), +1, margin=5.0) == "INCONCLUSIVE"


@pytest.mark.parametrize("n, c, k, expected", [(10, 0, 1, 0.0), (10, 10, 5, 1.0), (10, 5, 1, 0.5), (4, 1, 10, None)])
def test_pass_at_k(n, c, k, expected):
    assert pass_at_k(n, c, k) == (pytest.approx(expected) if expected is not None else None)
