"""The report's figures (matplotlib, Agg), written as PNG and PDF with no timestamps or versions
in their metadata so that a rebuild from the same results is byte-identical.

Readable for any number of arms (tested with 12): every arm is named by leti.report.labels (the
tables' names, never a run id) and keeps one colour of its own in every figure (`arm_colors`);
legends sit outside the axes, to the right, and the figure grows to hold them (constrained layout,
then `fit`), so nothing is clipped; panel titles are wrapped. The poster's numbers are references,
not data: dotted black lines (a level, or binary's curve at 0.5x its steps), named in the legend with
the model size they belong to, and drawn only where the panel shows the same quantity. A panel whose
values are all zero or all missing says so.
"""
from __future__ import annotations

import io
import os
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

import numpy as np  # noqa: E402

from leti.core.io import atomic_open  # noqa: E402
from leti.report import paper as P  # noqa: E402
from leti.report.efficiency import LEVELS  # noqa: E402
from leti.report.labels import ALL_ZERO, arm_labels, benchmark_label, degenerate  # noqa: E402
from leti.report.stats import Stat  # noqa: E402
from leti.report.tables import IN_DOMAIN, Builder, bucket_share, efficiency_levels, pass_at  # noqa: E402

FIGURES = ("pass1_iterations", "pass1_fcft_steps", "error_types", "eae")
_STYLE = {"font.size": 8, "axes.titlesize": 8, "legend.fontsize": 7, "figure.dpi": 100, "svg.hashsalt": "leti",
          "path.simplify": True}
PNG_META = {"Software": None}
PDF_META = {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}
REF = {"color": "black", "linestyle": ":", "linewidth": 1.0}   # the poster's (or paper text's) values
BUCKET_COLORS = ("#1b9e77", "#7570b3", "#d95f02", "#e7298a", "#66a61e", "#a6761d")  # pass, Assertion, ... other
TITLE_WIDTH = 38   # characters per line of a panel title
MAX_PANEL_COLS = 4
LEGEND_WIDTH = 56    # characters per line of a legend entry
LEGEND_ROOM = 4.0   # inches given to a legend before `fit` measures it


def arm_colors(arm_ids) -> dict[str, tuple]:
    """One distinct colour per arm: tab10 up to 10 arms, tab20 (dark shades first) up to 20, else evenly
    spaced hues."""
    ids = list(arm_ids)
    n = len(ids)
    if n <= 10:
        cols = [plt.get_cmap("tab10")(i) for i in range(n)]
    elif n <= 20:
        cmap = plt.get_cmap("tab20")
        cols = [cmap(2 * i) for i in range(10)] + [cmap(2 * i + 1) for i in range(n - 10)]
    else:
        cols = [plt.get_cmap("hsv")(i / n) for i in range(n)]
    return {a: tuple(float(x) for x in c) for a, c in zip(ids, cols)}


def wrap(text: str, width: int = TITLE_WIDTH) -> str:
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def save(fig, base: str) -> list[str]:
    out = []
    for ext, meta in (("png", PNG_META), ("pdf", PDF_META)):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, metadata=meta, bbox_inches=None)
        with atomic_open(f"{base}.{ext}", "wb", encoding=None) as fh:
            fh.write(buf.getvalue())
        out.append(f"{base}.{ext}")
    plt.close(fig)
    return out


def legend_outside(fig, handles, title: str | None = None):
    """The figure's legend to the right of every axes (constrained layout makes room for it)."""
    ncol = 1 if len(handles) <= 22 else 2
    for h in handles:
        h.set_label(wrap(h.get_label(), LEGEND_WIDTH))
    return fig.legend(handles=handles, loc="outside right upper", frameon=False, ncol=ncol, title=title,
                      title_fontsize=7, alignment="left")


