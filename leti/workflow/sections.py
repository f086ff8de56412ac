"""The workflow's own config sections as validated dataclasses: `benchmarks.*` and `resources` (and the
top-level `vllm_env`).

Like `params.*` (leti/workflow/params.py), every key is a field with a type and a range, an unknown
key is an error naming it, and checks across fields live in `validate()`. What a benchmark's
`problems` may say is what `leti data` accepts for that benchmark (splits, prompt styles, BBH tasks),
so a typo stops planning instead of failing in the job.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from leti.core.config import Config, param
from leti.core.errors import UserError

# what `leti data` accepts per benchmark (leti/data/cli.py, leti/data/benchmarks/*)
SPLITS = {"mbpp": ("prompt", "train", "validation", "test"), "humaneval": ("test",), "gsm8k": ("test",),
          "bbh": ("test",), "eae": ("train", "test", "val")}
STYLES = {"gsm8k": ("leti", "pal"), "bbh": ("direct", "cot"), "eae": ("full", "compact")}
SYNTH_FILES = ("train", "test", "transfer", "retention")
CONDITIONINGS = ("good", "bad", "none")


def _bbh_tasks() -> tuple[str, ...]:
    from leti.data.benchmarks.bbh import TASKS

    return TASKS


@dataclass
class ProblemsConfig(Config):
    """Where a benchmark's problems come from: the synthetic family, a real benchmark, or GENEVA (EAE)."""

    SECTION = "benchmarks.<name>.problems"
    source: Literal["synth", "data", "eae"] = param("data", help="synth | data (a real benchmark) | eae")
    file: Literal["train", "test", "transfer", "retention"] | None = param(None, help="synth: which file")
    benchmark: Literal["mbpp", "humaneval", "gsm8k", "bbh"] | None = param(None, help="data: which benchmark")
    split: str | None = param(None, help="mbpp: prompt|train|validation|test; eae: train|test|val; others: test")
    limit: int | None = param(None, minimum=1, maximum=10_000_000, help="the first N problems (bbh: per task)")
    style: str | None = param(None, help="gsm8k: leti|pal; bbh: direct|cot; eae: full|compact")
    tasks: Any = param(None, help="bbh: a task or a list of tasks (default: all 27)")
    shots: int | None = param(None, minimum=0, maximum=10, help="mbpp: k-shot prompt from the prompt split")

    def validate(self) -> None:
        where = self.SECTION
        if self.source == "synth":
            if self.file is None:
                raise UserError(f"{where}: source synth needs 'file' ({', '.join(SYNTH_FILES)})")
            extra = [k for k in ("benchmark", "split", "limit", "style", "tasks", "shots") if getattr(self, k) is not None]
            if extra:
                raise UserError(f"{where}: {extra[0]} does not apply to source synth (only 'file')")
            return
        if self.file is not None:
            raise UserError(f"{where}.file: only for source synth")
        if self.source == "data" and self.benchmark is None:
            raise UserError(f"{where}: missing 'benchmark' (mbpp, humaneval, gsm8k or bbh; EAE is source: eae)")
        if self.source == "eae" and self.benchmark is not None:
            raise UserError(f"{where}.benchmark: not for source eae (GENEVA is the benchmark)")
        kind = self.benchmark or "eae"
        if self.split is not None and self.split not in SPLITS[kind]:
            raise UserError(f"{where}.split: {kind} has no split {self.split!r} (one of {', '.join(SPLITS[kind])})")
        if self.style is not None and self.style not in STYLES.get(kind, ()):
            known = ", ".join(STYLES[kind]) if kind in STYLES else "none: it has one prompt"
            raise UserError(f"{where}.style: {kind} has no prompt style {self.style!r} ({known})")
        if self.tasks is not None:
            if kind != "bbh":
                raise UserError(f"{where}.tasks: only bbh has tasks")
            tasks = [self.tasks] if isinstance(self.tasks, str) else self.tasks
            if not isinstance(tasks, list) or not tasks or not all(isinstance(t, str) for t in tasks):
                raise UserError(f"{where}.tasks: expected a task name or a list of them, got {self.tasks!r}")
            unknown = [t for t in tasks if t not in _bbh_tasks()]
            if unknown:
                raise UserError(f"{where}.tasks: unknown BBH task {unknown[0]!r} (e.g. {', '.join(_bbh_tasks()[:3])}; "
                                f"all 27 in leti/data/benchmarks/bbh.py)")
        if self.shots is not None and kind != "mbpp":
            raise UserError(f"{where}.shots: only mbpp has k-shot prompts")


