"""A damaged checkpoint directory (truncated or garbage weights, config, metadata, optimizer state)
is one line naming the file, not a traceback."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from leti.core.errors import UserError

CASES = {  # file -> how it is damaged
    "model.safetensors:truncate": "model.safetensors",
    "model.safetensors:garbage": "model.safetensors",
    "config.json:garbage": "config.json",
    "tokenizer.json:truncate": "tokenizer.json",
    "leti_checkpoint.json:garbage": "leti_checkpoint.json",
}


def _damage(ckpt: Path, case: str) -> Path:
    name, how = case.split(":")
    p = ckpt / name
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2] if how == "truncate" else b"\x00garbage\xff" * 7)
    return p


@pytest.fixture
def ckpt(micro_checkpoint, tmp_path):
    d = tmp_path / "ckpt"
    shutil.copytree(micro_checkpoint, d)
    return d


@pytest.mark.parametrize("case", sorted(CASES))
def test_corrupt_file_is_one_line_naming_it(ckpt, case):
    from leti.model.checkpoint import read_meta
    from leti.model.loading import load_model, load_tokenizer

    bad = _damage(ckpt, case)
    with pytest.raises(UserError) as err:
        load_tokenizer(str(ckpt))
        load_model(str(ckpt))
        read_meta(ckpt)
    msg = str(err.value)
    assert str(bad) in msg and "\n" not in msg, msg


def test_corrupt_optimizer_state(ckpt):
    from leti.model.checkpoint import OPTIMIZER_FILE, load_training_state

    (ckpt / OPTIMIZER_FILE).write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(UserError, match=OPTIMIZER_FILE):
        load_training_state(ckpt)


def test_cli_prints_one_line(ckpt, tmp_path):
    bad = _damage(ckpt, "model.safetensors:truncate")
    data = tmp_path / "held.jsonl"
    data.write_text('{"text": "def f():\\n    return 1\\n"}\n')
    leti = str(Path(sys.executable).with_name("leti"))
    r = subprocess.run([leti, "lm-loss", "--model", str(ckpt), "--data", str(data), "--out", str(tmp_path / "o.json")],
                       capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "LETI_WARM": "0"}, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and str(bad) in lines[0] and "Traceback" not in r.stderr, r.stderr
