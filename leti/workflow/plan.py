"""Expand `config.yaml` into runs and the path of every artefact.

A run is one combination of axis values (minus `exclude` filters) and one seed; its id reads
well: `model=tiny/feedback=textual/reg=on/seed=0`. Each stage's artefacts are keyed only by
the axes that can change them, so shared work is done once: the base model by the axes that
touch `model.*`; iteration-1 training samples and their executions (drawn from the base) by
the axes touching `model.*`, `task.*`, `sample.*`, `execute.*` plus the seed; everything after
by the whole run id.
"""
from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field

from leti.core.errors import UserError
from leti.core.io import stable_hash
from leti.workflow.params import Params

# What a shared stage's outputs depend on, as config keys (a namespace such as "model" or one dotted
# key): its path is keyed by the axes that override any of them (`stage_key`), so two arms share a path
# only when they would write the same bytes (leti.workflow.freshness.Catalog checks every run against it).
# The tiny model is pre-trained here on the pre-training corpus, so its base depends on the corpus keys;
# a hub model's does not (`Plan.stage_axes`).
CORPUS_KEYS = ("task.synth_seed", "task.pretrain_files", "task.pretrain_data_dir", "task.heldout_split")
STAGE_NAMESPACES = {
    "base": ("model",),
    "samples1": ("model", "task", "sample", "execute"),  # sample.postprocess also shapes execution
    "eval0": ("model", "eval", "execute", "sample.clean_up_spaces", "sample.engine"),  # dotted: that one key
    "heldout0": ("model", "task.heldout_corpus") + CORPUS_KEYS,  # the base's held-out LM loss
}
TINY_BASE_KEYS = ("task.pretrain_corpus",) + CORPUS_KEYS  # what a tiny base is pre-trained on
# parameters a stage's namespaces contain but that cannot change it
STAGE_IGNORES = {
    "samples1": {"sample.conditioning"},   # iteration 1 samples the base without a reward token
    "eval0": {"eval.conditionings"},       # iteration 0 is evaluated without a reward token
}


def stage_namespaces(stage: str, tiny: bool) -> tuple[str, ...]:
    """Config keys stage `stage` depends on; `tiny`: some run pre-trains its base here (module comment)."""
    keys = STAGE_NAMESPACES[stage]
    return keys + TINY_BASE_KEYS if tiny and stage in ("base", "eval0", "heldout0") else keys


@dataclass
class Run:
    id: str
    axes: dict
    seed: int
    params: dict = field(repr=False)


def set_dotted(params: dict, dotted: str, value, *, where: str) -> None:
    """Override `a.b.c` in params; the key must already exist (a typo is an error, not a new knob)."""
    node = params
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            known = sorted(node) if isinstance(node, dict) else []
            raise UserError(f"{where}: '{dotted}' overrides a parameter that does not exist "
                            f"('{'.'.join(parts[:i + 1])}'; known here: {known})")
        if i == len(parts) - 1:
            node[part] = copy.deepcopy(value)
        else:
            node = node[part]


def _excluded(combo: dict, filters: list[dict]) -> bool:
    return any(all(combo.get(k) == str(v) for k, v in f.items()) for f in filters)


def _included(combo: dict, filters: list[dict]) -> bool:
    return not filters or any(all(combo.get(k) == str(v) for k, v in f.items()) for f in filters)


def expand_runs(config: dict, config_name: str = "config", base: dict | None = None) -> list[Run]:
    """Runs of the grid; `base`: config["params"] with defaults filled (computed when not given)."""
    axes: dict = config["axes"]
    names = list(axes)
    for f in config.get("exclude", []) + config.get("include", []):
        for k, v in f.items():
            if k not in axes:
                raise UserError(f"{config_name}: include/exclude names unknown axis '{k}' (axes: {names})")
            if str(v) not in map(str, axes[k]):
                raise UserError(f"{config_name}: include/exclude names unknown value '{v}' of axis '{k}'")
    runs = []
    if base is None:  # defaults filled: an axis may override any field
        base = Params.from_dict(config["params"]).to_dict()
    for values in itertools.product(*[list(axes[n]) for n in names]):
        combo = {n: str(v) for n, v in zip(names, values)}
        if _excluded(combo, config.get("exclude", [])) or not _included(combo, config.get("include", [])):
            continue
        params = copy.deepcopy(base)
        for n in names:
            for dotted, value in (axes[n][combo[n]] or {}).items():
                set_dotted(params, dotted, value, where=f"{config_name}: axes.{n}.{combo[n]}")
        try:  # every run's parameters, defaults filled in, validated once here
            params = Params.from_dict(params).to_dict()
        except UserError as exc:
            where = ", ".join(f"axes.{n}.{combo[n]}" for n in names if axes[n][combo[n]])
            raise UserError(f"{config_name}: {exc}" + (f" (with {where})" if where else "")) from None
        for seed in config["seeds"]:
            rid = "/".join(f"{n}={combo[n]}" for n in names) + f"/seed={seed}"
            runs.append(Run(rid, combo, int(seed), params))
    if not runs:
        raise UserError(f"{config_name}: the axes and include/exclude filters leave no run")
    return runs


