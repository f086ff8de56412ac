"""The rehearsal's stand-in tokenizer gives prompts the room CodeGen's own gives them under the paper's
budgets (`max_length`: the prompt padded to 128 plus new tokens). CodeGen's counts are in
tests/fixtures/codegen_prompt_tokens.json (made by codegen_prompt_tokens.py beside it)."""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
import yaml

from conftest import REPO, data_root

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "codegen_prompt_tokens.json"
REHEARSAL_FILES = 300  # tests/workflow/test_rehearsal.py: leti hub-standin --files 300


def room(tokens: int, max_length: int, context: int = 2048) -> int:
    from leti.sampling.sampler import DecodingConfig, new_token_budget

    return new_token_budget(tokens, DecodingConfig(max_new_tokens=max_length, max_length=max_length), context)


@pytest.fixture(scope="module")
def standin_counts():
    """{set: {task_id: (CodeGen's tokens, the stand-in's tokens)}} over the fixture's prompts."""
    if not (data_root() / "gsm8k").exists():
        pytest.skip("benchmark data not found")
    from codegen_prompt_tokens import prompt_sets  # tests/fixtures

    from leti.model.standin import python_files, read_sources, standin_tokenizer

    tok, n_english = standin_tokenizer(read_sources(python_files(REHEARSAL_FILES)), data_root=data_root())
    assert n_english > 7000
    real = json.loads(FIXTURE.read_text())["sets"]
    out = {}
    for name, (problems, max_length) in prompt_sets(str(data_root())).items():
        assert real[name]["max_length"] == max_length, f"{name}: the paper preset's budget changed: regenerate the fixture"
        picked = [p for p in problems if p["task_id"] in real[name]["tokens"]]
        ids = tok([p["prompt"] for p in picked], add_special_tokens=False)["input_ids"]
        out[name] = {p["task_id"]: (real[name]["tokens"][p["task_id"]], len(i)) for p, i in zip(picked, ids)}
    return out, real


@pytest.fixture(scope="module", autouse=True)
def _fixtures_on_path():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
    yield
    sys.path.remove(str(Path(__file__).resolve().parents[1] / "fixtures"))


@pytest.mark.slow
def test_standin_prompts_are_as_long_as_codegens_and_get_the_same_room(standin_counts):
    counts, real = standin_counts
    for name, pairs in counts.items():
        assert len(pairs) == len(real[name]["tokens"]), name
        ratio = statistics.median(s / r for r, s in pairs.values())
        assert 0.9 <= ratio <= 1.1, f"{name}: stand-in prompts {ratio:.2f}x CodeGen's"
        max_length = real[name]["max_length"]
        differ = [t for t, (r, s) in pairs.items() if (room(r, max_length) > 0) != (room(s, max_length) > 0)]
        assert len(differ) <= 0.05 * len(pairs), f"{name}: room under CodeGen's and not the stand-in's (or back): {differ}"


@pytest.mark.slow
def test_the_rehearsal_generates_for_every_gsm8k_prompt_codegen_would(standin_counts):
    """The rehearsal samples the first GSM8K problem(s) with max_length 1536; CodeGen leaves each of the
    1,319 test prompts (1,199-1,360 tokens) 128 or 256 new tokens."""
    counts, real = standin_counts
    rehearsal = yaml.safe_load((REPO / "presets" / "rehearsal.yaml").read_text())["benchmarks"]["gsm8k"]
    assert real["gsm8k"]["max"] <= 1408 and room(real["gsm8k"]["max"], 1536) == 128
    for task_id, (r, s) in counts["gsm8k"].items():
        assert room(s, rehearsal["max_length"]) >= rehearsal["max_new_tokens"], (task_id, r, s)