def _iterations(value, where: str, first: int) -> None:
    """`all`, or a list of iteration numbers (>= first) and `last`."""
    if value == "all":
        return
    if not isinstance(value, list) or not value:
        raise UserError(f"{where}: expected 'all' or a list of iterations (numbers and 'last'), got {value!r}")
    for it in value:
        if it != "last" and (isinstance(it, bool) or not isinstance(it, int) or it < first):
            raise UserError(f"{where}: {it!r} is not an iteration (a number >= {first}, or 'last')")


@dataclass
class BenchmarkConfig(Config):
    """One benchmark of `benchmarks:`: its problems, how it is sampled, where in the grid it is evaluated."""

    SECTION = "benchmarks.<name>"
    problems: ProblemsConfig = param(default_factory=ProblemsConfig)
    n: int = param(1, minimum=1, maximum=10_000, help="samples per problem")
    temperature: float = param(0.0, minimum=0, maximum=100, help="0 = greedy")
    top_p: float = param(1.0, exclusive_minimum=0, maximum=1)
    max_new_tokens: int = param(128, minimum=1, maximum=1_000_000)
    max_length: int | None = param(None, minimum=2, maximum=1_000_000,
                                   help="the original's total budget: prompt padded to 128 + new tokens")
    timeout: float | None = param(None, exclusive_minimum=0, maximum=3600, help="this benchmark's limit per program (s)")
    only: dict | None = param(None, help="evaluate at iterations >= 1 only for runs with these axis values")
    limit: int | None = param(None, minimum=1, maximum=10_000_000, help="score the first N problems")
    conditionings: list[Literal["good", "bad", "none"]] | None = param(None, minimum=1)
    iterations: Any = param("all", help="'all', or a list of iterations (0 = the base) and 'last'")
    conditionings_at: Any = param("all", help="iterations (>= 1, 'last') with every listed conditioning")

    def validate(self) -> None:
        _iterations(self.iterations, f"{self.SECTION}.iterations", 0)
        _iterations(self.conditionings_at, f"{self.SECTION}.conditionings_at", 1)


REQUIRED_BENCHMARK_KEYS = ("problems", "n", "temperature", "max_new_tokens")
_GPU_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


@dataclass
class RuleResources(Config):
    """What a rule asks the cluster for (snakemake-executor-plugin-slurm 2.8 resources)."""

    SECTION = "resources.<kind>_rules"
    mem_mb: int = param(4000, minimum=1, maximum=16_000_000, help="memory per job (MB): sbatch --mem")
    runtime: int = param(60, minimum=1, maximum=525_600, help="wall-clock limit (minutes): sbatch -t")
    gpus: int = param(0, minimum=0, maximum=64, help="GPUs per job: sbatch --gpus (gpu_rules only)")
    gpu_model: str | None = param(None, help="GPU type, e.g. a100: sbatch --gpus=<model>:<gpus> (gpu_rules only)")
    cpus_per_task: int | None = param(None, minimum=1, maximum=4096, help="sbatch --cpus-per-task (default: the "
                                      "rule's threads)")
    cpus_per_gpu: int | None = param(None, minimum=1, maximum=4096, help="sbatch --cpus-per-gpu (gpu_rules only)")
    constraint: str | None = param(None, help="node features: sbatch -C")
    qos: str | None = param(None, help="sbatch --qos")
    slurm_extra: str | None = param(None, help="other sbatch flags, e.g. \"--mail-type=FAIL\" (not the ones the "
                                    "plugin sets: partition, account, memory, time, CPUs, ...)")

    def validate(self) -> None:
        if self.gpu_model is not None and not _GPU_MODEL.match(self.gpu_model):
            raise UserError(f"{self.SECTION}.gpu_model: {self.gpu_model!r} is not a GPU type name (e.g. a100, h100)")
        if self.gpu_model is not None and not self.gpus:
            raise UserError(f"{self.SECTION}.gpu_model: needs gpus >= 1 (the plugin asks for --gpus=<model>:<gpus>)")
        if self.cpus_per_task is not None and self.cpus_per_gpu is not None:
            raise UserError(f"{self.SECTION}: cpus_per_task and cpus_per_gpu exclude each other")
        if self.cpus_per_gpu is not None and not self.gpus:
            raise UserError(f"{self.SECTION}.cpus_per_gpu: needs gpus >= 1")
        if self.slurm_extra:
            from leti.workflow.specs import forbidden_sbatch_option

            bad = forbidden_sbatch_option(self.slurm_extra)
            if bad:
                raise UserError(f"{self.SECTION}.slurm_extra: {bad} is set by the SLURM plugin from the other "
                                f"keys (use those instead)")


