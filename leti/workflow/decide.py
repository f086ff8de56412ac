"""Which jobs run: decided from the parameter records of every result the requested targets depend on.

Snakemake decides what to run from file times and its own metadata; here every result carries a
parameter record (leti.workflow.freshness), so the catalog decides instead and hands Snakemake a DAG
that says the same thing. For the targets of one Snakemake call (`Request`), `Decision` computes

  reruns  - jobs that must run again: a stale job (an existing output records other parameters than
            the plan's, or none; a manifest whose results were deleted), a job Snakemake is told to
            force (`--forceall`, `-R/--forcerun`, `-f`), and everything downstream of those, whatever
            is fresh above it;
  needed  - jobs that must run because a job that runs reads an output of theirs that is missing (on a
            fresh clone: the checkpoint a retraining starts from), or because a target is missing;
            they do not pass a rerun downstream: their results are recomputed with the same record;
  incomplete - jobs Snakemake marked incomplete (an interrupted or killed run) whose outputs are not all
            there with the plan's record: they rerun (Snakemake forces them: the Snakefile sets
            --rerun-incomplete for every call) and so does everything downstream. A marked job whose every
            output exists with the plan's record did finish (a command writes its record last, once it
            succeeded; Snakemake deleted the outputs before the job started): its marker is removed and its
            outputs are kept, never recomputed.

A job that runs gets its inputs. They are `ancient()` (file times never trigger anything) except the
ones written by a job that reruns, through which Snakemake passes the rerun downstream (it looks no
further below a job that reruns). A stale job that nothing above reruns gets one more input, a
marker file touched newer than its outputs, so that Snakemake reruns it. Every other job gets no inputs at all: it is a leaf of the DAG, so what it was
computed from (checkpoints, samples, absent on a fresh clone) is never rebuilt for nothing, and
Snakemake never looks below it. Snakemake's `--until` and `--omit-from` then cut this DAG as usual (`--until RULE` up to RULE's
first jobs: Snakemake starts nothing below one of them, so later jobs of a repeated rule wait for the
next call).

`refusal()` is what `snakemake report` says instead of starting upstream work.
"""
from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable

from leti.workflow.freshness import Catalog, Job

# bookkeeping the report may redo on its own: checking results against the plan and listing them
BOOKKEEPING = frozenset({"run_manifest", "report"})


@dataclass(frozen=True)
class Request:
    """What one Snakemake call asks for, in the catalog's terms (see `request_of`)."""

    targets: tuple[str, ...] = ()        # rule names or files; () = the default target
    forceall: bool = False               # -F/--forceall
    forcerun: tuple[str, ...] = ()       # -R/--forcerun: rule names or files
    forcetargets: bool = False           # -f/--force: the targets themselves
    until: tuple[str, ...] = ()          # --until: rule names or files
    job_process: bool = False            # --target-jobs: the process that runs one (group) job
    prune: bool = True                   # False: Snakemake's own rerun triggers are on, keep every input
    incomplete: Callable[[list[str]], set[str]] | None = field(default=None, compare=False)
    unmark: Callable[[list[str]], None] | None = field(default=None, compare=False)  # drop incomplete markers


def request_of(workflow) -> Request:
    """The Request of the running Snakemake (its DAG settings are only set after the Snakefile was read,
    so this is called from the first input function)."""
    from snakemake.settings.types import RerunTrigger

    s = workflow.dag_settings

    def incomplete(paths: list[str]) -> set[str]:
        settings = workflow.execution_settings  # None where nothing executes (`snakemake --report`)
        if settings is None or settings.ignore_incomplete:
            return set()
        try:
            return set(workflow.persistence._filter_incomplete_keys(paths))
        except Exception:  # noqa: BLE001 - an unknown persistence backend: Snakemake decides alone
            return set()

    def unmark(paths: list[str]) -> None:
        for path in paths:
            try:
                workflow.persistence._unmark_incomplete(path)
            except Exception:  # noqa: BLE001 - an unknown persistence backend: Snakemake reruns the job
                return

    return Request(
        targets=tuple(str(t) for t in (s.targets or ())),
        forceall=bool(s.forceall),
        forcerun=tuple(str(t) for t in (s.forcerun or ())),
        forcetargets=bool(s.forcetargets),
        until=tuple(str(t) for t in (s.until or ())),
        job_process=bool(s.target_jobs),
        prune=set(s.rerun_triggers) == {RerunTrigger.MTIME},
        incomplete=incomplete,
        unmark=unmark,
    )


