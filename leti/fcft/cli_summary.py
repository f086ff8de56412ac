"""`leti ckpt-summary`: copy a checkpoint's small, trackable facts (metrics, config, loss curve)
into results/, so tables and figures never need the checkpoint itself."""
from __future__ import annotations

import shutil
from pathlib import Path

from leti.errors import UserError
from leti.io import atomic_open, atomic_write_json


def configure(p):
    p.add_argument("--ckpt", required=True)
    p.add_argument("--summary", required=True)
    p.add_argument("--loss-csv", required=True)


def write_summary(ckpt: str, summary: str, loss_csv: str, source_csv: str | None = None) -> None:
    """Also called by `leti train --summary` right after it wrote the checkpoint, with the loss CSV
    it wrote (`source_csv`; default: the checkpoint's own loss.csv)."""
    from leti.fcft.checkpoint import read_meta

    meta = read_meta(ckpt)
    if not meta:
        raise UserError(f"{ckpt}: not a leti checkpoint (no leti_checkpoint.json)")
    src = Path(source_csv) if source_csv else Path(ckpt) / "loss.csv"
    if not src.exists():
        raise UserError(f"{src}: file not found")
    atomic_write_json(summary, {k: meta.get(k) for k in ("config", "iteration", "global_step",
                                                          "fcft_steps_total", "metrics", "run", "environment")})
    with atomic_open(loss_csv, "w") as fh, open(src, encoding="utf-8") as inp:
        shutil.copyfileobj(inp, fh)


def run(args):
    write_summary(args.ckpt, args.summary, args.loss_csv)
    return 0
