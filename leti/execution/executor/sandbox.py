"""Linux isolation primitives for the evaluator worker (libc through ctypes; no third-party code).

Everything here runs inside `leti.execution.executor.worker`, never in the trainer or workflow process.

Levels (recorded in every result's `sandbox` field, joined with "+"):
  netns  - the worker lives in a fresh network namespace (no interface is up, not even loopback)
  mntns  - the worker lives in a private mount namespace: every mount is re-bound read-only,
           fresh tmpfs on /tmp and /dev/shm, home directories that hide the interpreter are
           covered by a tmpfs with only the interpreter re-bound (read-only)
  uid    - each program runs as a throw-away uid/gid (100000 + worker pid) with no capabilities,
           no supplementary groups and no_new_privs; RLIMIT_NPROC is then enforced and everything
           the program started is killed with kill(-1) from that uid
  rlimits - always: RLIMIT_AS budget, CPU, FSIZE, NOFILE, CORE=0, NPROC, setsid, scrubbed env,
           stdin=/dev/null, scratch cwd, subreaper + kill of every descendant
"""
from __future__ import annotations

import os
import signal
import sys
import time

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
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
        lib.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
        lib.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
        lib.unshare.argtypes = [ctypes.c_int]
        lib.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        _LIBC = lib
    return _LIBC


def _check(rc: int, what: str) -> None:
    if rc != 0:
        import ctypes

        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _b(s):
    return None if s is None else os.fsencode(s)


def unshare(flags: int) -> None:
    _check(_libc().unshare(flags), f"unshare({flags:#x})")


def mount(src, target, fstype, flags: int, data=None) -> None:
    _check(_libc().mount(_b(src), _b(target), _b(fstype), flags, _b(data)), f"mount {target}")


def umount(target, flags: int = MNT_DETACH) -> None:
    _check(_libc().umount2(_b(target), flags), f"umount {target}")


def prctl(option: int, arg: int = 0) -> None:
    _check(_libc().prctl(option, arg, 0, 0, 0), f"prctl({option})")


def _mountinfo() -> list[tuple[str, str, str]]:
    """(mount point, per-mount options, fs type) for every mount of this namespace."""
    out = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            left, _, right = line.partition(" - ")
            parts = left.split()
            point = parts[4].replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
            out.append((point, parts[5], right.split()[0] if right else ""))
    return out


def _traversable_by_others(path: str) -> bool:
    try:
        return bool(os.stat(path).st_mode & 0o001)
    except OSError:
        return False


def _needed_python_paths() -> list[str]:
    cands = {sys.base_prefix, sys.prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    cands.add(os.path.dirname(os.__file__))
    cands.update(p for p in sys.path if p and os.path.isdir(p))
    cands = sorted({os.path.realpath(p) for p in cands if os.path.isdir(p)} - {"/"})
    # keep only outermost paths
    keep: list[str] = []
    for p in cands:
        if not any(p == k or p.startswith(k.rstrip("/") + "/") for k in keep):
            keep.append(p)
    return keep


def _blocking_ancestor(path: str) -> str | None:
    """Highest ancestor directory of `path` (path excluded) that other users cannot traverse."""
    parts = path.strip("/").split("/")
    cur = ""
    for comp in parts[:-1]:
        cur += "/" + comp
        if not _traversable_by_others(cur):
            return cur
    return None


TMPFS_POINTS = ("/tmp", "/dev/shm")  # replaced by private tmpfs in the worker's mount namespace


def setup_mount_namespace(tmp_size_mb: int = 512) -> None:
    """Called once in the worker after unshare(CLONE_NEWNS). Never touches the host's mounts:
    / is made recursively private first, and read-only changes use MS_BIND|MS_REMOUNT (per mount)."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    needed = _needed_python_paths()
    hide: dict[str, list[str]] = {}
    for p in needed:
        anc = _blocking_ancestor(p)
        if anc is not None:
            hide.setdefault(anc, []).append(p)
    # The interpreter or the repository may live under /tmp or /dev/shm (a CI checkout in /tmp, say):
    # bind those paths aside before the private tmpfs covers them, then bind them back.
    covered = [p for p in needed if any(p == t or p.startswith(t + "/") for t in TMPFS_POINTS)]
    aside = []
    if covered:
        import tempfile

        stage = tempfile.mkdtemp(prefix=".leti-stage-", dir="/run" if os.path.isdir("/run") else "/var/tmp")
        for i, p in enumerate(covered):
            st = f"{stage}/{i}"
            os.mkdir(st)
            mount(p, st, None, MS_BIND | MS_REC)
            aside.append((p, st))
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_size_mb}m,mode=1777")
    if os.path.isdir("/dev/shm"):
        try:
            mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
        except OSError:
            pass
    for p, st in aside:
        os.makedirs(p, 0o755, exist_ok=True)
        mount(st, p, None, MS_BIND | MS_REC)
        umount(st)
        os.rmdir(st)
    if aside:
        os.rmdir(os.path.dirname(aside[0][1]))
    if hide:
        stage_root = "/tmp/.leti-stage"
        os.mkdir(stage_root, 0o700)
        staged = []
        for i, p in enumerate(q for qs in hide.values() for q in qs):
            st = f"{stage_root}/{i}"
            os.mkdir(st)
            mount(p, st, None, MS_BIND | MS_REC)
            staged.append((p, st))
        for anc in hide:
            mount("tmpfs", anc, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
        for p, st in staged:
            os.makedirs(p, 0o755, exist_ok=True)
            mount(st, p, None, MS_BIND | MS_REC)
            umount(st)
        os.rmdir(stage_root) if not os.listdir(stage_root) else None
    # Re-bind every mount read-only (per-mount flag; MS_BIND keeps the superblock, i.e. the host, untouched).
    keep_flags = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC}
    for point, opts, fstype in _mountinfo():
        if point == "/tmp" or point.startswith(("/proc", "/sys")) or fstype in ("proc", "sysfs"):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for o in opts.split(","):
            flags |= keep_flags.get(o, 0)
        try:
            mount(None, point, None, flags)
        except OSError:
            pass  # e.g. a mount point hidden under another mount; the uid level still protects it


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
