"""`snakemake --report` bundles the report outputs of the CI preset into one HTML file.

Needs the CI results and their report (`snakemake --configfile presets/ci.yaml --cores 2`);
skipped otherwise. `--report` only reads existing outputs: no job runs.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CI_REPORT = ROOT / "work-ci" / "results" / "report"


@pytest.mark.skipif(not (CI_REPORT / "claims.md").exists(), reason="CI results/report not built")
def test_snakemake_report_html(tmp_path):
    snakemake = shutil.which("snakemake", path=os.path.dirname(sys.executable)) or shutil.which("snakemake")
    assert snakemake
    out = tmp_path / "report.html"
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    proc = subprocess.run([snakemake, "--configfile", "presets/ci.yaml", "--report", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    html = out.read_text(encoding="utf-8", errors="replace")
    for name in ("pass1_iterations.png", "synth_test_pass1_iterations.csv", "claims.md"):
        assert name in html
