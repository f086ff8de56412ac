"""Self-verifying results (leti.workflow.freshness): parameter records, the Merkle hash, and what
Snakemake plans from them on a clone with results but no .snakemake metadata.

The planning tests build a synthetic "fresh clone" of the CI preset: every output of every job exists
(empty) and carries the record the plan expects, no model involved; then they dry-run Snakemake on it.
"""
from __future__ import annotations

import copy
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from leti.core.errors import UserError
from leti.core.records import read_record, record_path, write_records
from leti.workflow.freshness import Catalog
from leti.workflow.plan import Plan
from synthclone import REPO, SNAKEMAKE, ci_config, dry_run, make_clone, rule_counts



def hashes(cfg: dict) -> dict:
    cat = Catalog(Plan(cfg))
    return {key: cat.record(job)["hash"] for key, job in cat.jobs.items()}


# ------------------------------------------------------------------ records and hashes
def test_record_paths(tmp_path):
    (tmp_path / "ckpt").mkdir()
    assert record_path(str(tmp_path / "a" / "metrics.json")) == str(tmp_path / "a" / "metrics.params.json")
    assert record_path(str(tmp_path / "loss.csv")) == str(tmp_path / "loss.params.json")
    assert record_path(str(tmp_path / "ckpt")) == str(tmp_path / "ckpt" / "params.json")
    assert record_path(str(tmp_path / "manifest.json")) == str(tmp_path / "manifest.json")
    write_records({"outputs": [str(tmp_path / "ckpt"), str(tmp_path / "x.jsonl")], "rule": "r", "hash": "h",
                   "params": {"train.steps": 3}})
    assert read_record(str(tmp_path / "ckpt")) == read_record(str(tmp_path / "x.jsonl")) == {
        "rule": "r", "hash": "h", "params": {"train.steps": 3}}
    assert read_record(str(tmp_path / "nothing.json")) is None


def test_changing_train_steps_changes_training_and_everything_downstream_only():
    before, after = hashes(ci_config()), hashes(ci_config(**{"params.train.steps": 5}))
    changed = {k for k in before if before[k] != after[k]}
    rules = {r for r, _ in changed}
    assert rules == {"train", "sample_train", "execute_train", "eval_sample", "eval_score", "run_manifest", "report"}
    its = lambda rule: sorted(dict(wc)["it"] for r, wc in changed if r == rule)  # noqa: E731
    assert its("train") == ["1", "1", "1", "2", "2", "2"]
    assert its("sample_train") == its("execute_train") == ["2", "2", "2"]  # iteration 1: shared
    assert "0" not in its("eval_score") and "0" not in its("eval_sample")  # the base is untouched


def test_scheduling_and_locations_change_no_result_hash():
    def results(h):  # the report (cheap) names the whole config's hash, so it is rebuilt anyway
        return {k: v for k, v in h.items() if k[0] != "report"}
    base = hashes(ci_config())
    assert results(hashes(ci_config(**{"params.execute.workers": 7}))) == results(base)
    moved = hashes(ci_config(workdir="elsewhere", results="elsewhere/results"))
    assert sorted(moved.values()) == sorted(base.values())
    assert results(hashes(ci_config(**{"params.train.lr": 0.5}))) != results(base)


def test_every_result_file_has_a_producer_and_records_its_params():
    plan = Plan(ci_config())
    cat = Catalog(plan)
    assert set(plan.all_metrics()) <= set(cat.producer)
    rec = cat.record(plan.train_summary(plan.runs[0], 2))
    assert rec["params"]["train.steps"] == 4 and rec["params"]["model.pretrain.steps"] == 60
    assert "execute.workers" not in rec["params"]


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    root = tmp_path_factory.mktemp("clone")
    cfg = ci_config()
    make_clone(root, cfg)
    return root, cfg


def test_unchanged_config_plans_nothing(clone):
    root, cfg = clone
    assert dry_run(root, cfg) == []


def test_changed_train_steps_plans_training_and_downstream_and_nothing_else(clone):
    root, cfg = clone
    jobs = dry_run(root, ci_config(**{"params.train.steps": 5}))
    counts = rule_counts(jobs)
    assert counts == {"train": 6, "sample_train": 3, "execute_train": 3, "eval_sample": 6, "eval_score": 6,
                      "run_manifest": 3, "report": 1, "all": 1}
    assert all("it=2" in wc for rule, wc in jobs if rule in ("sample_train", "execute_train"))
    assert not any(rule == "eval_score" and "it=0" in wc for rule, wc in jobs)


