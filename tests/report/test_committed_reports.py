"""Committed reports are never stale: each one under results/ is rebuilt from the committed results with
the config it records (provenance.json) and must come out byte for byte, figures included; the README's
summary of the claims is generated from them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from leti.report.cli import build
from leti.report.summary import README_BEGIN, README_END, committed_reports, readme_block

REPO = Path(__file__).parents[2]
REPORTS = committed_reports(REPO)
WORKFLOW_RECORDS = {"params.json"}  # the workflow's record of the report job, not an output of `leti report`


def test_every_committed_report_is_found():
    rel = {str(p.relative_to(REPO)) for p in REPORTS}
    assert {"results/report", "results/report-3seeds", "results/rehearsal/report"} <= rel


@pytest.mark.parametrize("report", REPORTS, ids=lambda p: str(p.relative_to(REPO)))
def test_committed_report_is_what_the_code_builds_from_the_committed_results(report, tmp_path):
    prov = json.loads((report / "provenance.json").read_text())
    assert "config_json" in prov, f"{report}: provenance.json records no config; rebuild it with `leti report`"
    config = json.loads(prov["config_json"])
    build(config, str(tmp_path / "out"), results=str(REPO / config["results"]))
    committed = {p.relative_to(report) for p in report.rglob("*") if p.is_file() and p.name not in WORKFLOW_RECORDS}
    rebuilt = {p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert committed == rebuilt
    stale = [str(p) for p in sorted(rebuilt) if (report / p).read_bytes() != (tmp_path / "out" / p).read_bytes()]
    assert not stale, (f"{report.relative_to(REPO)} is stale ({len(stale)} files differ, e.g. {stale[:3]}): rebuild "
                       "the committed reports with `python -m leti.report.summary --rebuild`")


def test_readme_summary_of_the_claims_is_generated_from_the_committed_reports():
    text = (REPO / "README.md").read_text()
    assert README_BEGIN in text and README_END in text
    current = text[text.index(README_BEGIN):text.index(README_END) + len(README_END)]
    assert current == readme_block(REPO), "run `python -m leti.report.summary` to regenerate the README's claims summary"
