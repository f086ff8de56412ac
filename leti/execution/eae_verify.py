"""Rule-based EAE solution verifier: final verdicts and feedback text for executed EAE programs.

Runs **outside** the sandbox on the ``captured`` data the capture code returned (see
`leti.data.eae.data.capture_code`); no model code is executed here and no network service is used.

Verification, in the original `EAESolutionVerifier.verify` order:

1. every role value must be a list of entities (objects with ``.name``), else
   ``Expecting a list of Entity instance for role {attr}, but got {type}`` or
   ``Expecting a list of Entity instance for role {attr} with .name attribute, but got a list of {type}``;
2. every predicted argument, in the model's order, reduced to its head word, must match the head
   of a gold argument: ``An identified argument "{head}" does not match any ground truth argument.``;
3. ... with the gold role: ``A successfully identified argument "{head}" is assigned to wrong role "{Role}"``;
4. all gold arguments must be found: ``Only {k} out of {m} arguments are correctly identified: {set}``.

Success (status ``pass``) therefore means: predicted (head, role) set == gold (head, role) set.
Deviations from the original, all deliberate and documented in README.md:

* an argument string that cannot be located in the sentence fails with message 2 (showing the
  text as written); the original silently dropped it (``unlocated="ignore"`` restores that);
* ``k`` counts distinct gold arguments found (the original counted distinct predicted tuples
  including the entity type, so two types on one span could mask a missed argument);
* a string occurring several times in the sentence is resolved, as in the original, to the occurrence
  nearest to the trigger (`occurrence="gold"` prefers one that matches a gold argument instead);
* the set in message 4 is printed sorted (the original printed a Python set, whose order varies
  between runs).

Metrics: `leti.evaluation.eae_metrics`.
"""
from __future__ import annotations

from typing import Iterable

from leti.core.errors import UserError
from leti.data.eae.spans import head_index, locate_all

UNLOCATED_MODES = ("fail", "ignore")
# which occurrence of a repeated string: nearest to the trigger (the original) or one matching a gold argument
OCCURRENCES = ("nearest", "gold")


def _role_name(attr: str, attr_to_role: dict[str, str]) -> str:
    return attr_to_role.get(attr) or (attr[:1].upper() + attr[1:])


def _set_repr(items: Iterable[str]) -> str:
    items = sorted(set(items))
    return "{" + ", ".join(repr(x) for x in items) + "}" if items else "set()"


def _resolve(spans, tokens, role, gold_pairs, gold_heads, occurrence: str = "nearest"):
    """Pick one occurrence of a string that may occur several times in the sentence.

    The original always took the occurrence nearest to the trigger, so a correct string whose
    gold occurrence is farther away (e.g. a name repeated in the sentence) was judged wrong; the
    model cannot say which occurrence it means. We prefer an occurrence whose head is a gold
    argument with this role, then one whose head is any gold argument, then the nearest.
    """
    if not spans:
        return None
    if occurrence == "nearest":
        return spans[0]
    heads = [head_index(tokens, a, b) for a, b in spans]
    for span, h in zip(spans, heads):
        if (h, role) in gold_pairs:
            return span
    for span, h in zip(spans, heads):
        if h in gold_heads:
            return span
    return spans[0]


def extract_predictions(captured, meta: dict, *, strict: bool, occurrence: str = "nearest") -> tuple[list[dict], str | None]:
    """(predictions, type_error_message) from captured data.

    With `strict` (the verifier) the first type error is returned as message and extraction
    stops; otherwise (the metric) malformed roles/items are skipped and plain strings are kept.
    Each prediction: {attr, role, text, cls, span (inclusive, or None), head (or None)}.
    """
    if not isinstance(captured, dict):
        raise ValueError("captured EAE data is not an object")
    if captured.get("defined") is False:
        var = meta.get("var", "event")
        return [], f"NameError: name '{var}' is not defined"
    roles = captured.get("roles")
    if roles is None:
        if "error" in captured:
            return [], f"could not read the event instance ({captured['error']})"
        return [], f"Expecting an event instance with attributes, but got {captured.get('type')}"
    if not isinstance(roles, list):
        raise ValueError("captured EAE data: 'roles' is not a list")
    tokens = meta["tokens"]
    ts, te = meta["trigger"]["start"], meta["trigger"]["end"]
    a2r = meta.get("attr_to_role") or {}
    gold_heads = {g["head"] for g in meta["gold"]}
    gold_pairs = {(g["head"], g["role"]) for g in meta["gold"]}
    preds: list[dict] = []
    for entry in roles:
        if not isinstance(entry, dict):
            raise ValueError("captured EAE data: a role entry is not an object")
        attr = str(entry.get("attr"))
        items = entry.get("items")
        if items is None:
            if strict:
                return preds, f"Expecting a list of Entity instance for role {attr}, but got {entry.get('type')}"
            continue
        if not isinstance(items, list):
            raise ValueError("captured EAE data: 'items' is not a list")
        for it in items:
            if not isinstance(it, dict):
                raise ValueError("captured EAE data: an item is not an object")
            kind = it.get("kind")
            if kind == "entity" and isinstance(it.get("name"), str):
                text, cls = it["name"], str(it.get("cls"))
            elif kind == "str" and isinstance(it.get("text"), str) and not strict:
                text, cls = it["text"], "str"
            else:
                if strict:
                    return preds, (f"Expecting a list of Entity instance for role {attr} with .name "
                                   f"attribute, but got a list of {it.get('type')}")
                continue
            role = _role_name(attr, a2r)
            span = _resolve(locate_all(text, tokens, ts, te), tokens, role, gold_pairs, gold_heads, occurrence)
            head = head_index(tokens, span[0], span[1]) if span else None
            preds.append({"attr": attr, "role": role, "text": text, "cls": cls,
                          "span": list(span) if span else None, "head": head})
    return preds, None


