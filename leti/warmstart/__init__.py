"""Warm start: `leti` commands that import torch/transformers run as forks of a server that imported
them once (leti.warmstart.server), instead of paying ~5-6 s of CPU per process. Opt-in with
LETI_WARM=1; off inside batch-scheduler jobs. See docs/warmstart.md."""
