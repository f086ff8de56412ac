# The plan: runs, artefact paths and lookups from (wildcards) back to runs. Logic in leti.workflow.
import json
import os
import re
import shlex
import sys

from leti.errors import UserError
from leti.report import output_files
from leti.workflow.plan import STAGE_IGNORES, STAGE_NAMESPACES, Plan, axes_touching
from leti.workflow.checks import check_config

try:
    check_config(config)
    PLAN = Plan(config)
except UserError as exc:
    sys.exit(f"config error: {exc}")

# rules call the `leti` command installed beside this snakemake (works without activating the venv)
shell.prefix(f"set -euo pipefail; export PATH={shlex.quote(os.path.dirname(sys.executable))}:\"$PATH\"; ")

# Local runs: `leti` commands that import torch start as forks of a warm server (leti.warmstart). The
# client ignores this inside SLURM, PBS or LSF jobs; LETI_WARM=0 in the environment turns it off.
if config.get("warm_start", False):
    os.environ.setdefault("LETI_WARM", "1")

W = PLAN.work
R = PLAN.results
THREADS = int(config.get("threads", 1))
RES = config["resources"]
LOOKUP = PLAN.lookups()


def _alt(keys):
    return "|".join(re.escape(k) for k in sorted(keys)) or "NO_MATCH"


def gpu_resources():
    r = RES["gpu_rules"]
    out = {"mem_mb": r["mem_mb"], "runtime": r["runtime"], "slurm_partition": RES["gpu_partition"]}
    if r.get("gpus", 0):
        out["gpu"] = r["gpus"]
    return out


def cpu_resources():
    r = RES["cpu_rules"]
    return {"mem_mb": r["mem_mb"], "runtime": r["runtime"], "slurm_partition": RES["cpu_partition"]}


def as_json(obj):
    """Quote a JSON object for the shell."""
    return "'" + json.dumps(obj, sort_keys=True).replace("'", "'\\''") + "'"


def bench_data_args(bench):
    spec = dict(config["benchmarks"][bench]["problems"])
    source = spec.pop("source")
    if source == "eae":
        args = ["eae", "data", "--split", spec.pop("split", "test")]
    else:
        args = ["data", "--benchmark", spec.pop("benchmark"), "--split", spec.pop("split", "test")]
    for key, value in spec.items():
        args += [f"--{key.replace('_', '-')}"] + [str(v) for v in (value if isinstance(value, list) else [value])]
    return " ".join(args)


def train_data_args(task):
    style = config["params"]["task"].get("eae_style", "full")
    return f"eae data --split train --style {style}" if task == "eae" else "data --benchmark mbpp --split train"


TINY_BASES = [k for k, r in LOOKUP["base"].items() if r.params["model"]["source"] == "tiny"]


HUB_BASES = [k for k, r in LOOKUP["base"].items() if r.params["model"]["source"] != "tiny"]


def base_run(wc):
    return LOOKUP["base"][wc.bk]


def loop_run(wc):
    return LOOKUP["loop"][(wc.lk, int(wc.it))]


def the_run(wc):
    return LOOKUP["runs"][wc.rid]


LOOP_KEYS = {k for k, _ in LOOKUP["loop"]}


RUN_IDS = set(LOOKUP["runs"])


def train_sample_item(run, it):
    """`leti sample --spec` item: the training samples of iteration `it`, drawn from checkpoint it-1."""
    s = run.params["sample"]
    return {"problems": PLAN.train_problems(run), "n": s["n"], "temperature": s["temperature"], "top_p": s["top_p"],
            "max_new_tokens": s["max_new_tokens"], "batch_size": s["batch_size"], "seed": run.seed * 1000 + it,
            # spec §2: iteration 1 samples the base without a reward token
            "conditioning": "none" if it == 1 else s["conditioning"], "limit": run.params["task"]["limit"]}


def pp_flag(run):
    return f"--postprocess" if run.params["sample"]["postprocess"] else ""


