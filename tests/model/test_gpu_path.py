"""GPU-path options, checked on CPU: packing, checkpointing, bf16, token budgets, the benchmark."""
from __future__ import annotations

import contextlib
import json
import random
import subprocess
import sys
from dataclasses import asdict

import pytest
import torch
from conftest import REPO

from leti.fcft.train import TrainConfig, _cfg_for_key, _checkpointing
from leti.model.loss import global_batch_loss
from leti.model.packing import (
    block_causal_mask,
    collate_packed_rows,
    pack_sequences,
    rows_per_forward,
)


def _batch(n=10, vocab=290, seed=0, lo=3, hi=40, partial_masks=True):
    rng = random.Random(seed)
    rows = [[rng.randrange(vocab) for _ in range(rng.randint(lo, hi))] for _ in range(n)]
    masks = []
    for r in rows:  # some sequences with loss only on their tail (loss_on="solution"-like)
        cut = rng.randint(0, len(r)) if partial_masks and rng.random() < 0.5 else 0
        masks.append([0] * cut + [1] * (len(r) - cut))
    return rows, masks


def _codegen(attn="sdpa"):
    from transformers import CodeGenConfig, CodeGenForCausalLM

    cfg = CodeGenConfig(vocab_size=300, n_layer=2, n_embd=32, n_head=4, rotary_dim=4, n_positions=256,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0,
                        pad_token_id=0)
    cfg._attn_implementation = attn
    torch.manual_seed(0)
    return CodeGenForCausalLM(cfg)


def _micro_gpt2(micro_checkpoint, attn="sdpa"):
    from leti.model.loading import load_model

    return load_model(str(micro_checkpoint), attn_implementation=attn)


def _loss_and_grads(model, rows, masks, autocast=contextlib.nullcontext, **kw):
    model.zero_grad(set_to_none=True)
    loss, ntok = global_batch_loss(model, rows, masks, 0, 3, torch.device("cpu"), autocast, False, **kw)
    return loss, ntok, {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def _assert_same(a, b, rtol=1e-4, atol=1e-6):
    (la, na, ga), (lb, nb, gb) = a, b
    assert na == nb
    assert la == pytest.approx(lb, rel=1e-5)
    assert ga.keys() == gb.keys() and ga
    for k in ga:
        assert torch.allclose(ga[k], gb[k], rtol=rtol, atol=atol), k


def test_pack_sequences_first_fit_decreasing():
    lengths = [30, 5, 17, 12, 40, 1, 23]
    rows = pack_sequences(lengths, 40)
    assert sorted(i for r in rows for i in r) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in r) <= 40 for r in rows)
    assert rows == pack_sequences(lengths, 40) and len(rows) == 4  # 128 tokens in 4 rows of 40
    assert pack_sequences([50, 3], 40) == [[0], [1]]  # longer than a row: a row of its own


def test_collate_packed_positions_labels_segments():
    b = collate_packed_rows([[[5, 6, 7], [8, 9]], [[4]]], pad_id=0, row_masks=[[[1, 1, 1], [0, 1]], [[1]]])
    assert b["input_ids"].tolist() == [[5, 6, 7, 8, 9], [4, 0, 0, 0, 0]]
    assert b["position_ids"].tolist() == [[0, 1, 2, 0, 1], [0, 0, 1, 2, 3]]
    assert b["labels"].tolist() == [[-100, 6, 7, -100, 9], [-100, -100, -100, -100, -100]]
    assert b["segment_ids"].tolist() == [[0, 0, 0, 1, 1], [0, 1, 1, 1, 1]]
    m = block_causal_mask(b["segment_ids"][:1], "sdpa")[0, 0]
    assert m[4].tolist() == [False, False, False, True, True] and m[2].tolist() == [True, True, True, False, False]
    add = block_causal_mask(b["segment_ids"][:1], "eager")[0, 0]
    assert add[4, 3] == 0 and add[4, 2] == torch.finfo(torch.float32).min
    assert rows_per_forward(16, 700, 2048, None) == 5 and rows_per_forward(16, 700, 2048, 4096) == 2


@pytest.mark.parametrize("arch,attn,route", [("gpt2", "sdpa", "position_ids"), ("gpt2", "eager", "mask4d"),
                                             ("codegen", "sdpa", "position_ids"), ("codegen", "sdpa", "mask4d"),
                                             ("codegen", "eager", "position_ids")])
def test_packed_loss_and_grads_equal_unpacked(micro_checkpoint, arch, attn, route):
    model = _micro_gpt2(micro_checkpoint, attn) if arch == "gpt2" else _codegen(attn)
    model.train()
    rows, masks = _batch()
    ref = _loss_and_grads(model, rows, masks)
    packed = _loss_and_grads(model, rows, masks, packing=True, pack_len=64, packing_attention=route)
    _assert_same(ref, packed)
    # a real packed batch: fewer rows than sequences
    assert len(pack_sequences([len(r) for r in rows], 64)) < len(rows)


def test_token_budget_micro_batches_same_loss(micro_checkpoint):
    model = _micro_gpt2(micro_checkpoint)
    model.train()
    rows, masks = _batch(seed=1)
    _assert_same(_loss_and_grads(model, rows, masks), _loss_and_grads(model, rows, masks, micro_batch_tokens=60))


def test_gradient_checkpointing_same_loss_and_grads():
    model = _codegen()
    model.train()
    rows, masks = _batch(seed=2)
    ref = _loss_and_grads(model, rows, masks)
    _checkpointing(model, "enable")
    _assert_same(ref, _loss_and_grads(model, rows, masks))
    _assert_same(ref, _loss_and_grads(model, rows, masks, packing=True, pack_len=64))


