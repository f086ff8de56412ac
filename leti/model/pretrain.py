"""Pre-train the tiny GPT-2 base on the synthetic corpus until its loss has converged.

An under-trained base makes every FCFT arm improve (even the no-conditioning control), which
would fake LeTI's effect; design.md measured ≈3000–3500 steps at batch 32, lr 1e-3 cosine.
"""
from __future__ import annotations

import contextlib
import math
import shutil
import time
from pathlib import Path

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from leti.core.io import stable_hash
from leti.core.progress import progress
from leti.core.provenance import environment
from leti.model.checkpoint import load_training_state, save_checkpoint
from leti.model.fused_ops import fuse_gelu
from leti.model.loss import global_batch_loss


def tiny_gpt2(vocab_size: int, n_layer: int = 2, n_embd: int = 128, n_head: int = 4, n_positions: int = 512,
              eos_id: int = 0) -> GPT2LMHeadModel:
    config = GPT2Config(vocab_size=vocab_size, n_layer=n_layer, n_embd=n_embd, n_head=n_head,
                        n_positions=n_positions, bos_token_id=eos_id, eos_token_id=eos_id, pad_token_id=eos_id,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    config._attn_implementation = "sdpa"
    return GPT2LMHeadModel(config)


def pretrain_tiny(texts: list[str], tokenizer, out_dir: str, *, steps: int = 3000, batch_size: int = 32,
                  lr: float = 1e-3, warmup: int = 100, seed: int = 0, n_layer: int = 2, n_embd: int = 128,
                  n_head: int = 4, max_len: int = 384, threads: int | None = None, log_every: int = 100,
                  packing: bool = False, pack_len: int | None = None, fused_gelu: bool = False,
                  resume_every: int = 250, stop_after_steps: int | None = None) -> dict:
    """Train from scratch; documents are `text + EOS`. Without packing a batch is one document per
    left-padded row; with packing the same documents share rows of max_len (positions restart, no
    attention across documents): the same loss over the same tokens, without computing padding
    (a third of the work on the synthetic corpus). Rows of `pack_len` (default max_len): attention
    is dense inside a row, so rows a little longer than the longest document cost least.

    Every `resume_every` steps the whole state (weights, AdamW, schedule, data order, RNGs, loss
    history) goes to `<out>.resume/`; a killed job continues from there and ends with the same
    weights as one that was never stopped (at the same thread count). `stop_after_steps` simulates a
    kill (tests)."""
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    eos = tokenizer.eos_token_id
    docs = [ids[:max_len] for ids in tokenizer([t for t in texts], add_special_tokens=False)["input_ids"]]
    docs = [d[: max_len - 1] + [eos] for d in docs]
    config = {"kind": "tiny_pretrain", "steps": steps, "batch_size": batch_size, "lr": lr, "warmup": warmup,
              "seed": seed, "n_layer": n_layer, "n_embd": n_embd, "n_head": n_head, "max_len": max_len,
              "n_docs": len(docs), "packing": packing, "pack_len": pack_len,
              "fused_gelu": fused_gelu}
    resume_dir = Path(out_dir).with_name(Path(out_dir).name + ".resume")
    key = stable_hash({"config": config, "docs": stable_hash(docs), "vocab": len(tokenizer)})
    state = load_training_state(resume_dir) if resume_dir.exists() else None
    if state is not None and state.get("key") != key:
        shutil.rmtree(resume_dir)  # a snapshot of another configuration or corpus
        state = None
    if state is not None:
        from leti.model.loading import load_model

        model = load_model(str(resume_dir))
    else:
        model = tiny_gpt2(len(tokenizer), n_layer, n_embd, n_head, n_positions=max(512, max_len), eos_id=eos)
    if fused_gelu:  # same formula in one kernel (leti.model.fused_ops); the saved config keeps gelu_new
        fuse_gelu(model)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    model.train()
    device = torch.device("cpu")
    history = []
    t0 = time.time()
    perm = torch.randperm(len(docs), generator=gen).tolist()
    cursor, start, running = 0, 0, None
    if state is not None:
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["schedule"])
        gen.set_state(state["data_rng"])
        torch.set_rng_state(state["torch_rng"])
        perm, cursor, start = state["perm"], state["cursor"], state["step"]
        running, history = state["ema_loss"], state["loss_history"]
        print(f"pretrain: resuming at step {start} from {resume_dir}")
    bar = progress(steps, "pretrain", unit="step", initial=start)
    for step in range(start, steps):
        idx = []
        for _ in range(batch_size):
            if cursor >= len(perm):
                perm, cursor = torch.randperm(len(docs), generator=gen).tolist(), 0
            idx.append(perm[cursor]); cursor += 1
        opt.zero_grad(set_to_none=True)
        rows = [docs[i] for i in idx]  # every token of a document has loss: all-ones masks
        value, _ = global_batch_loss(model, rows, [[1] * len(r) for r in rows], eos, batch_size, device,
                                      contextlib.nullcontext, False, packing=packing, pack_len=pack_len or max_len)
        opt.step(); sched.step()
        running = value if running is None else 0.98 * running + 0.02 * value
        if step % log_every == 0 or step == steps - 1:
            history.append({"step": step, "loss": round(value, 5), "ema_loss": round(running, 5)})
            bar.set_postfix(loss=f"{running:.3f}")
        bar.update(1)
        done = step + 1
        if done < steps and ((resume_every and done % resume_every == 0) or done == stop_after_steps):
            save_checkpoint(resume_dir, model, tokenizer, optimizer=opt, meta={"resume_step": done}, extra_state={
                "key": key, "step": done, "schedule": sched.state_dict(), "data_rng": gen.get_state(),
                "torch_rng": torch.get_rng_state(), "perm": perm, "cursor": cursor, "ema_loss": running,
                "loss_history": history})
            if done == stop_after_steps:
                bar.close()
                return {"interrupted_at": done}
    bar.close()
    metrics = {"final_ema_loss": running, "steps": steps, "seconds": round(time.time() - t0, 1),
               "n_params": sum(p.numel() for p in model.parameters())}
    if start:
        metrics["resumed_at"] = start
    save_checkpoint(out_dir, model, tokenizer, optimizer=None, meta={
        "config": config, "metrics": metrics, "loss_history": history, "environment": environment(),
        "global_step": steps})
    if resume_dir.exists():
        shutil.rmtree(resume_dir)
    return metrics
