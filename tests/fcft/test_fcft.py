"""FCFT core: sequence layout, loss masks, batching, training determinism and resume."""
from __future__ import annotations

import csv

import pytest
import torch

from leti.core.errors import UserError
from leti.core.vocab import BAD, FEEDBACK_BEGIN, FEEDBACK_END, GOOD
from leti.fcft.dataset import build_examples, example_segments, tokenize_example
from leti.model.batching import collate_left_padded

PROBLEM = {"task_id": "t/1", "prompt": '"""\nadd one\nassert f(1) == 2\n"""', "tests": "assert f(1) == 2"}
SAMPLES = [{"task_id": "t/1", "sample_idx": 0, "completion": "\ndef f(x):\n    return x + 1"},
           {"task_id": "t/1", "sample_idx": 1, "completion": "\ndef f(x):\n    return x + 2"}]
RESULTS = [{"id": "t/1#0", "status": "pass", "feedback": None, "meta": {"task_id": "t/1", "sample_idx": 0}},
           {"id": "t/1#1", "status": "fail", "meta": {"task_id": "t/1", "sample_idx": 1},
            "feedback": "Traceback (most recent call last):\n  File \"<string>\", line 7, in <module>\n"
                        "    assert f(1) == 2\nAssertionError"}]


def test_layout_textual_binary_none():
    ex, stats = build_examples([PROBLEM], SAMPLES, RESULTS, "textual")
    assert stats["pass"] == 1 and stats["fail"] == 1
    good, bad = ex
    assert good["reward"] == GOOD and good["feedback"] is None  # successes carry no feedback text
    assert bad["reward"] == BAD and bad["feedback"].endswith("AssertionError")
    text = "".join(t for _, t in example_segments(bad))
    assert text == BAD + FEEDBACK_BEGIN + RESULTS[1]["feedback"] + FEEDBACK_END + PROBLEM["prompt"] + SAMPLES[1]["completion"]
    binary, _ = build_examples([PROBLEM], SAMPLES, RESULTS, "binary")
    assert [e["reward"] for e in binary] == [GOOD, BAD] and all(e["feedback"] is None for e in binary)
    control, _ = build_examples([PROBLEM], SAMPLES, RESULTS, "none")
    assert all(e["reward"] == "" and e["feedback"] is None for e in control)
    assert "".join(t for _, t in example_segments(control[1])) == PROBLEM["prompt"] + SAMPLES[1]["completion"]


def test_harness_errors_are_dropped_and_bad_type_rejected():
    res = RESULTS[:1] + [{**RESULTS[1], "status": "harness_error"}]
    ex, stats = build_examples([PROBLEM], SAMPLES, res, "textual")
    assert len(ex) == 1 and stats["harness_error_dropped"] == 1
    with pytest.raises(UserError, match="feedback_type"):
        build_examples([PROBLEM], SAMPLES, RESULTS, "verbose")


def test_token_ids_and_loss_masks(micro_checkpoint):
    from leti.model.loading import load_tokenizer

    tok = load_tokenizer(str(micro_checkpoint))
    ex, _ = build_examples([PROBLEM], SAMPLES, RESULTS, "textual")
    ids, mask = tokenize_example(ex[1], tok, max_len=4096, loss_on="all")
    special = tok.convert_tokens_to_ids([BAD, FEEDBACK_BEGIN, FEEDBACK_END])
    assert ids[0] == special[0] and ids[1] == special[1]  # reward token, then the span opens
    assert special[2] in ids and all(m == 1 for m in mask)
    sol_ids = tok(SAMPLES[1]["completion"], add_special_tokens=False)["input_ids"]
    ids2, mask2 = tokenize_example(ex[1], tok, max_len=4096, loss_on="solution", append_eos=True)
    assert ids2[-1] == tok.eos_token_id and ids2[-len(sol_ids) - 1:-1] == sol_ids
    assert sum(mask2) == len(sol_ids) + 1 and mask2[-len(sol_ids) - 1:] == [1] * (len(sol_ids) + 1)
    short, m = tokenize_example(ex[1], tok, max_len=5)
    assert short == ids[:5] and len(m) == 5  # right truncation, as the original


