#!/bin/sh
# Private one-node SLURM cluster for tests: start | stop | status | install | env
#   tests/slurm/cluster.sh start            # installs slurm-wlm+munge via apt if missing (root)
#   eval "$(tests/slurm/cluster.sh env)"    # export SLURM_CONF for this shell
#   snakemake --profile slurm --profile tests/slurm/profile
#   tests/slurm/cluster.sh stop
# Directory: $LETI_SLURM_DIR or --dir DIR (default /tmp/leti-slurm).  Implementation: cluster.py
here=$(dirname "$0")
exec python3 "$here/cluster.py" "$@"
