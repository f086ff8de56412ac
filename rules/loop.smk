# The LeTI loop, iteration i: sample (checkpoint i-1) -> programs + execute (sandbox) -> FCFT data + train.
# Iteration-1 samples and executions are keyed by `shared/...` and reused by every arm. A checkpoint's
# evaluation samples are drawn by its own job (rules/eval.smk), so an evaluation change never retrains.
# The loop is the DAG's long chain: its jobs go first, evaluations (leaves) fill the free cores.
LOOP_PRIORITY = 10

rule sample_train:
    conda: "../envs/train.yaml"
    input: unpack(fresh_inputs("sample_train")),
    output: PLAN.pattern("train_samples"),
    params:
        spec=lambda wc: as_json([specs.train_sample_item(PLAN, loop_run(wc), int(wc.it))]),
        engine=lambda wc, input: specs.engine_args(loop_run(wc), input),
        torch_threads=THREADS,
        record=record("sample_train"),
    log: f"{W}/logs/loop/{{lk}}/iter{{it}}/sample.log",
    benchmark: f"{W}/benchmarks/loop/{{lk}}/iter{{it}}/sample.tsv",
    threads: THREADS,
    priority: LOOP_PRIORITY,
    resources: **model_rules("gpu", loop_run),
    wildcard_constraints: lk=_alt(LOOP_KEYS), it=r"\d+",
    shell: "leti sample --model {input.ckpt} --spec {params.spec} --out {output} --threads {params.torch_threads} {params.engine} --record {params.record} > {log} 2>&1"


# Post-processes the samples into programs, executes them in the sandbox, then gives EAE programs their
# final verdict (rule-based verifier) once, here. One job, two commands: the programs file is only this
# job's intermediate, so a job of its own would cost a process (an sbatch on a cluster) and planning time.
rule execute_train:
    conda: "../envs/exec.yaml"
    input: unpack(fresh_inputs("execute_train")),
    output:
        programs=PLAN.pattern("train_programs"),
        executions=PLAN.pattern("train_exec"),
    params:
        pp=lambda wc: specs.programs_args(loop_run(wc)),
        execute=lambda wc: specs.execute_args(loop_run(wc)),
        record=record("execute_train"),
    log: f"{W}/logs/loop/{{lk}}/iter{{it}}/execute.log",
    benchmark: f"{W}/benchmarks/loop/{{lk}}/iter{{it}}/execute.tsv",
    threads: WORKERS or (lambda wc: loop_run(wc).params["execute"]["workers"]),  # the executor pool's size
    priority: LOOP_PRIORITY,
    resources: **CPU,
    wildcard_constraints: lk=_alt(LOOP_KEYS), it=r"\d+",
    shell:
        "leti programs --problems {input.problems} --samples {input.samples} {params.pp} --out {output.programs} > {log} 2>&1 && "
        "leti execute {output.programs} {output.executions} --problems {input.problems} {params.execute} "
        "--cache {output.executions}.cache --record {params.record} >> {log} 2>&1"


HELDOUT = bool(config.get("heldout_loss", True))
TRAIN_OUTPUTS = dict(ckpt=directory(PLAN.pattern("ckpt")),
                     summary=PLAN.pattern("train_summary"),
                     loss=PLAN.pattern("loss_csv"),
                     **({"heldout": PLAN.pattern("heldout_loss", ek="runs/{rid}")} if HELDOUT else {}),
                     examples=PLAN.pattern("fcft_examples"),
                     stats=PLAN.pattern("train_stats"))


# Builds the iteration's FCFT data (seconds), trains on it, then writes the checkpoint's summary and its
# held-out LM loss (one model load). The FCFT data is only this job's input: one job, two commands.
rule train:
    conda: "../envs/train.yaml"
    input: unpack(fresh_inputs("train")),
    output: **TRAIN_OUTPUTS,
    params:
        fcft=lambda wc: specs.fcft_args(the_run(wc)),
        # (a job whose results exist and match has no inputs: fresh_inputs)
        heldout=lambda wc, input, output: (f"--heldout {input.heldout} --heldout-out {output.heldout}"
                                           if HELDOUT and hasattr(input, "heldout") else ""),
        cfg=lambda wc: as_json(the_run(wc).params["train"]),
        meta=lambda wc: as_json(specs.train_meta(the_run(wc))),
        record=record("train"),
        torch_threads=THREADS,
    log: f"{W}/logs/loop/{{rid}}/iter{{it}}/train.log",
    benchmark: f"{W}/benchmarks/loop/{{rid}}/iter{{it}}/train.tsv",
    threads: THREADS,
    priority: LOOP_PRIORITY,
    resources: **model_rules("gpu", the_run),
    wildcard_constraints: rid=_alt(RUN_IDS), it=r"\d+",
    shell:
        "leti fcft-data --problems {input.problems} --samples {input.samples} --executions {input.executions} "
        "{params.fcft} --out {output.examples} --stats {output.stats} > {log} 2>&1 && "
        "leti train --init {input.init} --examples {output.examples} --pretrain {input.pretrain} --out {output.ckpt} "
        "--iteration {wildcards.it} --config {params.cfg} --run-meta {params.meta} --loss-csv {output.ckpt}/loss.csv "
        "--summary {output.summary} --summary-loss-csv {output.loss} "
        "{params.heldout} --threads {params.torch_threads} --record {params.record} >> {log} 2>&1"
