"""Every poster number sits beside the reading the poster used: the arm and the iteration the original
evaluated, the reward token, the temperature; and the claims test exactly the numbers the tables show.

Checked on the paper grid itself (presets/paper.yaml) with a synthetic results tree whose every value
identifies its reading (tests/report/synthetic_results.py)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from leti.report import paper as P
from leti.report.cli import build
from leti.report.collect import Results
from leti.report.stats import pass_at_k
from leti.report.tables import Builder

from synthetic_results import rate

REPO = Path(__file__).parents[2]
PAPER = yaml.safe_load((REPO / "presets" / "paper.yaml").read_text())


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    from synthetic_results import write_results

    tmp = tmp_path_factory.mktemp("paper")
    cfg = write_results(PAPER, str(tmp / "results"))
    build(cfg, str(tmp / "report"), figures=False)
    res = Results(cfg)
    return cfg, tmp / "report", res, Builder(res)


def _csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _arm(grid, model, label):
    _, _, res, b = grid
    (arm,) = [a for a in res.arms.values() if a.axes["model"] == model and b.arm_names[a.id] == label]
    return arm


def _value(grid, arm, it, cond, bench, variant, k=1):
    """What the synthetic tree holds for this reading: pass@k in %, as the tables show it."""
    cfg, _, res, _ = grid
    run = arm.runs[0]
    n = int(cfg["benchmarks"][bench]["n"])
    c = round(rate(res.plan.eval_key(run, it), it, cond, bench, variant) * n)
    return 100 * pass_at_k(n, c, k)


def test_the_paper_preset_stops_each_arm_where_the_original_evaluated_it(grid):
    _, _, res, b = grid
    seen = {}
    for ctx in res.contexts():
        model, _ = b.paper_model(ctx)
        for name, arm, row in b._curve_rows(ctx):
            if row is not None:
                seen[(model, row.label)] = res.last(arm)
    assert seen == P.ORIGINAL_ITERATION
    # the two post-processing runs: +postprocess (no language feedback) and +postprocess+langfb
    pp, lf = _arm(grid, "2B", P.PP), _arm(grid, "2B", P.PP + " + language feedback")
    assert pp.runs[0].params["fcft"]["postprocess_feedback"] is False
    assert lf.runs[0].params["fcft"]["postprocess_feedback"] is True
    assert pp.runs[0].params["sample"]["postprocess_mode"] == lf.runs[0].params["sample"]["postprocess_mode"] == "leti"
    # the EAE arm post-processes its generations as the original did: that is its task, not "trained w/
    # post-processing"; it is named for what it is
    (eae,) = [a for a in res.arms.values() if a.axes["task"] == "eae"]
    assert b.arm_names[eae.id] == "LeTI on EAE, w/o regularization" and b.poster_row(eae) is None


def test_humaneval_rows_read_no_token_at_the_codex_temperatures(grid):
    _, out, res, _ = grid
    rows = [r for r in _csv(out / "tables" / "humaneval.csv") if r["pass@1 paper"]]
    assert len(rows) == 3 + 5  # 350M: pre-trained, LeTI, binary; 2B: those, and both post-processing runs
    for r in rows:
        model = r["context"].split("=")[1]
        label = r["model"]
        if label == "pre-trained":
            arm, it = _arm(grid, model, "LeTI"), 0
            assert r["paper source"] == P.SOURCE_CODEGEN and r["reading"] == "it 0, no token; T=0.2/0.6/0.8"
        else:
            arm = _arm(grid, model, label)
            it = P.ORIGINAL_ITERATION[(model, label)]
            assert r["paper source"] == P.SOURCE_POSTER and r["reading"] == f"it {it}, no token; T=0.2/0.6/0.8"
        poster = P.HUMANEVAL[(model, P.ROW_BY_LABEL[label].poster_label)]
        for k, bench, p in zip((1, 10, 100), ("humaneval_t02", "humaneval_t06", "humaneval_t08"), poster):
            ours = _value(grid, arm, it, "none", bench, "postprocessed", k)
            assert float(r[f"pass@{k}"]) == pytest.approx(ours, abs=1e-3), (label, k)
            assert float(r[f"pass@{k} paper"]) == p
            assert float(r[f"pass@{k} Δ"]) == pytest.approx(ours - p, abs=1e-3)


def test_gsm8k_and_bbh_rows_read_no_token_and_say_it_is_assumed(grid):
    _, out, _, _ = grid
    rows = [r for r in _csv(out / "tables" / "gsm8k_bbh.csv") if r["GSM8K PaL paper"]]
    assert {(r["context"], r["model"]) for r in rows} == {
        ("model=350M", x) for x in ("pre-trained", "LeTI", "LeTI w/o textual feedback", "LeTI w/o regularization")} | {
        ("model=2B", x) for x in ("pre-trained", "LeTI", "LeTI w/o textual feedback", "LeTI w/o regularization", P.PP,
                                  P.PP + " + language feedback")}
    for r in rows:
        model = r["context"].split("=")[1]
        it = 0 if r["model"] == "pre-trained" else P.ORIGINAL_ITERATION[(model, r["model"])]
        arm = _arm(grid, model, "LeTI" if it == 0 else r["model"])
        assert r["reading"] == f"it {it}, no token"
        assert (P.ASSUMED_NO_TOKEN in r["paper source"]) == (it != 0)
        assert float(r["GSM8K PaL"]) == pytest.approx(_value(grid, arm, it, "none", "gsm8k", "postprocessed"), abs=1e-3)
        poster = P.GSM_BBH[(model, P.ROW_BY_LABEL[r["model"]].poster_label)]
        assert [float(r[c]) for c in ("GSM8K PaL paper", "BBH direct paper", "BBH CoT paper", "CoT - direct paper")] \
            == list(poster)


def test_mbpp_error_table_pairs_post_processing_with_the_run_trained_on_it(grid):
    _, out, _, _ = grid
    rows = [r for r in _csv(out / "tables" / "mbpp_error_types.csv") if r["trained % paper %"]]
    pairs = {(r["variant"], r["trained arm"], r["reading"]) for r in rows}
    assert pairs == {("w/o post-processing", "LeTI", "it 6, <|good|>"),
                     ("w/ post-processing (original's cutter)", P.PP, "it 2, <|good|>"),
                     ("w/ post-processing (original's cutter)", P.PP + " + language feedback", "it 3, <|good|>")}
    assert all(r["context"] == "model=2B" for r in rows)
    passed = {r["trained arm"]: r for r in rows if r["outcome"] == "pass" and r["variant"] != "w/o post-processing"}
    for label, it in ((P.PP, 2), (P.PP + " + language feedback", 3)):
        assert float(passed[label]["trained %"]) == pytest.approx(
            _value(grid, _arm(grid, "2B", label), it, "good", "mbpp", "postprocessed_leti"), abs=1e-3)
        assert float(passed[label]["trained % paper %"]) == pytest.approx(100 * 2415 / 8000)
    # LeTI trained on raw output, read w/ post-processing, is shown but not set beside the poster
    assert any(r["trained arm"] == "LeTI" and r["variant"].startswith("w/ post") and not r["trained % paper %"]
               for r in _csv(out / "tables" / "mbpp_error_types.csv"))


def test_mbpp_pass1_final_values_sit_at_the_posters_iteration(grid):
    _, out, _, _ = grid
    rows = [r for r in _csv(out / "tables" / "mbpp_pass1_iterations.csv") if r["paper final"]]
    got = {(r["arm"], r["variant"]): (r["paper final at"], r["ours at"]) for r in rows}
    assert got == {("LeTI", "raw"): ("it 6", "it 6, <|good|>"),
                   (P.PP, "postprocessed_leti"): ("it 2", "it 2, <|good|>"),
                   (P.PP + " + language feedback", "postprocessed_leti"): ("it 3", "it 3, <|good|>")}
    assert "LeTI on EAE, w/o regularization" not in {r["arm"] for r in _csv(out / "tables" / "mbpp_pass1_iterations.csv")}


def test_eae_paper_text_sits_at_iterations_0_and_3(grid):
    _, out, _, _ = grid
    rows = [r for r in _csv(out / "tables" / "eae.csv") if r["Arg-I F1 paper-text F1"]]
    assert [(r["iteration"], r["variant"], r["Arg-I F1 paper-text F1"]) for r in rows] == \
        [("0", "postprocessed", "21.2"), ("3", "postprocessed", "33.5")]
    assert all("GENEVA" in r["paper source"] and "third-party" in r["paper source"] for r in rows)


def test_claims_read_the_cells_the_tables_show(grid):
    _, out, _, _ = grid
    claims = {(c["id"], c["context"], c["arm"]): c for c in json.loads((out / "claims.json").read_text())["claims"]}
    he = {(r["context"], r["model"]): r for r in _csv(out / "tables" / "humaneval.csv")}
    c = claims[("humaneval_pass10_improves", "model=2B", "LeTI")]
    assert c["benchmark"] == "humaneval_t06"
    assert (c["x"]["iteration"], c["x"]["conditioning"], c["y"]["iteration"]) == (6, "none", 0)
    assert c["x"]["mean"] == pytest.approx(float(he[("model=2B", "LeTI")]["pass@10"]), abs=1e-3)
    assert c["y"]["mean"] == pytest.approx(float(he[("model=2B", "pre-trained")]["pass@10"]), abs=1e-3)
    assert claims[("humaneval_pass100_improves", "model=2B", "LeTI")]["benchmark"] == "humaneval_t08"
    assert claims[("humaneval_pass1_not_worse", "model=2B", "LeTI")]["benchmark"] == "humaneval_t02"
    # trained w/ post-processing: both runs, each at its own evaluated iteration, against the error table's cells
    err = {(r["trained arm"], r["outcome"]): r for r in _csv(out / "tables" / "mbpp_error_types.csv")
           if r["variant"] == "w/ post-processing (original's cutter)"}
    for label, it in ((P.PP, 2), (P.PP + " + language feedback", 3)):
        c = claims[("postprocess_training_improves", "model=2B", label)]
        assert (c["x"]["iteration"], c["variant"]) == (it, "postprocessed_leti")
        assert c["x"]["mean"] == pytest.approx(float(err[(label, "pass")]["trained %"]), abs=1e-3)
        assert c["y"]["mean"] == pytest.approx(float(err[(label, "pass")]["pre-trained %"]), abs=1e-3)
        assert c["magnitude"]["poster"] == pytest.approx((2415 - 2266) / 80)
    gsm = {(r["context"], r["model"]): r for r in _csv(out / "tables" / "gsm8k_bbh.csv")}
    rows = [x for x in json.loads((out / "claims.json").read_text())["claims"]
            if x["id"] == "regularization_protects_out_of_domain" and x["context"] == "model=350M"
            and x["benchmark"] == "gsm8k"]
    (c,) = rows
    assert c["x"]["mean"] == pytest.approx(float(gsm[("model=350M", "LeTI")]["GSM8K PaL"]), abs=1e-3)
    assert c["y"]["mean"] == pytest.approx(float(gsm[("model=350M", "LeTI w/o regularization")]["GSM8K PaL"]), abs=1e-3)
    assert c["magnitude"]["poster"] == pytest.approx(16.68 - 7.88)


def test_every_verdict_states_its_level_and_what_it_rests_on(grid):
    _, out, _, _ = grid
    for c in json.loads((out / "claims.json").read_text())["claims"]:
        if c["outcome"] == "NOT TESTED":
            assert c["verdict"] == "NOT TESTED" and c["reason"]
            continue
        assert c["verdict"].endswith("(this run)"), c["verdict"]  # the paper preset: one seed
        assert c["rests_on"] and "problems" in c["rests_on"] or c["id"] == "no_regularization_raises_heldout_loss"
