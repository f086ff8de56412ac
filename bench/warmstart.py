"""Benchmark of warm start (leti.warmstart; not a timed test): the same torch-importing `leti` command
run N times as its own process (LETI_WARM=0) and N times through the warm server (LETI_WARM=1, the
first call starting the server), in the same run. Prints wall and CPU seconds per call and the ratios,
and checks that both modes wrote identical outputs.

The command is `leti lm-loss` on a micro GPT-2 built here (a job whose own work takes well under a
second, so the ratio is mostly the start-up cost a workflow job pays).

    .venv/bin/python bench/warmstart.py            # 8 calls per mode
    .venv/bin/python bench/warmstart.py --n 3
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def build_micro(root: Path) -> tuple[Path, Path]:
    from conftest import MICRO_TEXTS, make_micro_checkpoint

    ckpt = make_micro_checkpoint(root / "ckpt")
    data = root / "heldout.jsonl"
    data.write_text("".join(json.dumps({"text": t}) + "\n" for t in MICRO_TEXTS[:8]))
    return ckpt, data


def run_mode(warm: bool, n: int, ckpt: Path, data: Path, root: Path) -> tuple[list[float], float, list[str]]:
    leti = str(Path(sys.executable).with_name("leti"))
    env = {**os.environ, "LETI_WARM": "1" if warm else "0", "LETI_WARM_DIR": str(root / "sock"), "LETI_WARM_IDLE": "30"}
    walls, outs = [], []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for i in range(n):
        out = root / f"{'warm' if warm else 'cold'}{i}.json"
        t = time.perf_counter()
        subprocess.run([leti, "lm-loss", "--model", str(ckpt), "--data", str(data), "--out", str(out),
                        "--threads", "1"], env=env, check=True, capture_output=True)
        walls.append(time.perf_counter() - t)
        outs.append(out.read_text())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return walls, cpu, outs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=8)
    args = p.parse_args()
    root = Path(tempfile.mkdtemp(prefix="leti-warm-bench-"))
    (root / "sock").mkdir(mode=0o700)
    try:
        ckpt, data = build_micro(root)
        cold, cold_cpu, cold_out = run_mode(False, args.n, ckpt, data, root)
        warm, _, warm_out = run_mode(True, args.n, ckpt, data, root)
        assert len(set(cold_out + warm_out)) == 1, "warm and cold runs wrote different outputs"
        first, rest = warm[0], warm[1:]
        cold_mean = sum(cold) / len(cold)
        warm_mean = sum(rest) / max(len(rest), 1)
        print(f"leti lm-loss x{args.n} per mode, {os.cpu_count()} CPUs")
        print(f"  own process (LETI_WARM=0): {cold_mean:.2f} s wall per call, {cold_cpu / args.n:.2f} s CPU per call")
        print(f"  warm server, first call (starts the server): {first:.2f} s")
        print(f"  warm server, later calls: {warm_mean:.2f} s wall per call")
        print(f"  ratio own process / warm: {cold_mean / warm_mean:.1f}x per call")
        print("  outputs identical: yes")
    finally:
        for pid_file in (root / "sock").glob("*.pid"):
            try:
                os.kill(int(pid_file.read_text()), 15)
            except (ProcessLookupError, ValueError):
                pass
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
