# The base model (iteration 0): the tiny GPT-2 trained here, or a hub/local model with LeTI's tokens.

rule tokenizer:
    conda: "../envs/train.yaml"
    input: unpack(fresh_inputs("tokenizer")),
    output: directory(PLAN.pattern("tokenizer")),
    params: vocab=lambda wc: base_run(wc).params["model"]["tokenizer"]["vocab_size"], record=record("tokenizer"),
    log: f"{W}/logs/base/{{bk}}/tokenizer.log",
    resources: **CPU,
    wildcard_constraints: bk=_alt(TINY_BASES),
    shell: "leti tokenizer --corpus {input.corpus} --vocab-size {params.vocab} --out {output} --record {params.record} > {log} 2>&1"


rule pretrain:
    conda: "../envs/train.yaml"
    input: unpack(fresh_inputs("pretrain")),
    output: directory(PLAN.pattern("base_ckpt")),
    params:
        cfg=lambda wc: as_json(base_run(wc).params["model"]["pretrain"]),
        seed=lambda wc: base_run(wc).params["model"]["pretrain_seed"],
        record=record("pretrain"),
        torch_threads=PRETRAIN_THREADS,
    log: f"{W}/logs/base/{{bk}}/pretrain.log",
    benchmark: f"{W}/benchmarks/base/{{bk}}/pretrain.tsv",
    threads: PRETRAIN_THREADS,  # nothing else can run before the base exists
    resources: **model_rules("gpu", base_run),
    wildcard_constraints: bk=_alt(TINY_BASES),
    shell:
        "leti pretrain --tokenizer {input.tokenizer} --corpus {input.corpus} --config {params.cfg} "
        "--seed {params.seed} --threads {params.torch_threads} --out {output} --record {params.record} > {log} 2>&1"


rule init_model:
    conda: "../envs/train.yaml"
    input: unpack(fresh_inputs("init_model")),
    output: directory(PLAN.pattern("base_ckpt")),
    params: source=lambda wc: base_run(wc).params["model"]["source"], record=record("init_model"),
    log: f"{W}/logs/base/{{bk}}/init.log",
    resources: **model_rules("cpu", base_run),  # loads the weights: sized per model
    wildcard_constraints: bk=_alt(HUB_BASES),
    shell: "leti init-model --model {params.source} --out {output} --record {params.record} > {log} 2>&1"
