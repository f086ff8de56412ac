"""Stage 1: problems and corpora as canonical JSONL (synthetic family, real benchmarks, EAE, pre-training)."""
