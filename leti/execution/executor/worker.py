"""The evaluator worker: `python -m leti.execution.executor.worker`.

Started by `leti.execution.executor.pool` with a clean interpreter and a scrubbed environment; it never imports
torch (or anything but the standard library and this package). It speaks newline-delimited JSON on
private copies of its stdin/stdout: one request (a normalised program record) in, one result out.
For every program it forks a child that isolates itself, runs header+program+tests, and only after
all tests ran writes a record carrying a per-run random nonce on a private pipe. The worker decides
the status from that record (never from the exit status), kills whatever the program started and
removes its scratch directory.
"""
from __future__ import annotations

import gc
import json
import math
import os
import resource
import select
import signal
import sys
import time

from leti.execution.executor import cgroup as cg
from leti.execution.executor import cleanup as cl
from leti.execution.executor import feedback as fb
from leti.execution.executor import plaindata
from leti.execution.executor import sandbox as sb

# Modules most MBPP/HumanEval programs import, loaded once in the worker. Kept short on purpose:
# every extension module adds mappings that make each fork slower (measured in docs/executor.md).
PRELOAD = "re math collections itertools functools heapq bisect string operator typing copy".split()
OUTPUT_LIMIT = 16 * 1024 * 1024  # stdout+stderr bytes before the program is killed (output_limit)
RESULT_LIMIT = 32 * 1024 * 1024  # bytes of the private result pipe (capture included)
TAIL = 4096
FSIZE_LIMIT = 64 * 1024 * 1024
NOFILE_LIMIT = 256
NPROC_LIMIT = 64
RESULT_FD = 3
SETUP_DONE = b"S\n"  # the child's first line once it is isolated, before any program code runs
# what a child that ran program code may report (`harness_error` only before, `timeout`/`output_limit` by the worker)
CHILD_STATUSES = frozenset({"pass", "fail", "error", "memory", "syntax_error"})
CHILD_FIELDS = ("status", "exc_type", "message", "feedback", "failed_test", "captured")
CHILD_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "USER": "sandbox",
             "LOGNAME": "sandbox", "HOME": "/nonexistent", "TMPDIR": "/nonexistent"}


class State:
    def __init__(self) -> None:
        self.features: list[str] = []
        self.uid: int | None = None
        self.mntns = False
        self.base = ""
        self.counter = 0
        self.devnull = -1
        self.vm = 0
        self.ipcns = False
        self.private: list[str] = []  # writable private dirs emptied after every program (/tmp, /dev/shm, mqueue)
        self.keep: set[str] = set()  # entries of those that are the worker's own
        self.cg: dict | None = None  # this worker's cgroup (leti.execution.executor.cgroup), if any
        self.cg_now = False  # the cgroup's memory limit holds for the current program
        self.oom_last = 0
        self.cur_pid: int | None = None  # the running program's process, until it is reaped
        self.pending: str | None = None  # scratch directory to remove after the result is sent
        self.retire: str | None = None  # why this worker must exit after the current answer

    @property
    def level(self) -> str:
        """The isolation that held for the current program (`cgroup`: its memory/process budget)."""
        return "+".join(self.features + (["cgroup"] if self.cg_now else []) + ["rlimits"])


