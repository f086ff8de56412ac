"""Load every result file the grid produced (results/ only) and check they are comparable.

`Results(config)` reads, through `leti.workflow.plan.Plan`, the metrics JSON of every
(run, iteration, conditioning), the optional `per_problem.json` beside it, the held-out LM
loss, and the per-iteration training files. Nothing under the work directory is read, so the
report is the same on a fresh clone that only has results/.
"""
from __future__ import annotations

import csv
import json
import os
from collections import OrderedDict
from dataclasses import dataclass

from leti.core.errors import UserError
from leti.core.io import read_json
from leti.core.provenance import config_hash
from leti.workflow.plan import Plan, Run

from leti.report.paper import FACET_PARAMS, FACETS, PAPER_ROWS, PaperRow

# decoding keys that differ by design between comparable evaluations (the sampling seed is
# seed * 1000 + iteration; the batch size does not change what is sampled)
DECODING_IGNORE = ("seed", "batch_size")


def _signature(bench: dict) -> dict:
    prov = bench.get("provenance") or {}
    dec = {k: v for k, v in (prov.get("decoding") or {}).items() if k not in DECODING_IGNORE}
    return {"problems_sha256": prov.get("problems_sha256"),
            "prompt_template": prov.get("prompt_template"),
            "evaluator_version": prov.get("evaluator_version"),
            "decoding": dec}


@dataclass
class Arm:
    """Runs that differ only by seed."""
    id: str
    axes: dict
    facets: dict
    context: str       # the values of the axes that are not facets (e.g. model=tiny)
    runs: list         # sorted by seed


