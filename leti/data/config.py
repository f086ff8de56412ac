"""Which problems the loop trains on and which corpora regularize it (`params.task`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from leti.core.config import Config, param


@dataclass
class TaskConfig(Config):
    SECTION = "params.task"
    train: Literal["synth", "mbpp", "eae"] = param("synth", help="problems the loop trains on")
    synth_seed: int = param(0, help="seed of the synthetic task family")
    eae_style: Literal["full", "compact"] = param("full", help="EAE prompts: full (Code4Struct) | compact")
    limit: int | None = param(None, minimum=1, help="first N training problems (the paper's |P| ablation)")
    pretrain_corpus: str = param("synth", help='"synth", "hub:<dataset>" or a JSONL path with a text field')
    heldout_corpus: str = param("synth", help="held-out pre-training shard for the LM-loss metric")
