"""Sampling: left padding correctness, determinism by seed, conditioning, resume."""
from __future__ import annotations

import json

import pytest

from leti.sampling.sampler import DecodingConfig, TorchSampler


@pytest.fixture(scope="module")
def sampler(micro_checkpoint):
    from leti.model.loading import load_model, load_tokenizer

    return TorchSampler(load_model(str(micro_checkpoint)), load_tokenizer(str(micro_checkpoint)))


PROMPTS = ['"""\nWrite', '"""\nWrite a function to add 3 to each element of a list.\n', "<|good|>def"]


def test_batched_greedy_equals_one_by_one(sampler):
    cfg = DecodingConfig(temperature=0, max_new_tokens=16)
    batched = sampler.sample(PROMPTS, cfg)
    single = [sampler.sample([p], cfg)[0] for p in PROMPTS]
    assert batched == single


def test_sampling_is_deterministic_by_seed(sampler):
    cfg = DecodingConfig(n=4, temperature=1.0, max_new_tokens=12, seed=7)
    a = sampler.sample(PROMPTS, cfg, batch_key="b")
    assert a == sampler.sample(PROMPTS, cfg, batch_key="b")
    assert a != sampler.sample(PROMPTS, DecodingConfig(n=4, temperature=1.0, max_new_tokens=12, seed=8), batch_key="b")
    assert len(a) == 3 and all(len(x) == 4 for x in a)


def test_stop_sequences_cut(sampler):
    cfg = DecodingConfig(n=3, temperature=1.0, max_new_tokens=24, seed=1)
    raw = sampler.sample(PROMPTS[:1], cfg, batch_key="s")[0]
    stops = sorted({c[1:3] for c in raw if len(c) > 3})[:1]
    if not stops:
        pytest.skip("samples too short to pick a stop sequence")
    cut = sampler.sample(PROMPTS[:1], DecodingConfig(n=3, temperature=1.0, max_new_tokens=24, seed=1, stop=tuple(stops)), batch_key="s")[0]
    for r, c in zip(raw, cut):
        assert stops[0] not in c and r.startswith(c)


def test_driver_resume_and_conditioning(sampler, tmp_path):
    from leti.sampling.driver import sample_problems

    problems = [{"task_id": f"p{i}", "prompt": p} for i, p in enumerate(PROMPTS)]
    cfg = DecodingConfig(n=3, temperature=1.0, max_new_tokens=8, seed=0, batch_size=4)
    full = tmp_path / "full.jsonl"
    sample_problems(problems, sampler, cfg, "good", full, {"x": 1}, progress=False)
    rows = [json.loads(l) for l in open(full)]
    assert len(rows) == 9 and all(r["model_input"].startswith("<|good|>") for r in rows)
    # simulate a kill: keep only part of the partial log (with a cut-off last line) and resume
    part = tmp_path / "resumed.jsonl"
    partial = part.with_name(part.name + ".partial")
    lines = open(full).read().splitlines(keepends=True)
    partial.write_text("".join(lines[:4]) + lines[4][:10])
    sample_problems(problems, sampler, cfg, "good", part, {"x": 1}, progress=False)
    assert open(part).read() == open(full).read() and not partial.exists()


def test_dropping_finished_rows_changes_no_token(sampler):
    """Finished rows leave the batch; every row's completion is the one it gets when all rows stay."""
    cfg = DecodingConfig(n=8, temperature=1.0, max_new_tokens=24, seed=3)
    sampler.compact = False
    try:
        full = sampler.sample(PROMPTS, cfg, batch_key="c")
    finally:
        sampler.compact = True
    assert sampler.sample(PROMPTS, cfg, batch_key="c") == full
    lengths = {len(c) for row in full for c in row}
    assert len(lengths) > 1  # rows did finish at different steps, so rows were dropped


def test_inverse_cdf_draws_follow_the_probabilities():
    import torch

    from leti.sampling.sampler import _inverse_cdf

    probs = torch.tensor([[0.5, 0.0, 0.3, 0.2]]).repeat(20000, 1)
    u = torch.rand(20000, generator=torch.Generator().manual_seed(0))
    idx = _inverse_cdf(probs, u)
    freq = torch.bincount(idx, minlength=4).float() / 20000
    assert freq[1] == 0 and torch.allclose(freq, probs[0], atol=0.015)
    assert _inverse_cdf(torch.tensor([[0.0, 1.0]]), torch.tensor([0.0])).item() == 1


