# params.sample.engine: vllm - the sampling environment (built once per machine and user, in the user's
# cache: leti.sampling.vllm_env) and each hub checkpoint as vLLM loads it (CodeGen rewritten exactly as GPT-J).
VLLM_CKPTS = [j.wildcards["ckpt"] for j in CATALOG.of_rule("vllm_model")]


# Runs where the workflow runs (the login node under SLURM: it installs from the package index).
rule vllm_env:
    conda: "../envs/train.yaml"   # the builder; the vLLM environment itself is a venv (envs/vllm-*.txt)
    input: unpack(fresh_inputs("vllm_env")),
    output: PLAN.pattern("vllm_env"),
    params:
        env=shlex.quote(str(config.get("vllm_env", "auto"))),
        record=record("vllm_env"),
    log: f"{W}/logs/vllm_env.log",
    localrule: True,
    shell: "leti vllm-env --env {params.env} --out {output} --record {params.record} > {log} 2>&1"


rule vllm_model:
    conda: "../envs/train.yaml"
    input: unpack(fresh_inputs("vllm_model")),
    output: temp(directory(PLAN.pattern("vllm_model"))),  # deleted once its sampling jobs are done (a copy of the weights)
    params: record=record("vllm_model"),
    log: "{ckpt}-vllm.log",
    resources: **CPU,
    wildcard_constraints: ckpt=_alt(VLLM_CKPTS),
    shell: "leti vllm-model --model {input.ckpt} --out {output} --record {params.record} > {log} 2>&1"
