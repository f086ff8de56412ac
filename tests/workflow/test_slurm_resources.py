"""Partitions and the SLURM account come from the config's `resources:` (preset or --config), and
reach every job that runs something; a profile's default-resources does not (docs/slurm.md)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from leti.core.errors import UserError
from leti.workflow import specs
from leti.workflow.checks import validate_config

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def _ci() -> dict:
    return yaml.safe_load((REPO / "presets" / "ci.yaml").read_text())


def test_gpu_type_and_plugin_resources_come_from_the_config():
    cfg = _ci()
    cfg["resources"]["gpu_rules"].update(gpu_model="h100", cpus_per_gpu=16, constraint="nvlink",
                                         slurm_extra="--mail-type=FAIL")
    cfg["resources"]["cpu_rules"].update(cpus_per_task=4, qos="short")
    validate_config(cfg)
    gpu, cpu = specs.gpu_resources(cfg), specs.cpu_resources(cfg)
    assert gpu == {"mem_mb": 2000, "runtime": 20, "slurm_partition": "gpu", "gpu": 1, "gpu_model": "h100",
                   "cpus_per_gpu": 16, "constraint": "nvlink", "slurm_extra": "--mail-type=FAIL"}
    assert cpu == {"mem_mb": 2000, "runtime": 20, "slurm_partition": "cpu", "cpus_per_task": 4, "qos": "short"}


def test_account_goes_to_every_job_kind():
    cfg = _ci()
    assert "slurm_account" not in specs.gpu_resources(cfg) and "slurm_account" not in specs.cpu_resources(cfg)
    cfg["resources"].update(account="proj1", gpu_partition="a100", cpu_partition="short")
    gpu, cpu = specs.gpu_resources(cfg), specs.cpu_resources(cfg)
    assert gpu["slurm_account"] == cpu["slurm_account"] == "proj1"
    assert gpu["slurm_partition"] == "a100" and cpu["slurm_partition"] == "short" and gpu["gpu"] == 1


@pytest.mark.parametrize("key, value, message", [
    ("acount", "proj1", "Additional properties are not allowed ('acount'"),
    ("gpu_partition", "", "resources.gpu_partition"),
    ("account", 5, "resources.account: 5 is not of type"),
])
def test_resource_typos_are_config_errors(key, value, message):
    cfg = _ci()
    cfg["resources"][key] = value
    with pytest.raises(UserError, match=re.escape(message)):
        validate_config(cfg)


def test_dry_run_shows_partitions_and_account_from_the_command_line(tmp_path):
    """(In an empty directory: a finished run of the CI preset in the repo must not change what it sees.)"""
    from conftest import data_root

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    r = subprocess.run([SNAKEMAKE, "-n", "--configfile", str(REPO / "presets" / "ci.yaml"), "--directory", str(tmp_path),
                        "--config", f"data_root={data_root()}",
                        'resources={"gpu_partition": "a100", "cpu_partition": "short", "account": "proj1", '
                        '"gpu_rules": {"gpu_model": "a100", "cpus_per_gpu": 8, "slurm_extra": "--mail-type=FAIL"}}',
                        # a profile-style default-resources reaches no rule that runs a job
                        "--default-resources", "slurm_partition=ignored", "slurm_account=ignored"],
                       cwd=REPO, capture_output=True, text=True, timeout=180, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    jobs = re.findall(r"^rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", r.stdout, re.M)
    assert jobs, r.stdout[-2000:]
    local = {n.strip() for f in [REPO / "Snakefile", *(REPO / "rules").glob("*.smk")]
             for m in re.findall(r"^localrules:(.*)$", f.read_text(), re.M) for n in m.split(",")}
    by_rule = {}
    for rule, res in jobs:
        if rule in local | {"all"}:  # bookkeeping on the submitting host, or no command: never submitted
            continue
        by_rule.setdefault(rule, set()).add(re.search(r"slurm_partition=(\w+)", res).group(1))
        assert "slurm_account=proj1" in res and "ignored" not in res, (rule, res)
    for rule in ("train", "sample_train", "eval_sample", "pretrain", "heldout_loss"):
        assert by_rule[rule] == {"a100"}, by_rule
    gpu_jobs = [res for rule, res in jobs if rule in ("train", "sample_train", "eval_sample", "pretrain")]
    assert all("gpu_model=a100" in res and "cpus_per_gpu=8" in res and "gpu=1" in res for res in gpu_jobs)
    assert all("gpu_model" not in res for rule, res in jobs if rule in ("eval_score", "execute_train"))
    for rule in ("eval_score", "execute_train", "report", "synth"):
        assert by_rule[rule] == {"short"}, by_rule
