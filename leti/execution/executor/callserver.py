"""The program's side of the hardened verdict: the program's process serving the judge's calls.

After the program's module code ran in a first namespace (no test text exists in this process yet: the
worker that forked it never holds tests, and they arrive only after the judge has decided), the process
serves the judge. The judge runs the tests; each call of a program callable arrives here as
typed data (`codec`), runs the program's real function, and goes back as typed data: the result, the
arguments' post-call state where they changed (tests that check in-place mutation), or the exception
with its traceback lines. Objects that cannot cross stay here and cross as handles.

This is harness code running inside the program's process: the program can replace any of it, so it
only has to be right for honest programs. Only the judge's decoding decides what the messages mean.
"""
from __future__ import annotations

import json
import os
import sys

from leti.execution.executor import codec
from leti.execution.executor import feedback as fb

REQ_FD = 5    # judge -> program (requests)
RESP_FD = 6   # program -> judge (answers)
HEAD = 8      # a frame: 8 hex digits of length, then that many bytes of JSON
MAX_FRAME = 32 * 1024 * 1024


_DECODE = json.JSONDecoder().decode


def frame(payload: bytes) -> bytes:
    return b"%08x" % len(payload) + payload


def _read_exact(fd: int, n: int) -> bytes | None:
    out = bytearray()
    while len(out) < n:
        chunk = os.read(fd, n - len(out))
        if not chunk:
            return None
        out += chunk
    return bytes(out)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def depth() -> int:
    """The caller's frame depth (its own frame counted)."""
    f, n = sys._getframe(1), 0
    while f is not None:
        n += 1
        f = f.f_back
    return n