def _within(key: str, namespaces: tuple[str, ...]) -> bool:
    return any(key == ns or key.startswith(ns + ".") for ns in namespaces)


def axes_touching(config: dict, namespaces: tuple[str, ...], ignore: set[str] = frozenset()) -> list[str]:
    """Axes with at least one value overriding a parameter inside `namespaces` (minus `ignore`)."""
    out = []
    for name, values in config["axes"].items():
        keys = [k for v in values.values() for k in (v or {}) if k not in ignore]
        if any(_within(k, namespaces) for k in keys):
            out.append(name)
    return out


def stage_key(config: dict, run: Run, stage: str, with_seed: bool, tiny: bool = True) -> str:
    touching = axes_touching(config, stage_namespaces(stage, tiny), STAGE_IGNORES.get(stage, set()))
    parts = [f"{n}={run.axes[n]}" for n in config["axes"] if n in touching]
    if with_seed:
        parts.append(f"seed={run.seed}")
    return "/".join(parts) or "default"


def corpus_slug(src: str, params: dict | None = None) -> str:
    """File-name key of a hub corpus: 'hub:bigcode/the-stack@v1.1' -> 'bigcode__the-stack__v1_1', and with
    the task parameters that change its files (`hub_corpus_params`) a short hash of them: two arms that read
    other files or split them otherwise never write the same path."""
    name, _, rev = src.split(":", 1)[1].partition("@")
    slug = re.sub(r"[^A-Za-z0-9_-]", "_", name.replace("/", "__") + (f"__{rev}" if rev else ""))
    return f"{slug}-{stable_hash(params, 8)}" if params is not None else slug


def hub_corpus_params(task: dict) -> dict:
    """What `leti pretrain-corpus` is told besides the source: its output bytes depend on these."""
    return {"pretrain_data_dir": task["pretrain_data_dir"], "pretrain_files": task["pretrain_files"],
            "heldout_split": task["heldout_split"]}


def train_problems_key(task: dict) -> str:
    """File-name key of the training problems of `task.train` (mbpp | eae): EAE prompts depend on the style."""
    return f"eae-{task['eae_style']}" if task["train"] == "eae" else task["train"]


