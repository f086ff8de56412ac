"""FCFT-stage commands: `leti fcft-data` (executions -> examples), `leti train` (one iteration),
`leti ckpt-summary` (a checkpoint's small facts into results/)."""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from leti.core.errors import UserError
from leti.core.io import atomic_open, atomic_write_json, atomic_write_jsonl, read_jsonl
from leti.core.vocab import FEEDBACK_TYPES


# ---------------------------------------------------------------- leti fcft-data
def configure_fcft_data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--problems", required=True)
    p.add_argument("--samples", required=True)
    p.add_argument("--executions", required=True, help="results of `leti execute` (EAE: with --problems)")
    p.add_argument("--feedback-type", choices=FEEDBACK_TYPES, required=True)
    p.add_argument("--postprocess", default=None, help="post-process kind applied to solutions (mbpp, eae, ...)")
    p.add_argument("--postprocess-feedback", action="store_true", help="spec §4.2 extra feedback")
    p.add_argument("--postprocess-mode", default="exact", choices=["exact", "leti"],
                   help="the cutter: literal stop words, or the original's unescaped MBPP regex")
    p.add_argument("--out", required=True)
    p.add_argument("--stats", default=None)


def run_fcft_data(args: argparse.Namespace) -> int:
    from leti.fcft.dataset import build_examples

    problems = read_jsonl(args.problems, required=("task_id", "prompt"))
    samples = read_jsonl(args.samples, required=("task_id", "sample_idx", "completion"))
    results = read_jsonl(args.executions, required=("status",))
    examples, stats = build_examples(problems, samples, results, args.feedback_type,
                                     postprocess=args.postprocess, postprocess_feedback=args.postprocess_feedback,
                                     postprocess_mode=args.postprocess_mode)
    atomic_write_jsonl(args.out, examples)
    stats.update({"feedback_type": args.feedback_type, "postprocess": args.postprocess,
                  "postprocess_feedback": args.postprocess_feedback})
    if args.stats:
        atomic_write_json(args.stats, stats)
    print(f"wrote {len(examples)} FCFT examples to {args.out} (train pass rate {stats['pass_rate']:.3f})")
    return 0


# ---------------------------------------------------------------- leti train
def configure_train(p: argparse.ArgumentParser) -> None:
    p.add_argument("--init", required=True, help="checkpoint to continue from (weights + optimizer state)")
    p.add_argument("--examples", required=True, help="FCFT examples JSONL (leti fcft-data)")
    p.add_argument("--pretrain", default=None, help="pre-training corpus JSONL with a 'text' field (regularization)")
    p.add_argument("--out", required=True, help="checkpoint directory to write")
    p.add_argument("--loss-csv", default=None)
    p.add_argument("--iteration", type=int, default=1)
    p.add_argument("--config", default="{}", help="JSON object of TrainConfig fields (leti.fcft.config)")
    p.add_argument("--run-meta", default="{}", help="JSON object stored in the checkpoint (axes, seed, run id)")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--heldout", default=None, help="held-out corpus JSONL ('text'): measure the new checkpoint's LM loss")
    p.add_argument("--heldout-out", default=None, help="where that loss goes (JSON, as `leti lm-loss` writes it)")
    p.add_argument("--summary", default=None, help="copy the checkpoint's metrics/config here (as `leti ckpt-summary`)")
    p.add_argument("--summary-loss-csv", default=None, help="copy the per-step loss CSV here")


def run_train(args: argparse.Namespace) -> int:
    from leti.core.config import parse_json_object
    from leti.fcft.config import TrainConfig

    cfg = TrainConfig.from_dict(parse_json_object(args.config, "--config"), where="--config")
    run_meta = parse_json_object(args.run_meta, "--run-meta")
    if bool(args.heldout) != bool(args.heldout_out):
        raise UserError("--heldout and --heldout-out go together")
    if bool(args.summary) != bool(args.summary_loss_csv):
        raise UserError("--summary and --summary-loss-csv go together")
    if args.summary and not args.loss_csv:
        raise UserError("--summary needs --loss-csv (the per-step loss CSV it copies)")
    from leti.model.lm_loss import read_heldout_texts, write_heldout_loss

    heldout_texts = read_heldout_texts(args.heldout) if args.heldout else None  # fail before training
    examples = read_jsonl(args.examples, required=("problem", "solution", "reward"))
    texts = [r["text"] for r in read_jsonl(args.pretrain, required=("text",))] if args.pretrain else []
    if cfg.reg_ratio > 0 and not texts:
        raise UserError("train.reg_ratio > 0 needs --pretrain with a pre-training corpus")

    import torch

    from leti.fcft.train import train_iteration
    from leti.model.loading import pick_device

    if args.threads:
        torch.set_num_threads(args.threads)
    metrics = train_iteration(args.init, examples, texts, args.out, cfg, iteration=args.iteration,
                              device=pick_device(args.device), loss_csv=args.loss_csv,
                              run_meta=run_meta, progress=not args.no_progress)
    print(json.dumps(metrics))
    if args.summary:
        write_summary(args.out, args.summary, args.summary_loss_csv, source_csv=args.loss_csv)
    if heldout_texts is not None:
        write_heldout_loss(args.out, heldout_texts, args.heldout_out, device=pick_device(args.device))
    return 0


# ---------------------------------------------------------------- leti ckpt-summary
def configure_ckpt_summary(p: argparse.ArgumentParser) -> None:
    p.description = ("Copy a checkpoint's small, trackable facts (metrics, config, loss curve) into results/, "
                     "so tables and figures never need the checkpoint itself.")
    p.add_argument("--ckpt", required=True)
    p.add_argument("--summary", required=True)
    p.add_argument("--loss-csv", required=True)


def write_summary(ckpt: str, summary: str, loss_csv: str, source_csv: str | None = None) -> None:
    """Also called by `leti train --summary` right after it wrote the checkpoint, with the loss CSV
    it wrote (`source_csv`; default: the checkpoint's own loss.csv)."""
    from leti.model.checkpoint import read_meta

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


def run_ckpt_summary(args: argparse.Namespace) -> int:
    write_summary(args.ckpt, args.summary, args.loss_csv)
    return 0
