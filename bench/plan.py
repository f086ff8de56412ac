"""Planning time: `snakemake -n --profile slurm` of the paper grid, grown by seeds and extra axes, for this
tree and a baseline revision, interleaved in the same run so that the ratio does not depend on the
machine's mood.

    python bench/plan.py --baseline 1ca64a5 [--grids 1x0 10x0 10x1] [--rounds 2] [--repeats 1]

A grid `SxA` is the baseline's `presets/paper.yaml` with seeds 0..S-1 and A extra two-valued axes that
touch training only (925, ~9k and ~18k jobs for 1x0, 10x0 and 10x1 at commit 1ca64a5). The baseline is
checked out as a temporary git worktree (or given as a directory) and imported through PYTHONPATH (its
own `leti`, not this tree's); both plan in an empty working directory, so every job of the grid is
planned. Prints, per grid and tree, the jobs planned, the median wall and CPU time and the CPU time
per job, and appends them to bench/results/plan.txt.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from leti.core.paths import default_data_root  # noqa: E402

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def grid_config(preset: Path, seeds: int, extra_axes: int) -> dict:
    cfg = yaml.safe_load(preset.read_text())
    cfg["seeds"] = list(range(seeds))
    for i in range(extra_axes):  # two learning rates per extra axis: training and everything after it
        lr = float(cfg["params"]["train"]["lr"])
        cfg["axes"][f"extra{i}"] = {"a": {}, "b": {"train.lr": lr * (2 + i)}}
    return cfg


def plan_once(tree: Path, configfile: Path) -> tuple[float, float, int]:
    """(wall s, CPU s of the snakemake process tree, jobs planned) of one dry run in an empty directory."""
    env = dict(os.environ, PYTHONPATH=str(tree), PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    env.pop("LETI_WARM", None)
    with tempfile.TemporaryDirectory() as work:
        cmd = [SNAKEMAKE, "-n", "--profile", "slurm", "--quiet", "rules", "--configfile", str(configfile),
               "--directory", work, "--config", f"data_root={default_data_root()}"]
        return _timed_dry_run(cmd, tree, env, str(tree))


def _timed_dry_run(cmd: list[str], cwd, env, label: str) -> tuple[float, float, int]:
    """(wall s, CPU s of the child, planned jobs) of one `snakemake -n`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode:
        sys.exit(f"{label}: snakemake -n failed:\n{r.stderr[-3000:]}")
    m = re.search(r"^total\s+(\d+)", r.stdout, re.M)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, int(m.group(1)) if m else 0


FLOOR_SNAKEFILE = """
# Snakemake's own planning cost per job: chains of three trivial rules shaped like the grid's (a log, a
# benchmark file, constant resources, two parameters, one shell command), no input functions.
N = int(config["chains"])
rule all:
    input: expand("c/{i}.txt", i=range(N))
rule a:
    output: "a/{i}.txt"
    log: "logs/a/{i}.log"
    benchmark: "bench/a/{i}.tsv"
    params: x=lambda wc: wc.i, y="--flag"
    resources: mem_mb=1000, runtime=10, slurm_partition="cpu"
    shell: "echo {params.x} {params.y} > {output} 2> {log}"
rule b:
    input: "a/{i}.txt"
    output: "b/{i}.txt", "b/{i}.json"
    log: "logs/b/{i}.log"
    benchmark: "bench/b/{i}.tsv"
    params: x=lambda wc: wc.i, y="--flag"
    resources: mem_mb=1000, runtime=10, slurm_partition="gpu", gpu=1
    shell: "cat {input} > {output[0]}; echo {params.x} {params.y} > {output[1]} 2> {log}"
rule c:
    input: "b/{i}.txt", "b/{i}.json", "a/{i}.txt"
    output: "c/{i}.txt"
    log: "logs/c/{i}.log"
    benchmark: "bench/c/{i}.tsv"
    params: x=lambda wc: wc.i, y="--flag"
    resources: mem_mb=1000, runtime=10, slurm_partition="cpu"
    shell: "cat {input} > {output} 2> {log}"
"""


