"""Figure labels, poster reference marks and degenerate panels (leti.report.labels / figures)."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import pytest

from leti.report.collect import Arm, Results
from leti.report.figures import Figures
from leti.report.labels import (
    ALL_MISSING,
    ALL_ZERO,
    arm_labels,
    context_labels,
    degenerate,
    facet_label,
)
from leti.report.tables import Builder

FIX = Path(__file__).parents[1] / "fixtures" / "report"
CONFIG = json.loads((FIX / "config.json").read_text())
LETI = {"feedback": "textual", "reg": "on", "train_postprocess": "off", "train_task": "code"}


# ------------------------------------------------------------------ labels
@pytest.mark.parametrize("facets,label", [   # the poster's own row names, as the tables use them
    (LETI, "LeTI"),
    ({**LETI, "feedback": "binary"}, "LeTI w/o textual feedback"),
    ({**LETI, "feedback": "none"}, "no-feedback control"),
    ({**LETI, "reg": "off"}, "LeTI w/o regularization"),
    ({**LETI, "feedback": "binary", "reg": "off"}, "LeTI w/o textual feedback, w/o regularization"),
    ({**LETI, "train_postprocess": "on"}, "LeTI, trained w/ post-processing"),
    ({**LETI, "train_postprocess": "langfb"}, "LeTI, trained w/ post-processing + language feedback"),
    ({**LETI, "train_task": "eae"}, "LeTI on EAE"),
    ({**LETI, "train_task": "eae", "reg": "off"}, "LeTI on EAE, w/o regularization"),
    ({**LETI, "feedback": "terse"}, "feedback=terse"),       # a user's value of a facet axis
    ({**LETI, "reg": "half"}, "LeTI, reg=half"),
])
def test_facet_label(facets, label):
    assert facet_label(facets) == label


def _arm(aid, axes, facets, context):
    return Arm(aid, axes, facets, context, [])


def test_arm_labels_never_raw_ids_and_user_axes_read_as_axis_value():
    arms = [_arm(f"model=tiny/lr={lr}/feedback={fb}", {"model": "tiny", "lr": lr, "feedback": fb},
                 {**LETI, "feedback": fb}, f"model=tiny/lr={lr}")
            for lr in ("1e-3", "3e-4") for fb in ("textual", "binary")]
    labels = arm_labels(arms, facet_axes={"feedback"})
    assert labels["model=tiny/lr=3e-4/feedback=textual"] == "lr=3e-4: LeTI"
    assert labels["model=tiny/lr=1e-3/feedback=binary"] == "lr=1e-3: LeTI w/o textual feedback"
    assert len(set(labels.values())) == len(arms)
    assert not any("model=" in v or "feedback=" in v for v in labels.values())


def test_one_context_has_no_prefix_and_twins_are_told_apart():
    # an axis overriding a facet's parameter under another name: two arms with the same facets
    arms = [_arm(f"model=tiny/regratio={r}", {"model": "tiny", "regratio": r}, LETI, "model=tiny")
            for r in ("0.5", "0.25")]
    labels = arm_labels(arms, facet_axes={"regratio"})
    assert labels == {"model=tiny/regratio=0.5": "LeTI (regratio=0.5)",
                      "model=tiny/regratio=0.25": "LeTI (regratio=0.25)"}


def test_context_labels_name_only_the_axes_that_differ():
    assert context_labels({"a": {"model": "tiny", "lr": "1e-3"}, "b": {"model": "tiny", "lr": "3e-4"}}) == \
        {"a": "lr=1e-3", "b": "lr=3e-4"}
    assert context_labels({"model=tiny": {"model": "tiny"}}) == {"model=tiny": ""}


# ------------------------------------------------------------------ degenerate panels
def test_degenerate():
    assert degenerate([0.0, 0, 0.0]) == ALL_ZERO
    assert degenerate([None, float("nan")]) == ALL_MISSING
    assert degenerate([]) == ALL_MISSING
    assert degenerate([0.0, None, 0.5]) is None
    assert degenerate([None, 0.0]) == ALL_ZERO


def _figs(results):
    return Figures(Builder(Results(CONFIG, str(results))))


def _texts(fig):
    """Every text of the figure, a wrapped legend entry or title read back as one line."""
    texts = [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for lg in fig.legends for t in lg.texts]
    texts += [lg.get_title().get_text() for lg in fig.legends] + [ax.get_title() for ax in fig.axes]
    return [t.replace("\n", " ") for t in texts]


def _zero_mbpp(tmp_path):
    dst = tmp_path / "results"
    shutil.copytree(FIX / "results", dst)
    for p in dst.rglob("metrics.json"):
        d = json.loads(p.read_text())
        if "mbpp" in d["benchmarks"]:
            raw = d["benchmarks"]["mbpp"]["metrics"]["raw"]
            raw["pass@1"] = 0.0
            p.write_text(json.dumps(d))
    return dst


def _references(ax):
    """The poster's marks: dotted black lines (references, not data: no markers)."""
    return [ln for ln in ax.lines if ln.get_color() == "black" and ln.get_linestyle() in (":", "-.", "--")
            and ln.get_marker() in ("None", None, "")]


