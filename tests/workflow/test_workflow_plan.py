"""The grid: axes expansion, per-stage keys, config errors, and the paper preset's DAG size."""
from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import data_root

from leti.core.errors import UserError
from leti.workflow.checks import check_config
from leti.workflow.plan import Plan

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def load(name):
    return yaml.safe_load(open(REPO / name))


def test_default_grid_has_the_four_arms_with_readable_ids():
    plan = Plan(load("config.yaml"))
    assert [r.id for r in plan.runs] == [
        "model=tiny/feedback=textual/reg=on/seed=0",
        "model=tiny/feedback=textual/reg=off/seed=0",
        "model=tiny/feedback=binary/reg=on/seed=0",
        "model=tiny/feedback=none/reg=on/seed=0",
    ]
    noreg = plan.by_id["model=tiny/feedback=textual/reg=off/seed=0"]
    assert noreg.params["train"]["reg_ratio"] == 0 and plan.runs[0].params["train"]["reg_ratio"] == 1.0


def test_iteration_one_work_is_shared_and_later_work_is_not():
    plan = Plan(load("config.yaml"))
    first = {plan.train_samples(r, 1) for r in plan.runs}
    assert first == {"work/loop/shared/seed=0/iter1/samples.jsonl"}
    assert len({plan.train_samples(r, 2) for r in plan.runs}) == 4
    assert len({plan.ckpt(r, 0) for r in plan.runs}) == 1  # one base for every arm
    assert len({plan.metrics(r, 0, "none") for r in plan.runs}) == 1  # base evaluated once


def test_control_arm_never_uses_a_reward_token():
    plan = Plan(load("config.yaml"))
    control = plan.by_id["model=tiny/feedback=none/reg=on/seed=0"]
    assert control.params["fcft"]["feedback_type"] == "none"
    assert all(plan.conditionings(control, it) == ["none"] for it in range(4))
    textual = plan.runs[0]
    # synth_test's conditionings_at: [last]: <|bad|> and no token only where the report compares them
    assert plan.conditionings(textual, 1) == plan.conditionings(textual, 2) == ["good"]
    assert plan.conditionings(textual, 3) == ["good", "bad", "none"]
    assert plan.benchmarks_at(textual, 3, "bad") == ["synth_test"]
    assert plan.benchmarks_at(textual, 1, "bad") == []


def test_a_checkpoint_is_evaluated_and_sampled_for_training_in_separate_jobs():
    """An evaluation-only change must never redraw training samples (nor retrain): separate files, jobs."""
    plan = Plan(load("config.yaml"))
    textual = plan.runs[0]
    assert plan.train_samples(textual, 2) == f"work/loop/{textual.id}/iter2/samples.jsonl"
    assert plan.eval_samples(textual, 1) == f"work/eval/runs/{textual.id}/iter1/samples.jsonl"
    assert plan.train_samples(textual, 1).startswith("work/loop/shared/")  # from the base: shared
    cfg = load("config.yaml")
    cfg["checkpoint_sampling"] = "joint"
    with pytest.raises(UserError, match="checkpoint_sampling"):
        from leti.workflow.checks import validate_config
        validate_config(cfg)


def test_conditionings_at_defaults_to_every_iteration():
    cfg = load("config.yaml")
    del cfg["benchmarks"]["synth_test"]["conditionings_at"]
    plan = Plan(cfg)
    assert all(plan.conditionings(plan.runs[0], it) == ["good", "bad", "none"] for it in (1, 2, 3))
    cfg["benchmarks"]["synth_test"]["conditionings_at"] = [2]
    plan = Plan(cfg)
    # iteration 3 keeps none: the other benchmarks are evaluated under <|good|> and no token at the last iteration
    assert [plan.conditionings(plan.runs[0], it) for it in (1, 2, 3)] == [["good"], ["good", "bad", "none"],
                                                                          ["good", "none"]]


def test_adding_an_axis_value_expands_the_grid_without_code():
    cfg = load("config.yaml")
    cfg["axes"]["lr"] = {"low": {"train.lr": 5e-4}, "high": {"train.lr": 2e-3}}
    plan = Plan(cfg)
    assert len(plan.runs) == 8
    assert {r.params["train"]["lr"] for r in plan.runs} == {5e-4, 2e-3}
    # lr only touches training: iteration-1 samples stay shared across it
    assert len({plan.train_samples(r, 1) for r in plan.runs}) == 1


