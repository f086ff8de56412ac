"""Process-level primitives of the evaluator worker: privileges, killing and reaping (libc through ctypes
only for prctl, loaded by the worker's first stage). The namespaces and the filesystem view are the
jail's (`jail.py`: bubblewrap + a seccomp filter), set up before the worker starts.

Everything here runs inside `leti.execution.executor.worker`, never in the trainer or workflow process.
"""
from __future__ import annotations

import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
UID_BASE = 100000

_LIBC = None


def _libc():
    """libc through ctypes, loaded only by the bootstrap (ctypes makes every later fork slower)."""
    global _LIBC
    if _LIBC is None:
        import ctypes

        lib = ctypes.CDLL(None, use_errno=True)
        lib.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        _LIBC = lib
    return _LIBC


def prctl(option: int, arg: int = 0) -> None:
    if _libc().prctl(option, arg, 0, 0, 0) != 0:
        import ctypes

        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}): {os.strerror(err)}")


def _traversable_by_others(path: str) -> bool:
    try:
        return bool(os.stat(path).st_mode & 0o001)
    except OSError:
        return False


def _needed_python_paths() -> list[str]:
    """Outermost directories the interpreter needs: its prefixes, the standard library and the
    site-packages directories. Not `sys.path` as a whole: PYTHONPATH (the checkout holding `leti`) is
    not the runtime, and the jail binds only `leti/` from it."""
    import site
    import sysconfig

    cands = {sys.base_prefix, sys.prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable)),
             os.path.dirname(os.__file__)}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        cands.add(sysconfig.get_paths().get(key, ""))
    try:
        cands.update(site.getsitepackages())
    except AttributeError:  # pragma: no cover - a virtualenv's old site.py
        pass
    cands = sorted({os.path.realpath(p) for p in cands if p and os.path.isdir(p)} - {"/"})
    keep: list[str] = []
    for p in cands:
        if not any(p == k or p.startswith(k.rstrip("/") + "/") for k in keep):
            keep.append(p)
    return keep


def probe_uid(uid: int, paths: list[str]) -> bool:
    """Fork, drop to `uid`, and check the interpreter's paths are still readable."""
    pid = os.fork()
    if pid == 0:
        try:
            drop_privileges(uid)
            for p in paths:
                os.listdir(p)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # all capabilities are cleared by the kernel here
    # no_new_privs (setuid binaries cannot give root back) is set once in the bootstrap and inherited


def kill_uid(uid: int) -> None:
    """Kill every process owned by `uid` (a throw-away uid only programs of this worker use)."""
    if not isinstance(uid, int) or uid < UID_BASE:  # never kill(-1) as root or as a real user
        raise ValueError(f"refusing to kill all processes of uid {uid!r}")
    pid = os.fork()
    if pid == 0:
        try:
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)  # all processes this uid may signal, except itself
        except BaseException:
            pass
        os._exit(0)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _children_of(ppid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
            fields = stat[stat.rindex(b")") + 2:].split()
            if int(fields[1]) == ppid:
                out.append(int(name))
        except (OSError, ValueError):
            continue
    return out


def reap_all_descendants(uid: int | None, deadline_s: float = 10.0) -> bool:
    """We are a child subreaper: every orphan of the program is our child. Kill and reap until none
    is left (ECHILD). Returns False if something could not be reaped in time."""
    end = time.monotonic() + deadline_s
    killed = False
    while True:
        try:
            while True:
                pid, _ = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
        except ChildProcessError:
            return True
        if time.monotonic() > end:
            return False
        if uid is not None:
            kill_uid(uid)
        else:
            for pid in _children_of(os.getpid()):
                for sig_target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
                    try:
                        sig_target()
                    except OSError:
                        pass
        if killed:
            time.sleep(0.002)
        killed = True
