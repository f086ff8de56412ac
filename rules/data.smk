# Problem files: the synthetic family (tiny preset) and canonical JSONL of the real benchmarks.

rule synth:
    output:
        multiext(f"{W}/data/synth/seed={{s}}/", "train.jsonl", "test.jsonl", "transfer.jsonl",
                 "retention.jsonl", "corpus.jsonl", "heldout.jsonl"),
    log: f"{W}/logs/synth/seed={{s}}.log",
    benchmark: f"{W}/benchmarks/synth/seed={{s}}.tsv",
    resources: **cpu_resources(),
    shell: "leti synth --seed {wildcards.s} --out {W}/data/synth/seed={wildcards.s} > {log} 2>&1"


rule bench_data:
    output: f"{W}/data/bench/{{bench}}.jsonl",
    params: args=lambda wc: bench_data_args(wc.bench),
    log: f"{W}/logs/data/{{bench}}.log",
    resources: **cpu_resources(),
    wildcard_constraints: bench=_alt(config["benchmarks"]),
    shell: "leti {params.args} --data-root {config[data_root]} --out {output} > {log} 2>&1"


rule train_data:
    output: f"{W}/data/train/{{task}}.jsonl",
    params: args=lambda wc: train_data_args(wc.task),
    log: f"{W}/logs/data/train-{{task}}.log",
    resources: **cpu_resources(),
    wildcard_constraints: task="mbpp|eae",
    shell: "leti {params.args} --data-root {config[data_root]} --out {output} > {log} 2>&1"


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
