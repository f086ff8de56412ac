"""Stale Snakemake locks of a killed run are removed at the next start only when certain."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from leti.workflow import locks


@pytest.fixture
def wd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    locks.LOCK_DIR.mkdir(parents=True)
    (locks.LOCK_DIR / "0.input.lock").write_text("a\n")
    (locks.LOCK_DIR / "0.output.lock").write_text("b\n")
    return tmp_path


def _record(owner: dict):
    locks.OWNERS_DIR.mkdir(parents=True, exist_ok=True)
    (locks.OWNERS_DIR / f"{owner['host']}.{owner['pid']}.json").write_text(json.dumps(owner))


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _other(**kw) -> dict:
    here = locks.me()
    return {**here, "pid": here["pid"] + 1, **kw}


def test_dead_owner_on_this_host_is_removed(wd):
    _record(_other(pid=_dead_pid()))
    said = []
    assert locks.recover(log=said.append) == "removed"
    assert not list(locks.LOCK_DIR.glob("*.lock")) and not list(locks.OWNERS_DIR.glob("*.json"))
    assert len(said) == 1 and "removed" in said[0]


def test_reused_pid_counts_as_gone(wd):
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as p:
        try:
            _record(_other(pid=p.pid, start_ticks=1))  # same pid, another start time
            assert locks.recover(log=lambda m: None) == "removed"
        finally:
            p.kill()


def test_running_owner_keeps_the_locks(wd):
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as p:
        try:
            _record(_other(pid=p.pid, start_ticks=locks._start_ticks(p.pid)))
            said = []
            assert locks.recover(log=said.append) == "running"
            assert len(list(locks.LOCK_DIR.glob("*.lock"))) == 2 and "still going" in said[0]
        finally:
            p.kill()


@pytest.mark.parametrize("owner", ["none", "other-host"])
def test_unknown_owner_keeps_the_locks_and_says_unlock(wd, owner):
    if owner == "other-host":
        _record(_other(host="login-2", pid=_dead_pid()))
    said = []
    assert locks.recover(log=said.append) == "unknown"
    assert len(list(locks.LOCK_DIR.glob("*.lock"))) == 2
    assert len(said) == 1 and "--unlock" in said[0] and "\n" not in said[0]


def test_rebooted_host_counts_as_gone(wd):
    _record(_other(boot_id="an-earlier-boot"))
    assert locks.recover(log=lambda m: None) == "removed"


def test_no_locks_prunes_stale_records_quietly(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _record(_other(pid=_dead_pid()))
    said = []
    assert locks.recover(log=said.append) == "none" and not said
    assert not list(locks.OWNERS_DIR.glob("*.json"))
