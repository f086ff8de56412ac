"""Resuming after a crash (README): the CI preset killed with kill -9 (Snakemake's whole process
group) at a random moment, then the same command with --rerun-incomplete, gives the results of an
uninterrupted run, except timing fields."""
from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import data_root

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
CI = str(REPO / "presets" / "ci.yaml")
# fields that measure time (or where it ran), not the experiment
TIMING = re.compile(r"(^|_)(elapsed|seconds|time|timestamp|date|started|finished|duration|wall|host|pid|created)(_s)?$"
                    r"|_s$|^t$", re.I)


def _command(d: Path) -> list[str]:
    return [SNAKEMAKE, "--configfile", CI, "--cores", "2", "--directory", str(d), "--config", f"data_root={data_root()}"]


def _env(warm: Path) -> dict:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "LETI_WARM_DIR": str(warm)}


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if not TIMING.search(k)}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _results(d: Path) -> dict:
    out = {}
    root = d / "work-ci" / "results"
    for p in sorted(root.rglob("*")):
        if not p.is_file() or "report" in p.relative_to(root).parts[:1]:
            continue
        text = p.read_text(errors="replace")
        if p.suffix == ".json":
            out[str(p.relative_to(root))] = _strip(json.loads(text))
        elif p.suffix == ".csv":
            rows = list(csv.DictReader(io.StringIO(text)))
            out[str(p.relative_to(root))] = [_strip(r) for r in rows]
        else:
            out[str(p.relative_to(root))] = text
    return out


def test_kill_9_then_resume_gives_the_uninterrupted_results(tmp_path):
    if not (data_root() / "mbpp").exists():
        pytest.skip(f"benchmark data not found under {data_root()} (set LETI_DATA_ROOT)")
    warm = tmp_path / "warm"
    warm.mkdir(mode=0o700)
    ref, crashed = tmp_path / "ref", tmp_path / "crashed"
    t0 = time.monotonic()
    r = subprocess.run(_command(ref), env=_env(warm), capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stderr[-3000:]
    took = time.monotonic() - t0

    seed = int(os.environ.get("LETI_KILL_SEED", random.randrange(10**6)))
    kill_at = random.Random(seed).uniform(3, 0.8 * took)
    proc = subprocess.Popen(_command(crashed), env=_env(warm), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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
    r = subprocess.run(_command(crashed) + ["--rerun-incomplete"], env=_env(warm), capture_output=True, text=True,
                       timeout=1200)
    assert r.returncode == 0, (seed, r.stderr[-4000:])
    assert "removed Snakemake's stale locks" in r.stderr, r.stderr[:3000]
    assert not list((crashed / ".snakemake" / "leti-owners").glob("*.json"))
    assert not list(crashed.rglob("*.partial")) and not list(crashed.rglob("*.tmp*")), "half-written files left"

    want, got = _results(ref), _results(crashed)
    assert want.keys() == got.keys(), (seed, sorted(set(want) ^ set(got)))
    differ = [k for k in want if want[k] != got[k]]
    assert not differ, (seed, differ[:10])
