"""Turning token-id lists into model batches.

Left padding (as the original, spec §1.1) with position ids counted from the first real
token, so that a sequence's positions do not depend on how much padding its batch needs.
(The original passed no position ids in training; see docs/deviations.md.)
"""
from __future__ import annotations

import torch


def collate_left_padded(seqs: list[list[int]], pad_id: int, loss_masks: list[list[int]] | None = None,
                        pad_to_multiple_of: int = 1) -> dict[str, torch.Tensor]:
    width = max(len(s) for s in seqs)
    if pad_to_multiple_of > 1:
        width = -(-width // pad_to_multiple_of) * pad_to_multiple_of
    n = len(seqs)
    input_ids = torch.full((n, width), pad_id, dtype=torch.long)
    attention = torch.zeros((n, width), dtype=torch.long)
    labels = torch.full((n, width), -100, dtype=torch.long)
    for i, s in enumerate(seqs):
        start = width - len(s)
        t = torch.tensor(s, dtype=torch.long)
        input_ids[i, start:] = t
        attention[i, start:] = 1
        if loss_masks is None:
            labels[i, start:] = t
        else:
            m = torch.tensor(loss_masks[i], dtype=torch.bool)
            labels[i, start:] = torch.where(m, t, torch.full_like(t, -100))
        labels[i, start] = -100  # the first token has no real context (the original predicted it from a pad)
    position_ids = (attention.cumsum(-1) - 1).clamp(min=0)
    return {"input_ids": input_ids, "attention_mask": attention, "labels": labels, "position_ids": position_ids}
