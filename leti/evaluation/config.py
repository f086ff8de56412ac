"""How checkpoints are evaluated (`params.eval`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from leti.core.config import Config, param


@dataclass
class EvalConfig(Config):
    SECTION = "params.eval"
    conditionings: list[Literal["good", "bad", "none"]] = param(
        default_factory=lambda: ["good", "bad", "none"], minimum=1,
        help="reward tokens offered at iterations >= 1 (each benchmark picks; default: the first)")
    strip_mode: Literal["exact", "lstrip"] = param("exact", help="lstrip: the original's str.lstrip quirk")
