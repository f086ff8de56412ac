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
    kw = {"steps": 6, "batch_size": 8, "lr": 3e-3, "warmup": 2, "n_layer": 1, "n_embd": 32, "n_head": 2,
          "max_len": 128, "threads": 1, "log_every": 1, **kw}
    metrics = pretrain_tiny(texts, tok, str(out), **kw)
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


def test_killed_pretraining_resumes_from_its_snapshot_with_the_same_weights(tmp_path):
    full, _ = _pretrain(tmp_path, "full", packing=True, resume_every=2)
    assert not (tmp_path / "full.resume").exists()
    assert _pretrain(tmp_path, "killed", packing=True, resume_every=2, stop_after_steps=4)[1] == {"interrupted_at": 4}
    assert (tmp_path / "killed.resume").exists() and not (tmp_path / "killed").exists()
    killed, metrics = _pretrain(tmp_path, "killed", packing=True, resume_every=2)
    assert metrics["resumed_at"] == 4 and not (tmp_path / "killed.resume").exists()
    wa, wb = load_model(str(full)).state_dict(), load_model(str(killed)).state_dict()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    ha = json.loads((full / "leti_checkpoint.json").read_text())["loss_history"]
    assert ha == json.loads((killed / "leti_checkpoint.json").read_text())["loss_history"]


def test_a_snapshot_of_another_configuration_is_not_resumed(tmp_path):
    _pretrain(tmp_path, "run", resume_every=2, stop_after_steps=2)
    _, metrics = _pretrain(tmp_path, "run", resume_every=2, lr=1e-3)  # another learning rate: start over
    assert "resumed_at" not in metrics


@pytest.mark.slow
def test_pretrain_command_killed_outright_continues_from_its_snapshot(tmp_path):
    """`leti pretrain` killed with SIGKILL after a snapshot: the rerun resumes and ends with the weights of
    run that was never stopped."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    tok = train_bpe_tokenizer(MICRO_TEXTS, vocab_size=300)
    tok.save_pretrained(tmp_path / "tok")
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": t * (1 + k % 3)}) + "\n" for k, t in enumerate(MICRO_TEXTS * 3)))
    cfg = json.dumps({"steps": 100, "batch_size": 8, "lr": 3e-3, "warmup": 2, "n_layer": 1, "n_embd": 32,
                      "n_head": 2, "max_len": 128})
    leti = str(Path(sys.executable).with_name("leti"))

    def cmd(out):
        return [leti, "pretrain", "--tokenizer", str(tmp_path / "tok"), "--corpus", str(corpus), "--config", cfg,
                "--threads", "1", "--resume-every", "10", "--out", str(tmp_path / out)]

    env = {**os.environ, "LETI_WARM": "0"}
    proc = subprocess.Popen(cmd("killed"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    snapshot = tmp_path / "killed.resume" / "optimizer.pt"
    deadline = time.time() + 300
    while not snapshot.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert snapshot.exists() and not (tmp_path / "killed").exists(), "killed before its first snapshot"
    rerun = subprocess.run(cmd("killed"), env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "resuming at step" in rerun.stdout
    texts = [json.loads(line)["text"] for line in corpus.read_text().splitlines()]  # the same run, in-process
    pretrain_tiny(texts, tok, str(tmp_path / "full"), threads=1, resume_every=0, **json.loads(cfg))
    wa, wb = load_model(str(tmp_path / "full")).state_dict(), load_model(str(tmp_path / "killed")).state_dict()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_checkpoint_records_the_numerics_its_bytes_depend_on(tmp_path):
    out, _ = _pretrain(tmp_path, "run")
    numerics = json.loads((out / "leti_checkpoint.json").read_text())["environment"]["numerics"]
    assert numerics["threads"] == 1 and numerics["cpu_capability"] and "cpu" in numerics