class Server:
    # the depth of the frame that runs the tests' module code in the faithful phase (set by the worker's
    # child): a program function called by the judge runs at the depth it would run at there, so that a
    # RecursionError comes at the same call and says the same in both verdicts
    module_depth = None

    def __init__(self, ns: dict, token: str, offset: int, lines: list[str], failed: dict | None = None):
        self.failed = failed  # the module code raised: every request gets that record
        self.pid = os.getpid()  # a copy the program forks (in a call) never answers nor reads a request
        self.ns = ns
        self.token = token
        self.offset = offset
        self.lines = lines
        self.handles: dict[int, object] = {}
        self.ids: dict[int, int] = {}

    # ------------------------------------------------------------------ values
    def _handle(self, v):
        key = id(v)
        h = self.ids.get(key)
        if h is None or self.handles.get(h) is not v:
            h = len(self.handles) + 1
            self.handles[h] = v
            self.ids[key] = h
        return {"h": h}

    def encode(self, v):
        enc = codec.Encoder(self._handle, sys.modules.get("numpy"))
        try:
            out = enc.encode(v)
        except codec.CannotCross as exc:
            return {"x": str(exc)}
        except RecursionError:
            return {"x": "nested too deeply"}
        return out

    def decode(self, wire):
        def handle(h, why=None):
            if h is None or h not in self.handles:
                raise ValueError("the judge sent an unknown handle")
            return self.handles[h]

        return codec.Decoder(handle, lambda: __import__("numpy")).decode(wire)

    # ------------------------------------------------------------------ requests
    def names(self, req) -> dict:
        out = {}
        for name in req.get("names", []):
            if type(name) is str and name in self.ns:
                out[name] = {"v": self.encode(self.ns[name])}
            else:
                out[name] = {}
        return {"names": out}

    def call(self, req) -> dict:
        target = self.handles[req["h"]]
        wires = req.get("a", [])
        kwires = req.get("kw", [])
        args = [self.decode(w) for w in wires]
        kwargs = {k: self.decode(w) for k, w in kwires}
        shift = 0
        test_depth = req.get("d")
        if self.module_depth is not None and type(test_depth) is int and 0 < test_depth < 1000:
            shift = depth() + 1 - (self.module_depth + test_depth)
        if shift:
            limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(50, limit + shift))
            try:
                result = target(*args, **kwargs)
            finally:
                sys.setrecursionlimit(limit)
        else:
            result = target(*args, **kwargs)
        out = {"r": self.encode(result)}
        changed = []
        for i, (a, w) in enumerate(zip(args, wires)):
            if type(w) in (list, dict):
                post = self.encode(a)
                if post != w:
                    changed.append([i, post])
        for k, w in kwires:
            if type(w) in (list, dict):
                post = self.encode(kwargs[k])
                if post != w:
                    changed.append([k, post])
        if changed:
            out["m"] = changed
        return out

    def getattr(self, req) -> dict:
        return {"r": self.encode(getattr(self.handles[req["h"]], req["attr"]))}

    def setattr(self, req) -> dict:
        setattr(self.handles[req["h"]], req["attr"], self.decode(req["v"]))
        return {"r": None}

    def exception(self, exc: BaseException) -> dict:
        """What the judge needs to re-raise the program's exception and show its traceback."""
        try:
            frames = fb.user_frames(exc.__traceback__, self.offset, self.lines)
            chunks = fb.format_frames(frames)[-64:]
            text = fb.exception_only(exc)
        except BaseException:  # noqa: BLE001
            chunks, text = [], type(exc).__name__ + "\n"
        t = type(exc)
        try:
            args = codec.Encoder(_refuse, None).encode(exc.args)
        except BaseException:  # noqa: BLE001
            args = None
        return {"e": {"type": t.__name__, "builtin": t.__module__ == "builtins", "args": args,
                      "text": fb.cap(text, 4 * fb.MAX_MESSAGE), "chunks": [fb.cap(c, 4000) for c in chunks]}}

    def send(self, resp: dict) -> None:
        try:
            data = codec.dumps(resp).encode("ascii")
        except BaseException as exc:  # noqa: BLE001
            data = codec.dumps({"n": resp.get("n"), "r": {"x": f"cannot send the value ({type(exc).__name__})"}}).encode()
        if len(data) > MAX_FRAME:
            big = {"x": "the value is too large to send"}
            resp = ({"names": {k: {"v": big} for k in resp["names"]}} if "names" in resp else {"r": big}) | {"n": resp.get("n")}
            data = codec.dumps(resp).encode()
        _write_all(RESP_FD, frame(data))

    def serve(self) -> str | None:
        """Answer requests until the judge's `end`, which carries the tests: returns their text (None if
        the channel closed)."""
        ops = {"names": self.names, "call": self.call, "getattr": self.getattr, "setattr": self.setattr}
        while True:
            head = _read_exact(REQ_FD, HEAD)
            if head is None:
                return None
            try:
                n = int(head, 16)
            except ValueError:
                return None
            body = _read_exact(REQ_FD, n)
            if body is None:
                return None
            try:
                req = _DECODE(body.decode("ascii"))
            except ValueError:
                continue
            if req.get("k") != self.token:
                continue  # a request of an earlier program of this worker, never read by its server
            if req.get("op") == "end":  # the judge has decided: the faithful run follows in this process
                tests = req.get("tests")
                return tests if type(tests) is str else ""
            try:
                if self.failed is not None:
                    raise _Failed()
                resp = ops[req["op"]](req)
            except _Failed:
                resp = {"failed": self.failed}
            except BaseException as exc:  # noqa: BLE001 - the program's exception, SystemExit included
                resp = self.exception(exc)
            if os.getpid() != self.pid:  # a forked copy of the server returned here: it must not answer
                os._exit(0)
            resp["n"] = req.get("n")
            try:
                self.send(resp)
            except OSError:
                return None


class _Failed(Exception):
    pass


def _refuse(v):
    raise codec.CannotCross(type(v).__name__)


def run(ns: dict | None, token: str, offset: int, lines: list[str], failed: dict | None = None,
        pid: int | None = None, provides: list | None = None) -> str | None:
    """Serve the judge's calls until it says `end`; returns the tests it sends with it (None: the channel
    ended or broke first, and no test ran).
    `pid`: the program's process; a copy the module code forked that reaches here ends at once."""
    if pid is not None and os.getpid() != pid:
        os._exit(0)
    for fd in (REQ_FD, RESP_FD):  # an earlier program may have made the channel non-blocking
        os.set_blocking(fd, True)
    server = Server(ns or {}, token, offset, lines, failed)
    try:
        if provides is not None:  # what the program binds to the names the tests read: sent unasked
            first = {"failed": failed} if failed is not None else server.names({"names": provides})
            try:
                server.send(dict(first, n=0))
            except OSError:
                return None
        return server.serve()
    finally:
        server.handles.clear()
        server.ids.clear()