def test_pass1_iterations_readable_legend_and_poster_marks_only_on_mbpp():
    figs = _figs(FIX / "results")
    fig = figs.pass1_iterations()
    texts = _texts(fig)
    assert "LeTI" in texts and "LeTI w/o textual feedback" in texts and "LeTI w/o regularization" in texts
    assert not any("model=" in t or "feedback=" in t for t in texts)
    poster = [t for t in texts if t.startswith("poster")]
    assert poster == ["poster: LeTI on MBPP at iteration 0, 4.50 % (CodeGen-2B-mono; not this model)",
                      "poster: LeTI on MBPP at iteration 6, 28.00 % (CodeGen-2B-mono; not this model)"]
    assert "shaded: min–max over 2 seeds" in texts
    titles = {ax.get_title().replace("\n", " "): ax for ax in fig.axes}
    refs = {t: _references(ax) for t, ax in titles.items()}
    assert {t: len(v) for t, v in refs.items()} == {"MBPP test: pass@1 (raw)": 2,
                                                   "synth_test (synthetic MBPP analogue): pass@1 (raw)": 0}
    assert sorted(ln.get_ydata()[0] for ln in refs["MBPP test: pass@1 (raw)"]) == [4.5, 28.0]
    assert figs.degenerate == {}  # the fixture's MBPP pass@1 is not zero
    plt.close(fig)


def test_all_zero_panel_is_marked(tmp_path):
    figs = _figs(_zero_mbpp(tmp_path))
    fig = figs.pass1_iterations()
    assert figs.degenerate == {"pass1_iterations": {"mbpp": ALL_ZERO}}
    mbpp = next(ax for ax in fig.axes if ax.get_title().startswith("MBPP"))
    assert [t.get_text() for t in mbpp.texts] == [ALL_ZERO + "\n(the 3 arms' lines overlap at 0)"]
    plt.close(fig)


def test_fcft_steps_guides_are_in_the_legend():
    figs = _figs(FIX / "results")
    fig = figs.pass1_fcft_steps()
    texts = _texts(fig)
    assert any(t.startswith("common levels (0.5, 0.75 of the gain") for t in texts)
    assert any(t.startswith("poster: textual reaches binary's levels at 0.5x its steps") for t in texts)
    # the 0.5x reference is binary's curve at half its steps: a dotted line without markers, not a data point
    (ax,) = fig.axes
    (ref,) = _references(ax)
    binary = next(ln for ln in ax.lines if ln.get_linestyle() == "--" and ln.get_marker() == "o")
    assert list(ref.get_xdata()) == [0.5 * x for x in binary.get_xdata()]
    assert "step ratio textual/binary at common levels" in ax.get_title()
    plt.close(fig)


def test_error_types_poster_panel_only_for_mbpp():
    figs = _figs(FIX / "results")
    fig = figs.error_types()  # synth_test: no poster panel
    titles = {t for t in (ax.get_title().replace("\n", " ") for ax in fig.axes) if t}
    assert not any("poster" in t for t in titles)
    assert titles == {"LeTI", "LeTI w/o textual feedback", "LeTI w/o regularization"}
    plt.close(fig)
    fig = figs.error_types("mbpp")
    assert sum("reference: poster (CodeGen-2B-mono, MBPP)" in ax.get_title() for ax in fig.axes) == 1
    plt.close(fig)


def test_eae_panels_readable_with_paper_text_marks_and_zero_panels_marked():
    run = SimpleNamespace(params={"task": {"train": "eae"}}, seed=0)
    arm = Arm("model=350m/feedback=textual", {"model": "350m", "feedback": "textual"},
              {**LETI, "train_task": "eae"}, "model=350m", [run])
    res = SimpleNamespace(arms={arm.id: arm}, facet_axes={"feedback"}, evaluated=lambda b, a=None: [0, 1, 2],
                          contexts=lambda: [arm.context])
    pts = [{"iteration": i, "train_pass": 0.1 * i if i else None, "test_pass": 0.05 * i,
            **{f"{a}_{k}": 0.0 for a in ("arg_i", "arg_c") for k in ("p", "r", "f1")}} for i in (0, 1, 2)]
    builder = SimpleNamespace(res=res, eae_points=lambda a: pts, paper_model=lambda c: ("350M", True))
    figs = Figures(builder)
    fig = figs.eae()
    titles = [ax.get_title().replace("\n", " ") for ax in fig.axes]
    assert titles == ["LeTI on EAE: EAE test metrics", "LeTI on EAE: pass rates"]
    assert figs.degenerate == {"eae": {"LeTI on EAE: metrics": ALL_ZERO}}
    legend = _texts(fig)
    assert ("paper text (third-party summary; ACE05, not GENEVA): Arg-I F1 21.2 → 33.5 over 3 iterations "
            "(CodeGen-350M-mono)") in legend
    assert [len(_references(fig.axes[0]))] == [0]  # level marks are short segments at iterations 0 and 3
    assert sorted(float(seg[0][1]) for c in fig.axes[0].collections for seg in c.get_segments()) == [8.0, 10.6, 21.2, 33.5]
    assert not any(math.isnan(y) for ln in fig.axes[1].lines for y in ln.get_ydata() if y is not None)
    plt.close(fig)
