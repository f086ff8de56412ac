# Problem files: the synthetic family (tiny preset) and canonical JSONL of the real benchmarks.

rule synth:
    conda: "../envs/exec.yaml"
    output:
        multiext(f"{W}/data/synth/seed={{s}}/", "train.jsonl", "test.jsonl", "transfer.jsonl",
                 "retention.jsonl", "corpus.jsonl", "heldout.jsonl"),
    log: f"{W}/logs/synth/seed={{s}}.log",
    benchmark: f"{W}/benchmarks/synth/seed={{s}}.tsv",
    resources: **cpu_resources(),
    params: out=lambda wc: f"{W}/data/synth/seed={wc.s}",
    shell: "leti synth --seed {wildcards.s} --out {params.out} > {log} 2>&1"


rule bench_data:
    conda: "../envs/exec.yaml"
    output: f"{W}/data/bench/{{bench}}.jsonl",
    params: args=lambda wc: bench_data_args(wc.bench), root=config["data_root"],
    log: f"{W}/logs/data/{{bench}}.log",
    resources: **cpu_resources(),
    wildcard_constraints: bench=_alt(config["benchmarks"]),
    shell: "leti {params.args} --data-root {params.root} --out {output} > {log} 2>&1"


rule train_data:
    conda: "../envs/exec.yaml"
    output: f"{W}/data/train/{{task}}.jsonl",
    params: args=lambda wc: train_data_args(wc.task), root=config["data_root"],
    log: f"{W}/logs/data/train-{{task}}.log",
    resources: **cpu_resources(),
    wildcard_constraints: task="mbpp|eae",
    shell: "leti {params.args} --data-root {params.root} --out {output} > {log} 2>&1"


rule pretrain_corpus:
    conda: "../envs/train.yaml"
    output:
        train=f"{W}/data/pretrain/{{slug}}.jsonl",
        heldout=f"{W}/data/pretrain/{{slug}}.heldout.jsonl",
    params: source=lambda wc: wc.slug.replace("__", "/"),
    log: f"{W}/logs/data/pretrain-{{slug}}.log",
    resources: **cpu_resources(),
    wildcard_constraints: slug=r"[^/.]+",
    shell:
        "leti pretrain-corpus --source {params.source} --data-dir data/python --n 50000 "
        "--out {output.train} --heldout-out {output.heldout} > {log} 2>&1"