@dataclass
class ModelRuleResources(Config):
    """What the jobs that load one model ask for instead of the rules' memory and time (a bigger model)."""

    SECTION = "resources.models.<model>.<kind>_rules"
    mem_mb: int | None = param(None, minimum=1, maximum=16_000_000, help="memory per job (MB): sbatch --mem")
    runtime: int | None = param(None, minimum=1, maximum=525_600, help="wall-clock limit (minutes): sbatch -t")


@dataclass
class ModelResources(Config):
    """Per model (`model.source`): memory and time of its GPU jobs (sampling, training, pre-training, held-out
    loss) and CPU jobs that load it (init_model), over gpu_rules / cpu_rules."""

    SECTION = "resources.models.<model>"
    gpu_rules: ModelRuleResources = param(default_factory=ModelRuleResources)
    cpu_rules: ModelRuleResources = param(default_factory=ModelRuleResources)


@dataclass
class ResourcesConfig(Config):
    """Partitions, the account, and what GPU rules (sampling, training, pre-training, held-out loss) and CPU
    rules (execution, scoring, data, the report) ask for."""

    SECTION = "resources"
    gpu_partition: str = param("gpu")
    cpu_partition: str = param("cpu")
    account: str | None = param(None, help="sbatch -A for every job")
    gpu_rules: RuleResources = param(default_factory=lambda: RuleResources(mem_mb=16000, runtime=120))
    cpu_rules: RuleResources = param(default_factory=RuleResources)
    models: dict | None = param(None, help="per model.source: {gpu_rules: {mem_mb, runtime}, cpu_rules: {...}} "
                                "for the jobs that load that model (a 2B model needs more memory than a 350M)")

    def validate(self) -> None:
        for model, spec in (self.models or {}).items():
            ModelResources.from_dict(spec, where=f"{self.SECTION}.models.{model}")
        for key in ("gpu_partition", "cpu_partition"):
            if not getattr(self, key).strip():
                raise UserError(f"{self.SECTION}.{key}: must not be empty")
        for key in ("gpus", "gpu_model", "cpus_per_gpu"):
            if getattr(self.cpu_rules, key):
                raise UserError(f"resources.cpu_rules.{key}: CPU rules ask for no GPU (set it under gpu_rules)")


def validate_benchmarks(benchmarks: dict) -> dict[str, BenchmarkConfig]:
    """Every benchmark of the config, validated (one UserError naming `benchmarks.<name>.<key>`)."""
    if not isinstance(benchmarks, dict) or not benchmarks:
        raise UserError("benchmarks: expected a mapping of at least one benchmark")
    out = {}
    for name, spec in benchmarks.items():
        where = f"benchmarks.{name}"
        if not isinstance(spec, dict):
            raise UserError(f"{where}: expected a mapping, got {spec!r}")
        missing = [k for k in REQUIRED_BENCHMARK_KEYS if k not in spec]
        if missing:
            raise UserError(f"{where}: missing {missing[0]!r} (every benchmark names {', '.join(REQUIRED_BENCHMARK_KEYS)})")
        out[name] = _named(BenchmarkConfig, spec, where)
    return out


def validate_resources(resources: dict) -> ResourcesConfig:
    return _named(ResourcesConfig, resources, "resources")


VLLM_ENVS = ("auto", "cpu", "cuda")


def validate_vllm_env(value, name: str = "config") -> None:
    """Top-level `vllm_env` (read where a run has params.sample.engine vllm; docs/gpu.md): the environment the
    workflow builds in the user's cache (auto: CUDA if a GPU is visible, else CPU; cpu; cuda) or the path of a Python
    that has vLLM. Checked for every config, so a typo stops planning, not the first sampling job."""
    from pathlib import Path

    if not isinstance(value, str) or not value.strip():
        raise UserError(f"{name}: vllm_env: expected auto, cpu, cuda or the path of a Python with vLLM, got {value!r}")
    if value not in VLLM_ENVS and not Path(value).is_file():
        raise UserError(f"{name}: vllm_env: {value} is neither auto, cpu, cuda nor an existing Python "
                        "(the interpreter of an environment that has vLLM)")


def _named(cls, data, where: str):
    return cls.from_dict(data, where=where)
