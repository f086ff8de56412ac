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
from dataclasses import dataclass, field

from leti.errors import UserError

STAGE_NAMESPACES = {
    "base": ("model",),
    "train_problems": ("task",),
    "samples1": ("model", "task", "sample", "execute"),  # sample.postprocess also shapes execution
    "eval0": ("model", "eval", "execute"),
}
# parameters a stage's namespaces contain but that cannot change it
STAGE_IGNORES = {
    "samples1": {"sample.conditioning"},   # iteration 1 samples the base without a reward token
    "eval0": {"eval.conditionings"},       # iteration 0 is evaluated without a reward token
}


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


def get_dotted(params: dict, dotted: str):
    node = params
    for part in dotted.split("."):
        node = node[part]
    return node


def _excluded(combo: dict, filters: list[dict]) -> bool:
    return any(all(combo.get(k) == str(v) for k, v in f.items()) for f in filters)


def _included(combo: dict, filters: list[dict]) -> bool:
    return not filters or any(all(combo.get(k) == str(v) for k, v in f.items()) for f in filters)


def expand_runs(config: dict, config_name: str = "config") -> list[Run]:
    axes: dict = config["axes"]
    names = list(axes)
    for f in config.get("exclude", []) + config.get("include", []):
        for k, v in f.items():
            if k not in axes:
                raise UserError(f"{config_name}: include/exclude names unknown axis '{k}' (axes: {names})")
            if str(v) not in map(str, axes[k]):
                raise UserError(f"{config_name}: include/exclude names unknown value '{v}' of axis '{k}'")
    runs = []
    for values in itertools.product(*[list(axes[n]) for n in names]):
        combo = {n: str(v) for n, v in zip(names, values)}
        if _excluded(combo, config.get("exclude", [])) or not _included(combo, config.get("include", [])):
            continue
        params = copy.deepcopy(config["params"])
        for n in names:
            for dotted, value in (axes[n][combo[n]] or {}).items():
                set_dotted(params, dotted, value, where=f"{config_name}: axes.{n}.{combo[n]}")
        for seed in config["seeds"]:
            rid = "/".join(f"{n}={combo[n]}" for n in names) + f"/seed={seed}"
            runs.append(Run(rid, combo, int(seed), params))
    if not runs:
        raise UserError(f"{config_name}: the axes and include/exclude filters leave no run")
    return runs


def axes_touching(config: dict, namespaces: tuple[str, ...], ignore: set[str] = frozenset()) -> list[str]:
    """Axes with at least one value overriding a parameter inside `namespaces` (minus `ignore`)."""
    out = []
    for name, values in config["axes"].items():
        keys = [k for v in values.values() for k in (v or {}) if k not in ignore]
        if any(k.split(".")[0] in namespaces for k in keys):
            out.append(name)
    return out


def stage_key(config: dict, run: Run, stage: str, with_seed: bool) -> str:
    touching = axes_touching(config, STAGE_NAMESPACES[stage], STAGE_IGNORES.get(stage, set()))
    parts = [f"{n}={run.axes[n]}" for n in config["axes"] if n in touching]
    if with_seed:
        parts.append(f"seed={run.seed}")
    return "/".join(parts) or "default"


def corpus_slug(src: str) -> str:
    return src.split(":", 1)[1].replace("/", "__")


