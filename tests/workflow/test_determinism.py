"""Same record, same bytes: the base model and the iteration-1 results of the session's CI-preset run
(`--cores 2`, warm start; tests/ci_preset.py) and of a fresh clone under `--cores 1` from cold processes
are identical.

Thread counts change floating-point reduction order (docs/measurements.md): before the jobs took
their thread count from the config, Snakemake's `{threads}` (capped at --cores) gave pre-training one
thread under --cores 1 and two under --cores 2, so the same record held other numbers."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import data_root

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
RUN = "model=tiny/feedback=textual/task=synth/seed=0"
TARGET = f"work-ci/results/runs/{RUN}/iter1/train_stats.json"


def _clone_and_run(dest: Path, cores: int, warm: Path | None) -> Path:
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(dest)], check=True, timeout=120)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "LETI_WARM": "1" if warm else "0"}
    if warm:
        env["LETI_WARM_DIR"] = str(warm)
    r = subprocess.run([SNAKEMAKE, "--configfile", "presets/ci.yaml", "--cores", str(cores), "--config",
                        f"data_root={data_root()}", "--", TARGET],
                       cwd=dest, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-5000:])
    return dest


def _files(d: Path) -> dict[str, bytes]:
    base = d / "work-ci" / "base" / "default"
    out = {str(p.relative_to(d)): p.read_bytes() for p in sorted((base / "ckpt").iterdir())
           if p.suffix in (".safetensors", ".json") and p.name != "leti_checkpoint.json"}  # its meta has timings
    out.update({str(p.relative_to(d)): p.read_bytes() for p in sorted((base / "tokenizer").iterdir())})
    stats = d / TARGET
    out[TARGET] = stats.read_bytes()
    out[TARGET + " record"] = stats.with_name("train_stats.params.json").read_bytes()
    for samples in (d / "work-ci" / "loop" / "shared").glob("**/seed=0/iter1/samples.jsonl"):
        out[str(samples.relative_to(d))] = json.dumps([(r["task_id"], r["sample_idx"], r["completion"]) for r in
                                                       map(json.loads, samples.read_text().splitlines())]).encode()
    return out


def test_same_record_gives_the_same_bytes_whatever_the_cores_and_start(ci_preset_run, tmp_path):
    if subprocess.run(["git", "-C", str(REPO), "rev-parse"], capture_output=True).returncode:
        pytest.skip("not a git checkout")
    a = _files(ci_preset_run.pristine)
    b = _files(_clone_and_run(tmp_path / "b", cores=1, warm=None))
    # the session's run has every arm; the clone built one arm's iteration 1: compare what the clone has
    assert b.keys() <= a.keys() and any(k.endswith("model.safetensors") for k in b)
    assert any(k.endswith("samples.jsonl") for k in b), "no iteration-1 training samples compared"
    differ = [k for k in b if a[k] != b[k]]
    assert not differ, f"same records, other bytes: {differ}"
    record = json.loads(a[TARGET + " record"])
    assert record["params"]["threads"] == 1  # what every torch job's thread count is derived from
