"""The regularization corpus (spec §6), as a JSONL of {"text": ...} rows.

The paper used the first 50,000 files streamed from `bigcode/the-stack` (data_dir `data/python`),
split 90/10 (seed 42) into train and held-out. With a network `leti pretrain-corpus` streams them with
`datasets.load_dataset`; any local JSON/JSONL/Parquet file with a text column works the same way
(`--source json:path/to/files.jsonl`).
"""
from __future__ import annotations

import random

from leti.core.errors import UserError


def load_texts(source: str, data_dir: str | None, column: str, n: int) -> list[str]:
    from datasets import load_dataset

    if ":" in source and source.split(":", 1)[0] in ("json", "parquet", "csv"):
        kind, path = source.split(":", 1)
        ds = load_dataset(kind, data_files=path, split="train", streaming=True)
    else:
        ds = load_dataset(source, data_dir=data_dir, split="train", streaming=True)
    texts = []
    for row in ds:
        if column not in row:
            raise UserError(f"{source}: rows have no column '{column}' (columns: {sorted(row)})")
        texts.append(row[column])
        if len(texts) >= n:
            break
    return texts


def split_heldout(texts: list[str], fraction: float, seed: int) -> tuple[list[str], list[str]]:
    idx = list(range(len(texts)))
    random.Random(seed).shuffle(idx)
    k = int(round(len(texts) * fraction))
    held = set(idx[:k])
    return [t for i, t in enumerate(texts) if i not in held], [t for i, t in enumerate(texts) if i in held]
