"""Join problems and samples into evaluator programs (docs/contracts.md, Program record).

Executed program = prefix + completion, then the problem's tests, where

* prefix = the prompt the model saw with its reward token removed when
  ``program_prefix == "prompt"`` (MBPP, HumanEval, synth), ``""`` when ``"none"`` (GSM8K-PaL);
* completion = the sample's completion, post-processed (spec §4.1) when asked and the problem
  has a post-processing kind.

Reward-token removal (spec §2): ``strip_mode="exact"`` (default) removes the token as a
prefix; ``strip_mode="lstrip"`` reproduces the original's ``str.lstrip(token)``, which strips a
*character set* and turns a leading ``def`` into ``ef`` under ``<|good|>``/``<|bad|>``
(141/164 HumanEval prompts). The mode that ran is recorded in every program's ``meta``.

Post-processing mode: ``"exact"`` (literal stop words) or ``"leti"`` (the original's unescaped
MBPP regex, which also cuts at ``/``); see :mod:`leti.execution.postprocess`.
"""
from __future__ import annotations

import ast
import builtins
import functools
import warnings
from typing import Iterable

from leti.core.errors import UserError
from leti.core.vocab import CONDITIONS, strip_condition
from leti.execution.postprocess import MODES as POSTPROCESS_MODES
from leti.execution.postprocess import postprocess as run_postprocess

STRIP_MODES = ("exact", "lstrip")
EXECUTED_SCORERS = ("execute", "eae")


def program_id(task_id: str, sample_idx: int) -> str:
    return f"{task_id}#{int(sample_idx)}"


def _tests_for(problem: dict, tests_variant: str | None) -> str:
    if not tests_variant:
        return problem.get("tests", "") or ""
    variants = (problem.get("meta") or {}).get("tests_variants") or {}
    if tests_variant not in variants:
        raise UserError(f"{problem['task_id']}: meta.tests_variants has no '{tests_variant}' "
                        f"(available: {', '.join(sorted(variants)) or 'none'})")
    return variants[tests_variant]


