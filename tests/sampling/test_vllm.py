"""`--engine vllm`: the same semantics as TorchSampler (tests/sampling/vllm_checks.py, run inside the vLLM
environment), the hand-over from the project's environment, and the workflow end to end on CPU (the CI
preset, and the paper-grid rehearsal on the hub stand-ins), without SLURM.

The vLLM environment is built once per checkout (`leti vllm-env`, under .envs/: about 2 minutes and
3.5 GB the first time); every test here is in the slow lane."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MICRO_TEXTS, REPO, data_root

pytestmark = pytest.mark.slow
LETI = str(Path(sys.executable).with_name("leti"))
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


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


# ------------------------------------------------------------------ the workflow, end to end on CPU
def _snakemake(workdir: Path, *args, env=None, timeout=900):
    return subprocess.run(["timeout", "-s", "INT", str(timeout), SNAKEMAKE, "-s", str(REPO / "Snakefile"),
                           "--directory", str(workdir), "--cores", "2", *args], capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
                               **(env or {})})


def _samples(root: Path) -> list[dict]:
    rows = []
    for f in list(root.rglob("samples.jsonl")) + list(root.rglob("draws/*.jsonl")):
        rows += [json.loads(line) for line in f.read_text().splitlines()]
    return rows


def test_ci_preset_end_to_end_with_vllm(vllm_stamp, tmp_path):
    if not (data_root() / "mbpp").exists():
        pytest.skip("benchmark data not found")
    # one arm of the CI grid (two iterations, every benchmark): every kind of sampling job runs under vLLM
    r = _snakemake(tmp_path, "--configfile", str(REPO / "presets" / "ci.yaml"), "--config",
                   f"data_root={data_root()}", "vllm_env=cpu", 'params={"sample": {"engine": "vllm"}}',
                   'include=[{"feedback": "textual", "task": "synth"}]')
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    rows = _samples(tmp_path / "work-ci")
    assert rows and {row["provenance"]["engine"]["name"] for row in rows} == {"vllm"}
    # drawn in the vLLM environment (its transformers), recorded by the job in the project's environment
    assert {row["provenance"]["versions"]["transformers"][:4] for row in rows} == {"5.19"}
    logs = "".join(f.read_text() for f in (tmp_path / "work-ci" / "logs").rglob("*.log"))
    assert "engine vllm:" in logs and "engine hf:" not in logs
    results = tmp_path / "work-ci" / "results"
    metrics = results / "runs/model=tiny/feedback=textual/task=synth/seed=0/iter2/good/metrics.json"
    assert metrics.exists()
    record = json.loads(metrics.with_name("metrics.params.json").read_text())
    assert record["params"]["sample.engine"] == "vllm" and record["params"]["vllm_env"] == "cpu"
    assert (results / "report" / "claims.json").exists()


def test_rehearsal_standins_end_to_end_with_vllm(vllm_stamp, tmp_path):
    """The paper grid's rehearsal on the CodeGen stand-ins, locally, up to one arm's iteration-1 evaluation
    samples: the base from the hub cache, both checkpoints converted to GPT-J, training samples drawn from
    the base and evaluation samples from the trained checkpoint, all with vLLM. (Scoring is the engine-free
    part, left to the SLURM rehearsal, which runs the whole grid with vLLM too.)"""
    if not (data_root() / "mbpp").exists():
        pytest.skip("benchmark data not found")
    hf = tmp_path / "hf"
    subprocess.run([LETI, "hub-standin", "--out", str(hf), "--files", "120"], check=True, capture_output=True,
                   timeout=300)
    env = {"HF_HOME": str(hf), "HF_HUB_OFFLINE": "1", "LETI_DATASETS_MIRROR": str(hf / "datasets")}
    run = "model=350M/feedback=textual/reg=on/postprocess=off/task=mbpp/seed=42"
    target = f"work-rehearsal/eval/runs/{run}/iter1/samples.jsonl"
    # one arm; HumanEval's n=100 at three temperatures would only make the job long (top-p over 51,200
    # logits per token on CPU, either engine)
    override = tmp_path / "override.yaml"
    override.write_text(json.dumps({
        "data_root": str(data_root()), "vllm_env": "cpu",
        "include": [{"model": "350M", "feedback": "textual", "reg": "on", "postprocess": "off", "task": "mbpp"}],
        "benchmarks": {f"humaneval_t0{t}": {"n": 2} for t in (2, 6, 8)}}))
    r = _snakemake(tmp_path, target, "--configfile", str(REPO / "presets" / "rehearsal.yaml"), str(override), env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    rows = _samples(tmp_path / "work-rehearsal")
    assert rows and {row["provenance"]["engine"]["name"] for row in rows} == {"vllm"}
    logs = list((tmp_path / "work-rehearsal").rglob("ckpt-vllm.log"))
    assert len(logs) == 2 and all("codegen->gptj" in f.read_text() for f in logs)  # base and iteration 1
    assert not list((tmp_path / "work-rehearsal").rglob("ckpt-vllm"))  # temporary: deleted after sampling
    evals = [json.loads(line) for line in (tmp_path / target).read_text().splitlines()]
    assert {row["benchmark"] for row in evals} >= {"mbpp", "humaneval_t02", "gsm8k", "bbh_cot"}