def test_bf16_autocast_runs_on_cpu_and_is_close():
    model = _codegen()
    model.train()
    rows, masks = _batch(seed=3)
    ref, _, _ = _loss_and_grads(model, rows, masks)
    bf16 = lambda: torch.autocast("cpu", dtype=torch.bfloat16)  # noqa: E731
    loss, _, grads = _loss_and_grads(model, rows, masks, autocast=bf16, packing=True, pack_len=64)
    assert loss == pytest.approx(ref, rel=2e-2)
    assert all(g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads.values())  # fp32 master grads


def test_added_options_do_not_change_resume_key():
    base = asdict(TrainConfig())
    key = _cfg_for_key(TrainConfig())
    assert "packing" not in key and all(key[k] == base[k] for k in key)
    assert _cfg_for_key(TrainConfig(packing=True))["packing"] is True


def test_bad_packing_options_are_one_line_errors():
    from leti.core.errors import UserError

    with pytest.raises(UserError, match="packing_attention"):
        TrainConfig(packing_attention="flash").validate()
    with pytest.raises(UserError, match="optimizer_impl"):
        TrainConfig(optimizer_impl="8bit").validate()


def _examples(n=8):
    from leti.core.vocab import BAD, GOOD

    return [{"task_id": f"t/{k}", "sample_idx": 0, "success": k % 3 == 0, "reward": GOOD if k % 3 == 0 else BAD,
             "feedback": None if k % 3 == 0 else f"NameError: name 'y{k}' is not defined" * (1 + k % 2),
             "problem": '"""\nadd %d\n"""' % k, "solution": "\ndef f(x):\n    return x + %d" % k} for k in range(n)]


def _train(ckpt, out, **cfg):
    from leti.fcft.train import train_iteration

    base = dict(lr=1e-3, steps=2, batch_size=4, micro_batch_size=2, reg_ratio=0.5, pretrain_batch_size=4,
                max_len=128, resume_every=0, seed=3)
    base.update(cfg)
    texts = ["def g(x):\n    return x * %d" % k for k in range(10)]
    return train_iteration(str(ckpt), _examples(), texts, str(out), TrainConfig(**base), progress=False,
                           loss_csv=str(out) + ".csv")


def test_train_iteration_packing_matches_unpacked(micro_checkpoint, tmp_path):
    import csv

    from leti.model.loading import load_model

    a = _train(micro_checkpoint, tmp_path / "plain")
    b = _train(micro_checkpoint, tmp_path / "packed", packing=True, optimizer_impl="foreach")
    assert a["final_fcft_loss"] == pytest.approx(b["final_fcft_loss"], rel=1e-4)
    la = [float(r["loss"]) for r in csv.DictReader(open(str(tmp_path / "plain") + ".csv"))]
    lb = [float(r["loss"]) for r in csv.DictReader(open(str(tmp_path / "packed") + ".csv"))]
    assert len(la) == len(lb) == 3 and la == pytest.approx(lb, rel=1e-4)  # fcft, pretrain, fcft
    wa, wb = load_model(str(tmp_path / "plain")).state_dict(), load_model(str(tmp_path / "packed")).state_dict()
    assert all(torch.allclose(wa[k], wb[k], atol=1e-5) for k in wa)


def test_train_iteration_fused_gelu_matches_gelu_new(micro_checkpoint, tmp_path):
    import csv

    a = _train(micro_checkpoint, tmp_path / "plain")
    b = _train(micro_checkpoint, tmp_path / "fused", fused_gelu=True)
    la = [float(r["loss"]) for r in csv.DictReader(open(str(tmp_path / "plain") + ".csv"))]
    lb = [float(r["loss"]) for r in csv.DictReader(open(str(tmp_path / "fused") + ".csv"))]
    assert la == pytest.approx(lb, rel=1e-4)
    assert "fused_gelu" not in _cfg_for_key(TrainConfig())  # off: old resume keys stay valid


def test_train_iteration_bf16_weights_and_checkpointing_run(micro_checkpoint, tmp_path):
    m = _train(micro_checkpoint, tmp_path / "bf16", precision="bf16", gradient_checkpointing=True, packing=True,
               steps=1, reg_ratio=0)
    assert m["precision"] == "bf16" and m["final_fcft_loss"] == m["final_fcft_loss"]  # finite, not NaN


@pytest.mark.slow
def test_bench_cpu_smoke_runs(tmp_path):
    out = tmp_path / "smoke.json"
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "gpu.py"), "--cpu-smoke", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rep = json.loads(out.read_text())
    assert rep["device"]["type"] == "cpu" and rep["shape"] == "smoke"
    assert [r["variant"] for r in rep["train"]] == ["baseline", "sdpa", "sdpa+packed"]
    assert all(r["ok"] and r["tokens_per_s"] > 0 for r in rep["train"] + rep["sampling"])
    assert rep["ratios"]["sampling_tokens_per_s_vs_baseline"] is not None
    assert rep["memory_budget"]["2b"]["ckpt_on"]["states_gb"] == pytest.approx(44.5, abs=1.0)
    assert "FCFT training" in proc.stdout and "Sampling" in proc.stdout


@pytest.mark.slow
def test_bench_fused_gelu_variant_same_losses(tmp_path):
    out = tmp_path / "fused.json"
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "gpu.py"), "--cpu-smoke", "--skip-sampling",
                           "--fused-gelu", "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rep = json.loads(out.read_text())
    assert [r["variant"] for r in rep["train"]] == ["baseline", "sdpa", "sdpa+packed", "sdpa+packed+fused-gelu"]
    packed, fused = rep["train"][2], rep["train"][3]
    assert fused["losses"] == pytest.approx(packed["losses"], rel=1e-4)  # same maths, one kernel
    assert rep["ratios"]["train_fused_gelu_vs_packed"] is not None
