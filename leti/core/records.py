"""Parameter records: what each result was computed with, beside the result.

A record is a small JSON object `{"rule", "hash", "params"}`: `params` are the dotted parameters the
result depends on (its own and every upstream stage's), `hash` a Merkle hash over the job's own
parameters and its inputs' hashes (leti.workflow.freshness computes both from the plan). It lives
beside the result it describes:

    results/.../metrics.json      ->  results/.../metrics.params.json
    work/.../ckpt/  (a directory) ->  work/.../ckpt/params.json
    results/runs/<run>/manifest.json is its own record

`leti <command> --record JSON` (leti.cli) writes the records of a job's outputs once the command
succeeded; planning and the report read them back (`read_record`).
"""
from __future__ import annotations

import json
import os

from leti.core.io import atomic_write_json

SUFFIX = ".params.json"
DIR_RECORD = "params.json"
MANIFEST = "manifest.json"


def record_path(path: str) -> str:
    """Where the record of result `path` lives (a directory's record is a file inside it)."""
    path = str(path).rstrip("/")
    if os.path.basename(path) == MANIFEST:
        return path
    if os.path.isdir(path):
        return os.path.join(path, DIR_RECORD)
    return os.path.splitext(path)[0] + SUFFIX


def read_record(path: str) -> dict | None:
    """The record of result `path`; None when it has none (or an unreadable one: treated as none)."""
    try:
        with open(record_path(path), encoding="utf-8") as fh:
            rec = json.load(fh)
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) and isinstance(rec.get("hash"), str) else None


def write_records(spec: dict) -> None:
    """`spec`: {"outputs": [paths], "rule", "hash", "params"}; writes the record of each output."""
    record = {k: spec[k] for k in ("rule", "hash", "params") if k in spec}
    for out in spec.get("outputs", []):
        atomic_write_json(record_path(out), record)


def differing_keys(recorded: dict, expected: dict) -> list[str]:
    """Dotted keys whose values differ between two `params` maps (missing on one side counts)."""
    return sorted(k for k in set(recorded) | set(expected) if recorded.get(k, "<unset>") != expected.get(k, "<unset>"))
