"""Ending a child that talks over pipes (the pool's judges, a judge's worker): close its input, which
tells it to exit, wait a bounded time, kill it if it does not, and close its output."""
from __future__ import annotations

import subprocess


def close_child(proc: subprocess.Popen, wait_s: float) -> None:
    try:
        proc.stdin.close()
    except OSError:
        pass
    try:
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    try:
        proc.stdout.close()
    except OSError:
        pass
