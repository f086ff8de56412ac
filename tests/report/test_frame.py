"""The tidy metrics table (`metrics.csv`) and the pandas rendering of report tables."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from leti.report import output_files
from leti.report.cli import build
from leti.report.collect import Results
from leti.report.frame import metrics_frame
from leti.report.stats import Stat
from leti.report.tables import Table

FIX = Path(__file__).parents[1] / "fixtures" / "report"
CONFIG = json.loads((FIX / "config.json").read_text())
RUN = "model=tiny/feedback=textual/reg=on/seed=0"
COLUMNS = ["run_id", "model", "feedback", "reg", "seed", "iteration", "source", "benchmark", "conditioning",
           "variant", "metric", "value"]


@pytest.fixture(scope="module")
def res():
    return Results(CONFIG, str(FIX / "results"))


@pytest.fixture(scope="module")
def frame(res):
    return metrics_frame(res)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("frame") / "report"
    build(CONFIG, str(out), figures=False, results=str(FIX / "results"))
    return out


def _json(rel):
    return json.loads((FIX / "results" / rel).read_text())


def _one(df, **key):
    rows = df.loc[(df[list(key)] == pd.Series(key)).all(axis=1), "value"]
    assert len(rows) == 1, key
    return rows.iloc[0]


# ------------------------------------------------------------------ the frame
def test_columns_and_one_row_per_key(frame):
    assert list(frame.columns) == COLUMNS
    assert not frame.duplicated(["run_id", "iteration", "conditioning", "benchmark", "variant", "metric"]).any()
    assert set(frame["source"]) == {"metrics", "heldout_loss", "train_stats", "train_summary"}
    assert frame.equals(frame.sort_values(["run_id", "iteration", "source", "benchmark", "conditioning", "variant",
                                           "metric"], ignore_index=True))


def test_every_numeric_leaf_of_every_metrics_file(res, frame):
    def leaves(obj):
        if isinstance(obj, dict):
            return sum(leaves(v) for v in obj.values())
        return int(isinstance(obj, (int, float)) and not isinstance(obj, bool))

    expected = sum(leaves(b["metrics"]) for data in res.metrics.values() for b in data["benchmarks"].values())
    assert (frame["source"] == "metrics").sum() == expected
    by_task = frame[frame["metric"] == "by_task.t"]  # kept, unlike the old summary.csv
    assert set(by_task["benchmark"]) == {"bbh_direct", "bbh_cot"}


def test_values_are_those_of_the_result_files(frame):
    m = _json(f"runs/{RUN}/iter2/good/metrics.json")["benchmarks"]["synth_test"]["metrics"]["raw"]
    key = dict(run_id=RUN, iteration=2, benchmark="synth_test", conditioning="good", variant="raw")
    assert _one(frame, **key, metric="pass@1") == m["pass@1"]
    assert _one(frame, **key, metric="buckets.SyntaxError") == m["buckets"]["SyntaxError"]
    bbh = _json("base/seed=1/iter0/none/metrics.json")["benchmarks"]["bbh_cot"]["metrics"]["strict"]
    assert _one(frame, run_id=RUN.replace("seed=0", "seed=1"), iteration=0, benchmark="bbh_cot",
                variant="strict", metric="micro") == bbh["micro"]
    assert _one(frame, run_id=RUN, iteration=1, benchmark="heldout_loss", metric="loss") == \
        _json(f"runs/{RUN}/iter1/heldout_loss.json")["loss"]
    assert _one(frame, run_id=RUN, iteration=2, source="train_stats", metric="pass_rate") == \
        _json(f"runs/{RUN}/iter2/train_stats.json")["pass_rate"]
    assert _one(frame, run_id=RUN, iteration=2, source="train_summary", metric="fcft_steps_total") == 20
    row = frame[frame["run_id"] == RUN].iloc[0]
    assert (row["model"], row["feedback"], row["reg"], row["seed"]) == ("tiny", "textual", "on", 0)


def test_metrics_csv_round_trips_and_replaces_summary_csv(built, res, frame):
    assert str(built / "metrics.csv") in output_files(str(built))["main"]
    assert not (built / "summary.csv").exists()
    pd.testing.assert_frame_equal(pd.read_csv(built / "metrics.csv"), frame)


# ------------------------------------------------------------------ rendering with pandas
SPECIAL = Table("odd_name", "Pass@1 (%, raw) of synth_test", ["a_b", "Δ", "<|good|>"],
                rows=[["50% & $1 #2 {z}", Stat(1.0, 0.5, 2), "x ≥ 1 → 2, y"], [None, 3.14159, ""]],
                notes=["Paper: 4.5 → 28.0 (2B)."], provenance="config abc; versions: p 1")


def test_latex_escapes_special_characters():
    tex = SPECIAL.latex()
    assert r"a\_b & $\Delta$ & $<$$|$good$|$$>$ \\" in tex
    assert r"50\% \& \$1 \#2 \{z\} & 1.00 $\pm$ 0.50 & x $\geq$ 1 $\to$ 2, y \\" in tex
    assert r" & 3.14 &  \\" in tex
    assert r"\caption{Pass@1 (\%, raw) of synth\_test. Paper: 4.5 $\to$ 28.0 (2B).}" in tex
    for line in (r"\begin{table}[ht]", r"\begin{tabular}{llr}", r"\toprule", r"\midrule", r"\bottomrule",
                 r"\label{tab:odd-name}", r"\end{table}"):
        assert line in tex.splitlines()


def test_markdown_is_a_pipe_table_with_notes():
    md = SPECIAL.markdown().splitlines()
    assert md[:2] == ["### Pass@1 (%, raw) of synth_test", ""]
    assert re.fullmatch(r"\| a_b +\| Δ +\| <\\\|good\\\|> +\|", md[2])
    assert md[3] == "|---|---|---|"
    assert re.sub(r"\s+", "", md[4]) == "|50%&$1#2{z}|1.00±0.50|x≥1→2,y|"
    assert re.sub(r"\s+", "", md[5]) == "||3.14||"
    assert md[6:] == ["", "- Paper: 4.5 → 28.0 (2B).", "- config abc; versions: p 1"]
    empty = Table("e", "Empty", ["a"], notes=["Not available: why."], provenance="p").markdown()
    assert empty == "### Empty\n\n*(no rows: see the note)*\n\n- Not available: why.\n- p\n"


def test_csv_splits_stats_into_mean_sd_and_seeds():
    rows = list(csv.reader(io.StringIO(SPECIAL.csv())))
    assert rows == [["a_b", "a_b Δ", "a_b Δ sd", "a_b Δ n_seeds", "<|good|>"],  # a repeated name: qualified
                    ["50% & $1 #2 {z}", "1", "0.5", "2", "x ≥ 1 → 2, y"],
                    ["", "3.14159", "", "", ""]]
