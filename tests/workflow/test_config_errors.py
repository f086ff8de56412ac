"""Every config mistake is caught at planning, before any job, in one line naming the key.

A table of malformed configs (each a class of mistake: the 18 of issue 24 and more), checked in
process (validate_config + Plan, as the Snakefile runs them); then a few through `snakemake -n`
itself (the one line on the terminal, nothing scheduled), the `--config` forms, and hub model ids.
"""
from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from leti.core.errors import UserError
from leti.workflow.checks import coerce_command_line, validate_config
from leti.workflow.plan import Plan

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def _set(path: str, value):
    """A mutation setting `a.b.c` (created where missing) to `value`."""
    def mutate(cfg):
        *head, last = path.split(".")
        node = cfg
        for part in head:
            node = node.setdefault(part, {})
        node[last] = value
    return mutate


def _drop(path: str):
    def mutate(cfg):
        *head, last = path.split(".")
        node = cfg
        for part in head:
            node = node[part]
        del node[last]
    return mutate


# (what, mutation of the default config.yaml, the key the one line must name, more text it must hold)
CASES = [
    # --- issue 24, item 6
    ("unknown key under benchmarks.*.problems", _set("benchmarks.mbpp.problems.splt", "test"),
     "benchmarks.mbpp.problems", "splt"),
    ("unknown key under resources.gpu_rules (gpu_model misspelt)", _set("resources.gpu_rules.gpu_modle", "a100"),
     "resources.gpu_rules", "gpu_modle"),
    ("unknown key under resources.cpu_rules", _set("resources.cpu_rules.threads", 4), "resources.cpu_rules", "threads"),
    ("a hub model id that is no id", _set("params.model.source", "Salesforce//codegen-350M-mono"),
     "params.model.source", "looks like a local path"),
    ("unknown MBPP split", _set("benchmarks.mbpp.problems.split", "tset"), "benchmarks.mbpp.problems.split", "tset"),
    ("HumanEval has only a test split", _set("benchmarks.humaneval.problems.split", "train"),
     "benchmarks.humaneval.problems.split", "'train'"),
    ("unknown EAE split", _set("benchmarks.eae.problems.split", "dev"), "benchmarks.eae.problems.split", "'dev'"),
    ("unknown BBH task", _set("benchmarks.bbh_direct.problems.tasks", ["boolean_expresions"]),
     "benchmarks.bbh_direct.problems.tasks", "boolean_expresions"),
    ("unknown GSM8K style", _set("benchmarks.gsm8k.problems.style", "pall"), "benchmarks.gsm8k.problems.style", "pall"),
    ("unknown BBH style", _set("benchmarks.bbh_cot.problems.style", "chain"), "benchmarks.bbh_cot.problems.style", ""),
    ("a style where there is none", _set("benchmarks.humaneval.problems.style", "leti"),
     "benchmarks.humaneval.problems.style", ""),
    ("tasks of a benchmark without tasks", _set("benchmarks.mbpp.problems.tasks", "navigate"),
     "benchmarks.mbpp.problems.tasks", ""),
    ("temperature: .inf at benchmark level", _set("benchmarks.mbpp.temperature", math.inf),
     "benchmarks.mbpp.temperature", ""),
    ("temperature: .nan", _set("benchmarks.mbpp.temperature", math.nan), "benchmarks.mbpp.temperature", ""),
    ("top_p: -1 at benchmark level", _set("benchmarks.humaneval.top_p", -1), "benchmarks.humaneval.top_p", ""),
    ("top_p above 1", _set("benchmarks.humaneval.top_p", 1.5), "benchmarks.humaneval.top_p", ""),
    ("vocab_size: 5", _set("params.model.tokenizer.vocab_size", 5), "params.model.tokenizer.vocab_size", "257"),
    ("absurdly large train.steps", _set("params.train.steps", 10**9), "params.train.steps", ""),
    ("absurdly large sample.n", _set("params.sample.n", 10**9), "params.sample.n", ""),
    ("absurdly large benchmark n", _set("benchmarks.synth_test.n", 10**8), "benchmarks.synth_test.n", ""),
    ("absurdly large pre-training steps", _set("params.model.pretrain.steps", 10**12), "params.model.pretrain.steps", ""),
    ("a dotted key at the top level", lambda c: c.update({"params.train.steps": 100}), "params.train.steps",
     "params={train: {steps: 100}}"),
    # --- resources and the cluster
    ("gpu_model without GPUs", _set("resources.gpu_rules.gpu_model", "a100"), "resources.gpu_rules.gpu_model", "gpus"),
    ("a GPU asked for by CPU rules", _set("resources.cpu_rules.gpus", 1), "resources.cpu_rules", ""),
    ("a malformed GPU type", lambda c: c["resources"]["gpu_rules"].update(gpus=1, gpu_model="a100 --x"),
     "resources.gpu_rules.gpu_model", ""),
    ("slurm_extra with a flag the plugin sets", _set("resources.gpu_rules.slurm_extra", "--partition=big"),
     "resources.gpu_rules.slurm_extra", "--partition"),
    ("cpus_per_task and cpus_per_gpu together", lambda c: c["resources"]["gpu_rules"].update(
        gpus=1, cpus_per_task=4, cpus_per_gpu=4), "resources.gpu_rules", "exclude"),
    ("runtime as text", _set("resources.gpu_rules.runtime", "2h"), "resources.gpu_rules.runtime", ""),
    ("no memory", _set("resources.cpu_rules.mem_mb", 0), "resources.cpu_rules.mem_mb", ""),
    ("a missing partition", _drop("resources.gpu_partition"), "resources", "gpu_partition"),
    # --- the grid
    ("a negative seed", _set("seeds", [-1]), "seeds", ""),
    ("a seed listed twice", _set("seeds", [0, 0]), "seeds", "more than once"),
    ("no threads", _set("threads", 0), "threads", ""),
    ("checkpoint_sampling: joint (removed)", _set("checkpoint_sampling", "joint"), "checkpoint_sampling", "separate"),
    ("a vllm_env that is no environment", _set("vllm_env", "cdua"), "vllm_env", "neither auto, cpu, cuda"),
    ("an empty vllm_env", _set("vllm_env", ""), "vllm_env", ""),
    ("an axis overriding a missing parameter", _set("axes.reg.off", {"train.reg_ratoi": 0}), "axes.reg.off",
     "train.reg_ratoi"),
    ("an axis value of the wrong type", _set("axes.reg.off", {"train.reg_ratio": "none"}), "params.train.reg_ratio",
     "axes.reg.off"),
    ("an unknown axis in `only`", _set("benchmarks.mbpp.only", {"feedbak": "textual"}), "benchmarks.mbpp.only", ""),
    ("an iteration that is no iteration", _set("benchmarks.mbpp.iterations", [0, "lats"]),
     "benchmarks.mbpp.iterations", "lats"),
    ("an iteration beyond the loop", _set("benchmarks.mbpp.iterations", [0, 5]), "benchmarks.mbpp.iterations",
     "beyond"),
    ("an unknown conditioning", _set("benchmarks.mbpp.conditionings", ["gud"]), "benchmarks.mbpp.conditionings", ""),
    ("a benchmark without n", _drop("benchmarks.mbpp.n"), "benchmarks.mbpp", "'n'"),
    ("max_new_tokens 0", _set("benchmarks.gsm8k.max_new_tokens", 0), "benchmarks.gsm8k.max_new_tokens", ""),
    ("a problem limit of 0", _set("benchmarks.mbpp.problems.limit", 0), "benchmarks.mbpp.problems.limit", ""),
    ("an unknown synthetic file", _set("benchmarks.synth_test.problems.file", "tset"),
     "benchmarks.synth_test.problems.file", "tset"),
    ("a synthetic benchmark without file", _drop("benchmarks.synth_test.problems.file"), "benchmarks.synth_test.problems",
     "file"),
    ("a real benchmark without benchmark", _drop("benchmarks.mbpp.problems.benchmark"), "benchmarks.mbpp.problems",
     "benchmark"),
    ("an unknown benchmark", _set("benchmarks.mbpp.problems.benchmark", "mbppx"), "benchmarks.mbpp.problems.benchmark",
     "mbppx"),
    # --- parameters
    ("lr: .inf", _set("params.train.lr", math.inf), "params.train.lr", ""),
    ("lr as text", _set("params.train.lr", "fast"), "params.train.lr", "'fast'"),
    ("steps 0", _set("params.train.steps", 0), "params.train.steps", ""),
    ("a micro batch that does not divide the batch", _set("params.train.micro_batch_size", 7),
     "params.train.batch_size", "micro_batch_size"),
    ("heads that do not divide the width", _set("params.model.pretrain.n_head", 3), "params.model.pretrain.n_embd",
     "n_head"),
    ("a zero timeout", _set("params.execute.timeout", 0), "params.execute.timeout", ""),
    ("an unknown parameter", _set("params.train.learning_rate", 1e-3), "params.train", "learning_rate"),
    ("an unknown sampling engine", _set("params.sample.engine", "vllm2"), "params.sample.engine", "vllm2"),
    ("an engine axis with an unknown engine", _set("axes.reg.off", {"sample.engine": "VLLM"}), "params.sample.engine",
     "axes.reg.off"),
    ("an unknown feedback type", _set("params.fcft.feedback_type", "verbal"), "params.fcft.feedback_type", ""),
    ("no conditioning offered", _set("params.eval.conditionings", []), "params.eval.conditionings", ""),
    ("a missing data root", _set("data_root", "/nonexistent/leti-data"), "benchmarks.mbpp", "data_root"),
]


