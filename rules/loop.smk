# The LeTI loop, iteration i: sample (checkpoint i-1) -> programs -> execute (sandbox) -> FCFT data -> train.
# Iteration-1 samples and executions are keyed by `shared/...` and reused by every arm. A checkpoint's
# evaluation samples are drawn by its own job (rules/eval.smk), so an evaluation change never retrains.
# The loop is the DAG's long chain: its jobs go first, evaluations (leaves) fill the free cores.
LOOP_PRIORITY = 10

rule sample_train:
    conda: "../envs/train.yaml"
    input: unpack(fresh_inputs("sample_train")),
    output: PLAN.pattern("train_samples"),
    params: spec=lambda wc: as_json([specs.train_sample_item(PLAN, loop_run(wc), int(wc.it))]), record=record("sample_train"),
    log: f"{W}/logs/loop/{{lk}}/iter{{it}}/sample.log",
    benchmark: f"{W}/benchmarks/loop/{{lk}}/iter{{it}}/sample.tsv",
    threads: THREADS,
    priority: LOOP_PRIORITY,
    resources: **GPU,
    wildcard_constraints: lk=_alt(LOOP_KEYS), it=r"\d+",
    shell: "leti sample --model {input.ckpt} --spec {params.spec} --out {output} --threads {threads} --record {params.record} > {log} 2>&1"


rule programs_train:
    conda: "../envs/exec.yaml"
    input: unpack(fresh_inputs("programs_train")),
    output: PLAN.pattern("train_programs"),
    params: pp=lambda wc: specs.programs_args(loop_run(wc)), record=record("programs_train"),
    log: f"{W}/logs/loop/{{lk}}/iter{{it}}/programs.log",
    priority: LOOP_PRIORITY,
    resources: **CPU,
    wildcard_constraints: lk=_alt(LOOP_KEYS), it=r"\d+",
    shell: "leti programs --problems {input.problems} --samples {input.samples} {params.pp} --out {output} --record {params.record} > {log} 2>&1"


# Executes in the sandbox, then gives EAE programs their final verdict (rule-based verifier) once, here.
rule execute_train:
    conda: "../envs/exec.yaml"
    input: unpack(fresh_inputs("execute_train")),
    output: PLAN.pattern("train_exec"),
    params:
        workers=lambda wc: loop_run(wc).params["execute"]["workers"],
        occurrence=lambda wc: loop_run(wc).params["execute"]["eae_occurrence"],
        verdict=lambda wc: loop_run(wc).params["execute"]["verdict"],
        timeout=lambda wc: loop_run(wc).params["execute"]["timeout"],
        memory=lambda wc: loop_run(wc).params["execute"]["memory_mb"],
        python=lambda wc: (f"--python {loop_run(wc).params['execute']['python']}"
                           if loop_run(wc).params["execute"]["python"] else ""),
        record=record("execute_train"),
    log: f"{W}/logs/loop/{{lk}}/iter{{it}}/execute.log",
    benchmark: f"{W}/benchmarks/loop/{{lk}}/iter{{it}}/execute.tsv",
    threads: lambda wc: loop_run(wc).params["execute"]["workers"],
    priority: LOOP_PRIORITY,
    resources: **CPU,
    wildcard_constraints: lk=_alt(LOOP_KEYS), it=r"\d+",
    shell:
        "leti execute {input.programs} {output} --problems {input.problems} --workers {params.workers} "
        "--eae-occurrence {params.occurrence} --verdict {params.verdict} --timeout {params.timeout} --memory-mb {params.memory} {params.python} "
        "--cache {output}.cache --record {params.record} > {log} 2>&1"


rule fcft_data:
    conda: "../envs/exec.yaml"
    input: unpack(fresh_inputs("fcft_data")),
    output:
        examples=PLAN.pattern("fcft_examples"),
        stats=PLAN.pattern("train_stats"),
    params: args=lambda wc: specs.fcft_args(the_run(wc)), record=record("fcft_data"),
    log: f"{W}/logs/loop/{{rid}}/iter{{it}}/fcft_data.log",
    priority: LOOP_PRIORITY,
    resources: **CPU,
    wildcard_constraints: rid=_alt(RUN_IDS), it=r"\d+",
    shell:
        "leti fcft-data --problems {input.problems} --samples {input.samples} --executions {input.executions} "
        "{params.args} --out {output.examples} --stats {output.stats} --record {params.record} > {log} 2>&1"


HELDOUT = bool(config.get("heldout_loss", True))
TRAIN_OUTPUTS = dict(ckpt=directory(PLAN.pattern("ckpt")),
                     summary=PLAN.pattern("train_summary"),
                     loss=PLAN.pattern("loss_csv"),
                     **({"heldout": PLAN.pattern("heldout_loss", ek="runs/{rid}")} if HELDOUT else {}))


# Trains one iteration, then writes the checkpoint's summary and its held-out LM loss (one model load).
rule train:
    conda: "../envs/train.yaml"
    input: unpack(fresh_inputs("train")),
    output: **TRAIN_OUTPUTS,
    params:
        # (a job whose results exist and match has no inputs: fresh_inputs)
        heldout=lambda wc, input, output: (f"--heldout {input.heldout} --heldout-out {output.heldout}"
                                           if HELDOUT and hasattr(input, "heldout") else ""),
        cfg=lambda wc: as_json(the_run(wc).params["train"]),
        meta=lambda wc: as_json(specs.train_meta(the_run(wc))),
        record=record("train"),
    log: f"{W}/logs/loop/{{rid}}/iter{{it}}/train.log",
    benchmark: f"{W}/benchmarks/loop/{{rid}}/iter{{it}}/train.tsv",
    threads: THREADS,
    priority: LOOP_PRIORITY,
    resources: **GPU,
    wildcard_constraints: rid=_alt(RUN_IDS), it=r"\d+",
    shell:
        "leti train --init {input.init} --examples {input.examples} --pretrain {input.pretrain} --out {output.ckpt} "
        "--iteration {wildcards.it} --config {params.cfg} --run-meta {params.meta} --loss-csv {output.ckpt}/loss.csv "
        "--summary {output.summary} --summary-loss-csv {output.loss} "
        "{params.heldout} --threads {threads} --record {params.record} > {log} 2>&1"