def test_collate_left_padding_positions():
    b = collate_left_padded([[5, 6, 7], [8]], pad_id=0)
    assert b["input_ids"].tolist() == [[5, 6, 7], [0, 0, 8]]
    assert b["attention_mask"].tolist() == [[1, 1, 1], [0, 0, 1]]
    assert b["position_ids"].tolist() == [[0, 1, 2], [0, 0, 0]]
    assert b["labels"].tolist() == [[-100, 6, 7], [-100, -100, -100]]


def _examples(n=12):
    out = []
    for k in range(n):
        ok = k % 3 == 0
        out.append({"task_id": f"t/{k}", "sample_idx": 0, "success": ok, "reward": GOOD if ok else BAD,
                    "feedback": None if ok else f"NameError: name 'y{k}' is not defined",
                    "problem": '"""\nadd %d\n"""' % k, "solution": "\ndef f(x):\n    return x + %d" % k})
    return out


def _train(ckpt, out, **kw):
    from leti.fcft.train import TrainConfig, train_iteration

    base = dict(lr=1e-3, steps=6, batch_size=4, micro_batch_size=2, reg_ratio=0.5, pretrain_batch_size=4,
                max_len=128, resume_every=0, seed=3)
    base.update(kw.pop("cfg", {}))
    cfg = TrainConfig(**base)
    texts = ["def g(x):\n    return x * %d" % k for k in range(10)]
    return train_iteration(str(ckpt), _examples(), texts, str(out), cfg, progress=False, **kw)


def _weights(path):
    from leti.model.loading import load_model

    return {k: v.clone() for k, v in load_model(str(path)).state_dict().items()}


def test_training_writes_checkpoint_and_loss_csv(micro_checkpoint, tmp_path):
    from leti.model.checkpoint import read_meta

    m = _train(micro_checkpoint, tmp_path / "it1", loss_csv=str(tmp_path / "loss.csv"), iteration=1)
    assert m["fcft_steps"] == 6 and m["pretrain_steps"] == 3  # ratio 0.5: one pre-training step per 2 FCFT steps
    meta = read_meta(tmp_path / "it1")
    assert meta["global_step"] == 9 and meta["fcft_steps_total"] == 6 and meta["config"]["reg_ratio"] == 0.5
    rows = list(csv.DictReader(open(tmp_path / "loss.csv")))
    assert [r["kind"] for r in rows].count("pretrain") == 3 and len(rows) == 9
    assert (tmp_path / "it1" / "optimizer.pt").exists()
    # the next iteration continues the step counters and the optimizer state
    m2 = _train(tmp_path / "it1", tmp_path / "it2", iteration=2)
    assert read_meta(tmp_path / "it2")["fcft_steps_total"] == 12


def test_resume_after_kill_gives_same_weights(micro_checkpoint, tmp_path):
    _train(micro_checkpoint, tmp_path / "full")
    first = _train(micro_checkpoint, tmp_path / "killed", stop_after_steps=3)
    assert first == {"interrupted_at": 3} and (tmp_path / "killed.resume").exists()
    _train(micro_checkpoint, tmp_path / "killed")
    assert not (tmp_path / "killed.resume").exists()
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "killed")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_gradient_accumulation_matches_one_big_batch(micro_checkpoint, tmp_path):
    _train(micro_checkpoint, tmp_path / "acc", cfg={"micro_batch_size": 1, "reg_ratio": 0})
    _train(micro_checkpoint, tmp_path / "big", cfg={"micro_batch_size": 4, "reg_ratio": 0})
    a, b = _weights(tmp_path / "acc"), _weights(tmp_path / "big")
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


def test_no_regularization_runs_no_pretrain_steps(micro_checkpoint, tmp_path):
    m = _train(micro_checkpoint, tmp_path / "noreg", cfg={"reg_ratio": 0})
    assert m["pretrain_steps"] == 0


