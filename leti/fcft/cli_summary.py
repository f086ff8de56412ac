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


def run(args):
    from leti.fcft.checkpoint import read_meta

    meta = read_meta(args.ckpt)
    if not meta:
        raise UserError(f"{args.ckpt}: not a leti checkpoint (no leti_checkpoint.json)")
    src = Path(args.ckpt) / "loss.csv"
    if not src.exists():
        raise UserError(f"{src}: file not found")
    atomic_write_json(args.summary, {k: meta.get(k) for k in ("config", "iteration", "global_step",
                                                               "fcft_steps_total", "metrics", "run", "environment")})
    with atomic_open(args.loss_csv, "w") as fh, open(src, encoding="utf-8") as inp:
        shutil.copyfileobj(inp, fh)
    return 0
