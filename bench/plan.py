"""Planning time: `snakemake -n --profile slurm` (the paper grid, ~600 jobs) for this tree and a
baseline revision, in the same run, so that the ratio does not depend on the machine's mood.

    python bench/plan.py [--baseline REV] [--repeats 5]

The baseline is checked out as a temporary git worktree and imported through PYTHONPATH (its own
`leti`, not this tree's). Prints the median wall time of each and their ratio, and appends the
result to bench/results/plan.txt.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from leti.core.paths import default_data_root  # noqa: E402


def time_dry_run(tree: Path, repeats: int, configfile: Path) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    env.pop("LETI_WARM", None)
    cmd = [str(Path(sys.executable).with_name("snakemake")), "-n", "--profile", "slurm", "--quiet", "rules",
           "--configfile", str(configfile), "--config", f"data_root={default_data_root()}"]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if r.returncode:
            sys.exit(f"{tree}: snakemake -n failed:\n{r.stderr[-2000:]}")
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default=None, help="git revision to compare with (default: none)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        trees = [("this tree", REPO)]
        if args.baseline:
            base = Path(tmp) / "baseline"
            subprocess.run(["git", "worktree", "add", "--detach", str(base), args.baseline], cwd=REPO, check=True,
                           capture_output=True)
            trees.append((f"baseline {args.baseline}", base))
        # one grid for both: the baseline's paper preset (the newer preset may plan more jobs)
        configfile = Path(tmp) / "paper.yaml"
        configfile.write_text((trees[-1][1] / "presets" / "paper.yaml").read_text())
        try:
            for _ in range(2):  # interleaved rounds: drift hits both alike
                for name, tree in trees:
                    rows.append((name, time_dry_run(tree, max(1, args.repeats // 2), configfile)))
        finally:
            if args.baseline:
                subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=REPO, check=False)
    med = {name: statistics.median([t for n, ts in rows if n == name for t in ts]) for name, _ in trees}
    lines = [f"{time.strftime('%Y-%m-%d %H:%M')} snakemake -n --profile slurm (the paper grid of "
             f"{args.baseline or 'this tree'}), median of "
             f"{2 * max(1, args.repeats // 2)} runs each"]
    lines += [f"  {name}: {m:.2f} s" for name, m in med.items()]
    if args.baseline:
        lines.append(f"  ratio baseline / this tree: {med[trees[1][0]] / med['this tree']:.2f}x")
    print("\n".join(lines))
    out = REPO / "bench" / "results" / "plan.txt"
    with open(out, "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