# Every artefact's path, written once: `Plan.path` fills a pattern for one run, `Plan.pattern` leaves
# the rule's wildcards in it ({bk} base key, {lk} loop key, {rid} run id, {ek} evaluation key, {it}
# iteration, {cond} conditioning, {bench} benchmark, {task} training task, {slug} corpus, {s} seed).
PATHS = {
    # work/ (git-ignored): data, checkpoints, samples, executions, caches
    "synth_dir": "{work}/data/synth/seed={s}",
    "bench_problems": "{work}/data/bench/{bench}.jsonl",
    "train_problems": "{work}/data/train/{task}.jsonl",  # {task}: train_problems_key
    "pretrain_corpus": "{work}/data/pretrain/{slug}.jsonl",
    "heldout_corpus": "{work}/data/pretrain/{slug}.heldout.jsonl",
    "tokenizer": "{work}/base/{bk}/tokenizer",
    "base_ckpt": "{work}/base/{bk}/ckpt",
    "train_samples": "{work}/loop/{lk}/iter{it}/samples.jsonl",
    "train_programs": "{work}/loop/{lk}/iter{it}/programs.jsonl",
    "train_exec": "{work}/loop/{lk}/iter{it}/exec.jsonl",
    "fcft_examples": "{work}/loop/{rid}/iter{it}/fcft.jsonl",
    "ckpt": "{work}/loop/{rid}/iter{it}/ckpt",
    "eval_samples": "{work}/eval/{ek}/iter{it}/samples.jsonl",
    "per_sample": "{work}/eval/{ek}/iter{it}/{cond}/per_sample.jsonl",
    "score_cache": "{work}/cache/eval/{ek}/iter{it}/{cond}.jsonl",
    # sample.engine vllm: the stamp naming the vLLM environment's Python (the environment itself: the
    # user's cache, leti.sampling.vllm_env) and a checkpoint as vLLM loads it ({ckpt}: a base_ckpt or ckpt path; CodeGen as GPT-J)
    "vllm_env": "{work}/envs/vllm.json",
    "vllm_model": "{ckpt}-vllm",
    # results/ (tracked): small files the report reads
    "train_stats": "{results}/runs/{rid}/iter{it}/train_stats.json",
    "train_summary": "{results}/runs/{rid}/iter{it}/train_summary.json",
    "loss_csv": "{results}/runs/{rid}/iter{it}/loss.csv",
    "heldout_loss": "{results}/{ek}/iter{it}/heldout_loss.json",
    "metrics": "{results}/{ek}/iter{it}/{cond}/metrics.json",
    "per_problem": "{results}/{ek}/iter{it}/{cond}/per_problem.json",
    # a run's results, checked against the plan and listed with their records (leti.workflow.freshness)
    "run_manifest": "{results}/runs/{rid}/manifest.json",
}


