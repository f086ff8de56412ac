"""The regularization corpus's held-out split: the original's (Hugging Face datasets) and the harness's."""
from __future__ import annotations

import json

import pytest

from leti.core.errors import UserError
from leti.data.corpus import split_heldout


@pytest.mark.parametrize("n", [10, 57, 1000])
def test_datasets_split_is_the_originals_train_test_split(n):
    """run_leti.py: `raw_pretrain_dataset.train_test_split(test_size=0.1, seed=42)`; the same files, in
    the same order, as `datasets` itself selects them."""
    from datasets import Dataset

    texts = [f"file {i}\nprint({i})\n" for i in range(n)]
    hf = Dataset.from_dict({"content": texts}).train_test_split(test_size=0.1, seed=42)
    train, held = split_heldout(texts, 0.1, 42, "datasets")
    assert train == hf["train"]["content"] and held == hf["test"]["content"]
    assert train != sorted(train, key=texts.index)  # the train part keeps the permutation's order


def test_shuffle_split_keeps_file_order_and_is_the_default():
    texts = [str(i) for i in range(50)]
    train, held = split_heldout(texts, 0.1, 42)
    assert len(held) == 5 and sorted(train + held, key=int) == texts
    assert train == sorted(train, key=int) and held == sorted(held, key=int)
    assert split_heldout(texts, 0.1, 42, "shuffle") == (train, held)
    assert split_heldout(texts, 0.0, 42, "datasets") == (texts, [])
    with pytest.raises(UserError, match="held-out split"):
        split_heldout(texts, 0.1, 42, "sklearn")


def test_pretrain_corpus_cli_takes_the_split(tmp_path):
    from leti.cli import main

    src = tmp_path / "files.jsonl"
    src.write_text("".join(json.dumps({"content": f"x = {i}\n"}) + "\n" for i in range(30)))
    out, held = tmp_path / "train.jsonl", tmp_path / "held.jsonl"
    assert main(["pretrain-corpus", "--source", f"json:{src}", "--n", "30", "--split", "datasets",
                 "--out", str(out), "--heldout-out", str(held)]) == 0
    rows = [json.loads(line)["text"] for line in out.read_text().splitlines()]
    expected, _ = split_heldout([f"x = {i}\n" for i in range(30)], 0.1, 42, "datasets")
    assert rows == expected
