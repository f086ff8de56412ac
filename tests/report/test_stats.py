"""The claims' intervals: problems are the resampling unit, with their seeds attached."""
from __future__ import annotations

import math

import numpy as np
import pytest

from leti.report.stats import (MIN_CLUSTERS, OUTSIDE, WITHIN, Interval, at_floor, binomial_difference, cluster_bootstrap,
                               degradation_verdict, level_text, naive_bootstrap, paired_interval, pass_at_k,
                               problem_t_interval, seed_t_interval, t80, t975, tolerance_verdict, verdict)


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


def test_noninferiority_verdict():
    """"No degradation" is one-sided: any improvement passes (a +8 result was never REPRODUCED under the
    old +-5 equivalence test), a drop must be shown smaller than the margin."""
    assert verdict(Interval(0.5, -2.0, 3.0, "", 50), +1, margin=5.0) == "REPRODUCED"
    assert verdict(Interval(8, 6.0, 10.0, "", 50), +1, margin=5.0) == "REPRODUCED"
    assert verdict(Interval(-8, -12.0, -6.0, "", 50), +1, margin=5.0) == "NOT REPRODUCED"
    assert verdict(Interval(-4, -7.0, -1.0, "", 50), +1, margin=5.0) == "INCONCLUSIVE"
    # the control arm through the same test: its claim is the degradation
    assert degradation_verdict(Interval(-8, -12.0, -6.0, "", 50), 5.0) == "REPRODUCED"
    assert degradation_verdict(Interval(0.5, -2.0, 3.0, "", 50), 5.0) == "NOT REPRODUCED"
    assert degradation_verdict(Interval(-4, -7.0, -1.0, "", 50), 5.0) == "INCONCLUSIVE"


def test_tolerance_verdict_is_two_one_sided_tests():
    assert tolerance_verdict(Interval(24, 22.0, 26.0, "", 500), 23.5, 5.0) == WITHIN
    assert tolerance_verdict(Interval(10, 8.0, 12.0, "", 500), 23.5, 5.0) == OUTSIDE
    assert tolerance_verdict(Interval(20, 14.0, 26.0, "", 500), 23.5, 5.0) == "INCONCLUSIVE"  # too wide to say
    assert tolerance_verdict(Interval(20, None, None, "", 5), 23.5, 5.0) == "INCONCLUSIVE"


def test_floor_and_ceiling():
    assert at_floor([0.0, 0.004]) == "floor" and at_floor([0.995, 1.0]) == "ceiling"
    assert at_floor([0.0, 0.2]) is None and at_floor([None]) is None


def test_t_quantiles():
    assert t975(2) == 4.303 and t975(None) == pytest.approx(1.959964)
    assert t975(40) == pytest.approx(2.0211, abs=2e-4) and t975(120) == pytest.approx(1.9799, abs=2e-4)
    assert t80(1) == 1.376 and t80(60) == pytest.approx(0.8477, abs=2e-4)


def test_levels_follow_the_number_of_seeds():
    rng = np.random.default_rng(1)
    def diffs(seeds):
        return {s: {f"p{i}": 0.1 + 0.3 * rng.standard_normal() for i in range(200)} for s in range(seeds)}
    one, two, three = problem_t_interval(diffs(1)), paired_interval(diffs(2)), paired_interval(diffs(3))
    assert (one.level, one.df, one.n_units) == ("run", 199, 200)
    assert two.level == "run" and two.n_seeds == 2
    assert (three.level, three.df, three.n_units, three.n_seeds) == ("seeds", 2, 200, 3)
    assert level_text("run", 1) == "this run" and level_text("run", 2) == "these 2 runs"
    assert level_text("seeds", 3) == "over 3 seeds"


def test_seed_level_interval_covers_seed_to_seed_variation():
    """Three seeds that agree on the problems but not on the effect: the problem-level interval is narrow
    and excludes 0, the seed-level one (the claim about the method) does not."""
    d = {s: {f"p{i}": eff for i in range(300)} for s, eff in enumerate((0.06, -0.01, 0.02))}
    rng = np.random.default_rng(0)
    d = {s: {p: v + 0.2 * rng.standard_normal() for p, v in ps.items()} for s, ps in d.items()}
    assert verdict(problem_t_interval(d), +1) == "REPRODUCED"
    seed = paired_interval(d)
    assert seed.level == "seeds" and verdict(seed, +1) == "INCONCLUSIVE"
    means = [np.mean(list(d[s].values())) for s in range(3)]
    ref = seed_t_interval(means)
    assert (seed.lo, seed.hi) == pytest.approx((ref.lo, ref.hi))


def test_mde_and_power():
    iv = Interval(0.0, -1.96, 1.96, "", 500, se=1.0, df=None)
    assert iv.mde == pytest.approx(1.959964 + 0.841621)
    assert iv.power(iv.mde) == pytest.approx(0.80, abs=1e-3) and iv.power(0.0) == pytest.approx(0.025, abs=1e-3)
    t = seed_t_interval([1.0, 2.0, 3.0])
    assert t.mde == pytest.approx((4.303 + 1.061) * 1.0 / math.sqrt(3))
    assert Interval(0, None, None, "", 3).mde is None


@pytest.mark.parametrize("n, c, k, expected", [(10, 0, 1, 0.0), (10, 10, 5, 1.0), (10, 5, 1, 0.5), (4, 1, 10, None)])
def test_pass_at_k(n, c, k, expected):
    assert pass_at_k(n, c, k) == (pytest.approx(expected) if expected is not None else None)
