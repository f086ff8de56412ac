"""After an interruption (Ctrl-C, a lost session), plain `snakemake` and `--rerun-incomplete` finish the
whole workflow, and no output of a job that finished is lost (leti.workflow.decide).

The fast tests interrupt a synthetic clone of the CI grid (tests/workflow/synthclone.py) the way
Snakemake leaves it: the jobs that had not run yet have no outputs, the interrupted job's outputs are
marked incomplete in `.snakemake/incomplete/`, some written, some not (or, for a job that finished while
Snakemake was terminating, all written with their records). The slow test interrupts a real run."""
from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import data_root
from leti.core.records import record_path
from leti.workflow.freshness import Catalog
from leti.workflow.plan import Plan
from synthclone import REPO, SNAKEMAKE, ci_config, copy_clone, dry_run, make_clone, rule_counts, snakemake_n

ARM = "model=tiny/feedback=textual/task=synth/seed=0"


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    root = tmp_path_factory.mktemp("interrupted-clone")
    make_clone(root, ci_config())
    return root


def _mark_incomplete(root: Path, path: str) -> Path:
    """Snakemake's marker of an output whose job started and did not finish (persistence/file.py)."""
    marker = root / ".snakemake" / "incomplete" / base64.urlsafe_b64encode(path.encode()).decode()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"external_jobid": None}))
    return marker


def _interrupt(root: Path, it: int, state: str) -> tuple[list, list[Path]]:
    """The state a run interrupted while `train` (ARM, iteration `it`) ran leaves: every job that depends on
    it, and every later report/manifest, without outputs; its outputs marked incomplete, and `state`:
    "finished" (all written with their records), "unrecorded" (all written, no records), "half" (its
    checkpoint not written). Returns (the jobs that must run again, the markers)."""
    cwd = os.getcwd()
    os.chdir(root)
    try:
        cat = Catalog(Plan(ci_config()))
        job = cat.job("train", {"rid": ARM, "it": it})
        below, todo = {id(job)}, [job]
        consumers = {}
        for j in cat.jobs.values():
            for p in j.input_paths():
                if p in cat.producer:
                    consumers.setdefault(id(cat.producer[p]), []).append(j)
        while todo:
            for c in consumers.get(id(todo.pop()), ()):
                if id(c) not in below:
                    below.add(id(c))
                    todo.append(c)
        lost = [j for j in cat.jobs.values() if id(j) in below and j is not job]
        for j in lost:
            for out in dict.fromkeys(j.outputs + j.products):  # the report: its directory too
                shutil.rmtree(out, ignore_errors=True) if os.path.isdir(out) else Path(out).unlink(missing_ok=True)
        if state == "half":  # cut off while training: the checkpoint (and its record inside) never written
            shutil.rmtree(job.outputs[0])
        elif state == "unrecorded":  # cut off after its outputs, before its records
            for out in job.outputs:
                Path(record_path(out)).unlink()
        markers = [_mark_incomplete(root, o) for o in job.outputs]
        return ([job] if state != "finished" else []) + lost, markers
    finally:
        os.chdir(cwd)


def _expected(jobs) -> dict:
    return {**rule_counts([(j.rule, "") for j in jobs]), "all": 1}


@pytest.mark.parametrize("args", [(), ("--rerun-incomplete",)])
def test_an_interrupted_job_reruns_with_everything_below_it(clone, tmp_path, args, state="unrecorded"):
    """Before: `--rerun-incomplete` forced the interrupted job alone (its outputs were ancient inputs of the
    jobs below, so Snakemake never looked at their missing results) and plain `snakemake` refused."""
    root = copy_clone(clone, tmp_path / "clone")
    todo, _ = _interrupt(root, 1, state)
    planned = dry_run(root, ci_config(), *args)
    assert rule_counts(planned) == _expected(todo)
    assert ("train", f"rid={ARM}, it=1") in planned