def test_driver_discards_a_partial_log_left_by_other_settings(sampler, tmp_path):
    from leti.sampling.driver import sample_problems

    problems = [{"task_id": f"p{i}", "prompt": p} for i, p in enumerate(PROMPTS)]
    hot = DecodingConfig(n=2, temperature=1.0, max_new_tokens=8, seed=0, batch_size=4)
    cold = DecodingConfig(n=2, temperature=0.5, max_new_tokens=8, seed=0, batch_size=4)
    ref = tmp_path / "ref.jsonl"
    sample_problems(problems, sampler, cold, "good", ref, {"decoding": cold.to_dict()}, progress=False)
    # a killed job at T=1 left its partial log; the rerun at T=0.5 must not reuse those samples
    out = tmp_path / "out.jsonl"
    sample_problems(problems, sampler, hot, "good", out, {"decoding": hot.to_dict()}, progress=False)
    out.with_name(out.name + ".partial").write_text(out.read_text())
    sample_problems(problems, sampler, cold, "good", out, {"decoding": cold.to_dict()}, progress=False)
    assert out.read_text() == ref.read_text()


def test_one_job_draws_several_sets_into_their_files_like_separate_jobs(micro_checkpoint, tmp_path):
    """A loop checkpoint's joint job (evaluation under two reward tokens + training samples) writes
    exactly what separate `leti sample` jobs write."""
    from leti.cli import main

    problems = tmp_path / "p.jsonl"
    problems.write_text("".join(json.dumps({"task_id": f"p{i}", "prompt": p}) + "\n" for i, p in enumerate(PROMPTS)))
    common = {"problems": str(problems), "max_new_tokens": 6, "temperature": 1.0}
    evals, train = tmp_path / "eval.jsonl", tmp_path / "train.jsonl"
    spec = [{**common, "benchmark": "b", "n": 2, "seed": 1, "conditioning": c, "out": str(evals)} for c in ("good", "bad")]
    spec.append({**common, "n": 3, "seed": 2, "conditioning": "good", "batch_size": 4, "out": str(train)})
    assert main(["sample", "--model", str(micro_checkpoint), "--spec", json.dumps(spec), "--no-progress"]) == 0

    def rows(path):
        out = [json.loads(l) for l in open(path)]
        for r in out:
            r["provenance"].pop("versions")
        return out

    sep = []
    for c in ("good", "bad"):
        one = tmp_path / f"one-{c}.jsonl"
        assert main(["sample", "--model", str(micro_checkpoint), "--spec", json.dumps([{**spec[0], "conditioning": c, "out": None}]),
                     "--out", str(one), "--no-progress"]) == 0
        sep += rows(one)
    assert rows(evals) == sep and {r["benchmark"] for r in sep} == {"b"}
    assert [r["conditioning"] for r in sep] == ["good"] * 6 + ["bad"] * 6
    alone = tmp_path / "alone.jsonl"
    assert main(["sample", "--model", str(micro_checkpoint), "--problems", str(problems), "--n", "3", "--seed", "2",
                 "--max-new-tokens", "6", "--conditioning", "good", "--batch-size", "4", "--out", str(alone),
                 "--no-progress"]) == 0
    assert rows(train) == rows(alone) and "benchmark" not in rows(train)[0]
    assert not list(tmp_path.glob("*.part*"))


def test_bad_sample_spec_is_one_line_error_before_the_model_loads(tmp_path, capsys):
    from leti.cli import main

    spec = [{"problems": str(tmp_path / "p.jsonl"), "temprature": 1.0}]
    assert main(["sample", "--model", "no-such-model", "--spec", json.dumps(spec), "--out", str(tmp_path / "o")]) == 2
    assert "--spec item 0: unknown key(s) ['temprature']" in capsys.readouterr().err
    assert main(["sample", "--model", "no-such-model", "--spec", json.dumps([{"problems": "x"}])]) == 2
    assert "no 'out' and no --out" in capsys.readouterr().err
