"""Per-program memory and process budgets through cgroups (v1 or v2), with plain file I/O only.

The worker creates one group per worker (`leti-exec-<pid>`) at start-up, while it is still root. It
stays outside the group itself; every program's forked child moves itself in (writes "0" to
`cgroup.procs`) before it drops to the throw-away uid, so everything the program starts is in the
group and nothing else is. Programs of one worker run one after the other and each is killed and
reaped before the next starts, so the group holds one program at a time: its limits are that
program's budget (memory of all its processes together, tmpfs pages it wrote included; process count).

v1: `memory.limit_in_bytes` (+ `memory.memsw.limit_in_bytes` = the same value where swap accounting
exists, i.e. no swap), `pids.max`, OOM kills counted in `memory.oom_control` (`oom_kill`).
v2: `memory.max`, `memory.swap.max` = 0, `pids.max`, OOM kills in `memory.events` (`oom_kill`).
Anything missing or not writable: `setup` returns None and the worker records `rlimit` only.
"""
from __future__ import annotations

import os
import signal

PREFIX = "leti-exec-"


def _read(path: str) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 65536).decode("ascii", "replace")
    finally:
        os.close(fd)


def _write(path: str, value: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, value.encode("ascii"))
    finally:
        os.close(fd)


def _mounts(mountinfo: str = "/proc/self/mountinfo"):
    """(mount root, mount point, fs type, super options) of every mount."""
    with open(mountinfo) as fh:
        for line in fh:
            left, _, right = line.partition(" - ")
            parts, rparts = left.split(), right.split()
            if len(parts) >= 5 and len(rparts) >= 3:
                yield parts[3], parts[4].replace("\\040", " "), rparts[0], rparts[2]


def _own_groups(cgroup_file: str = "/proc/self/cgroup") -> dict[str, str]:
    """controller -> this process's group path; "" is the v2 (unified) entry."""
    out: dict[str, str] = {}
    with open(cgroup_file) as fh:
        for line in fh:
            _, ctls, path = line.rstrip("\n").split(":", 2)
            if not ctls:
                out[""] = path
            for c in ctls.split(","):
                if c:
                    out[c] = path
    return out


def _join(point: str, root: str, path: str) -> str:
    rel = path[len(root):] if root != "/" and (path == root or path.startswith(root + "/")) else path
    return point.rstrip("/") + "/" + rel.strip("/") if rel.strip("/") else point


def _sweep(parent: str) -> None:
    """Remove empty groups of workers that no longer exist (a killed worker cannot rmdir its own)."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for n in names:
        if n.startswith(PREFIX) and n[len(PREFIX):].isdigit() and not os.path.exists(f"/proc/{n[len(PREFIX):]}"):
            try:
                os.rmdir(os.path.join(parent, n))
            except OSError:
                pass


def _make(parent: str, name: str) -> str | None:
    """This worker's group `name` under `parent` (groups of dead workers swept first); None if refused."""
    _sweep(parent)
    d = os.path.join(parent, name)
    try:
        os.mkdir(d, 0o755)
    except FileExistsError:
        pass
    except OSError:
        return None
    return d


def _v1(name: str, pids_max: int, mounts, own) -> dict | None:
    dirs = {}
    for ctl in ("memory", "pids"):
        for root, point, fstype, sopts in mounts:
            if fstype == "cgroup" and ctl in sopts.split(","):
                d = _make(_join(point, root, own.get(ctl, "/")), name)
                if d is not None:
                    dirs[ctl] = d
                break
    if "memory" not in dirs:
        for d in dirs.values():
            _rmdir(d)
        return None
    m = dirs["memory"]
    spec = {"version": 1, "dirs": list(dirs.values()), "procs": [os.path.join(d, "cgroup.procs") for d in dirs.values()],
            "mem": os.path.join(m, "memory.limit_in_bytes"), "memsw": None, "oom": os.path.join(m, "memory.oom_control"),
            "pids": None, "cur": None}
    if os.path.exists(os.path.join(m, "memory.memsw.limit_in_bytes")):
        spec["memsw"] = os.path.join(m, "memory.memsw.limit_in_bytes")
    if "pids" in dirs:
        try:
            _write(os.path.join(dirs["pids"], "pids.max"), str(pids_max))
            spec["pids"] = os.path.join(dirs["pids"], "pids.max")
        except OSError:
            pass
    return spec


