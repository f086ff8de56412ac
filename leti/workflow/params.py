"""`params:` of a workflow config: every stage's config dataclass, composed (the one source of
each parameter's type, range and default; the JSON schema for `params.*` is generated from it)."""
from __future__ import annotations

from dataclasses import dataclass

from leti.core.config import Config, json_schema, param
from leti.data.config import TaskConfig
from leti.evaluation.config import EvalConfig
from leti.execution.config import ExecuteConfig
from leti.fcft.config import FcftConfig, TrainConfig
from leti.model.config import ModelConfig
from leti.sampling.config import SampleConfig


@dataclass
class LoopConfig(Config):
    SECTION = "params.loop"
    iterations: int = param(3, minimum=1, maximum=1000, help="FCFT iterations (sample -> execute -> train)")


@dataclass
class Params(Config):
    SECTION = "params"
    loop: LoopConfig = param(default_factory=LoopConfig)
    model: ModelConfig = param(default_factory=ModelConfig)
    task: TaskConfig = param(default_factory=TaskConfig)
    sample: SampleConfig = param(default_factory=SampleConfig)
    execute: ExecuteConfig = param(default_factory=ExecuteConfig)
    fcft: FcftConfig = param(default_factory=FcftConfig)
    train: TrainConfig = param(default_factory=TrainConfig)
    eval: EvalConfig = param(default_factory=EvalConfig)


def params_schema() -> dict:
    return json_schema(Params)
