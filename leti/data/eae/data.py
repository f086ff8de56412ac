"""GENEVA splits -> Problem records (docs/contracts.md), one per event mention.

Data is read in place from the data root (``--data-root``, else ``$LETI_DATA_ROOT``, else
``<repo>/../shared/data``) under ``eae/geneva/``; every file is checked against the sha256
published in ``eae/geneva/SOURCE.md`` before it is parsed.
"""
from __future__ import annotations

import os
from pathlib import Path

from leti.core import paths
from leti.core.errors import UserError
from leti.core.io import iter_jsonl, sha256_file
from leti.core.paths import ENV_DATA_ROOT
from leti.data.eae.prompts import STYLES, Ontology, render_completion
from leti.data.eae.spans import head_index

GENEVA = "eae/geneva"
SPLITS = {
    "train": "data/lr/lr1200/train-s160.json",  # the authors' 1200-event low-resource sample
    "test": "data/test.json",
    "val": "data/val.json",
}
ONTOLOGY = "meta_data/event_ontology.json"
SHA256 = {
    "data/test.json": "313cf9a334fb9d4e68244403cd01b7bd4e48530fee49b532bfd97f504e626627",
    "data/val.json": "df23646948f76c3240c555b31d0386929076814465275071ecf5349ee2d98c71",
    "data/lr/lr1200/train-s160.json": "f4a0353542237c3fb1b3a90f7e8a861b87ee3b401083093b3feeb970665047c5",
    "meta_data/event_ontology.json": "62d82cce8f3380291f42f2499bb719ccc35cedc34f17b2b9f1c5a51b56a6340a",
}
HEADER = "from __future__ import annotations"
TIMEOUT = 30.0
_checked: dict[str, bool] = {}
_ontologies: dict[str, Ontology] = {}


def resolve_data_root(data_root: str | os.PathLike | None = None) -> Path:
    root = paths.data_root(data_root).resolve()
    if not (root / GENEVA).is_dir():
        raise UserError(f"{root / GENEVA}: GENEVA data folder not found (set --data-root or ${ENV_DATA_ROOT})")
    return root


def geneva_file(rel: str, data_root=None, verify: bool = True) -> Path:
    path = resolve_data_root(data_root) / GENEVA / rel
    if not path.exists():
        raise UserError(f"{path}: file not found")
    if verify and rel in SHA256 and not _checked.get(str(path)):
        got = sha256_file(path)
        if got != SHA256[rel]:
            raise UserError(f"{path}: sha256 {got} does not match the pinned {SHA256[rel]}")
        _checked[str(path)] = True
    return path


def load_ontology(data_root=None, path: str | os.PathLike | None = None) -> Ontology:
    p = Path(path) if path else geneva_file(ONTOLOGY, data_root)
    key = str(p.resolve())
    if key not in _ontologies:
        _ontologies[key] = Ontology.load(p)
    return _ontologies[key]


def read_oneie(path: str | os.PathLike) -> list[dict]:
    """GENEVA's OneIE-format JSONL; each row keeps its line number (`_lineno`) for later messages."""
    return list(iter_jsonl(path, ("wnd_id", "tokens", "entity_mentions", "event_mentions"), lineno_key="_lineno"))