def fit(fig, panels_width: float) -> None:
    """Widen the figure so the panels keep `panels_width` inches beside the outside legend(s), and make
    it tall enough for them."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    lw = sum(lg.get_window_extent(r).width for lg in fig.legends) / fig.dpi
    lh = max((lg.get_window_extent(r).height for lg in fig.legends), default=0) / fig.dpi
    fig.set_size_inches(panels_width + lw + 0.3, max(fig.get_figheight(), lh + 0.3))
    fig.canvas.draw()


def _iteration_ticks(ax, ticks) -> None:
    """Every iteration as a tick up to 16 of them; beyond, integer ticks matplotlib spaces out."""
    ticks = sorted(set(ticks))
    if len(ticks) <= 16:
        ax.set_xticks(ticks)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _note(ax, text: str) -> None:
    ax.axis("off")
    ax.text(0.5, 0.5, wrap(text, 50), ha="center", va="center", transform=ax.transAxes)


def mark_degenerate(ax, reason: str, detail: str = "") -> None:
    """Write why a panel shows nothing (labels.degenerate) across it; the axes stay, so a zero line is seen."""
    ax.text(0.5, 0.5, reason + (f"\n{detail}" if detail else ""), ha="center", va="center", transform=ax.transAxes,
            fontsize=8, color="0.25", bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.6"})


def _band_handle(n_seeds: int):
    return Patch(facecolor="0.5", alpha=0.25, label=f"shaded: min–max over {n_seeds} seeds")


def _ref_label(who: str, size: str, exact: bool, what: str) -> str:
    return f"{who}: {what} (CodeGen-{size}-mono{'' if exact else '; not this model'})"


class Figures:
    def __init__(self, builder: Builder):
        self.b = builder
        self.res = builder.res
        self.labels = arm_labels(self.res.arms.values(), self.res.facet_axes)
        self.colors = arm_colors(self.res.arms)
        self.notes: dict[str, str] = {}
        self.degenerate: dict[str, dict[str, str]] = {}  # figure -> panel -> reason

    def _arms(self):
        return [(ctx, self.labels[arm.id], arm) for ctx in self.res.contexts() for _, arm, _ in self.b._curve_rows(ctx)]

    def _flag(self, fig_name: str, panel: str, ax, values, lines: int = 1, rescale: bool = True) -> bool:
        reason = degenerate(values)
        if reason:
            mark_degenerate(ax, reason, f"(the {lines} arms' lines overlap at 0)" if lines > 1 and reason == ALL_ZERO
                            else "")
            self.degenerate.setdefault(fig_name, {})[panel] = reason
            if reason == ALL_ZERO and rescale:  # keep the reference levels in view
                ax.set_ylim(-1, max(ax.get_ylim()[1], 10))
        return bool(reason)

    def _max_seeds(self, arms) -> int:
        return max((len(a.runs) for a in arms), default=1)

    def _empty(self, name: str, text: str, note: str):
        fig, ax = plt.subplots(figsize=(4.8, 2.0), layout="constrained")
        _note(ax, text)
        self.notes[name] = note
        return fig

    # ---------------------------------------------------------------- pass@1 vs iteration, seed bands
    def pass1_iterations(self):
        benches = [b for b in IN_DOMAIN if len(self.res.evaluated(b)) >= 1]
        if not benches:
            return self._empty("pass1_iterations", "no MBPP-like benchmark (synth_test / mbpp) in this configuration",
                               "skipped: no synth_test / mbpp benchmark")
        width = 4.2 * len(benches)
        fig, axes = plt.subplots(1, len(benches), figsize=(width + LEGEND_ROOM, 3.6), squeeze=False, layout="constrained")
        arms = [(ctx, label, arm) for ctx, label, arm in self._arms() if any(i > 0 for b in benches for i in self.res.evaluated(b, arm))]
        handles: dict[str, object] = {label: Line2D([], [], color=self.colors[arm.id], marker="o", label=label)
                                      for _, label, arm in arms}
        refs: dict[str, object] = {}
        for ax, bench in zip(axes[0], benches):
            every = []
            for ctx, label, arm in arms:
                its = self.res.evaluated(bench, arm)
                per_seed = [[pass_at(1, "raw")(self.res.bench(r, i, bench) or {}) for i in its] for r in arm.runs]
                stats = [Stat.of([s[j] for s in per_seed]) for j in range(len(its))]
                xs = [i for i, s in zip(its, stats) if s is not None]
                ys = [100 * s.mean for s in stats if s is not None]
                every += ys
                if not xs:
                    continue
                col = self.colors[arm.id]
                ax.plot(xs, ys, marker="o", color=col, label=label)
                if len(arm.runs) > 1:
                    lo = [100 * min(v for v in (s[j] for s in per_seed) if v is not None)
                          for j, st in enumerate(stats) if st]
                    hi = [100 * max(v for v in (s[j] for s in per_seed) if v is not None)
                          for j, st in enumerate(stats) if st]
                    ax.fill_between(xs, lo, hi, color=col, alpha=0.2, linewidth=0)
            if bench == "mbpp":  # the poster's 2B LeTI levels: the same quantity (MBPP pass@1, raw)
                for size, exact in sorted({self.b.paper_model(c) for c in self.res.contexts()}):
                    ref = P.MBPP_PASS1.get((size, "LeTI", "raw"))
                    if ref is None:
                        continue
                    for it, v, ls in ((0, ref[0], (0, (1, 3))), (P.MBPP_PASS1_ITERATIONS, ref[1], ":")):
                        lab = _ref_label("poster", size, exact, f"LeTI on MBPP at iteration {it}, {v:.2f} %")
                        ax.axhline(v, **{**REF, "linestyle": ls})
                        refs[lab] = Line2D([], [], **{**REF, "linestyle": ls}, label=lab)
            ax.set_title(wrap(f"{benchmark_label(bench)}: pass@1 (raw)"))
            ax.set_xlabel("iteration (0 = pre-trained)")
            ax.set_ylabel("pass@1 (%)")
            _iteration_ticks(ax, self.res.evaluated(bench))
            ax.grid(alpha=0.3)
            self._flag("pass1_iterations", bench, ax, every, lines=len(arms))
        extra = list(refs.values())
        if self._max_seeds([a for _, _, a in arms]) > 1:
            extra.append(_band_handle(self._max_seeds([a for _, _, a in arms])))
        legend_outside(fig, list(handles.values()) + extra)
        fit(fig, width)
        return fig

    # ---------------------------------------------------------------- pass@1 vs FCFT steps, textual vs binary
    def _step_curve(self, pts: dict[int, list[tuple[int, float]]]):
        """(xs, mean, lo, hi) over seeds when every seed has the same steps, else None."""
        curves = [pts[s] for s in sorted(pts) if pts[s]]
        if not curves or any([x for x, _ in c] != [x for x, _ in curves[0]] for c in curves):
            return None
        xs = [x for x, _ in curves[0]]
        cols = list(zip(*[[100 * v for _, v in c] for c in curves]))
        return xs, [sum(c) / len(c) for c in cols], [min(c) for c in cols], [max(c) for c in cols]

    def pass1_fcft_steps(self):
        bench = next((b for b in IN_DOMAIN if len(self.res.evaluated(b)) >= 2), None)
        pairs = []
        for ctx in self.res.contexts():
            tx = self.res.leti_arm(ctx, P.LETI)
            bi = self.res.leti_arm(ctx, P.ROW_BY_LABEL["LeTI w/o textual feedback"].facets)
            if tx is not None or bi is not None:
                pairs.append((ctx, tx, bi))
        if bench is None:
            return self._empty("pass1_fcft_steps", "no MBPP-like benchmark evaluated at two or more iterations",
                               "skipped: no benchmark evaluated at >= 2 iterations")
        if not pairs:
            return self._empty("pass1_fcft_steps", "no textual or binary arm in this configuration",
                               "skipped: no textual/binary arm")
        n = len(pairs)
        ncols = min(MAX_PANEL_COLS, n)
        nrows = -(-n // ncols)
        width = 4.4 * ncols
        fig, axes = plt.subplots(nrows, ncols, figsize=(width + LEGEND_ROOM, 3.4 * nrows), squeeze=False, layout="constrained")
        handles: dict[str, object] = {}
        seeds = 1
        for ax, (ctx, tx, bi) in zip(axes.flat, pairs):
            values, means = [], {}
            for arm, ls in ((tx, "-"), (bi, "--")):
                if arm is None:
                    continue
                label, col = self.labels[arm.id], self.colors[arm.id]
                pts = self.b.efficiency_points(arm, bench)
                seeds = max(seeds, len(pts))
                curve = self._step_curve(pts)
                handles[label] = Line2D([], [], color=col, marker="o", linestyle=ls, label=label)
                if curve is not None:
                    xs, mean, lo, hi = curve
                    ax.plot(xs, mean, marker="o", linestyle=ls, color=col)
                    if len(pts) > 1:
                        ax.fill_between(xs, lo, hi, color=col, alpha=0.2, linewidth=0)
                    means[ls] = [(x, m / 100) for x, m in zip(xs, mean)]
                    values += mean
                    continue
                for k, seed in enumerate(sorted(pts)):  # seeds trained for different step counts: one line each
                    ys = [100 * v for _, v in pts[seed]]
                    ax.plot([s for s, _ in pts[seed]], ys, marker="o", linestyle=ls, color=col,
                            alpha=1.0 if k == 0 else 0.5)
                    values += ys
            title = f"{benchmark_label(bench)}: pass@1 (raw) vs FCFT steps"
            if self.b.ctx_name(ctx) and len(pairs) > 1:
                title = f"{self.b.ctx_name(ctx)}: {title}"
            if "-" in means and "--" in means:
                lv = efficiency_levels(means["-"], means["--"])
                size, exact = self.b.paper_model(ctx)
                if lv is not None:
                    base, top, levels = lv
                    ratios = [a / b for _, _, a, b in levels if a and b]
                    for _, level, _, _ in levels:
                        ax.axhline(100 * level, color="0.55", linewidth=0.6, linestyle=(0, (2, 2)))
                    handles["levels"] = Line2D([], [], color="0.55", linewidth=0.6, linestyle=(0, (2, 2)),
                                               label=f"common levels ({', '.join(f'{f:g}' for f in LEVELS)} of the "
                                                     "gain both arms reach)")
                    if len(ratios) == len(levels):
                        title += f"\nstep ratio textual/binary at common levels (mean curves): {np.exp(np.mean(np.log(ratios))):.2f}"
                bx, by = zip(*means["--"])
                ref = _ref_label("poster", size, exact, f"textual reaches binary's levels at "
                                                         f"{P.SAMPLE_EFFICIENCY_RATIO:g}x its steps (binary's curve, "
                                                         f"steps x {P.SAMPLE_EFFICIENCY_RATIO:g})")
                ax.plot([P.SAMPLE_EFFICIENCY_RATIO * x for x in bx], [100 * y for y in by], **REF)
                handles[ref] = Line2D([], [], **REF, label=ref)
            ax.set_title("\n".join(wrap(line, 60) for line in title.split("\n")))
            ax.set_xlabel("cumulative FCFT gradient steps (0 = pre-trained)")
            ax.set_ylabel("pass@1 (%)")
            ax.grid(alpha=0.3)
            self._flag("pass1_fcft_steps", f"{ctx}: {bench}", ax, values)
        for ax in list(axes.flat)[n:]:
            ax.axis("off")
        extra = [_band_handle(seeds)] if seeds > 1 else []
        legend_outside(fig, list(handles.values()) + extra)
        fit(fig, width)
        return fig

    # ---------------------------------------------------------------- stacked error types per iteration
    def error_types(self, bench: str | None = None):
        bench = bench or next((b for b in IN_DOMAIN if self.res.evaluated(b)), None)
        arms = [x for x in self._arms() if any(i > 0 for i in self.res.evaluated(bench, x[2]))] if bench else []
        if not arms:
            return self._empty("error_types", "no MBPP-like benchmark in this configuration",
                               "skipped: no synth_test / mbpp benchmark")
        poster = bench == "mbpp" and any(self.b.paper_model(c)[0] == "2B" for c in self.res.contexts())
        n = len(arms) + (1 if poster else 0)
        ncols = min(MAX_PANEL_COLS, n)
        nrows = -(-n // ncols)
        width = 2.9 * ncols
        fig, axes = plt.subplots(nrows, ncols, figsize=(width + LEGEND_ROOM, 3.1 * nrows + 0.4), squeeze=False, sharey=True,
                                 layout="constrained")
        for ax, (ctx, label, arm) in zip(axes.flat, arms):
            its = self.res.evaluated(bench, arm)
            bottom = [0.0] * len(its)
            seen = []
            for k, bucket in enumerate(P.BUCKETS):
                vals = []
                for i in its:
                    s = self.b.stat(arm, i, bench, bucket_share("raw", (bucket,)))
                    seen.append(None if s is None else s.mean)
                    vals.append(0.0 if s is None else s.mean)
                ax.bar([str(i) for i in its], vals, bottom=bottom, label=bucket, color=BUCKET_COLORS[k])
                bottom = [a + b for a, b in zip(bottom, vals)]
            ax.set_title(wrap(label), color=self.colors[arm.id])
            ax.set_xlabel("iteration (0 = pre-trained)")
            self._flag("error_types", label, ax, seen, rescale=False)
        if poster:
            self._poster_errors(axes.flat[len(arms)])
        for ax in list(axes.flat)[n:]:
            ax.axis("off")
        for row in axes:
            row[0].set_ylabel("share of samples (%)")
        seeds = self._max_seeds([a for _, _, a in arms])
        fig.suptitle(wrap(f"{benchmark_label(bench)}: outcome of each sample (raw, w/o post-processing), per arm"
                          + (f"; mean over {seeds} seeds" if seeds > 1 else ""), 30 * ncols))
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles[::-1], labels[::-1], loc="outside right upper", frameon=False, title="outcome",
                   title_fontsize=7, alignment="left")
        fit(fig, width)
        return fig

    def _poster_errors(self, ax) -> None:
        """The poster's 2B MBPP error types (raw), pre-trained and after LeTI, as hollow hatched bars: a
        reference panel, not an arm."""
        groups = dict(P.ERROR_GROUPS["raw"])
        x = ["pre-trained", f"LeTI (it. {P.MBPP_PASS1_ITERATIONS})"]
        bottom = [0.0, 0.0]
        for k, bucket in enumerate(P.BUCKETS):
            vals = []
            for who in ("pre-trained", "LeTI"):
                counts = P.ERROR_COUNTS["raw"][who]
                name = next((g for g, members in groups.items() if bucket in members), None)
                # "other errors" holds NameError + other on the poster: drawn once, in the "other" slot
                v = 0.0 if name is None or (name == "other errors" and bucket != "other") else counts[name]
                vals.append(100.0 * v / P.ERROR_TOTAL)
            ax.bar(x, vals, bottom=bottom, color="none", edgecolor=BUCKET_COLORS[k], hatch="///", linewidth=1.0)
            bottom = [a + b for a, b in zip(bottom, vals)]
        ax.set_title("reference: poster (CodeGen-2B-mono, MBPP);\nNameError inside 'other'")

    # ---------------------------------------------------------------- EAE
    def eae(self):
        arms = [a for a in self.res.arms.values() if a.runs[0].params["task"]["train"] == "eae"]
        if not arms or not self.res.evaluated("eae"):
            return self._empty("eae", "EAE figure skipped: no arm is trained on EAE (task.train = eae) in this "
                                      "configuration", "skipped: no arm trained on EAE")
        width = 8.4
        fig, axes = plt.subplots(len(arms), 2, figsize=(width + LEGEND_ROOM, 3.4 * len(arms)), squeeze=False, layout="constrained")
        handles: dict[str, object] = {}
        for row, arm in zip(axes, arms):
            label = self.labels[arm.id]
            pts = self.b.eae_points(arm)
            its = sorted({p["iteration"] for p in pts})

            def mean_of(key):
                out = []
                for i in its:
                    s = Stat.of([p[key] for p in pts if p["iteration"] == i])
                    out.append(None if s is None else 100 * s.mean)
                return out
            every = []
            for a, ls in (("arg_i", "-"), ("arg_c", "--")):
                for k, col in (("p", "#1b9e77"), ("r", "#d95f02"), ("f1", "#7570b3")):
                    ys = mean_of(f"{a}_{k}")
                    every += ys
                    name = f"{'Arg-I' if a == 'arg_i' else 'Arg-C'} {k.upper()}"
                    row[0].plot(its, [y if y is not None else float("nan") for y in ys], linestyle=ls, color=col,
                                marker="o")
                    handles[name] = Line2D([], [], linestyle=ls, color=col, marker="o", label=name)
            size, exact = self.b.paper_model(arm.context)
            exact = exact and size == P.EAE_MODEL
            for a, ls in (("arg_i", ":"), ("arg_c", "-.")):
                name = "Arg-I" if a == "arg_i" else "Arg-C"
                for it, v in zip((0, P.EAE_F1_ITERATIONS), P.EAE_F1[a]):  # a short level mark at its iteration
                    row[0].hlines(v, it - 0.35, it + 0.35, colors=REF["color"], linestyles=ls, linewidth=1.6)
                lab = (f"paper text (third-party summary; ACE05, not GENEVA): {name} F1 "
                       f"{P.EAE_F1[a][0]:g} → {P.EAE_F1[a][1]:g} over {P.EAE_F1_ITERATIONS} iterations "
                       f"(CodeGen-{P.EAE_MODEL}-mono{'' if exact else '; not this model'})")
                handles[lab] = Line2D([], [], **{**REF, "linestyle": ls, "linewidth": 1.6}, label=lab)
            row[0].set_title(wrap(f"{label}: EAE test metrics"))
            row[0].set_xlabel("iteration (0 = pre-trained)")
            row[0].set_ylabel("%")
            _iteration_ticks(row[0], set(its) | {0, P.EAE_F1_ITERATIONS})
            self._flag("eae", f"{label}: metrics", row[0], every)
            every = []
            for key, name, col in (("train_pass", "train pass@1", "#e7298a"), ("test_pass", "test pass@1", "#66a61e")):
                ys = mean_of(key)
                every += ys
                pts_xy = [(i, y) for i, y in zip(its, ys) if y is not None]  # no train pass at iteration 0
                row[1].plot([i for i, _ in pts_xy], [y for _, y in pts_xy], marker="o", color=col)
                handles[name] = Line2D([], [], color=col, marker="o", label=name)
            row[1].set_title(wrap(f"{label}: pass rates"))
            row[1].set_xlabel("iteration (0 = pre-trained)")
            row[1].set_ylabel("%")
            _iteration_ticks(row[1], its)
            self._flag("eae", f"{label}: pass rates", row[1], every)
        legend_outside(fig, list(handles.values()))
        fit(fig, width)
        return fig

    def write_all(self, out_dir: str) -> list[str]:
        os.makedirs(out_dir, exist_ok=True)
        written = []
        with plt.rc_context(_STYLE):
            for name in FIGURES:
                fig = getattr(self, name)()
                written += save(fig, os.path.join(out_dir, name))
        return written


__all__ = ["FIGURES", "Figures", "arm_colors", "mark_degenerate", "save"]
