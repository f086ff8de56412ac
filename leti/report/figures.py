"""The report's figures (matplotlib, Agg), written as PNG and PDF with no timestamps or versions
in their metadata so that a rebuild from the same results is byte-identical.

Every arm is named by leti.report.labels (never by its run id); the poster's numbers are drawn as
hollow black markers joined by a dashed segment, named with the model size they belong to, and only
where the panel shows the same quantity; a panel whose values are all zero or all missing says so.
"""
from __future__ import annotations

import io
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from leti.core.io import atomic_open  # noqa: E402
from leti.report import paper as P  # noqa: E402
from leti.report.labels import ALL_ZERO, arm_labels, benchmark_label, degenerate  # noqa: E402
from leti.report.stats import Stat  # noqa: E402
from leti.report.tables import IN_DOMAIN, Builder, bucket_share, efficiency_row, pass_at  # noqa: E402

FIGURES = ("pass1_iterations", "pass1_fcft_steps", "error_types", "eae")
_STYLE = {"font.size": 8, "axes.titlesize": 9, "legend.fontsize": 7, "figure.dpi": 100, "svg.hashsalt": "leti",
          "path.simplify": True}
PNG_META = {"Software": None}
PDF_META = {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}
REF = {"color": "black", "marker": "D", "markerfacecolor": "none", "markersize": 6, "linestyle": "--",
       "linewidth": 0.9}  # the poster's (or paper text's) values


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


def _note(ax, text: str) -> None:
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes)


