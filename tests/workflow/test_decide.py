"""What Snakemake runs, decided from the records of every result the targets depend on
(leti.workflow.decide), on a synthetic clone of the CI grid (tests/workflow/synthclone.py):

- no dead end: after an interrupted change and a revert, plain `snakemake` (and --rerun-incomplete)
  plans exactly the stale jobs and what depends on them, whatever is fresh above them;
- `snakemake report` never starts upstream work: one line naming what is stale and the command;
- `-R/--forcerun RULE` reruns the rule's jobs and everything downstream; -F, --until, --omit-from;
- an evaluation-only change never retrains.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from leti.workflow.decide import Decision, Request
from leti.workflow.freshness import Catalog, report_stamp
from leti.workflow.plan import Plan
from synthclone import ci_config, copy_clone, dry_run, make_clone, restamp, rule_counts, snakemake_n

# what train.steps reruns on the CI grid: every training iteration and everything after it
STEPS_RERUN = {"train": 6, "sample_train": 3, "execute_train": 3, "eval_sample": 6, "eval_score": 6,
               "run_manifest": 3, "report": 1, "all": 1}
LOOP_RULES = {"sample_train", "execute_train", "train", "pretrain", "tokenizer"}


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    root = tmp_path_factory.mktemp("decide-clone")
    make_clone(root, ci_config())
    return root


@pytest.fixture
def fresh(clone, tmp_path):
    """A private copy of the clone (tests change its records)."""
    return copy_clone(clone, tmp_path / "clone")


def _ran_until_training(job) -> bool:
    """The jobs `snakemake --until train` runs after train.steps changed: every training iteration and
    the loop jobs between them (iteration 2's samples and their executions)."""
    return job.rule == "train" or (job.rule in ("sample_train", "execute_train") and job.wildcards["it"] == "2")


def _decision(root: Path, cfg: dict, **request) -> Decision:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        cat = Catalog(Plan(cfg))
        return Decision(cat, Request(**request), default_target=cat.run_manifests() + [report_stamp(cat.plan)])
    finally:
        os.chdir(cwd)


# ------------------------------------------------------------------ 1. no dead ends
def test_a_revert_after_an_interrupted_change_plans_exactly_the_stale_jobs_and_what_follows(fresh):
    """The issue's scenario: change train.steps, run until the training jobs are done, stop, revert.
    The manifests and the report are fresh; the training results under them are not."""
    restamp(fresh, ci_config(**{"params.train.steps": 5}), _ran_until_training)
    cfg = ci_config()
    planned = dry_run(fresh, cfg)
    assert rule_counts(planned) == STEPS_RERUN  # not "Nothing to be done"
    assert rule_counts(dry_run(fresh, cfg, "--rerun-incomplete")) == STEPS_RERUN
    # the base and iteration 1's shared samples are untouched
    assert not any(rule in ("pretrain", "eval_score") and "it=0" in wc for rule, wc in planned)
    assert not any(rule == "sample_train" and "it=1" in wc for rule, wc in planned)


def test_a_stale_result_below_fresh_ones_is_found(fresh):
    """One stale job deep in the DAG (iteration 1's training of one arm, its record from another
    parameter): it and everything downstream of it rerun, the other arms do not."""
    arm = "model=tiny/feedback=textual/task=synth/seed=0"
    restamp(fresh, ci_config(**{"params.fcft.feedback_type": "binary"}),
            lambda j: j.rule == "train" and j.wildcards == {"rid": arm, "it": "1"})
    planned = dry_run(fresh, ci_config())
    counts = rule_counts(planned)
    assert counts == {"train": 2, "sample_train": 1, "execute_train": 1, "eval_sample": 2, "eval_score": 2,
                      "run_manifest": 1, "report": 1, "all": 1}
    assert all(arm in wc for rule, wc in planned if rule not in ("report", "all"))


def test_the_stale_result_is_explained_with_a_command_that_fixes_it(fresh):
    """What `leti report --verify-records` and the manifests say names `snakemake`, which reruns it."""
    restamp(fresh, ci_config(**{"params.train.steps": 5}), _ran_until_training)
    cwd = os.getcwd()
    os.chdir(fresh)
    try:
        cat = Catalog(Plan(ci_config()))
        why = cat.explain(cat.plan.train_summary(cat.plan.runs[0], 1), cat.plan.runs[0].id)
    finally:
        os.chdir(cwd)
    assert "train.steps (recorded 5, plan 4)" in why and "rerun `snakemake`" in why and "\n" not in why
    assert ("train", "rid=model=tiny/feedback=textual/task=synth/seed=0, it=1") in dry_run(fresh, ci_config())


# ------------------------------------------------------------------ 2. the report never starts upstream work
def test_snakemake_report_stops_with_one_line_when_results_are_stale(fresh):
    restamp(fresh, ci_config(**{"params.train.steps": 5}), _ran_until_training)
    r = snakemake_n(fresh, ci_config(), "report")
    assert r.returncode != 0
    lines = [line for line in r.stderr.splitlines() if line.startswith("snakemake report:")]
    assert len(lines) == 1, r.stderr[-3000:]
    line = lines[0]
    assert "train.steps (recorded 5, plan 4)" in line and "run `snakemake`" in line, line
    assert "rule " not in r.stdout  # nothing was scheduled
    assert snakemake_n(fresh, ci_config(), "report", "--forcerun", "report").returncode != 0  # (the report alone)
    assert rule_counts(dry_run(fresh, ci_config(), "report", "--forcerun", "train"))["train"] == 6  # an explicit opt-in


def test_snakemake_report_stops_when_results_are_missing(fresh):
    victim = next(fresh.rglob("iter2/good/metrics.json"))
    victim.unlink()
    r = snakemake_n(fresh, ci_config(), "report")
    assert r.returncode != 0 and "result files missing" in r.stderr and "run `snakemake`" in r.stderr, r.stderr[-2000:]
    # the documented way: the default target recomputes it, then the report
    counts = rule_counts(dry_run(fresh, ci_config()))
    assert counts["eval_score"] == 1 and "train" not in counts and counts["report"] == 1


def test_snakemake_report_alone_when_results_match(clone):
    assert {rule for rule, _ in dry_run(clone, ci_config(), "report", "--forcerun", "report")} == {"report"}


# ------------------------------------------------------------------ 3. -R/--forcerun cascade
def _downstream_counts(root: Path, rule: str) -> dict:
    """Jobs of `rule` and everything downstream of them, per rule, from the catalog's graph (+ `all`)."""
    d = _decision(root, ci_config(), forcerun=(rule,))
    counts = {"all": 1}
    for j in d.catalog.jobs.values():
        if id(j) in d.reruns:
            counts[j.rule] = counts.get(j.rule, 0) + 1
    return counts


def test_forcerun_a_rule_reruns_its_jobs_and_everything_downstream(clone):
    pretrain = rule_counts(dry_run(clone, ci_config(), "-R", "pretrain"))
    assert pretrain == _downstream_counts(clone, "pretrain")
    assert pretrain["pretrain"] == 1 and pretrain["train"] == 6 and pretrain["report"] == 1
    assert pretrain["eval_score"] == 7 and pretrain["heldout_loss"] == 1  # the base's evaluation too
    train = rule_counts(dry_run(clone, ci_config(), "--forcerun", "train"))
    assert train == _downstream_counts(clone, "train")
    assert train["train"] == 6 and train["sample_train"] == 3 and "pretrain" not in train
    assert train["eval_score"] == 6 and train["run_manifest"] == 3 and train["report"] == 1


def test_forceall_until_and_omit_from(fresh):
    """(-F is Snakemake's alias of --forceall.)"""
    cfg = ci_config()
    everything = rule_counts(dry_run(fresh, cfg, "--forceall"))
    assert everything["pretrain"] == 1 and everything["train"] == 6 and everything["synth"] == 1
    assert dry_run(fresh, cfg, "--until", "train") == []  # nothing stale: nothing to do
    restamp(fresh, ci_config(**{"params.train.steps": 5}), lambda j: j.rule == "train")
    # up to the first stale training jobs (Snakemake starts nothing below a job of the --until rule) ...
    first = dry_run(fresh, cfg, "--until", "train")
    assert rule_counts(first) == {"train": 3} and all("it=1" in wc for _, wc in first)
    restamp(fresh, cfg, lambda j: j.rule == "train" and j.wildcards["it"] == "1")  # (as if they ran)
    # ... then the next ones (the loop jobs between them match their records: they stay)
    second = dry_run(fresh, cfg, "--until", "train")
    assert rule_counts(second) == {"train": 3} and all("it=2" in wc for _, wc in second)
    restamp(fresh, ci_config(**{"params.train.steps": 5}), lambda j: j.rule == "train")
    assert rule_counts(dry_run(fresh, cfg, "--omit-from", "eval_sample")) == {
        "train": 6, "sample_train": 3, "execute_train": 3}


# ------------------------------------------------------------------ 4. evaluation-only changes
def test_an_evaluation_only_change_never_retrains(clone):
    before = Catalog(Plan(ci_config()))
    after = Catalog(Plan(ci_config(**{"benchmarks.synth_test.n": 3})))
    changed = {r for (r, wc), j in before.jobs.items() if before.record(j)["hash"] != after.record(after.jobs[(r, wc)])["hash"]}
    assert changed == {"eval_sample", "eval_score", "run_manifest", "report"}
    planned = rule_counts(dry_run(clone, ci_config(**{"benchmarks.synth_test.n": 3})))
    assert not set(planned) & LOOP_RULES, planned
    assert planned["eval_sample"] == 7 and planned["report"] == 1  # every checkpoint, the base included
    # the training record carries no benchmark parameter
    rec = before.record(before.of_rule("train")[0])
    assert not [k for k in rec["params"] if k.startswith("benchmarks.")]