@pytest.mark.parametrize("args", [(), ("--rerun-incomplete",)])
def test_a_job_that_finished_while_snakemake_stopped_keeps_its_outputs(clone, tmp_path, args):
    """Its outputs all carry the plan's record (written last, on success): the marker goes, nothing of it
    reruns, what depends on it runs. (Before: `--rerun-incomplete` reran that job alone, deleting its
    outputs first, and nothing below it: the run stopped there.)"""
    root = copy_clone(clone, tmp_path / "clone")
    todo, markers = _interrupt(root, 1, "finished")
    planned = dry_run(root, ci_config(), *args)
    assert ("train", f"rid={ARM}, it=1") not in planned
    assert rule_counts(planned) == _expected(todo)
    assert not any(m.exists() for m in markers)
    ckpt = root / "work-ci" / "loop" / ARM / "iter1" / "ckpt"
    assert ckpt.is_dir() and Path(record_path(str(ckpt))).exists()


def test_a_half_written_job_with_old_records_is_not_taken_as_finished(clone, tmp_path):
    """An output missing (the checkpoint) while the others carry a record: it reruns."""
    root = copy_clone(clone, tmp_path / "clone")
    todo, _ = _interrupt(root, 2, "half")
    planned = dry_run(root, ci_config())
    assert ("train", f"rid={ARM}, it=2") in planned and rule_counts(planned) == _expected(todo)


# ------------------------------------------------------------------ a real run, interrupted
def _micro_config(tmp: Path) -> Path:
    """The CI preset cut to one arm and one iteration (about 20 jobs' worth of work in a dozen jobs)."""
    cfg = yaml.safe_load(open(REPO / "presets" / "ci.yaml"))
    cfg.update(data_root=str(data_root()), warm_start=True)
    cfg["axes"] = {"model": {"tiny": {}}}
    cfg.pop("exclude")
    cfg["params"]["loop"]["iterations"] = 1
    cfg["params"]["model"]["pretrain"]["steps"] = 20
    cfg["benchmarks"] = {"synth_test": dict(cfg["benchmarks"]["synth_test"], limit=4)}
    path = tmp / "micro.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.mark.slow
def test_ctrl_c_after_the_first_training_job_then_plain_snakemake_finishes(tmp_path):
    """SIGINT to Snakemake (what Ctrl-C sends it) once the training job's first output exists; then plain
    `snakemake` finishes the whole workflow, keeps every output that was complete, and plans nothing more."""
    warm = tmp_path / "warm"
    warm.mkdir(mode=0o700)
    run = tmp_path / "run"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "LETI_WARM_DIR": str(warm)}
    cmd = [SNAKEMAKE, "--configfile", str(_micro_config(tmp_path)), "--cores", "2", "--directory", str(run)]

    def default_sigint():  # a test runner may start children with SIGINT ignored
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.setpgrp()

    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=default_sigint)
    first = run / "work-ci" / "loop" / "model=tiny" / "seed=0" / "iter1" / "fcft.jsonl"
    deadline = time.monotonic() + 600
    while not first.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before the training job started"
    os.kill(proc.pid, signal.SIGINT)
    out = proc.communicate(timeout=300)[0].decode(errors="replace")
    assert proc.returncode != 0, out[-2000:]
    kept = {p: p.stat().st_mtime_ns for p in (run / "work-ci").rglob("*")
            if p.is_file() and Path(record_path(str(p))).exists() and ".snakemake" not in p.parts}

    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (run / "work-ci" / "results" / "report" / "claims.md").exists()
    # nothing complete was recomputed (a rerun deletes a job's outputs before it starts)
    redone = [str(p) for p, t in kept.items() if not p.exists() or p.stat().st_mtime_ns != t]
    assert not redone, redone[:5]
    r = subprocess.run(cmd + ["-n"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "Nothing to be done" in r.stdout + r.stderr, (r.stdout + r.stderr)[-2000:]
