"""Sequence packing for FCFT batches: several short sequences in one row, attention kept per sequence.

FCFT sequences are short (about 200-700 tokens) next to the 2048-token context, so left-padded
micro-batches spend much of their compute on padding. Packing concatenates sequences into rows of
at most `pack_len` tokens. Each packed sequence keeps exactly what it had in an unpacked batch:
- position ids restart at 0 at each sequence start (unpacked batches count them from the first
  real token too, see `collate_left_padded`);
- attention is block-diagonal causal: a token sees only earlier tokens of its own sequence;
- the first token of each sequence gets no label (as in `collate_left_padded`), so no position
  predicts across a sequence boundary, and the token count behind the token-mean is unchanged.
The loss over a global batch is therefore the same sum divided by the same token count; only
floating-point summation order differs (tests/model/test_gpu_path.py checks loss and gradients).

Two ways to tell the model where sequences start (`attention` argument of `model_inputs`):
- "position_ids" (default): pass no attention mask and the restarting position ids, with
  `use_cache=False`. transformers (>= 4.5x, checked on 5.24 for GPT-2 and CodeGen) detects the
  resets and builds the block-diagonal mask for sdpa/eager/flex; flash_attention_2 turns them into
  varlen `cu_seqlens`, which skips the masked blocks' compute entirely.
- "mask4d": an explicit (rows, 1, L, L) mask, passed through as-is by transformers: boolean for
  sdpa/flex, additive float (0 / dtype min) for eager, whose attention *adds* the mask to the
  scores. Not usable with flash_attention_2. Kept as a cross-check and for older transformers.
Tail padding in a row forms its own pseudo-sequence (positions from 0, no labels).
"""
from __future__ import annotations

import torch

from leti.core.errors import UserError

PACKING_ATTENTION = ("position_ids", "mask4d")


def pack_sequences(lengths: list[int], pack_len: int) -> list[list[int]]:
    """Group sequence indices into rows of total length <= pack_len (first-fit decreasing,
    deterministic: ties broken by index). Each row lists its sequences in ascending index order.
    A sequence longer than pack_len gets a row of its own."""
    if pack_len < 1:
        raise UserError(f"train.pack_len must be >= 1, got {pack_len}")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    rows: list[list[int]] = []
    free: list[int] = []
    for i in order:
        for r, space in enumerate(free):
            if lengths[i] <= space:
                rows[r].append(i)
                free[r] -= lengths[i]
                break
        else:
            rows.append([i])
            free.append(max(0, pack_len - lengths[i]))
    return [sorted(r) for r in rows]


def collate_packed_rows(rows: list[list[list[int]]], pad_id: int,
                        row_masks: list[list[list[int]]] | None = None,
                        width: int | None = None) -> dict[str, torch.Tensor]:
    """Build a packed batch. `rows[r]` is the list of token-id sequences packed into row r and
    `row_masks[r]` their loss masks (None: every token has loss, as `collate_left_padded`).

    Returns input_ids, labels, position_ids (restarting at 0 per sequence) and segment_ids
    (0, 1, ... per sequence; the row's tail padding gets one more id), each (n_rows, width);
    width defaults to the longest row."""
    lens = [sum(len(s) for s in row) for row in rows]
    width = width or max(lens)
    if max(lens) > width:
        raise UserError(f"packed row of {max(lens)} tokens does not fit width {width}")
    n = len(rows)
    input_ids = torch.full((n, width), pad_id, dtype=torch.long)
    labels = torch.full((n, width), -100, dtype=torch.long)
    position_ids = torch.zeros((n, width), dtype=torch.long)
    segment_ids = torch.zeros((n, width), dtype=torch.long)
    for r, row in enumerate(rows):
        at = 0
        for k, s in enumerate(row):
            t = torch.tensor(s, dtype=torch.long)
            end = at + len(s)
            input_ids[r, at:end] = t
            if row_masks is None:
                labels[r, at:end] = t
            else:
                m = torch.tensor(row_masks[r][k], dtype=torch.bool)
                labels[r, at:end] = torch.where(m, t, torch.full_like(t, -100))
            labels[r, at] = -100  # first token: no context (as collate_left_padded)
            position_ids[r, at:end] = torch.arange(len(s))
            segment_ids[r, at:end] = k
            at = end
        if at < width:  # tail padding: its own pseudo-sequence, positions from 0, no labels
            position_ids[r, at:] = torch.arange(width - at)
            segment_ids[r, at:] = len(row)
    return {"input_ids": input_ids, "labels": labels, "position_ids": position_ids, "segment_ids": segment_ids}


def block_causal_mask(segment_ids: torch.Tensor, attn_implementation: str, dtype: torch.dtype = torch.float32
                      ) -> torch.Tensor:
    """(rows, 1, L, L) mask: query i may attend key j iff j <= i and both are in the same segment.
    Boolean (True = attend) for sdpa/flex; additive (0 / finfo.min) for eager, which adds it."""
    L = segment_ids.shape[-1]
    causal = torch.ones((L, L), dtype=torch.bool, device=segment_ids.device).tril()
    allow = (segment_ids[:, :, None] == segment_ids[:, None, :]) & causal
    allow = allow[:, None]
    if attn_implementation == "eager":
        return torch.zeros(allow.shape, dtype=dtype, device=allow.device).masked_fill(~allow, torch.finfo(dtype).min)
    if attn_implementation.startswith("flash"):
        raise UserError("train.packing_attention='mask4d' does not work with flash attention; use 'position_ids'")
    return allow


def model_inputs(batch: dict[str, torch.Tensor], attention: str, attn_implementation: str) -> dict:
    """Keyword arguments for the model's forward on a packed batch (see the module docstring)."""
    if attention not in PACKING_ATTENTION:
        raise UserError(f"train.packing_attention must be one of {PACKING_ATTENTION}, got {attention!r}")
    kw = {"input_ids": batch["input_ids"], "position_ids": batch["position_ids"], "use_cache": False}
    if attention == "mask4d":
        kw["attention_mask"] = block_causal_mask(batch["segment_ids"], attn_implementation)
    else:
        kw["attention_mask"] = None
    return kw


def rows_per_forward(micro_batch_size: int, longest: int, pack_len: int, micro_batch_tokens: int | None) -> int:
    """Packed rows per forward/backward pass.

    With `micro_batch_tokens` set: as many full rows as fit that token budget. Otherwise about as
    many token slots as the unpacked micro-batch would have held at most (micro_batch_size x the
    longest sequence of the global batch), so switching packing on does not raise peak memory."""
    budget = micro_batch_tokens if micro_batch_tokens else micro_batch_size * longest
    return max(1, budget // pack_len)