def bootstrap() -> None:
    """First stage (`python -m leti.execution.executor.worker`): enter the namespaces, become a subreaper, set
    no_new_privs, then exec the second stage, which inherits all of it without having loaded ctypes."""
    import tempfile

    features: list[str] = []
    force = os.environ.get("LETI_EXECUTOR_SANDBOX", "")
    root = os.geteuid() == 0
    mntns = False
    ipcns = False
    mnt: dict = {}
    if force != "rlimits":
        sockets = sb.host_unix_sockets()  # this network namespace's path sockets, hidden below
        try:
            sb.unshare(sb.CLONE_NEWNET)
            features.append("netns")
        except OSError:
            pass
        try:
            sb.unshare(sb.CLONE_NEWIPC)  # SysV objects and POSIX queues of programs stay in the worker
            ipcns = True
            features.append("ipcns")
        except OSError:
            pass
        if root:
            try:
                sb.unshare(sb.CLONE_NEWNS)
                mnt = sb.setup_mount_namespace(sockets=sockets)
                mntns = True
                features.append("mntns")
            except OSError as exc:
                print(f"leti worker: mount namespace unavailable ({exc}); continuing without", file=sys.stderr)
    for opt in (sb.PR_SET_CHILD_SUBREAPER, sb.PR_SET_NO_NEW_PRIVS):
        try:
            sb.prctl(opt, 1)
        except OSError:
            pass
    uid = None
    if root and force != "rlimits":
        cand = sb.UID_BASE + os.getpid()  # exec keeps the pid
        if sb.probe_uid(cand, sb._needed_python_paths()):
            uid = cand
            features.append("uid")
    cgroup = None
    if force != "rlimits":
        cgroup = cg.setup(NPROC_LIMIT)
    if mnt:
        base = mnt["scratch"]
    else:
        base = tempfile.mkdtemp(prefix="leti-exec-")
    os.chmod(base, 0o711)
    private = [p for p in mnt.get("rw", []) if p != base] + ([mnt["mqueue"]] if mnt.get("mqueue") else [])
    state = {"features": features, "uid": uid, "mntns": mntns, "base": base, "ipcns": ipcns, "private": private,
             "keep": [sb.PRIVATE_ROOT, "/tmp/.leti-stage"] + mnt.get("keep", []) if mntns else [], "cgroup": cgroup}
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "leti.execution.executor.worker", "--booted", json.dumps(state)])


def load_state(arg: str) -> State:
    d = json.loads(arg)
    st = State()
    st.features, st.uid, st.mntns, st.base = d["features"], d["uid"], d["mntns"], d["base"]
    st.ipcns, st.private, st.keep, st.cg = d["ipcns"], d["private"], set(d["keep"]), d["cgroup"]
    return st


