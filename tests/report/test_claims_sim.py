"""Smoke test of bench/claims_sim.py (the full simulation, 1000 runs a row, is a bench: docs/claims.md):
few runs, loose bounds, the same code paths."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SIM = Path(__file__).parents[2] / "bench" / "claims_sim.py"


def _sim():
    spec = importlib.util.spec_from_file_location("claims_sim", SIM)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["claims_sim"] = mod   # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_seed_level_direction_keeps_false_positives_low_and_covers(tmp_path):
    import numpy as np

    sim = _sim()
    reps = 150
    s = sim.simulate_difference("direction", "HumanEval", 5.3, 3, reps, np.random.default_rng(1), 0.0, 10.0)
    assert s["null"] / reps <= 0.08          # nominal 2.5 % (one-sided)
    assert s["cover"] / reps >= 0.88
    one = sim.simulate_difference("direction", "HumanEval", 5.3, 1, reps, np.random.default_rng(2), 0.0, 10.0)
    assert one["null_run"] / reps <= 0.08     # about this run: right when this run's effect is null
    assert one["null"] / reps >= 0.15         # read as a claim about the method, one seed misleads: hence "(this run)"


def test_noninferiority_holds_its_size_at_the_margin():
    import numpy as np

    sim = _sim()
    reps = 150
    s = sim.simulate_difference("noninferiority", "MBPP", 1.7, 3, reps, np.random.default_rng(3),
                                -sim.P.NONINFERIORITY_MARGIN, 0.0)
    assert s["null"] / reps <= 0.08 and s["power"] / reps >= 0.2


def test_step_ratio_answers():
    import numpy as np

    sim = _sim()
    s = sim.simulate_ratio(1.7, 3, 25, np.random.default_rng(4), b=100)
    assert s["null"] <= 3 and s["power"] >= 20
    assert 0.4 <= float(np.median(s["est"])) <= 0.65   # a true 0.5 reads about 0.5
