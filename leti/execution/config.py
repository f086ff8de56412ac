"""Limits of the sandboxed solution evaluator (`params.execute`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from leti.core.config import Config, param


@dataclass
class ExecuteConfig(Config):
    SECTION = "params.execute"
    timeout: float = param(5.0, exclusive_minimum=0, maximum=3600, help="wall-clock seconds per program")
    memory_mb: int = param(1024, minimum=16, maximum=1 << 20, help="address-space budget per program (MiB)")
    workers: int = param(1, minimum=1, maximum=1024, help="executor pool size (the job's cores)")
    python: str | None = param(None, help="the interpreter that runs programs (the original's was probably Python "
                                         "3.8, whose syntax messages differ); null: the harness's own")
    verdict: Literal["isolated", "in_child"] = param(
        "isolated", help="where assert-style tests are judged: outside the program's process on the plain-data values "
                         "it computed (tests that cannot be split still run inside), or all inside it (as the original)")
    eae_occurrence: Literal["nearest", "gold"] = param(
        "nearest", help="EAE: which occurrence of a repeated string counts: nearest to the trigger (the original) "
                        "or one matching a gold argument")
