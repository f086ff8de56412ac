"""CodeGen -> GPT-J (leti.model.gptj_convert): the converted model computes CodeGen's logits.

Checked with transformers' own GPTJForCausalLM against CodeGenForCausalLM in fp32, on the micro
stand-ins of the paper's models (`leti hub-standin`) and on a checkpoint after an FCFT iteration,
whose LeTI token rows (CodeGen's unused embedding rows) were trained."""
from __future__ import annotations

import json

import pytest
import torch

from leti.core.errors import UserError
from leti.model.gptj_convert import MARKER, prepare_for_vllm, split_qkv


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    from leti.model.standin import build_standins

    out = tmp_path_factory.mktemp("hf")
    return build_standins(out, n_files=40, vocab_size=400)["models"]


def _logits(model, ids, attn):
    pos = (attn.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=attn, position_ids=pos).logits


def _inputs(vocab: int, extra_ids: list[int]):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (3, 40), generator=g)
    ids[0, :4] = torch.tensor((extra_ids * 4)[:4])  # LeTI's reward/feedback tokens in the input
    attn = torch.ones_like(ids)
    attn[2, :7] = 0  # a left-padded row
    return ids, attn


def assert_same_logits(src, tmp_path, extra_ids=()):
    from transformers import AutoModelForCausalLM, CodeGenForCausalLM, GPTJForCausalLM

    out = tmp_path / "gptj"
    info = prepare_for_vllm(src, out)
    assert info["conversion"] == "codegen->gptj" and (out / MARKER).exists()
    codegen = AutoModelForCausalLM.from_pretrained(src, dtype=torch.float32, attn_implementation="eager").eval()
    gptj = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32, attn_implementation="eager").eval()
    assert isinstance(codegen, CodeGenForCausalLM) and isinstance(gptj, GPTJForCausalLM)
    assert gptj.lm_head.bias is not None and torch.equal(gptj.lm_head.bias, codegen.lm_head.bias)
    assert gptj.config.rotary_dim == codegen.config.rotary_dim and gptj.config.vocab_size == codegen.config.vocab_size
    ids, attn = _inputs(codegen.config.vocab_size, list(extra_ids) or [0])
    a, b = _logits(codegen, ids, attn), _logits(gptj, ids, attn)
    mask = attn.bool()
    assert a.abs().max() > 1e-3  # not a degenerate comparison
    torch.testing.assert_close(b[mask], a[mask], rtol=1e-5, atol=1e-5)
    return out


@pytest.mark.parametrize("model_id", ["Salesforce/codegen-350M-mono", "Salesforce/codegen-2B-mono"])
def test_standin_converts_to_gptj_with_equal_logits(standins, model_id, tmp_path):
    assert_same_logits(standins[model_id], tmp_path)


def test_fcft_checkpoint_with_trained_leti_rows_converts_exactly(standins, tmp_path):
    from leti.core.vocab import SPECIAL_TOKENS
    from leti.fcft.train import TrainConfig, train_iteration
    from leti.model.checkpoint import save_checkpoint
    from leti.model.loading import add_leti_tokens, load_model, load_tokenizer

    src = standins["Salesforce/codegen-350M-mono"]
    tok, model = load_tokenizer(src), load_model(src)
    add_leti_tokens(model, tok)  # into CodeGen's unused rows, as `leti init-model` does
    base = save_checkpoint(tmp_path / "base", model, tok, meta={"global_step": 0})
    leti_ids = tok.convert_tokens_to_ids(SPECIAL_TOKENS)
    before = model.get_input_embeddings().weight[leti_ids].clone()
    examples = [{"task_id": f"t/{k}", "sample_idx": 0, "success": k % 2 == 0,
                 "reward": "<|good|>" if k % 2 == 0 else "<|bad|>",
                 "feedback": None if k % 2 == 0 else f"NameError: name 'y{k}' is not defined",
                 "problem": '"""\nadd %d\n"""' % k, "solution": "\ndef f(x):\n    return x + %d" % k} for k in range(8)]
    cfg = TrainConfig(lr=1e-2, steps=3, batch_size=4, micro_batch_size=4, reg_ratio=0, max_len=128, resume_every=0, seed=1)
    train_iteration(str(base), examples, [], str(tmp_path / "fcft"), cfg, progress=False)
    trained = load_model(str(tmp_path / "fcft")).get_input_embeddings().weight[leti_ids]
    assert not torch.allclose(trained, before)  # the added rows were trained: the test covers them
    assert_same_logits(str(tmp_path / "fcft"), tmp_path, extra_ids=leti_ids)


def test_split_qkv_is_a_row_permutation():
    d = 16
    qkv = torch.arange(3 * d, dtype=torch.float32)[:, None].repeat(1, 2)  # row r holds the value r
    q, k, v = split_qkv(qkv, d)
    rows = torch.cat([q[:, 0], k[:, 0], v[:, 0]]).long().tolist()
    assert sorted(rows) == list(range(3 * d))
    local = d // 4  # shard m of CodeGen's qkv holds [query, value, key], local rows each
    assert q[:local, 0].tolist() == list(range(local)) and v[:local, 0].tolist() == list(range(local, 2 * local))
    assert k[local:2 * local, 0].tolist() == list(range(3 * local + 2 * local, 3 * local + 3 * local))


def test_other_architectures_are_linked_and_unknown_ones_refused(micro_checkpoint, tmp_path):
    info = prepare_for_vllm(micro_checkpoint, tmp_path / "gpt2")
    assert info["conversion"] == "as is" and not (tmp_path / "gpt2" / "optimizer.pt").exists()
    assert (tmp_path / "gpt2" / "model.safetensors").read_bytes() == (micro_checkpoint / "model.safetensors").read_bytes()
    bad = tmp_path / "bert"
    bad.mkdir()
    (bad / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(UserError, match="model_type 'bert'"):
        prepare_for_vllm(bad, tmp_path / "x")
    assert not (tmp_path / "x").exists()