class Results:
    def __init__(self, config: dict, results: str | None = None, verify: bool = False):
        """`results` overrides config['results'] (the config hash is that of `config` as given, output
        locations and scheduling keys left out: leti.core.provenance.EXECUTION_KEYS). `verify`: refuse,
        in one line naming the run and the differing parameters, a result file whose parameter record
        (leti.core.records) differs from the plan's or is missing."""
        self.config = config
        self.plan = Plan({**config, "results": results} if results else config)
        self._catalog = None
        if verify:
            from leti.workflow.freshness import Catalog

            self._catalog = Catalog(self.plan)
        self.max_last = max(self.plan.iterations(r) for r in self.plan.runs)
        self.config_hash = config_hash(config)
        self._json: dict[str, object] = {}
        self.versions: dict[str, set] = {}
        self.signatures: dict[str, tuple[dict, str]] = {}
        self.metrics: dict[tuple[str, int, str], dict] = {}
        self.per_problem: dict[tuple[str, int, str], dict] = {}
        self.heldout: dict[tuple[str, int], dict] = {}
        self.train_stats: dict[tuple[str, int], dict] = {}
        self.train_summary: dict[tuple[str, int], dict] = {}
        self.loss_rows: dict[tuple[str, int], list[dict]] = {}
        self._load()
        self.arms = self._arms()

    # ------------------------------------------------------------ loading
    def _read(self, path: str, run_id: str | None = None):
        if path not in self._json:
            if not os.path.exists(path):
                raise UserError(f"{path}: missing result file (run the workflow first; the report reads results/ only)")
            self._verify(path, run_id)
            self._json[path] = read_json(path)
        return self._json[path]

    def _verify(self, path: str, run_id: str | None) -> None:
        why = self._catalog.explain(path, run_id) if self._catalog is not None else None
        if why:
            raise UserError(why)

    def _load(self) -> None:
        plan = self.plan
        for run in plan.runs:
            for it in range(plan.iterations(run) + 1):
                for cond in plan.conditionings(run, it):
                    path = plan.metrics(run, it, cond)
                    data = self._read(path, run.id)
                    self._check_metrics(path, data, it, cond)
                    self.metrics[(run.id, it, cond)] = data
                    pp = plan.per_problem(run, it, cond)
                    if os.path.exists(pp):  # optional: older results have none
                        self.per_problem[(run.id, it, cond)] = self._read(pp, run.id)
                if self.config.get("heldout_loss", True):
                    self.heldout[(run.id, it)] = self._read(plan.heldout_loss(run, it), run.id)
                if it >= 1:
                    self.train_stats[(run.id, it)] = self._read(plan.train_stats(run, it), run.id)
                    self.train_summary[(run.id, it)] = self._read(plan.train_summary(run, it), run.id)
                    self.loss_rows[(run.id, it)] = self._read_csv(plan.loss_csv(run, it))
                    self._verify(plan.loss_csv(run, it), run.id)

    def _read_csv(self, path: str) -> list[dict]:
        if not os.path.exists(path):
            raise UserError(f"{path}: missing result file (run the workflow first; the report reads results/ only)")
        with open(path, newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))

    def _check_metrics(self, path: str, data, it: int, cond: str) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), dict):
            raise UserError(f"{path}: not a metrics file (no 'benchmarks' object)")
        meta = data.get("run") or {}
        if meta.get("iteration", it) != it or meta.get("conditioning", cond) != cond:
            raise UserError(f"{path}: run block says iteration {meta.get('iteration')} / conditioning "
                            f"{meta.get('conditioning')!r}, the path says {it} / {cond!r} (stale file?)")
        for k, v in sorted(((data.get("environment") or {}).get("versions") or {}).items()):
            self.versions.setdefault(k, set()).add(str(v))
        for name, bench in sorted(data["benchmarks"].items()):
            sig = _signature(bench)
            if name not in self.signatures:
                self.signatures[name] = (sig, path)
                continue
            ref, ref_path = self.signatures[name]
            for key in sig:
                if sig[key] != ref[key]:
                    raise UserError(
                        f"incomparable results for benchmark '{name}': {key} differs between {ref_path} and {path} "
                        f"({json.dumps(ref[key], sort_keys=True)} vs {json.dumps(sig[key], sort_keys=True)}); "
                        f"rebuild them with one configuration or report them separately")

    # ------------------------------------------------------------ arms and paper rows
    def facets(self, run: Run) -> dict:
        return {f: (run.axes[f] if f in run.axes else fn(run.params)) for f, fn in FACETS.items()}

    @property
    def facet_axes(self) -> set[str]:
        """Axes that select a paper row (named like a facet or overriding a facet's parameters);
        every other axis (model, |P|, ...) splits the report into contexts."""
        keys = {k for ks in FACET_PARAMS.values() for k in ks}
        out = set()
        for name, values in self.config["axes"].items():
            if name in FACETS or any(k in keys for v in values.values() for k in (v or {})):
                out.add(name)
        return out

    def _arms(self) -> "OrderedDict[str, Arm]":
        arms: OrderedDict[str, Arm] = OrderedDict()
        for run in self.plan.runs:  # grid order, then seed
            aid = run.id.rsplit("/seed=", 1)[0]
            if aid not in arms:
                ctx = "/".join(f"{k}={v}" for k, v in run.axes.items() if k not in self.facet_axes) or "all"
                arms[aid] = Arm(aid, dict(run.axes), self.facets(run), ctx, [])
            arms[aid].runs.append(run)
        for a in arms.values():
            a.runs.sort(key=lambda r: r.seed)
        return arms

    def contexts(self) -> list[str]:
        return list(OrderedDict.fromkeys(a.context for a in self.arms.values()))

    def context_axes(self, context: str) -> dict:
        return next(a.axes for a in self.arms.values() if a.context == context)

    def arms_matching(self, context: str, facets: dict) -> list[Arm]:
        return [a for a in self.arms.values()
                if a.context == context and all(a.facets.get(k) == v for k, v in facets.items())]

    def paper_rows(self, context: str) -> list[tuple[PaperRow | None, Arm, str]]:
        """(paper row or None, arm, 'base'|'last') for each paper row this context has, then the arms that
        map to none. The base row is the first arm matching LeTI's facets (else the context's first arm)."""
        out, mapped = [], set()
        for row in PAPER_ROWS:
            arms = self.arms_matching(context, row.facets)
            if row.iteration == "base":
                arms = arms or [a for a in self.arms.values() if a.context == context]
                if arms:
                    out.append((row, arms[0], "base"))
                continue
            for arm in arms:
                if arm.id not in mapped:
                    out.append((row, arm, "last"))
                    mapped.add(arm.id)
        for arm in self.arms.values():
            if arm.context == context and arm.id not in mapped:
                out.append((None, arm, "last"))
        return out

    def leti_arm(self, context: str, facets: dict) -> Arm | None:
        arms = self.arms_matching(context, facets)
        return arms[0] if arms else None

    # ------------------------------------------------------------ accessors
    def last(self, arm_or_run) -> int:
        run = arm_or_run.runs[0] if isinstance(arm_or_run, Arm) else arm_or_run
        return self.plan.iterations(run)

    def conds(self, run: Run, it: int, name: str) -> list[str]:
        """Conditionings benchmark `name` is evaluated under at this checkpoint."""
        return [c for c in self.plan.conditionings(run, it) if name in self.plan.benchmarks_at(run, it, c)]

    def cond_for(self, run: Run, it: int, name: str, cond: str | None = None) -> str | None:
        conds = self.conds(run, it, name)
        if cond is not None:
            return cond if cond in conds else None
        return "good" if "good" in conds else (conds[0] if conds else None)

    def bench(self, run: Run, it: int, name: str, cond: str | None = None) -> dict | None:
        c = self.cond_for(run, it, name, cond)
        data = self.metrics.get((run.id, it, c))
        return None if data is None else data["benchmarks"].get(name)

    def problems(self, run: Run, it: int, name: str, cond: str | None = None) -> dict | None:
        c = self.cond_for(run, it, name, cond)
        data = self.per_problem.get((run.id, it, c))
        return None if data is None else data.get(name)

    def evaluated(self, name: str, arm_or_run=None) -> list[int]:
        """Iterations at which `name` is evaluated (for this arm/run; without one: for any run)."""
        if name not in self.config.get("benchmarks", {}):
            return []
        if arm_or_run is None:
            return sorted({i for a in self.arms.values() for i in self.evaluated(name, a)})
        run = arm_or_run.runs[0] if isinstance(arm_or_run, Arm) else arm_or_run
        return [it for it in range(self.plan.iterations(run) + 1) if name in self.plan.benchmarks_at(run, it)]

    def versions_line(self) -> str:
        if not self.versions:
            return "versions: unknown"
        return "versions: " + ", ".join(f"{k} {'|'.join(sorted(v))}" for k, v in sorted(self.versions.items()))
