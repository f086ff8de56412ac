"""Warm start (leti.warmstart): a command served by the fork server behaves exactly like the same
command run in its own process - output files, stdout/stderr, exit status, signals."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leti.warmstart import protocol
from conftest import MICRO_TEXTS, REPO

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="warm start is Linux-only")]

# The client runs `leti.cli.main` and reports whether it imported torch itself (it must not when served).
CLIENT = ("import sys; from leti.cli import main; rc = main(sys.argv[1:]); "
          "print('CLIENT_IMPORTED_TORCH', 'torch' in sys.modules, file=sys.stderr); sys.exit(rc)")


def _env(warm_dir: Path, warm: bool, idle: float = 60) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LETI_WARM")}
    env.update({protocol.ENABLE_VAR: "1" if warm else "0", protocol.DIR_VAR: str(warm_dir),
                protocol.IDLE_VAR: str(idle), "PYTHONPATH": str(REPO)})
    return env


def _leti(args, env, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CLIENT, *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=180, **kw)


def _server_pids(warm_dir: Path) -> list[int]:
    return [int(p.read_text()) for p in warm_dir.glob("*.pid")]


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait(cond, timeout=30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def warm_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("warm")
    d.chmod(0o700)
    yield d
    for pid in _server_pids(d):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def heldout(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("data") / "heldout.jsonl"
    p.write_text("".join(json.dumps({"text": t}) + "\n" for t in MICRO_TEXTS[:8]))
    return p


def test_served_command_writes_what_the_in_process_command_writes(micro_checkpoint, heldout, warm_dir, tmp_path):
    outs = {}
    for mode in ("cold", "warm", "warm-again"):
        out = tmp_path / f"{mode}.json"
        r = _leti(["lm-loss", "--model", str(micro_checkpoint), "--data", str(heldout), "--out", str(out),
                   "--threads", "1"], _env(warm_dir, mode != "cold"))
        assert r.returncode == 0, r.stderr
        assert "held-out loss" in r.stdout  # the child wrote to the client's stdout
        assert f"CLIENT_IMPORTED_TORCH {mode == 'cold'}" in r.stderr
        outs[mode] = json.loads(out.read_text())
    assert outs["warm"] == outs["cold"] == outs["warm-again"]
    assert len(_server_pids(warm_dir)) == 1  # one server served both warm runs


def test_errors_and_exit_codes_pass_through(micro_checkpoint, warm_dir, tmp_path):
    bad_input = ["lm-loss", "--model", str(micro_checkpoint), "--data", str(tmp_path / "missing.jsonl"),
                 "--out", str(tmp_path / "o.json")]
    bad_usage = ["lm-loss", "--model", str(micro_checkpoint)]
    for args, code in ((bad_input, 2), (bad_usage, 2)):
        cold, warm = (_leti(args, _env(warm_dir, w)) for w in (False, True))
        assert cold.returncode == warm.returncode == code
        strip = lambda s: [ln for ln in s.splitlines() if not ln.startswith("CLIENT_IMPORTED_TORCH")]  # noqa: E731
        assert strip(warm.stderr) == strip(cold.stderr) and strip(cold.stderr)
    assert "CLIENT_IMPORTED_TORCH False" in warm.stderr


def _blocked_job(micro_checkpoint, warm_dir, tmp_path):
    """A served lm-loss whose data file is a FIFO nobody writes: the child blocks until signalled."""
    fifo = tmp_path / "never.jsonl"
    os.mkfifo(fifo)
    client = subprocess.Popen([sys.executable, "-c", CLIENT, "lm-loss", "--model", str(micro_checkpoint),
                               "--data", str(fifo), "--out", str(tmp_path / "o.json")],
                              env=_env(warm_dir, True), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert _wait(lambda: _server_pids(warm_dir) and _children(_server_pids(warm_dir)[0]), 120)
    (child,) = _children(_server_pids(warm_dir)[0])
    return client, child


def test_a_signal_to_the_client_reaches_the_job(micro_checkpoint, warm_dir, tmp_path):
    client, child = _blocked_job(micro_checkpoint, warm_dir, tmp_path)
    client.send_signal(signal.SIGTERM)
    assert client.wait(30) == -signal.SIGTERM  # the client dies the way the job died
    assert _wait(lambda: not _alive(child))


def test_a_killed_client_takes_its_job_with_it(micro_checkpoint, warm_dir, tmp_path):
    client, child = _blocked_job(micro_checkpoint, warm_dir, tmp_path)
    client.kill()
    client.wait(30)
    assert _wait(lambda: not _alive(child))  # the server saw the connection close and ended the job


def test_an_idle_server_exits_and_removes_its_socket(micro_checkpoint, heldout, tmp_path):
    d = tmp_path / "idle"
    d.mkdir(mode=0o700)
    r = _leti(["lm-loss", "--model", str(micro_checkpoint), "--data", str(heldout), "--out", str(tmp_path / "o.json")],
              _env(d, True, idle=1))
    assert r.returncode == 0, r.stderr
    assert _wait(lambda: not list(d.glob("*.sock")) and not list(d.glob("*.pid")), 30)


def test_enabled_only_on_request_outside_batch_jobs_and_for_torch_commands():
    assert protocol.enabled("train", {"LETI_WARM": "1"})
    assert not protocol.enabled("train", {})
    assert not protocol.enabled("train", {"LETI_WARM": "0"})
    assert not protocol.enabled("train", {"LETI_WARM": "1", "SLURM_JOB_ID": "17"})
    assert not protocol.enabled("execute", {"LETI_WARM": "1"})  # the sandbox forks from a small process


def test_server_key_follows_code_and_import_settings_not_thread_counts(monkeypatch):
    base = {"HF_HOME": "/a", "PATH": "/bin"}
    key = protocol.server_key(base)
    assert protocol.server_key({**base, "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}) == key
    assert protocol.server_key({**base, "HF_HOME": "/b"}) != key
    fingerprint = protocol._source_fingerprint()
    monkeypatch.setattr(protocol, "_source_fingerprint", lambda: fingerprint + [("edited.py", 1, 1)])
    assert protocol.server_key(base) != key  # edited leti code: a new server, never a stale one


def test_socket_dir_must_be_private(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    with pytest.raises(PermissionError):
        protocol.socket_dir({protocol.DIR_VAR: str(shared)})


def test_without_a_usable_server_the_command_runs_in_process(micro_checkpoint, heldout, tmp_path):
    shared = tmp_path / "not-private"
    shared.mkdir()
    shared.chmod(0o755)  # refused as a socket directory: no server, the client runs the command itself
    out = tmp_path / "o.json"
    r = _leti(["lm-loss", "--model", str(micro_checkpoint), "--data", str(heldout), "--out", str(out)],
              _env(shared, True))
    assert r.returncode == 0, r.stderr
    assert "CLIENT_IMPORTED_TORCH True" in r.stderr and json.loads(out.read_text())["tokens"] > 0
    assert not list(shared.iterdir())