def capture_code(var: str) -> str:
    """Code run in the sandbox after the program: serialise `var`'s role lists to JSON data.

    Mirrors what the original `convert_event_obj_to_dict` looked at (``obj.__dict__``; each role
    value must be iterable; each item an object with ``.name`` or else its type is reported),
    but returns data instead of raising, so the verdict is computed outside the sandbox.
    Builtins are taken from the ``builtins`` module so that model code shadowing ``str`` or
    ``type`` cannot break it; every step is guarded and sizes are capped.
    """
    return f'''def __leti_eae_capture():
    import builtins as B
    cap = 64
    try:
        g = B.globals()
        if {var!r} not in g:
            return {{"defined": False}}
        obj = g[{var!r}]
        d = B.getattr(obj, "__dict__", None)
        if not B.isinstance(d, B.dict):
            return {{"defined": True, "roles": None, "type": B.str(B.type(obj))[:200]}}
        roles = []
        for attr, val in B.list(d.items())[:cap]:
            entry = {{"attr": B.str(attr)[:200]}}
            if not B.hasattr(val, "__iter__"):
                entry["items"] = None
                entry["type"] = B.str(B.type(val))[:200]
            else:
                items = []
                try:
                    for i, x in B.enumerate(val):
                        if i >= cap:
                            break
                        xd = B.getattr(x, "__dict__", None)
                        if B.isinstance(xd, B.dict) and "name" in xd:
                            n = xd["name"]
                            items.append({{"kind": "entity", "cls": B.str(B.type(x).__name__)[:200],
                                          "name": B.str.__getitem__(n, B.slice(0, 2000)) if B.isinstance(n, B.str) else None,
                                          "type": B.str(B.type(n))[:200]}})
                        elif B.isinstance(x, B.str):
                            items.append({{"kind": "str", "text": B.str.__getitem__(x, B.slice(0, 2000)),
                                          "type": B.str(B.type(x))[:200]}})
                        else:
                            items.append({{"kind": "other", "type": B.str(B.type(x))[:200]}})
                except B.Exception as exc:
                    entry["iter_error"] = B.repr(exc)[:200]
                entry["items"] = items
            roles.append(entry)
        return {{"defined": True, "roles": roles}}
    except B.BaseException as exc:
        return {{"defined": None, "error": B.repr(exc)[:500]}}
__leti_capture__ = __leti_eae_capture()
'''


def gold_arguments(row: dict, event: dict) -> list[dict]:
    ents = {m["id"]: m for m in row["entity_mentions"]}
    tokens = row["tokens"]
    gold = []
    for a in event["arguments"]:
        m = ents.get(a["entity_id"])
        if m is None:
            raise UserError(f"{row['wnd_id']}: argument entity {a['entity_id']!r} not in entity_mentions")
        start, end = m["start"], m["end"] - 1  # inclusive, as the original
        h = head_index(tokens, start, end)
        gold.append({"role": a["role"], "start": start, "end": end, "head": h,
                     "text": " ".join(tokens[start:end + 1]), "head_text": tokens[h]})
    return gold


def build_problems(split: str, *, style: str = "full", data_root=None, limit: int | None = None,
                   path: str | os.PathLike | None = None, ontology_path=None) -> list[dict]:
    """One Problem record per event mention of `split` (or of the OneIE file `path`)."""
    if style not in STYLES:
        raise UserError(f"--style must be one of {STYLES}, got {style!r}")
    if path is None:
        if split not in SPLITS:
            raise UserError(f"--split must be one of {sorted(SPLITS)}, got {split!r}")
        path = geneva_file(SPLITS[split], data_root)
    onto = load_ontology(data_root, ontology_path)
    problems: list[dict] = []
    for row in read_oneie(path):
        tokens = row["tokens"]
        for ei, ev in enumerate(row["event_mentions"]):
            if limit is not None and len(problems) >= limit:
                return problems
            s = onto.schema(ev["event_type"])
            trig = ev["trigger"]
            gold = gold_arguments(row, ev)
            problems.append({
                "task_id": f"eae/{split}/{row['wnd_id']}/{ei}",
                "benchmark": "eae",
                "split": split,
                "prompt": onto.prompt(ev["event_type"], tokens, trig["start"], trig["end"], style),
                "tests": "",
                "program_prefix": "prompt",
                "header": HEADER,
                "postprocess": "eae",
                "scorer": "eae",
                "timeout": TIMEOUT,
                "reference": render_completion(s, [(g["role"], g["text"]) for g in gold]),
                "target": None,
                "capture": capture_code(s.var),
                "meta": {
                    "dataset": "geneva",
                    "doc_id": row.get("doc_id"),
                    "wnd_id": row["wnd_id"],
                    "event_idx": ei,
                    "event_id": ev.get("id"),
                    "event_type": ev["event_type"],
                    "cls": s.cls,
                    "var": s.var,
                    "attr_to_role": s.attr_to_role,
                    "tokens": tokens,
                    "trigger": {"start": trig["start"], "end": trig["end"], "text": trig.get("text")},
                    "gold": gold,
                    "prompt_style": style,
                },
            })
    return problems
