# Problem files: the synthetic family (tiny preset) and canonical JSONL of the real benchmarks.
# Inputs come from leti.workflow.freshness (rules/common.smk: fresh_inputs); each command writes its
# parameter record beside its outputs (--record).

rule synth:
    conda: "../envs/exec.yaml"
    input: unpack(fresh_inputs("synth")),
    output: multiext(f"{PLAN.pattern('synth_dir')}/", *[f"{f}.jsonl" for f in SYNTH_FILES]),
    log: f"{W}/logs/synth/seed={{s}}.log",
    benchmark: f"{W}/benchmarks/synth/seed={{s}}.tsv",
    resources: **CPU,
    params: out=lambda wc: PLAN.path("synth_dir", s=wc.s), record=record("synth"),
    shell: "leti synth --seed {wildcards.s} --out {params.out} --record {params.record} > {log} 2>&1"


rule bench_data:
    conda: "../envs/exec.yaml"
    input: unpack(fresh_inputs("bench_data")),
    output: PLAN.pattern("bench_problems"),
    params: args=lambda wc: specs.bench_data_args(config, wc.bench), root=config["data_root"], record=record("bench_data"),
    log: f"{W}/logs/data/{{bench}}.log",
    resources: **CPU,
    wildcard_constraints: bench=_alt(config["benchmarks"]),
    shell: "leti data {params.args} --data-root {params.root} --out {output} --record {params.record} > {log} 2>&1"


rule train_data:
    conda: "../envs/exec.yaml"
    input: unpack(fresh_inputs("train_data")),
    output: PLAN.pattern("train_problems"),
    params: args=lambda wc: specs.train_data_args(TRAIN_PROBLEMS[wc.task].params["task"]), root=config["data_root"], record=record("train_data"),
    log: f"{W}/logs/data/train-{{task}}.log",
    resources: **CPU,
    wildcard_constraints: task=_alt(TRAIN_PROBLEMS),
    shell: "leti data {params.args} --data-root {params.root} --out {output} --record {params.record} > {log} 2>&1"


rule pretrain_corpus:
    conda: "../envs/train.yaml"
    input: unpack(fresh_inputs("pretrain_corpus")),
    output:
        train=PLAN.pattern("pretrain_corpus"),
        heldout=PLAN.pattern("heldout_corpus"),
    params:
        source=lambda wc: HUB_CORPORA[wc.slug][0],
        data_dir=lambda wc: HUB_CORPORA[wc.slug][1].params["task"]["pretrain_data_dir"],
        n=lambda wc: HUB_CORPORA[wc.slug][1].params["task"]["pretrain_files"],
        split=lambda wc: HUB_CORPORA[wc.slug][1].params["task"]["heldout_split"],
        record=record("pretrain_corpus"),
    log: f"{W}/logs/data/pretrain-{{slug}}.log",
    resources: **CPU,
    wildcard_constraints: slug=_alt(HUB_CORPORA),
    shell:
        "leti pretrain-corpus --source {params.source} --data-dir {params.data_dir} --n {params.n} --split {params.split} "
        "--out {output.train} --heldout-out {output.heldout} --record {params.record} > {log} 2>&1"
