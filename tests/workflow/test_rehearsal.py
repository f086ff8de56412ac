"""The paper grid's dress rehearsal: presets/rehearsal.yaml (paper.yaml with sizes only changed)
through `snakemake --profile slurm` on the one-node test cluster, offline, against the hub stand-ins."""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, data_root
from conftest_slurm import slurm_cluster  # noqa: F401  (pytest fixture)

PAPER = REPO / "presets" / "paper.yaml"
REHEARSAL = REPO / "presets" / "rehearsal.yaml"
VLLM_RULES = {"vllm_env", "vllm_model"}  # run by tests/sampling/test_vllm.py on the same stand-ins

# what the rehearsal may change: locations, resources, counts and lengths; nothing behavioural
SIZE_KEYS = [
    r"preset", r"workdir", r"results", r"report_dir", r"data_root", r"threads", r"resources(\..+)?",
    r"params\.loop\.iterations", r"params\.task\.(limit|pretrain_files)",
    r"params\.sample\.(n|max_new_tokens|max_length|batch_size)", r"params\.execute\.workers",
    r"params\.train\.(steps|epochs|batch_size|micro_batch_size|pretrain_batch_size|max_len|pack_len|micro_batch_tokens)",
    r"axes\.[^.]+\.[^.]+\.(loop\.iterations|sample\.(n|max_new_tokens|max_length|batch_size)|"
    r"train\.(steps|batch_size|micro_batch_size|pretrain_batch_size|max_len))",
    r"benchmarks\.[^.]+\.(n|max_new_tokens|max_length|problems\.limit|problems\.tasks)",
]


def flatten(obj, prefix=""):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: obj}


def differences(a: dict, b: dict) -> list[str]:
    fa, fb = flatten(a), flatten(b)
    return sorted(k for k in set(fa) | set(fb) if fa.get(k, "<absent>") != fb.get(k, "<absent>"))


def test_rehearsal_differs_from_the_paper_in_sizes_only():
    paper, rehearsal = yaml.safe_load(PAPER.read_text()), yaml.safe_load(REHEARSAL.read_text())
    changed = differences(paper, rehearsal)
    drift = [k for k in changed if not any(re.fullmatch(p, k) for p in SIZE_KEYS)]
    assert drift == [], f"presets/rehearsal.yaml changes keys that are not sizes: {drift}"
    assert "params.loop.iterations" in changed and "benchmarks.mbpp.n" in changed  # the check can fail
    assert differences(paper, paper) == []


def test_rehearsal_file_is_what_the_generator_writes(tmp_path):
    sys.path.insert(0, str(REPO / "presets"))
    try:
        import rehearsal_sizes
    finally:
        sys.path.pop(0)
    expected = rehearsal_sizes.rehearsal(yaml.safe_load(PAPER.read_text()))
    assert yaml.safe_load(REHEARSAL.read_text()) == expected, "run `python presets/rehearsal_sizes.py`"


def test_the_size_check_catches_a_behavioural_change():
    paper = yaml.safe_load(PAPER.read_text())
    bad = yaml.safe_load(REHEARSAL.read_text())
    bad["params"]["train"]["lr"] = 1.0
    bad["benchmarks"]["mbpp"]["temperature"] = 0.5
    drift = [k for k in differences(paper, bad) if not any(re.fullmatch(p, k) for p in SIZE_KEYS)]
    assert drift == ["benchmarks.mbpp.temperature", "params.train.lr"]


