"""What Snakemake plans in issue 24's scenarios (items 1-4), for any tree of this repo (this one or an older
commit checked out with `git worktree add`), on a synthetic clone of the CI grid (every output present,
with the record the plan expects; then records rewritten as the scenario leaves them). No model runs.

    LETI_DATA_ROOT=../shared/data python bench/scenarios.py TREE

Prints one line per scenario: the planned jobs per rule, "Nothing to be done", or the one-line error.
Clones go to /tmp/leti-scenarios/<tree name>/.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

TREE = Path(sys.argv[1]).resolve()
sys.path[:0] = [str(TREE), str(TREE / "tests" / "workflow"), str(TREE / "tests")]
os.environ["PYTHONPATH"] = str(TREE)  # the tree's own leti, for its Snakefile too

import yaml  # noqa: E402

try:  # the clone helpers moved to tests/workflow/synthclone.py in issue 24
    from synthclone import ci_config, make_clone  # noqa: E402
except ImportError:
    from test_freshness import ci_config, make_clone  # noqa: E402
from leti.core.records import write_records  # noqa: E402
from leti.workflow.freshness import Catalog  # noqa: E402
from leti.workflow.plan import Plan  # noqa: E402

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
LOOP_RULES = ("sample_train", "sample_checkpoint", "programs_train", "execute_train", "fcft_data")


def clone(name: str) -> Path:
    root = Path("/tmp/leti-scenarios") / TREE.name / name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    make_clone(root, ci_config())
    return root


def restamp(root: Path, cfg: dict, select) -> None:
    """Give the jobs `select` picks the records `cfg` plans, as if they had run with it."""
    cwd = os.getcwd()
    os.chdir(root)
    try:
        cat = Catalog(Plan(cfg))
        for job in cat.jobs.values():
            if select(job):
                write_records(cat.record_arg(job))
    finally:
        os.chdir(cwd)


def ran_until_training(job) -> bool:
    """What `snakemake` had run with the change when it was stopped after the training jobs: the loop's
    jobs (those of iteration 1 that the change does not touch get the records they had)."""
    return job.rule == "train" or job.rule in LOOP_RULES


def plan(root: Path, cfg: dict, *args: str) -> str:
    path = root / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    r = subprocess.run([SNAKEMAKE, *args, "-n", "--quiet", "rules", "--configfile", str(path), "--directory", str(root)],
                       cwd=TREE, capture_output=True, text=True)
    if r.returncode:
        return "ERROR: " + r.stderr.strip().splitlines()[-1][:300]
    parts = r.stdout.split("Job stats:", 1)
    if len(parts) < 2:
        return "Nothing to be done"
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", parts[1].split("Reasons")[0], re.M))
    counts.pop("total", None)
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def main() -> None:
    steps5 = ci_config(**{"params.train.steps": 5})
    root = clone("revert")
    restamp(root, steps5, ran_until_training)
    print("1. revert after an interrupted train.steps change:", plan(root, ci_config()))
    print("   --rerun-incomplete:", plan(root, ci_config(), "--rerun-incomplete"))
    print("2. snakemake report -n then:", plan(root, ci_config(), "report"))
    print("   snakemake report -n with train.steps changed:", plan(clone("changed"), steps5, "report"))
    root = clone("force")
    print("3. -R pretrain:", plan(root, ci_config(), "-R", "pretrain"))
    print("   --forcerun train:", plan(root, ci_config(), "--forcerun", "train"))
    print("4. benchmarks.synth_test.n 2 -> 3:", plan(root, ci_config(**{"benchmarks.synth_test.n": 3})))


if __name__ == "__main__":
    main()
