"""One FCFT iteration: continue from the previous checkpoint's weights *and* optimizer state,
train on this iteration's examples with pre-training batches mixed in as regularization,
write a self-describing checkpoint and a per-step loss CSV.

Same code on CPU (fp32) and GPU (bf16 autocast over fp32 master weights by default; `bf16`
weights as the original's TPU run is an option). A killed job resumes from `<out>.resume/`.
Loss rows are appended to a partial CSV as training goes (flushed per row, for watching a long
job): `<out>.loss.csv.partial` beside the checkpoint when `loss_csv` lies inside it (the rules'
case), else `<loss_csv>.partial`. The final `loss_csv` is written atomically at the end and the
partial file removed.
"""
from __future__ import annotations

import contextlib
import csv
import io
import math
import random
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import torch

from leti.core.errors import UserError
from leti.core.io import atomic_write_text, stable_hash
from leti.core.progress import progress as progress_bar
from leti.core.provenance import environment
from leti.fcft.config import TrainConfig
from leti.fcft.dataset import tokenize_example
from leti.model.checkpoint import load_training_state, read_meta, save_checkpoint
from leti.model.loss import global_batch_loss


class PretrainStream:
    """Endless, deterministic stream of pre-training rows (documents + EOS, truncated to max_len).

    order="shuffle": every pass over the rows is a fresh shuffle. order="restart": the original's
    loader (run_leti.py builds a new one at every epoch): rows in corpus order from the first one at
    every FCFT epoch (`new_epoch`), wrapping around within an epoch, and only as many rows as fill whole
    batches (the original cut its blocks to a multiple of the batch of 128)."""

    def __init__(self, texts: list[str], tokenizer, max_len: int, seed: int, packing: str = "docs",
                 separator: str = "eos", order: str = "shuffle", batch_size: int | None = None):
        eos = tokenizer.eos_token_id
        encoded = tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []
        if packing == "blocks":  # run_clm-style: concatenate (with EOS, or nothing between), cut into full blocks
            sep = [eos] if separator == "eos" else []
            flat = [t for ids in encoded for t in ids + sep]
            self.docs = [flat[i:i + max_len] for i in range(0, len(flat) - max_len + 1, max_len)]
        else:
            self.docs = [ids[: max_len - 1] + [eos] for ids in encoded]
        if not self.docs:
            raise UserError("pre-training corpus is empty but reg_ratio > 0")
        if order not in ("shuffle", "restart"):
            raise UserError(f"train.pretrain_order must be 'shuffle' or 'restart', got {order!r}")
        self.restart = order == "restart"
        if self.restart and batch_size and len(self.docs) >= batch_size:
            self.docs = self.docs[: len(self.docs) // batch_size * batch_size]
        self.rng = random.Random(seed)
        self.order: list[int] = []
        self.cursor = 0

    def next_batch(self, n: int) -> list[list[int]]:
        rows = []
        for _ in range(n):
            if self.cursor >= len(self.order):
                self.order = list(range(len(self.docs)))
                if not self.restart:
                    self.rng.shuffle(self.order)
                self.cursor = 0
            rows.append(self.docs[self.order[self.cursor]])
            self.cursor += 1
        return rows

    def new_epoch(self) -> None:
        """The FCFT data starts another epoch: a restarting stream goes back to its first row."""
        if self.restart:
            self.order, self.cursor = [], 0

    def state(self) -> dict:
        return {"rng": self.rng.getstate(), "order": self.order, "cursor": self.cursor}

    def load(self, st: dict) -> None:
        self.rng.setstate(tuple(st["rng"]) if not isinstance(st["rng"], tuple) else st["rng"])
        self.order, self.cursor = st["order"], st["cursor"]


_ADDED_FIELDS = ("packing", "pack_len", "packing_attention", "micro_batch_tokens", "attn_implementation",
                 "data_order", "pretrain_separator", "pretrain_order",
                 "optimizer_impl", "fused_gelu")


def _cfg_for_key(cfg: TrainConfig) -> dict:
    """The config as hashed for resume snapshots; options added later count only when set, so a
    snapshot written before they existed still matches."""
    default = TrainConfig()
    return {k: v for k, v in asdict(cfg).items() if k not in _ADDED_FIELDS or v != getattr(default, k)}


def _checkpointing(model, action: str) -> None:
    """Activation checkpointing on/off: transformers >= 5.2x renamed gradient_checkpointing_*."""
    fn = getattr(model, f"activation_checkpointing_{action}", None) or getattr(model, f"gradient_checkpointing_{action}")
    fn()


def _resolve_precision(cfg: TrainConfig, device: torch.device) -> str:
    if cfg.precision != "auto":
        return cfg.precision
    return "bf16-autocast" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp32"


GENERATION_PAD_MULTIPLE = 128  # the original padded each generation prompt to a multiple of 128 before sorting


def generation_order_keys(examples: list[dict], tokenizer) -> list[tuple]:
    """The original's generation order (dataloader.py `generation_dataloader_impl`): prompts sorted by
    their token count padded to a multiple of 128, then by id (MBPP's task id, EAE's row: the problem
    file's order), a prompt's samples adjacent. The prompt is the model input it was sampled from
    (with its reward token after iteration 1); examples written before that was recorded fall back to
    the problem text."""
    padded: dict[str, int] = {}
    keys = []
    for ex in examples:
        text = ex.get("model_input") or ex["problem"]
        if text not in padded:
            n = len(tokenizer(text, add_special_tokens=False)["input_ids"])
            padded[text] = -(-n // GENERATION_PAD_MULTIPLE) * GENERATION_PAD_MULTIPLE
        keys.append((padded[text], ex.get("problem_index", 0), ex.get("sample_idx", 0)))
    return keys


def epoch_order_of(examples: list[dict], cfg: TrainConfig, rng: random.Random, tokenizer=None) -> list[int]:
    """One epoch's example order: shuffled, the samples file's, or the original's generation order
    (`generation`; `prompt_length` is an older approximation: characters, then task id; both stable sorts)."""
    order = list(range(len(examples)))
    if cfg.shuffle:
        rng.shuffle(order)
    elif cfg.data_order == "generation":
        if tokenizer is None:
            raise UserError("train.data_order 'generation' needs the tokenizer")
        keys = generation_order_keys(examples, tokenizer)
        order.sort(key=lambda i: keys[i])
    elif cfg.data_order == "prompt_length":
        order.sort(key=lambda i: (len(examples[i]["problem"]), examples[i].get("task_id", "")))
    return order


def train_iteration(init_ckpt: str, examples: list[dict], pretrain_texts: list[str], out_dir: str,
                    cfg: TrainConfig, *, iteration: int = 1, device: str | torch.device = "cpu",
                    loss_csv: str | None = None, run_meta: dict | None = None, progress: bool = True,
                    stop_after_steps: int | None = None) -> dict:
    """Train one iteration; returns metrics. `stop_after_steps` simulates a kill (tests)."""
    from leti.model.fused_ops import fuse_gelu
    from leti.model.loading import load_model, load_tokenizer

    device = torch.device(device)
    out = Path(out_dir)
    resume_dir = out.with_name(out.name + ".resume")
    precision = _resolve_precision(cfg, device)
    cfg_key = stable_hash({"cfg": _cfg_for_key(cfg), "init": str(init_ckpt), "n_ex": len(examples),
                           "ex": stable_hash(examples), "it": iteration})
    resume_state = load_training_state(resume_dir) if resume_dir.exists() else None
    if resume_state is not None and resume_state.get("cfg_key") != cfg_key:
        shutil.rmtree(resume_dir)  # stale snapshot from a different configuration
        resume_state = None
    src = resume_dir if resume_state is not None else init_ckpt
    tok = load_tokenizer(str(src))
    load_kw = {"attn_implementation": cfg.attn_implementation} if cfg.attn_implementation else {}
    model = load_model(str(src), device, dtype="bfloat16" if precision == "bf16" else "float32", **load_kw)
    if cfg.gradient_checkpointing:
        _checkpointing(model, "enable")
        model.config.use_cache = False
    if cfg.fused_gelu:
        fuse_gelu(model)
    model.train()
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim < 2 or "ln" in name or "norm" in name.lower() else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=cfg.betas, eps=cfg.eps,
                            **({cfg.optimizer_impl: True} if cfg.optimizer_impl != "default" else {}))
    init_meta = read_meta(init_ckpt)
    base_global_step = int(init_meta.get("global_step") or 0)
    base_fcft_step = int(init_meta.get("fcft_steps_total") or 0)

    # --- data
    tokenized = [tokenize_example(ex, tok, cfg.max_len, cfg.loss_on, cfg.append_eos) for ex in examples]
    if not tokenized:
        raise UserError("no FCFT examples to train on")
    n_batches = math.ceil(len(tokenized) / cfg.batch_size)
    steps = cfg.steps if cfg.steps is not None else max(1, round(cfg.epochs * n_batches))
    pre_bs = cfg.pretrain_batch_size or cfg.batch_size
    stream = PretrainStream(pretrain_texts, tok, cfg.max_len, cfg.seed + iteration, cfg.pretrain_packing,
                            separator=cfg.pretrain_separator, order=cfg.pretrain_order, batch_size=pre_bs) \
        if cfg.reg_ratio > 0 else None
    data_rng = random.Random(cfg.seed * 1000 + iteration)

    def lr_at(step: int) -> float:
        warm = min(1.0, (step + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0
        if cfg.schedule == "cosine":
            return cfg.lr * warm * 0.5 * (1 + math.cos(math.pi * step / steps))
        return cfg.lr * warm

    step, credit, epoch_order, rows_log = 0, 0.0, [], []
    if resume_state is not None:
        opt.load_state_dict(resume_state["optimizer"])
        step, credit = resume_state["step"], resume_state["credit"]
        data_rng.setstate(resume_state["data_rng"])
        epoch_order = resume_state["epoch_order"]
        rows_log = resume_state["rows_log"]
        if stream is not None:
            stream.load(resume_state["stream"])
        torch.set_rng_state(resume_state["torch_rng"])
    elif cfg.continue_optimizer:
        prev = load_training_state(init_ckpt)
        if prev and prev.get("optimizer"):
            opt.load_state_dict(prev["optimizer"])
            for g in opt.param_groups:
                g["lr"] = cfg.lr

    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if precision == "bf16-autocast" \
        else contextlib.nullcontext
    micro = cfg.micro_batch_size
    t0 = time.time()
    bar = progress_bar(steps, f"fcft it{iteration}", unit="step", initial=step, disable=not progress)
    partial_csv = _PartialCsv(partial_loss_csv(out, loss_csv), rows_log) if loss_csv else None

    def optimizer_step(rows, masks, kind):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        opt.zero_grad(set_to_none=True)
        loss, ntok = global_batch_loss(model, rows, masks, tok.pad_token_id, micro, device, autocast,
                                        cfg.length_bucketing, packing=cfg.packing,
                                        pack_len=cfg.pack_len or cfg.max_len,
                                        packing_attention=cfg.packing_attention,
                                        micro_batch_tokens=cfg.micro_batch_tokens)
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        rows_log.append({"iteration": iteration, "step": step, "global_step": base_global_step + len(rows_log) + 1,
                         "fcft_step": base_fcft_step + step + (1 if kind == "fcft" else 0), "kind": kind,
                         "loss": round(loss, 6), "tokens": ntok, "lr": lr_at(step),
                         "elapsed_s": round(time.time() - t0, 2)})
        if partial_csv is not None:
            partial_csv.append(rows_log[-1])
        return loss

    while step < steps:
        if not epoch_order:
            order = epoch_order_of(examples, cfg, data_rng, tok)
            epoch_order = [order[i:i + cfg.batch_size] for i in range(0, len(order), cfg.batch_size)]
            if stream is not None:
                stream.new_epoch()
        batch_idx = epoch_order.pop(0)
        loss = optimizer_step([tokenized[i][0] for i in batch_idx], [tokenized[i][1] for i in batch_idx], "fcft")
        if stream is not None:
            credit += cfg.reg_ratio
            while credit >= 1.0 - 1e-9:
                rows = stream.next_batch(pre_bs)
                optimizer_step(rows, [[1] * len(r) for r in rows], "pretrain")
                credit -= 1.0
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}")
        if stop_after_steps is not None and step >= stop_after_steps and step < steps:
            _save_resume(resume_dir, model, tok, opt, step, credit, data_rng, epoch_order, rows_log, stream, cfg_key)
            bar.close()
            return {"interrupted_at": step}
        if cfg.resume_every and step % cfg.resume_every == 0 and step < steps:
            _save_resume(resume_dir, model, tok, opt, step, credit, data_rng, epoch_order, rows_log, stream, cfg_key)
    bar.close()

    fcft_losses = [r["loss"] for r in rows_log if r["kind"] == "fcft"]
    metrics = {"fcft_steps": steps, "pretrain_steps": sum(r["kind"] == "pretrain" for r in rows_log),
               "final_fcft_loss": fcft_losses[-1], "mean_fcft_loss_last_10": sum(fcft_losses[-10:]) / len(fcft_losses[-10:]),
               "n_examples": len(examples), "seconds": round(time.time() - t0, 1), "precision": precision}
    meta = {"config": asdict(cfg), "iteration": iteration, "init_checkpoint": str(init_ckpt),
            "global_step": base_global_step + len(rows_log), "fcft_steps_total": base_fcft_step + steps,
            "metrics": metrics, "run": run_meta or {}, "environment": environment()}
    model_to_save = model
    if cfg.gradient_checkpointing:
        _checkpointing(model, "disable")
        model.config.use_cache = True
    save_checkpoint(out, model_to_save, tok, optimizer=opt, meta=meta)
    if loss_csv:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows_log[0].keys()))
        w.writeheader(); w.writerows(rows_log)
        atomic_write_text(loss_csv, buf.getvalue())
        partial_csv.remove()
    if resume_dir.exists():
        shutil.rmtree(resume_dir)
    return metrics


