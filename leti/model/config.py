"""Base-model parameters (`params.model`): torch-free, validated on construction."""
from __future__ import annotations

from dataclasses import dataclass

from leti.core.config import Config, param
from leti.core.errors import UserError

BYTE_ALPHABET = 257  # byte-level BPE: 256 bytes + <|endoftext|>; below this the trainer silently keeps 257


@dataclass
class TokenizerConfig(Config):
    SECTION = "params.model.tokenizer"
    vocab_size: int = param(800, minimum=0, maximum=1_000_000,
                            help="tiny tokenizer's BPE vocabulary (0 for a hub model's own)")

    def validate(self) -> None:
        if 0 < self.vocab_size < BYTE_ALPHABET:
            raise UserError(f"{self.SECTION}.vocab_size: {self.vocab_size} is below the byte-level alphabet "
                            f"({BYTE_ALPHABET}: 256 bytes + <|endoftext|>); use 0 for a hub model's own vocabulary")


@dataclass
class PretrainConfig(Config):
    """Pre-training of the tiny GPT-2 base (`leti pretrain`); unused for hub models."""

    SECTION = "params.model.pretrain"
    steps: int = param(3000, minimum=1, maximum=10_000_000)
    batch_size: int = param(32, minimum=1, maximum=1_000_000)
    lr: float = param(1e-3, exclusive_minimum=0)
    warmup: int = param(100, minimum=1)
    n_layer: int = param(2, minimum=1)
    n_embd: int = param(128, minimum=1)
    n_head: int = param(4, minimum=1)
    max_len: int = param(384, minimum=2)
    packing: bool = param(False, help="several documents per row, positions restart (same loss as padding)")
    pack_len: int | None = param(None, minimum=2, help="packed row length (default: max_len)")
    fused_gelu: bool = param(False, help="gelu_new as one kernel (same formula)")

    def validate(self) -> None:
        if self.n_embd % self.n_head:
            raise UserError(f"{self.SECTION}.n_embd ({self.n_embd}) must be a multiple of "
                            f"{self.SECTION}.n_head ({self.n_head}) (GPT-2 splits it into heads)")


@dataclass
class ModelConfig(Config):
    SECTION = "params.model"
    source: str = param("tiny", help='"tiny": tokenizer + GPT-2 trained here; else a hub name or a local directory')
    tokenizer: TokenizerConfig = param(default_factory=TokenizerConfig)
    pretrain: PretrainConfig = param(default_factory=PretrainConfig)
    pretrain_seed: int = param(0)
