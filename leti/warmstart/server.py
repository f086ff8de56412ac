"""The warm-start server: imports torch, transformers and leti's commands once, then forks one child
per `leti` invocation, so a job starts in ~15 ms instead of spending ~5-6 s of CPU on imports.

Each child becomes the client's process in all that matters to the command: the client's stdin,
stdout and stderr (passed as file descriptors), working directory, environment, umask and argv;
fresh random seeds; default signal handlers; its own process group (the client forwards the
signals it gets). The server itself never runs a tensor op, so no thread pool exists when it forks.
It is single-threaded (fork and threads do not mix), serves only its own uid, and exits after
`idle` seconds without a job, or when its socket is removed or taken over.

    python -m leti.warmstart.server --socket PATH [--idle SECONDS]
"""
from __future__ import annotations

import argparse
import atexit
import importlib
import os
import random
import selectors
import signal
import socket
import struct
import sys
import tempfile
import time
import traceback
from pathlib import Path

from leti.warmstart.protocol import DEFAULT_IDLE, recv_msg, send_msg

PRELOAD = ("torch", "transformers", "tokenizers")
# what the served commands import inside their run functions: imported once here, so a child only forks
PRELOAD_MODULES = ("leti.model.loading", "leti.model.checkpoint", "leti.model.tokenizer", "leti.model.pretrain",
                   "leti.model.lm_loss", "leti.sampling.sampler", "leti.sampling.driver", "leti.fcft.train",
                   "leti.core.provenance")
PRELOAD_ATTRS = {"transformers": ("AutoModelForCausalLM", "AutoTokenizer", "GPT2LMHeadModel", "GPT2Config",
                                  "PreTrainedTokenizerFast")}


def preload() -> None:
    """Import what the served commands import (module-level imports run once, here)."""
    from leti.cli import COMMANDS
    from leti.warmstart.protocol import WARM_COMMANDS

    for name in PRELOAD:
        mod = importlib.import_module(name)
        for attr in PRELOAD_ATTRS.get(name, ()):
            getattr(mod, attr)
    for cmd in sorted(WARM_COMMANDS):
        importlib.import_module(COMMANDS[cmd][0])
    for name in PRELOAD_MODULES:
        importlib.import_module(name)


def _child(request: dict, fds: list[int], close: list) -> None:
    """Runs in the forked child: become the client's process, run the command, exit."""
    try:
        for obj in close:
            obj.close()
        os.setpgid(0, 0)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as CPython sets it at start-up
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.umask(request["umask"])
        tempfile.tempdir = None  # recomputed from the client's TMPDIR
        sys.stdout.reconfigure(line_buffering=os.isatty(1))  # as CPython picks it for a terminal
        _apply_threads(request["env"])
        random.seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        sys.argv = ["leti", *request["argv"]]
        from leti.cli import run_command

        rc = run_command(request["argv"])
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    except KeyboardInterrupt:
        rc = 128 + signal.SIGINT
    except BaseException:  # noqa: BLE001 - a child must always report, never return into the server loop
        traceback.print_exc()
        rc = 1
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(rc)


def _apply_threads(env: dict) -> None:
    """What a fresh process would read from OMP_NUM_THREADS at start-up (the server ran without it)."""
    value = env.get("OMP_NUM_THREADS", "")
    if value.isdigit() and int(value) > 0:
        import torch

        torch.set_num_threads(int(value))