def partial_loss_csv(out_dir: str | Path, loss_csv: str | Path) -> Path:
    """Where the loss rows go while training (never inside the checkpoint directory, which appears
    only complete)."""
    out, csv_path = Path(out_dir).absolute(), Path(loss_csv).absolute()
    if out in csv_path.parents:
        return out.with_name(out.name + ".loss.csv.partial")
    return csv_path.with_name(csv_path.name + ".partial")


class _PartialCsv:
    """The loss rows so far, one flushed line per optimizer step. Rewritten from the resume
    snapshot's rows when a killed job resumes; never read back by the harness."""

    def __init__(self, path: Path, rows: list[dict]):
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "w", encoding="utf-8", newline="")
        self.writer = None
        for row in rows:
            self.append(row)

    def append(self, row: dict) -> None:
        if self.writer is None:
            self.writer = csv.DictWriter(self.fh, fieldnames=list(row.keys()))
            self.writer.writeheader()
        self.writer.writerow(row)
        self.fh.flush()

    def remove(self) -> None:
        self.fh.close()
        self.path.unlink(missing_ok=True)


def _save_resume(resume_dir, model, tok, opt, step, credit, data_rng, epoch_order, rows_log, stream, cfg_key):
    save_checkpoint(resume_dir, model, tok, optimizer=opt, meta={"resume_step": step}, extra_state={
        "step": step, "credit": credit, "data_rng": data_rng.getstate(), "epoch_order": epoch_order,
        "rows_log": rows_log, "stream": stream.state() if stream is not None else None,
        "torch_rng": torch.get_rng_state(), "cfg_key": cfg_key})