def _default() -> dict:
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    cfg["data_root"] = os.environ.get("LETI_DATA_ROOT") or str(REPO.parent / "shared" / "data")
    return cfg


def _reject(cfg: dict) -> str:
    with pytest.raises(UserError) as exc:
        validate_config(cfg)
        Plan(cfg)
    return str(exc.value)


@pytest.mark.parametrize("what, mutate, key, text", CASES, ids=[c[0] for c in CASES])
def test_a_malformed_config_is_rejected_at_planning_in_one_line_naming_the_key(what, mutate, key, text):
    cfg = _default()
    mutate(cfg)
    msg = _reject(cfg)
    assert "\n" not in msg and key in msg and text in msg, (what, msg)


def test_the_table_covers_issue_24s_classes_and_more():
    assert len(CASES) >= 18 + 20
    assert len({c[0] for c in CASES}) == len(CASES)


def test_the_default_and_every_preset_are_valid():
    for name in ("config.yaml", "presets/ci.yaml", "presets/paper.yaml", "presets/rehearsal.yaml"):
        cfg = yaml.safe_load((REPO / name).read_text())
        cfg["data_root"] = _default()["data_root"]
        validate_config(cfg, name)


# ------------------------------------------------------------------ through snakemake -n
def _snakemake(*args, env=None, cwd=REPO):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", **(env or {})}
    return subprocess.run([SNAKEMAKE, "-n", *args], cwd=cwd, capture_output=True, text=True, timeout=180, env=env)


