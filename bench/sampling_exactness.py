"""Do both engines sample exactly from the model? Run inside the vLLM environment (both engines import there):

    <vLLM env python> bench/sampling_exactness.py CKPT PROBLEMS.jsonl [--n 4] [--seed 1]

Prints one JSON object:
  - greedy: both engines' greedy decodes (fp32, 128 new tokens) of every prompt, compared token for token;
  - pit: for every token each engine drew at T = 1 (top-p 1), its randomized probability integral transform
    under the model's exact next-token distribution, F(x-) + V p(x) with V ~ U(0,1). For an engine that
    samples exactly from the model these are i.i.d. U(0,1) (each is uniform given everything drawn before),
    so a Kolmogorov-Smirnov distance above 1.36/sqrt(N) (5 %) or a mean off 0.5 shows a sampling error that
    a pass-rate comparison could only hint at (dtype, temperature, top-p/top-k defaults, a shifted or
    padded vocabulary, a wrong EOS). The end of a sample counts as drawing EOS.
Token ids are taken where both engines decode them (the tokenizer's decode), so nothing is re-tokenized.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class _Recorder:
    """The project tokenizer, recording the ids of every decode (both samplers decode each sample once)."""

    def __init__(self, tok):
        self._tok, self.ids = tok, []

    def __getattr__(self, name):
        return getattr(self._tok, name)

    def __call__(self, *a, **kw):
        return self._tok(*a, **kw)

    def decode(self, ids, **kw):
        self.ids.append([int(i) for i in ids])
        return self._tok.decode(ids, **kw)


def _draw(engine: str, ckpt: str, model, tok, prompts: list[str], cfg) -> list[list[int]]:
    from leti.sampling.sampler import TorchSampler
    from leti.sampling.vllm_sampler import VllmSampler

    rec = _Recorder(tok)
    if engine == "hf":
        sampler = TorchSampler(model, rec)
        for i in range(0, len(prompts), 32):
            sampler.sample(prompts[i:i + 32], cfg, batch_key=f"b{i}")
    else:
        global _VLLM
        if _VLLM is None:
            _VLLM = VllmSampler(ckpt, rec, "cpu", threads=torch.get_num_threads(), seed=0)
        _VLLM.tok = rec
        _VLLM.sample(prompts, cfg, keys=[f"p{i}" for i in range(len(prompts))])
    return rec.ids


_VLLM = None


@torch.no_grad()
def pit(model, prompt_ids: list[list[int]], samples: list[list[int]], n: int, budget: int, eos: int) -> dict:
    rng = random.Random(0)
    values = []
    for j, ids in enumerate(samples):
        p = prompt_ids[j // n]
        probs = model(input_ids=torch.tensor([p + ids])).logits[0, len(p) - 1:].float().softmax(-1)
        for t, x in enumerate(ids + ([eos] if len(ids) < budget else [])):
            values.append(float(probs[t, :x].sum()) + rng.random() * float(probs[t, x]))
    m = len(values)
    values.sort()
    ks = max(max((i + 1) / m - u, u - i / m) for i, u in enumerate(values))
    mean = sum(values) / m
    return {"tokens": m, "samples": len(samples), "ks": round(ks, 5), "ks_crit95": round(1.36 / math.sqrt(m), 5),
            "mean": round(mean, 5), "mean_z": round((mean - 0.5) / math.sqrt(1 / 12 / m), 2),
            "exact": ks < 1.36 / math.sqrt(m)}


def main(argv=None) -> dict:
    from leti.model.loading import load_model, load_tokenizer
    from leti.sampling.sampler import DecodingConfig

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("ckpt")
    p.add_argument("problems")
    p.add_argument("--n", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-new-tokens", type=int, default=128)
    args = p.parse_args(argv)
    tok, model = load_tokenizer(args.ckpt), load_model(args.ckpt).eval()
    prompts = [json.loads(line)["prompt"] for line in Path(args.problems).read_text().splitlines()]
    prompt_ids = tok(prompts, add_special_tokens=False)["input_ids"]
    out = {"checkpoint": args.ckpt, "problems": args.problems, "prompts": len(prompts)}
    greedy = DecodingConfig(n=1, temperature=0.0, max_new_tokens=args.max_new_tokens, batch_size=128)
    g = {e: _draw(e, args.ckpt, model, tok, prompts, greedy) for e in ("hf", "vllm")}
    out["greedy"] = {"identical": sum(a == b for a, b in zip(g["hf"], g["vllm"])), "of": len(prompts),
                     "tokens": sum(map(len, g["hf"]))}
    hot = DecodingConfig(n=args.n, temperature=1.0, top_p=1.0, max_new_tokens=args.max_new_tokens, seed=args.seed,
                         batch_size=128)
    out["pit"] = {e: pit(model, prompt_ids, _draw(e, args.ckpt, model, tok, prompts, hot), args.n,
                         args.max_new_tokens, tok.eos_token_id) for e in ("hf", "vllm")}
    return out


if __name__ == "__main__":
    print(json.dumps(main()))
