"""`leti init-model`: load a hub/local causal LM, add LeTI's special tokens, save as iteration 0."""
from __future__ import annotations

from leti.fcft.checkpoint import save_checkpoint
from leti.provenance import environment


def configure(p):
    p.add_argument("--model", required=True, help="hub name (e.g. Salesforce/codegen-350M-mono) or local dir")
    p.add_argument("--out", required=True)


def run(args):
    from leti.model import add_leti_tokens, load_model, load_tokenizer

    tok = load_tokenizer(args.model)
    model = load_model(args.model, "cpu")
    added = add_leti_tokens(model, tok)
    save_checkpoint(args.out, model, tok, meta={"config": {"kind": "init", "source": args.model},
                                                "added_tokens": added, "global_step": 0,
                                                "environment": environment()})
    print(f"saved {args.model} (+{added} LeTI tokens) to {args.out}")
    return 0
