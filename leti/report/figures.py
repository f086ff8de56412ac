"""The report's figures (matplotlib, Agg), written as PNG and PDF with no timestamps or versions
in their metadata so that a rebuild from the same results is byte-identical."""
from __future__ import annotations

import io
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from leti.core.io import atomic_open  # noqa: E402
from leti.report import paper as P  # noqa: E402
from leti.report.stats import Stat  # noqa: E402
from leti.report.tables import IN_DOMAIN, Builder, bucket_share, efficiency_row, pass_at  # noqa: E402

FIGURES = ("pass1_iterations", "pass1_fcft_steps", "error_types", "eae")
_STYLE = {"font.size": 8, "axes.titlesize": 9, "legend.fontsize": 7, "figure.dpi": 100, "svg.hashsalt": "leti",
          "path.simplify": True}
PNG_META = {"Software": None}
PDF_META = {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}


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


class Figures:
    def __init__(self, builder: Builder):
        self.b = builder
        self.res = builder.res
        self.notes: dict[str, str] = {}

    def _arms(self):
        return [(ctx, label, arm) for ctx in self.res.contexts() for label, arm, _ in self.b._curve_rows(ctx)]

    def _label(self, ctx, label):
        return label if len(self.res.contexts()) == 1 else f"{ctx}: {label}"

    # ---------------------------------------------------------------- pass@1 vs iteration, seed bands
    def pass1_iterations(self):
        benches = [b for b in IN_DOMAIN if len(self.res.evaluated(b)) >= 1]
        fig, axes = plt.subplots(1, max(1, len(benches)), figsize=(4.2 * max(1, len(benches)), 3.2), squeeze=False)
        if not benches:
            _note(axes[0][0], "no MBPP-like benchmark (synth_test / mbpp) in this configuration")
            self.notes["pass1_iterations"] = "skipped: no synth_test / mbpp benchmark"
        for ax, bench in zip(axes[0], benches):
            for ctx, label, arm in self._arms():
                its = self.res.evaluated(bench, arm)
                per_seed = [[pass_at(1, "raw")(self.res.bench(r, i, bench) or {}) for i in its] for r in arm.runs]
                stats = [Stat.of([s[j] for s in per_seed]) for j in range(len(its))]
                xs = [i for i, s in zip(its, stats) if s is not None]
                ys = [100 * s.mean for s in stats if s is not None]
                if not xs:
                    continue
                line, = ax.plot(xs, ys, marker="o", label=self._label(ctx, label))
                lo = [100 * min(v for v in (s[j] for s in per_seed) if v is not None) for j, st in enumerate(stats) if st]
                hi = [100 * max(v for v in (s[j] for s in per_seed) if v is not None) for j, st in enumerate(stats) if st]
                if len(arm.runs) > 1:
                    ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
            ax.set_title(f"{bench} (raw): pass@1 vs iteration")
            ax.set_xlabel("iteration")
            ax.set_ylabel("pass@1 (%)")
            ax.set_xticks(self.res.evaluated(bench))
            ax.grid(alpha=0.3)
            ax.legend(loc="best")
        fig.tight_layout()
        return fig

    # ---------------------------------------------------------------- pass@1 vs FCFT steps, textual vs binary
    def pass1_fcft_steps(self):
        bench = next((b for b in IN_DOMAIN if len(self.res.evaluated(b)) >= 2), None)
        fig, ax = plt.subplots(figsize=(4.8, 3.4))
        if bench is None:
            _note(ax, "no MBPP-like benchmark evaluated at two or more iterations")
            self.notes["pass1_fcft_steps"] = "skipped: no benchmark evaluated at >= 2 iterations"
            fig.tight_layout()
            return fig
        drawn = False
        for ctx in self.res.contexts():
            tx = self.res.leti_arm(ctx, P.LETI)
            bi = self.res.leti_arm(ctx, P.ROW_BY_LABEL["LeTI w/o textual feedback"].facets)
            for arm, name in ((tx, "textual"), (bi, "binary")):
                if arm is None:
                    continue
                pts = self.b.efficiency_points(arm, bench)
                for k, seed in enumerate(sorted(pts)):
                    xs = [s for s, _ in pts[seed]]
                    ys = [100 * v for _, v in pts[seed]]
                    ax.plot(xs, ys, marker="o", linestyle="-" if name == "textual" else "--",
                            color="C0" if name == "textual" else "C1", alpha=1.0 if k == 0 else 0.5,
                            label=self._label(ctx, name) if k == 0 else None)
                    drawn = True
            if tx is not None and bi is not None:
                ptx, pbi = self.b.efficiency_points(tx, bench), self.b.efficiency_points(bi, bench)
                for seed in sorted(set(ptx) & set(pbi)):
                    row = efficiency_row(ptx[seed], pbi[seed])
                    if row is not None:
                        ax.axhline(100 * row[0], color="C1", linewidth=0.6, linestyle=":")
                        if row[2] is not None:
                            ax.axvline(row[2], color="C0", linewidth=0.6, linestyle=":")
        if not drawn:
            _note(ax, "no textual or binary arm in this configuration")
            self.notes["pass1_fcft_steps"] = "skipped: no textual/binary arm"
        else:
            ax.set_title(f"{bench} (raw): pass@1 vs FCFT gradient steps")
            ax.set_xlabel("FCFT gradient steps (fcft_steps_total)")
            ax.set_ylabel("pass@1 (%)")
            ax.grid(alpha=0.3)
            ax.legend(loc="best")
        fig.tight_layout()
        return fig

    # ---------------------------------------------------------------- stacked error types per iteration
    def error_types(self):
        bench = next((b for b in IN_DOMAIN if self.res.evaluated(b)), None)
        arms = self._arms() if bench else []
        fig, axes = plt.subplots(1, max(1, len(arms)), figsize=(max(3.2, 2.6 * len(arms)), 3.4), squeeze=False,
                                 sharey=True)
        if not arms:
            _note(axes[0][0], "no MBPP-like benchmark in this configuration")
            self.notes["error_types"] = "skipped: no synth_test / mbpp benchmark"
        for ax, (ctx, label, arm) in zip(axes[0], arms):
            its = self.res.evaluated(bench, arm)
            bottom = [0.0] * len(its)
            for k, bucket in enumerate(P.BUCKETS):
                vals = []
                for i in its:
                    s = self.b.stat(arm, i, bench, bucket_share("raw", (bucket,)))
                    vals.append(0.0 if s is None else s.mean)
                ax.bar([str(i) for i in its], vals, bottom=bottom, label=bucket, color=f"C{k}")
                bottom = [a + b for a, b in zip(bottom, vals)]
            ax.set_title(self._label(ctx, label))
            ax.set_xlabel("iteration")
        if arms:
            axes[0][0].set_ylabel(f"{bench} samples (%, raw)")
            axes[0][-1].legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
        fig.tight_layout()
        return fig

    # ---------------------------------------------------------------- EAE
    def eae(self):
        arms = [a for a in self.res.arms.values() if a.runs[0].params["task"]["train"] == "eae"]
        if not arms or not self.res.evaluated("eae"):
            fig, ax = plt.subplots(figsize=(4.8, 2.0))
            _note(ax, "EAE figure skipped: no arm is trained on EAE (task.train = eae) in this configuration")
            self.notes["eae"] = "skipped: no arm trained on EAE"
            fig.tight_layout()
            return fig
        fig, axes = plt.subplots(len(arms), 2, figsize=(8.4, 3.2 * len(arms)), squeeze=False)
        for row, arm in zip(axes, arms):
            pts = self.b.eae_points(arm)
            its = sorted({p["iteration"] for p in pts})

            def mean_of(key):
                out = []
                for i in its:
                    s = Stat.of([p[key] for p in pts if p["iteration"] == i])
                    out.append(None if s is None else 100 * s.mean)
                return out
            for a, ls in (("arg_i", "-"), ("arg_c", "--")):
                for k, col in (("p", "C0"), ("r", "C1"), ("f1", "C2")):
                    ys = mean_of(f"{a}_{k}")
                    row[0].plot(its, [y if y is not None else float("nan") for y in ys], linestyle=ls, color=col,
                                marker="o", label=f"{'Arg-I' if a == 'arg_i' else 'Arg-C'} {k.upper()}")
            row[0].set_title(f"{arm.id}: EAE test metrics")
            row[0].set_xlabel("iteration")
            row[0].set_ylabel("%")
            row[0].legend(loc="best", ncol=2)
            for key, name in (("train_pass", "train pass@1"), ("test_pass", "test pass@1")):
                ys = mean_of(key)
                row[1].plot(its, [y if y is not None else float("nan") for y in ys], marker="o", label=name)
            row[1].set_title(f"{arm.id}: pass rates")
            row[1].set_xlabel("iteration")
            row[1].legend(loc="best")
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
