"""The original's data order as switches (paper preset): the FCFT generation order and the
pre-training loader that restarts at its first block every epoch (run_leti.py, dataloader.py)."""
from __future__ import annotations

import random

import pytest
import torch

from leti.core.vocab import GOOD
from leti.fcft.config import TrainConfig
from leti.fcft.dataset import build_examples
from leti.fcft.train import PretrainStream, epoch_order_of, generation_order_keys


def _tok(micro_checkpoint):
    from leti.model.loading import load_tokenizer

    return load_tokenizer(str(micro_checkpoint))


def _prompt(tok, n_tokens: int, tag: str) -> str:
    """A prompt of exactly n_tokens tokens under `tok`: a tag, then a character that never merges."""
    for unit in ("~", "@", "`", "$", "^"):
        text = tag + unit * (n_tokens - len(tok(tag, add_special_tokens=False)["input_ids"]))
        if len(tok(text, add_special_tokens=False)["input_ids"]) == n_tokens:
            return text
    raise AssertionError("no non-merging character in the micro tokenizer")


def test_generation_order_is_the_originals_sort(micro_checkpoint):
    """dataloader.py: each prompt tokenized with padding to a multiple of 128, the dataset sorted by
    (padded length, id), a prompt's samples adjacent. Checked against that pipeline run with `datasets`."""
    from datasets import Dataset

    tok = _tok(micro_checkpoint)
    lengths = [300, 20, 127, 129, 128, 5, 250, 130]  # 127 and 128 share a bucket, 129 and 130 the next
    problems = [{"task_id": f"p/{i}", "prompt": _prompt(tok, n, f"q{i}")} for i, n in enumerate(lengths)]
    # iteration >= 2: the model input carries the reward token, one more token (128 -> 129 changes bucket)
    inputs = {p["task_id"]: (GOOD + p["prompt"]) for p in problems}
    samples = [{"task_id": p["task_id"], "sample_idx": k, "completion": f"\nreturn {k}", "model_input": inputs[p["task_id"]]}
               for p in reversed(problems) for k in (1, 0)]
    results = [{"status": "pass", "meta": {"task_id": s["task_id"], "sample_idx": s["sample_idx"]}} for s in samples]
    examples, _ = build_examples(problems, samples, results, "textual")
    order = epoch_order_of(examples, TrainConfig(shuffle=False, data_order="generation"), random.Random(0), tok)

    ds = Dataset.from_list([{"text": inputs[p["task_id"]], "id": i} for i, p in enumerate(problems)])
    ds = ds.map(lambda x: tok(x["text"], padding=True, pad_to_multiple_of=128))
    ds = ds.map(lambda x: {"seq_length": len(x["input_ids"])}).sort(["seq_length", "id"])
    original = [(problems[row["id"]]["task_id"], k) for row in ds for k in range(2)]
    assert [(examples[i]["task_id"], examples[i]["sample_idx"]) for i in order] == original
    # buckets of 128 by id; p/4's 128 tokens + <|good|> fall into the second, p/2's 127 + 1 stay in the first
    assert [t for t, _ in original[::2]] == ["p/1", "p/2", "p/5", "p/3", "p/4", "p/6", "p/7", "p/0"]


def test_generation_order_without_recorded_inputs_uses_the_problem(micro_checkpoint):
    tok = _tok(micro_checkpoint)
    ex = [{"problem": _prompt(tok, n, "q"), "problem_index": i, "sample_idx": 0} for i, n in enumerate((200, 10))]
    assert [k[0] for k in generation_order_keys(ex, tok)] == [256, 128]
    assert epoch_order_of(ex, TrainConfig(data_order="generation"), random.Random(0), tok) == [1, 0]


def test_restart_stream_reads_the_corpus_in_order_from_its_first_block_every_epoch(micro_checkpoint):
    tok = _tok(micro_checkpoint)
    texts = [f"def f{k}():\n    return {k}\n" for k in range(10)]
    stream = PretrainStream(texts, tok, 64, seed=0, order="restart", batch_size=4)
    first = [tok(t, add_special_tokens=False)["input_ids"] + [tok.eos_token_id] for t in texts]
    assert stream.docs == first[:8]  # whole batches only, as the original cut its blocks to a multiple of 128
    assert stream.next_batch(4) == first[:4] and stream.next_batch(4) == first[4:8]
    assert stream.next_batch(4) == first[:4]  # the loader ran out within an epoch: a new one from the start
    stream.new_epoch()
    assert stream.next_batch(4) == first[:4]
    shuffled = PretrainStream(texts, tok, 64, seed=0, order="shuffle", batch_size=4)
    passes = [shuffled.next_batch(10), shuffled.next_batch(10)]
    shuffled.new_epoch()
    assert passes[0] != passes[1] and sorted(passes[0]) == sorted(first)
    assert shuffled.next_batch(10) not in passes  # a shuffling stream goes on across epochs


def _examples(n=12):
    return [{"task_id": f"t/{k}", "sample_idx": 0, "success": k % 3 == 0, "reward": GOOD, "feedback": None,
             "problem": '"""\nadd %d\n"""' % k, "solution": "\ndef f(x):\n    return x + %d" % k} for k in range(n)]


def _train(ckpt, out, monkeypatch=None, **cfg):
    from leti.fcft.train import train_iteration

    base = dict(lr=1e-3, steps=6, batch_size=4, micro_batch_size=2, reg_ratio=1.0, pretrain_batch_size=4,
                max_len=128, resume_every=0, seed=3)
    texts = ["def g(x):\n    return x * %d" % k for k in range(10)]
    stop = cfg.pop("stop_after_steps", None)
    return train_iteration(str(ckpt), _examples(), texts, str(out), TrainConfig(**{**base, **cfg}), progress=False,
                           stop_after_steps=stop)


def test_training_restarts_the_pretraining_loader_at_each_epoch(micro_checkpoint, tmp_path, monkeypatch):
    """12 examples in batches of 4: an epoch is 3 FCFT steps, each followed by one pre-training step."""
    seen = []
    real = PretrainStream.next_batch

    def spy(self, n):
        rows = real(self, n)
        seen.append([self.docs.index(r) for r in rows])
        return rows

    monkeypatch.setattr(PretrainStream, "next_batch", spy)
    _train(micro_checkpoint, tmp_path / "restart", pretrain_order="restart")
    assert seen == [[0, 1, 2, 3], [4, 5, 6, 7], [0, 1, 2, 3]] * 2
    seen.clear()
    _train(micro_checkpoint, tmp_path / "shuffle")
    assert len(seen) == 6 and seen[3:] != seen[:3]


@pytest.mark.parametrize("switches", [{"pretrain_order": "restart", "shuffle": False, "data_order": "generation"}])
def test_resume_after_kill_keeps_the_original_order(micro_checkpoint, tmp_path, switches):
    _train(micro_checkpoint, tmp_path / "full", **switches)
    assert _train(micro_checkpoint, tmp_path / "killed", stop_after_steps=4, **switches) == {"interrupted_at": 4}
    _train(micro_checkpoint, tmp_path / "killed", **switches)
    from leti.model.loading import load_model

    a, b = load_model(str(tmp_path / "full")).state_dict(), load_model(str(tmp_path / "killed")).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
