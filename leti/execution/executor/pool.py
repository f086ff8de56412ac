"""Parent side: a pool of slots, each a judge (`leti.execution.executor.judge`) with its jailed worker,
talking JSON lines over pipes.

The parent never runs untrusted code and never decodes a program's values; it sends program records and
reads the judges' results.
"""
from __future__ import annotations

import atexit
import json
import os
import queue
import select
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable

from leti.execution.executor.children import close_child

HELLO_TIMEOUT_S = 120.0
GRACE_S = 30.0  # on top of a program's two budgets (hardened, then faithful) before its judge is declared hung
PIPELINE = 2  # requests in flight per slot


def _worker_env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[3])  # directory that holds the `leti` package
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": root,
        "PYTHONNOUSERSITE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONIOENCODING": "utf-8:backslashreplace",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONSAFEPATH": "1",
        # the judge may decode numpy values: no BLAS threads (its CPU alarm counts the process's time)
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    }
    if os.environ.get("LETI_EXECUTOR_SANDBOX"):
        env["LETI_EXECUTOR_SANDBOX"] = os.environ["LETI_EXECUTOR_SANDBOX"]
    return env


class WorkerDied(RuntimeError):
    pass


def _package_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def slot_cpus(n: int) -> list[int | None]:
    """The core each of `n` slots runs on: one of its own when the pool has exactly one slot per usable
    core (None each otherwise: the scheduler places them, so that several smaller pools running at once,
    e.g. workflow jobs, do not crowd the same cores). A slot is a chain of hand-overs (parent -> judge ->
    worker -> the program's process -> judge -> ...) in which one process runs at a time; on one core each
    hand-over is a local wake-up instead of a cross-core one (an inter-processor interrupt, costly in a
    VM). A program's own extra processes share its slot's core; `LETI_EXECUTOR_PIN=0` leaves placement to
    the scheduler (a node whose cores other jobs keep busy unevenly; docs/executor.md: Benchmark)."""
    cpus = sorted(os.sched_getaffinity(0))
    if os.environ.get("LETI_EXECUTOR_PIN", "1") == "0" or n != len(cpus):
        return [None] * n
    return cpus


