"""Self-verifying results: every job of the plan, what it reads, and the record its outputs carry.

`Catalog(plan)` lists the jobs the rules in rules/*.smk run (one `Job` per rule and wildcards: its
named inputs, its outputs and its own parameters, as dotted keys such as `train.steps`). It is the
rules' single source of inputs (`input: unpack(fresh_inputs("train"))` in rules/common.smk), so the
catalog and the DAG cannot drift apart.

Each job's record (leti.core.records) holds
  - `params`: its own parameters and every upstream job's (what the result depends on), and
  - `hash`: a Merkle hash over its own parameters and its inputs' hashes, so a change anywhere
    upstream changes the hash of everything downstream.
The commands write it beside their outputs (`--record`); planning compares it with the plan's
(`Catalog.stale`); leti.workflow.decide turns that into what Snakemake runs: a stale job and every
job downstream of it, whatever is fresh above them, and nothing else. File times never trigger a
job: `snakemake report` schedules nothing upstream when the results exist and match, and on a fresh
clone a changed parameter reruns exactly the jobs that depend on it.
"""
from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, field

from leti.core.errors import UserError
from leti.core.io import atomic_write_json, stable_hash
from leti.core.provenance import config_hash
from leti.core.records import differing_keys, read_record
from leti.workflow import specs
from leti.workflow.plan import Plan, Run, corpus_slug, hub_corpus_params, train_problems_key

SYNTH_FILES = ("train", "test", "transfer", "retention", "corpus", "heldout")
# how a job is scheduled, not what it computes: left out of records (the executor pool's size)
SCHEDULING_PARAMS = frozenset({"execute.workers"})


@dataclass(eq=False)  # a job is itself: identity, not field-by-field comparison
class Job:
    rule: str
    wildcards: dict              # the rule's wildcards (strings)
    inputs: dict                 # the rule's named inputs: a path or a list of paths each
    outputs: list                # paths (a directory output: its path)
    own: dict                    # dotted parameters this job is told
    merge_params: bool = True    # False: record only its own parameters (the report: every run's differ)
    products: list = field(default_factory=list)  # the files Snakemake sees, when not `outputs` (the report)
    _record: dict | None = field(default=None, repr=False)
    _stale: bool | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.products = list(self.products or self.outputs)

    def input_paths(self) -> list[str]:
        out = []
        for v in self.inputs.values():
            out.extend([v] if isinstance(v, str) else v)
        return out