def set_static_limits(st: State) -> None:
    """Limits that are the same for every program, set once in the worker and inherited by each fork.
    (RLIMIT_NPROC does not bind the root worker; it binds the child once it has the throw-away uid.)"""
    for what, value in ((resource.RLIMIT_FSIZE, FSIZE_LIMIT), (resource.RLIMIT_NOFILE, NOFILE_LIMIT),
                        (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(what, (value, value))
    if st.uid is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (NPROC_LIMIT, NPROC_LIMIT))
        os.setgroups([])


def _vm_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


COMPILE_IN_WORKER_MAX = 1_000_000  # characters; larger sources are compiled in the child, under its limits


def layout(job: dict) -> tuple[list[str], int, int]:
    """(lines of program+"\n"+tests, header lines to subtract, number of program lines)."""
    body = job["program"] + "\n" + job["tests"]
    offset = job["header"].count("\n") + 1 if job["header"] else 0
    return body.split("\n"), offset, job["program"].count("\n") + 1


def compile_program(job: dict):
    """(code, None) or (None, syntax_error record). Compiling runs no program code, so the worker does it
    before forking: the child then skips the parser's copy-on-write faults, and a syntax error needs no fork."""
    program, tests, header = job["program"], job["tests"], job["header"]
    if not program.strip():  # an empty completion is a result, not a crash (issue #2)
        return None, {"status": "syntax_error", "exc_type": "SyntaxError", "message": "empty program",
                      "feedback": fb.HEADER + "SyntaxError: empty program\n"}
    body = program + "\n" + tests
    text = header + "\n" + body if header else body
    _, offset, _ = layout(job)
    try:
        return compile(text, fb.FILENAME, "exec", dont_inherit=True), None
    except SyntaxError as exc:
        return None, {"status": "syntax_error", "exc_type": type(exc).__name__, "message": fb.safe_str(exc),
                      "feedback": fb.syntax_feedback(exc, offset)}
    except (ValueError, UnicodeError, MemoryError, RecursionError, OverflowError) as exc:
        msg = fb.safe_str(exc) or f"{type(exc).__name__} during compilation"  # null bytes, surrogates, nesting
        return None, {"status": "syntax_error", "exc_type": "SyntaxError", "message": msg,
                      "feedback": fb.HEADER + f"SyntaxError: {msg}\n"}


def _child(job: dict, nonce: str, scratch: str, st: State, fds: tuple[int, int, int], vm: int, code) -> None:
    """Runs in the forked child; never returns."""
    out_w, err_w, res_w = fds
    write = os.write
    dumps = json.dumps
    getpid = os.getpid

    def report(rec: dict) -> None:
        if rec == {"status": "pass"}:  # the common case, without json
            data = f'{{"status": "pass", "nonce": "{nonce}", "pid": {getpid()}}}\n'.encode("ascii")
        else:
            rec["nonce"] = nonce
            rec["pid"] = getpid()
            data = (dumps(rec, ensure_ascii=True) + "\n").encode("ascii")
        while data:
            data = data[write(RESULT_FD, data):]

    try:
        os.setsid()
        os.dup2(res_w, RESULT_FD)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.dup2(st.devnull, 0)
        os.closerange(RESULT_FD + 1, 1 << 16)  # the worker's protocol pipes included (close_range(2))
        os.chdir(scratch)
        # FSIZE, NOFILE, CORE and NPROC were set once in the worker (set_static_limits); these two depend
        # on the program's record
        cpu = int(math.ceil(float(job["timeout"]))) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        as_limit = vm + int(job["memory_mb"]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (as_limit, as_limit))
        if st.cg_now:  # into the worker's cgroup (this program's memory/process budget), while still root
            for f in st.cg["procs"]:
                cfd = os.open(f, os.O_WRONLY)
                try:
                    os.write(cfd, b"0")
                finally:
                    os.close(cfd)
        if st.uid is not None:
            os.setresgid(st.uid, st.uid, st.uid)  # supplementary groups were dropped in the worker
            os.setresuid(st.uid, st.uid, st.uid)  # clears every capability
        # the worker's environment already is the scrubbed CHILD_ENV (set once in main); only the
        # per-program directories change here (clearing and refilling environ costs ~0.4 ms per fork)
        os.environ["HOME"] = scratch
        os.environ["TMPDIR"] = scratch
        if "tempfile" in sys.modules:
            sys.modules["tempfile"].tempdir = None
    except BaseException as exc:  # noqa: BLE001
        try:
            report({"status": "harness_error", "exc_type": type(exc).__name__, "message": fb.safe_str(exc)})
        finally:
            os._exit(70)
    # Isolation is complete and no program code has run yet: say so first on the result pipe. Whatever
    # the program writes comes after this line, so it cannot pass itself off as a failed setup.
    write(RESULT_FD, SETUP_DONE)

    if code is None:  # too large to compile in the worker: compile here, under the rlimits
        code, rec = compile_program(job)
        if rec is not None:
            report(rec)
            os._exit(0)
    ns: dict = {}
    if job.get("probe"):  # isolated verdict: the tests hand candidate values out; the comparison is not here
        encode = plaindata.encode_or_reject

        def probe(k, *values):
            data = ("P" + dumps([k, [encode(v) for v in values]], ensure_ascii=True,
                                separators=(",", ":")) + "\n").encode("ascii")
            if len(data) > plaindata.MAX_ENCODED:
                data = ("P" + dumps([k, [{"x": "value too large"}] * len(values)]) + "\n").encode("ascii")
            while data:
                data = data[write(RESULT_FD, data):]

        ns[plaindata.PROBE] = probe
    try:
        exec(code, ns)
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
        try:
            lines, offset, n_prog = layout(job)
            if isinstance(exc, MemoryError):
                ns.clear()
            fbtext, frames = fb.runtime_feedback(exc, exc.__traceback__, offset, lines)
            failed = None
            for n, _name, src in reversed(frames):
                if n > n_prog:
                    failed = src
                    break
            status = "fail" if isinstance(exc, AssertionError) else "memory" if isinstance(exc, MemoryError) else "error"
            rec = {"status": status, "exc_type": type(exc).__name__, "message": fb.safe_str(exc),
                   "feedback": fbtext, "failed_test": failed}
        except BaseException:  # noqa: BLE001 - formatting itself failed (e.g. no memory left)
            rec = {"status": "memory" if isinstance(exc, MemoryError) else "error",
                   "exc_type": type(exc).__name__, "message": "", "feedback": fb.HEADER + type(exc).__name__ + "\n"}
        _flush()
        report(rec)
        os._exit(0)
    rec = {"status": "pass"}
    if job.get("capture"):
        try:
            exec(compile(job["capture"], "<capture>", "exec", dont_inherit=True), ns)
            value = ns.get("__leti_capture__")
            dumps(value)
            rec["captured"] = value
        except BaseException as exc:  # noqa: BLE001
            rec["captured"] = None
            rec["message"] = f"capture failed: {type(exc).__name__}: {fb.safe_str(exc)}"
    _flush()
    report(rec)
    os._exit(0)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass


def _leftovers(st: State) -> list[tuple[str, set[str], bool]]:
    """The private directories the last program left something in (the worker's own entries aside)."""
    out = []
    for d in st.private:
        try:
            names = os.listdir(d)  # a few microseconds for an (almost) empty tmpfs directory
        except OSError:
            continue
        if any(os.path.join(d, n) not in st.keep for n in names):
            out.append((d, st.keep, True))
    return out


def after_program(st: State) -> None:
    """Runs once the outcome is known; nothing here can change it. Removes the scratch directory and
    whatever the program left in /tmp, /dev/shm, the POSIX message queues and SysV IPC, as the program's
    uid in a forked cleaner (cleanup.py: no link is followed, any depth). Anything left: `st.retire`."""
    scratch, st.pending = st.pending, None
    dirs = []
    if scratch is not None:
        try:
            os.rmdir(scratch)  # the common case: the program wrote nothing
            scratch = None
        except FileNotFoundError:
            scratch = None
        except OSError:
            dirs.append((scratch, set(), False))
    dirs += _leftovers(st)
    sysv = st.ipcns and bool(cl.sysv_objects())
    if not dirs and not sysv:
        return
    ok = cl.run_cleaner(st.uid, dirs, sysv)
    if scratch is not None:
        try:
            os.rmdir(scratch)  # empty now; as root, but an empty directory has nothing to follow
        except OSError:
            ok = False
    if not ok or _leftovers(st) or (st.ipcns and cl.sysv_objects()):
        st.retire = "could not remove what the program left behind"


def kill_current(st: State) -> None:
    """The harness failed while a program ran: make certain that none of its processes survives."""
    pid, st.cur_pid = st.cur_pid, None
    if pid is not None:
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    if st.cg:
        cg.kill_all(st.cg)
    if not sb.reap_all_descendants(st.uid):
        st.retire = "could not kill every process the program started"


def note_oom(st: State, result: dict) -> None:
    """A program the cgroup's OOM killer ended (SIGKILL we did not send) is a `memory` result."""
    if not st.cg_now:
        return
    n = cg.oom_kills(st.cg)
    if n > st.oom_last and result.get("status") == "error" and result.get("exc_type") == "SIGKILL":
        msg = "the program's processes exceeded its memory budget and were killed (cgroup OOM)"
        result.update(status="memory", exc_type="MemoryError", message=msg, feedback=fb.HEADER + f"MemoryError: {msg}\n")
    st.oom_last = max(n, st.oom_last)


def _tail(buf: bytearray) -> str:
    return bytes(buf[-TAIL:]).decode("utf-8", "replace")


def _clean_str(s):
    if isinstance(s, str):
        return s.encode("utf-8", "replace").decode("utf-8")
    return s


CGROUP_SLACK = 64 * 1024 * 1024  # the interpreter pages a program's process copies, pipes, page tables


def run_job(job: dict, st: State) -> dict:
    code = None
    st.cg_now = False
    if len(job["program"]) + len(job["tests"]) + len(job["header"]) <= COMPILE_IN_WORKER_MAX:
        t0 = time.monotonic()
        code, rec = compile_program(job)
        if rec is not None:
            rec.update(failed_test=None, captured=None, stdout_tail="", stderr_tail="",
                       wall_s=round(time.monotonic() - t0, 4), cpu_s=None, peak_rss_mb=None, sandbox=st.level)
            for k in ("exc_type", "message", "feedback"):
                rec[k] = _clean_str(rec[k])
            return rec
    st.counter += 1
    nonce = os.urandom(16).hex()
    scratch = os.path.join(st.base, str(st.counter))
    os.mkdir(scratch, 0o700)
    st.pending = scratch
    if st.uid is not None:
        os.chown(scratch, st.uid, st.uid)
    if st.cg:
        st.cg_now = cg.set_memory(st.cg, int(job["memory_mb"]) * 1024 * 1024 + CGROUP_SLACK)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    res_r, res_w = os.pipe()
    if st.counter % 64 == 1:  # the worker's size barely moves; re-read it now and then
        st.vm = _vm_bytes()
    vm = st.vm
    gc.freeze()  # O(1): the child's garbage collector then never walks (and copies) the worker's objects
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            _child(job, nonce, scratch, st, (out_w, err_w, res_w), vm, code)
        finally:
            os._exit(71)
    st.cur_pid = pid
    for fd in (out_w, err_w, res_w):
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    bufs = {out_r: bytearray(), err_r: bytearray(), res_r: bytearray()}
    for fd in bufs:
        os.set_blocking(fd, False)
    poller = select.poll()
    for fd in (out_r, err_r, res_r, pidfd):
        poller.register(fd, select.POLLIN)
    deadline = t0 + float(job["timeout"])
    total_out = 0
    killed = None
    exited = False

    def drain(fd: int) -> bool:
        nonlocal total_out
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                return True
            if not chunk:
                return False
            buf = bufs[fd]
            buf += chunk
            if fd == res_r:
                if len(buf) > RESULT_LIMIT:
                    return True
            else:
                total_out += len(chunk)
                if len(buf) > 2 * TAIL:
                    del buf[:-TAIL]
                if total_out > OUTPUT_LIMIT:
                    return True

    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            killed = "timeout"
            break
        for fd, _ev in poller.poll(min(60_000, max(1, int(remaining * 1000) + 1))):
            if fd == pidfd:
                exited = True
            elif not drain(fd):
                poller.unregister(fd)
        if total_out > OUTPUT_LIMIT or len(bufs[res_r]) > RESULT_LIMIT:
            killed = "output_limit"
            break
        if exited:
            break
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    if killed:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    _, status, ru = os.wait4(pid, 0)
    st.cur_pid = None
    wall = time.monotonic() - t0
    for fd in bufs:
        drain(fd)
    reaped = sb.reap_all_descendants(st.uid)
    for fd in (out_r, err_r, res_r, pidfd):
        os.close(fd)

    rec = None
    probes = []
    for line in bytes(bufs[res_r]).split(b"\n"):
        if line[:1] == b"P":
            probes.append(line[1:].decode("ascii", "replace"))
            continue
        if nonce.encode() not in line:
            continue
        try:
            cand = json.loads(line)
        except ValueError:
            continue
        if isinstance(cand, dict) and cand.get("nonce") == nonce and cand.get("pid") == pid:
            rec = cand
            break
    result = {"status": None, "exc_type": None, "message": None, "feedback": None, "failed_test": None}
    setup_done = bytes(bufs[res_r][:len(SETUP_DONE)]) == SETUP_DONE
    if rec is not None:
        result.update({k: rec[k] for k in CHILD_FIELDS if k in rec})
        if setup_done and result["status"] not in CHILD_STATUSES:  # forged by the program: never laundered
            result.update(status="error", exc_type="RuntimeError", feedback=fb.HEADER + "RuntimeError: invalid result\n",
                          message=f"the program reported an invalid status ({_clean_str(str(result['status']))[:40]!r})",
                          captured=None)
    elif killed == "timeout" or (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU):
        result.update(status="timeout", exc_type=None, feedback=fb.TIMEOUT_FEEDBACK,
                      message=f"the program did not finish within {float(job['timeout']):g} s")
    elif killed == "output_limit":
        result.update(status="output_limit", exc_type=None, feedback="output limit exceeded",
                      message=f"the program wrote more than {OUTPUT_LIMIT // (1024 * 1024)} MiB of output")
    elif os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        msg = f"the program was killed by signal {name}"
        result.update(status="error", exc_type=name, message=msg, feedback=fb.HEADER + f"{name}: {msg}\n")
    else:
        code = os.waitstatus_to_exitcode(status)
        msg = f"the program ended (exit status {code}) before the harness could confirm that all tests ran"
        result.update(status="error", exc_type="SystemExit", message=msg, feedback=fb.HEADER + f"SystemExit: {code}\n")
    if not reaped:  # the outcome stands; this worker does not run another program
        st.retire = "could not kill every process the program started"
    for k in ("exc_type", "message", "feedback", "failed_test"):
        result[k] = _clean_str(result[k])
    result["captured"] = result.get("captured")
    if job.get("probe"):
        result["probes"] = probes[:10_000]
    result.update(
        stdout_tail=_tail(bufs[out_r]), stderr_tail=_tail(bufs[err_r]), wall_s=round(wall, 4),
        cpu_s=round(ru.ru_utime + ru.ru_stime, 4), peak_rss_mb=round(ru.ru_maxrss / 1024, 1), sandbox=st.level,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "--booted":
        bootstrap()  # does not return
    st = load_state(argv[1])
    os.environ.clear()  # what programs see: no parent variable at all, not even PYTHONPATH
    os.environ.update(CHILD_ENV)
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    st.devnull = os.open(os.devnull, os.O_RDONLY)
    set_static_limits(st)
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass

    def send(obj: dict) -> None:
        proto_out.write(json.dumps(obj, ensure_ascii=True).encode("ascii") + b"\n")
        proto_out.flush()

    st.cg_now = st.cg is not None  # the hello names the level a program gets (cgroup: where its limit can be set)
    send({"hello": True, "pid": os.getpid(), "sandbox": st.level, "uid": st.uid,
          "torch_loaded": "torch" in sys.modules})
    for line in proto_in:
        try:
            job = json.loads(line)
            if job.get("ping"):
                send({"pong": True, "modules": sorted(sys.modules)})
                continue
            result = run_job(job, st)
            note_oom(st, result)
        except Exception as exc:  # noqa: BLE001 - the harness failed before the outcome was known
            kill_current(st)
            result = {"status": "harness_error", "exc_type": type(exc).__name__, "message": fb.safe_str(exc),
                      "feedback": None, "sandbox": st.level}
        try:  # the outcome is known: a failure from here on cannot change it, it retires the worker
            after_program(st)  # before the answer, so that whoever reads it finds nothing of the program left
        except Exception as exc:  # noqa: BLE001
            st.retire = f"cleanup failed: {type(exc).__name__}: {exc}"
        send(result)
        if st.retire:
            break  # the pool replaces an exited worker and re-runs what it had in flight
    shutdown(st)
    return 0


def shutdown(st: State) -> None:
    kill_current(st)
    if not st.mntns:  # otherwise the scratch tmpfs goes with the mount namespace
        try:
            cl.run_cleaner(st.uid, [(st.base, set(), False)], False)
            os.rmdir(st.base)
        except OSError:
            pass
    cg.teardown(st.cg)


if __name__ == "__main__":
    sys.exit(main())
