"""The regularization corpus (spec §6), as a JSONL of {"text": ...} rows.

The paper used the first 50,000 files streamed from `bigcode/the-stack` v1.1 (data_dir
`data/python`), split 90/10 (seed 42) into train and held-out. With a network `leti pretrain-corpus`
streams them with `datasets.load_dataset` at the pinned revision. Offline (an air-gapped cluster, a
rehearsal), a local copy in the hub's own repository layout is read instead: set
`LETI_DATASETS_MIRROR=DIR` and put the dataset at `DIR/<org>/<name>/<data_dir>/*.parquet` (the same
`load_dataset` call, pointed at the folder). Any local JSON/JSONL/Parquet file with a text column
works too (`--source json:path/to/files.jsonl`).
"""
from __future__ import annotations

import math
import os
import random
from pathlib import Path

from leti.core.errors import UserError

MIRROR_VAR = "LETI_DATASETS_MIRROR"


def parse_hub_source(spec: str) -> tuple[str, str | None]:
    """'hub:org/name@rev' (or 'org/name@rev') -> ('org/name', 'rev'); the revision is optional."""
    name = spec[4:] if spec.startswith("hub:") else spec
    name, _, rev = name.partition("@")
    if name.count("/") != 1 or not all(name.split("/")):
        raise UserError(f"{spec}: a hub dataset is 'org/name' (optionally '@revision')")
    return name, rev or None


def mirror_dir(dataset: str) -> Path | None:
    """The local copy of hub dataset `dataset` under $LETI_DATASETS_MIRROR, if there is one."""
    root = os.environ.get(MIRROR_VAR)
    if not root:
        return None
    path = Path(root) / dataset
    if not path.is_dir():
        raise UserError(f"{path}: not found (${MIRROR_VAR} is set, so {dataset} is read from there)")
    return path


def load_texts(source: str, data_dir: str | None, column: str, n: int, revision: str | None = None) -> list[str]:
    from datasets import load_dataset
    from datasets.utils.logging import disable_progress_bar

    from leti.core.progress import progress

    disable_progress_bar()  # its bars are lines rewritten in place: unreadable in a job log; ours below

    if ":" in source and source.split(":", 1)[0] in ("json", "parquet", "csv"):
        kind, path = source.split(":", 1)
        ds = load_dataset(kind, data_files=path, split="train", streaming=True)
    else:
        dataset, rev = parse_hub_source(source)
        rev = revision or rev
        local = mirror_dir(dataset)
        if local is not None:
            ds = load_dataset(str(local), data_dir=data_dir, split="train", streaming=True)
        else:
            ds = load_dataset(dataset, data_dir=data_dir, split="train", streaming=True, revision=rev)
    texts = []
    bar = progress(n, "pretrain-corpus", unit="file")
    for row in ds:
        if column not in row:
            raise UserError(f"{source}: rows have no column '{column}' (columns: {sorted(row)})")
        texts.append(row[column])
        bar.update(1)
        if len(texts) >= n:
            break
    bar.close()
    return texts


HELDOUT_SPLITS = ("datasets", "shuffle")


def split_heldout(texts: list[str], fraction: float, seed: int, method: str = "shuffle"
                  ) -> tuple[list[str], list[str]]:
    """(train, held-out) parts of `texts`.

    "datasets": Hugging Face `Dataset.train_test_split(test_size=fraction, seed=seed)`, as the original's
    run_leti.py split its pre-training files (seed 42): one `numpy.random.default_rng(seed).permutation`,
    the held-out part its first ceil(fraction * n) indices, the train part the rest, each *in permutation
    order* (the order the original's pre-training loader then reads them in).
    "shuffle": a Python `random.Random(seed)` shuffle picks round(fraction * n) held-out documents; both
    parts keep the file order.
    """
    if method not in HELDOUT_SPLITS:
        raise UserError(f"held-out split must be one of {HELDOUT_SPLITS}, got {method!r}")
    n = len(texts)
    if method == "datasets":
        if fraction <= 0:
            return list(texts), []
        import numpy as np

        n_test = math.ceil(fraction * n)
        if not 0 < n_test < n:
            raise UserError(f"a held-out fraction of {fraction} leaves no train or no held-out part of {n} documents")
        perm = np.random.default_rng(seed).permutation(n).tolist()
        return [texts[i] for i in perm[n_test:]], [texts[i] for i in perm[:n_test]]
    idx = list(range(n))
    random.Random(seed).shuffle(idx)
    k = int(round(n * fraction))
    held = set(idx[:k])
    return [t for i, t in enumerate(texts) if i not in held], [t for i, t in enumerate(texts) if i in held]


def write_mirror(root: str | os.PathLike, dataset: str, data_dir: str, texts: list[str], column: str = "content",
                 paths: list[str] | None = None) -> Path:
    """A local copy of a hub dataset in its repository layout (one parquet shard), for $LETI_DATASETS_MIRROR."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(root) / dataset / data_dir
    folder.mkdir(parents=True, exist_ok=True)
    table = {column: texts}
    if paths is not None:
        table["max_stars_repo_path"] = paths  # The Stack's file-path column, for orientation
    out = folder / "train-00000-of-00001.parquet"
    tmp = out.with_suffix(".parquet.partial")
    pq.write_table(pa.table(table), tmp)
    os.replace(tmp, out)
    return out