def test_report_plans_no_upstream_job_whatever_the_file_times(clone):
    root, cfg = clone
    files = [p for p in root.rglob("*") if p.is_file()]
    rng = random.Random(0)
    for p in files:  # shuffle: upstream files newer than downstream ones, checkpoints newest
        t = 1_600_000_000 + rng.randrange(10**8)
        os.utime(p, (t, t))
    assert dry_run(root, cfg, "report") == []
    assert dry_run(root, cfg) == []
    # a report of a sub-grid (one arm fewer) whose results exist: only the report is rebuilt
    sub = copy.deepcopy(cfg)
    sub["exclude"] = sub["exclude"] + [{"feedback": "none"}]
    assert {rule for rule, _ in dry_run(root, sub, "report")} == {"report"}


def test_results_without_records_are_stale(clone, tmp_path):
    root, cfg = clone
    cat = Catalog(Plan({**cfg, "workdir": str(root / cfg["workdir"]), "results": str(root / cfg["results"])}))
    run = cat.plan.runs[0]
    path = cat.plan.train_stats(run, 1)
    rec = Path(record_path(path))
    saved = rec.read_text()
    try:
        rec.unlink()
        assert cat.stale(cat.producer[path])
        why = cat.explain(path, run.id)
        assert "no parameter record" in why and run.id in why and "\n" not in why
    finally:
        rec.write_text(saved)
    again = Catalog(cat.plan)  # (a catalog remembers what it found)
    assert not again.stale(again.producer[path])


def test_report_refuses_a_mismatched_result_in_one_line(clone):
    from leti.report.collect import Results

    root, cfg = clone
    abs_cfg = {**cfg, "workdir": str(root / cfg["workdir"]), "results": str(root / cfg["results"])}
    plan = Plan(abs_cfg)
    run = plan.runs[0]
    path = plan.metrics(run, 0, plan.conditionings(run, 0)[0])  # the first file the report reads
    rec_file = Path(record_path(path))
    saved = rec_file.read_text()
    rec = json.loads(saved)
    rec["params"]["benchmarks.synth_test.n"] = 99
    rec["hash"] = "0" * 24
    rec_file.write_text(json.dumps(rec))
    try:
        with pytest.raises(UserError) as err:
            Results(abs_cfg, verify=True)
        msg = str(err.value)
        assert "\n" not in msg and run.id in msg and "benchmarks.synth_test.n (recorded 99, plan 2)" in msg
    finally:
        rec_file.write_text(saved)


def test_dry_run_of_the_paper_grid_prints_no_line_that_grows_with_the_grid(tmp_path):
    """No printed line lists the results of more than one run (it was ~98k characters: `all` and `report`
    listed every metrics file); a run's manifest lists that run's results, the report one manifest per run."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    r = subprocess.run([SNAKEMAKE, "-n", "--configfile", "presets/paper.yaml", "--directory", str(tmp_path),
                        "--config", f"data_root={ci_config()['data_root']}"], cwd=REPO, capture_output=True,
                       text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    for line in r.stdout.splitlines():
        runs = set(re.findall(r"runs/(model=[^ ,]*?/seed=\d+)/iter", line))
        assert len(runs) <= 1, (len(line), sorted(runs)[:3])


def test_a_fresh_clone_keeps_unaffected_results_when_a_parameter_changes(clone, tmp_path):
    """Only results/ is committed: the intermediates under work/ are missing. Changing train.steps rebuilds
    the ones the new training reads (base checkpoint, iteration-1 samples), but no result that does not
    depend on the change (the base model's evaluation and held-out loss) is recomputed."""
    import shutil

    root, cfg = clone
    fresh = tmp_path / "fresh"
    shutil.copytree(root, fresh, symlinks=True)
    results = (fresh / cfg["results"]).resolve()
    for p in (fresh / cfg["workdir"]).iterdir():  # (the CI preset keeps its results inside its work dir)
        if p.resolve() != results:
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
    assert dry_run(fresh, cfg) == []  # unchanged: nothing, although work/ is gone
    counts = rule_counts(jobs := dry_run(fresh, ci_config(**{"params.train.steps": 5})))
    assert counts["train"] == 6 and counts.get("pretrain") == 1
    assert not any(rule in ("eval_score", "heldout_loss") and "it=0" in wc for rule, wc in jobs)
