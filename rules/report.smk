# Tables, figures and the claims check, from results/ only. The report depends on one manifest per
# run (results/runs/<run>/manifest.json), which lists the run's result files with their parameter
# records after checking them against the plan. File times never trigger a job; what reruns is decided
# from the records (leti.workflow.decide), so `snakemake report` schedules no upstream job when the
# results exist and match, whatever the file times, even with checkpoints and samples deleted, and
# stops with one line when they do not. The stamp lives in
# the git-ignored work dir, so a fresh clone always rebuilds the report (force it elsewhere with
# `--forcerun report`). `snakemake --report report.html` bundles the flagged outputs into one
# self-contained HTML file. Output lists and captions: rules/common.smk.

localrules: run_manifest


rule report:
    input: unpack(fresh_inputs("report")),
    output:
        _report_outputs(),
        stamp=REPORT_STAMP,
    # key order kept (not as_json's sorted keys): the order of the axes makes the run ids
    params:
        cfg=lambda wc: shlex.quote(json.dumps(config)),
        out=lambda wc, output: os.path.dirname(next(f for f in output if f.endswith("claims.md"))),
        record=record("report"),
    log: f"{W}/logs/report.log",
    conda: "../envs/report.yaml"
    resources: **CPU,
    shell:
        "leti report --config {params.cfg} --out {params.out} --stamp {output.stamp} --verify-records "
        "--record {params.record} > {log} 2>&1"


# One run's results, checked against the plan (one line naming the file, the run and the differing
# parameters when one does not match), then listed with their records.
rule run_manifest:
    input: unpack(fresh_inputs("run_manifest")),
    output: PLAN.pattern("run_manifest"),
    log: f"{W}/logs/manifest/{{rid}}.log",
    conda: "../envs/report.yaml"
    wildcard_constraints: rid=_alt(RUN_IDS),
    run:
        CATALOG.write_manifest(CATALOG.job("run_manifest", wildcards))
