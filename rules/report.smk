# Tables, figures and the claims check, from results/ only. `snakemake report` never schedules an
# upstream job when the metrics are present, even with checkpoints and samples deleted: every input
# below is a results/ file, written by a rule whose outputs all lie under results/.
# `snakemake --report report.html` bundles the flagged outputs into one self-contained HTML file.
import shlex

from leti.report import output_files

REPORT_DIR = f"{R}/report"
_REPORT_FILES = output_files(REPORT_DIR)
_CAPTIONS = "../leti/report/captions"


def _report_outputs():
    out = []
    for path in _REPORT_FILES["figures"]:
        if path.endswith(".png"):
            out.append(report(path, caption=f"{_CAPTIONS}/figure.rst", category="Figures"))
        else:
            out.append(path)
    for path in _REPORT_FILES["tables"]:
        if path.endswith(".csv"):
            out.append(report(path, caption=f"{_CAPTIONS}/table.rst", category="Tables"))
        else:
            out.append(path)
    for path in _REPORT_FILES["main"]:
        if path.endswith("claims.md"):
            out.append(report(path, caption=f"{_CAPTIONS}/claims.rst", category="Claims"))
        else:
            out.append(path)
    return out


REPORT_OUTPUTS = [str(p) for p in _REPORT_FILES["main"] + _REPORT_FILES["tables"] + _REPORT_FILES["figures"]]


rule report:
    input: PLAN.all_metrics(),
    output: _report_outputs(),
    # key order kept (not as_json's sorted keys): the order of the axes makes the run ids
    params: cfg=lambda wc: shlex.quote(json.dumps(config)),
    log: f"{W}/logs/report.log",
    resources: **cpu_resources(),
    shell: "leti report --config {params.cfg} --out {REPORT_DIR} > {log} 2>&1"
