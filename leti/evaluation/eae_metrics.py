"""EAE metrics (`calculate_eae_metric.py`): Arg-I / Arg-C precision, recall, F1 and the pass rate.

Predictions are (head, role) pairs read from the captured data; plain strings in a role list count
as predictions, unlocatable strings are dropped; a prediction counts for Arg-I when some gold
argument has the same head and for Arg-C when it also has the same role; P = matched / #pred,
R = matched / #gold, micro-summed over all results. Verdicts come from `leti.execution.eae_verify`.
"""
from __future__ import annotations

from typing import Iterable

from leti.execution.eae_verify import (
    eae_problems_by_id,
    extract_predictions,
    result_task_id,
    verify_one,
)


def _n_gold(meta: dict) -> int:
    """Distinct gold (head, role) pairs: the original's gold *set*."""
    return len({(g["head"], g["role"]) for g in meta["gold"]})


def _prf(n_pred: int, n_gold: int, matched: int) -> dict:
    p = matched / n_pred if n_pred else 0.0
    rc = matched / n_gold if n_gold else 0.0
    f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
    return {"p": p, "r": rc, "f1": f1}


def metrics(problems: Iterable[dict], results: Iterable[dict], *, unlocated: str = "fail",
            occurrence: str = "nearest") -> dict:
    """Arg-I / Arg-C precision, recall, F1 (micro over all results) and the pass rate.

    Every result of an EAE problem counts (n samples per problem count n times); a problem
    without any result counts once with no prediction (`n_missing`). Results that were not yet
    verified are verified here (without modifying them) to compute the pass rate.
    """
    index = eae_problems_by_id(problems)
    results = list(results)
    n_pred = n_gold = m_i = m_c = n_pass = n_res = n_unlocated = 0
    seen_tasks = set()
    for r in results:
        prob = index.get(result_task_id(r))
        if prob is None:
            continue
        seen_tasks.add(prob["task_id"])
        meta = prob["meta"]
        n_res += 1
        n_gold += _n_gold(meta)
        prev = r.get("eae") if isinstance(r.get("eae"), dict) else None
        exec_status = prev["exec_status"] if prev else r.get("status")
        if exec_status != "pass" or r.get("captured") is None:
            continue
        try:
            preds, _ = extract_predictions(r["captured"], meta, strict=False, occurrence=occurrence)
        except ValueError:
            preds = []
        tuples = set()
        for p in preds:
            if p["head"] is None:
                n_unlocated += 1
                continue
            tuples.add((p["head"], p["role"]))
        gold_heads = {g["head"] for g in meta["gold"]}
        gold_pairs = {(g["head"], g["role"]) for g in meta["gold"]}
        n_pred += len(tuples)
        m_i += sum(1 for h, _ in tuples if h in gold_heads)
        m_c += sum(1 for t in tuples if t in gold_pairs)
        if prev and prev.get("verified"):
            n_pass += r.get("status") == "pass"
        else:
            try:
                ok, _, _ = verify_one(r["captured"], meta, unlocated=unlocated, occurrence=occurrence)
            except ValueError:
                ok = False
            n_pass += ok
    missing = [t for t in index if t not in seen_tasks]
    for t in missing:
        n_gold += _n_gold(index[t]["meta"])
    return {
        "arg_i": _prf(n_pred, n_gold, m_i),
        "arg_c": _prf(n_pred, n_gold, m_c),
        "pass_rate": n_pass / n_res if n_res else 0.0,
        "counts": {"n_results": n_res, "n_problems": len(index), "n_missing": len(missing),
                   "n_pass": n_pass, "n_pred": n_pred, "n_gold": n_gold,
                   "matched_arg_i": m_i, "matched_arg_c": m_c, "n_unlocated": n_unlocated},
        "unlocated": unlocated,
    }
