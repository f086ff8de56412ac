"""One finished run of the CI micro preset, shared by the slow end-to-end tests of a session (each run
costs about a minute of both cores), with a snapshot of its results taken before any test changes them."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
CI = str(REPO / "presets" / "ci.yaml")
# fields that measure time (or where it ran), not the experiment
TIMING = re.compile(r"(^|_)(elapsed|seconds|time|timestamp|date|started|finished|duration|wall|host|pid|created)(_s)?$"
                    r"|_s$|^t$", re.I)


@dataclass
class CiRun:
    dir: Path        # the run's --directory (tests may change what is in it)
    warm: Path       # its warm-start directory
    took: float      # wall seconds of the run
    results: dict    # results_snapshot(dir) right after the run
    pristine: Path   # a copy of the run's work-ci/ right after the run (its --directory layout)


def command(d: Path, data_root: Path) -> list[str]:
    return [SNAKEMAKE, "--configfile", CI, "--cores", "2", "--directory", str(d), "--config", f"data_root={data_root}"]


def env(warm: Path) -> dict:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "LETI_WARM_DIR": str(warm)}


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if not TIMING.search(k)}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def results_snapshot(d: Path) -> dict:
    """Every result file of a run but the report, timing fields left out."""
    out = {}
    root = d / "work-ci" / "results"
    for p in sorted(root.rglob("*")):
        if not p.is_file() or "report" in p.relative_to(root).parts[:1]:
            continue
        text = p.read_text(errors="replace")
        if p.suffix == ".json":
            out[str(p.relative_to(root))] = _strip(json.loads(text))
        elif p.suffix == ".csv":
            out[str(p.relative_to(root))] = [_strip(r) for r in csv.DictReader(io.StringIO(text))]
        else:
            out[str(p.relative_to(root))] = text
    return out


def run_ci_preset(d: Path, warm: Path, data_root: Path) -> CiRun:
    warm.chmod(0o700)
    t0 = time.monotonic()
    r = subprocess.run(["timeout", "-s", "INT", "1200", *command(d, data_root)], env=env(warm), capture_output=True,
                       text=True)
    took = time.monotonic() - t0
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-5000:])
    pristine = d.with_name(d.name + "-pristine")
    shutil.copytree(d / "work-ci", pristine / "work-ci", symlinks=True)
    return CiRun(dir=d, warm=warm, took=took, results=results_snapshot(d), pristine=pristine)
