# Evaluation of every checkpoint (iteration 0 = the base, shared by all arms) on every benchmark: one
# sampling job per checkpoint (every benchmark and conditioning, one model load) and one scoring job per
# (checkpoint, conditioning).

rule eval_sample:
    conda: "../envs/train.yaml"
    input: unpack(fresh_inputs("eval_sample")),
    output: PLAN.pattern("eval_samples"),
    params:
        spec=lambda wc: as_json(specs.eval_sample_spec(PLAN, eval_any_run(wc), int(wc.it))),
        engine=lambda wc, input: specs.engine_args(eval_any_run(wc), input),
        torch_threads=THREADS,
        record=record("eval_sample"),
    log: f"{W}/logs/eval/{{ek}}/iter{{it}}/sample.log",
    benchmark: f"{W}/benchmarks/eval/{{ek}}/iter{{it}}/sample.tsv",
    threads: THREADS,
    resources: **model_rules("gpu", eval_any_run),
    wildcard_constraints: ek=_alt(EVAL_KEYS), it=r"\d+",
    shell: "leti sample --model {input.ckpt} --spec {params.spec} --out {output} --threads {params.torch_threads} {params.engine} --record {params.record} > {log} 2>&1"


rule eval_score:
    conda: "../envs/exec.yaml"
    input: unpack(fresh_inputs("eval_score")),
    output:
        metrics=PLAN.pattern("metrics"),
        per_problem=PLAN.pattern("per_problem"),
    params:
        spec=lambda wc: as_json(specs.eval_score_spec(PLAN, eval_run(wc), int(wc.it), wc.cond)),
        meta=lambda wc: as_json(specs.eval_meta(PLAN, eval_run(wc), wc.ek, int(wc.it), wc.cond)),
        record=record("eval_score"),
    log: f"{W}/logs/eval/{{ek}}/iter{{it}}/{{cond}}/score.log",
    benchmark: f"{W}/benchmarks/eval/{{ek}}/iter{{it}}/{{cond}}/score.tsv",
    threads: WORKERS or (lambda wc: eval_run(wc).params["execute"]["workers"]),  # the executor pool's size
    resources: **CPU,
    wildcard_constraints: ek=_alt(EVAL_KEYS), it=r"\d+", cond="good|bad|none",
    shell:
        "leti score --spec {params.spec} --samples {input.samples} --conditioning {wildcards.cond} --meta {params.meta} "
        f"--per-sample {shell_path('per_sample')} --cache {shell_path('score_cache')} "
        "--per-problem {output.per_problem} --out {output.metrics} --record {params.record} > {log} 2>&1"


# Held-out LM loss of the base (iteration 0); `leti train` measures every checkpoint it writes itself.
# A forward pass of the base over the held-out shard: the GPU partition, like the training jobs that
# measure the later checkpoints (on CPU, CodeGen-2B over The Stack's held-out files would take hours).
rule heldout_loss:
    conda: "../envs/train.yaml"
    input: unpack(fresh_inputs("heldout_loss")),
    output: PLAN.pattern("heldout_loss"),
    params: record=record("heldout_loss"), torch_threads=THREADS,
    log: f"{W}/logs/eval/{{ek}}/iter{{it}}/heldout_loss.log",
    threads: THREADS,
    resources: **model_rules("gpu", heldout_run),
    wildcard_constraints: ek=_alt(HELDOUT_KEYS), it="0",
    shell: "leti lm-loss --model {input.ckpt} --data {input.data} --out {output} --threads {params.torch_threads} --record {params.record} > {log} 2>&1"