@functools.lru_cache(maxsize=8192)
def judge_metadata(tests: str, prompt: str, reference: str, entry_point: str) -> dict | None:
    """What the hardened judge needs to know about a problem, from its tests and its *reference* solution
    (never from a sample): `provides`, the names the tests read that a solution provides (the names the
    reference defines, a built-in's name included, such as MBPP 126's `sum`; and names nothing binds), and
    `prelude`, trusted code the judge runs before the tests: the reference's imports of names the tests
    read (`math` for `math.isclose`), and helpers the *prompt* defines that the tests call (HumanEval 32's
    `poly`), so that a sample cannot redefine what judges it. None when the reference does not parse."""
    from leti.execution.executor.judge import free_names

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_tree = ast.parse(tests)
            r_tree = ast.parse(prompt + reference)
            p_tree = ast.parse(prompt) if prompt.strip() else ast.Module(body=[], type_ignores=[])
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    read = {n.id for n in ast.walk(t_tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    free, _modules = free_names(t_tree)
    tests_bind = {n.id for n in ast.walk(t_tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    tests_bind |= {n.name for n in ast.walk(t_tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    defined, imports = _module_bindings(r_tree)
    prompt_defs = {n.name: n for n in p_tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    helpers = [name for name in prompt_defs if name in read and name != entry_point and name not in tests_bind]
    provides = sorted({n for n in read if n in defined and n not in tests_bind and n not in helpers}
                      | {n for n in free if n not in imports and n not in helpers})
    prelude = [ast.get_source_segment(prompt + reference, node) for name, node in imports.items()
               if name in read and name not in tests_bind]
    if helpers:  # the prompt's own imports, then the helpers' definitions, as the prompt has them
        prelude += [ast.get_source_segment(prompt, n) for n in p_tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        prelude += [ast.get_source_segment(prompt, prompt_defs[h]) for h in helpers]
    return {"provides": provides, "prelude": "\n".join(dict.fromkeys(x for x in prelude if x))}


def _module_bindings(tree: ast.Module) -> tuple[set[str], dict[str, ast.stmt]]:
    """(names a module binds by def, class or assignment; name -> the import statement that binds it)."""
    defined: set[str] = set()
    imports: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                if a.name != "*":
                    imports[(a.asname or a.name).split(".")[0]] = node
        else:
            for n in ast.walk(node):
                if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
                    defined.add(n.id)
    for name in defined:
        imports.pop(name, None)  # rebound later: the program's value, not the module
    return defined, imports


def _judge_for(problem: dict, tests: str) -> dict | None:
    reference = problem.get("reference")
    if not isinstance(reference, str):
        return None
    prompt = problem["prompt"] if problem.get("program_prefix", "prompt") == "prompt" else ""
    entry = str((problem.get("meta") or {}).get("entry_point") or "")
    return judge_metadata(tests, prompt, reference, entry)


def program_prefix(problem: dict, sample: dict, strip_mode: str = "exact") -> str:
    """What precedes the completion in the executed program."""
    if strip_mode not in STRIP_MODES:
        raise ValueError(f"strip_mode must be one of {STRIP_MODES}, got {strip_mode!r}")
    kind = problem.get("program_prefix", "prompt")
    if kind == "none":
        return ""
    if kind != "prompt":
        raise UserError(f"{problem['task_id']}: program_prefix must be 'prompt' or 'none', got {kind!r}")
    model_input = sample.get("model_input")
    if model_input is None:
        return problem["prompt"]
    conditioning = sample.get("conditioning") or "none"
    if conditioning not in CONDITIONS:
        raise UserError(f"sample {program_id(sample['task_id'], sample['sample_idx'])}: conditioning must be one of "
                        f"{', '.join(CONDITIONS)}, got {conditioning!r}")
    if strip_condition(model_input, conditioning, "exact") != problem["prompt"]:
        raise UserError(f"sample {program_id(sample['task_id'], sample['sample_idx'])}: model_input is not "
                        f"the '{conditioning}' token + the problem's prompt")
    return strip_condition(model_input, conditioning, strip_mode)


def build_program(problem: dict, sample: dict, postprocess: bool, strip_mode: str = "exact",
                  postprocess_mode: str = "exact", tests_variant: str | None = None,
                  timeout: float | None = None) -> dict:
    """One Program record for (problem, sample). Its time limit: `timeout` if given, else the problem's own
    (EAE: 30 s, as the original's training), else none, so the executor's default applies (`leti execute
    --timeout`, the run's execute.timeout)."""
    if postprocess_mode not in POSTPROCESS_MODES:
        raise ValueError(f"postprocess_mode must be one of {POSTPROCESS_MODES}, got {postprocess_mode!r}")
    completion = sample.get("completion")
    if not isinstance(completion, str):
        raise UserError(f"sample {program_id(sample['task_id'], sample['sample_idx'])}: completion must be a string")
    kind = problem.get("postprocess")
    applied = bool(postprocess and kind)
    if applied:
        completion = run_postprocess(kind, completion, postprocess_mode)
    limit = timeout if timeout is not None else problem.get("timeout")
    tests = _tests_for(problem, tests_variant)
    judge = _judge_for(problem, tests)
    return {
        "id": program_id(problem["task_id"], sample["sample_idx"]),
        "program": program_prefix(problem, sample, strip_mode) + completion,
        "tests": tests,
        "header": problem.get("header", "") or "",
        **({"judge": judge} if judge else {}),
        **({"timeout": float(limit)} if limit else {}),
        "capture": ((problem.get("meta") or {}).get("capture_variants") or {}).get(tests_variant) or problem.get("capture"),
        "meta": {
            "task_id": problem["task_id"],
            "sample_idx": int(sample["sample_idx"]),
            "benchmark": problem.get("benchmark"),
            "conditioning": sample.get("conditioning") or "none",
            "postprocessed": applied,
            "postprocess_kind": kind if applied else None,
            "postprocess_mode": postprocess_mode if applied else None,
            "strip_mode": strip_mode,
            "tests_variant": tests_variant or "default",
        },
    }


def build_programs(problems: Iterable[dict], samples: Iterable[dict], postprocess: bool = False,
                   strip_mode: str = "exact", postprocess_mode: str = "exact",
                   tests_variant: str | None = None, timeout: float | None = None) -> list[dict]:
    """Programs for every sample, in sample order. Unknown task ids, duplicate (task, sample)
    pairs and non-executed benchmarks (BBH) are one-line errors."""
    by_id = {p["task_id"]: p for p in problems}
    out, seen = [], set()
    for s in samples:
        tid = s.get("task_id")
        if tid not in by_id:
            raise UserError(f"sample task_id {tid!r} is not in the problems file")
        problem = by_id[tid]
        if problem.get("scorer", "execute") not in EXECUTED_SCORERS:
            raise UserError(f"{tid}: scorer '{problem.get('scorer')}' is not executed (score it with leti evaluate)")
        key = program_id(tid, s["sample_idx"])
        if key in seen:
            raise UserError(f"duplicate sample {key}")
        seen.add(key)
        out.append(build_program(problem, s, postprocess, strip_mode, postprocess_mode, tests_variant, timeout))
    return out
