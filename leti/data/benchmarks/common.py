"""Shared pieces of the benchmark loaders: the Problem record (docs/contracts.md) and hub access."""
from __future__ import annotations

from typing import Any, Iterable

from leti.core.errors import UserError

PROBLEM_FIELDS = (
    "task_id", "benchmark", "split", "prompt", "tests", "program_prefix", "header",
    "postprocess", "scorer", "timeout", "reference", "target", "meta",
)


def make_problem(*, task_id: str, benchmark: str, split: str, prompt: str, tests: str = "",
                 program_prefix: str = "prompt", header: str = "", postprocess: str | None = None,
                 scorer: str = "execute", timeout: float = 5.0, reference: str | None = None,
                 target: Any = None, meta: dict | None = None) -> dict:
    """A Problem record with every contract field, in the contract's order."""
    return {
        "task_id": task_id, "benchmark": benchmark, "split": split, "prompt": prompt,
        "tests": tests, "program_prefix": program_prefix, "header": header,
        "postprocess": postprocess, "scorer": scorer, "timeout": float(timeout),
        "reference": reference, "target": target, "meta": dict(meta or {}),
    }


def require_fields(rows: Iterable[dict], fields: Iterable[str], where: str) -> list[dict]:
    """Check that hub/local rows carry the fields the converter needs (one-line error)."""
    rows = list(rows)
    fields = tuple(fields)
    for i, row in enumerate(rows, 1):
        for f in fields:
            if f not in row:
                raise UserError(f"{where}:{i}: missing field '{f}'")
    return rows


def load_hub_rows(name: str, config: str | None = None, split: str | None = None) -> list[dict]:
    """Rows from the Hugging Face hub (`datasets.load_dataset`), for users with a network.

    Not exercised offline; the converters it feeds are shared with the local path and tested
    on local rows."""
    try:
        import datasets  # noqa: WPS433 (lazy: heavy import)
    except ImportError as exc:  # pragma: no cover
        raise UserError(f"hub source needs the 'datasets' package ({exc})") from None
    try:
        ds = datasets.load_dataset(name, config, split=split)
    except Exception as exc:  # pragma: no cover - needs a network
        raise UserError(f"hub dataset '{name}' ({config or 'default'}/{split}): {type(exc).__name__}: {exc}".splitlines()[0]) from None
    return [dict(r) for r in ds]
