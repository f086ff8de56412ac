"""How the loop draws its training samples (`params.sample`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from leti.core.config import Config, param


@dataclass
class SampleConfig(Config):
    SECTION = "params.sample"
    n: int = param(4, minimum=1, maximum=10_000, help="samples per training problem")
    temperature: float = param(1.0, minimum=0, maximum=100, help="0 = greedy")
    top_p: float = param(1.0, exclusive_minimum=0, maximum=1)
    max_new_tokens: int = param(128, minimum=1, maximum=1_000_000)
    max_length: int | None = param(None, minimum=2, help="the original's total budget: the prompt padded to a "
                                   "multiple of 128 plus the new tokens (spec §3); null = max_new_tokens only")
    batch_size: int = param(128, minimum=1, help="sequences decoded together")
    clean_up_spaces: bool | None = param(None, help="decode with the tokenizer's clean-up of tokenization spaces "
                                         "(the original's CodeGen batch_decode: true); null: the tokenizer's default; "
                                         "applies to the run's evaluation samples too")
    engine: Literal["hf", "vllm"] = param(
        "hf", help="sampling engine of every sampling job of the run (training and evaluation samples): hf = the "
                   "project's TorchSampler, vllm = vLLM in its own environment (top-level vllm_env; docs/gpu.md)")
    conditioning: Literal["good", "bad", "none"] = param("good", help="reward token at iterations >= 2 (spec §2)")
    postprocess: Literal["mbpp", "eae", "humaneval", "gsm8k_pal"] | None = param(
        None, help="execute and train on post-processed solutions")
    postprocess_mode: Literal["exact", "leti"] = param(
        "exact", help="the cutter of those solutions: literal stop words, or the original's unescaped MBPP regex "
                      "(which also cuts at '/')")
