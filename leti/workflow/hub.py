"""Hub model ids checked at planning, so a typo is one line before any job, not a job's log of retries.

A model source that is not `tiny` nor a local directory is a Hugging Face hub id (`params.model.source`,
or an axis value overriding it). Planning never downloads anything; it looks, in this order:

1. the local Hugging Face cache (`HF_HOME` / `HF_HUB_CACHE`): the id's `config.json` is there -> fine
   (this is how compute nodes without a network run: docs/slurm.md, "Model weights on nodes without a network");
2. offline (`HF_HUB_OFFLINE=1` or `TRANSFORMERS_OFFLINE=1`) and not cached -> error: the job could not
   load it either (one line: the id, the cache it looked in, how to fetch it);
3. online: one metadata request to the hub (a few seconds at most): "no such model" (a typo, or a
   gated/private model without a token) -> error; a network failure -> planning goes on, and the job
   will say what went wrong. An id the hub confirmed, and a hub that did not answer (for an hour), are
   remembered (`$XDG_CACHE_HOME/leti/hub-ids.json`, default `~/.cache/leti/`), so that later plans do
   not ask again.
"""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from leti.core.errors import UserError

TIMEOUT_S = 8.0
QUIET_HUB_S = 3600  # after a hub that did not answer, plans do not ask again for this long
# the hub's repo-id rule: `name` or `org/name`, letters, digits, '-', '_', '.', no '--' or '..', <= 96 chars
_ID = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9_.-]*/)?[A-Za-z0-9][A-Za-z0-9_.-]*$")


def model_sources(config: dict) -> list[tuple[str, str]]:
    """(where in the config, source) of every model source of the grid."""
    out = [("params.model.source", (config["params"].get("model") or {}).get("source", "tiny"))]
    for axis, values in config["axes"].items():
        for value, overrides in values.items():
            if overrides and "model.source" in overrides:
                out.append((f"axes.{axis}.{value}: model.source", overrides["model.source"]))
    return out


def is_hub_id(source: str) -> bool:
    return source != "tiny" and not Path(source).is_dir() and not source.startswith(("/", ".", "~"))


def _offline() -> bool:
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _cache_dir() -> str:
    """huggingface_hub's cache: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.path.expanduser(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return os.path.join(os.path.expanduser(home), "hub")


def cached(repo_id: str) -> bool:
    """Is the model's config.json in the local Hugging Face cache? (Its layout, read without importing
    huggingface_hub: <cache>/models--<org>--<name>/snapshots/<revision>/config.json.)"""
    snapshots = Path(_cache_dir()) / ("models--" + repo_id.replace("/", "--")) / "snapshots"
    return any(snapshots.glob("*/config.json"))


def _memory_file() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "leti" / "hub-ids.json"


def _memory() -> dict:
    try:
        data = json.loads(_memory_file().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _remember(**changes) -> None:
    data = {**_memory(), **changes}
    try:
        _memory_file().parent.mkdir(parents=True, exist_ok=True)
        _memory_file().write_text(json.dumps(data))
    except OSError:
        pass


def ask_hub(repo_id: str) -> bool | None:
    """True: the hub has it; False: it does not (or it is gated/private for this token); None: no answer."""
    try:
        from huggingface_hub import HfApi
        from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError
    except ImportError:
        return None
    try:
        HfApi().model_info(repo_id, timeout=TIMEOUT_S)
        return True
    except GatedRepoError:
        return True  # it exists; the job needs a token (its own error says so)
    except RepositoryNotFoundError:
        return False
    except Exception:  # noqa: BLE001 - no network, a proxy, a timeout: the job will tell
        return None


def check_hub_models(config: dict) -> None:
    """Raise UserError (one line naming the key) for a hub id that cannot be loaded (module docstring)."""
    for where, source in model_sources(config):
        source = str(source)
        if not is_hub_id(source):
            continue
        if len(source) > 96 or "--" in source or ".." in source or not _ID.match(source):
            raise UserError(f"{where}: {source!r} is not a Hugging Face model id (org/name) nor a local directory")
        memory = _memory()
        if cached(source) or source in memory.get("confirmed", []):
            continue
        if _offline():
            raise UserError(f"{where}: {source} is not in the local Hugging Face cache ({_cache_dir()}) and the hub "
                            f"is offline (HF_HUB_OFFLINE): fetch it first (docs/slurm.md: model weights on nodes "
                            f"without a network), point HF_HOME at the cache that holds it, or check the name")
        if memory.get("unreachable_until", 0) > time.time():
            continue
        answer = ask_hub(source)
        if answer is False:
            raise UserError(f"{where}: no model {source!r} on the Hugging Face hub (a typo? a private or gated model "
                            f"needs `huggingface-cli login`)")
        if answer:
            _remember(confirmed=sorted(set(memory.get("confirmed", [])) | {source}))
        else:
            _remember(unreachable_until=time.time() + QUIET_HUB_S)
