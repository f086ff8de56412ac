"""`leti pretrain`: pre-train the tiny GPT-2 base from scratch on the synthetic corpus."""
from __future__ import annotations

import json

import torch

from leti.io import read_jsonl


def configure(p):
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--config", default="{}", help="JSON: steps, batch_size, lr, warmup, n_layer, n_embd, n_head, max_len")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)


def run(args):
    from leti.model import load_tokenizer
    from leti.model.pretrain import pretrain_tiny

    tok = load_tokenizer(args.tokenizer)
    texts = [r["text"] for r in read_jsonl(args.corpus, required=("text",))]
    cfg = json.loads(args.config)
    metrics = pretrain_tiny(texts, tok, args.out, seed=args.seed, threads=args.threads, **cfg)
    print(json.dumps(metrics))
    return 0
