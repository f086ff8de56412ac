"""Tiny-base pre-training: packed rows are the same training as one padded row per document."""
import json

import pytest
import torch
from conftest import MICRO_TEXTS

from leti.model.loading import load_model
from leti.model.pretrain import pretrain_tiny
from leti.model.tokenizer import train_bpe_tokenizer


def _pretrain(tmp_path, name, **kw):
    tok = train_bpe_tokenizer(MICRO_TEXTS, vocab_size=300)
    texts = [t * (1 + k % 3) for k, t in enumerate(MICRO_TEXTS * 3)]  # varied lengths: padding happens
    out = tmp_path / name
    metrics = pretrain_tiny(texts, tok, str(out), steps=6, batch_size=8, lr=3e-3, warmup=2, n_layer=1, n_embd=32,
                            n_head=2, max_len=128, threads=1, log_every=1, **kw)
    return out, metrics


def test_packed_pretraining_matches_padded(tmp_path):
    a, ma = _pretrain(tmp_path, "padded")
    b, mb = _pretrain(tmp_path, "packed", packing=True)
    ha = json.loads((a / "leti_checkpoint.json").read_text())["loss_history"]
    hb = json.loads((b / "leti_checkpoint.json").read_text())["loss_history"]
    assert [h["loss"] for h in ha] == pytest.approx([h["loss"] for h in hb], rel=1e-4)
    assert ma["final_ema_loss"] == pytest.approx(mb["final_ema_loss"], rel=1e-4)
    wa, wb = load_model(str(a)).state_dict(), load_model(str(b)).state_dict()
    assert wa.keys() == wb.keys()
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], rtol=1e-4, atol=1e-5)
    assert len(ha) == 6 and ha[-1]["loss"] < ha[0]["loss"]  # it learns
    assert json.loads((b / "leti_checkpoint.json").read_text())["config"]["packing"] is True
