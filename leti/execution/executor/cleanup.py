"""Removing what a program left behind, without ever following a link it planted.

Runs in a process forked from the worker for this purpose only (`run_cleaner`), as the program's
throw-away uid where there is one: the cleaner can then touch nothing the program could not touch
itself, and by then every process of that uid is dead, so nothing changes the tree under it.

`remove_tree` is iterative (no recursion limit), holds at most one extra descriptor at a time
(no fd limit, whatever the depth) and never follows a symbolic link: it descends with
`open(O_NOFOLLOW|O_DIRECTORY)` + `fchdir` and climbs with `chdir("..")`, so path length does not
matter either. Directories the program made unreadable are its own, so it may chmod them back.
"""
from __future__ import annotations

import os
import stat

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _enter(name: str) -> None:
    try:
        fd = os.open(name, _DIR_FLAGS)
    except PermissionError:
        os.chmod(name, 0o700)  # a directory (checked with lstat by the caller), not a link
        fd = os.open(name, _DIR_FLAGS)
    try:
        os.fchdir(fd)
    finally:
        os.close(fd)
    if stat.S_IMODE(os.lstat(".").st_mode) & 0o700 != 0o700:
        os.chmod(".", 0o700)


def remove_tree(path: str) -> None:
    """Remove `path` (a file, a link or a directory tree). Raises OSError if something cannot go."""
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        return
    parent, top = os.path.split(os.path.abspath(path))
    os.chdir(parent)
    _enter(top)
    stack = [top]
    while stack:
        sub = None
        with os.scandir(".") as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    sub = e.name
                    break
                os.unlink(e.name)
        if sub is not None:
            _enter(sub)
            stack.append(sub)
            continue
        name = stack.pop()
        os.chdir("..")
        os.rmdir(name)
    os.chdir("/")


def clear_dir(path: str, keep: set[str] = frozenset(), uid: int | None = None) -> None:
    """Remove every entry of `path` except `keep` (and, when `uid` is given, entries owned by others).
    A directory we own (a scratch directory the program may have chmod-ed) is made accessible first."""
    st = os.lstat(path)
    if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) & 0o700 != 0o700:
        os.chmod(path, 0o700)
    with os.scandir(path) as it:
        entries = list(it)
    for e in entries:
        if e.path in keep:
            continue
        if uid is not None:
            try:
                if e.stat(follow_symlinks=False).st_uid != uid:
                    continue
            except FileNotFoundError:
                continue
        remove_tree(e.path)


def sysv_objects() -> dict[str, list[int]]:
    """Ids of the SysV shared memory segments, message queues and semaphore sets of this IPC namespace."""
    out: dict[str, list[int]] = {}
    for kind in ("shm", "msg", "sem"):
        try:
            fd = os.open(f"/proc/sysvipc/{kind}", os.O_RDONLY)
        except OSError:
            continue
        try:
            data = b""
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(fd)
        ids = []
        for line in data.splitlines()[1:]:
            parts = line.split()
            if len(parts) > 1:
                ids.append(int(parts[1]))
        if ids:
            out[kind] = ids
    return out


def remove_sysv(objs: dict[str, list[int]]) -> None:
    """IPC_RMID every listed object (ctypes is imported here, in the cleaner process only)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    ipc_rmid = 0
    for kind, ids in objs.items():
        for i in ids:
            if kind == "shm":
                libc.shmctl(i, ipc_rmid, None)
            elif kind == "msg":
                libc.msgctl(i, ipc_rmid, None)
            else:
                libc.semctl(i, 0, ipc_rmid)


def run_cleaner(uid: int | None, dirs: list[tuple[str, set[str], bool]], sysv: bool,
                deadline_s: float = 10.0) -> bool:
    """Fork a process that (as `uid`, if given) empties each of `dirs` (path, entries to keep, only the
    entries `uid` owns) and removes this IPC namespace's SysV objects; True if it reported success within
    `deadline_s` (a tree too wide to remove in time: the cleaner is killed and False returned)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            if uid is not None:
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
            for d, keep, owned_only in dirs:
                clear_dir(d, keep, uid if owned_only else None)
            if sysv:
                objs = sysv_objects()
                if objs:
                    remove_sysv(objs)
            code = 0
        except BaseException:  # noqa: BLE001 - reported as a failed cleanup; the worker retires
            code = 1
        finally:
            os._exit(code)
    import time

    end = time.monotonic() + deadline_s
    delay = 0.0005
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status) == 0
        if time.monotonic() > end:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
            os.waitpid(pid, 0)
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.02)