def _one_line(r) -> str:
    lines = [line for line in (r.stdout + r.stderr).splitlines() if line.startswith("config error")]
    assert r.returncode != 0 and len(lines) == 1, (r.stdout[-1500:], r.stderr[-2500:])
    assert "rule " not in r.stdout and "Traceback" not in r.stderr
    return lines[0]


def test_dotted_config_on_the_command_line_says_how_to_write_it(tmp_path):
    line = _one_line(_snakemake("--config", "params.train.steps=100", "--directory", str(tmp_path)))
    assert "params.train.steps" in line and "--config 'params={train: {steps: 100}}'" in line, line


def test_the_nested_config_form_overrides_one_parameter(tmp_path):
    """`--config 'params={train: {steps: 100}}'` merges into the config file; values are read as YAML."""
    r = _snakemake("--configfile", str(REPO / "presets" / "ci.yaml"), "--directory", str(tmp_path), "--quiet", "rules",
                   "--config", f"data_root={_default()['data_root']}", "params={train: {steps: 100}}", "seeds=[0, 1]")
    assert r.returncode == 0, r.stderr[-2000:]
    cfg = yaml.safe_load((REPO / "presets" / "ci.yaml").read_text())
    over = {"params": {"train": {"steps": "100"}}, "seeds": ["0", "1"], "data_root": "x"}  # as Snakemake hands it over
    cfg["params"]["train"]["steps"], cfg["seeds"], cfg["data_root"] = "100", ["0", "1"], "x"
    coerce_command_line(cfg, over)
    assert cfg["params"]["train"]["steps"] == 100 and cfg["seeds"] == [0, 1] and cfg["data_root"] == "x"
    assert cfg["params"]["train"]["lr"] == 1.0e-3  # the rest of the file's params stay