def mark_degenerate(ax, reason: str, detail: str = "") -> None:
    """Write why a panel shows nothing (labels.degenerate) across it; the axes stay, so a zero line is seen."""
    ax.text(0.5, 0.35, reason + (f"\n{detail}" if detail else ""), ha="center", va="center", transform=ax.transAxes, fontsize=9, color="0.25",
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.6"})


def _band_handle(n_seeds: int):
    return Patch(facecolor="0.5", alpha=0.25, label=f"shaded: min–max over {n_seeds} seeds")


def _ref_label(who: str, size: str, exact: bool, what: str) -> str:
    return f"{who} ({what}, CodeGen-{size}-mono{'' if exact else '; not this model'})"


class Figures:
    def __init__(self, builder: Builder):
        self.b = builder
        self.res = builder.res
        self.labels = arm_labels(self.res.arms.values(), self.res.facet_axes)
        self.notes: dict[str, str] = {}
        self.degenerate: dict[str, dict[str, str]] = {}  # figure -> panel -> reason

    def _arms(self):
        return [(ctx, self.labels[arm.id], arm) for ctx in self.res.contexts() for _, arm, _ in self.b._curve_rows(ctx)]

    def _flag(self, fig_name: str, panel: str, ax, values, lines: int = 1) -> bool:
        reason = degenerate(values)
        if reason:
            mark_degenerate(ax, reason, f"(the {lines} arms' lines overlap at 0)" if lines > 1 and reason == ALL_ZERO
                            else "")
            self.degenerate.setdefault(fig_name, {})[panel] = reason
        return bool(reason)

    def _max_seeds(self, arms) -> int:
        return max((len(a.runs) for a in arms), default=1)

    # ---------------------------------------------------------------- pass@1 vs iteration, seed bands
    def pass1_iterations(self):
        benches = [b for b in IN_DOMAIN if len(self.res.evaluated(b)) >= 1]
        fig, axes = plt.subplots(1, max(1, len(benches)), figsize=(4.2 * max(1, len(benches)), 3.6), squeeze=False)
        if not benches:
            _note(axes[0][0], "no MBPP-like benchmark (synth_test / mbpp) in this configuration")
            self.notes["pass1_iterations"] = "skipped: no synth_test / mbpp benchmark"
            fig.tight_layout()
            return fig
        handles: dict[str, object] = {}
        arms = self._arms()
        for k, (ctx, label, arm) in enumerate(arms):
            handles[label] = Line2D([], [], color=f"C{k}", marker="o", label=label)
        for ax, bench in zip(axes[0], benches):
            every = []
            for k, (ctx, label, arm) in enumerate(arms):
                its = self.res.evaluated(bench, arm)
                per_seed = [[pass_at(1, "raw")(self.res.bench(r, i, bench) or {}) for i in its] for r in arm.runs]
                stats = [Stat.of([s[j] for s in per_seed]) for j in range(len(its))]
                xs = [i for i, s in zip(its, stats) if s is not None]
                ys = [100 * s.mean for s in stats if s is not None]
                every += ys
                if not xs:
                    continue
                ax.plot(xs, ys, marker="o", color=f"C{k}", label=label)
                lo = [100 * min(v for v in (s[j] for s in per_seed) if v is not None) for j, st in enumerate(stats) if st]
                hi = [100 * max(v for v in (s[j] for s in per_seed) if v is not None) for j, st in enumerate(stats) if st]
                if len(arm.runs) > 1:
                    ax.fill_between(xs, lo, hi, color=f"C{k}", alpha=0.2, linewidth=0)
            ticks = list(self.res.evaluated(bench))
            if bench == "mbpp":  # the poster's 2B LeTI curve end points: the same quantity (MBPP pass@1, raw)
                for size, exact in sorted({self.b.paper_model(c) for c in self.res.contexts()}):
                    ref = P.MBPP_PASS1.get((size, "LeTI", "raw"))
                    if ref is None:
                        continue
                    lab = _ref_label("poster", size, exact, f"LeTI on MBPP, iteration 0 → {P.MBPP_PASS1_ITERATIONS}")
                    ax.plot([0, P.MBPP_PASS1_ITERATIONS], list(ref), **REF)
                    handles[lab] = Line2D([], [], **REF, label=lab)
                    ticks = sorted(set(ticks) | {P.MBPP_PASS1_ITERATIONS})
            ax.set_title(f"{benchmark_label(bench)}: pass@1 (raw)")
            ax.set_xlabel("iteration (0 = pre-trained)")
            ax.set_ylabel("pass@1 (%)")
            ax.set_xticks(ticks)
            ax.grid(alpha=0.3)
            if self._flag("pass1_iterations", bench, ax, every, lines=len(arms)):
                ax.set_ylim(bottom=-1)
        if self._max_seeds([a for _, _, a in arms]) > 1:
            band = _band_handle(self._max_seeds([a for _, _, a in arms]))
            handles[band.get_label()] = band
        ncol = min(3, len(handles))
        fig.legend(handles=list(handles.values()), loc="lower center", ncol=ncol, frameon=False)
        rows = -(-len(handles) // ncol)
        fig.tight_layout(rect=(0, 0.06 * rows + 0.02, 1, 1))
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
        fig, ax = plt.subplots(figsize=(5.6, 4.2))
        if bench is None:
            _note(ax, "no MBPP-like benchmark evaluated at two or more iterations")
            self.notes["pass1_fcft_steps"] = "skipped: no benchmark evaluated at >= 2 iterations"
            fig.tight_layout()
            return fig
        drawn, handles, seeds, values = False, [], 1, []
        for ctx in self.res.contexts():
            tx = self.res.leti_arm(ctx, P.LETI)
            bi = self.res.leti_arm(ctx, P.ROW_BY_LABEL["LeTI w/o textual feedback"].facets)
            means = {}
            for arm, col, ls in ((tx, "C0", "-"), (bi, "C1", "--")):
                if arm is None:
                    continue
                label = self.labels[arm.id]
                pts = self.b.efficiency_points(arm, bench)
                seeds = max(seeds, len(pts))
                curve = self._step_curve(pts)
                if curve is not None:
                    xs, mean, lo, hi = curve
                    ax.plot(xs, mean, marker="o", linestyle=ls, color=col, label=label + (" (mean)" if len(pts) > 1 else ""))
                    if len(pts) > 1:
                        ax.fill_between(xs, lo, hi, color=col, alpha=0.2, linewidth=0)
                    means[col] = [(x, m / 100) for x, m in zip(xs, mean)]
                    values += mean
                    drawn = True
                    continue
                for k, seed in enumerate(sorted(pts)):  # seeds trained for different step counts: one line each
                    ys = [100 * v for _, v in pts[seed]]
                    ax.plot([s for s, _ in pts[seed]], ys, marker="o", linestyle=ls, color=col,
                            alpha=1.0 if k == 0 else 0.5, label=f"{label} (one line per seed)" if k == 0 else None)
                    values += ys
                    drawn = True
            if "C0" in means and "C1" in means:
                row = efficiency_row(means["C0"], means["C1"])
                if row is not None:
                    best, bsteps, tsteps, _, _ = row
                    ax.axhline(100 * best, color="C1", linewidth=0.8, linestyle=":",
                               label=f"binary's best pass@1 ({100 * best:.1f}%, at {bsteps} steps)")
                    if tsteps is not None:
                        ax.axvline(tsteps, color="C0", linewidth=0.8, linestyle=":",
                                   label=f"textual first reaches it ({tsteps} steps = {tsteps / bsteps:.2f}× binary's)")
                    size, exact = self.b.paper_model(ctx)
                    x = P.SAMPLE_EFFICIENCY_RATIO * bsteps
                    ax.plot([x], [100 * best], **{**REF, "linestyle": "none"},
                            label=_ref_label("poster", size, exact, f"MBPP: textual reaches binary's level at "
                                                                    f"{P.SAMPLE_EFFICIENCY_RATIO:g}× its steps"))
        if not drawn:
            _note(ax, "no textual or binary arm in this configuration")
            self.notes["pass1_fcft_steps"] = "skipped: no textual/binary arm"
            fig.tight_layout()
            return fig
        ax.set_title(f"{benchmark_label(bench)}: pass@1 (raw) vs FCFT gradient steps")
        ax.set_xlabel("cumulative FCFT gradient steps (0 = pre-trained)")
        ax.set_ylabel("pass@1 (%)")
        ax.grid(alpha=0.3)
        self._flag("pass1_fcft_steps", bench, ax, values)
        handles, _ = ax.get_legend_handles_labels()
        if seeds > 1:
            handles.append(_band_handle(seeds))
        fig.legend(handles=handles, loc="lower center", ncol=1, frameon=False)
        fig.tight_layout(rect=(0, 0.038 * len(handles) + 0.01, 1, 1))
        return fig

    # ---------------------------------------------------------------- stacked error types per iteration
    def error_types(self, bench: str | None = None):
        bench = bench or next((b for b in IN_DOMAIN if self.res.evaluated(b)), None)
        arms = self._arms() if bench else []
        poster = bench == "mbpp" and any(self.b.paper_model(c)[0] == "2B" for c in self.res.contexts())
        n = len(arms) + (1 if poster else 0)
        fig, axes = plt.subplots(1, max(1, n), figsize=(max(3.2, 2.7 * n + 1.4), 3.6), squeeze=False, sharey=True)
        if not arms:
            _note(axes[0][0], "no MBPP-like benchmark in this configuration")
            self.notes["error_types"] = "skipped: no synth_test / mbpp benchmark"
            fig.tight_layout()
            return fig
        for ax, (ctx, label, arm) in zip(axes[0], arms):
            its = self.res.evaluated(bench, arm)
            bottom = [0.0] * len(its)
            seen = []
            for k, bucket in enumerate(P.BUCKETS):
                vals = []
                for i in its:
                    s = self.b.stat(arm, i, bench, bucket_share("raw", (bucket,)))
                    seen.append(None if s is None else s.mean)
                    vals.append(0.0 if s is None else s.mean)
                ax.bar([str(i) for i in its], vals, bottom=bottom, label=bucket, color=f"C{k}")
                bottom = [a + b for a, b in zip(bottom, vals)]
            ax.set_title(label, fontsize=8)
            ax.set_xlabel("iteration (0 = pre-trained)")
            self._flag("error_types", label, ax, seen)
        if poster:
            self._poster_errors(axes[0][-1])
        axes[0][0].set_ylabel("share of samples (%)")
        seeds = self._max_seeds([a for _, _, a in arms])
        fig.suptitle(f"{benchmark_label(bench)}: outcome of each sample (raw, w/o post-processing), per arm"
                     + (f"; mean over {seeds} seeds" if seeds > 1 else ""), fontsize=9)
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles[::-1], labels[::-1], loc="center right", frameon=False)
        fig.tight_layout(rect=(0, 0, 1 - 1.3 / fig.get_figwidth(), 1))
        return fig

    def _poster_errors(self, ax) -> None:
        """The poster's 2B MBPP error types (raw), pre-trained and after LeTI, as hollow hatched bars."""
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
            ax.bar(x, vals, bottom=bottom, color="none", edgecolor=f"C{k}", hatch="///", linewidth=1.0)
            bottom = [a + b for a, b in zip(bottom, vals)]
        ax.set_title("poster (CodeGen-2B-mono, MBPP)\nNameError inside 'other'", fontsize=8)

    # ---------------------------------------------------------------- EAE
    def eae(self):
        arms = [a for a in self.res.arms.values() if a.runs[0].params["task"]["train"] == "eae"]
        if not arms or not self.res.evaluated("eae"):
            fig, ax = plt.subplots(figsize=(4.8, 2.0))
            _note(ax, "EAE figure skipped: no arm is trained on EAE (task.train = eae) in this configuration")
            self.notes["eae"] = "skipped: no arm trained on EAE"
            fig.tight_layout()
            return fig
        fig, axes = plt.subplots(len(arms), 2, figsize=(9.6, 4.4 * len(arms)), squeeze=False)
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
                for k, col in (("p", "C0"), ("r", "C1"), ("f1", "C2")):
                    ys = mean_of(f"{a}_{k}")
                    every += ys
                    row[0].plot(its, [y if y is not None else float("nan") for y in ys], linestyle=ls, color=col,
                                marker="o", label=f"{'Arg-I' if a == 'arg_i' else 'Arg-C'} {k.upper()}")
            size, exact = self.b.paper_model(arm.context)
            exact = exact and size == P.EAE_MODEL
            for a, marker in (("arg_i", "D"), ("arg_c", "s")):
                name = "Arg-I" if a == "arg_i" else "Arg-C"
                row[0].plot([0, P.EAE_F1_ITERATIONS], list(P.EAE_F1[a]), **{**REF, "marker": marker},
                            label=_ref_label(f"paper text: {name} F1", P.EAE_MODEL, exact,
                                             f"iteration 0 → {P.EAE_F1_ITERATIONS}"))
            row[0].set_title(f"{label}: EAE test metrics")
            row[0].set_xlabel("iteration (0 = pre-trained)")
            row[0].set_ylabel("%")
            row[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=6, frameon=False)
            ticks = sorted(set(its) | {0, P.EAE_F1_ITERATIONS})
            row[0].set_xticks(ticks)
            self._flag("eae", f"{label}: metrics", row[0], every)
            every = []
            for key, name in (("train_pass", "train pass@1"), ("test_pass", "test pass@1")):
                ys = mean_of(key)
                every += ys
                row[1].plot(its, [y if y is not None else float("nan") for y in ys], marker="o", label=name)
            row[1].set_title(f"{label}: pass rates")
            row[1].set_xlabel("iteration (0 = pre-trained)")
            row[1].set_ylabel("%")
            row[1].set_xticks(ticks)
            row[1].legend(loc="best")
            self._flag("eae", f"{label}: pass rates", row[1], every)
        fig.tight_layout()
        return fig

    def write_all(self, out_dir: str) -> list[str]:
        os.makedirs(out_dir, exist_ok=True)
        written = []
        with plt.rc_context(_STYLE):
            for name in FIGURES:
                fig = getattr(self, name)()
                written += save(fig, os.path.join(out_dir, name))
        return written


__all__ = ["FIGURES", "Figures", "mark_degenerate", "save"]
