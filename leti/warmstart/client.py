"""The `leti` side of warm start: hand this invocation to a server that has torch imported already,
starting one when none is listening, and behave exactly like the command would: same output
streams, same exit status, signals passed on. Any failure to reach a server falls back to running
in this process (returns None); a failure after the job started is reported, never retried.
"""
from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from leti.warmstart.protocol import ENABLE_VAR, THREAD_VARS, idle_seconds, recv_msg, send_msg, socket_path

START_TIMEOUT = 120.0  # seconds a new server may take to import torch/transformers on a loaded host


def _connect(path: Path) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        return sock
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None


def _start_server(path: Path) -> subprocess.Popen:
    log = open(path.with_suffix(".log"), "ab")
    try:
        env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
        return subprocess.Popen([sys.executable, "-m", "leti.warmstart.server", "--socket", str(path),
                                 "--idle", str(idle_seconds())],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                close_fds=True, cwd="/", env=env)
    finally:
        log.close()


def connect_or_start(path: Path) -> socket.socket | None:
    """A connection to the server for `path`; one client starts it while the others wait on a lock."""
    sock = _connect(path)
    if sock is not None:
        return sock
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        sock = _connect(path)
        if sock is not None:
            return sock
        if path.exists():  # a dead server's socket
            path.unlink()
        proc = _start_server(path)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            sock = _connect(path)
            if sock is not None:
                return sock
            if proc.poll() is not None:
                return None
            time.sleep(0.02)
    return None


def run(argv: list[str]) -> int | None:
    """Run `leti argv` in a forked child of the warm server; None when no server can be used."""
    try:
        sock = connect_or_start(socket_path())
    except OSError:
        sock = None
    if sock is None:
        return None
    with sock:
        try:
            socket.send_fds(sock, [b"\0"], [0, 1, 2])
            send_msg(sock, {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "umask": _umask()})
            pid = recv_msg(sock)["pid"]
        except (OSError, KeyError, ValueError):  # ConnectionError is an OSError
            return None  # the job never started: run it here instead
        forwarded = _forward_signals(pid)
        try:
            code = recv_msg(sock)["exit"]
        except (OSError, KeyError, ValueError) as exc:
            print(f"leti: the warm-start server lost job {pid} ({exc}); rerun with {ENABLE_VAR}=0 to run in-process",
                  file=sys.stderr)
            return 1
        finally:
            for sig, old in forwarded.items():
                signal.signal(sig, old)
    if code < 0:  # killed by a signal: die the same way, as the command itself would have
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code
    return code


def _forward_signals(pid: int) -> dict:
    def forward(sig, _frame):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass

    return {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