def flatten(prefix: str, obj) -> dict:
    """{'a': {'b': 1}} under 'x' -> {'x.a.b': 1}."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(flatten(f"{prefix}.{k}", v))
        return out
    return {prefix: obj}


def report_dir(plan: Plan) -> str:
    return (plan.config.get("report_dir") or f"{plan.results}/report").rstrip("/")


def report_stamp(plan: Plan) -> str:
    """One stamp per report directory, in the git-ignored work dir (a fresh clone always rebuilds)."""
    return f"{plan.work}/report-{re.sub(r'[^A-Za-z0-9]+', '_', report_dir(plan))}.done"


class Catalog:
    def __init__(self, plan: Plan, report_files: list[str] | None = None):
        """`report_files`: the files the report rule declares (leti.report.output_files, a stage above)."""
        self.plan = plan
        self.report_files = list(report_files or [])
        self.config = plan.config
        self.lookup = plan.lookups()
        self.threads = int(self.config.get("threads", 1))
        self.heldout = bool(self.config.get("heldout_loss", True))
        self.jobs: dict[tuple, Job] = {}
        self.producer: dict[str, Job] = {}
        self._build()

    # ------------------------------------------------------------ lookups
    def job(self, rule: str, wildcards) -> Job:
        """The job of `rule` for these wildcards (a dict, or Snakemake's Wildcards object)."""
        wc = dict(wildcards.items()) if hasattr(wildcards, "items") else dict(wildcards)
        key = (rule, tuple(sorted((k, str(v)) for k, v in wc.items())))
        if key not in self.jobs:
            raise UserError(f"no {rule} job for {wc} in this plan")
        return self.jobs[key]

    def of_rule(self, rule: str) -> list[Job]:
        return [j for (r, _), j in self.jobs.items() if r == rule]

    def run_manifests(self) -> list[str]:
        return [self.plan.path("run_manifest", rid=r.id) for r in self.plan.runs]

    # ------------------------------------------------------------ records
    def _portable(self, path: str) -> str:
        """A path with the work and results directories as placeholders (moving them changes no hash)."""
        for root, name in sorted(((self.plan.results, "{results}"), (self.plan.work, "{work}")),
                                 key=lambda x: -len(x[0])):
            if path == root or path.startswith(root + "/"):
                return name + path[len(root):]
        return path

    def record(self, job_or_path) -> dict:
        """The record the outputs of a job (or of the job writing `path`) must carry: rule, hash, params."""
        job = self.producer[job_or_path] if isinstance(job_or_path, str) else job_or_path
        if job._record is None:
            stack, order, seen = [job], [], set()
            while stack:  # upstream first, without recursion (a 30-iteration loop is a deep chain)
                j = stack.pop()
                if j._record is not None or id(j) in seen:
                    continue
                seen.add(id(j))
                order.append(j)
                stack.extend(self.producer[p] for p in j.input_paths()
                             if p in self.producer and self.producer[p]._record is None)
            for j in reversed(order):
                self._compute(j)
        return job._record

    def _compute(self, job: Job) -> None:
        ups, params = {}, {}
        for p in job.input_paths():
            prod = self.producer.get(p)
            if prod is None:  # a file from outside the workflow (the data root, a user's corpus)
                ups[self._portable(p)] = None
                continue
            if prod._record is None:
                self._compute(prod)
            ups[self._portable(p)] = prod._record["hash"]
            if job.merge_params:
                params.update(prod._record["params"])
        params.update(job.own)
        job._record = {"rule": job.rule, "hash": stable_hash({"rule": job.rule, "own": job.own, "inputs": ups}, 24),
                       "params": dict(sorted(params.items())) if job.merge_params else dict(job.own)}

    def record_arg(self, job: Job) -> dict:
        """What the rule passes as `leti <command> --record`: the record and the outputs to put it beside."""
        return {"outputs": list(job.outputs), **self.record(job)}

    def stale(self, job: Job) -> bool:
        """Does an existing output of `job` carry another record than the plan's (or none)?

        Missing outputs are Snakemake's own business (it reruns the job); this finds the ones that
        exist but were computed with other parameters, or before results recorded theirs."""
        if job._stale is None:
            job._stale = False
            for out in job.outputs:
                if os.path.exists(out):
                    rec = read_record(out)
                    if rec is None or rec["hash"] != self.record(job)["hash"]:
                        job._stale = True
                        break
        return job._stale

    def stale_marker(self, job: Job, force: bool = False) -> str | None:
        """For a job that must rerun (stale, or `force`: downstream of one): a marker file, touched now,
        newer than every output, which the rule takes as one more input so that Snakemake reruns the job;
        None when the job is fresh and not forced.

        A missing marker made by a rule would not do: Snakemake runs a job whose output is missing only
        when a job downstream needs it, and these jobs' consumers are fresh by their own times."""
        if not force and not self.stale(job):
            return None
        marker = f"{self.plan.work}/.stale/{job.rule}/{stable_hash(job.outputs[0], 20)}"
        newest = max((_mtime(o) for o in job.outputs), default=0)
        when = max(time.time_ns(), newest + 1_000_000_000)
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        with open(marker, "w", encoding="utf-8") as fh:
            why = "its record differs from the plan's" if self.stale(job) else "it reads a result that reruns"
            fh.write(f"{job.outputs[0]}: {why} ({self.record(job)['hash']})\n")
        os.utime(marker, ns=(when, when))
        return marker

    def explain(self, path: str, run_id: str | None = None) -> str | None:
        """One line saying why result `path` does not match the plan, or None when it does."""
        expected = self.record(path)
        rec = read_record(path)
        who = f" ({run_id})" if run_id else ""
        if rec is None:
            return (f"{path}{who}: no parameter record beside it (written before results recorded their "
                    f"parameters, or by hand); rerun `snakemake` to recompute it")
        if rec["hash"] == expected["hash"]:
            return None
        keys = differing_keys(rec.get("params") or {}, expected["params"])
        if not keys:
            return (f"{path}{who}: computed from other upstream results than the plan's (same parameters); "
                    f"rerun `snakemake` to recompute it")
        shown = ", ".join(f"{k} (recorded {_short(rec.get('params', {}).get(k, '<unset>'))}, plan "
                          f"{_short(expected['params'].get(k, '<unset>'))})" for k in keys[:4])
        more = f" and {len(keys) - 4} more" if len(keys) > 4 else ""
        return (f"{path}{who}: computed with other parameters than the plan: {shown}{more}; "
                f"rerun `snakemake` to recompute it")

    def write_manifest(self, job: Job) -> None:
        """Check every result a manifest lists against the plan, then write the manifest (its own record)."""
        files = {}
        for p in job.input_paths():
            why = self.explain(p, job.wildcards.get("rid"))
            if why:
                raise UserError(why)
            files[self._portable(p)] = self.record(p)["hash"]
        atomic_write_json(job.outputs[0], {**self.record(job), "files": files})

    # ------------------------------------------------------------ the jobs
    def _add(self, rule: str, wildcards: dict, inputs: dict, outputs: list, own: dict, merge: bool = True,
             products: list | None = None) -> None:
        """Add a job; the same job again (another run sharing it) must be told the same and read the same."""
        own = {k: v for k, v in own.items() if k not in SCHEDULING_PARAMS}
        job = Job(rule, {k: str(v) for k, v in wildcards.items()}, inputs, [o.rstrip("/") for o in outputs],
                  dict(sorted(own.items())), merge, list(products or []))
        key = (rule, tuple(sorted(job.wildcards.items())))
        if key in self.jobs:
            self._same_job(self.jobs[key], job)
            return
        self.jobs[key] = job
        for out in dict.fromkeys(job.outputs + job.products):
            self.producer.setdefault(out, job)

    @staticmethod
    def _same_job(first: Job, again: Job) -> None:
        """Two runs share a job only when it would write the same bytes for both: a stage keyed by fewer
        parameters than change its outputs would make two arms overwrite each other's files."""
        differ = sorted(k for k in set(first.own) | set(again.own) if first.own.get(k, "<unset>") != again.own.get(k, "<unset>"))
        differ += [f"input {k}" for k in sorted(set(first.inputs) | set(again.inputs))
                   if first.inputs.get(k) != again.inputs.get(k)]
        if differ or first.outputs != again.outputs:
            raise UserError(f"plan: two runs would write {first.outputs[0]} ({first.rule}) differently "
                            f"({', '.join(differ[:4]) or 'other outputs'}): its path is keyed by fewer parameters "
                            f"than change it (leti/workflow/plan.py STAGE_NAMESPACES); a bug, please report it")

    def _build(self) -> None:
        plan, cfg = self.plan, self.config
        # ---- data
        seeds = {plan.params["task"]["synth_seed"]} | {r.params["task"]["synth_seed"] for r in plan.runs}
        for s in sorted(seeds):
            d = plan.synth_dir(s)
            self._add("synth", {"s": s}, {}, [f"{d}/{f}.jsonl" for f in SYNTH_FILES], {"task.synth_seed": s})
        for name, b in cfg["benchmarks"].items():
            if b["problems"]["source"] != "synth":
                self._add("bench_data", {"bench": name}, {}, [plan.bench_problems(name)],
                          {f"benchmarks.{name}.problems": b["problems"]})
        # every run adds the jobs it reads (a shared job is checked to be the same job: _same_job)
        for run in plan.runs:
            t = run.params["task"]
            if t["train"] != "synth":
                own = {"task.train": t["train"], **({"task.eae_style": t["eae_style"]} if t["train"] == "eae" else {})}
                self._add("train_data", {"task": train_problems_key(t)}, {}, [plan.train_problems(run)], own)
            for key in ("pretrain_corpus", "heldout_corpus"):
                if t[key].startswith("hub:"):
                    params = hub_corpus_params(t)
                    slug = corpus_slug(t[key], params)
                    self._add("pretrain_corpus", {"slug": slug}, {},
                              [plan.path("pretrain_corpus", slug=slug), plan.path("heldout_corpus", slug=slug)],
                              {"corpus": t[key][4:], **{f"task.{k}": v for k, v in params.items()}})
        # ---- the base models
        for run in plan.runs:
            bk, m = plan.base_key(run), run.params["model"]
            if m["source"] == "tiny":
                tok, corpus = plan.path("tokenizer", bk=bk), plan.pretrain_corpus(run)
                self._add("tokenizer", {"bk": bk}, {"corpus": corpus}, [tok],
                          {"model.tokenizer.vocab_size": m["tokenizer"]["vocab_size"]})
                self._add("pretrain", {"bk": bk}, {"tokenizer": tok, "corpus": corpus}, [plan.base_ckpt(run)],
                          {**flatten("model.pretrain", m["pretrain"]), "model.pretrain_seed": m["pretrain_seed"],
                           "threads": self.threads})
            else:
                self._add("init_model", {"bk": bk}, {}, [plan.base_ckpt(run)], {"model.source": m["source"]})
        # ---- the loop: training samples, programs and their executions (iteration 1 shared)
        for run in plan.runs:
            for it in range(1, plan.iterations(run) + 1):
                lk = plan.loop_key(run, it)
                wc = {"lk": lk, "it": it}
                problems, samples = plan.train_problems(run), plan.train_samples(run, it)
                engine_in, engine_own = self._engine(run, plan.ckpt(run, it - 1))
                self._add("sample_train", wc, {"ckpt": plan.ckpt(run, it - 1), "problems": problems, **engine_in},
                          [samples], {**self._train_sample_own(run, it), **engine_own})
                self._add("execute_train", wc, {"problems": problems, "samples": samples},
                          [plan.path("train_programs", lk=lk, it=it), plan.train_exec(run, it)],
                          {**self._postprocess_own(run), **flatten("execute", run.params["execute"])})
        # ---- FCFT data and training, one job per run and iteration
        for run in plan.runs:
            for it in range(1, plan.iterations(run) + 1):
                wc = {"rid": run.id, "it": it}
                own = {"fcft.feedback_type": run.params["fcft"]["feedback_type"], **self._postprocess_own(run)}
                if run.params["sample"]["postprocess"]:
                    own["fcft.postprocess_feedback"] = run.params["fcft"]["postprocess_feedback"]
                outputs = [plan.ckpt(run, it), plan.train_summary(run, it), plan.loss_csv(run, it)]
                if self.heldout:
                    outputs.append(plan.heldout_loss(run, it))
                outputs += [plan.path("fcft_examples", rid=run.id, it=it), plan.train_stats(run, it)]
                self._add("train", wc,
                          {"init": plan.ckpt(run, it - 1), "problems": plan.train_problems(run),
                           "samples": plan.train_samples(run, it), "executions": plan.train_exec(run, it),
                           "pretrain": plan.pretrain_corpus(run),
                           "heldout": plan.heldout_corpus(run) if self.heldout else []},
                          outputs, {**own, **flatten("train", run.params["train"]), "seed": run.seed,
                                    "threads": self.threads, "heldout_loss": self.heldout})
        # ---- evaluation; the base's held-out loss whenever it is on, whatever the benchmarks' iterations
        for run in plan.runs:
            if self.heldout:
                self._add("heldout_loss", {"ek": plan.heldout_key(run, 0), "it": 0},
                          {"ckpt": plan.ckpt(run, 0), "data": plan.heldout_corpus(run)},
                          [plan.heldout_loss(run, 0)], {"threads": self.threads})
            for it in range(plan.iterations(run) + 1):
                ek = plan.eval_key(run, it)
                if plan.conditionings(run, it):
                    engine_in, engine_own = self._engine(run, plan.ckpt(run, it))
                    self._add("eval_sample", {"ek": ek, "it": it},
                              {"ckpt": plan.ckpt(run, it), "problems": specs.eval_bench_problems(plan, run, it),
                               **engine_in},
                              [plan.eval_samples(run, it)], {**self._eval_sample_own(run, it), **engine_own})
                for cond in plan.conditionings(run, it):
                    self._add("eval_score", {"ek": ek, "it": it, "cond": cond},
                              {"problems": [plan.bench_problems(b) for b in plan.benchmarks_at(run, it, cond)],
                               "samples": plan.eval_samples(run, it)},
                              [plan.metrics(run, it, cond), plan.per_problem(run, it, cond)],
                              self._eval_score_own(run, it, cond))
        # ---- one manifest per run (every result of the run, checked); the report reads the manifests
        for run in plan.runs:
            files = []
            for it in range(plan.iterations(run) + 1):
                for cond in plan.conditionings(run, it):
                    files += [plan.metrics(run, it, cond), plan.per_problem(run, it, cond)]
                if self.heldout:
                    files.append(plan.heldout_loss(run, it))
                if it >= 1:
                    files += [plan.train_stats(run, it), plan.train_summary(run, it), plan.loss_csv(run, it)]
            self._add("run_manifest", {"rid": run.id}, {"results": files}, [plan.path("run_manifest", rid=run.id)], {})
        self._add("report", {}, {"manifests": self.run_manifests()}, [report_stamp(plan), report_dir(plan)],
                  {"config": config_hash({k: v for k, v in cfg.items() if k != "data_root"})}, merge=False,
                  products=[report_stamp(plan)] + self.report_files)

    def _engine(self, run: Run, ckpt: str) -> tuple[dict, dict]:
        """Extra inputs and own parameters of a sampling job of `run` from checkpoint `ckpt`. With
        sample.engine vllm: the vLLM environment's stamp (job vllm_env: built once, its requirements'
        hash recorded, so other pins redraw the samples) and, for hub models, the checkpoint as vLLM
        loads it (job vllm_model: CodeGen converted to GPT-J once per checkpoint)."""
        if not specs.uses_vllm(run):
            return {}, {}
        spec = str(self.config.get("vllm_env", "auto"))
        stamp = specs.vllm_env_stamp(self.plan)
        self._add("vllm_env", {}, {}, [stamp], {"vllm_env": spec, "vllm_env.requirements": _requirements_hash(spec)})
        inputs = {"vllm_env": stamp}
        if specs.needs_vllm_model(run):
            out = specs.vllm_model_dir(ckpt)
            self._add("vllm_model", {"ckpt": ckpt}, {"ckpt": ckpt}, [out], {})
            inputs["vllm_model"] = out
        return inputs, {"sample.engine": "vllm"}

    # ------------------------------------------------------------ own parameters, as dotted config keys
    def _train_sample_own(self, run: Run, it: int) -> dict:
        item = specs.train_sample_item(self.plan, run, it)
        own = {"seed": run.seed, "threads": self.threads, "task.limit": item["limit"]}
        for k, v in item.items():
            if k not in ("problems", "out", "seed", "limit", "conditioning"):
                own[f"sample.{k}"] = v
        if it >= 2:  # iteration 1 samples the base without a reward token, whatever sample.conditioning says
            own["sample.conditioning"] = item["conditioning"]
        return own

    def _eval_sample_own(self, run: Run, it: int) -> dict:
        own, conds = {"seed": run.seed, "threads": self.threads}, {}
        for item in specs.eval_sample_spec(self.plan, run, it):
            name = item["benchmark"]
            conds.setdefault(name, []).append(item["conditioning"])
            for k, v in item.items():
                if k == "clean_up_spaces":
                    own["sample.clean_up_spaces"] = v
                elif k not in ("benchmark", "problems", "out", "seed", "conditioning"):
                    own[f"benchmarks.{name}.{k}"] = v
        own.update({f"benchmarks.{n}.conditionings@{it}": c for n, c in conds.items()})
        return own

    def _eval_score_own(self, run: Run, it: int, cond: str) -> dict:
        names = {"strip_mode": "eval.strip_mode", "timeout": "execute.timeout", "memory_mb": "execute.memory_mb",
                 "eae_occurrence": "execute.eae_occurrence", "python": "execute.python", "workers": "execute.workers",
                 "verdict": "execute.verdict"}
        own = {"execute.python": None}
        for item in specs.eval_score_spec(self.plan, run, it, cond):
            name = item["benchmark"]
            for k, v in item.items():
                if k in names:
                    own[names[k]] = v
                elif k == "benchmark_timeout":
                    own[f"benchmarks.{name}.timeout"] = v
                elif k not in ("benchmark", "problems"):
                    own[f"benchmarks.{name}.{k}"] = v
        return own

    @staticmethod
    def _postprocess_own(run: Run) -> dict:
        s = run.params["sample"]
        return {"sample.postprocess": s["postprocess"], **({"sample.postprocess_mode": s["postprocess_mode"]}
                                                             if s["postprocess"] else {})}


def _requirements_hash(spec: str) -> str | None:
    """The vLLM environment's pins (envs/vllm-*.txt of this source tree); None for a user's own Python."""
    files = specs.ENV_REQUIREMENTS.get(spec)
    if not files:
        return None
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    blob = b""
    for name in files:
        try:
            with open(os.path.join(root, name), "rb") as fh:
                blob += fh.read()
        except OSError:
            blob += b"<missing " + name.encode() + b">"
    return hashlib.sha256(blob).hexdigest()[:12]


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
