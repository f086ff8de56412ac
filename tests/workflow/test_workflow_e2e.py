"""End to end: the CI micro preset through Snakemake (locally, then through a real one-node SLURM),
and the report rebuilt from cached results alone."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import data_root

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
CI = str(REPO / "presets" / "ci.yaml")
BENCHES = {"synth_test", "mbpp", "humaneval", "gsm8k", "bbh_direct", "bbh_cot", "eae"}


def snakemake(*args, cwd=REPO, timeout=600, env=None):
    env = {**os.environ, **(env or {}), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(["timeout", "-s", "INT", str(timeout), SNAKEMAKE, *args], cwd=cwd,
                          capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def ci_run(ci_preset_run):
    assert list(ci_preset_run.warm.glob("*.log")), "warm_start: true, but no warm-start server was started"
    return ci_preset_run.dir


def test_micro_preset_runs_end_to_end(ci_run):
    results = ci_run / "work-ci" / "results"
    last = json.loads((results / "runs/model=tiny/feedback=textual/task=synth/seed=0/iter2/good/metrics.json").read_text())
    assert set(last["benchmarks"]) == BENCHES and last["run"]["iteration"] == 2
    first = json.loads((results / "runs/model=tiny/feedback=textual/task=synth/seed=0/iter1/good/metrics.json").read_text())
    assert set(first["benchmarks"]) == {"synth_test"}
    # checkpoint 1's evaluation samples and iteration 2's training samples: two jobs, both from checkpoint 1
    arm = "model=tiny/feedback=textual/task=synth/seed=0"
    evals = [json.loads(l) for l in open(ci_run / f"work-ci/eval/runs/{arm}/iter1/samples.jsonl")]
    train = [json.loads(l) for l in open(ci_run / f"work-ci/loop/{arm}/iter2/samples.jsonl")]
    assert {r["benchmark"] for r in evals} == {"synth_test"} and len(evals) == 8 * 2
    assert len(train) == 24 * 2 and all(r["model_input"].startswith("<|good|>") for r in train + evals)
    assert {r["provenance"]["checkpoint"] for r in evals + train} == {f"work-ci/loop/{arm}/iter1/ckpt"}
    base = json.loads((results / "base/seed=0/iter0/none/metrics.json").read_text())
    assert set(base["benchmarks"]) == {"synth_test"} and base["run"]["conditioning"] == "none"
    syn = last["benchmarks"]["synth_test"]
    assert syn["n_problems"] == 8 and syn["n_samples_per_problem"] == 2
    assert set(syn["metrics"]["raw"]["buckets"]) >= {"pass", "SyntaxError", "AssertionError"}
    stats = json.loads((results / "runs/model=tiny/feedback=textual/task=synth/seed=0/iter1/train_stats.json").read_text())
    assert stats["pass"] + stats["fail"] == 24 * 2 and stats["feedback_type"] == "textual"
    control = json.loads((results / "runs/model=tiny/feedback=none/task=synth/seed=0/iter1/train_stats.json").read_text())
    assert control["pass"] == stats["pass"]  # the same shared iteration-1 samples feed both arms
    summary = json.loads((results / "runs/model=tiny/feedback=textual/task=synth/seed=0/iter1/train_summary.json").read_text())
    assert summary["fcft_steps_total"] == 4
    assert summary["run"]["axes"] == {"model": "tiny", "feedback": "textual", "task": "synth"}
    # LeTI on EAE is one more axis value: its training samples went through the rule-based verifier
    eae = json.loads((results / "runs/model=tiny/feedback=textual/task=eae/seed=0/iter1/train_stats.json").read_text())
    assert eae["pass"] + eae["fail"] == 24 * 2
    eae_metrics = json.loads((results / "runs/model=tiny/feedback=textual/task=eae/seed=0/iter2/good/metrics.json").read_text())
    assert set(eae_metrics["benchmarks"]["eae"]["metrics"]["postprocessed_eae"]) >= {"arg_i", "arg_c", "pass_rate"}
    claims = json.loads((results / "report" / "claims.json").read_text())
    assert claims and (results / "report" / "tables.md").stat().st_size > 0


def test_records_decide_what_reruns_with_metadata_and_any_file_times(ci_run, tmp_path):
    """After a real run (.snakemake metadata present): nothing to do, whatever the file times; a changed
    evaluation parameter reruns that evaluation and what follows, then nothing again."""
    import random

    import yaml

    def planned(*args):
        r = snakemake(*args, "-n", "--cores", "1", "--directory", str(ci_run), "--config", f"data_root={data_root()}")
        assert r.returncode == 0, r.stderr[-3000:] + r.stdout[-3000:]
        return sorted(re.findall(r"^(?:local)?rule (\w+):", r.stdout, re.M))

    rng = random.Random(0)
    for p in (ci_run / "work-ci").rglob("*"):
        t = 1_600_000_000 + rng.randrange(10**8)
        os.utime(p, (t, t))
    assert planned("--configfile", CI) == [] and planned("report", "--configfile", CI) == []
    cfg = yaml.safe_load(open(CI))
    cfg["benchmarks"]["gsm8k"]["max_new_tokens"] = 12
    changed = tmp_path / "ci.yaml"
    changed.write_text(yaml.safe_dump(cfg, sort_keys=False))
    assert set(planned("--configfile", str(changed))) == {"eval_sample", "eval_score", "run_manifest",
                                                          "report", "all"}
    r = snakemake("--configfile", str(changed), "--cores", "2", "--directory", str(ci_run),
                  "--config", f"data_root={data_root()}")
    assert r.returncode == 0, r.stderr[-3000:]
    assert planned("--configfile", str(changed)) == []
    r = snakemake("--configfile", CI, "--cores", "2", "--directory", str(ci_run), "--config", f"data_root={data_root()}")
    assert r.returncode == 0, r.stderr[-3000:]  # back to the preset, for the tests below


def test_no_dead_end_after_an_interrupted_change_and_a_revert(ci_run, tmp_path):
    """Issue 24's scenario on a real run: change train.steps, run until the training jobs are done, stop,
    revert. Plain `snakemake` then plans exactly the stale jobs and what depends on them (not "Nothing to be
    done"), `snakemake report` refuses in one line naming the parameter, and one `snakemake` fixes it."""
    import yaml

    def run(*args, configfile=CI):
        return snakemake(*args, "--configfile", str(configfile), "--cores", "2", "--directory", str(ci_run),
                         "--config", f"data_root={data_root()}")

    def planned(*args):
        r = run(*args, "-n", "--quiet", "rules")
        assert r.returncode == 0, r.stderr[-3000:] + r.stdout[-3000:]
        return _job_counts(r.stdout)

    cfg = yaml.safe_load(open(CI))
    cfg["params"]["train"]["steps"] = 5
    changed = tmp_path / "steps5.yaml"
    changed.write_text(yaml.safe_dump(cfg, sort_keys=False))
    r = run("--omit-from", "eval_sample", configfile=changed)  # stops once every training job is done
    assert r.returncode == 0, r.stderr[-3000:]
    stale = {"train": 6, "sample_train": 3, "execute_train": 3, "eval_sample": 6, "eval_score": 6, "run_manifest": 3,
             "report": 1, "all": 1}
    assert planned() == stale  # the revert: exactly what ran with steps 5, and what depends on it
    assert planned("--rerun-incomplete") == stale
    r = run("report", "-n")
    lines = [line for line in r.stderr.splitlines() if line.startswith("snakemake report:")]
    assert r.returncode != 0 and len(lines) == 1 and "train.steps (recorded 5, plan 4)" in lines[0], r.stderr[-2000:]
    r = run()  # the command that line names
    assert r.returncode == 0, r.stderr[-3000:]
    assert planned() == {} and planned("report") == {}


def _job_counts(out: str) -> dict:
    counts = {}
    for rule, n in re.findall(r"^(\w+)\s+(\d+)$", out.split("Job stats:", 1)[-1].split("Reasons:")[0], re.M):
        if rule != "total":
            counts[rule] = int(n)
    return counts if "Job stats:" in out else {}


@pytest.mark.vllm
def test_switching_to_vllm_reruns_sampling_and_what_follows_only(ci_run, tmp_path):
    """Issue 25 on the CI preset's finished run (a copy of it): `sample.engine: vllm` replans every sampling
    job and what depends on it, never the data, the tokenizer or pre-training; then both kinds of sampling
    job run with vLLM (the base's evaluation and iteration 1's training samples: two jobs side by side, its
    environment from the per-user cache). The rest of the path after sampling does not depend on the
    engine; the paper grid's rehearsal (tests/workflow/test_rehearsal.py) runs all of it with vLLM."""
    run_dir = tmp_path / "run"
    shutil.copytree(ci_run / "work-ci", run_dir / "work-ci", symlinks=True)
    engine = ["vllm_env=cpu", 'params={"sample": {"engine": "vllm"}}']

    def smk(*args):
        return snakemake(*args, "--configfile", CI, "--cores", "2", "--directory", str(run_dir),
                         "--config", f"data_root={data_root()}", *engine)

    r = smk("-n", "--quiet", "rules")
    assert r.returncode == 0, r.stderr[-3000:] + r.stdout[-3000:]
    planned = _job_counts(r.stdout)
    assert set(planned) == {"vllm_env", "sample_train", "execute_train", "train", "eval_sample", "eval_score",
                            "run_manifest", "report", "all"}, planned
    targets = ["work-ci/eval/base/seed=0/iter0/samples.jsonl", "work-ci/loop/shared/task=synth/seed=0/iter1/samples.jsonl"]
    base = run_dir / "work-ci/base/default/ckpt/model.safetensors"
    before = base.stat().st_mtime_ns
    r = smk(*targets)
    assert r.returncode == 0, r.stderr[-3000:] + r.stdout[-3000:]
    assert sorted(set(re.findall(r"^(?:local)?rule (\w+):", r.stdout + r.stderr, re.M))) == [
        "eval_sample", "sample_train", "vllm_env"]
    assert base.stat().st_mtime_ns == before
    for target in targets:
        rows = [json.loads(line) for line in open(run_dir / target)]
        assert rows and {row["provenance"]["engine"]["name"] for row in rows} == {"vllm"}
        # drawn in the vLLM environment (its transformers), recorded by the job in the project's environment
        assert {row["provenance"]["versions"]["transformers"][:4] for row in rows} == {"5.19"}
        record = json.loads((run_dir / target).with_suffix(".params.json").read_text())
        assert record["params"]["sample.engine"] == "vllm" and record["params"]["vllm_env"] == "cpu"
    assert "engine vllm:" in (run_dir / "work-ci/logs/eval/base/seed=0/iter0/sample.log").read_text()


def test_report_rebuilds_from_cache_without_upstream_jobs(ci_run):
    report = ci_run / "work-ci" / "results" / "report"
    before = {p.relative_to(report): p.read_bytes() for p in sorted(report.rglob("*")) if p.is_file()}
    assert before, "the report wrote nothing"
    # a fresh clone: only the tracked results are left (checkpoints, samples, executions, logs gone)
    for entry in (ci_run / "work-ci").iterdir():
        if entry.name != "results":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.rmtree(ci_run / ".snakemake", ignore_errors=True)
    r = snakemake("report", "-n", "--configfile", CI, "--cores", "1", "--directory", str(ci_run),
                  "--config", f"data_root={data_root()}")
    assert r.returncode == 0, r.stderr[-3000:]
    planned = re.findall(r"^rule (\w+):", r.stdout, re.M)
    assert planned == ["report"], planned
    r = snakemake("report", "--configfile", CI, "--cores", "1", "--directory", str(ci_run),
                  "--config", f"data_root={data_root()}")
    assert r.returncode == 0, r.stderr[-3000:]
    after = {p.relative_to(report): p.read_bytes() for p in sorted(report.rglob("*")) if p.is_file()}
    assert after.keys() == before.keys()
    changed = [str(k) for k in before if before[k] != after[k]]
    assert not changed, f"not byte-identical: {changed}"
    # the HTML report of what this checkout made: no "Missing metadata" warnings (issue 24)
    r = snakemake("--report", str(ci_run / "report.html"), "--configfile", CI, "--directory", str(ci_run),
                  "--config", f"data_root={data_root()}")
    assert r.returncode == 0 and (ci_run / "report.html").stat().st_size > 0, r.stderr[-3000:]
    assert "Missing metadata" not in r.stdout + r.stderr, (r.stdout + r.stderr)[-3000:]