def _v2(name: str, pids_max: int, mounts, own) -> dict | None:
    for root, point, fstype, _ in mounts:
        if fstype != "cgroup2":
            continue
        cands = [_join(point, root, own.get("", "/")), point]
        for parent in dict.fromkeys(cands):
            try:
                ctls = _read(os.path.join(parent, "cgroup.controllers")).split()
            except OSError:
                continue
            if "memory" not in ctls:
                continue
            try:
                have = _read(os.path.join(parent, "cgroup.subtree_control")).split()
                want = [c for c in ("memory", "pids") if c in ctls and c not in have]
                if want:
                    _write(os.path.join(parent, "cgroup.subtree_control"), " ".join("+" + c for c in want))
            except OSError:
                continue  # e.g. EBUSY: the parent holds processes (the no-internal-process rule)
            d = _make(parent, name)
            if d is None:
                continue
            if not os.path.exists(os.path.join(d, "memory.max")):
                _rmdir(d)
                continue
            spec = {"version": 2, "dirs": [d], "procs": [os.path.join(d, "cgroup.procs")],
                    "mem": os.path.join(d, "memory.max"), "memsw": None, "oom": os.path.join(d, "memory.events"),
                    "pids": None, "cur": None}
            try:
                _write(os.path.join(d, "memory.swap.max"), "0")
            except OSError:
                pass
            try:
                _write(os.path.join(d, "pids.max"), str(pids_max))
                spec["pids"] = os.path.join(d, "pids.max")
            except OSError:
                pass
            return spec
    return None


def setup(pids_max: int, name: str | None = None, mountinfo: str = "/proc/self/mountinfo",
          cgroup_file: str = "/proc/self/cgroup") -> dict | None:
    """Create this worker's group; None where no writable memory controller is found."""
    name = name or f"{PREFIX}{os.getpid()}"
    try:
        mounts = list(_mounts(mountinfo))
        own = _own_groups(cgroup_file)
    except OSError:
        return None
    spec = None
    try:
        spec = _v1(name, pids_max, mounts, own) or _v2(name, pids_max, mounts, own)
        if spec is not None and not set_memory(spec, 64 << 20):  # probe that the limit is writable
            teardown(spec)
            spec = None
    except (OSError, ValueError):
        spec = None
    return spec


def set_memory(spec: dict, limit: int | None) -> bool:
    """Set the group's memory limit (no swap; None: no limit, processes only); True if it now holds.
    Cheap when unchanged."""
    key = -1 if limit is None else limit
    if spec["cur"] == key:
        return True
    try:
        if spec["version"] == 2:
            _write(spec["mem"], "max" if limit is None else str(limit))
        else:
            raising = spec["cur"] is None or key == -1 or (spec["cur"] != -1 and key > spec["cur"])
            order = [spec["memsw"], spec["mem"]] if raising else [spec["mem"], spec["memsw"]]
            for f in order:
                if f:
                    try:
                        _write(f, str(key))
                    except OSError:
                        if f != spec["memsw"] or not raising:
                            raise
                        # memsw may not be below memory.limit: on the first call set it after the limit
                        _write(spec["mem"], str(key))
                        _write(f, str(key))
        spec["cur"] = key
        return True
    except OSError:
        spec["cur"] = None
        return False


def oom_kills(spec: dict) -> int:
    """How many processes the kernel has OOM-killed in this group so far (-1: unknown)."""
    try:
        for line in _read(spec["oom"]).splitlines():
            k, _, v = line.partition(" ")
            if k == "oom_kill":
                return int(v)
    except (OSError, ValueError):
        pass
    return -1


def members(spec: dict) -> list[int]:
    out: set[int] = set()
    for f in spec["procs"]:
        try:
            out.update(int(x) for x in _read(f).split())
        except (OSError, ValueError):
            pass
    return sorted(out)


def kill_all(spec: dict) -> None:
    for pid in members(spec):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _rmdir(d: str) -> None:
    try:
        os.rmdir(d)
    except OSError:
        pass


def teardown(spec: dict | None) -> None:
    if spec:
        kill_all(spec)
        for d in spec["dirs"]:
            _rmdir(d)
