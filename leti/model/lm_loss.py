"""Held-out LM loss of a checkpoint: the regularization metric (does FCFT forget pre-training?)."""
from __future__ import annotations

import torch

from leti.core.io import atomic_write_json, read_jsonl
from leti.model.batching import collate_left_padded


@torch.inference_mode()
def heldout_loss(model, tokenizer, texts: list[str], max_len: int = 512, batch_size: int = 32,
                 device: str | torch.device = "cpu") -> dict:
    eos = tokenizer.eos_token_id
    docs = [ids[: max_len - 1] + [eos] for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
    total, count, per_doc = 0.0, 0, []
    model.eval()
    for s in range(0, len(docs), batch_size):
        b = {k: v.to(device) for k, v in collate_left_padded(docs[s:s + batch_size], eos).items()}
        out = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"], position_ids=b["position_ids"])
        logits = out.logits[:, :-1].float()
        labels = b["labels"][:, 1:]
        tok_loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                                     ignore_index=-100, reduction="none").view(labels.shape)
        mask = labels != -100
        for row_loss, row_mask in zip(tok_loss, mask):
            n = int(row_mask.sum())
            per_doc.append([round(float(row_loss[row_mask].sum()), 6), n])
        total += float(tok_loss[mask].sum())
        count += int(mask.sum())
    # per_document: [summed loss, tokens] per held-out document, for CIs with a single seed
    return {"loss": total / max(count, 1), "tokens": count, "documents": len(docs), "per_document": per_doc}


def read_heldout_texts(data: str) -> list[str]:
    return [r["text"] for r in read_jsonl(data, required=("text",))]


def write_heldout_loss(model_dir: str, texts: list[str], out: str, max_len: int = 512, device="cpu") -> dict:
    """Load the checkpoint, measure its loss on the shard's texts, write the JSON atomically (also
    called by `leti train`, which measures the checkpoint it just wrote without a second process).
    Callers read the texts first (`read_heldout_texts`), so bad input fails before any model work."""
    from leti.model.checkpoint import read_meta
    from leti.model.loading import load_model, load_tokenizer

    tok = load_tokenizer(model_dir)
    model = load_model(model_dir, device)
    res = heldout_loss(model, tok, texts, max_len, device=device)
    res["checkpoint"] = str(model_dir)
    res["checkpoint_step"] = read_meta(model_dir).get("global_step")
    atomic_write_json(out, res)
    print(f"held-out loss {res['loss']:.4f} over {res['tokens']} tokens")
    return res
