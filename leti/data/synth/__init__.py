"""Synthetic task family for the embedded default (the paper in miniature).

`build_synthetic(seed, out_dir, **sizes)` writes, under `out_dir`:
  train.jsonl / test.jsonl  MBPP-format problems (`synth`), split by held-out (template, param) combos
  transfer.jsonl            HumanEval-format problems from held-out templates (`synth_transfer`)
  retention.jsonl           PaL word problems (`synth_retention`, the GSM8K analogue)
  corpus.jsonl              pre-training documents {"text", "kind", "task_id"}
  heldout.jsonl             held-out pre-training documents (same format, train combos)
  manifest.json             counts, seed, sizes, sha256 of each file, generator version
"""
from leti.data.synth.build import (
    DEFAULT_SIZES,
    FILES,
    GENERATOR_VERSION,
    build_synthetic,
)

__all__ = ["DEFAULT_SIZES", "FILES", "GENERATOR_VERSION", "build_synthetic"]