class _KeepWildcards(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Plan:
    """Paths of every artefact of the grid; the Snakefile and `leti report` both use it."""

    def __init__(self, config: dict, config_name: str = "config"):
        self.config = config
        self.params = Params.from_dict(config["params"]).to_dict()  # defaults filled in (TaskConfig's synth_seed, ...)
        self.runs = expand_runs(config, config_name, self.params)
        self.by_id = {r.id: r for r in self.runs}
        self.work = config["workdir"].rstrip("/")
        self.results = config["results"].rstrip("/")
        self._benchmarks_memo: dict[tuple, list[str]] = {}
        self.tiny = any(r.params["model"]["source"] == "tiny" for r in self.runs)

    def stage_axes(self, stage: str) -> list[str]:
        """Axes that key stage `stage`'s outputs (`stage_namespaces`)."""
        return axes_touching(self.config, stage_namespaces(stage, self.tiny), STAGE_IGNORES.get(stage, set()))

    def _key(self, run: Run, stage: str, with_seed: bool) -> str:
        return stage_key(self.config, run, stage, with_seed, self.tiny)

    # ---- paths
    def path(self, name: str, **values) -> str:
        """The path of artefact `name` (a PATHS key) for these wildcard values."""
        return PATHS[name].format(work=self.work, results=self.results, **values)

    def pattern(self, name: str, **fixed) -> str:
        """A rule's output pattern: PATHS[name] with work/results (and `fixed`) filled, wildcards kept."""
        return PATHS[name].format_map(_KeepWildcards(work=self.work, results=self.results, **fixed))

    # ---- the base model
    def base_key(self, run: Run) -> str:
        return self._key(run, "base", with_seed=False)

    def base_ckpt(self, run: Run) -> str:
        return self.path("base_ckpt", bk=self.base_key(run))

    # ---- the LeTI loop
    def loop_key(self, run: Run, iteration: int) -> str:
        """Key of iteration `iteration`'s training samples/executions (shared at iteration 1)."""
        return f"shared/{self._key(run, 'samples1', with_seed=True)}" if iteration == 1 else run.id

    def ckpt(self, run: Run, iteration: int) -> str:
        return self.base_ckpt(run) if iteration == 0 else self.path("ckpt", rid=run.id, it=iteration)

    def train_samples(self, run: Run, iteration: int) -> str:
        """Training samples of `iteration`, drawn from checkpoint iteration-1 in their own job: a checkpoint's
        evaluation samples are another job, so an evaluation-only change never redraws them (nor retrains)."""
        return self.path("train_samples", lk=self.loop_key(run, iteration), it=iteration)

    def train_exec(self, run: Run, iteration: int) -> str:
        return self.path("train_exec", lk=self.loop_key(run, iteration), it=iteration)

    def train_stats(self, run: Run, iteration: int) -> str:
        return self.path("train_stats", rid=run.id, it=iteration)

    def train_summary(self, run: Run, iteration: int) -> str:
        return self.path("train_summary", rid=run.id, it=iteration)

    def loss_csv(self, run: Run, iteration: int) -> str:
        return self.path("loss_csv", rid=run.id, it=iteration)

    # ---- evaluation
    def eval_key(self, run: Run, iteration: int) -> str:
        return f"base/{self._key(run, 'eval0', with_seed=True)}" if iteration == 0 else f"runs/{run.id}"

    @staticmethod
    def iterations(run: Run) -> int:
        return int(run.params["loop"]["iterations"])

    def benchmarks_at(self, run: Run, iteration: int, cond: str | None = None) -> list[str]:
        """(see `_benchmarks_at`; remembered: planning asks for every job, several times)"""
        key = (run.id, iteration, cond)
        if key not in self._benchmarks_memo:
            self._benchmarks_memo[key] = self._benchmarks_at(run, iteration, cond)
        return list(self._benchmarks_memo[key])

    def _benchmarks_at(self, run: Run, iteration: int, cond: str | None = None) -> list[str]:
        """Benchmarks evaluated for this run's checkpoint `iteration` under conditioning `cond`.

        A benchmark's `iterations` (default all; `last` = the run's last), `only` (axis values a run
        must have, iterations >= 1) and `conditionings` (default: the run's eval.conditionings) select
        where it runs; iteration 0 always uses `none`;
        `conditionings_at` (default all) limits the conditionings after the first to some iterations.
        """
        out = []
        for name, b in self.config["benchmarks"].items():
            if not self._at(run, iteration, b.get("iterations", "all")):
                continue
            # `only` selects runs at iterations >= 1; the base (iteration 0) is shared, so it gets every benchmark
            if iteration > 0 and any(run.axes.get(k) != str(v) for k, v in (b.get("only") or {}).items()):
                continue
            if cond is not None and cond not in self._conds_for(run, iteration, b):
                continue
            out.append(name)
        return out

    def _conds_for(self, run: Run, iteration: int, bench: dict) -> list[str]:
        if iteration == 0:
            return ["none"]
        run_conds = list(run.params["eval"]["conditionings"])
        wanted = bench.get("conditionings")
        if wanted is None:
            return run_conds[:1]
        conds = [c for c in run_conds if c in wanted] or run_conds[:1]
        return conds if self._at(run, iteration, bench.get("conditionings_at", "all")) else conds[:1]

    def _at(self, run: Run, iteration: int, when) -> bool:
        """Is `iteration` among `when` ("all", or a list of iteration numbers and "last")?"""
        if when == "all":
            return True
        last = self.iterations(run)
        return iteration in [last if w == "last" else int(w) for w in when]

    def conditionings(self, run: Run, iteration: int) -> list[str]:
        """Every conditioning checkpoint `iteration` of `run` is evaluated under (remembered)."""
        key = (run.id, iteration, "*conds")
        if key not in self._benchmarks_memo:
            self._benchmarks_memo[key] = self._conditionings(run, iteration)
        return list(self._benchmarks_memo[key])

    def _conditionings(self, run: Run, iteration: int) -> list[str]:
        conds = []
        for name in self.benchmarks_at(run, iteration):
            for c in self._conds_for(run, iteration, self.config["benchmarks"][name]):
                if c not in conds:
                    conds.append(c)
        return conds

    def eval_samples(self, run: Run, iteration: int) -> str:
        """All benchmarks' samples of one checkpoint under every conditioning, in one file (one model load)."""
        return self.path("eval_samples", ek=self.eval_key(run, iteration), it=iteration)

    def metrics(self, run: Run, iteration: int, cond: str) -> str:
        """One metrics JSON per checkpoint and conditioning: {benchmark: metrics}."""
        return self.path("metrics", ek=self.eval_key(run, iteration), it=iteration, cond=cond)

    def per_problem(self, run: Run, iteration: int, cond: str) -> str:
        """Per-problem pass counts {benchmark: {task_id: [n_pass, n]}}: paired CIs without samples."""
        return self.path("per_problem", ek=self.eval_key(run, iteration), it=iteration, cond=cond)

    def heldout_key(self, run: Run, iteration: int) -> str:
        """Key of the held-out loss of checkpoint `iteration`: the base's depends on the base and the held-out
        shard only (not on the benchmarks, nor on whether any is evaluated at iteration 0)."""
        return f"base/{self._key(run, 'heldout0', with_seed=True)}" if iteration == 0 else f"runs/{run.id}"

    def heldout_loss(self, run: Run, iteration: int) -> str:
        return self.path("heldout_loss", ek=self.heldout_key(run, iteration), it=iteration)

    def synth_dir(self, seed: int | None = None) -> str:
        seed = self.params["task"]["synth_seed"] if seed is None else seed
        return self.path("synth_dir", s=seed)

    def train_problems(self, run: Run) -> str:
        task = run.params["task"]
        if task["train"] == "synth":
            return f"{self.synth_dir(task['synth_seed'])}/train.jsonl"
        return self.path("train_problems", task=train_problems_key(task))

    def _corpus(self, run: Run, key: str, synth_file: str, pattern: str) -> str:
        """'synth' (the synthetic corpus), 'hub:<dataset>' (built by `leti pretrain-corpus`) or a JSONL path."""
        src = run.params["task"][key]
        if src == "synth":
            return f"{self.synth_dir(run.params['task']['synth_seed'])}/{synth_file}"
        if src.startswith("hub:"):
            return self.path(pattern, slug=corpus_slug(src, hub_corpus_params(run.params["task"])))
        return src

    def pretrain_corpus(self, run: Run) -> str:
        return self._corpus(run, "pretrain_corpus", "corpus.jsonl", "pretrain_corpus")

    def heldout_corpus(self, run: Run) -> str:
        return self._corpus(run, "heldout_corpus", "heldout.jsonl", "heldout_corpus")

    def hub_corpora(self) -> dict[str, tuple[str, Run]]:
        """{slug: (hub source, a run that reads it)} for `leti pretrain-corpus` (its file count and data_dir)."""
        out = {}
        for run in self.runs:
            for key in ("pretrain_corpus", "heldout_corpus"):
                src = run.params["task"][key]
                if src.startswith("hub:"):
                    out.setdefault(corpus_slug(src, hub_corpus_params(run.params["task"])), (src[4:], run))
        return out

    def bench_problems(self, bench: str) -> str:
        spec = self.config["benchmarks"][bench]["problems"]
        if spec["source"] == "synth":
            return f"{self.synth_dir()}/{spec['file']}.jsonl"
        return self.path("bench_problems", bench=bench)

    def lookups(self) -> dict:
        """Reverse maps from path wildcards to a representative run, for the Snakefile's input functions."""
        base, loop, evals, eval_any, heldout, train = {}, {}, {}, {}, {}, {}
        for run in self.runs:
            base.setdefault(self.base_key(run), run)
            heldout.setdefault(self.heldout_key(run, 0), run)
            if run.params["task"]["train"] != "synth":
                train.setdefault(train_problems_key(run.params["task"]), run)
            for it in range(1, self.iterations(run) + 1):
                loop.setdefault((self.loop_key(run, it), it), run)
            for it in range(self.iterations(run) + 1):
                eval_any.setdefault((self.eval_key(run, it), it), run)
                for cond in self.conditionings(run, it):
                    evals.setdefault((self.eval_key(run, it), it, cond), run)
        return {"base": base, "loop": loop, "eval": evals, "eval_any": eval_any, "heldout0": heldout,
                "train_problems": train, "runs": {r.id: r for r in self.runs}}

    # ---- everything the grid produces (rule all)
    def all_metrics(self) -> list[str]:
        out = set()
        for run in self.runs:
            for it in range(self.iterations(run) + 1):
                for cond in self.conditionings(run, it):
                    out.update({self.metrics(run, it, cond), self.per_problem(run, it, cond)})
                if self.config.get("heldout_loss", True):
                    out.add(self.heldout_loss(run, it))
                if it >= 1:
                    out.update({self.train_stats(run, it), self.train_summary(run, it), self.loss_csv(run, it)})
        return sorted(out)
