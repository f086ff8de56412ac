"""Sampling from a causal LM: temperature / top-p / greedy, n per prompt, EOS and stop sequences.

Why our own loop instead of `generate()`: the paper draws 128 samples per prompt. We prefill each
distinct prompt once and copy its KV cache n times (`batch_repeat_interleave`), pass explicit
position ids so left padding never shifts positions, and stop a batch as soon as every row has
hit EOS or a stop sequence. vLLM implements `Sampler` too (leti.sampling.vllm_sampler, `--engine vllm`).
"""
from __future__ import annotations

import contextlib
import hashlib
import inspect
from dataclasses import asdict, dataclass
from typing import Protocol

import torch

from leti.sampling.cleanup import decode_text


@dataclass(frozen=True)
class DecodingConfig:
    n: int = 1
    temperature: float = 1.0  # 0 = greedy
    top_p: float = 1.0
    max_new_tokens: int = 128
    stop: tuple[str, ...] = ()
    seed: int = 0
    batch_size: int = 64  # sequences decoded together (memory knob)
    # The original's budget (spec §3): a total length, the prompt left-padded to a multiple of
    # `pad_multiple` plus the new tokens; None = only max_new_tokens counts.
    max_length: int | None = None
    pad_multiple: int = 128
    # decode with the tokenizer's clean-up of tokenization spaces (True: the original's batch_decode of
    # its CodeGen tokenizer); None: the tokenizer's own default
    clean_up_spaces: bool | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["stop"] = list(self.stop)
        if self.max_length is None:  # records of runs without these options stay as they were
            del d["max_length"], d["pad_multiple"]
        if self.clean_up_spaces is None:
            del d["clean_up_spaces"]
        return d


