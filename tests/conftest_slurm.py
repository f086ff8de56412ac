"""Reusable pytest fixture ``slurm_cluster``: a private one-node SLURM cluster.

Use it from any test module under tests/ (tests/ is on sys.path in pytest's
default "prepend" import mode because tests/ has no __init__.py):

    import pytest
    from conftest_slurm import slurm_cluster  # noqa: F401  (pytest fixture)

    pytestmark = pytest.mark.slurm

    def test_e2e(slurm_cluster, tmp_path):
        r = slurm_cluster.snakemake(REPO, "--directory", str(tmp_path), "all")
        assert r.returncode == 0, slurm_cluster.explain(r)

The fixture is module-scoped: started on first use in a module (≈1 s once
slurm-wlm is installed; the first ever use installs it with apt, ≈10 s), stopped
by PID when the module is done, and the teardown fails if any daemon or job
process of the cluster survived.  It skips (with the reason) when the cluster
cannot exist here: not root, not Linux, no apt / apt failed, a real SLURM config
already at /etc/slurm/slurm.conf, another test cluster running, or
LETI_SKIP_SLURM=1.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
USER_PROFILE = REPO / "slurm"
TEST_PROFILE = REPO / "tests" / "slurm" / "profile"


def _load_cluster_module():
    name = "leti_slurm_testcluster"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, REPO / "tests" / "slurm" / "cluster.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


cluster_mod = _load_cluster_module()


def _snakemake_exe() -> list[str]:
    exe = Path(sys.executable).parent / "snakemake"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]


class SlurmHandle:
    """What the fixture yields."""

    def __init__(self, cluster):
        self.cluster = cluster              # tests/slurm/cluster.py: Cluster
        self.conf = cluster.conf            # private slurm.conf
        self.env = cluster.env()            # os.environ + SLURM_CONF
        self.startup_s = 0.0
        self.install_s = 0.0

    def run(self, *cmd: str, check: bool = True, timeout: float = 30) -> str:
        """Run a SLURM client command (squeue, scontrol, sbatch ...) on this cluster."""
        return self.cluster.run(*cmd, check=check, timeout=timeout)

    def snakemake_cmd(self, *args: str, timeout: int = 300,
                      profiles=(USER_PROFILE, TEST_PROFILE)) -> list[str]:
        """`timeout -s INT <timeout> snakemake --profile slurm --profile tests/slurm/profile ARGS`.

        SIGINT (not SIGTERM) makes snakemake cancel its SLURM jobs and exit.
        Note: the test profile sets `configfile: presets/ci.yaml`, which is
        resolved against the current directory; pass `--configfile X` in
        ARGS to override it (command-line flags beat profile keys)."""
        cmd = ["timeout", "-s", "INT", str(timeout), *_snakemake_exe()]
        for p in profiles:
            cmd += ["--profile", str(p)]
        return cmd + list(args)

    def snakemake(self, cwd: Path | str, *args: str, timeout: int = 300,
                  profiles=(USER_PROFILE, TEST_PROFILE)) -> subprocess.CompletedProcess:
        """Run snakemake on this cluster in ``cwd``; output captured (also in
        ``cwd/snakemake-slurm.log``)."""
        cmd = self.snakemake_cmd(*args, timeout=timeout, profiles=profiles)
        r = subprocess.run(cmd, cwd=cwd, env=self.env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout + 60)
        try:
            (Path(cwd) / "snakemake-slurm.log").write_text(r.stdout)
        except OSError:
            pass
        return r

    def explain(self, r: subprocess.CompletedProcess, cwd: Path | str | None = None) -> str:
        """Failure message: snakemake output tail, SLURM job logs, daemon logs."""
        parts = [f"rc={r.returncode} cmd={' '.join(map(str, r.args))}",
                 r.stdout[-6000:] if r.stdout else ""]
        if cwd is not None:
            for log in sorted(Path(cwd).glob(".snakemake/slurm_logs/**/*.log"))[-4:]:
                parts.append(f"==> {log} <==\n{log.read_text(errors='replace')[-3000:]}")
        parts.append(self.cluster.logs(tail=20))
        return "\n".join(parts)


def start_cluster(directory: Path | None = None, **node) -> SlurmHandle:
    """Start a cluster or ``pytest.skip`` with the reason it cannot exist here."""
    if os.environ.get("LETI_SKIP_SLURM") == "1":
        pytest.skip("LETI_SKIP_SLURM=1")
    if sys.platform != "linux":
        pytest.skip("local SLURM test cluster needs Linux")
    if os.geteuid() != 0:
        pytest.skip("local SLURM test cluster needs root (daemons, apt-get, munge user)")
    try:
        install_s = cluster_mod.ensure_installed(log=lambda m: None)
    except cluster_mod.ClusterUnavailable as e:
        pytest.skip(f"cannot provide SLURM here: {e}")
    d = directory or Path(tempfile.mkdtemp(prefix="leti-slurm-", dir="/tmp"))
    c = cluster_mod.Cluster(d, **node)  # node: cpus=2, mem_mb=8000 (or LETI_SLURM_CPUS/_MEM_MB)
    t0 = time.monotonic()
    try:
        c.start(log=lambda m: None)
    except cluster_mod.ClusterUnavailable as e:
        pytest.skip(f"cannot start SLURM here: {e}")
    h = SlurmHandle(c)
    h.install_s, h.startup_s = install_s, time.monotonic() - t0
    return h


def stop_cluster(h: SlurmHandle) -> None:
    """Stop by PID; raise if any process of the cluster survived; then delete its dir."""
    h.cluster.stop()
    left = h.cluster.leftover_processes()
    assert not left, f"SLURM test cluster left processes behind: {left}"
    shutil.rmtree(h.cluster.dir, ignore_errors=True)  # kept (with logs) if anything failed


@pytest.fixture(scope="module")
def slurm_cluster():
    h = start_cluster()
    try:
        yield h
    finally:
        stop_cluster(h)
