"""Stage 1: problems and corpora as canonical JSONL (synthetic family, real benchmarks, EAE, pre-training)."""

# `leti data` writes <problems>.manifest.json beside each problems file; `leti evaluate` reads it
MANIFEST_SUFFIX = ".manifest.json"
