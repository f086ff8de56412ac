"""Stage keys: two arms share an artefact's path only when they would write the same bytes.

Every shared stage (hub corpora, training problems, the base, its held-out loss and evaluation,
iteration-1 samples) is keyed by everything that changes its outputs; `Catalog` checks every run's
jobs against the job already planned at the same path and refuses a plan where two differ."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from leti.core.errors import UserError
from leti.workflow import plan as plan_module
from leti.workflow.freshness import Catalog, flatten
from leti.workflow.params import Params
from leti.workflow.plan import Plan
from synthclone import REPO, ci_config, snakemake_n


def paper(**axes) -> dict:
    cfg = yaml.safe_load(open(REPO / "presets" / "paper.yaml"))
    cfg["axes"] = {"model": {"350M": {}}, **axes}
    cfg["exclude"] = []
    return cfg


def jobs_of(cat: Catalog, rule: str) -> list:
    return cat.of_rule(rule)


@pytest.mark.parametrize("key,values", [("task.pretrain_files", (1000, 50000)),
                                        ("task.heldout_split", ("datasets", "shuffle")),
                                        ("task.pretrain_data_dir", ("data/python", "data/java"))])
def test_hub_corpus_params_key_the_corpus_and_the_held_out_loss(key, values):
    cfg = paper(corpus={str(v): {key: v} for v in values})
    cat = Catalog(Plan(cfg))
    corpora = jobs_of(cat, "pretrain_corpus")
    assert len(corpora) == 2 and len({j.outputs[0] for j in corpora}) == 2
    assert {j.own[key] for j in corpora} == set(values)
    # the base (a hub model) does not read the corpus: one; its held-out loss reads it: one per corpus
    assert len(jobs_of(cat, "init_model")) == 1
    assert len({j.outputs[0] for j in jobs_of(cat, "heldout_loss")}) == 2
    # and what reads each corpus reads its own
    plan = cat.plan
    assert len({plan.pretrain_corpus(r) for r in plan.runs}) == 2


def test_an_eae_style_axis_builds_two_training_sets():
    cfg = ci_config()
    cfg["axes"]["task"] = {"full": {"task.train": "eae", "task.eae_style": "full", "sample.postprocess": "eae"},
                           "compact": {"task.train": "eae", "task.eae_style": "compact", "sample.postprocess": "eae"}}
    cfg["exclude"] = []
    cat = Catalog(Plan(cfg))
    data = jobs_of(cat, "train_data")
    assert sorted(j.wildcards["task"] for j in data) == ["eae-compact", "eae-full"]
    assert sorted(j.own["task.eae_style"] for j in data) == ["compact", "full"]


def test_a_corpus_axis_keys_the_tiny_base_and_its_evaluation(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"text": "def f(): pass"}\n')
    cfg = ci_config()
    cfg["axes"] = {"corpus": {"synth": {}, "mine": {"task.pretrain_corpus": str(corpus)}}}
    cfg.pop("exclude")
    cat = Catalog(Plan(cfg))
    assert len(jobs_of(cat, "pretrain")) == 2 and len(jobs_of(cat, "tokenizer")) == 2
    assert len({j.outputs[0] for j in jobs_of(cat, "eval_sample") if j.wildcards["it"] == "0"}) == 2


def test_the_base_held_out_loss_is_keyed_by_the_held_out_shard_not_by_evaluation_axes(tmp_path):
    held = tmp_path / "held.jsonl"
    held.write_text('{"text": "x = 1"}\n')
    cfg = ci_config()
    cfg["axes"] = {"held": {"synth": {}, "mine": {"task.heldout_corpus": str(held)}},
                   "strip": {"exact": {}, "lstrip": {"eval.strip_mode": "lstrip"}}}
    cfg.pop("exclude")
    cat = Catalog(Plan(cfg))
    base_loss = {j.outputs[0] for j in jobs_of(cat, "heldout_loss")}
    assert len(base_loss) == 2 and all("strip=" not in p for p in base_loss)


# strings without an enum: a value of the right kind each
STRINGS = {"task.pretrain_corpus": "/data/corpus.jsonl", "task.heldout_corpus": "/data/heldout.jsonl",
           "task.pretrain_data_dir": "data/java", "model.source": "Salesforce/codegen-350M-mono",
           "execute.python": "/usr/bin/python3"}


def _alternatives(key: str, value, schema: dict) -> list:
    """Other valid values for a parameter, from its JSON schema (enum, type) or its value's type."""
    enum = [v for v in schema.get("enum", []) if v != value]
    if enum:
        return enum[:1]
    if key in STRINGS:
        return [STRINGS[key]]
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1, value * 2]
    if isinstance(value, float):
        return [value / 2, value + 0.5]
    if isinstance(value, list) and value and all(isinstance(v, float) for v in value):
        return [[v / 2 for v in value]]
    if value is None:  # an optional parameter: a value of its type
        types = schema.get("type") or [t for s in schema.get("anyOf", []) for t in [s.get("type")]]
        types = types if isinstance(types, list) else [types]
        return [c for t, c in (("boolean", True), ("integer", 64), ("number", 1.0)) if t in types]
    return []


