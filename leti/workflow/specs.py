"""What each job is told: command-line arguments and `--spec` JSON, built from the plan.

The experiment's rules that are not paths live here, unit-tested (tests/workflow/test_specs.py):
the sampling seed of a checkpoint is `seed * 1000 + iteration`; iteration 1 samples the base
without a reward token (spec §2). The rules in rules/*.smk only name inputs, outputs and resources.
"""
from __future__ import annotations

import json
import shlex

from leti.core.errors import UserError
from leti.workflow.plan import PATHS, Plan, Run


def as_json(obj) -> str:
    """A JSON object quoted for the shell (sorted keys: the same spec, the same command line)."""
    return "'" + json.dumps(obj, sort_keys=True).replace("'", "'\\''") + "'"


def sampling_seed(run: Run, iteration: int) -> int:
    """Seed of every sampling job of checkpoint `iteration` (training draws of `iteration` use it too)."""
    return run.seed * 1000 + iteration


# ---------------------------------------------------------------- resources
# Every rule that runs a job declares one of these two (rules/*.smk), so partitions and the account
# come from the config's `resources:` (a preset, or `--config resources=...`), never from a profile's
# `default-resources` (which only the rules that declare nothing would see). docs/slurm.md.
# sbatch flags the plugin sets itself (snakemake-executor-plugin-slurm 2.8 refuses them in slurm_extra)
_FORBIDDEN_SBATCH = {r"--job-name[=\s]|-J\s?": "--job-name", r"--output[=\s]|-o\s": "--output",
                     r"--error[=\s]|-e\s": "--error", r"--export[=\s]": "--export", r"--comment[=\s]": "--comment",
                     r"--workdir[=\s]|-D\s": "--workdir", r"--account[=\s]|-A\s": "--account",
                     r"--partition[=\s]|-p\s": "--partition", r"--mem[=\s]": "--mem",
                     r"--mem-per-cpu[=\s]": "--mem-per-cpu", r"--ntasks[=\s]|-n\s": "--ntasks",
                     r"--cpus-per-task[=\s]|-c\s": "--cpus-per-task", r"--cpus-per-gpu[=\s]": "--cpus-per-gpu",
                     r"--time[=\s]|-t\s": "--time", r"--constraint[=\s]|-C\s": "--constraint",
                     r"--qos[=\s]": "--qos", r"--gpus[=\s]|-G\s": "--gpus", r"--gres[=\s]": "--gres"}


def forbidden_sbatch_option(extra: str) -> str | None:
    """The first sbatch flag in `extra` that the SLURM plugin sets itself (it would refuse the job), or None."""
    import re

    try:  # the plugin's own list when it is installed (it may grow)
        from snakemake_executor_plugin_slurm.validation import get_forbidden_slurm_options

        patterns = {p: "--" + name.replace(" ", "-") for p, name in get_forbidden_slurm_options().items()}
    except Exception:  # noqa: BLE001 - not installed (a local-only setup): ours
        patterns = {}
    for pattern, name in {**_FORBIDDEN_SBATCH, **patterns}.items():
        if re.search(pattern, extra):
            return name if name.startswith("--") else f"--{name}"
    return None


def _site(config: dict) -> dict:
    account = config["resources"].get("account")
    return {"slurm_account": str(account)} if account not in (None, "") else {}


# the config keys of resources.<kind>_rules that are plugin resources of the same name (sections.RuleResources)
_PASSED_ON = ("cpus_per_task", "cpus_per_gpu", "constraint", "qos", "slurm_extra")


def _rule_resources(config: dict, kind: str) -> dict:
    r = config["resources"][f"{kind}_rules"]
    out = {"mem_mb": r["mem_mb"], "runtime": r["runtime"], "slurm_partition": config["resources"][f"{kind}_partition"]}
    if r.get("gpus", 0):
        out["gpu"] = r["gpus"]
        if r.get("gpu_model"):
            out["gpu_model"] = r["gpu_model"]
    out.update({k: r[k] for k in _PASSED_ON if r.get(k) not in (None, "")})
    return {**out, **_site(config)}


def gpu_resources(config: dict) -> dict:
    """Sampling, training, pre-training and the base models' held-out loss: the GPU partition."""
    return _rule_resources(config, "gpu")


def cpu_resources(config: dict) -> dict:
    """Execution, scoring, data preparation and the report: the CPU partition."""
    return _rule_resources(config, "cpu")



