"""`leti train`: one FCFT iteration from a checkpoint to a new checkpoint."""
from __future__ import annotations

import json

import torch

from leti.errors import UserError
from leti.io import read_jsonl


def configure(p):
    p.add_argument("--init", required=True, help="checkpoint to continue from (weights + optimizer state)")
    p.add_argument("--examples", required=True, help="FCFT examples JSONL (leti fcft-data)")
    p.add_argument("--pretrain", default=None, help="pre-training corpus JSONL with a 'text' field (regularization)")
    p.add_argument("--out", required=True, help="checkpoint directory to write")
    p.add_argument("--loss-csv", default=None)
    p.add_argument("--iteration", type=int, default=1)
    p.add_argument("--config", default="{}", help="JSON object of TrainConfig fields (lr, steps, reg_ratio, ...)")
    p.add_argument("--run-meta", default="{}", help="JSON object stored in the checkpoint (axes, seed, run id)")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--heldout", default=None, help="held-out corpus JSONL ('text'): measure the new checkpoint's LM loss")
    p.add_argument("--heldout-out", default=None, help="where that loss goes (JSON, as `leti lm-loss` writes it)")
    p.add_argument("--summary", default=None, help="copy the checkpoint's metrics/config here (as `leti ckpt-summary`)")
    p.add_argument("--summary-loss-csv", default=None, help="copy the per-step loss CSV here")


def run(args):
    from dataclasses import fields

    from leti.fcft.train import TrainConfig, train_iteration
    from leti.model import pick_device

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        overrides = json.loads(args.config)
    except json.JSONDecodeError as exc:
        raise UserError(f"--config: not valid JSON ({exc.msg})") from None
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise UserError(f"--config: unknown train field(s) {unknown}; known: {sorted(known)}")
    if "betas" in overrides:
        overrides["betas"] = tuple(overrides["betas"])
    cfg = TrainConfig(**overrides)
    if bool(args.heldout) != bool(args.heldout_out):
        raise UserError("--heldout and --heldout-out go together")
    if bool(args.summary) != bool(args.summary_loss_csv):
        raise UserError("--summary and --summary-loss-csv go together")
    if args.summary and not args.loss_csv:
        raise UserError("--summary needs --loss-csv (the per-step loss CSV it copies)")
    from leti.fcft.cli_lmloss import read_heldout_texts, write_heldout_loss
    from leti.fcft.cli_summary import write_summary

    heldout_texts = read_heldout_texts(args.heldout) if args.heldout else None  # fail before training
    examples = read_jsonl(args.examples, required=("problem", "solution", "reward"))
    texts = [r["text"] for r in read_jsonl(args.pretrain, required=("text",))] if args.pretrain else []
    if cfg.reg_ratio > 0 and not texts:
        raise UserError("train.reg_ratio > 0 needs --pretrain with a pre-training corpus")
    metrics = train_iteration(args.init, examples, texts, args.out, cfg, iteration=args.iteration,
                              device=pick_device(args.device), loss_csv=args.loss_csv,
                              run_meta=json.loads(args.run_meta), progress=not args.no_progress)
    print(json.dumps(metrics))
    if args.summary:
        write_summary(args.out, args.summary, args.summary_loss_csv, source_csv=args.loss_csv)
    if heldout_texts is not None:
        write_heldout_loss(args.out, heldout_texts, args.heldout_out, device=pick_device(args.device))
    return 0
