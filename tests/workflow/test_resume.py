"""Resuming after a crash (README): the CI preset killed with kill -9 (Snakemake's whole process
group) at a random moment, then the same command with --rerun-incomplete, gives the results of an
uninterrupted run (the session's shared CI-preset run, tests/ci_preset.py), except timing fields."""
from __future__ import annotations

import os
import random
import signal
import subprocess

import pytest
from ci_preset import command, env, results_snapshot
from conftest import data_root

pytestmark = pytest.mark.slow


def test_kill_9_then_resume_gives_the_uninterrupted_results(ci_preset_run, tmp_path):
    warm, took = ci_preset_run.warm, ci_preset_run.took
    crashed = tmp_path / "crashed"

    seed = int(os.environ.get("LETI_KILL_SEED", random.randrange(10**6)))
    kill_at = random.Random(seed).uniform(3, 0.8 * took)
    proc = subprocess.Popen(command(crashed, data_root()), env=env(warm), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        proc.wait(timeout=kill_at)
        pytest.fail(f"the run ended before the kill at {kill_at:.0f}s (seed {seed})")
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    print(f"killed at {kill_at:.0f}s of {took:.0f}s (LETI_KILL_SEED={seed})")
    assert list((crashed / ".snakemake" / "locks").glob("*.lock")), "no lock was left: nothing to recover"

    # the README's way to resume: the same command with --rerun-incomplete
    r = subprocess.run(command(crashed, data_root()) + ["--rerun-incomplete"], env=env(warm), capture_output=True, text=True,
                       timeout=1200)
    assert r.returncode == 0, (seed, r.stderr[-4000:])
    assert "removed Snakemake's stale locks" in r.stderr, r.stderr[:3000]
    assert not list((crashed / ".snakemake" / "leti-owners").glob("*.json"))
    assert not list(crashed.rglob("*.partial")) and not list(crashed.rglob("*.tmp*")), "half-written files left"

    want, got = ci_preset_run.results, results_snapshot(crashed)
    assert want.keys() == got.keys(), (seed, sorted(set(want) ^ set(got)))
    differ = [k for k in want if want[k] != got[k]]
    assert not differ, (seed, differ[:10])
