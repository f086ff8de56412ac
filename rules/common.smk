# The plan: runs, artefact paths and lookups from (wildcards) back to runs. Logic in leti.workflow.
import json
import re
import sys

from leti.errors import UserError
from leti.workflow.plan import STAGE_IGNORES, STAGE_NAMESPACES, Plan, axes_touching
from leti.workflow.checks import check_config

try:
    check_config(config)
    PLAN = Plan(config)
except UserError as exc:
    sys.exit(f"config error: {exc}")

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