def _leaf_schemas(schema: dict, prefix: str = "") -> dict:
    out = {}
    for k, sub in (schema.get("properties") or {}).items():
        key = f"{prefix}.{k}" if prefix else k
        if sub.get("type") == "object" and "properties" in sub:
            out.update(_leaf_schemas(sub, key))
        else:
            out[key] = sub
    return out


def test_no_single_parameter_axis_makes_two_arms_write_one_path():
    """The class, not the examples: for every parameter, an axis of two values that differ only in it
    plans without a shared job being told two things (Catalog refuses that plan)."""
    from leti.workflow.checks import config_schema

    base = ci_config()
    base["axes"] = {"model": {"tiny": {}}}
    base.pop("exclude")
    defaults = flatten("p", Params.from_dict(base["params"]).to_dict())
    leaves = _leaf_schemas(config_schema()["properties"]["params"])
    tried = 0
    for dotted, value in sorted(defaults.items()):
        key = dotted[2:]
        for alt in _alternatives(key, value, leaves.get(key, {})):
            cfg = copy.deepcopy(base)
            cfg["axes"]["x"] = {"a": {}, "b": {key: alt}}
            try:
                plan = Plan(cfg)
            except UserError:
                continue  # not a valid value here (a range, a cross-field rule): try the next
            Catalog(plan)  # raises on a path shared by two runs that would write it differently
            tried += 1
            break
    assert tried >= 75, tried  # of 78 (eval.conditionings and micro_batch_size: no simple other value)


def test_a_stage_keyed_by_too_few_parameters_is_refused(monkeypatch):
    cfg = ci_config()
    cfg["axes"] = {"model": {"tiny": {}}, "steps": {"a": {}, "b": {"model.pretrain.steps": 61}}}
    cfg.pop("exclude")
    monkeypatch.setitem(plan_module.STAGE_NAMESPACES, "base", ("model.tokenizer",))
    with pytest.raises(UserError, match=r"two runs would write .*base/default/ckpt \(pretrain\) differently "
                                        r"\(model.pretrain.steps\)"):
        Catalog(Plan(cfg))


def test_no_benchmark_at_iteration_zero_still_plans_the_base_held_out_loss(tmp_path):
    """heldout_loss on measures every checkpoint, the base too, whatever the benchmarks' iterations."""
    cfg = ci_config()
    cfg["benchmarks"]["synth_test"]["iterations"] = [1, "last"]
    cat = Catalog(Plan(cfg))
    assert not [j for j in jobs_of(cat, "eval_sample") if j.wildcards["it"] == "0"]
    assert len(jobs_of(cat, "heldout_loss")) == 1
    r = snakemake_n(tmp_path, cfg)
    assert r.returncode == 0, (r.stdout[-1500:], r.stderr[-1500:])
    assert "rule heldout_loss:" in r.stdout
