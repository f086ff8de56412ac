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
CLONE_NEWIPC = 0x08000000
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


# Private tmpfs mounts in the worker's mount namespace. Writable ones are size-capped and emptied after
# every program; read-only ones only hide what the host keeps there (UNIX sockets, lock files, pid files).
RW_TMPFS = (("/tmp", 512), ("/dev/shm", 64))
RO_TMPFS = ("/run", "/var/run", "/var/tmp", "/var/lock")
PRIVATE_ROOT = "/tmp/.leti"  # root-only (0711): the scratch tmpfs and the mqueue mount live under it
SCRATCH_SIZE_MB = 256
TMPFS_POINTS = tuple(p for p, _ in RW_TMPFS) + RO_TMPFS


def host_unix_sockets() -> list[str]:
    """Paths of the path-bound UNIX sockets of this network namespace (read before leaving it)."""
    out = []
    try:
        with open("/proc/net/unix", "rb") as fh:
            next(fh, None)
            for line in fh:
                parts = line.rstrip(b"\n").split(None, 7)
                if len(parts) == 8 and parts[7].startswith(b"/"):
                    out.append(os.fsdecode(parts[7]))
    except OSError:
        pass
    return sorted(set(out))


def _under(path: str, points) -> bool:
    return any(path == t or path.startswith(t.rstrip("/") + "/") for t in points)


def setup_mount_namespace(tmp_size_mb: int = 512, sockets: list[str] = ()) -> dict:
    """Called once in the worker after unshare(CLONE_NEWNS) (and CLONE_NEWIPC). Never touches the host's
    mounts: / is made recursively private first, and read-only changes use MS_BIND|MS_REMOUNT (per mount).

    Returns {"scratch": a private tmpfs for the per-program scratch directories, "mqueue": the mount of
    this IPC namespace's POSIX message queues or None, "rw": the writable private mount points}."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    needed = _needed_python_paths()
    hide: dict[str, list[str]] = {}
    for p in needed:
        anc = _blocking_ancestor(p)
        if anc is not None:
            hide.setdefault(anc, []).append(p)
    points = [(p, size) for p, size in RW_TMPFS] + [(p, 1) for p in RO_TMPFS]
    points = [(p, size) for p, size in points if os.path.isdir(p) and not os.path.islink(p)]
    # The interpreter or the repository may live under a covered point (a CI checkout in /tmp, say): hold
    # an O_PATH descriptor on each such path, cover, then bind it back from /proc/self/fd (the covered
    # mount stays reachable through the descriptor).
    covered = [p for p in needed if _under(p, [q for q, _ in points])]
    held = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in covered]
    rw = []
    for p, size in points:
        try:
            mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size}m,mode={'1777' if size > 1 else '755'}")
        except OSError:
            if p == "/tmp":
                raise
            continue
        if size > 1:
            rw.append(p)
    for p, fd in held:
        os.makedirs(p, 0o755, exist_ok=True)
        mount(f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC)
        os.close(fd)
    # Host UNIX sockets outside the covered points (a socket's mode, not the mount's read-only flag,
    # decides who may connect): cover each with /dev/null, so connect() finds no socket.
    for s in sockets:
        if _under(s, [q for q, _ in points]):
            continue
        try:
            import stat as _stat

            if _stat.S_ISSOCK(os.lstat(s).st_mode):
                mount("/dev/null", s, None, MS_BIND)
        except OSError:
            pass
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
            os.rmdir(st)
        os.rmdir(stage_root)
    os.mkdir(PRIVATE_ROOT, 0o711)
    scratch = PRIVATE_ROOT + "/scratch"
    os.mkdir(scratch, 0o711)
    mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, f"size={SCRATCH_SIZE_MB}m,mode=711")
    rw.append(scratch)
    mq = None
    try:  # this IPC namespace's POSIX message queues, so that what a program leaves there can be removed
        mq = "/dev/mqueue" if os.path.isdir("/dev/mqueue") else PRIVATE_ROOT + "/mqueue"
        os.makedirs(mq, 0o755, exist_ok=True)
        mount("mqueue", mq, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        mq = None
    # Re-bind every other mount read-only (per-mount flag; MS_BIND keeps the superblock, i.e. the host, untouched).
    keep_flags = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC}
    for point, opts, fstype in _mountinfo():
        if point in rw or point == mq or point.startswith(("/proc", "/sys")) or fstype in ("proc", "sysfs", "mqueue"):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for o in opts.split(","):
            flags |= keep_flags.get(o, 0)
        try:
            mount(None, point, None, flags)
        except OSError:
            pass  # e.g. a mount point hidden under another mount; the uid level still protects it
    # entries of the writable points that are the worker's own (the interpreter or repository re-bound there)
    keep = sorted({d.rstrip("/") + "/" + p[len(d.rstrip("/")) + 1:].split("/")[0] for p in covered for d in rw if _under(p, [d])})
    return {"scratch": scratch, "mqueue": mq, "rw": rw, "keep": keep}


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
