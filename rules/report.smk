# Tables, figures and the claims check, from results/ only. `snakemake report` never schedules an
# upstream job when the metrics are present, even with checkpoints and samples deleted.

REPORT_DIR = f"{R}/report"
REPORT_OUTPUTS = [f"{REPORT_DIR}/summary.csv", f"{REPORT_DIR}/tables.md", f"{REPORT_DIR}/claims.md"]


rule report:
    input: PLAN.all_metrics(),
    output:
        REPORT_OUTPUTS,
        stamp=temp(f"{W}/report.stamp"),
    params: cfg=lambda wc: as_json(config),
    log: f"{W}/logs/report.log",
    resources: **cpu_resources(),
    shell: "leti report --config {params.cfg} --out {REPORT_DIR} --stamp {output.stamp} > {log} 2>&1"