def _declared_sources(config: dict) -> set[str]:
    """Every model.source the config names (params and axis values), before include/exclude narrow the
    grid: per-model resources of a model left out by `include` are kept, a typo is not."""
    out = {str((config["params"].get("model") or {}).get("source"))}
    for values in (config.get("axes") or {}).values():
        for value in (values or {}).values():
            value = value or {}
            if "model.source" in value:
                out.add(str(value["model.source"]))
            if isinstance(value.get("model"), dict) and "source" in value["model"]:
                out.add(str(value["model"]["source"]))
    return out

def model_resources(plan: Plan, kind: str, run_of) -> dict:
    """Resources of a rule whose jobs load the model (`kind`: gpu or cpu): `<kind>_rules`, with the memory and
    time of `resources.models[<model.source>]` over them. `run_of(wildcards)`: the job's run. Values that
    differ between the grid's models become functions of the job's wildcards; the rest stay constants (a
    constant plans faster)."""
    config = plan.config
    base = _rule_resources(config, kind)
    models = config["resources"].get("models") or {}
    sources = {r.params["model"]["source"] for r in plan.runs}
    declared = _declared_sources(config)
    unknown = sorted(set(models) - declared)
    if unknown:
        raise UserError(f"resources.models: {unknown[0]!r} is not the model.source of any run "
                        f"(the grid's models: {', '.join(sorted(declared))})")
    table = {src: {**base, **{k: v for k, v in ((models.get(src) or {}).get(f"{kind}_rules") or {}).items()
                              if v is not None}} for src in sources}
    out = dict(base)
    for key in ("mem_mb", "runtime"):
        values = {t[key] for t in table.values()}
        if len(values) > 1:
            out[key] = lambda wc, _key=key: table[run_of(wc).params["model"]["source"]][_key]
        else:
            out[key] = values.pop()
    return out


# ---------------------------------------------------------------- data
def bench_data_args(config: dict, bench: str) -> str:
    """`leti data` arguments for one benchmark of the config (without --data-root/--out)."""
    spec = dict(config["benchmarks"][bench]["problems"])
    source = spec.pop("source")
    kind = "eae" if source == "eae" else spec.pop("benchmark")
    args = ["--benchmark", kind, "--split", str(spec.pop("split", "test"))]
    for key, value in spec.items():
        args += [f"--{key.replace('_', '-')}"] + [str(v) for v in (value if isinstance(value, list) else [value])]
    return " ".join(shlex.quote(a) for a in args)


def train_data_args(task: dict) -> str:
    """`leti data` arguments for the training problems of a run's `task` parameters (train: mbpp or eae)."""
    if task["train"] == "eae":
        return f"--benchmark eae --split train --style {shlex.quote(task['eae_style'])}"
    return "--benchmark mbpp --split train"


# ---------------------------------------------------------------- the loop
# ---------------------------------------------------------------- the sampling engine
ENV_REQUIREMENTS = {"cpu": ("envs/vllm-cpu.txt",), "cuda": ("envs/vllm-cuda.txt",),
                    "auto": ("envs/vllm-cpu.txt", "envs/vllm-cuda.txt")}


def uses_vllm(run: Run) -> bool:
    return run.params["sample"]["engine"] == "vllm"


def vllm_env_stamp(plan: Plan) -> str:
    """The stamp naming the vLLM environment's Python (one per work dir; the environment itself is shared)."""
    return plan.path("vllm_env")


def needs_vllm_model(run: Run) -> bool:
    """vLLM loads the tiny GPT-2 as it is; a hub model (CodeGen: converted to GPT-J) goes through `leti vllm-model`."""
    return uses_vllm(run) and run.params["model"]["source"] != "tiny"


def vllm_model_dir(ckpt: str) -> str:
    return PATHS["vllm_model"].format(ckpt=ckpt)


def engine_args(run: Run, inputs) -> str:
    """`leti sample` flags of the run's engine; `inputs`: the job's named inputs (Snakemake's or a dict)."""
    if not uses_vllm(run):
        return ""
    get = inputs.get if isinstance(inputs, dict) else (lambda k: getattr(inputs, k, None))
    args = ["--engine", "vllm"]
    if get("vllm_env"):
        args += ["--vllm-env", str(get("vllm_env"))]
    if get("vllm_model"):
        args += ["--vllm-model", str(get("vllm_model"))]
    return " ".join(shlex.quote(a) for a in args)


def train_sample_item(plan: Plan, run: Run, iteration: int) -> dict:
    """`leti sample --spec` item: the training samples of `iteration`, drawn from checkpoint iteration-1."""
    s = run.params["sample"]
    item = {"problems": plan.train_problems(run), "n": s["n"], "temperature": s["temperature"], "top_p": s["top_p"],
            "max_new_tokens": s["max_new_tokens"], "batch_size": s["batch_size"], "seed": sampling_seed(run, iteration),
            # spec §2: iteration 1 samples the base without a reward token
            "conditioning": "none" if iteration == 1 else s["conditioning"], "limit": run.params["task"]["limit"]}
    if s["max_length"] is not None:  # the original's total budget (prompt padded to 128 + new tokens)
        item["max_length"] = s["max_length"]
    if s["clean_up_spaces"] is not None:
        item["clean_up_spaces"] = s["clean_up_spaces"]
    return item