class Worker:
    def __init__(self, python: str | None = None, cpu: int | None = None) -> None:
        env = _worker_env()
        if python:  # another interpreter (execute.python): it imports the worker from this checkout
            env["PYTHONPATH"] = _package_root()
        self.python = python
        self.cpu = cpu
        argv = ([sys.executable, "-m", "leti.execution.executor.judge"] + (["--python", python] if python else [])
                + (["--cpu", str(cpu)] if cpu is not None else []))
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd="/",
                                     close_fds=True)
        self.hello: dict | None = None
        self._buf = bytearray()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self) -> dict:
        if self.hello is None:
            self.hello = self._read(HELLO_TIMEOUT_S)
            if not self.hello.get("hello"):
                raise WorkerDied(f"the judge could not start its worker: {self.hello.get('error')}")
        return self.hello

    def _read(self, timeout: float) -> dict:
        """One response line. Own buffering on the raw fd: with two requests in flight both answers can
        arrive in one read, and select() on the fd would not see the one already buffered."""
        import time

        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, left))
            if not ready:
                raise WorkerDied(f"worker {self.pid} did not answer within {timeout:.0f} s")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise WorkerDied(f"worker {self.pid} exited (status {self.proc.poll()})")
            self._buf += chunk
        line, _, rest = bytes(self._buf).partition(b"\n")
        self._buf = bytearray(rest)
        return json.loads(line)

    def send(self, job: dict) -> None:
        self.wait_ready()
        try:
            self.proc.stdin.write(json.dumps(job, ensure_ascii=True).encode("ascii") + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerDied(f"worker {self.pid}: {exc}") from None

    def receive(self, wait_s: float) -> dict:
        return self._read(wait_s + GRACE_S)

    def call(self, job: dict) -> dict:
        self.send(job)
        return self.receive(2 * float(job.get("timeout", 5.0)))

    def close(self) -> None:
        close_child(self.proc, 10)


class Pool:
    def __init__(self, n: int, python: str | None = None) -> None:
        self.n = max(1, int(n))
        self.python = python
        self.lock = threading.Lock()
        self.workers = [Worker(python, cpu) for cpu in slot_cpus(self.n)]
        for w in self.workers:
            w.wait_ready()

    @property
    def sandbox(self) -> str:
        return self.workers[0].wait_ready().get("sandbox", "?")

    def _replace(self, i: int) -> None:
        old = self.workers[i]
        try:
            old.proc.kill()
        except OSError:
            pass
        try:
            old.close()
        except Exception:  # noqa: BLE001
            pass
        self.workers[i] = Worker(self.python, old.cpu)

    def _died_of_judge_cpu(self, slot: int) -> bool:
        """Did this slot's judge end by its own CPU limit (SIGVTALRM, armed while it runs tests)?"""
        import signal

        try:
            rc = self.workers[slot].proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return False
        return rc == -signal.SIGVTALRM

    def run(self, jobs: list[dict], on_result: Callable[[int, dict], None]) -> None:
        """Run `jobs` (normalised), calling on_result(index, result) from worker threads."""
        with self.lock:
            q: queue.SimpleQueue = queue.SimpleQueue()
            for i in range(len(jobs)):
                q.put(i)
            errors: list[BaseException] = []

            def loop(slot: int) -> None:
                # Two requests in flight per worker: the worker starts the next program while the
                # parent is still reading the previous result (results come back in order).
                inflight: list[int] = []
                retry: list[int] = []
                while True:
                    try:
                        while len(inflight) < PIPELINE and not retry:
                            try:
                                i = q.get_nowait()
                            except queue.Empty:
                                break
                            inflight.append(i)
                            self.workers[slot].send(jobs[i])
                        if retry:
                            i = retry.pop(0)
                            result = self.workers[slot].call(jobs[i])
                        elif inflight:
                            wait = sum(2 * float(jobs[j].get("timeout", 5.0)) for j in inflight)
                            result = self.workers[slot].receive(wait)
                            i = inflight.pop(0)
                        else:
                            return
                    except (WorkerDied, ValueError) as exc:
                        # a dead or hung worker: replace it; its programs are retried once, alone
                        judge_cpu = self._died_of_judge_cpu(slot)
                        self._replace(slot)
                        if judge_cpu:
                            # the judge used up its CPU budget on the program it was judging (a test stuck in
                            # C code on that program's values): that program is re-run with its hardened
                            # verdict a timeout (the judge does not judge it again), the others as usual
                            victim = i if (retry or not inflight) else inflight[0]
                            if not jobs[victim].get("judge_timeout"):
                                jobs[victim] = dict(jobs[victim], judge_timeout=True)
                                if retry or not inflight:
                                    retry.insert(0, victim)
                                else:
                                    retry.extend(inflight)
                                    inflight.clear()
                                continue
                        if retry or not inflight:  # a retried program failed again
                            result = {"status": "harness_error", "exc_type": "WorkerDied", "message": str(exc),
                                      "feedback": None, "sandbox": None}
                        else:
                            retry.extend(inflight)
                            inflight.clear()
                            continue
                    try:
                        on_result(i, result)
                    except BaseException as exc:  # noqa: BLE001
                        errors.append(exc)
                        return

            threads = [threading.Thread(target=loop, args=(s,), daemon=True) for s in range(min(self.n, len(jobs)))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errors:
                raise errors[0]

    def close(self) -> None:
        for w in self.workers:
            w.close()


_POOLS: dict[tuple[int, str | None], Pool] = {}
_POOLS_LOCK = threading.Lock()


def get_pool(n: int, python: str | None = None) -> Pool:
    with _POOLS_LOCK:
        pool = _POOLS.get((n, python))
        if pool is None or any(w.proc.poll() is not None for w in pool.workers):
            if pool is not None:
                pool.close()
            pool = _POOLS[(n, python)] = Pool(n, python)
        return pool


def shutdown() -> None:
    with _POOLS_LOCK:
        for pool in _POOLS.values():
            pool.close()
        _POOLS.clear()


atexit.register(shutdown)