def test_a_malformed_config_through_snakemake_is_one_line(tmp_path):
    cfg = _default()
    cfg["benchmarks"]["humaneval"]["top_p"] = -1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert "benchmarks.humaneval.top_p" in _one_line(_snakemake("--configfile", str(path), "--directory", str(tmp_path)))


# ------------------------------------------------------------------ hub model ids
def _paper_like(source: str) -> dict:
    cfg = copy.deepcopy(_default())
    cfg["params"]["model"]["source"] = source
    cfg["params"]["model"]["tokenizer"]["vocab_size"] = 0
    return cfg


def _fake_cache(home: Path, repo_id: str) -> None:
    """The layout huggingface_hub's cache uses for one cached config.json."""
    repo = home / "hub" / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    snap = repo / "snapshots" / ("0" * 40)
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps({"model_type": "codegen"}))


def test_a_hub_model_not_in_the_offline_cache_is_one_line_at_planning(tmp_path):
    home = tmp_path / "hf"
    _fake_cache(home, "Salesforce/codegen-350M-mono")
    env = {"HF_HOME": str(home), "HF_HUB_OFFLINE": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for source, ok in (("Salesforce/codegen-350M-mono", True), ("Salesforce/codegen-350M-mnoo", False)):
        path = tmp_path / "cfg.yaml"
        path.write_text(yaml.safe_dump(_paper_like(source)))
        r = _snakemake("--configfile", str(path), "--directory", str(tmp_path), "--quiet", "rules", env=env)
        if ok:
            assert r.returncode == 0, r.stderr[-2000:]
        else:
            line = _one_line(r)
            assert "params.model.source" in line and "codegen-350M-mnoo" in line and str(home) in line, line


def test_a_hub_model_id_is_checked_online_once(tmp_path, monkeypatch):
    """Online: one question to the hub; 'no such model' is one line, an answer is remembered, and a hub that
    does not answer is not asked again for an hour (planning must not wait on a network that is not there)."""
    from leti.workflow import hub

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    asked = []
    answers = {"Salesforce/codegen-350M-mono": True, "Salesforce/codegen-350M-mnoo": False, "org/unreachable": None}
    monkeypatch.setattr(hub, "ask_hub", lambda repo: asked.append(repo) or answers[repo])
    with pytest.raises(UserError, match=r"params.model.source: no model 'Salesforce/codegen-350M-mnoo' on the"):
        hub.check_hub_models(_paper_like("Salesforce/codegen-350M-mnoo"))
    for _ in range(2):
        hub.check_hub_models(_paper_like("Salesforce/codegen-350M-mono"))
    assert asked.count("Salesforce/codegen-350M-mono") == 1  # remembered
    for _ in range(2):
        hub.check_hub_models(_paper_like("org/unreachable"))
    assert asked.count("org/unreachable") == 1  # not asked again while the hub is quiet