def programs_args(run: Run) -> str:
    """`leti programs` flags of the loop: post-process the solutions when the run trains on them."""
    s = run.params["sample"]
    return f"--postprocess --postprocess-mode {s['postprocess_mode']}" if s["postprocess"] else ""


def execute_args(run: Run) -> str:
    """`leti execute` flags of the loop: the evaluator's limits and verdicts of the run."""
    e = run.params["execute"]
    args = (f"--workers {e['workers']} --eae-occurrence {e['eae_occurrence']} --verdict {e['verdict']} "
            f"--timeout {e['timeout']} --memory-mb {e['memory_mb']}")
    return args + (f" --python {shlex.quote(e['python'])}" if e["python"] else "")


def fcft_args(run: Run) -> str:
    f = run.params["fcft"]
    args = f"--feedback-type {f['feedback_type']}"
    if run.params["sample"]["postprocess"]:
        args += f" --postprocess {run.params['sample']['postprocess']} --postprocess-mode {run.params['sample']['postprocess_mode']}"
        if f["postprocess_feedback"]:
            args += " --postprocess-feedback"
    return args


def train_meta(run: Run) -> dict:
    """What a checkpoint records of its run (leti train --run-meta)."""
    return {"run_id": run.id, "axes": run.axes, "seed": run.seed}


# ---------------------------------------------------------------- evaluation
def eval_sample_spec(plan: Plan, run: Run, iteration: int, out: str | None = None) -> list[dict]:
    """`leti sample --spec` items: every benchmark under every conditioning evaluated at checkpoint `iteration`."""
    spec = []
    for cond in plan.conditionings(run, iteration):
        for name in plan.benchmarks_at(run, iteration, cond):
            b = plan.config["benchmarks"][name]
            spec.append({"benchmark": name, "problems": plan.bench_problems(name), "n": b["n"],
                         "temperature": b["temperature"], "top_p": b.get("top_p", 1.0),
                         "max_new_tokens": b["max_new_tokens"], "seed": sampling_seed(run, iteration),
                         "limit": b.get("limit"), "conditioning": cond, **({"out": out} if out else {}),
                         **({"max_length": b["max_length"]} if b.get("max_length") else {}),
                         **({"clean_up_spaces": run.params["sample"]["clean_up_spaces"]}
                            if run.params["sample"]["clean_up_spaces"] is not None else {})})
    return spec


def eval_bench_problems(plan: Plan, run: Run, iteration: int) -> list[str]:
    """Problem files the evaluation of checkpoint `iteration` reads."""
    return sorted({item["problems"] for item in eval_sample_spec(plan, run, iteration)})


def eval_score_spec(plan: Plan, run: Run, iteration: int, cond: str) -> list[dict]:
    """`leti score --spec`: the benchmarks scored under `cond`, with the run's evaluator limits."""
    return [{"benchmark": name, "problems": plan.bench_problems(name),
             "strip_mode": run.params["eval"]["strip_mode"], "timeout": run.params["execute"]["timeout"],
             "memory_mb": run.params["execute"]["memory_mb"], "workers": run.params["execute"]["workers"],
             "eae_occurrence": run.params["execute"]["eae_occurrence"], "verdict": run.params["execute"]["verdict"],
             **({"python": run.params["execute"]["python"]} if run.params["execute"]["python"] else {}),
             **({"limit": plan.config["benchmarks"][name]["limit"]} if plan.config["benchmarks"][name].get("limit") else {}),
             **({"benchmark_timeout": plan.config["benchmarks"][name]["timeout"]}
                if plan.config["benchmarks"][name].get("timeout") else {})}
            for name in plan.benchmarks_at(run, iteration, cond)]


def eval_meta(plan: Plan, run: Run, eval_key: str, iteration: int, cond: str) -> dict:
    """The `run` record of a metrics JSON. Iteration 0 (the base, shared) names only the axes it depends on."""
    config = plan.config
    if iteration > 0:
        axes = run.axes
    else:
        axes = {a: run.axes[a] for a in plan.stage_axes("eval0")}
    return {"eval_key": eval_key, "iteration": iteration, "conditioning": cond, "axes": axes, "seed": run.seed,
            "preset": config.get("preset")}
