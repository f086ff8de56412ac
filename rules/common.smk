# The plan (runs, artefact paths, lookups from wildcards back to runs) and the job specs: leti.workflow.
import json
import os
import re
import shlex
import sys

from leti.core.errors import UserError
from leti.report import output_files
from snakemake.settings.types import RerunTrigger

from leti.workflow import specs
from leti.workflow.decide import Decision, request_of
from leti.workflow.freshness import SYNTH_FILES, Catalog, report_dir, report_stamp
from leti.workflow.plan import Plan

try:
    PLAN = Plan(config)
    _REPORT_FILES = output_files(report_dir(PLAN))
    # every job: its inputs, outputs and parameter record (leti.workflow.freshness)
    CATALOG = Catalog(PLAN, _REPORT_FILES["main"] + _REPORT_FILES["tables"] + _REPORT_FILES["figures"])
except UserError as exc:
    sys.exit(f"config error: {exc}")


def _records_decide():
    """Results verify themselves: every output carries a parameter record, and the catalog decides what
    reruns (leti.workflow.decide); file times never trigger a job. Snakemake's own provenance triggers
    (params, input set, code, software env: kept in .snakemake/, absent on a fresh clone) are turned off
    unless --rerun-triggers is given. Called from the input functions: the DAG settings are only set once
    this file has been read, and are read when the DAG is checked, after the input functions ran."""
    settings = getattr(workflow, "dag_settings", None)
    if settings is not None and set(settings.rerun_triggers) == set(RerunTrigger.all()):
        settings.rerun_triggers = frozenset({RerunTrigger.MTIME})
    # After an interruption plain `snakemake` goes on like `--rerun-incomplete`: the records tell a job that
    # finished (kept, its marker removed) from one that did not (rerun, with all below it): leti.workflow.decide.
    if settings is not None and not settings.target_jobs:
        settings.force_incomplete = True


_DECISION = []


def decision():
    """What this Snakemake call runs (leti.workflow.decide), computed once, at the first input function."""
    if not _DECISION:
        _records_decide()
        d = Decision(CATALOG, request_of(workflow), default_target=REPORT_OUTPUTS)
        refusal = d.refusal()
        if refusal:
            sys.exit(refusal)
        _DECISION.append(d)
    return _DECISION[0]


def fresh_inputs(rule):
    """Input function of `rule`: its job's inputs from the catalog, ancient (file times never trigger a job)
    unless a job that reruns writes them, plus a marker that makes Snakemake rerun a stale job; no inputs
    at all for a job that does not run, so that nothing it was computed from is rebuilt
    (leti.workflow.decide)."""
    def inputs(wc):
        d = decision()
        wrap = lambda p: p if d.live(p) else ancient(p)  # noqa: E731
        out = d.inputs(CATALOG.job(rule, wc))
        return {k: (v if k == "stale" else wrap(v) if isinstance(v, str) else [wrap(p) for p in v])
                for k, v in out.items()}
    return inputs


def record(rule):
    """`leti <command> --record`: the parameter record to write beside the job's outputs."""
    return lambda wc: as_json(CATALOG.record_arg(CATALOG.job(rule, wc)))


# rules call the `leti` command installed beside this snakemake (works without activating the venv)
shell.prefix(f"set -euo pipefail; export PATH={shlex.quote(os.path.dirname(sys.executable))}:\"$PATH\"; ")

# Local runs: `leti` commands that import torch start as forks of a warm server (leti.warmstart). The
# client ignores this inside SLURM, PBS or LSF jobs; LETI_WARM=0 in the environment turns it off.
if config.get("warm_start", False):
    os.environ.setdefault("LETI_WARM", "1")

W = PLAN.work
THREADS = int(config.get("threads", 1))
# Torch's thread count in a job is the config's (`threads`, in every record), never Snakemake's
# `{threads}`: Snakemake caps that at --cores, and a job's numbers depend on its thread count (a base
# pre-trained under --cores 1 differed from one under --cores 2 with the same record; docs/measurements.md).
# Rules pass it as `params.torch_threads`; `threads:` only reserves cores. Pre-training takes two threads
# at least (nothing else can run yet).
PRETRAIN_THREADS = max(THREADS, 2)
LOOKUP = PLAN.lookups()
CPU = specs.cpu_resources(config)
as_json = specs.as_json


# the executor pool's size: one number for every job when no axis changes it (a constant plans faster)
WORKERS = (lambda ws: ws.pop() if len(ws) == 1 else None)({r.params["execute"]["workers"] for r in PLAN.runs})


def shell_path(name):
    """The path of artefact `name` in a shell command, from the job's wildcards (no function to call)."""
    return PLAN.pattern(name).replace("{", "{wildcards.")


def _alt(keys):
    return "|".join(re.escape(k) for k in sorted(keys)) or "NO_MATCH"


TINY_BASES = [k for k, r in LOOKUP["base"].items() if r.params["model"]["source"] == "tiny"]
HUB_BASES = [k for k, r in LOOKUP["base"].items() if r.params["model"]["source"] != "tiny"]
LOOP_KEYS = {k for k, _ in LOOKUP["loop"]}
RUN_IDS = set(LOOKUP["runs"])
EVAL_KEYS = {k for k, _, _ in LOOKUP["eval"]}
HELDOUT_KEYS = set(LOOKUP["heldout0"])  # the bases' held-out loss; later checkpoints: rule train
TRAIN_PROBLEMS = LOOKUP["train_problems"]  # key (mbpp, eae-<style>) -> a run training on them
HUB_CORPORA = PLAN.hub_corpora()  # slug -> (hub source, a run reading it)


def base_run(wc):
    return LOOKUP["base"][wc.bk]


def loop_run(wc):
    return LOOKUP["loop"][(wc.lk, int(wc.it))]


def the_run(wc):
    return LOOKUP["runs"][wc.rid]


def eval_run(wc):
    return LOOKUP["eval"][(wc.ek, int(wc.it), wc.cond)]


def eval_any_run(wc):
    return LOOKUP["eval_any"][(wc.ek, int(wc.it))]


def heldout_run(wc):
    return LOOKUP["heldout0"][wc.ek]


def model_rules(kind, run_of):
    """Resources of the jobs that load the model (`kind` gpu or cpu), sized per model by the config's
    resources.models (leti.workflow.specs.model_resources; docs/slurm.md)."""
    try:
        return specs.model_resources(PLAN, kind, run_of)
    except UserError as exc:
        sys.exit(f"config error: {exc}")


# ---- report outputs (rules/report.smk)

REPORT_DIR = report_dir(PLAN)
REPORT_STAMP = report_stamp(PLAN)  # in the git-ignored work dir: a fresh clone always rebuilds the report
_CAPTIONS = "../leti/report/captions"
# what goes into `snakemake --report`: (list, file suffix, caption, category)
_IN_HTML = [("figures", ".png", "figure.rst", "Figures"), ("tables", ".csv", "table.rst", "Tables"),
            ("main", "claims.md", "claims.rst", "Claims")]


def _report_outputs():
    """Every report file; figures, CSV tables and claims.md also go into `snakemake --report`."""
    out = []
    for kind, suffix, caption, category in _IN_HTML:
        for path in _REPORT_FILES[kind]:
            flagged = path.endswith(suffix)
            out.append(report(path, caption=f"{_CAPTIONS}/{caption}", category=category) if flagged else path)
    return out


REPORT_OUTPUTS = [str(p) for p in _REPORT_FILES["main"] + _REPORT_FILES["tables"] + _REPORT_FILES["figures"]]
