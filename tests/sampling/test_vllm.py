"""`--engine vllm`: the same semantics as TorchSampler (tests/sampling/vllm_checks.py, run inside the vLLM
environment, one engine start). The workflow with vLLM end to end: the CI preset in
tests/workflow/test_workflow_e2e.py (its finished run switched to vLLM), the paper grid's rehearsal on the
hub stand-ins in tests/workflow/test_rehearsal.py (presets/rehearsal.yaml samples with vLLM, as the paper).

The vLLM environment is built once per machine and user (`leti vllm-env`, in ~/.cache/leti/envs: a few
minutes and 3.5 GB the first time); every test here is in the slow lane."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MICRO_TEXTS, REPO

pytestmark = [pytest.mark.slow, pytest.mark.vllm]
LETI = str(Path(sys.executable).with_name("leti"))


@pytest.fixture(scope="session")
def vllm_stamp(tmp_path_factory) -> Path:
    stamp = tmp_path_factory.mktemp("vllm-env") / "vllm.json"
    r = subprocess.run([LETI, "vllm-env", "--env", "cpu", "--out", str(stamp)], capture_output=True, text=True,
                       timeout=1500)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return stamp


@pytest.fixture(scope="session")
def peaked_checkpoint(tmp_path_factory) -> Path:
    """A 1-layer GPT-2 with one 32-channel head (vLLM's smallest on CPU) and a peaked next-token
    distribution (scaled embedding), so that sampling-distribution checks have power."""
    import torch

    from leti.model.checkpoint import save_checkpoint
    from leti.model.pretrain import tiny_gpt2
    from leti.model.tokenizer import train_bpe_tokenizer

    tok = train_bpe_tokenizer(MICRO_TEXTS, vocab_size=300)
    torch.manual_seed(0)
    model = tiny_gpt2(len(tok), n_layer=1, n_embd=32, n_head=1, eos_id=tok.eos_token_id)
    with torch.no_grad():
        model.transformer.wte.weight.mul_(12)
    return save_checkpoint(tmp_path_factory.mktemp("peaked") / "ckpt", model, tok, meta={"global_step": 0})


@pytest.fixture(scope="session")
def checks(vllm_stamp, peaked_checkpoint) -> dict:
    python = json.loads(vllm_stamp.read_text())["python"]
    r = subprocess.run([python, str(REPO / "tests" / "sampling" / "vllm_checks.py"), str(peaked_checkpoint)],
                       capture_output=True, text=True, timeout=600, cwd=REPO,
                       env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-4000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_greedy_decoding_equals_torch_sampler(checks):
    assert checks["greedy_vllm"] == checks["greedy_hf"]
    assert all(len(set(row)) == 1 and len(row) == 3 for row in checks["greedy_vllm"])  # n copies of one decode
    assert checks["top_p_tiny_vllm"] == [row[:2] for row in checks["greedy_hf"]]  # top-p keeps only the best
    for name in ("plain", "clean_up", "budget"):
        pair = checks[f"greedy_many_{name}"]
        assert len(pair["hf"]) == 27 and pair["vllm"] == pair["hf"], name
    assert any(len(row[0]) > 20 for row in checks["greedy_many_plain"]["hf"])  # real text, not EOS at once


def test_samples_depend_on_seed_and_key_not_on_batch(checks):
    hot = checks["hot"]
    assert len(hot) == 3 and all(len(row) == 4 and len(set(row)) > 1 for row in hot)
    assert checks["hot_again"] == hot
    assert checks["hot_regrouped"] == [hot[2], hot[0]]
    assert checks["hot_seed8"] != hot


def test_stop_sequences_cut_the_same_draws(checks):
    stops = checks["stops"]
    assert stops
    for full_row, cut_row in zip(checks["hot"], checks["hot_stopped"]):
        for full, cut in zip(full_row, cut_row):
            ends = [full.find(s) for s in stops if s in full]
            assert cut == (full[: min(ends)] if ends else full)


def test_total_length_budget_and_no_room(checks):
    assert checks["budgets_vllm"] == checks["budgets_hf"]
    (short_tokens, short_budget), (long_tokens, long_budget) = checks["budgets_vllm"]
    assert short_budget == 160 - 128 and long_tokens > 160 and long_budget == 0
    assert checks["budget_samples"][1] == ["", ""]  # no room: empty samples, the prompt never cut
    assert 8 * short_budget / 2 < checks["budget_new_tokens"] <= 8 * short_budget


def test_sampling_distribution_matches_the_model(checks):
    """The first new token, 4,000 draws per engine, against the exact tempered / top-p distribution."""
    for name, d in checks["distribution"].items():
        assert d["vllm"]["cells"] > 5, name  # a real distribution, not a point mass
        for engine in ("vllm", "hf"):
            assert abs(d[engine]["z"]) < 5, (name, engine, d)
            assert d[engine]["outside"] == 0, (name, engine, d)  # top-p: nothing outside the nucleus


def test_rehearsal_standins_sample_with_vllm(vllm_stamp, tmp_path):
    """The paper preset's vLLM path on the CodeGen stand-ins (the SLURM rehearsal samples with TorchSampler
    to keep CI short): one arm of presets/rehearsal.yaml up to its iteration-1 training samples, locally:
    the base from the hub cache, converted to GPT-J (vllm_model), sampled in the vLLM environment."""
    from conftest import data_root

    if not (data_root() / "mbpp").exists():
        pytest.skip("benchmark data not found")
    hf = tmp_path / "hf"
    subprocess.run([LETI, "hub-standin", "--out", str(hf), "--files", "120"], check=True, capture_output=True,
                   timeout=300)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "HF_HOME": str(hf),
           "HF_HUB_OFFLINE": "1", "LETI_DATASETS_MIRROR": str(hf / "datasets")}
    override = tmp_path / "override.yaml"
    override.write_text(json.dumps({
        "data_root": str(data_root()), "vllm_env": "cpu",
        "include": [{"model": "350M", "feedback": "textual", "reg": "on", "postprocess": "off", "task": "mbpp"}]}))
    r = subprocess.run(["timeout", "-s", "INT", "900", str(Path(sys.executable).with_name("snakemake")),
                        "--directory", str(tmp_path), "--cores", "2", "--configfile",
                        str(REPO / "presets" / "rehearsal.yaml"), str(override), "--until", "sample_train"],
                       cwd=REPO, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    work = tmp_path / "work-rehearsal"
    samples = [f for f in work.rglob("samples.jsonl") if "/loop/" in str(f)]
    assert samples, "no training samples drawn"
    rows = [json.loads(line) for f in samples for line in f.read_text().splitlines()]
    assert rows and {row["provenance"]["engine"]["name"] for row in rows} == {"vllm"}
    logs = list(work.rglob("ckpt-vllm.log"))
    assert logs and all("codegen->gptj" in f.read_text() for f in logs)  # the base, converted
