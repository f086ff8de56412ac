"""Resume after a crash: Snakemake's locks of a run that was killed (kill -9, OOM killer, a lost
login node) are removed at the next start, but only when that is certain to be safe.

Snakemake locks the working directory (`.snakemake/locks/*.lock`) and removes the locks when it
ends; a run that is killed leaves them, and every later run stops with `LockException` until
`snakemake --unlock`. The Snakefile calls `recover_stale_locks(workflow)` while it is parsed (before
Snakemake locks). It records the process that is starting (`.snakemake/leti-owners/<host>.<pid>.json`:
host, boot id, pid and the process's start time, removed again when the process exits), and if
locks are present:

* every recorded process is on this host (same host name and boot) and no longer running (the pid
  is gone, or reused by a process with another start time): the locks are stale and removed;
* a recorded process is still running: nothing is touched (Snakemake then refuses to lock);
* the locks' owner is unknown (no record, or a record from another host, e.g. another login node
  on a shared file system): nothing is touched, and one line says to run `snakemake --unlock` if
  no other run uses this directory.

Only Snakemake's main process does this (not jobs on SLURM nodes, which run with --nolock), and
only with the default file persistence backend.
"""
from __future__ import annotations

import atexit
import json
import os
import socket
import sys
import time
from pathlib import Path

STATE_DIR = Path(".snakemake")
LOCK_DIR = STATE_DIR / "locks"
OWNERS_DIR = STATE_DIR / "leti-owners"


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _start_ticks(pid: int) -> int | None:
    """The process's start time (clock ticks after boot), or None if it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def me() -> dict:
    pid = os.getpid()
    return {"host": socket.gethostname(), "boot_id": _boot_id(), "pid": pid, "start_ticks": _start_ticks(pid),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"), "argv": sys.argv[1:]}


def is_running(owner: dict, here: dict | None = None) -> bool | None:
    """True/False if `owner` is certainly running/gone; None if it cannot be told from here."""
    here = here or me()
    if owner.get("host") != here["host"]:
        return None
    if owner.get("boot_id") and here["boot_id"] and owner["boot_id"] != here["boot_id"]:
        return False  # the host rebooted since
    pid = owner.get("pid")
    if not isinstance(pid, int) or not _alive(pid):
        return False
    ticks = _start_ticks(pid)
    if owner.get("start_ticks") is not None and ticks is not None:
        return ticks == owner["start_ticks"]  # another start time: the pid was reused
    return True


def _owners() -> list[tuple[Path, dict | None]]:
    out = []
    for p in sorted(OWNERS_DIR.glob("*.json")) if OWNERS_DIR.is_dir() else []:
        try:
            out.append((p, json.loads(p.read_text())))
        except (OSError, ValueError):
            out.append((p, None))
    return out


def _lock_files() -> list[Path]:
    return sorted(p for p in LOCK_DIR.glob("*.lock") if p.is_file()) if LOCK_DIR.is_dir() else []


def _describe(owner: dict) -> str:
    return f"pid {owner.get('pid')} on {owner.get('host')}, started {owner.get('started')}"


def recover(here: dict | None = None, log=None) -> str:
    """Remove stale locks if that is safe; returns what was done: 'none' (no locks), 'removed',
    'running' (a recorded owner runs) or 'unknown' (the owner cannot be checked: user decides)."""
    here = here or me()
    log = log or (lambda msg: print(msg, file=sys.stderr))
    owners = _owners()
    states = [(p, o, is_running(o, here) if o else False) for p, o in owners if not o or o.get("pid") != here["pid"]]
    for p, _, state in states:  # a record of a process that is gone says nothing any more
        if state is False:
            p.unlink(missing_ok=True)
    locks = _lock_files()
    if not locks:
        return "none"
    running = [o for _, o, s in states if s is True]
    unknown = [o for _, o, s in states if s is None]
    if running:
        log(f"leti: Snakemake's locks in {LOCK_DIR} belong to a run that is still going ({_describe(running[0])}); "
            "wait for it or stop it")
        return "running"
    if unknown or not any(s is False for _, _, s in states):
        who = f"recorded on another host: {_describe(unknown[0])}" if unknown else "not recorded by leti"
        log(f"leti: Snakemake's locks in {LOCK_DIR} were left by a run this cannot check ({who}); if you are "
            "certain no other snakemake uses this directory, run the same command once with --unlock, then again")
        return "unknown"
    gone = [o for _, o, s in states if s is False and o]
    for p in locks:
        p.unlink(missing_ok=True)
    log(f"leti: removed Snakemake's stale locks: the run that held them ({_describe(gone[-1])}) "
        "is no longer running")
    return "removed"


def register(here: dict | None = None) -> Path:
    """Record this process as a possible lock owner until it exits."""
    here = here or me()
    OWNERS_DIR.mkdir(parents=True, exist_ok=True)
    path = (OWNERS_DIR / f"{here['host']}.{here['pid']}.json").absolute()  # Snakemake changes directory
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(here))
    os.replace(tmp, path)
    atexit.register(lambda: path.unlink(missing_ok=True))
    return path


def recover_stale_locks(workflow) -> None:
    """For the Snakefile (Snakemake's main process only; jobs and other backends are left alone)."""
    try:
        main = workflow.is_main_process
        backend = str(getattr(workflow.workflow_settings, "persistence_backend", "file")).lower()
    except AttributeError:
        return
    if not main or "db" in backend:
        return
    if "--unlock" in sys.argv:
        return
    recover()
    register()