class Server:
    def __init__(self, path: str, idle: float):
        self.path = path
        self.idle = idle
        self.sel = selectors.DefaultSelector()
        self.jobs: dict[int, dict] = {}  # pid -> {"conn", "pidfd"}
        self.last_busy = time.monotonic()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        tmp = f"{path}.{os.getpid()}.tmp"
        self.listener.bind(tmp)
        self.listener.listen(16)
        os.replace(tmp, path)  # appears only once ready: a client that connects is served at once
        self.inode = os.stat(path).st_ino
        Path(path).with_suffix(".pid").write_text(f"{os.getpid()}\n")
        self.sel.register(self.listener, selectors.EVENT_READ, ("accept", None))

    def _owns_socket(self) -> bool:
        try:
            return os.stat(self.path).st_ino == self.inode
        except FileNotFoundError:
            return False

    def serve(self) -> None:
        while True:
            for key, _ in self.sel.select(timeout=1.0):
                kind, pid = key.data
                if kind == "accept":
                    self._accept()
                elif kind == "exit":
                    self._reap(pid)
                elif kind == "client":
                    self._client_event(pid)
            if self.jobs:
                self.last_busy = time.monotonic()
            elif time.monotonic() - self.last_busy > self.idle or not self._owns_socket():
                break

    def close(self) -> None:
        if self._owns_socket():
            os.unlink(self.path)
            Path(self.path).with_suffix(".pid").unlink(missing_ok=True)

    def _accept(self) -> None:
        conn, _ = self.listener.accept()
        try:
            conn.settimeout(10)
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            _pid, uid, _gid = struct.unpack("3i", creds)
            if uid != os.getuid():
                raise PermissionError(f"client uid {uid} is not the server's")
            _, fds, _, _ = socket.recv_fds(conn, 1, 3)
            if len(fds) != 3:
                raise ConnectionError(f"expected 3 file descriptors, got {len(fds)}")
            request = recv_msg(conn)
        except (OSError, ValueError) as exc:  # ConnectionError and PermissionError are OSErrors
            print(f"warm-start: rejected a client: {exc}", file=sys.stderr, flush=True)
            conn.close()
            return
        others = [self.listener, self.sel] + [j["conn"] for j in self.jobs.values()] + \
                 [j["pidfd"] for j in self.jobs.values()]
        try:
            pid = os.fork()
        except OSError as exc:  # the client sees the connection close and runs the command itself
            print(f"warm-start: fork failed: {exc}", file=sys.stderr, flush=True)
            pid = None
        if pid == 0:
            _child(request, fds, others + [conn])
        for fd in fds:
            os.close(fd)
        if pid is None:
            conn.close()
            return
        try:
            os.setpgid(pid, pid)  # also done by the child; whichever runs first, killpg(pid) works from here on
        except OSError:
            pass
        pidfd = _PidFd(pid)
        self.jobs[pid] = {"conn": conn, "pidfd": pidfd}
        self.last_busy = time.monotonic()
        self.sel.register(pidfd, selectors.EVENT_READ, ("exit", pid))
        try:
            conn.settimeout(None)
            send_msg(conn, {"pid": pid})
        except OSError:  # the client is gone already: so must its job be
            self._client_gone(pid)
            return
        self.sel.register(conn, selectors.EVENT_READ, ("client", pid))

    def _client_event(self, pid: int) -> None:
        """The client only ever closes its end: it was killed, so the job must not run on unseen."""
        job = self.jobs[pid]
        try:
            data = job["conn"].recv(1)
        except OSError:
            data = b""
        if not data:
            self.sel.unregister(job["conn"])
            self._client_gone(pid)

    def _client_gone(self, pid: int) -> None:
        job = self.jobs[pid]
        job["conn"].close()
        job["conn"] = None
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def _reap(self, pid: int) -> None:
        job = self.jobs.pop(pid)
        self.sel.unregister(job["pidfd"])
        job["pidfd"].close()
        _, status = os.waitpid(pid, 0)
        if job["conn"] is not None:
            self.sel.unregister(job["conn"])
            try:
                send_msg(job["conn"], {"exit": os.waitstatus_to_exitcode(status)})
            except OSError:
                pass
            job["conn"].close()


class _PidFd:
    """A child's pidfd, readable once it exits (Linux >= 5.3)."""

    def __init__(self, pid: int):
        self.fd = os.pidfd_open(pid)

    def fileno(self) -> int:
        return self.fd

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m leti.warmstart.server", description=__doc__.splitlines()[0])
    p.add_argument("--socket", required=True)
    p.add_argument("--idle", type=float, default=DEFAULT_IDLE)
    args = p.parse_args(argv)
    try:  # children are watched through pidfds (Linux >= 5.3); without them, clients run in-process
        os.close(os.pidfd_open(os.getpid()))
    except (AttributeError, OSError) as exc:
        print(f"warm-start: no pidfd support ({exc}); not serving", file=sys.stderr)
        return 1
    os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"] = "1"  # an is_available() at import must not start CUDA here
    preload()
    import torch

    if torch.cuda.is_initialized():  # a forked child could not use CUDA: let clients run in-process
        print("warm-start: CUDA was initialised while importing; not serving", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = Server(args.socket, args.idle)
    try:
        server.serve()
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
