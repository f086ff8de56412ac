"""Checks of VllmSampler against TorchSampler, run inside the vLLM environment by tests/sampling/test_vllm.py
(one process, one engine start): `python tests/sampling/vllm_checks.py CHECKPOINT` prints one JSON object.

Each entry is what the test asserts on; computing them here keeps the engine start (about 10 s on CPU)
to one per test session."""
from __future__ import annotations

import json
import sys

import torch

PROMPTS = ['"""\nWrite', '"""\nWrite a function to add 3 to each element of a list.\n', "<|good|>def"]


def first_token_distribution(model, tok, prompt: str, temperature: float, top_p: float) -> torch.Tensor:
    """The exact distribution of the first new token under temperature and top-p (TorchSampler's filter)."""
    from leti.sampling.sampler import _filter_top_p

    ids = torch.tensor([tok(prompt, add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, -1].float()
    return _filter_top_p(logits[None] / temperature, top_p).softmax(-1)[0]


def by_text(exact: torch.Tensor, tok) -> dict[str, float]:
    """The exact distribution of the decoded first token (ids that decode alike pooled; EOS -> "")."""
    out: dict[str, float] = {}
    for i in (exact > 0).nonzero().flatten().tolist():
        text = "" if i == tok.eos_token_id else tok.decode([i], skip_special_tokens=True)
        out[text] = out.get(text, 0.0) + float(exact[i])
    return out


def chi_square_z(texts: list[str], expected: dict[str, float]) -> dict:
    """Pearson's chi-square of observed first tokens against `expected` (cells expecting fewer than 5 draws
    pooled into one), as z = (X2 - df) / sqrt(2 df); and the share of draws outside the support (0 when
    top-p is respected)."""
    n = len(texts)
    counts: dict[str, int] = {}
    for t in texts:
        counts[t] = counts.get(t, 0) + 1
    outside = sum(c for t, c in counts.items() if t not in expected)
    big = {t: p for t, p in expected.items() if n * p >= 5}
    cells = [(counts.get(t, 0), n * p) for t, p in big.items()]
    rest = 1.0 - sum(big.values())
    if rest * n >= 5:
        cells.append((n - outside - sum(o for o, _ in cells), rest * n))
    x2 = sum((o - e) ** 2 / e for o, e in cells)
    df = max(len(cells) - 1, 1)
    return {"z": (x2 - df) / (2 * df) ** 0.5, "outside": outside / n, "support": len(expected), "cells": len(cells)}


def main(ckpt: str) -> dict:
    from leti.model.loading import load_model, load_tokenizer
    from leti.sampling.sampler import DecodingConfig, TorchSampler
    from leti.sampling.vllm_sampler import VllmSampler

    tok = load_tokenizer(ckpt)
    model = load_model(ckpt)
    hf = TorchSampler(model, tok)
    vl = VllmSampler(ckpt, tok, "cpu", threads=1)
    out: dict = {"start_s": vl.start_seconds, "info": vl.info}
    greedy = DecodingConfig(n=3, temperature=0, max_new_tokens=24)
    out["greedy_hf"] = hf.sample(PROMPTS, greedy)
    out["greedy_vllm"] = vl.sample(PROMPTS, greedy)
    # more prompts, reward tokens, the clean-up switch and the original's total budget, greedily: both
    # engines token for token (what decides is the same logits' argmax, the same budget, the same decode)
    many = [f"{tag}{p[:k]}" for tag in ("", "<|good|>", "<|bad|>") for p in PROMPTS for k in (3, 9, len(p))]
    for name, cfg in {"plain": DecodingConfig(n=1, temperature=0, max_new_tokens=48, batch_size=7),
                      "clean_up": DecodingConfig(n=1, temperature=0, max_new_tokens=48, clean_up_spaces=True),
                      "budget": DecodingConfig(n=1, temperature=0, max_new_tokens=160, max_length=136)}.items():
        out[f"greedy_many_{name}"] = {"hf": hf.sample(many, cfg, batch_key=name), "vllm": vl.sample(many, cfg)}
    # top_p so small that only the most likely token survives: sampling = greedy decoding
    tiny_p = DecodingConfig(n=2, temperature=1.0, top_p=1e-9, max_new_tokens=24, seed=5)
    out["top_p_tiny_vllm"] = vl.sample(PROMPTS, tiny_p, keys=["a", "b", "c"])
    hot = DecodingConfig(n=4, temperature=1.0, max_new_tokens=20, seed=7)
    keys = ["p0@0", "p1@0", "p2@0"]
    out["hot"] = vl.sample(PROMPTS, hot, keys=keys)
    out["hot_again"] = vl.sample(PROMPTS, hot, keys=keys)
    out["hot_regrouped"] = vl.sample([PROMPTS[2], PROMPTS[0]], hot, keys=[keys[2], keys[0]])
    out["hot_seed8"] = vl.sample(PROMPTS, DecodingConfig(n=4, temperature=1.0, max_new_tokens=20, seed=8), keys=keys)
    stops = sorted({c[2:4] for row in out["hot"] for c in row if len(c) > 5})[:2]
    out["stops"] = stops
    out["hot_stopped"] = vl.sample(PROMPTS, DecodingConfig(n=4, temperature=1.0, max_new_tokens=20, seed=7,
                                                           stop=tuple(stops)), keys=keys)
    # the original's budget: the prompt padded to 128 + new tokens; a prompt at or past it gets nothing
    long_prompt = "def f(x):\n    return x\n" * 40
    budget = DecodingConfig(n=2, temperature=1.0, max_new_tokens=64, max_length=160, seed=1)
    out["budgets_hf"] = hf.prompt_budgets([PROMPTS[0], long_prompt], budget)
    out["budgets_vllm"] = vl.prompt_budgets([PROMPTS[0], long_prompt], budget)
    out["budget_samples"] = vl.sample([PROMPTS[0], long_prompt], budget, keys=["x", "y"])
    before = vl.new_tokens
    vl.sample([PROMPTS[0]], DecodingConfig(n=8, temperature=2.0, max_new_tokens=64, max_length=160, seed=2), keys=["z"])
    out["budget_new_tokens"] = vl.new_tokens - before  # at most 8 x 32 (EOS not counted)
    # the first new token's distribution: both engines' frequencies against the exact one
    dist = {}
    for name, (t, p) in {"t1": (1.0, 1.0), "t2": (2.0, 1.0), "t1.5_p0.8": (1.5, 0.8)}.items():
        expected = by_text(first_token_distribution(model, tok, PROMPTS[1], t, p), tok)
        cfg = DecodingConfig(n=4000, temperature=t, top_p=p, max_new_tokens=1, seed=11, batch_size=4000)
        dist[name] = {"vllm": chi_square_z(vl.sample([PROMPTS[1]], cfg, keys=["d"])[0], expected),
                      "hf": chi_square_z(hf.sample([PROMPTS[1]], cfg, batch_key="d")[0], expected)}
    out["distribution"] = dist
    out["new_tokens"] = vl.new_tokens
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
