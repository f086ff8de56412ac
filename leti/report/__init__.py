"""`leti report`: tables, figures and the claims check, rebuilt from results/ only.

    leti report --config CONFIG --out RESULTS/report

Reads (via `leti.workflow.plan.Plan`) every metrics JSON, optional per_problem.json, held-out
loss, train_stats/train_summary and loss.csv of the grid and writes, byte-identically for the
same results:

    tables.md, tables.tex            every table (paper value, ours, Δ; notes; config hash + versions)
    tables/<name>.{md,csv,tex}       one table each (names: TABLE_NAMES)
    figures/<name>.{png,pdf}         FIGURE_NAMES (a figure that cannot be drawn says why)
    claims.md, claims.json           the claims check (effect, 95% CI, verdict)
    metrics.csv                      every numeric result, one row per value (leti.report.frame; pd.read_csv)
    provenance.json                  config hash, versions, per-benchmark comparability signature
"""
from __future__ import annotations

TABLE_NAMES = (
    "mbpp_error_types", "mbpp_pass1_iterations", "humaneval", "gsm8k_bbh", "eae",
    "synth_test_pass1_iterations", "synth_test_error_types_iterations", "synth_transfer", "synth_retention",
    "heldout_loss", "train_pass_rate", "conditioning", "sample_efficiency", "eae_correlation", "prompt_budget",
    "verdicts", "verdict_differences",
)
FIGURE_NAMES = ("pass1_iterations", "pass1_fcft_steps", "error_types", "eae")


def output_files(out_dir: str) -> dict[str, list[str]]:
    """Every file `leti report` writes, by kind (the Snakemake rule declares these)."""
    d = out_dir.rstrip("/")
    return {
        "tables": [f"{d}/tables/{n}.{e}" for n in TABLE_NAMES for e in ("md", "csv", "tex")],
        "figures": [f"{d}/figures/{n}.{e}" for n in FIGURE_NAMES for e in ("png", "pdf")],
        "main": [f"{d}/tables.md", f"{d}/tables.tex", f"{d}/claims.md", f"{d}/claims.json", f"{d}/metrics.csv",
                 f"{d}/provenance.json"],
    }
