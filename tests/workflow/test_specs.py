"""Job specs built from the plan (leti.workflow.specs): the experiment's rules that are not paths."""
from __future__ import annotations

import json
import shlex

import pytest
import yaml
from conftest import REPO

from leti.workflow import specs
from leti.workflow.plan import PATHS, Plan


@pytest.fixture(scope="module")
def plan():
    return Plan(yaml.safe_load((REPO / "config.yaml").read_text()))


@pytest.fixture(scope="module")
def paper():
    return Plan(yaml.safe_load((REPO / "presets" / "paper.yaml").read_text()))


def _run(plan, rid):
    return plan.by_id[rid]


def test_sampling_seed_is_seed_times_1000_plus_iteration(plan):
    run = plan.runs[0]
    assert specs.sampling_seed(run, 3) == 3 and specs.train_sample_item(plan, run, 2)["seed"] == 2
    assert all(i["seed"] == 1 for i in specs.eval_sample_spec(plan, run, 1))
    seeded = Plan({**plan.config, "seeds": [7]})
    assert specs.train_sample_item(seeded, seeded.runs[0], 2)["seed"] == 7002


def test_iteration_one_samples_the_base_without_a_reward_token(plan):
    textual = plan.runs[0]
    assert specs.train_sample_item(plan, textual, 1)["conditioning"] == "none"
    assert specs.train_sample_item(plan, textual, 2)["conditioning"] == "good"
    control = _run(plan, "model=tiny/feedback=none/reg=on/seed=0")
    assert {specs.train_sample_item(plan, control, it)["conditioning"] for it in (1, 2, 3)} == {"none"}


def test_train_sample_item_carries_the_run_sampling_parameters(plan):
    item = specs.train_sample_item(plan, plan.runs[0], 2)
    s = plan.runs[0].params["sample"]
    assert item == {"problems": plan.train_problems(plan.runs[0]), "n": s["n"], "temperature": s["temperature"],
                    "top_p": s["top_p"], "max_new_tokens": s["max_new_tokens"], "batch_size": s["batch_size"],
                    "seed": 2, "conditioning": "good", "limit": None}


def test_eval_sample_spec_lists_every_benchmark_under_every_conditioning(plan):
    run = plan.runs[0]
    items = specs.eval_sample_spec(plan, run, 3)
    by_cond = {}
    for i in items:
        by_cond.setdefault(i["conditioning"], []).append(i["benchmark"])
    assert by_cond["bad"] == ["synth_test"]
    # the poster's transfer/retention/HumanEval/GSM8K/BBH rows are compared with no token: evaluated under both
    assert by_cond["none"] == ["synth_test", "synth_transfer", "synth_retention", "humaneval", "gsm8k", "bbh_direct",
                               "bbh_cot"]
    assert by_cond["good"] == plan.benchmarks_at(run, 3, "good")
    hum = next(i for i in items if i["benchmark"] == "humaneval")
    assert hum["top_p"] == 0.95 and hum["limit"] is None and hum["problems"] == plan.path("bench_problems", bench="humaneval")
    assert specs.eval_bench_problems(plan, run, 1) == sorted({i["problems"] for i in specs.eval_sample_spec(plan, run, 1)})


def test_eval_score_spec_uses_the_run_evaluator_limits(paper):
    run = paper.runs[0]
    spec = specs.eval_score_spec(paper, run, 0, "none")
    assert {s["benchmark"] for s in spec} == set(paper.config["benchmarks"])
    # the original evaluator: no per-program memory limit, the faithful verdict (issues #22, #23)
    assert all(s["timeout"] == 5.0 and s["memory_mb"] is None and s["workers"] == 16 and s["verdict"] == "faithful"
               for s in spec)


def test_eval_meta_of_the_base_names_only_the_axes_it_depends_on(paper):
    run = paper.runs[0]
    meta0 = specs.eval_meta(paper, run, paper.eval_key(run, 0), 0, "none")
    assert meta0["axes"] == {"model": "350M"} and meta0["iteration"] == 0 and meta0["seed"] == 42
    meta1 = specs.eval_meta(paper, run, paper.eval_key(run, 1), 1, "good")
    assert meta1["axes"] == run.axes


def test_leti_data_arguments(plan, paper):
    assert shlex.split(specs.bench_data_args(plan.config, "eae")) == [
        "--benchmark", "eae", "--split", "test", "--limit", "4", "--style", "compact"]
    assert shlex.split(specs.bench_data_args(plan.config, "bbh_cot")) == [
        "--benchmark", "bbh", "--split", "test", "--style", "cot", "--limit", "1"]
    assert specs.train_data_args(paper.runs[0].params["task"]) == "--benchmark mbpp --split train"
    eae = next(r for r in paper.runs if r.params["task"]["train"] == "eae")  # the run's style, not the global one
    assert specs.train_data_args(eae.params["task"]) == "--benchmark eae --split train --style full"
    assert specs.train_data_args({"train": "eae", "eae_style": "compact"}) == "--benchmark eae --split train --style compact"


def test_fcft_and_programs_flags(paper):
    pp = next(r for r in paper.runs if r.axes.get("postprocess") == "on")
    # the paper's "trained w/ post-processing" runs cut their solutions with the original's regex; the
    # +postprocess+langfb one also turns what was cut off into feedback
    assert specs.fcft_args(pp) == "--feedback-type textual --postprocess mbpp --postprocess-mode leti"
    assert specs.programs_args(pp) == "--postprocess --postprocess-mode leti"
    langfb = next(r for r in paper.runs if r.axes.get("postprocess") == "langfb")
    assert specs.fcft_args(langfb) == ("--feedback-type textual --postprocess mbpp --postprocess-mode leti "
                                       "--postprocess-feedback")
    binary = next(r for r in paper.runs if r.axes["feedback"] == "binary")
    assert specs.fcft_args(binary) == "--feedback-type binary" and specs.programs_args(binary) == ""


def test_as_json_is_one_shell_word_with_sorted_keys():
    quoted = specs.as_json({"b": "it's", "a": 1})
    (word,) = shlex.split(quoted)
    assert json.loads(word) == {"a": 1, "b": "it's"} and word.index('"a"') < word.index('"b"')


def test_resources_route_to_partitions(paper):
    gpu, cpu = specs.gpu_resources(paper.config), specs.cpu_resources(paper.config)
    assert gpu["slurm_partition"] == "gpu" and gpu["gpu"] == 1 and cpu["slurm_partition"] == "cpu"
    tiny = yaml.safe_load((REPO / "config.yaml").read_text())
    assert "gpu" not in specs.gpu_resources(tiny)


def test_paths_and_patterns_agree(plan):
    for name in PATHS:
        pattern = plan.pattern(name)
        assert "{work}" not in pattern and "{results}" not in pattern
    assert plan.pattern("ckpt") == "work/loop/{rid}/iter{it}/ckpt"
    assert plan.pattern("heldout_loss", ek="runs/{rid}") == "results/runs/{rid}/iter{it}/heldout_loss.json"
    run = plan.runs[0]
    assert plan.ckpt(run, 2) == plan.pattern("ckpt").format(rid=run.id, it=2)
    assert plan.heldout_loss(run, 1) == plan.pattern("heldout_loss", ek="runs/{rid}").format(rid=run.id, it=1)
