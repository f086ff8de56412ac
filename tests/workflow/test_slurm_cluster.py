"""The SLURM side of the harness, end to end on a private one-node cluster.

Runs tests/slurm/toy/Snakefile with the literal user profile (./slurm) layered
with the test-cluster override (tests/slurm/profile) and checks that the GPU
rule landed on partition `gpu` with one GPU and the CPU rule on `cpu`.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest_slurm import REPO, USER_PROFILE, slurm_cluster  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.slurm]

TOY = REPO / "tests" / "slurm" / "toy" / "Snakefile"


def _fields(text: str) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in text.split())


def test_cluster_has_cpu_and_gpu_partitions(slurm_cluster):
    parts = slurm_cluster.run("sinfo", "-h", "-o", "%P %T").split()
    assert "cpu*" in parts and "gpu" in parts, parts        # cpu is the default
    node = slurm_cluster.run("scontrol", "show", "node", "localhost")
    assert "Gres=gpu:2" in node and "State=IDLE" in node, node
    # the plugin may only use squeue when MinJobAge >= 3 x the initial status wait
    cfg = slurm_cluster.run("scontrol", "show", "config")
    assert re.search(r"MinJobAge\s*=\s*300", cfg)


def test_toy_workflow_routes_gpu_and_cpu_partitions(slurm_cluster, tmp_path):
    shutil.copy(TOY, tmp_path / "Snakefile")
    # the test profile points `configfile` at presets/ci.yaml; a command-line
    # --configfile beats it, which also proves the precedence
    (tmp_path / "toy.yaml").write_text("toy_tag: from-cli\n")
    t0 = time.monotonic()
    r = slurm_cluster.snakemake(tmp_path, "--configfile", "toy.yaml", timeout=240)
    elapsed = time.monotonic() - t0
    assert r.returncode == 0, slurm_cluster.explain(r, tmp_path)
    assert "Using profiles" in r.stdout and "slurm" in r.stdout

    gpu = _fields((tmp_path / "gpu.txt").read_text())
    cpu = _fields((tmp_path / "cpu.txt").read_text())
    assert gpu["partition"] == "gpu", gpu
    assert cpu["partition"] == "cpu", cpu
    assert gpu["cuda"] != "none" and cpu["cuda"] == "none", (gpu, cpu)  # fake GPU visible
    assert gpu["tag"] == cpu["tag"] == "from-cli"
    assert gpu["job"].isdigit() and cpu["job"].isdigit() and gpu["job"] != cpu["job"]

    # ask the controller (jobs stay visible for MinJobAge=300 s) what was allocated
    gjob = slurm_cluster.run("scontrol", "-o", "show", "job", gpu["job"])
    cjob = slurm_cluster.run("scontrol", "-o", "show", "job", cpu["job"])
    assert "JobState=COMPLETED" in gjob and "JobState=COMPLETED" in cjob
    assert "Partition=gpu" in gjob and "Partition=cpu" in cjob
    assert "TresPerJob=gres:gpu:1" in gjob, gjob  # `gpu=1` became --gpus=1
    assert "gpu" not in cjob.split("Partition=")[1].split("WorkDir=")[0], cjob
    assert "TresPerJob" not in cjob, cjob
    assert "Requeue=1" in gjob, gjob              # slurm-requeue: true (preemption)
    # the test profile's default-resources reached sbatch (--mem 1000, -t 30)
    assert "mem=1000M" in cjob and "TimeLimit=00:30:00" in cjob, cjob
    print(f"gpu.txt: {gpu}  cpu.txt: {cpu}")
    print(f"toy workflow on SLURM took {elapsed:.1f}s "
          f"(cluster start {slurm_cluster.startup_s:.1f}s, apt {slurm_cluster.install_s:.1f}s)")


def test_user_profile_alone_selects_paper_preset(slurm_cluster, tmp_path):
    """`snakemake --profile slurm` from a directory that has ./slurm picks executor slurm and
    presets/paper.yaml; its dry run is a summary, every job on request (`--quiet host -p`)."""
    shutil.copy(TOY, tmp_path / "Snakefile")
    shutil.copytree(USER_PROFILE, tmp_path / "slurm")
    (tmp_path / "presets").mkdir()
    (tmp_path / "presets" / "paper.yaml").write_text("toy_tag: paper-preset\n")
    outputs = []
    for extra in ((), ("--quiet", "host", "--printshellcmds")):
        cmd = slurm_cluster.snakemake_cmd("--dry-run", *extra, profiles=("slurm",), timeout=120)
        r = subprocess.run(cmd, cwd=tmp_path, env=slurm_cluster.env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert r.returncode == 0, r.stdout
        assert "Using profile slurm" in r.stdout, r.stdout
        outputs.append(r.stdout)
    summary, full = outputs
    assert "on_gpu" in summary and "rule on_gpu:" not in summary and "Shell command" not in summary, summary
    assert "tag=paper-preset" in full, full
    assert "slurm_partition=gpu" in full and "gpu=1" in full, full
    assert "slurm_partition=cpu" in full and "mem_mb=8000" not in full, full  # no default-resources
    # the repo's workflow profile (applied to every run) must set no option: it would replace
    # the same top-level keys of --profile slurm (it only checks config files)
    from leti.workflow.configfiles import workflow_profile_options
    assert workflow_profile_options(REPO / "profiles" / "default" / "config.yaml") == {}


def test_stop_leaves_no_daemons(slurm_cluster):
    """Runs last in this module: stop by PID, nothing of the cluster survives."""
    pids = slurm_cluster.cluster.pids()
    assert set(pids) == {"munged", "slurmctld", "slurmd"}, pids
    slurm_cluster.cluster.stop()
    for name, pid in pids.items():
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z", name
    assert slurm_cluster.cluster.leftover_processes() == []
    # no live slurmctld/slurmd/slurmstepd on the machine that belongs to this
    # cluster (its daemons were started with the cluster dir as working directory)
    ours = []
    for proc in Path("/proc").iterdir():
        try:
            comm = (proc / "comm").read_text().strip()
            if comm in ("slurmctld", "slurmd", "slurmstepd", "munged") and \
                    Path(proc / "cwd").resolve() == slurm_cluster.cluster.dir and \
                    (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                ours.append(f"{proc.name}:{comm}")
        except OSError:
            continue
    assert ours == [], ours
    link = Path("/etc/slurm/slurm.conf")
    assert not (link.is_symlink() and Path(link.readlink()) == slurm_cluster.conf)
