"""Where things are: the repository and the benchmark data root (the one lookup every stage uses)."""
from __future__ import annotations

import os
from pathlib import Path

ENV_DATA_ROOT = "LETI_DATA_ROOT"


def repo_root() -> Path:
    """The checkout holding the `leti` package (an editable install points here)."""
    return Path(__file__).resolve().parents[2]


def default_data_root() -> Path:
    """``$LETI_DATA_ROOT`` if set, else ``<repo>/../shared/data``."""
    env = os.environ.get(ENV_DATA_ROOT)
    return Path(env) if env else repo_root().parent / "shared" / "data"


def data_root(explicit: str | os.PathLike | None = None) -> Path:
    """`explicit` (a --data-root / config value) if given, else the default; not checked."""
    return Path(explicit) if explicit else default_data_root()
