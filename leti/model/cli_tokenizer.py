"""`leti tokenizer`: train the tiny byte-level BPE tokenizer on a corpus JSONL."""
from __future__ import annotations

from leti.io import read_jsonl


def configure(p):
    p.add_argument("--corpus", required=True, help="JSONL with a 'text' field")
    p.add_argument("--extra", action="append", default=[], help="more problem JSONLs whose prompts the tokenizer should cover")
    p.add_argument("--vocab-size", type=int, default=800)
    p.add_argument("--out", required=True, help="directory (save_pretrained)")


def run(args):
    from leti.model.tokenizer import train_bpe_tokenizer

    texts = [r["text"] for r in read_jsonl(args.corpus, required=("text",))]
    for path in args.extra:
        texts += [r["prompt"] for r in read_jsonl(path, required=("prompt",))]
    tok = train_bpe_tokenizer(texts, args.vocab_size)
    tok.save_pretrained(args.out)
    print(f"tokenizer with {len(tok)} tokens saved to {args.out}")
    return 0
