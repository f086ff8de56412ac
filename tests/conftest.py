"""Shared fixtures: a micro tokenizer + randomly initialised GPT-2 checkpoint, made locally."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    from leti.core.paths import default_data_root

    return default_data_root()


MICRO_TEXTS = [
    '"""\nWrite a function to add %d to each element of a list.\nassert add_%d([1, 2]) == [%d, %d]\n"""\n'
    "def add_%d(lst):\n    return [x + %d for x in lst]" % (k, k, 1 + k, 2 + k, k, k)
    for k in range(40)
]


def make_micro_checkpoint(out: Path) -> Path:
    """A saved, untrained 1-layer GPT-2 + BPE tokenizer with LeTI's tokens (seconds to build); also
    what bench/warmstart.py serves."""
    import torch

    from leti.model.checkpoint import save_checkpoint
    from leti.model.pretrain import tiny_gpt2
    from leti.model.tokenizer import train_bpe_tokenizer

    tok = train_bpe_tokenizer(MICRO_TEXTS, vocab_size=300)
    torch.manual_seed(0)
    model = tiny_gpt2(len(tok), n_layer=1, n_embd=32, n_head=2, eos_id=tok.eos_token_id)
    save_checkpoint(out, model, tok, meta={"config": {"kind": "micro"}, "global_step": 0})
    return out


@pytest.fixture(scope="session")
def micro_checkpoint(tmp_path_factory) -> Path:
    return make_micro_checkpoint(tmp_path_factory.mktemp("micro") / "ckpt")


@pytest.fixture(scope="session")
def ci_preset_run(tmp_path_factory):
    """The CI micro preset run once per session (tests/ci_preset.py)."""
    from ci_preset import run_ci_preset

    if not (data_root() / "mbpp").exists():
        pytest.skip(f"benchmark data not found under {data_root()} (set LETI_DATA_ROOT)")
    return run_ci_preset(tmp_path_factory.mktemp("ci-run"), tmp_path_factory.mktemp("warm"), data_root())
