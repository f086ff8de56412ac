#!/usr/bin/env bash
# The GPU figures of docs/gpu.md §7, in one prepared run (a lent GPU node gives ~10 minutes).
# Usage (repo root, on the GPU node): OUT=/some/dir bash bench/gpu_suite.sh
#   the sampling engines only:       ONLY=sampling VLLM_PY=/path/to/python-with-vllm OUT=/some/dir bash bench/gpu_suite.sh
# Each step has its own time limit so that one slow step cannot eat the others' figures.
set -u
OUT=${OUT:-bench-gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
PY=${PY:-python3}
# The project pins transformers 5.24 (CodeGen gained SDPA support after 5.17); a node whose image
# holds an older one gets the pinned wheel from ./.whl if it was carried there.
if ls .whl/transformers-*.whl >/dev/null 2>&1; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv | tee "$OUT/nvidia-smi.txt"
$PY -c "import torch, transformers; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'transformers', transformers.__version__)" | tee "$OUT/versions.txt"
step() {  # step NAME SECONDS ARGS...
    local name=$1 secs=$2; shift 2
    echo "== $name (limit ${secs}s) =="
    timeout -s INT "$secs" $PY bench/gpu.py "$@" --out "$OUT/$name.json" 2>&1 | tee "$OUT/$name.log"
}
if [ "${ONLY:-}" != sampling ]; then
step bench-350m        ${T350:-190} --shape 350m
step bench-350m-micro32 ${T350M32:-80} --shape 350m --skip-sampling --micro 32 --fused-gelu
step bench-2b          ${T2B:-150} --shape 2b --skip-sampling
step bench-2b-sample   ${T2BS:-90} --shape 2b --skip-train
fi
# Sampling engines (issue 25), both in one run: TorchSampler vs vLLM at 350M and 2B (MODELS=350m for 350M
# only), goals printed as ratios (vLLM >= 10x TorchSampler, >= 30k new tokens/s at 350M). ONLY=sampling runs
# just this step (~6 min on an H200 for both sizes). vLLM comes from VLLM_PY (a Python that has vllm 0.32,
# e.g. a site image or `leti vllm-env --env cuda` run beforehand) or is installed here by `leti vllm-env
# --env cuda` (needs the package index: docs/gpu.md §5 has the exact install line and pins).
echo "== sampling engines (limit ${TSAMP:-480}s) =="
timeout -s INT ${TSAMP:-480} $PY bench/sampling.py --device cuda --models ${MODELS:-350m,2b} --reps ${REPS:-2} \
    --vllm-env ${VLLM_PY:-cuda} --out "$OUT/sampling.json" 2>&1 | tee "$OUT/sampling.log"