def floor_once(jobs: int) -> tuple[float, float, int]:
    """Snakemake alone: a trivial workflow of about `jobs` jobs (FLOOR_SNAKEFILE), planned the same way."""
    with tempfile.TemporaryDirectory() as work:
        Path(work, "Snakefile").write_text(FLOOR_SNAKEFILE)
        cmd = [SNAKEMAKE, "-n", "--executor", "slurm", "--jobs", "50", "--quiet", "rules", "--workflow-profile", "none",
               "--config", f"chains={max(1, jobs // 3)}"]
        return _timed_dry_run(cmd, work, None, "floor")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default=None, help="git revision or directory to compare with (default: none)")
    ap.add_argument("--grids", nargs="+", default=["1x0", "10x0", "10x1"], help="SEEDSxEXTRA_AXES per grid")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds (each tree once per grid per round)")
    ap.add_argument("--floor", action="store_true", help="also Snakemake alone: a trivial workflow as large")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "plan.txt"))
    args = ap.parse_args()
    grids = [tuple(int(x) for x in g.split("x")) for g in args.grids]
    with tempfile.TemporaryDirectory() as tmp:
        trees = [("this tree", REPO)]
        worktree = None
        if args.baseline:
            if Path(args.baseline).is_dir():
                base = Path(args.baseline).resolve()
                head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=base, capture_output=True, text=True)
                args.baseline = f"{head.stdout.strip() or '?'} ({base})"
            else:
                base = worktree = Path(tmp) / "baseline"
                subprocess.run(["git", "worktree", "add", "--detach", str(base), args.baseline], cwd=REPO,
                               check=True, capture_output=True)
            trees.append((f"baseline {args.baseline}", base))
        # one grid for both: the baseline's paper preset (the newer preset may plan other jobs)
        preset = trees[-1][1] / "presets" / "paper.yaml"
        files = {}
        for seeds, extra in grids:
            files[(seeds, extra)] = Path(tmp) / f"paper-{seeds}x{extra}.yaml"
            files[(seeds, extra)].write_text(yaml.safe_dump(grid_config(preset, seeds, extra), sort_keys=False))
        runs: dict[tuple, list] = {}
        try:
            for _ in range(args.rounds):  # interleaved: drift hits both alike
                for grid in grids:
                    for name, tree in trees:
                        runs.setdefault((grid, name), []).append(plan_once(tree, files[grid]))
                        w, c, n = runs[(grid, name)][-1]
                        print(f"  {grid[0]} seeds, {grid[1]} extra axes, {name}: {n} jobs, {w:.1f} s wall, {c:.1f} s CPU",
                              file=sys.stderr)
                    if args.floor:
                        runs.setdefault((grid, "snakemake alone"), []).append(
                            floor_once(runs[(grid, "this tree")][-1][2]))
        finally:
            if worktree is not None:
                subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=REPO, check=False)
    load = os.getloadavg()[0]
    lines = [f"{time.strftime('%Y-%m-%d %H:%M')} snakemake -n --profile slurm --quiet rules, the paper grid of "
             f"{args.baseline or 'this tree'} grown by seeds x extra axes; median of {args.rounds} interleaved "
             f"runs each; {os.cpu_count()} cores, load {load:.1f}"]
    for grid in grids:
        lines.append(f"  {grid[0]} seeds, {grid[1]} extra axes:")
        per_job = {}
        for name in [n for n, _ in trees] + (["snakemake alone"] if args.floor else []):
            walls, cpus, jobs = zip(*runs[(grid, name)])
            w, c, n = statistics.median(walls), statistics.median(cpus), jobs[0]
            per_job[name] = c / max(n, 1) * 1000
            lines.append(f"    {name:>20}: {n:6d} jobs  {w:7.1f} s wall  {c:7.1f} s CPU  {per_job[name]:5.2f} ms CPU/job")
        if len(trees) > 1:
            base_name = trees[1][0]
            (bw, bc, bn), (tw, tc, tn) = ([statistics.median(x) for x in zip(*runs[(grid, n)])] for n in
                                          (base_name, "this tree"))
            lines.append(f"    baseline / this tree: {bc / tc:.2f}x CPU for the same grid, "
                         f"{per_job[base_name] / per_job['this tree']:.2f}x CPU per planned job, {bw / tw:.2f}x wall")
    print("\n".join(lines))
    with open(args.out, "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
