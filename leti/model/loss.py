"""The training loss both trainers share (pre-training and FCFT): a token-mean over a global batch.

Gradient accumulation divides every micro-batch's summed loss by the token count of the whole
global batch, so the update equals one big batch's whatever the micro-batch split or packing.
"""
from __future__ import annotations

import torch

from leti.model.batching import collate_left_padded


def _micro_batches(idx: list[int], lengths: list[int], micro: int, micro_batch_tokens: int | None) -> list[list[int]]:
    """Consecutive groups of `idx`: `micro` sequences each, or, with a token budget, as many as keep
    rows x longest <= micro_batch_tokens (at least one)."""
    if not micro_batch_tokens:
        return [idx[s:s + micro] for s in range(0, len(idx), micro)]
    groups, cur, width = [], [], 0
    for i in idx:
        w = max(width, lengths[i])
        if cur and (len(cur) + 1) * w > micro_batch_tokens:
            groups.append(cur)
            cur, w = [], lengths[i]
        cur.append(i)
        width = w
    if cur:
        groups.append(cur)
    return groups


def _loss_sum(model, b, autocast) -> torch.Tensor:
    with autocast():
        out = model(**{k: v for k, v in b.items() if k not in ("labels", "segment_ids")})
    logits = out.logits[:, :-1].float()
    labels = b["labels"][:, 1:]
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                             ignore_index=-100, reduction="sum")


def _skip_check(input_ids, attention_mask) -> None:
    return None


def _no_padding_check(model) -> None:
    """Packed rows delimited by position_ids must go without an attention mask (transformers
    detects the packed sequences only then); its one-time "We strongly recommend passing in an
    `attention_mask`" check would advise the wrong thing, so it is switched off on this model."""
    for m in model.modules():
        if hasattr(m, "warn_if_padding_and_no_attention_mask"):
            m.warn_if_padding_and_no_attention_mask = _skip_check


def global_batch_loss(model, rows, masks, pad_id, micro, device, autocast, lengths_sorted: bool, *,
                       packing: bool = False, pack_len: int | None = None, packing_attention: str = "position_ids",
                       micro_batch_tokens: int | None = None) -> tuple[float, int]:
    """Token-mean loss over the whole global batch (sum over micro-batches / total tokens), backward done.

    packing=True: the sequences are packed into rows of `pack_len` (leti.model.packing); the loss is
    the same sum over the same label positions, divided by the same count."""
    n_tokens = sum(sum(m[1:]) if m else 0 for m in masks)  # label positions that count (shifted)
    n_tokens = max(n_tokens, 1)
    total = 0.0
    if packing:
        from leti.model.packing import (
            collate_packed_rows,
            model_inputs,
            pack_sequences,
            rows_per_forward,
        )

        lengths = [len(r) for r in rows]
        width = pack_len or max(lengths)
        packed = pack_sequences(lengths, width)
        per = rows_per_forward(micro, max(lengths), width, micro_batch_tokens)
        impl = getattr(model.config, "_attn_implementation", "sdpa") or "sdpa"
        if packing_attention == "position_ids":
            _no_padding_check(model)
        for s in range(0, len(packed), per):
            part = packed[s:s + per]
            b = collate_packed_rows([[rows[i] for i in row] for row in part], pad_id,
                                    [[masks[i] for i in row] for row in part])
            b = {k: v.to(device) for k, v in b.items()}
            kw = model_inputs(b, packing_attention, impl)
            kw["labels"] = b["labels"]
            loss_sum = _loss_sum(model, kw, autocast)
            (loss_sum / n_tokens).backward()
            total += loss_sum.item()
        return total / n_tokens, n_tokens
    idx = list(range(len(rows)))
    if lengths_sorted:
        idx.sort(key=lambda i: len(rows[i]))
    for part in _micro_batches(idx, [len(r) for r in rows], micro, micro_batch_tokens):
        b = collate_left_padded([rows[i] for i in part], pad_id, [masks[i] for i in part])
        b = {k: v.to(device) for k, v in b.items()}
        b["use_cache"] = False  # training: no KV cache to build
        loss_sum = _loss_sum(model, b, autocast)
        (loss_sum / n_tokens).backward()
        total += loss_sum.item()
    return total / n_tokens, n_tokens
