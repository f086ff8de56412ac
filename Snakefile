# leti-harness: the LeTI grid as a Snakemake DAG.
#   snakemake --cores 2             embedded tiny preset (config.yaml), CPU only
#   snakemake --profile slurm       the paper's grid (presets/paper.yaml) on a SLURM cluster
#   snakemake report --cores 1      tables + figures from the cached results/ only
from snakemake.utils import min_version

from leti.workflow.checks import validate_or_exit
from leti.workflow.locks import recover_stale_locks

min_version("9.0")
recover_stale_locks(workflow)  # locks left by a killed run on this host (README: resuming after a crash)


# A preset given with --configfile (or by a profile) replaces config.yaml instead of being merged
# into it, so a preset's axes and benchmarks are exactly what it says.
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


validate_or_exit(config, workflow)


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/model.smk"
include: "rules/loop.smk"
include: "rules/eval.smk"
include: "rules/vllm.smk"
include: "rules/report.smk"


# The report reads one manifest per run, which checks every result of the run: the report's files are
# the whole grid's target. (Only they: `snakemake --report` then looks only at files this checkout
# made, not at committed manifests it has no metadata for.)
rule all:
    input:
        REPORT_OUTPUTS,
    default_target: True
