"""Self-describing checkpoints: `save_pretrained` weights + tokenizer, optimizer state, and a JSON
(`leti_checkpoint.json`) with the full config, seed, metrics and environment that produced them.

Writes go to a temporary sibling directory that is renamed into place, so a killed job never
leaves a checkpoint that looks complete.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch

from leti.core.errors import UserError
from leti.core.io import atomic_write_json

META_FILE = "leti_checkpoint.json"
OPTIMIZER_FILE = "optimizer.pt"


def save_checkpoint(out_dir: str | os.PathLike, model, tokenizer, optimizer=None, meta: dict | None = None,
                    extra_state: dict | None = None) -> Path:
    from leti.model.loading import quiet_library_progress

    quiet_library_progress()  # pre-training saves without loading anything first
    out = Path(out_dir)
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if optimizer is not None or extra_state:
        state = {"optimizer": optimizer.state_dict() if optimizer is not None else None}
        state.update(extra_state or {})
        torch.save(state, tmp / OPTIMIZER_FILE)
    atomic_write_json(tmp / META_FILE, meta or {})
    if out.exists():
        old = out.with_name(out.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old)
    else:
        os.replace(tmp, out)
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _json_file(p: Path) -> dict:
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{p}: corrupt checkpoint file, not readable JSON ({_first_line(exc)}); "
                        "delete the checkpoint directory to rebuild it") from None
    if not isinstance(data, dict):
        raise UserError(f"{p}: corrupt checkpoint file, expected a JSON object")
    return data


def _check_safetensors(p: Path) -> None:
    """The header is a little-endian u64 length and a JSON table of tensors with byte offsets."""
    size = p.stat().st_size
    bad = None
    try:
        with open(p, "rb") as f:
            n = int.from_bytes(f.read(8), "little") if size >= 8 else -1
            if n < 2 or 8 + n > size:
                bad = "header length does not fit the file"
            else:
                header = json.loads(f.read(n))
                ends = [t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"]
                if 8 + n + max(ends, default=0) > size:
                    bad = f"truncated ({size} bytes, tensors need {8 + n + max(ends)})"
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        bad = f"header is not valid ({_first_line(exc)})"
    if bad:
        raise UserError(f"{p}: corrupt weights file, {bad}; delete the checkpoint directory to rebuild it")


def check_checkpoint_files(ckpt_dir: str | os.PathLike) -> None:
    """Raise UserError naming the file if a local model directory holds a truncated or garbage
    config, tokenizer, weights or metadata file (a directory that was not written by
    `save_checkpoint`'s rename, e.g. copied by hand or damaged on disk)."""
    d = Path(ckpt_dir)
    if not d.is_dir():
        return
    for name in ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", META_FILE):
        if (d / name).exists():
            _json_file(d / name)
    for p in sorted(d.glob("*.safetensors")):
        _check_safetensors(p)


def read_meta(ckpt_dir: str | os.PathLike) -> dict:
    p = Path(ckpt_dir) / META_FILE
    return _json_file(p) if p.exists() else {}


def load_training_state(ckpt_dir: str | os.PathLike) -> dict | None:
    p = Path(ckpt_dir) / OPTIMIZER_FILE
    if not p.exists():
        return None
    try:
        return torch.load(p, map_location="cpu", weights_only=False)
    except Exception as exc:  # truncated or garbage pickle/zip: torch raises many kinds
        raise UserError(f"{p}: corrupt optimizer state ({_first_line(exc)}); "
                        "delete the checkpoint directory to rebuild it") from None
