"""`leti lm-loss`: token-mean LM loss of a checkpoint on a held-out corpus shard."""
from __future__ import annotations

import torch

from leti.io import atomic_write_json, read_jsonl


def configure(p):
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help="JSONL with a 'text' field")
    p.add_argument("--out", required=True)
    p.add_argument("--max-len", type=int, default=512)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None)


def run(args):
    from leti.fcft.checkpoint import read_meta
    from leti.fcft.lm_loss import heldout_loss
    from leti.model import load_model, load_tokenizer, pick_device

    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    tok = load_tokenizer(args.model)
    model = load_model(args.model, device)
    texts = [r["text"] for r in read_jsonl(args.data, required=("text",))]
    res = heldout_loss(model, tok, texts, args.max_len, device=device)
    res["checkpoint"] = str(args.model)
    res["checkpoint_step"] = read_meta(args.model).get("global_step")
    atomic_write_json(args.out, res)
    print(f"held-out loss {res['loss']:.4f} over {res['tokens']} tokens")
    return 0
