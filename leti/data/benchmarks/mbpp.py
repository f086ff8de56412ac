r'''MBPP (spec §8.1): splits by task id, the bigcode-style docstring prompt, all three asserts.

Prompt = ``'"""\n' + text + "\n" + test_list[0] + "\n" + '"""'`` (no trailing newline).
Tests = ``"\n".join(test_list)``; ``test_setup_code`` and ``challenge_test_list`` are not
used, as in the original (they are kept in ``meta``; task 367 of the test split needs its
setup code, so its reference solution fails under the original protocol).
Reference = ``"\n" + code``, so that ``prompt + reference`` is the supervised text of the
original (``prompt + "\n" + code``).
k-shot prompts prepend the first k problems of the ``prompt`` split as
``prompt + "\n" + code + "\n\n"`` each (the original's ``test_prompts_{k}_shot``).
'''
from __future__ import annotations

from leti.core.errors import UserError
from leti.core.io import iter_jsonl
from leti.data.benchmarks import data
from leti.data.benchmarks.common import load_hub_rows, make_problem, require_fields

FILE = "mbpp/mbpp.jsonl"
HUB_NAME, HUB_CONFIG = "mbpp", "full"
SPLITS = {"prompt": (1, 10), "test": (11, 510), "validation": (511, 600), "train": (601, 974)}
EXPECTED_COUNTS = {"prompt": 10, "test": 500, "validation": 90, "train": 374}
TEMPLATE_ID = "leti-mbpp-docstring-v1"
ROW_FIELDS = ("task_id", "text", "code", "test_list")


def load_rows(source: str = "local", data_root=None) -> tuple[list[dict], dict]:
    """All 974 raw MBPP rows (any order) and the provenance of where they came from."""
    if source == "local":
        path = data.verified_path(data_root, FILE)
        rows = list(iter_jsonl(path, ROW_FIELDS))
        return rows, {"source": "local", "files": {FILE: data.PINNED_SHA256[FILE]}}
    if source == "hub":
        rows = []
        for split in ("train", "test", "validation", "prompt"):
            rows += load_hub_rows(HUB_NAME, HUB_CONFIG, split)
        return require_fields(rows, ROW_FIELDS, f"hub:{HUB_NAME}"), {"source": "hub", "hub": f"{HUB_NAME}/{HUB_CONFIG}"}
    raise UserError(f"source must be 'local' or 'hub', got {source!r}")


def split_rows(rows: list[dict], split: str) -> list[dict]:
    if split not in SPLITS:
        raise UserError(f"mbpp: unknown split '{split}' (choose from {', '.join(SPLITS)})")
    lo, hi = SPLITS[split]
    picked = sorted((r for r in rows if lo <= int(r["task_id"]) <= hi), key=lambda r: int(r["task_id"]))
    if len(picked) != EXPECTED_COUNTS[split]:
        raise UserError(f"mbpp: split '{split}' has {len(picked)} problems, expected {EXPECTED_COUNTS[split]}")
    return picked


def prompt_text(row: dict) -> str:
    return '"""\n' + row["text"] + "\n" + row["test_list"][0] + "\n" + '"""'


def kshot_prefix(prompt_rows: list[dict], shots: int) -> str:
    if shots < 0 or shots > len(prompt_rows):
        raise UserError(f"mbpp: --shots must be between 0 and {len(prompt_rows)}, got {shots}")
    return "".join(prompt_text(r) + "\n" + r["code"] + "\n\n" for r in prompt_rows[:shots])


def template_id(shots: int = 0) -> str:
    return f"{TEMPLATE_ID}/{shots}shot"


def problems_from_rows(rows: list[dict], split: str, shots: int = 0) -> list[dict]:
    prefix = kshot_prefix(split_rows(rows, "prompt"), shots) if shots else ""
    out = []
    for r in split_rows(rows, split):
        tid = int(r["task_id"])
        out.append(make_problem(
            task_id=f"mbpp/{tid}", benchmark="mbpp", split=split,
            prompt=prefix + prompt_text(r),
            tests="\n".join(r["test_list"]),
            program_prefix="prompt", postprocess="mbpp", scorer="execute", timeout=5.0,
            reference="\n" + r["code"],
            meta={
                "source_task_id": tid, "text": r["text"], "shots": shots,
                "prompt_template": template_id(shots),
                "test_setup_code": r.get("test_setup_code", ""),
                "challenge_test_list": list(r.get("challenge_test_list") or []),
            },
        ))
    return out


def load_problems(split: str, data_root=None, source: str = "local", shots: int = 0) -> tuple[list[dict], dict]:
    rows, prov = load_rows(source, data_root)
    return problems_from_rows(rows, split, shots), {**prov, "prompt_template": template_id(shots)}