def fcft_args(run):
    f = run.params["fcft"]
    args = f"--feedback-type {f['feedback_type']}"
    if run.params["sample"]["postprocess"]:
        args += f" --postprocess {run.params['sample']['postprocess']}"
        if f["postprocess_feedback"]:
            args += " --postprocess-feedback"
    return args


def eval_run(wc):
    return LOOKUP["eval"][(wc.ek, int(wc.it), wc.cond)]


def eval_any_run(wc):
    return LOOKUP["eval_any"][(wc.ek, int(wc.it))]


EVAL_KEYS = {k for k, _, _ in LOOKUP["eval"]}


BASE_EVAL_KEYS = {k for k in EVAL_KEYS if k.startswith("base/")}  # iteration 0; later checkpoints: rule train


def eval_sample_spec(run, it, out=None):
    """`leti sample --spec` items: every benchmark under every conditioning evaluated at checkpoint `it`."""
    spec = []
    for cond in PLAN.conditionings(run, it):
        for name in PLAN.benchmarks_at(run, it, cond):
            b = config["benchmarks"][name]
            spec.append({"benchmark": name, "problems": PLAN.bench_problems(name), "n": b["n"],
                         "temperature": b["temperature"], "top_p": b.get("top_p", 1.0),
                         "max_new_tokens": b["max_new_tokens"], "seed": run.seed * 1000 + it,
                         "limit": b.get("limit"), "conditioning": cond, **({"out": out} if out else {})})
    return spec


def checkpoint_draw_spec(run, it, output):
    """A loop checkpoint's evaluation samples and the next iteration's training samples, one job."""
    return eval_sample_spec(run, it, out=output.evals) + [{**train_sample_item(run, it + 1), "out": output.train}]


def eval_bench_problems(run, it):
    return sorted({item["problems"] for item in eval_sample_spec(run, it)})


def eval_score_spec(run, it, cond):
    return [{"benchmark": name, "problems": PLAN.bench_problems(name),
             "strip_mode": run.params["eval"]["strip_mode"], "timeout": run.params["execute"]["timeout"],
             "memory_mb": run.params["execute"]["memory_mb"], "workers": run.params["execute"]["workers"]}
            for name in PLAN.benchmarks_at(run, it, cond)]


def eval_meta(run, wc):
    axes = run.axes if int(wc.it) > 0 else {a: run.axes[a] for a in axes_touching(config, STAGE_NAMESPACES["eval0"], STAGE_IGNORES["eval0"])}
    return {"eval_key": wc.ek, "iteration": int(wc.it), "conditioning": wc.cond, "axes": axes, "seed": run.seed,
            "preset": config.get("preset")}


# ---- report outputs (rules/report.smk)

REPORT_DIR = config.get("report_dir") or f"{R}/report"
# one stamp per report directory, in the git-ignored work dir (a fresh clone always rebuilds)
_REPORT_SLUG = re.sub(r"[^A-Za-z0-9]+", "_", REPORT_DIR)
REPORT_STAMP = f"{W}/report-{_REPORT_SLUG}.done"
_REPORT_FILES = output_files(REPORT_DIR)
_CAPTIONS = "../leti/report/captions"


def _report_outputs():
    out = []
    for path in _REPORT_FILES["figures"]:
        if path.endswith(".png"):
            out.append(report(path, caption=f"{_CAPTIONS}/figure.rst", category="Figures"))
        else:
            out.append(path)
    for path in _REPORT_FILES["tables"]:
        if path.endswith(".csv"):
            out.append(report(path, caption=f"{_CAPTIONS}/table.rst", category="Tables"))
        else:
            out.append(path)
    for path in _REPORT_FILES["main"]:
        if path.endswith("claims.md"):
            out.append(report(path, caption=f"{_CAPTIONS}/claims.rst", category="Claims"))
        else:
            out.append(path)
    return out


REPORT_OUTPUTS = [str(p) for p in _REPORT_FILES["main"] + _REPORT_FILES["tables"] + _REPORT_FILES["figures"]]
