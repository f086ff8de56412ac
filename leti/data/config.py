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
    pretrain_corpus: str = param("synth", help='"synth", "hub:<org>/<name>[@revision]" or a JSONL path with a text field')
    heldout_corpus: str = param("synth", help="held-out pre-training shard for the LM-loss metric")
    pretrain_files: int = param(50000, minimum=1, help="hub corpora: the first N files (the paper: 50,000)")
    pretrain_data_dir: str = param("data/python", help="hub corpora: the dataset's data_dir (The Stack: data/python)")
    heldout_split: Literal["datasets", "shuffle"] = param(
        "shuffle", help="hub corpora, 90/10 with seed 42: datasets = Hugging Face train_test_split (the original; "
                        "train files in its permutation order); shuffle = Python random, file order kept")
