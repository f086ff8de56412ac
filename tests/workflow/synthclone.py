"""A synthetic clone of the CI grid for planning tests: every output of every job exists (empty) and
carries the record the plan expects, no model involved; `dry_run` asks Snakemake what it would run."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from leti.core.records import write_records
from leti.workflow.freshness import Catalog
from leti.workflow.plan import Plan

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
DIRECTORIES = {"tokenizer", "pretrain", "init_model"}  # rules whose (first) output is a directory


def ci_config(**changes) -> dict:
    cfg = yaml.safe_load(open(REPO / "presets" / "ci.yaml"))
    cfg["data_root"] = os.environ.get("LETI_DATA_ROOT") or str(REPO.parent / "shared" / "data")
    cfg["warm_start"] = False
    for dotted, value in changes.items():
        node = cfg
        *head, last = dotted.split(".")
        for part in head:
            node = node[part]
        node[last] = value
    return cfg



def make_clone(root: Path, cfg: dict) -> Catalog:
    """Every output of every job, empty, with the record the plan expects (manifests last)."""
    from leti.report import output_files

    cwd = os.getcwd()
    os.chdir(root)
    try:
        cat = Catalog(Plan(cfg))
        jobs = list(cat.jobs.values())
        for job in jobs:
            for i, out in enumerate(job.outputs):
                p = Path(out)
                if (job.rule in DIRECTORIES and i == 0) or (job.rule == "report" and i == 1) or (job.rule == "train" and i == 0):
                    p.mkdir(parents=True, exist_ok=True)
                else:
                    p.parent.mkdir(parents=True, exist_ok=True)
                    p.write_text("")
            if job.rule == "report":
                files = output_files(job.outputs[1])
                for f in files["main"] + files["tables"] + files["figures"]:
                    Path(f).parent.mkdir(parents=True, exist_ok=True)
                    Path(f).write_text("")
        for job in jobs:
            if job.rule != "run_manifest":
                write_records(cat.record_arg(job))
        for job in cat.of_rule("run_manifest"):
            cat.write_manifest(job)
        return cat
    finally:
        os.chdir(cwd)


def snakemake_n(root: Path, cfg: dict, *args: str) -> subprocess.CompletedProcess:
    """`snakemake -n ARGS` on the clone at `root` with config `cfg`."""
    cfg_file = root / "config.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg, sort_keys=False))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run([SNAKEMAKE, *args, "-n", "--configfile", str(cfg_file), "--directory", str(root)],
                          cwd=REPO, capture_output=True, text=True, timeout=300, env=env)


def dry_run(root: Path, cfg: dict, *args: str) -> list[tuple[str, str]]:
    """(rule, wildcards line) of each job `snakemake -n ARGS` plans."""
    r = snakemake_n(root, cfg, *args)
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-3000:])
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", r.stdout):
        m = re.match(r"(?:local)?rule (\w+):", block)
        if m:
            wc = re.search(r"^\s+wildcards: (.*)$", block, re.M)
            jobs.append((m.group(1), wc.group(1) if wc else ""))
    assert len(r.stdout) < 200_000
    return jobs


def rule_counts(jobs) -> dict:
    out = {}
    for rule, _ in jobs:
        out[rule] = out.get(rule, 0) + 1
    return out




def restamp(root: Path, cfg: dict, select) -> list:
    """Give the outputs of the jobs `select(job)` picks the records `cfg` plans (as if those jobs had run
    with `cfg`); returns those jobs."""
    cwd = os.getcwd()
    os.chdir(root)
    try:
        cat = Catalog(Plan(cfg))
        jobs = [j for j in cat.jobs.values() if select(j)]
        for job in jobs:
            write_records(cat.record_arg(job))
        return jobs
    finally:
        os.chdir(cwd)


def copy_clone(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst, symlinks=True)
    return dst
