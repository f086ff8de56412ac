"""Config dataclasses: one source for each parameter's name, type, range and default."""
from __future__ import annotations

import copy
import dataclasses
import typing

import jsonschema
import pytest
import yaml
from conftest import REPO

from leti.core.config import Config, _args_without_none, json_schema
from leti.core.errors import UserError
from leti.fcft.config import TrainConfig
from leti.workflow.checks import config_schema
from leti.workflow.params import Params

PRESETS = [REPO / "config.yaml", REPO / "presets" / "paper.yaml", REPO / "presets" / "ci.yaml"]


def _configs():
    for cls in [Params]:
        stack = [cls]
        while stack:
            c = stack.pop()
            yield c
            for f in dataclasses.fields(c):
                tp = typing.get_type_hints(c)[f.name]
                if isinstance(tp, type) and issubclass(tp, Config):
                    stack.append(tp)


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.name)
def test_presets_build_their_params(path):
    params = Params.from_dict(yaml.safe_load(path.read_text())["params"])
    assert params.train.batch_size % params.train.micro_batch_size == 0


@pytest.mark.parametrize("section, key, value, message", [
    ("train", "lr", "fast", "params.train.lr: expected a number"),
    ("train", "steps", 0, "params.train.steps: must be >= 1"),
    ("train", "steps", -5, "params.train.steps: must be >= 1"),
    ("train", "reg_ratio", -1, "params.train.reg_ratio: must be >= 0"),
    ("train", "shuffle", "yes", "params.train.shuffle: expected true or false"),
    ("train", "micro_batch_size", 5, "must be a multiple of params.train.micro_batch_size"),
    ("sample", "top_p", 0, "params.sample.top_p: must be > 0"),
    ("sample", "n", 2.5, "params.sample.n: expected an integer"),
    ("execute", "timeout", 1e12, "params.execute.timeout: must be <= 3600"),
    ("fcft", "feedback_type", "text", "params.fcft.feedback_type: expected one of"),
    ("eval", "conditionings", [], "params.eval.conditionings: needs at least 1"),
    ("loop", "iterations", True, "params.loop.iterations: expected an integer"),
])
def test_bad_values_are_one_line_errors_naming_the_field(section, key, value, message):
    params = yaml.safe_load((REPO / "config.yaml").read_text())["params"]
    params[section][key] = value
    with pytest.raises(UserError) as exc:
        Params.from_dict(params)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_unknown_keys_are_named():
    with pytest.raises(UserError, match=r"params.model.pretrain: unknown key\(s\) \['stepz'\]"):
        Params.from_dict({"model": {"pretrain": {"stepz": 1}}})


def test_every_field_has_a_type_and_numbers_a_range():
    for cls in _configs():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            tp = hints[f.name]
            assert tp is not typing.Any, f"{cls.__name__}.{f.name}"
            base, _ = _args_without_none(tp)
            if base[0] in (int, float) and f.name not in ("seed", "synth_seed", "pretrain_seed"):
                m = f.metadata
                assert any(m.get(k) is not None for k in ("minimum", "exclusive_minimum")), f"{cls.__name__}.{f.name}"


def test_schema_is_generated_from_the_dataclasses():
    schema = config_schema()["properties"]["params"]
    assert schema == json_schema(Params)
    train = schema["properties"]["train"]["properties"]
    for f in dataclasses.fields(TrainConfig):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        assert train[f.name]["default"] == (list(default) if isinstance(default, tuple) else default), f.name
    assert train["lr"]["exclusiveMinimum"] == 0 and train["schedule"]["enum"] == ["constant", "cosine"]


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.name)
def test_schema_and_dataclasses_agree_on_presets_and_mutations(path):
    """Whatever the dataclasses reject, the schema rejects too (and the other way round)."""
    config = yaml.safe_load(path.read_text())
    validator = jsonschema.Draft202012Validator(config_schema())
    assert not list(validator.iter_errors(config))
    for section, key, value in [("train", "lr", "fast"), ("train", "steps", 0), ("sample", "conditioning", "meh"),
                                ("execute", "memory_mb", 1), ("task", "train", "x"), ("model", "source", 3)]:
        bad = copy.deepcopy(config)
        bad["params"][section][key] = value
        assert list(validator.iter_errors(bad)), (section, key, value)
        with pytest.raises(UserError):
            Params.from_dict(bad["params"])


def test_train_config_round_trips_and_keeps_tuples():
    cfg = TrainConfig.from_dict({"betas": [0.9, 0.95], "lr": 2e-5})
    assert cfg.betas == (0.9, 0.95) and TrainConfig.from_dict(cfg.to_dict()) == cfg
