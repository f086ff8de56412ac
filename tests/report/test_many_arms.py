"""Reports past four arms (issue #24 item 7): a 12-arm grid and the committed 8-arm rehearsal give tables
named from the axes, one colour per arm, legends outside the data, no overlapping titles, nothing clipped."""
from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import yaml

from leti.report.cli import build
from leti.report.collect import Results
from leti.report.figures import FIGURES, Figures, arm_colors
from leti.report.tables import Builder

from synthetic_results import write_results

REPO = Path(__file__).parents[2]


def twelve_arms() -> dict:
    """The embedded default's four arms x a three-valued `lr` axis."""
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    cfg = copy.deepcopy(cfg)
    cfg["axes"]["lr"] = {"1e-3": {}, "5e-4": {"train.lr": 5.0e-4}, "2e-3": {"train.lr": 2.0e-3}}
    return cfg


@pytest.fixture(scope="module")
def twelve(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("twelve")
    cfg = write_results(twelve_arms(), str(tmp / "results"))
    build(cfg, str(tmp / "report"), figures=False)
    return cfg, tmp / "report"


def _overlap(a, b, pad: float = 0.5) -> bool:
    return a.x0 < b.x1 - pad and b.x0 < a.x1 - pad and a.y0 < b.y1 - pad and b.y0 < a.y1 - pad


def layout_problems(fig) -> list[str]:
    """What makes a figure unreadable: a legend over an axes, overlapping titles, anything outside the canvas."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    out = []
    canvas = fig.bbox
    tight = fig.get_tightbbox(r).transformed(fig.dpi_scale_trans)
    if tight.x0 < canvas.x0 - 1 or tight.y0 < canvas.y0 - 1 or tight.x1 > canvas.x1 + 1 or tight.y1 > canvas.y1 + 1:
        out.append(f"clipped: drawn {tight} outside the canvas {canvas}")
    axes = [ax for ax in fig.axes if ax.axison]
    for lg in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        box = lg.get_window_extent(r)
        for ax in axes:
            if _overlap(box, ax.get_window_extent(r)):
                out.append(f"legend over the axes titled {ax.get_title()!r}")
    titles = [(ax.title.get_text(), ax.title.get_window_extent(r)) for ax in fig.axes if ax.title.get_text()]
    if fig._suptitle is not None:
        titles.append((fig._suptitle.get_text(), fig._suptitle.get_window_extent(r)))
    for i, (ta, a) in enumerate(titles):
        for tb, b in titles[i + 1:]:
            if _overlap(a, b):
                out.append(f"titles overlap: {ta!r} / {tb!r}")
        for ax in axes:
            if _overlap(a, ax.get_window_extent(r)):
                out.append(f"title {ta!r} over an axes")
    return out


def _legend_texts(fig) -> list[str]:
    return [t.get_text().replace("\n", " ") for lg in fig.legends for t in lg.texts]


def test_twelve_arms_have_twelve_colours_and_names_from_the_axes(twelve):
    cfg, _ = twelve
    res = Results(cfg)
    assert len(res.arms) == 12
    figs = Figures(Builder(res))
    assert len(set(figs.colors.values())) == 12
    assert set(figs.labels.values()) == {f"lr={lr}: {name}" for lr in ("1e-3", "5e-4", "2e-3") for name in
                                         ("LeTI", "LeTI w/o textual feedback", "LeTI w/o regularization",
                                          "no-feedback control")}
    with plt.rc_context({"font.size": 8}):
        fig = figs.pass1_iterations()
        drawn = {ln.get_color() for ax in fig.axes for ln in ax.lines if ln.get_marker() == "o"}
        assert len(drawn) == 12   # each arm its own colour in the plot, not only in the legend
        assert set(figs.labels.values()) <= set(_legend_texts(fig))
        plt.close(fig)


@pytest.mark.parametrize("n", [4, 8, 12, 20, 25])
def test_arm_colors_are_distinct(n):
    assert len(set(arm_colors([f"a{i}" for i in range(n)]).values())) == n


def test_twelve_arm_tables_name_arms_as_the_figures_do(twelve):
    cfg, out = twelve
    names = set(Figures(Builder(Results(cfg))).labels.values())
    for table in ("synth_test_pass1_iterations", "heldout_loss", "train_pass_rate", "synth_retention", "conditioning"):
        with open(out / "tables" / f"{table}.csv", newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert rows, table
        for r in rows:
            arm = r.get("arm") or r.get("model")
            assert "=" not in arm and "/" not in arm.replace("w/o", "").replace("w/ ", ""), (table, arm)
            if arm != "pre-trained" and not arm.endswith(")"):
                assert f"{r['context'].split(', ')[-1]}: {arm}" in names, (table, r["context"], arm)
    claims = json.loads((out / "claims.json").read_text())["claims"]
    assert not any("feedback=" in (c["arm"] or "") for c in claims)


def _check_figures(res):
    figs = Figures(Builder(res))
    problems = {}
    with plt.rc_context({"font.size": 8, "axes.titlesize": 8, "legend.fontsize": 7}):
        for name in FIGURES:
            fig = getattr(figs, name)()
            p = layout_problems(fig)
            if p:
                problems[name] = p
            plt.close(fig)
    return problems


def test_twelve_arm_figures_are_readable(twelve):
    cfg, _ = twelve
    assert _check_figures(Results(cfg)) == {}


def test_committed_rehearsal_figures_are_readable():
    prov = json.loads((REPO / "results" / "rehearsal" / "report" / "provenance.json").read_text())
    cfg = json.loads(prov["config_json"])
    res = Results(cfg, str(REPO / cfg["results"]))
    assert len(res.arms) >= 8
    assert _check_figures(res) == {}