def _paper_rules() -> set[str]:
    import tempfile

    with tempfile.TemporaryDirectory() as work:  # (an empty directory: whatever runs left in the repo)
        r = subprocess.run([str(Path(sys.executable).with_name("snakemake")), "-n", "--profile", "slurm", "--quiet",
                            "rules", "--configfile", str(PAPER), "--directory", work,
                            "--config", f"data_root={data_root()}"], cwd=REPO, capture_output=True, text=True,
                           timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    rules = set()
    for line in r.stdout.splitlines():
        m = re.match(r"^(\w+)\s+\d+$", line.strip())
        if m and m.group(1) not in ("total", "count"):
            rules.add(m.group(1))
    return rules - {"all"}


def _unfilled_poster_rows(report: Path) -> list[str]:
    """(table, row, column) where the poster has a number and the rehearsal's cell is empty."""
    empty = []
    for table in sorted((report / "tables").glob("*.csv")):
        rows = list(csv.reader(table.read_text().splitlines()))
        header = rows[0]
        for row in rows[1:]:
            cells = dict(zip(header, row))
            for col, value in cells.items():
                if col.endswith(" paper") and value.strip():
                    ours = col[: -len(" paper")]
                    if ours in cells and not cells[ours].strip():
                        empty.append(f"{table.stem}: {row[:2]} {ours}")
    return empty


@pytest.mark.slow
@pytest.mark.slurm
def test_paper_grid_rehearsal_through_slurm(slurm_cluster, tmp_path):
    if not (data_root() / "mbpp").exists():
        pytest.skip("benchmark data not found")
    standin = tmp_path / "hf"
    subprocess.run([str(Path(sys.executable).with_name("leti")), "hub-standin", "--out", str(standin),
                    "--files", "300"], check=True, capture_output=True, timeout=300)
    warm = tmp_path / "warm"
    warm.mkdir(mode=0o700)
    env_before = dict(slurm_cluster.env)
    # only where the loaders look changes: the hub cache, offline, and the dataset mirror
    slurm_cluster.env.update(HF_HOME=str(standin), HF_HUB_OFFLINE="1", LETI_DATASETS_MIRROR=str(standin / "datasets"),
                             LETI_WARM_DIR=str(warm))
    try:
        # --jobs: keep SLURM's queue full, so a freed core starts the next job at once (the test profile's 4
        # leave it idle between snakemake's status checks); nothing else differs from a cluster user's run
        # sampling with TorchSampler: vLLM's engine start (and its CPU speed on CodeGen's 51,200-token
        # vocabulary) would double this test's time; the vLLM path on these stand-ins is
        # tests/sampling/test_vllm.py::test_rehearsal_standins_sample_with_vllm
        r = slurm_cluster.snakemake(REPO, "--directory", str(tmp_path), "--configfile", str(REHEARSAL),
                                    "--config", f"data_root={data_root()}", 'params={"sample": {"engine": "hf"}}',
                                    "--jobs", "24", timeout=2400)
    finally:
        slurm_cluster.env.clear()
        slurm_cluster.env.update(env_before)
    assert r.returncode == 0, slurm_cluster.explain(r, tmp_path)
    log = max((tmp_path / ".snakemake" / "log").glob("*.snakemake.log"), key=lambda f: f.stat().st_mtime).read_text()
    # "Finished jobid: N (Rule: X)" (the profile's `quiet: [rules]` keeps the job blocks out of the log)
    ran = set(re.findall(r"\(Rule: (\w+)\)", log))
    missing = _paper_rules() - ran - VLLM_RULES
    assert not missing, f"rules of the paper DAG that the rehearsal never ran: {sorted(missing)}"
    assert not list(warm.glob("*.log")), "a SLURM job started a warm-start server outside its job"
    results = tmp_path / "results" / "rehearsal"
    report = results / "report"
    assert not _unfilled_poster_rows(report), _unfilled_poster_rows(report)
    # GPU rules ran in the gpu partition, scoring in the cpu one, each in its own SLURM job
    run = next((results / "runs").glob("model=350M/feedback=textual/reg=on/*/task=mbpp/seed=42/iter1"))
    train = json.loads((run / "train_summary.json").read_text())["environment"]["slurm"]
    score = json.loads((run / "good" / "metrics.json").read_text())["environment"]["slurm"]
    assert train["SLURM_JOB_PARTITION"] == "gpu" and score["SLURM_JOB_PARTITION"] == "cpu"
    assert train["SLURM_JOB_ID"] != score["SLURM_JOB_ID"]
    # the hub stand-in went through init-model: LeTI's tokens in unused rows of CodeGen's 51,200
    base = next((tmp_path / "work-rehearsal" / "base").glob("*/ckpt"))
    cfg = json.loads((base / "config.json").read_text())
    assert cfg["architectures"] == ["CodeGenForCausalLM"] and cfg["vocab_size"] == 51200
    # the EAE arm and benchmark ran, and long prompts were counted, not cut
    assert any(results.glob("runs/*/*/*/*/task=eae/seed=42/iter1/good/metrics.json"))
    budget = (report / "tables" / "prompt_budget.csv").read_text()
    assert "bbh_cot" in budget and "eae" in budget
