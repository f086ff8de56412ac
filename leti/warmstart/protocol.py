"""Where the warm-start server listens and how a client talks to it.

One server per (user, interpreter, leti source tree, import-relevant environment): the socket's name
is a hash of all of them, so a client never reaches a server that imported other code or read other
settings at import time (an edited leti file, another venv, another HF_HOME) - it starts its own,
and the stale one exits when idle.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
import sys
import tempfile
from pathlib import Path

import leti

# Commands that import torch/transformers (about 5-6 s of CPU per process): the ones worth serving.
# The executor's commands stay in their own small processes: forking its sandbox workers from a
# process with torch mapped would cost more than the import saves.
WARM_COMMANDS = frozenset({"sample", "train", "pretrain", "tokenizer", "init-model", "lm-loss"})

# Settings read when torch/transformers/tokenizers are imported: a server serves only clients whose
# values match the ones it imported with.
_IMPORT_ENV_PREFIXES = ("HF_", "HUGGINGFACE", "TRANSFORMERS", "TOKENIZERS", "TORCH", "PYTORCH", "CUDA", "NVIDIA",
                        "OMP_", "MKL_", "KMP_", "OPENBLAS", "ONEDNN", "DNNL", "PYTHON", "LD_", "XDG_CACHE",
                        "HOME", "LANG", "LC_")
# Thread counts differ per job (Snakemake sets them to the job's threads): not part of the key; the
# server starts without them and each child applies its own (leti.warmstart.server._apply_threads).
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
# Batch schedulers: a job's processes must stay in the job (its cgroup, its accounting, its node).
_SCHEDULER_VARS = ("SLURM_JOB_ID", "PBS_JOBID", "LSB_JOBID", "JOB_ID", "FLUX_JOB_ID")

ENABLE_VAR = "LETI_WARM"          # "1": route WARM_COMMANDS through the server; unset/"0": never
IDLE_VAR = "LETI_WARM_IDLE"       # seconds an idle server waits for the next job (default 60)
DIR_VAR = "LETI_WARM_DIR"         # where sockets live (default: a private dir under the temp dir)
DEFAULT_IDLE = 60.0


def enabled(command: str, environ=os.environ) -> bool:
    """Warm start is opt-in (the workflow sets LETI_WARM=1 for local runs) and never inside a batch job."""
    if environ.get(ENABLE_VAR, "0") in ("", "0", "false", "no", "off"):
        return False
    if any(environ.get(v) for v in _SCHEDULER_VARS):
        return False
    return command in WARM_COMMANDS and hasattr(socket, "send_fds") and sys.platform.startswith("linux")


def idle_seconds(environ=os.environ) -> float:
    try:
        return float(environ.get(IDLE_VAR, DEFAULT_IDLE))
    except ValueError:
        return DEFAULT_IDLE


def _source_fingerprint() -> list:
    root = Path(leti.__file__).resolve().parent
    stats = ((p, p.stat()) for p in sorted(root.rglob("*.py")))
    return [(str(p.relative_to(root)), st.st_size, st.st_mtime_ns) for p, st in stats]


def server_key(environ=os.environ) -> str:
    env = sorted((k, v) for k, v in environ.items() if k.startswith(_IMPORT_ENV_PREFIXES) and k not in THREAD_VARS)
    blob = json.dumps([os.getuid(), sys.executable, sys.prefix, sys.version, str(Path(leti.__file__).resolve()),
                       _source_fingerprint(), env])
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def socket_dir(environ=os.environ) -> Path:
    base = environ.get(DIR_VAR) or os.path.join(tempfile.gettempdir(), f"leti-warm-{os.getuid()}")
    path = Path(base)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise PermissionError(f"{path}: warm-start directory must be private to uid {os.getuid()}")
    return path


def socket_path(environ=os.environ) -> Path:
    return socket_dir(environ) / f"{server_key(environ)}.sock"


# Messages: a 4-byte big-endian length, then JSON.
def send_msg(sock: socket.socket, obj) -> None:
    data = json.dumps(obj).encode()
    sock.sendall(struct.pack(">I", len(data)) + data)


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed the connection")
        buf += chunk
    return buf


def recv_msg(sock: socket.socket):
    (n,) = struct.unpack(">I", recv_exact(sock, 4))
    return json.loads(recv_exact(sock, n))
