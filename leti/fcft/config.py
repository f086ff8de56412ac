"""FCFT parameters (`params.fcft`, `params.train`): torch-free, validated on construction."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from leti.core.config import Config, param
from leti.core.errors import UserError


@dataclass
class FcftConfig(Config):
    """How execution records become training sequences (spec §1)."""

    SECTION = "params.fcft"
    feedback_type: Literal["textual", "binary", "none"] = param(
        "textual", help="textual: reward token + feedback span; binary: reward token only; none: control")
    postprocess_feedback: bool = param(False, help="spec §4.2 extra feedback on post-processed solutions")


@dataclass
class TrainConfig(Config):
    """One FCFT iteration's optimisation. Defaults are the paper's (spec §5); presets override."""

    SECTION = "params.train"
    lr: float = param(1e-5, exclusive_minimum=0)
    schedule: Literal["constant", "cosine"] = param("constant", help="learning-rate schedule within an iteration")
    warmup_steps: int = param(0, minimum=0)
    epochs: float = param(3.0, exclusive_minimum=0, maximum=10_000, help="used when `steps` is null")
    steps: int | None = param(None, minimum=1, maximum=1_000_000, help="FCFT optimizer steps this iteration")
    batch_size: int = param(128, minimum=1, help="global batch (sequences per optimizer step)")
    micro_batch_size: int = param(16, minimum=1, help="gradient accumulation: batch_size / micro_batch_size")
    weight_decay: float = param(0.01, minimum=0)
    betas: tuple[float, float] = param(default_factory=lambda: (0.9, 0.999))
    eps: float = param(1e-8, exclusive_minimum=0)
    grad_clip: float | None = param(None, exclusive_minimum=0, help="the original did not clip")
    reg_ratio: float = param(1.0, minimum=0, help="pre-training steps per FCFT step; 0 = w/o regularization; "
                                                  "1 = the paper's 1:1 alternation")
    pretrain_batch_size: int | None = param(None, minimum=1, help="default: batch_size")
    pretrain_packing: Literal["docs", "blocks"] = param(
        "docs", help="docs: one document per row; blocks: concatenated, cut in max_len blocks (the original)")
    loss_on: Literal["all", "solution"] = param("all", help="all: every non-pad token (the original)")
    append_eos: bool = param(False, help="the original appended no EOS")
    shuffle: bool = param(False, help="the original kept generation order")
    length_bucketing: bool = param(False, help="group similar lengths inside a global batch's micro-batches")
    max_len: int = param(2048, minimum=2)
    seed: int = param(42)
    precision: Literal["auto", "fp32", "bf16-autocast", "bf16"] = param("auto")
    gradient_checkpointing: bool = param(False)
    # GPU-path options (docs/gpu.md); the defaults keep the original behaviour
    packing: bool = param(False, help="pack FCFT sequences into rows of pack_len (positions restart)")
    pack_len: int | None = param(None, minimum=1, help="packed row length (default: max_len)")
    packing_attention: Literal["position_ids", "mask4d"] = param("position_ids")
    micro_batch_tokens: int | None = param(None, minimum=1, help="token budget per forward instead of micro_batch_size")
    attn_implementation: Literal["eager", "sdpa", "flash_attention_2"] | None = param(None)
    optimizer_impl: Literal["default", "foreach", "fused"] = param("default", help="torch AdamW kernels (same maths)")
    fused_gelu: bool = param(False, help="gelu_new as one kernel (same formula)")
    resume_every: int = param(50, minimum=0, help="steps between resume snapshots (0: none)")
    continue_optimizer: bool = param(True, help="AdamW state carries over between iterations")
    data_order: Literal["file", "prompt_length", "generation"] = param(
        "file", help="FCFT data order when not shuffled: the samples file's; generation = the original's "
                     "(problems by generation-prompt tokens padded to 128, then problem id; a problem's samples "
                     "adjacent); prompt_length = an older approximation (characters, then task id)")
    pretrain_order: Literal["shuffle", "restart"] = param(
        "shuffle", help="pre-training rows: reshuffled on every pass; restart = the original's loader: corpus "
                        "order from the first row at every FCFT epoch, whole batches only")
    pretrain_separator: Literal["eos", "none"] = param(
        "eos", help="blocks: documents joined with EOS, or concatenated without a separator (the original's "
                    "run_clm group_texts)")

    def validate(self) -> None:
        if self.batch_size % self.micro_batch_size:
            raise UserError(f"{self.SECTION}.batch_size ({self.batch_size}) must be a multiple of "
                            f"{self.SECTION}.micro_batch_size ({self.micro_batch_size})")


__all__ = ["FcftConfig", "TrainConfig"]