def _norm(path: str) -> str:
    return os.path.normpath(os.path.relpath(os.path.abspath(path)))


class Decision:
    """What runs for one Request (module docstring). `default_target`: the files rule `all` reads."""

    def __init__(self, catalog: Catalog, request: Request, default_target: Iterable[str] = ()):
        self.catalog = catalog
        self.request = request
        self._markers: dict[int, str | None] = {}
        if request.job_process or request.forceall:
            # a job's own process (inputs of the job it runs), or everything forced: every job its inputs
            self.reruns, self.needed, self.incomplete, self.forced = set(), set(), set(), set()
            self.everything = True
            return
        self.everything = False
        jobs = list(catalog.jobs.values())
        self._by_output_map: dict[str, Job] | None = None
        self._rules = {j.rule for j in jobs}
        self._consumers: dict[int, list[Job]] = {}
        for j in jobs:
            for p in j.input_paths():
                prod = catalog.producer.get(p)
                if prod is not None:
                    self._consumers.setdefault(id(prod), []).append(j)
        requests, target_jobs = self._targets(list(default_target))
        scope = self._upstream_of([catalog.producer[p] for p in requests if p in catalog.producer] + target_jobs)
        self.forced = {id(j) for j in scope if self._snakemake_forces(j, target_jobs)}
        stale = {id(j) for j in scope if catalog.stale(j) or self._lists_a_missing_result(j)}
        self.incomplete = self._incomplete(scope)
        # an interrupted job writes new outputs: what was computed from its old ones reruns too (without this,
        # Snakemake forced the interrupted job alone and never looked below it at the missing results)
        roots = [j for j in scope if id(j) in self.forced or id(j) in stale or id(j) in self.incomplete]
        self.reruns = self._downstream_of(roots, scope)
        self.needed = self._needed(requests, target_jobs, scope)
        self._stop_at_until(scope)

    # ------------------------------------------------------------------ the decision, per job
    def runs(self, job: Job) -> bool:
        """Does this job (possibly) run, so that it needs its inputs?"""
        k = id(job)
        return self.everything or k in self.reruns or k in self.needed or k in self.incomplete

    def inputs(self, job: Job) -> dict:
        """The named inputs the rule gets for this job (module docstring)."""
        if not self.runs(job) and self.request.prune:
            return {}
        out = dict(job.inputs)
        marker = self.marker(job)
        if marker:
            out["stale"] = marker
        return out

    def live(self, path: str) -> bool:
        """Is input `path` written by a job that reruns (so not ancient: Snakemake passes the rerun on)?"""
        prod = self.catalog.producer.get(path)
        return prod is not None and id(prod) in self.reruns

    def marker(self, job: Job) -> str | None:
        """A marker for a rerun that neither Snakemake forces nor a rerun above passes on (made once)."""
        k = id(job)
        if self.everything or k not in self.reruns or k in self.forced or k in self.incomplete:
            return None  # (Snakemake forces what it is told to, and every incomplete job: rules/common.smk)
        if any(self.live(p) for p in job.input_paths()):
            return None
        if k not in self._markers:
            self._markers[k] = self.catalog.stale_marker(job, force=True)
        return self._markers[k]

    def upstream_work(self) -> list[Job]:
        """Jobs that run and are not bookkeeping (what `snakemake report` refuses to start)."""
        if self.everything:
            return []
        ids = self.reruns | self.needed | self.incomplete
        return [j for j in self.catalog.jobs.values() if id(j) in ids and j.rule not in BOOKKEEPING]

    def refusal(self) -> str | None:
        """One line for `snakemake report` when results it reads are stale or missing, else None."""
        r = self.request
        if r.targets != ("report",) or r.forceall or set(r.forcerun) - {"report"} or r.job_process:
            return None  # (forcing more than the report itself says "recompute": an explicit opt-in)
        work = self.upstream_work()
        if not work:
            return None
        stale = [j for j in work if self.catalog.stale(j)]
        results = self.catalog.plan.results + "/"
        why = ""
        existing = [o for j in stale for o in j.outputs if os.path.exists(o)]
        for path in sorted(existing, key=lambda o: not o.startswith(results)):  # a result file first
            why = self.catalog.explain(path, self.catalog.producer[path].wildcards.get("rid")) or ""
            why = why.split("; rerun", 1)[0]
            if why:
                break
        missing = [o for j in work if not self.catalog.stale(j) for o in j.outputs
                   if o.startswith(results) and not os.path.exists(o)]
        what = []
        if stale:
            what.append(f"{len(stale)} stale (e.g. {why})" if why else f"{len(stale)} stale")
        if missing:
            what.append(f"{len(missing)} result files missing (e.g. {missing[0]})")
        if not what:
            what.append(f"their inputs are missing (e.g. {work[0].rule} {work[0].wildcards})")
        return (f"snakemake report: {len(work)} upstream jobs would run first: {'; '.join(what)}. The report "
                f"never starts upstream work: run `snakemake` to recompute them and the report "
                f"(`snakemake -n` lists the jobs)")

    def _stop_at_until(self, scope: list[Job]) -> None:
        """--until RULE runs up to the first jobs of RULE: Snakemake never starts a job below one of them,
        so a later job of the same rule (train, iteration 2, below iteration 1's) and what leads to it
        would wait forever ("BUG: Out of jobs ready to be started"); they are left out instead."""
        files = [f for f in self.request.until if f not in self._rules]
        until = [j for j in scope if self.runs(j) and (j.rule in self.request.until or any(
                 self._by_output.get(_norm(f)) is j for f in files))]
        if not until:
            return
        below = self._downstream_of([c for j in until for c in self._consumers.get(id(j), ())], scope)
        leading = {id(j) for j in self._upstream_of(until)}
        cut = below & leading
        self.reruns -= cut
        self.needed -= cut
        self.incomplete -= cut

    # ------------------------------------------------------------------ graph walks
    @property
    def _by_output(self) -> dict[str, Job]:
        """Jobs by their outputs' normalised paths (made when a file is named on the command line)."""
        if self._by_output_map is None:
            self._by_output_map = {_norm(o): j for j in self.catalog.jobs.values() for o in j.products}
        return self._by_output_map

    def _targets(self, default_target: list[str]) -> tuple[list[str], list[Job]]:
        """(files the targets request, target jobs whose every product is requested)."""
        cat, names = self.catalog, self.request.targets or ("all",)
        files, jobs = [], []
        rules = self._rules
        for t in names:
            if t == "all":
                files.extend(default_target)
            elif t in rules:
                jobs.extend(j for j in cat.of_rule(t) if not j.wildcards)  # a rule target has no wildcards
            else:
                job = self._by_output.get(_norm(t))
                if job is not None:
                    files.extend(o for o in job.products if _norm(o) == _norm(t))
        for t in self.request.forcerun:  # Snakemake makes forced files and wildcard-free rules targets too
            job = self._by_output.get(_norm(t))
            if job is not None:
                files.extend(o for o in job.products if _norm(o) == _norm(t))
            elif t in rules:
                jobs.extend(j for j in cat.of_rule(t) if not j.wildcards)
        return [self._canonical(f) for f in files], jobs

    def _canonical(self, path: str) -> str:
        if self._by_output_map is None and path in self.catalog.producer:
            return path
        job = self._by_output.get(_norm(path))
        if job is None:
            return path
        return next((o for o in job.products if _norm(o) == _norm(path)), path)

    @staticmethod
    def _lists_a_missing_result(job: Job) -> bool:
        """A manifest (or the report) whose results are gone (deleted by hand) no longer holds: it reruns,
        and so does whatever writes the missing results."""
        return (job.rule in BOOKKEEPING and all(os.path.exists(o) for o in job.outputs)
                and not all(os.path.exists(p) for p in job.input_paths()))

    def _snakemake_forces(self, job: Job, target_jobs: list[Job]) -> bool:
        r = self.request
        if not r.forcerun and not r.forcetargets:
            return False
        if job.rule in r.forcerun or any(self._by_output.get(_norm(f)) is job for f in r.forcerun
                                         if f not in self._rules):
            return True
        if r.forcetargets:
            return job in target_jobs or any(self._by_output.get(_norm(t)) is job for t in r.targets
                                             if t not in self._rules and t != "all")
        return False

    def _upstream_of(self, roots: list[Job]) -> list[Job]:
        """Every job the roots depend on (and the roots), in no particular order."""
        seen, order, stack = set(), [], list(roots)
        while stack:
            j = stack.pop()
            if id(j) in seen:
                continue
            seen.add(id(j))
            order.append(j)
            stack.extend(p for p in (self.catalog.producer.get(i) for i in j.input_paths()) if p is not None)
        return order

    def _downstream_of(self, roots: list[Job], scope: list[Job]) -> set[int]:
        inside = {id(j) for j in scope}
        seen, queue = set(), deque(roots)
        while queue:
            j = queue.popleft()
            if id(j) in seen or id(j) not in inside:
                continue
            seen.add(id(j))
            queue.extend(self._consumers.get(id(j), ()))
        return seen

    def _incomplete(self, scope: list[Job]) -> set[int]:
        """Jobs with an output Snakemake marked incomplete, minus the ones that did finish (module docstring),
        whose markers are removed so that Snakemake keeps their outputs."""
        if self.request.incomplete is None:
            return set()
        outputs = [o for j in scope for o in j.outputs if os.path.exists(o)]
        marked = self.request.incomplete(outputs) if outputs else set()
        jobs = [j for j in scope if any(o in marked for o in j.outputs)]
        finished = [j for j in jobs if self.finished(j)]
        if finished and self.request.unmark is not None:
            self.request.unmark([o for j in finished for o in j.outputs if o in marked])
        done = {id(j) for j in finished}
        return {id(j) for j in jobs if id(j) not in done}

    def finished(self, job: Job) -> bool:
        """Did this job's command finish? Every output exists and carries the plan's record, which the
        command writes last, once it succeeded (and Snakemake deletes a job's outputs before it starts)."""
        return all(os.path.exists(o) for o in job.outputs) and not self.catalog.stale(job)

    def _needed(self, requests: list[str], target_jobs: list[Job], scope: list[Job]) -> set[int]:
        """Jobs whose missing outputs a job that runs (or a target) reads, transitively upstream."""
        cat = self.catalog
        needed: set[int] = set()
        queue: deque[Job] = deque()

        def need(path: str) -> None:
            prod = cat.producer.get(path)
            if prod is not None and not os.path.exists(path) and id(prod) not in needed:
                needed.add(id(prod))
                queue.append(prod)

        for p in requests:
            need(p)
        for j in target_jobs:
            if not all(os.path.exists(o) for o in j.products) and id(j) not in needed:
                needed.add(id(j))
                queue.append(j)
        queue.extend(j for j in scope if id(j) in self.reruns or id(j) in self.incomplete)
        done: set[int] = set()
        while queue:
            j = queue.popleft()
            if id(j) in done:
                continue
            done.add(id(j))
            for p in j.input_paths():
                need(p)
        return needed