def test_bad_train_config_is_one_line_error():
    from leti.fcft.train import TrainConfig

    with pytest.raises(UserError, match="micro_batch_size"):
        TrainConfig(batch_size=10, micro_batch_size=4).validate()


def test_pretrain_blocks_packing(micro_checkpoint):
    from leti.fcft.train import PretrainStream
    from leti.model.loading import load_tokenizer

    tok = load_tokenizer(str(micro_checkpoint))
    texts = ["def g(x):\n    return x * %d" % k for k in range(10)]
    blocks = PretrainStream(texts, tok, max_len=16, seed=0, packing="blocks")
    flat = [t for ids in tok(texts, add_special_tokens=False)["input_ids"] for t in ids + [tok.eos_token_id]]
    assert all(len(b) == 16 for b in blocks.docs) and len(blocks.docs) == len(flat) // 16
    assert [t for b in blocks.docs for t in b] == flat[: 16 * len(blocks.docs)]
    docs = PretrainStream(texts, tok, max_len=16, seed=0, packing="docs")
    assert len(docs.docs) == 10 and all(d[-1] == tok.eos_token_id for d in docs.docs)


def test_eae_results_are_verified_before_fcft():
    """EAE is one more executed task: the sandbox returns the arguments, the verifier decides."""
    from conftest import data_root

    if not (data_root() / "eae").exists():
        pytest.skip("GENEVA data not found")
    from leti.data.eae import build_problems
    from leti.execution.programs import build_programs
    from leti.execution.verdicts import execute_with_verdicts

    problems = [p for p in build_problems("test", style="compact", data_root=data_root(), limit=6)
                if p["meta"]["gold"]][:2]
    samples = [{"task_id": p["task_id"], "sample_idx": 0, "completion": p["reference"]} for p in problems]
    samples += [{"task_id": p["task_id"], "sample_idx": 1, "completion": ")\n"} for p in problems]
    programs = build_programs(problems, samples, postprocess=True)
    results = execute_with_verdicts(programs, problems, workers=1, progress=False)
    assert all(r["eae"]["exec_status"] == "pass" for r in results)  # every program runs; the verifier decides
    with pytest.raises(UserError, match="EAE result without its verdict"):  # verified once, where programs run
        build_examples(problems, samples, [{k: v for k, v in r.items() if k != "eae"} for r in results], "textual")
    ex, stats = build_examples(problems, samples, results, "textual", postprocess="eae")
    good = [e for e in ex if e["sample_idx"] == 0]
    bad = [e for e in ex if e["sample_idx"] == 1]
    assert all(e["success"] and e["reward"] == GOOD for e in good)
    assert all(not e["success"] and e["feedback"].startswith("ValueError: Only 0 ") for e in bad), bad[0]["feedback"]
    assert stats["pass_rate"] == 0.5


def test_train_cli_writes_summary_and_heldout_loss_like_the_separate_commands(micro_checkpoint, tmp_path):
    """`leti train --summary/--heldout` = `leti ckpt-summary` + `leti lm-loss` on the new checkpoint."""
    import json

    from leti.cli import main
    from leti.core.io import atomic_write_jsonl as write_jsonl

    write_jsonl(tmp_path / "ex.jsonl", _examples())
    write_jsonl(tmp_path / "pre.jsonl", [{"text": "def g(x):\n    return x * %d" % k} for k in range(10)])
    write_jsonl(tmp_path / "held.jsonl", [{"text": "def h(x):\n    return x - %d" % k} for k in range(5)])
    cfg = json.dumps(dict(lr=1e-3, steps=2, batch_size=4, micro_batch_size=2, reg_ratio=0.5, max_len=128, seed=3))
    ck = tmp_path / "ckpt"
    assert main(["train", "--init", str(micro_checkpoint), "--examples", str(tmp_path / "ex.jsonl"),
                 "--pretrain", str(tmp_path / "pre.jsonl"), "--out", str(ck), "--config", cfg,
                 "--loss-csv", str(ck / "loss.csv"), "--no-progress",
                 "--summary", str(tmp_path / "s.json"), "--summary-loss-csv", str(tmp_path / "loss.csv"),
                 "--heldout", str(tmp_path / "held.jsonl"), "--heldout-out", str(tmp_path / "h.json")]) == 0
    assert main(["lm-loss", "--model", str(ck), "--data", str(tmp_path / "held.jsonl"),
                 "--out", str(tmp_path / "h2.json")]) == 0
    assert main(["ckpt-summary", "--ckpt", str(ck), "--summary", str(tmp_path / "s2.json"),
                 "--loss-csv", str(tmp_path / "loss2.csv")]) == 0
    h, h2 = json.loads((tmp_path / "h.json").read_text()), json.loads((tmp_path / "h2.json").read_text())
    assert h["loss"] == pytest.approx(h2["loss"], rel=1e-6) and h["tokens"] == h2["tokens"] > 0
    assert h["checkpoint_step"] == 3
    assert (tmp_path / "s.json").read_text() == (tmp_path / "s2.json").read_text()
    assert (tmp_path / "loss.csv").read_text() == (tmp_path / "loss2.csv").read_text()


