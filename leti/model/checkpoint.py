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

from leti.core.io import atomic_write_json

META_FILE = "leti_checkpoint.json"
OPTIMIZER_FILE = "optimizer.pt"


def save_checkpoint(out_dir: str | os.PathLike, model, tokenizer, optimizer=None, meta: dict | None = None,
                    extra_state: dict | None = None) -> Path:
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


def read_meta(ckpt_dir: str | os.PathLike) -> dict:
    p = Path(ckpt_dir) / META_FILE
    return json.loads(p.read_text()) if p.exists() else {}


def load_training_state(ckpt_dir: str | os.PathLike) -> dict | None:
    p = Path(ckpt_dir) / OPTIMIZER_FILE
    if not p.exists():
        return None
    return torch.load(p, map_location="cpu", weights_only=False)
