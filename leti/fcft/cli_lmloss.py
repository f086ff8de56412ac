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


def read_heldout_texts(data: str) -> list[str]:
    return [r["text"] for r in read_jsonl(data, required=("text",))]


def write_heldout_loss(model_dir: str, texts: list[str], out: str, max_len: int = 512, device="cpu") -> dict:
    """Load the checkpoint, measure its loss on the shard's texts, write the JSON atomically (also
    called by `leti train`, which measures the checkpoint it just wrote without a second process).
    Callers read the texts first (`read_heldout_texts`), so bad input fails before any model work."""
    from leti.fcft.checkpoint import read_meta
    from leti.fcft.lm_loss import heldout_loss
    from leti.model import load_model, load_tokenizer

    tok = load_tokenizer(model_dir)
    model = load_model(model_dir, device)
    res = heldout_loss(model, tok, texts, max_len, device=device)
    res["checkpoint"] = str(model_dir)
    res["checkpoint_step"] = read_meta(model_dir).get("global_step")
    atomic_write_json(out, res)
    print(f"held-out loss {res['loss']:.4f} over {res['tokens']} tokens")
    return res


def run(args):
    from leti.model import pick_device

    if args.threads:
        torch.set_num_threads(args.threads)
    texts = read_heldout_texts(args.data)
    write_heldout_loss(args.model, texts, args.out, args.max_len, pick_device(args.device))
    return 0