def test_override_of_a_missing_parameter_is_a_clear_error():
    cfg = load("config.yaml")
    cfg["axes"]["reg"]["off"] = {"train.reg_ratoi": 0}
    with pytest.raises(UserError, match=r"axes.reg.off: 'train.reg_ratoi' overrides a parameter that does not exist"):
        Plan(cfg)


def test_unquoted_yaml_booleans_as_axis_values_are_caught():
    cfg = load("config.yaml")
    cfg["axes"]["reg"] = {True: {}, False: {"train.reg_ratio": 0}}
    with pytest.raises(UserError, match="quote it"):
        check_config(cfg)


def test_missing_data_file_is_named(tmp_path):
    cfg = load("config.yaml")
    cfg["data_root"] = str(tmp_path)
    with pytest.raises(UserError, match=r"benchmarks.mbpp needs .*mbpp/mbpp.jsonl"):
        check_config(cfg)


def _snakemake(*args, cwd=REPO, timeout=120):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run([SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def _job_counts(out: str) -> dict:
    counts, on = {}, False
    for line in out.splitlines():
        if line.startswith("job ") and "count" in line:
            on = True
            continue
        if on:
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                counts[parts[0]] = int(parts[1])
            elif counts:
                break
    return counts


@pytest.fixture(scope="module")
def paper_dry_run(tmp_path_factory):
    t0 = time.time()
    r = _snakemake("-n", "--configfile", str(REPO / "presets" / "paper.yaml"),
                   "--directory", str(tmp_path_factory.mktemp("paper")), "--config", f"data_root={data_root()}")
    assert r.returncode == 0, r.stderr[-2000:]
    return r, time.time() - t0


def test_paper_preset_plans_the_expected_jobs(paper_dry_run):
    r, elapsed = paper_dry_run
    counts = _job_counts(r.stdout)
    # 350M: 3 arms x 14 iterations (textual, binary, w/o reg); 2B: 3 arms x 6, and the two runs trained w/
    # post-processing stopped where the original evaluated them (2 and 3); LeTI on EAE: one 350M arm x 30
    assert counts["train"] == 3 * 14 + 3 * 6 + 2 + 3 + 30
    assert "fcft_data" not in counts and "train_summary" not in counts  # train builds its FCFT data, writes its summary
    assert counts["init_model"] == 2 and counts["pretrain_corpus"] == 1 and counts["train_data"] == 2
    # iteration 1 is shared per (model size, post-processing, task): 5 jobs; later iterations per arm
    assert counts["sample_train"] == 5 + (3 * 13 + 3 * 5 + 1 + 2 + 29)
    assert counts["execute_train"] == counts["sample_train"] and "programs_train" not in counts  # one job each
    # MBPP under good/bad/none at every iteration >= 1 in its own sampling job per checkpoint, the bases
    # once under none; the EAE arm is evaluated on EAE only, under good
    assert counts["eval_sample"] == 2 + (3 * 14 + 3 * 6 + 2 + 3 + 30)
    assert counts["eval_score"] == 2 + 3 * (3 * 14 + 3 * 6 + 2 + 3) + 30
    assert counts["heldout_loss"] == 2  # the bases; train measures each checkpoint it writes
    assert counts["bench_data"] == 8 and counts["report"] == 1
    print(f"paper preset dry run: {sum(counts.values())} jobs in {elapsed:.1f} s")


def test_paper_preset_sizes_the_jobs_that_load_a_model_by_its_size(paper_dry_run):
    """CodeGen-2B is 11 GB of fp32 weights: its init_model (CPU partition) needs more than the 16 GB the
    CPU rules ask for, its GPU jobs more host memory and time than the 350M's (resources.models)."""
    r, _ = paper_dry_run
    asked = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", r.stdout):
        m = re.match(r"(?:local)?rule (\w+):", block)
        wc, res = re.search(r"^\s+wildcards: (.*)$", block, re.M), re.search(r"^\s+resources: (.*)$", block, re.M)
        if m and wc and res:
            size = re.search(r"model=(2B|350M)", wc.group(1))
            mem, runtime = re.search(r"mem_mb=(\d+)", res.group(1)), re.search(r"runtime=(\d+)", res.group(1))
            if size and mem:  # (the manifests run on the submitting host: no memory asked)
                asked.setdefault((m.group(1), size.group(1)), set()).add((int(mem.group(1)), int(runtime.group(1))))
    assert asked[("init_model", "2B")] == {(48000, 240)} and asked[("init_model", "350M")] == {(16000, 240)}
    for rule in ("train", "sample_train", "eval_sample", "heldout_loss"):
        assert asked[(rule, "2B")] == {(96000, 2880)} and asked[(rule, "350M")] == {(64000, 1440)}, rule
    assert asked[("execute_train", "2B")] == {(16000, 240)}  # no model loaded: the CPU rules' size


def test_per_model_resources_are_validated(tmp_path):
    from leti.workflow import specs

    cfg = load("presets/paper.yaml")
    cases = {"unknown key": ({"Salesforce/codegen-2B-mono": {"gpu_rules": {"gpus": 2}}},
                             "resources.models.Salesforce/codegen-2B-mono.gpu_rules: unknown key(s) ['gpus']"),
             "bad value": ({"Salesforce/codegen-2B-mono": {"cpu_rules": {"mem_mb": 0}}},
                           "resources.models.Salesforce/codegen-2B-mono.cpu_rules.mem_mb"),
             "unknown kind": ({"Salesforce/codegen-2B-mono": {"tpu_rules": {}}}, "unknown key(s) ['tpu_rules']")}
    from leti.workflow.checks import validate_config
    for name, (models, message) in cases.items():
        c = copy.deepcopy(cfg)
        c["resources"]["models"] = models
        with pytest.raises(UserError, match=re.escape(message)):
            validate_config(c)
    c = copy.deepcopy(cfg)
    c["resources"]["models"] = {"Salesforce/codegen-2B-mon": {"cpu_rules": {"mem_mb": 48000}}}  # a typo
    with pytest.raises(UserError, match=r"resources.models: 'Salesforce/codegen-2B-mon' is not the model.source"):
        specs.model_resources(Plan(c), "cpu", lambda wc: None)


def test_bad_config_fails_before_any_job_with_one_line(tmp_path):
    cfg = load("presets/ci.yaml")
    cases = {
        "unknown key": (lambda c: c.update(colour="blue"), "Additional properties are not allowed ('colour'"),
        "wrong type": (lambda c: c["params"]["sample"].update(n="many"), "params.sample.n: 'many' is not of type 'integer'"),
        "missing param": (lambda c: c["axes"]["feedback"].update(x={"fcft.kind": 1}), "'fcft.kind' overrides a parameter that does not exist"),
        "missing data": (lambda c: c.update(data_root=str(tmp_path / "nowhere")), "does not exist (check data_root)"),
    }
    for name, (mutate, message) in cases.items():
        c = copy.deepcopy(cfg)
        mutate(c)
        path = tmp_path / f"{name.replace(' ', '_')}.yaml"
        path.write_text(yaml.safe_dump(c))
        r = _snakemake("-n", "--configfile", str(path))
        assert r.returncode != 0, name
        lines = [l for l in (r.stdout + r.stderr).splitlines() if l.startswith("config error")]
        assert len(lines) == 1 and message in lines[0], (name, r.stdout[-500:], r.stderr[-1500:])
        assert "rule " not in r.stdout, name  # nothing was scheduled


def test_lint_is_clean():
    r = _snakemake("--lint")
    assert r.returncode == 0 and "Lints for" not in r.stdout + r.stderr, (r.stdout + r.stderr)[-3000:]


def test_conda_envs_pin_what_requirements_pin():
    reqs = {}
    for line in open(REPO / "requirements.txt"):
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            reqs[name.lower()] = version
    for env in sorted((REPO / "envs").glob("*.yaml")):
        pins = [p for d in yaml.safe_load(open(env))["dependencies"] if isinstance(d, dict) for p in d["pip"]]
        for pin in pins:
            if "==" in pin:
                name, version = pin.split("==")
                assert reqs.get(name.lower()) == version, f"{env.name}: {pin} disagrees with requirements.txt"
