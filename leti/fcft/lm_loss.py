"""Held-out LM loss of a checkpoint: the regularization metric (does FCFT forget pre-training?)."""
from __future__ import annotations

import torch

from leti.fcft.batching import collate_left_padded


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