def judge(preds: list[dict], meta: dict, *, unlocated: str = "fail") -> str | None:
    """The failure message for a type-correct prediction list, or None when it is correct."""
    tokens = meta["tokens"]
    gold = meta["gold"]
    gold_heads = {g["head"] for g in gold}
    gold_pairs = {(g["head"], g["role"]) for g in gold}
    seen = set()
    for p in preds:
        if p["head"] is None:
            if unlocated == "fail":
                return f"An identified argument \"{p['text']}\" does not match any ground truth argument."
            continue
        key = (p["head"], p["role"])
        if key in seen:
            continue
        seen.add(key)
        head_text = tokens[p["head"]]
        if p["head"] not in gold_heads:
            return f"An identified argument \"{head_text}\" does not match any ground truth argument."
        if key not in gold_pairs:
            return f"A successfully identified argument \"{head_text}\" is assigned to wrong role \"{p['role']}\""
    found = {k for k in seen if k in gold_pairs}
    if len(found) != len(gold_pairs):
        return (f"Only {len(found)} out of {len(gold_pairs)} arguments are correctly identified: "
                f"{_set_repr(tokens[h] for h, _ in found)}")
    return None


def verify_one(captured, meta: dict, *, unlocated: str = "fail", occurrence: str = "nearest") -> tuple[bool, str | None, list[dict]]:
    """(ok, message, predictions). `message` is the ValueError text (None on success)."""
    preds, type_msg = extract_predictions(captured, meta, strict=True, occurrence=occurrence)
    if type_msg is not None:
        return False, type_msg, preds
    msg = judge(preds, meta, unlocated=unlocated)
    return msg is None, msg, preds


def result_task_id(result: dict) -> str:
    meta = result.get("meta") or {}
    if isinstance(meta, dict) and meta.get("task_id"):
        return str(meta["task_id"])
    rid = str(result.get("id"))
    return rid.rsplit("#", 1)[0] if "#" in rid else rid


def eae_problems_by_id(problems: Iterable[dict]) -> dict[str, dict]:
    out = {}
    for p in problems:
        if p.get("benchmark") == "eae" or p.get("scorer") == "eae":
            out[p["task_id"]] = p
    return out


def verify_results(problems: Iterable[dict], results: Iterable[dict], *, unlocated: str = "fail",
                   occurrence: str = "nearest") -> list[dict]:
    """Turn executed EAE results (with `captured`) into final verdicts; other results pass through.

    A result whose program ran (executor status ``pass``) becomes ``pass`` only when the argument
    set matches; otherwise ``fail`` with exc_type ``ValueError`` and feedback
    ``ValueError: <message>`` (the last line of the traceback the original produced). Results
    whose program failed keep the executor's verdict and feedback. Each EAE result gets an
    ``eae`` field: {exec_status, verified, predictions}. Idempotent.
    """
    if unlocated not in UNLOCATED_MODES:
        raise UserError(f"unlocated must be one of {UNLOCATED_MODES}, got {unlocated!r}")
    if occurrence not in OCCURRENCES:
        raise UserError(f"occurrence must be one of {OCCURRENCES}, got {occurrence!r}")
    index = eae_problems_by_id(problems)
    out = []
    for r in results:
        pid = result_task_id(r)
        prob = index.get(pid)
        bench = (r.get("meta") or {}).get("benchmark") if isinstance(r.get("meta"), dict) else None
        if prob is None or (bench is not None and bench != prob.get("benchmark")):
            out.append(r)  # not an EAE result (another benchmark may reuse a task id)
            continue
        r = dict(r)  # decided here, on the captured plain data, outside the sandbox (leti.execution.verdicts)
        prev = r.get("eae") if isinstance(r.get("eae"), dict) else None
        exec_status = prev["exec_status"] if prev else r.get("status")
        info = {"exec_status": exec_status, "verified": False, "predictions": []}
        if exec_status != "pass":
            r["eae"] = info
            out.append(r)
            continue
        if r.get("captured") is None and str(r.get("message") or "").startswith("capture failed"):
            # the capture code ran but could not serialise what the model built
            info["error"] = r.get("message")
            msg = "could not read the event instance"
            r.update(status="fail", exc_type="ValueError", message=msg, failed_test=None,
                     feedback=f"ValueError: {msg}")
            r["eae"] = info
            out.append(r)
            continue
        if r.get("captured") is None:
            info["error"] = "no captured data"
            r.update(status="harness_error", exc_type="HarnessError", failed_test=None,
                     message="EAE result has no 'captured' data: was the program built with the problem's capture code?",
                     feedback=None)
            r["eae"] = info
            out.append(r)
            continue
        try:
            ok, msg, preds = verify_one(r["captured"], prob["meta"], unlocated=unlocated, occurrence=occurrence)
        except ValueError as exc:  # malformed captured data
            ok, msg, preds = False, f"could not read the event instance ({exc})", []
        info.update(verified=True, predictions=preds)
        if ok:
            r.update(status="pass", exc_type=None, message=None, feedback=None, failed_test=None)
        else:
            exc_type = "NameError" if msg.startswith("NameError: ") else "ValueError"
            text = msg[len("NameError: "):] if exc_type == "NameError" else msg
            r.update(status="fail", exc_type=exc_type, message=text, failed_test=None,
                     feedback=f"{exc_type}: {text}")
        r["eae"] = info
        out.append(r)
    return out
