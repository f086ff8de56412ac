"""GSM8K with the program-aided (PaL) 8-shot prompt (spec §8.3).

Prompt = ``template.format(question=input)`` with LeTI's compact copy of PaL's MATH_PROMPT
(``gsm8k-pal/math_prompt_leti.txt``, style ``leti``, the default) or PaL's own
(``math_prompt.txt``, style ``pal``). Only the completion is executed
(``program_prefix="none"``), post-processed by cutting at the first ``"\\nQ:"``.

Two checks, both executed in the sandboxed evaluator:

* ``tests`` — LeTI's exact check ``"\\nassert solution() == {target}\\n"`` (so 18.0 == 18
  passes, 17.9999 does not);
* ``meta["tests_variants"]["pal_tolerance"]`` — PaL's check, ``abs(float(solution()) - target) < 1e-3``,
  decided outside the program: the variant runs no test in the sandbox, its capture code returns
  `solution()`'s value as plain data and `leti.execution.gsm8k_verdict` compares it (so a program can
  neither patch `abs` nor return an object that compares equal to anything). Build a second program
  set with ``leti programs --tests-variant pal_tolerance``.

Data: PaL's ``gsm.jsonl`` (input/target; what LeTI used). The same 1319 items can be rebuilt
from GSM8K rows (question/answer, local ``gsm8k/test.jsonl`` or the hub's ``gsm8k``/``main``)
with :func:`rows_from_gsm8k`; the target is the number after ``####``.
"""
from __future__ import annotations

import re

from leti.core.errors import UserError
from leti.core.io import iter_jsonl
from leti.data.benchmarks import data
from leti.data.benchmarks.common import load_hub_rows, make_problem, require_fields

FILE = "gsm8k-pal/gsm.jsonl"
GSM8K_TEST_FILE = "gsm8k/test.jsonl"
TEMPLATES = {"leti": "gsm8k-pal/math_prompt_leti.txt", "pal": "gsm8k-pal/math_prompt.txt"}
HUB_NAME, HUB_CONFIG = "gsm8k", "main"
EXPECTED_COUNT = 1319
PAL_TOLERANCE = 1e-3


def template_id(style: str) -> str:
    return {"leti": "leti-pal-math-v1", "pal": "pal-math-v1"}[style]


def exact_tests(target) -> str:
    return f"\nassert solution() == {target}\n"


def tolerance_tests(target) -> str:
    """Nothing to run in the sandbox: the check is made on the captured answer (PAL_CAPTURE)."""
    return ""


# Runs after the program in its namespace: `solution()`'s value as plain data of exact built-in types.
PAL_CAPTURE = """
import builtins as __b
def __leti_plain(v):
    t = __b.type(v)
    if t is __b.bool or t is __b.int or t is __b.float:
        return {"type": t.__name__, "value": __b.repr(v)}
    if t is __b.str:
        return {"type": "str", "value": v[:200]}
    return {"type": "other", "name": __b.str(t.__name__)[:80]}
__leti_capture__ = __leti_plain(solution())
"""


def answer_to_target(answer: str):
    """GSM8K answer text -> the number after '####' (int when integral), as PaL's gsm.jsonl."""
    if "####" not in answer:
        raise ValueError("no '####' in GSM8K answer")
    text = answer.split("####")[-1].strip().replace(",", "").replace("$", "")
    value = float(text)
    return int(value) if value == int(value) and re.fullmatch(r"-?\d+", text) else value


def rows_from_gsm8k(rows: list[dict], where: str = "gsm8k") -> list[dict]:
    """Convert GSM8K rows (question/answer) to PaL rows (input/target)."""
    rows = require_fields(rows, ("question", "answer"), where)
    out = []
    for i, r in enumerate(rows, 1):
        try:
            out.append({"input": r["question"], "target": answer_to_target(r["answer"])})
        except ValueError as exc:
            raise UserError(f"{where}:{i}: answer: {exc}") from None
    return out


def load_rows(source: str = "local", data_root=None) -> tuple[list[dict], dict]:
    if source == "local":
        path = data.verified_path(data_root, FILE)
        rows = list(iter_jsonl(path, ("input", "target")))
        return rows, {"source": "local", "files": {FILE: data.PINNED_SHA256[FILE]}}
    if source == "local-gsm8k":
        path = data.verified_path(data_root, GSM8K_TEST_FILE)
        rows = rows_from_gsm8k(list(iter_jsonl(path)), str(path))
        return rows, {"source": "local-gsm8k", "files": {GSM8K_TEST_FILE: data.PINNED_SHA256[GSM8K_TEST_FILE]}}
    if source == "hub":
        rows = rows_from_gsm8k(load_hub_rows(HUB_NAME, HUB_CONFIG, "test"), f"hub:{HUB_NAME}")
        return rows, {"source": "hub", "hub": f"{HUB_NAME}/{HUB_CONFIG}"}
    raise UserError(f"source must be 'local', 'local-gsm8k' or 'hub', got {source!r}")


def load_template(style: str, data_root=None) -> tuple[str, str]:
    if style not in TEMPLATES:
        raise UserError(f"gsm8k: --style must be one of {', '.join(TEMPLATES)}, got '{style}'")
    return data.read_text(data_root, TEMPLATES[style])


def problems_from_rows(rows: list[dict], template: str, style: str = "leti", split: str = "test") -> list[dict]:
    if split != "test":
        raise UserError(f"gsm8k: only the 'test' split is prepared, got '{split}'")
    if len(rows) != EXPECTED_COUNT:
        raise UserError(f"gsm8k: {len(rows)} problems, expected {EXPECTED_COUNT}")
    out = []
    for i, r in enumerate(rows):
        target = r["target"]
        out.append(make_problem(
            task_id=f"gsm8k/{i}", benchmark="gsm8k", split="test",
            prompt=template.format(question=r["input"]),
            tests=exact_tests(target), program_prefix="none", postprocess="gsm8k_pal",
            scorer="execute", timeout=5.0, reference=None, target=target,
            meta={"index": i, "question": r["input"], "prompt_template": template_id(style),
                  "tests_variants": {"pal_tolerance": tolerance_tests(target)},
                  "capture_variants": {"pal_tolerance": PAL_CAPTURE}},
        ))
    return out


def load_problems(split: str = "test", data_root=None, source: str = "local", style: str = "leti") -> tuple[list[dict], dict]:
    rows, prov = load_rows(source, data_root)
    template, tsha = load_template(style, data_root)
    prov = {**prov, "prompt_template": template_id(style)}
    prov.setdefault("files", {})[TEMPLATES[style]] = tsha
    return problems_from_rows(rows, template, style, split), prov