def new_token_budget(prompt_tokens: int, config: DecodingConfig, context: int | None) -> int:
    """New tokens a prompt may get: max_new_tokens, less under the original's total budget, and never
    past the model's context. 0 = nothing is generated (the prompt leaves no room), as in the original,
    where a padded prompt at or above max_length produced an empty output; a prompt is never cut."""
    budget = config.max_new_tokens
    if config.max_length is not None:
        padded = -(-prompt_tokens // config.pad_multiple) * config.pad_multiple
        budget = min(budget, config.max_length - padded)
    if context:
        budget = min(budget, context - prompt_tokens)
    return max(0, budget)


class Sampler(Protocol):
    info: dict  # the engine, recorded in every sample's provenance: {"name": "hf"}, {"name": "vllm", ...}

    def sample(self, prompts: list[str], config: DecodingConfig, batch_key: str = "",
               keys: list[str] | None = None) -> list[list[str]]:
        """Return, for each prompt, `config.n` completions (decoded new text), each within its
        `new_token_budget` (an empty string where that is 0). `batch_key` names the call's draws
        (TorchSampler seeds one stream per call with it), `keys` each prompt's (vLLM seeds per prompt)."""

    def prompt_budgets(self, prompts: list[str], config: DecodingConfig) -> list[tuple[int, int]]:
        """(prompt tokens, new-token budget) of each prompt, recorded with every sample."""


def _seed_for(seed: int, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}|{key}".encode()).digest()[:8], "little") & ((1 << 63) - 1)


def _filter_top_p(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    if top_p >= 1.0:
        return logits
    sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
    probs = sorted_logits.softmax(-1)
    cum = probs.cumsum(-1)
    remove = cum - probs > top_p  # keep the smallest prefix whose mass reaches top_p
    sorted_logits = sorted_logits.masked_fill(remove, float("-inf"))
    return torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)


class TorchSampler:
    """The plain PyTorch/transformers engine."""

    info = {"name": "hf"}
    rows_per_call = None  # the driver's batches are its batches (their keys seed its random streams)
    new_tokens = 0  # tokens decoded so far, EOS not counted (the job's throughput line)

    def __init__(self, model, tokenizer, device: torch.device | str = "cpu", autocast_dtype: torch.dtype | None = None):
        self.model = model.eval()
        self.tok = tokenizer
        self.device = torch.device(device)
        self.autocast_dtype = autocast_dtype
        self.eos_id = tokenizer.eos_token_id
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.eos_id
        params = inspect.signature(model.forward).parameters
        self._cache_kw = "cache" if "cache" in params else "past_key_values"  # transformers 5 renamed it
        self._keep_kw = "logits_to_keep" in params
        self.compact = True  # drop finished rows from the batch (same tokens, less work)

    def _forward(self, cache=None, **kw):
        if cache is not None:
            kw[self._cache_kw] = cache
        if self._keep_kw:
            kw["logits_to_keep"] = 1  # only the last position's logits are needed
        with self._autocast():
            out = self.model(use_cache=True, **kw)
        new_cache = out.get("cache") if "cache" in out else out.past_key_values
        return out.logits[:, -1, :].float(), new_cache


    def context(self) -> int | None:
        """The model's context window in tokens (None if the config does not say)."""
        c = self.model.config
        return getattr(c, "n_positions", None) or getattr(c, "max_position_embeddings", None)

    def prompt_budgets(self, prompts: list[str], config: DecodingConfig) -> list[tuple[int, int]]:
        enc = self.tok(prompts, add_special_tokens=False)["input_ids"]
        return [(len(e), new_token_budget(len(e), config, self.context())) for e in enc]

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    @torch.inference_mode()
    def sample(self, prompts: list[str], config: DecodingConfig, batch_key: str = "",
               keys: list[str] | None = None) -> list[list[str]]:
        """Decode `config.n` completions for each prompt; rows of one call share a random stream
        seeded by (seed, batch_key), so results do not depend on what else ran before (`keys` unused)."""
        # draw on the model's device: no per-step copy of the (rows x vocab) probabilities to the host
        # (streams therefore differ between CPU and GPU runs of the same seed)
        gen = torch.Generator(device=self.device).manual_seed(_seed_for(config.seed, batch_key))
        enc = self.tok(prompts, add_special_tokens=False)["input_ids"]
        ctx = self.context()
        budgets = [new_token_budget(len(e), config, ctx) for e in enc]
        if ctx:  # a prompt without room still fills its batch rows (same random streams for the others);
            enc = [e[-(ctx - 1):] for e in enc]  # its end is prefilled, its output discarded: ""
        n = config.n
        width = max(len(e) for e in enc)
        ids = torch.full((len(enc), width), self.pad_id, dtype=torch.long)
        attn = torch.zeros((len(enc), width), dtype=torch.long)
        for i, e in enumerate(enc):
            ids[i, width - len(e):] = torch.tensor(e, dtype=torch.long)
            attn[i, width - len(e):] = 1
        ids, attn = ids.to(self.device), attn.to(self.device)
        pos = (attn.cumsum(-1) - 1).clamp(min=0)
        logits, past = self._forward(input_ids=ids, attention_mask=attn, position_ids=pos)
        if n > 1:  # one prefill per prompt, then n copies of its cache
            past.batch_repeat_interleave(n)
            logits = logits.repeat_interleave(n, dim=0)
            attn = attn.repeat_interleave(n, dim=0)
            pos = pos.repeat_interleave(n, dim=0)
        rows = logits.shape[0]
        row_budget = torch.tensor([b for b in budgets for _ in range(n)], dtype=torch.long, device=self.device)
        next_pos = pos[:, -1:] + 1
        # Rows that finished leave the batch (their KV cache rows are dropped) once a quarter of the
        # active rows are done: the rest decode faster, and each row's tokens stay what they were.
        active = torch.arange(rows, device=self.device)  # batch row -> output row
        finished = row_budget <= 0
        out = torch.full((rows, config.max_new_tokens), self.pad_id, dtype=torch.long, device=self.device)
        n_steps = 0
        stop_checked = [0] * rows
        texts_done: list[str | None] = [None] * rows
        for step in range(config.max_new_tokens):
            if config.temperature <= 0:
                nxt = logits.argmax(-1)
            else:
                # one uniform per output row and step, drawn for every row: a row's tokens do not
                # depend on when the other rows finished (and left the batch)
                u = torch.rand(rows, generator=gen, device=self.device)[active]
                probs = _filter_top_p(logits / config.temperature, config.top_p).softmax(-1)
                nxt = _inverse_cdf(probs, u)
            done = finished[active]
            nxt = torch.where(done, torch.full_like(nxt, self.pad_id), nxt)
            out[active, step] = nxt
            n_steps = step + 1
            finished[active] = done | (nxt == self.eos_id) | (row_budget[active] <= step + 1)
            if config.stop and (step % 8 == 7 or step == config.max_new_tokens - 1):
                self._check_stops(out[:, :n_steps], finished, texts_done, stop_checked, config.stop, config.clean_up_spaces)
            done = finished[active]
            if bool(done.all()):
                break
            if self.compact and 4 * int(done.sum()) >= len(active):
                keep = (~done).nonzero().squeeze(-1)
                past.batch_select_indices(keep)
                active, attn, next_pos, nxt = active[keep], attn[keep], next_pos[keep], nxt[keep]
                done = done[keep]
            attn = torch.cat([attn, (~done).long()[:, None]], dim=1)
            logits, past = self._forward(cache=past, input_ids=nxt[:, None], attention_mask=attn,
                                         position_ids=next_pos)
            next_pos = next_pos + 1
        gen_ids = out[:, :n_steps].cpu()
        ended = (gen_ids == self.eos_id) | (gen_ids == self.pad_id)
        lengths = torch.where(ended.any(1), ended.int().argmax(1), torch.tensor(n_steps))
        self.new_tokens += int(lengths[row_budget.cpu() > 0].sum())
        results: list[str] = []
        for r in range(rows):
            if row_budget[r] <= 0:
                results.append("")
                continue
            if texts_done[r] is not None:
                results.append(texts_done[r])
                continue
            toks = gen_ids[r].tolist()
            if self.eos_id in toks:
                toks = toks[: toks.index(self.eos_id)]
            text = decode_text(self.tok, toks, config.clean_up_spaces)
            results.append(_cut_at_stop(text, config.stop))
        return [results[i * n:(i + 1) * n] for i in range(len(prompts))]

    def _check_stops(self, tokens, finished, texts_done, checked, stops, clean_up=None):
        mat = tokens.cpu()
        for r in range(mat.shape[0]):
            if texts_done[r] is not None or bool(finished[r]):
                continue
            text = decode_text(self.tok, mat[r].tolist(), clean_up)
            cut = _cut_at_stop(text, stops)
            if len(cut) < len(text):
                texts_done[r] = cut
                finished[r] = True


def _inverse_cdf(probs: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Token index per row: the first whose cumulative probability exceeds u * total (u in [0, 1));
    tokens of probability 0 (top-p) are never chosen."""
    cdf = probs.cumsum(-1)
    idx = torch.searchsorted(cdf, (u * cdf[:, -1]).unsqueeze(-1), right=True).squeeze(-1)
    return idx.clamp(max=probs.shape[-1] - 1)


def _cut_at_stop(text: str, stops) -> str:
    cut = len(text)
    for s in stops:
        i = text.find(s)
        if i != -1:
            cut = min(cut, i)
    return text[:cut]