def test_train_cli_checks_paired_options_before_training(micro_checkpoint, tmp_path, capsys):
    from leti.cli import main

    assert main(["train", "--init", str(micro_checkpoint), "--examples", "x.jsonl", "--out", str(tmp_path / "o"),
                 "--heldout", "h.jsonl"]) == 2
    assert "--heldout and --heldout-out go together" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_original_switches_data_order_and_block_separator(micro_checkpoint):
    """Paper preset switches: FCFT data in the original's generation order when unshuffled, and
    pre-training blocks concatenated without a separator (run_clm's group_texts)."""
    import random

    from leti.fcft.config import TrainConfig
    from leti.fcft.train import PretrainStream, epoch_order_of
    from leti.model.loading import load_tokenizer

    ex = [{"problem": "x" * n, "task_id": t} for n, t in ((30, "b"), (10, "a"), (30, "b"), (20, "c"), (10, "a"))]
    assert epoch_order_of(ex, TrainConfig(), random.Random(0)) == [0, 1, 2, 3, 4]
    assert epoch_order_of(ex, TrainConfig(data_order="prompt_length"), random.Random(0)) == [1, 4, 3, 0, 2]
    tok = load_tokenizer(str(micro_checkpoint))
    texts = ["def f(x):\n    return x\n"] * 6
    eos = tok.eos_token_id
    with_eos = PretrainStream(texts, tok, 8, 0, "blocks")
    without = PretrainStream(texts, tok, 8, 0, "blocks", separator="none")
    assert any(eos in b for b in with_eos.docs) and not any(eos in b for b in without.docs)
    assert len(without.docs) <= len(with_eos.docs)


def test_decoding_clean_up_switch_is_recorded_and_passed_to_decode():
    from leti.sampling.sampler import DecodingConfig, TorchSampler

    assert "clean_up_spaces" not in DecodingConfig().to_dict()
    cfg = DecodingConfig(clean_up_spaces=True)
    assert cfg.to_dict()["clean_up_spaces"] is True
    # both engines decode through decode_text (leti/sampling/cleanup.py): the tokenizer's flag off, the
    # original's clean-up applied by the harness; null leaves the tokenizer's default
    import inspect

    from leti.sampling import vllm_sampler
    from leti.sampling.cleanup import decode_text

    assert "decode_text(" in inspect.getsource(TorchSampler) and "decode_text(" in inspect.getsource(vllm_sampler)

    class Tok:
        def decode(self, ids, skip_special_tokens, **kw):
            self.kw = kw
            return "f(a , b)"

    tok = Tok()
    assert decode_text(tok, [1], cfg.clean_up_spaces) == "f(a, b)" and tok.kw == {"clean_up_tokenization_spaces": False}
    assert decode_text(tok, [1], False) == "f(a , b)" and tok.kw == {"clean_up_tokenization_spaces": False}
    assert decode_text(tok, [1], DecodingConfig().clean_up_spaces) == "f(a , b)" and tok.kw == {}
