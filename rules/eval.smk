# Evaluation of every checkpoint (iteration 0 = the base, shared by all arms) on every benchmark:
# one sampling job and one scoring job per (checkpoint, conditioning).

def eval_run(wc):
    return LOOKUP["eval"][(wc.ek, int(wc.it), wc.cond)]


EVAL_KEYS = {k for k, _, _ in LOOKUP["eval"]}


rule eval_sample:
    input:
        ckpt=lambda wc: PLAN.ckpt(eval_run(wc), int(wc.it)),
        problems=lambda wc: [PLAN.bench_problems(b) for b in PLAN.benchmarks_at(eval_run(wc), int(wc.it), wc.cond)],
    output: f"{W}/eval/{{ek}}/iter{{it}}/{{cond}}/samples.jsonl",
    params: spec=lambda wc: as_json(eval_sample_spec(eval_run(wc), int(wc.it), wc.cond)),
    log: f"{W}/logs/eval/{{ek}}/iter{{it}}/{{cond}}/sample.log",
    benchmark: f"{W}/benchmarks/eval/{{ek}}/iter{{it}}/{{cond}}/sample.tsv",
    threads: THREADS,
    resources: **gpu_resources(),
    wildcard_constraints: ek=_alt(EVAL_KEYS), it=r"\d+", cond="good|bad|none",
    shell:
        "leti sample --model {input.ckpt} --spec {params.spec} --conditioning {wildcards.cond} "
        "--out {output} --threads {threads} --no-progress > {log} 2>&1"


rule eval_score:
    input:
        problems=lambda wc: [PLAN.bench_problems(b) for b in PLAN.benchmarks_at(eval_run(wc), int(wc.it), wc.cond)],
        samples=f"{W}/eval/{{ek}}/iter{{it}}/{{cond}}/samples.jsonl",
    output:
        metrics=f"{R}/{{ek}}/iter{{it}}/{{cond}}/metrics.json",
        per_problem=f"{R}/{{ek}}/iter{{it}}/{{cond}}/per_problem.json",
    params:
        spec=lambda wc: as_json(eval_score_spec(eval_run(wc), int(wc.it), wc.cond)),
        meta=lambda wc: as_json(eval_meta(eval_run(wc), wc)),
    log: f"{W}/logs/eval/{{ek}}/iter{{it}}/{{cond}}/score.log",
    benchmark: f"{W}/benchmarks/eval/{{ek}}/iter{{it}}/{{cond}}/score.tsv",
    threads: 2,
    resources: **cpu_resources(),
    wildcard_constraints: ek=_alt(EVAL_KEYS), it=r"\d+", cond="good|bad|none",
    shell:
        "leti score --spec {params.spec} --samples {input.samples} --meta {params.meta} "
        "--per-sample {W}/eval/{wildcards.ek}/iter{wildcards.it}/{wildcards.cond}/per_sample.jsonl "
        "--cache {W}/cache/eval/{wildcards.ek}/iter{wildcards.it}/{wildcards.cond}.jsonl "
        "--per-problem {output.per_problem} --out {output.metrics} > {log} 2>&1"


rule heldout_loss:
    input:
        ckpt=lambda wc: PLAN.ckpt(LOOKUP["eval_any"][(wc.ek, int(wc.it))], int(wc.it)),
        data=lambda wc: PLAN.heldout_corpus(LOOKUP["eval_any"][(wc.ek, int(wc.it))]),
    output: f"{R}/{{ek}}/iter{{it}}/heldout_loss.json",
    log: f"{W}/logs/eval/{{ek}}/iter{{it}}/heldout_loss.log",
    threads: THREADS,
    resources: **cpu_resources(),
    wildcard_constraints: ek=_alt(EVAL_KEYS), it=r"\d+",
    shell: "leti lm-loss --model {input.ckpt} --data {input.data} --out {output} --threads {threads} > {log} 2>&1"


def eval_sample_spec(run, it, cond):
    spec = []
    for name in PLAN.benchmarks_at(run, it, cond):
        b = config["benchmarks"][name]
        spec.append({"benchmark": name, "problems": PLAN.bench_problems(name), "n": b["n"],
                     "temperature": b["temperature"], "top_p": b.get("top_p", 1.0),
                     "max_new_tokens": b["max_new_tokens"], "seed": run.seed * 1000 + it,
                     "limit": b.get("limit")})
    return spec


def eval_score_spec(run, it, cond):
    return [{"benchmark": name, "problems": PLAN.bench_problems(name),
             "strip_mode": run.params["eval"]["strip_mode"], "timeout": run.params["execute"]["timeout"],
             "memory_mb": run.params["execute"]["memory_mb"], "workers": run.params["execute"]["workers"]}
            for name in PLAN.benchmarks_at(run, it, cond)]


def eval_meta(run, wc):
    axes = run.axes if int(wc.it) > 0 else {a: run.axes[a] for a in axes_touching(config, STAGE_NAMESPACES["eval0"], STAGE_IGNORES["eval0"])}
    return {"eval_key": wc.ek, "iteration": int(wc.it), "conditioning": wc.cond, "axes": axes, "seed": run.seed,
            "preset": config.get("preset")}

