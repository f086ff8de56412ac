"""Big-Bench-Hard (spec §8.4): 27 tasks, 6,511 examples, direct or chain-of-thought prompts.

* direct: ``direct-prompts/<task>.txt`` (the 3-shot prefix LeTI cut from Codex's template)
  + ``"\\nQ: " + input + "\\nA:"``;
* cot: ``cot-prompts/<task>.txt`` with the canary header (``canary + "\\n-----\\n"``) removed,
  plus ``"\\n"``, then ``"\\nQ: " + input + "\\nA: Let's think step by step."``.

Nothing is executed (``tests=""``); generations are greedy and scored by
``leti.evaluation.metrics.bbh_lenient`` / ``bbh_strict``. Tasks are ordered by name (the original used
``glob`` order, which only changes ids, not scores).
"""
from __future__ import annotations

import json

from leti.core.errors import UserError
from leti.data.benchmarks import data
from leti.data.benchmarks.common import load_hub_rows, make_problem, require_fields

TASKS = (
    "boolean_expressions", "causal_judgement", "date_understanding", "disambiguation_qa",
    "dyck_languages", "formal_fallacies", "geometric_shapes", "hyperbaton",
    "logical_deduction_five_objects", "logical_deduction_seven_objects",
    "logical_deduction_three_objects", "movie_recommendation", "multistep_arithmetic_two",
    "navigate", "object_counting", "penguins_in_a_table", "reasoning_about_colored_objects",
    "ruin_names", "salient_translation_error_detection", "snarks", "sports_understanding",
    "temporal_sequences", "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects", "tracking_shuffled_objects_three_objects",
    "web_of_lies", "word_sorting",
)
EXPECTED_TOTAL = 6511
STYLES = ("direct", "cot")
HUB_NAME = "lukaemon/bbh"
COT_SUFFIX = "\nA: Let's think step by step."
DIRECT_SUFFIX = "\nA:"


def template_id(style: str) -> str:
    return {"direct": "leti-bbh-direct-3shot-v1", "cot": "leti-bbh-cot-3shot-v1"}[style]


def examples_file(task: str) -> str:
    return f"bbh/bbh/{task}.json"


def prompt_file(task: str, style: str) -> str:
    return f"bbh/{'cot-prompts' if style == 'cot' else 'direct-prompts'}/{task}.txt"


def remove_canary(prompt: str, canary: str | None) -> str:
    """The original: ``prompt.replace(canary + "\\n-----\\n", "")``. Without a known canary
    (hub rows carry none) the first line is dropped when it is a canary line followed by ``-----``."""
    if canary:
        return prompt.replace(canary + "\n-----\n", "")
    lines = prompt.split("\n", 2)
    if len(lines) == 3 and "canary" in lines[0].lower() and lines[1] == "-----":
        return lines[2]
    return prompt


def build_prefix(raw_prompt: str, style: str, canary: str | None) -> str:
    if style == "cot":
        prefix = remove_canary(raw_prompt, canary) + "\n"
        if "canary GUID" in prefix:
            raise UserError("bbh: canary line still present in the CoT prompt after removal")
        return prefix
    return raw_prompt


def build_prompt(prefix: str, question: str, style: str) -> str:
    return prefix + "\nQ: " + question + (COT_SUFFIX if style == "cot" else DIRECT_SUFFIX)


def load_task_rows(task: str, source: str = "local", data_root=None) -> tuple[list[dict], str | None, dict]:
    """(examples, canary, file hashes) of one task."""
    if source == "local":
        rel = examples_file(task)
        path = data.verified_path(data_root, rel)
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        if "examples" not in obj:
            raise UserError(f"{path}: missing field 'examples'")
        rows = require_fields(obj["examples"], ("input", "target"), str(path))
        return rows, obj.get("canary"), {rel: data.PINNED_SHA256[rel]}
    if source == "hub":
        rows = require_fields(load_hub_rows(HUB_NAME, task, "test"), ("input", "target"), f"hub:{HUB_NAME}/{task}")
        return rows, None, {}
    raise UserError(f"source must be 'local' or 'hub', got {source!r}")


def problems_from_rows(task: str, rows: list[dict], prefix: str, style: str, limit: int | None = None) -> list[dict]:
    out = []
    for i, r in enumerate(rows[:limit] if limit else rows):
        out.append(make_problem(
            task_id=f"bbh/{task}/{i}", benchmark="bbh", split="test",
            prompt=build_prompt(prefix, r["input"], style), tests="", program_prefix="none",
            postprocess=None, scorer=f"bbh_{style}", timeout=5.0, reference=None,
            target=r["target"],
            meta={"task": task, "index": i, "style": style, "prompt_template": template_id(style)},
        ))
    return out


def load_problems(split: str = "test", data_root=None, source: str = "local", style: str = "direct",
                  tasks=None, limit_per_task: int | None = None) -> tuple[list[dict], dict]:
    if split != "test":
        raise UserError(f"bbh: only the 'test' split exists, got '{split}'")
    if style not in STYLES:
        raise UserError(f"bbh: --style must be one of {', '.join(STYLES)}, got '{style}'")
    tasks = tuple(tasks) if tasks else TASKS
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise UserError(f"bbh: unknown task(s) {', '.join(unknown)}")
    problems, files = [], {}
    for task in tasks:
        rows, canary, hashes = load_task_rows(task, source, data_root)
        raw_prompt, sha = data.read_text(data_root, prompt_file(task, style))
        files.update(hashes)
        files[prompt_file(task, style)] = sha
        problems += problems_from_rows(task, rows, build_prefix(raw_prompt, style, canary), style, limit_per_task)
    if tasks == TASKS and not limit_per_task and len(problems) != EXPECTED_TOTAL:
        raise UserError(f"bbh: {len(problems)} examples, expected {EXPECTED_TOTAL}")
    return problems, {"source": source, "files": files, "prompt_template": template_id(style)}
