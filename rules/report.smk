# Tables, figures and the claims check, from results/ only. `snakemake report` never schedules an
# upstream job when the metrics are present, even with checkpoints and samples deleted: every input
# below is a results/ file, written by a rule whose outputs all lie under results/. The stamp lives
# in the git-ignored work dir, so a fresh clone always rebuilds the report (force it elsewhere with
# `--forcerun report`). `snakemake --report report.html` bundles the flagged outputs into one
# self-contained HTML file. Output lists and captions: rules/common.smk.

rule report:
    input: PLAN.all_metrics(),
    output:
        _report_outputs(),
        stamp=REPORT_STAMP,
    # key order kept (not as_json's sorted keys): the order of the axes makes the run ids
    params:
        cfg=lambda wc: shlex.quote(json.dumps(config)),
        out=lambda wc, output: os.path.dirname(next(f for f in output if f.endswith("claims.md"))),
    log: f"{W}/logs/report.log",
    conda: "../envs/report.yaml"
    resources: **CPU,
    shell: "leti report --config {params.cfg} --out {params.out} --stamp {output.stamp} > {log} 2>&1"