class Plan:
    """Paths of every artefact of the grid; the Snakefile and `leti report` both use it."""

    def __init__(self, config: dict, config_name: str = "config"):
        self.config = config
        self.runs = expand_runs(config, config_name)
        self.by_id = {r.id: r for r in self.runs}
        self.work = config["workdir"].rstrip("/")
        self.results = config["results"].rstrip("/")

    # ---- the base model
    def base_key(self, run: Run) -> str:
        return stage_key(self.config, run, "base", with_seed=False)

    def base_ckpt(self, run: Run) -> str:
        return f"{self.work}/base/{self.base_key(run)}/ckpt"

    # ---- the LeTI loop
    def loop_key(self, run: Run, iteration: int) -> str:
        """Key of iteration `iteration`'s training samples/executions (shared at iteration 1)."""
        return f"shared/{stage_key(self.config, run, 'samples1', with_seed=True)}" if iteration == 1 else run.id

    def ckpt(self, run: Run, iteration: int) -> str:
        return self.base_ckpt(run) if iteration == 0 else f"{self.work}/loop/{run.id}/iter{iteration}/ckpt"

    def train_samples(self, run: Run, iteration: int) -> str:
        if iteration >= 2 and self.draws_together(run, iteration - 1):
            return self.checkpoint_draws(run, iteration - 1)["train"]
        return f"{self.work}/loop/{self.loop_key(run, iteration)}/iter{iteration}/samples.jsonl"

    def draws_together(self, run: Run, iteration: int) -> bool:
        """Does loop checkpoint `iteration` both feed the next iteration and get evaluated?

        Then one job loads it once and draws both sets (`checkpoint_draws`): a process and a model
        load fewer per checkpoint, which on CPU is about half of a sampling job. `checkpoint_sampling:
        separate` keeps evaluation off the loop's critical path instead (a cluster with free GPUs)."""
        return (self.config.get("checkpoint_sampling", "joint") == "joint"
                and 1 <= iteration < self.iterations(run) and bool(self.conditionings(run, iteration)))

    def checkpoint_draws(self, run: Run, iteration: int) -> dict[str, str]:
        """Samples drawn from loop checkpoint `iteration` together: next iteration's training set, evaluation."""
        d = f"{self.work}/loop/{run.id}/iter{iteration}/draws"
        return {"train": f"{d}/train.jsonl", "eval": f"{d}/eval.jsonl"}

    def train_exec(self, run: Run, iteration: int) -> str:
        return f"{self.work}/loop/{self.loop_key(run, iteration)}/iter{iteration}/exec.jsonl"

    def fcft_examples(self, run: Run, iteration: int) -> str:
        return f"{self.work}/loop/{run.id}/iter{iteration}/fcft.jsonl"

    def train_stats(self, run: Run, iteration: int) -> str:
        return f"{self.results}/runs/{run.id}/iter{iteration}/train_stats.json"

    def train_summary(self, run: Run, iteration: int) -> str:
        return f"{self.results}/runs/{run.id}/iter{iteration}/train_summary.json"

    def loss_csv(self, run: Run, iteration: int) -> str:
        return f"{self.results}/runs/{run.id}/iter{iteration}/loss.csv"

    # ---- evaluation
    def eval_key(self, run: Run, iteration: int) -> str:
        return f"base/{stage_key(self.config, run, 'eval0', with_seed=True)}" if iteration == 0 else f"runs/{run.id}"

    @staticmethod
    def iterations(run: Run) -> int:
        return int(run.params["loop"]["iterations"])

    def benchmarks_at(self, run: Run, iteration: int, cond: str | None = None) -> list[str]:
        """Benchmarks evaluated for this run's checkpoint `iteration` under conditioning `cond`.

        A benchmark's `iterations` (default all; `last` = the run's last) and `conditionings`
        (default: the run's eval.conditionings) select where it runs; iteration 0 always uses `none`;
        `conditionings_at` (default all) limits the conditionings after the first to some iterations.
        """
        out = []
        for name, b in self.config["benchmarks"].items():
            if not self._at(run, iteration, b.get("iterations", "all")):
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
        conds = []
        for name in self.benchmarks_at(run, iteration):
            for c in self._conds_for(run, iteration, self.config["benchmarks"][name]):
                if c not in conds:
                    conds.append(c)
        return conds

    def eval_samples(self, run: Run, iteration: int) -> str:
        """All benchmarks' samples of one checkpoint under every conditioning, in one file (one model load)."""
        if self.draws_together(run, iteration):
            return self.checkpoint_draws(run, iteration)["eval"]
        return f"{self.work}/eval/{self.eval_key(run, iteration)}/iter{iteration}/samples.jsonl"

    def metrics(self, run: Run, iteration: int, cond: str) -> str:
        """One metrics JSON per checkpoint and conditioning: {benchmark: metrics}."""
        return f"{self.results}/{self.eval_key(run, iteration)}/iter{iteration}/{cond}/metrics.json"

    def per_problem(self, run: Run, iteration: int, cond: str) -> str:
        """Per-problem pass counts {benchmark: {task_id: [n_pass, n]}}: paired CIs without samples."""
        return f"{self.results}/{self.eval_key(run, iteration)}/iter{iteration}/{cond}/per_problem.json"

    def heldout_loss(self, run: Run, iteration: int) -> str:
        return f"{self.results}/{self.eval_key(run, iteration)}/iter{iteration}/heldout_loss.json"

    def synth_dir(self, seed: int | None = None) -> str:
        seed = self.config["params"]["task"]["synth_seed"] if seed is None else seed
        return f"{self.work}/data/synth/seed={seed}"

    def train_problems(self, run: Run) -> str:
        task = run.params["task"]
        if task["train"] == "synth":
            return f"{self.synth_dir(task['synth_seed'])}/train.jsonl"
        return f"{self.work}/data/train/{task['train']}.jsonl"

    def _corpus(self, run: Run, key: str, synth_file: str, hub_suffix: str) -> str:
        """'synth' (the synthetic corpus), 'hub:<dataset>' (built by `leti pretrain-corpus`) or a JSONL path."""
        src = run.params["task"][key]
        if src == "synth":
            return f"{self.synth_dir(run.params['task']['synth_seed'])}/{synth_file}"
        if src.startswith("hub:"):
            return f"{self.work}/data/pretrain/{corpus_slug(src)}{hub_suffix}"
        return src

    def pretrain_corpus(self, run: Run) -> str:
        return self._corpus(run, "pretrain_corpus", "corpus.jsonl", ".jsonl")

    def heldout_corpus(self, run: Run) -> str:
        return self._corpus(run, "heldout_corpus", "heldout.jsonl", ".heldout.jsonl")

    def bench_problems(self, bench: str) -> str:
        spec = self.config["benchmarks"][bench]["problems"]
        if spec["source"] == "synth":
            return f"{self.synth_dir()}/{spec['file']}.jsonl"
        return f"{self.work}/data/bench/{bench}.jsonl"

    def lookups(self) -> dict:
        """Reverse maps from path wildcards to a representative run, for the Snakefile's input functions."""
        base, loop, evals, eval_any = {}, {}, {}, {}
        for run in self.runs:
            base.setdefault(self.base_key(run), run)
            for it in range(1, self.iterations(run) + 1):
                loop.setdefault((self.loop_key(run, it), it), run)
            for it in range(self.iterations(run) + 1):
                eval_any.setdefault((self.eval_key(run, it), it), run)
                for cond in self.conditionings(run, it):
                    evals.setdefault((self.eval_key(run, it), it, cond), run)
        return {"base": base, "loop": loop, "eval": evals, "eval_any": eval_any, "runs": {r.id: r for r in self.runs}}

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
