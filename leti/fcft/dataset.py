"""From execution records to FCFT training examples (spec §1).

Layout of one example, as in the original: reward token, optional
`<|lang_feedback|>…<|/lang_feedback|>` span, problem prompt, generated solution.
Feedback types:
- `textual`: reward token + feedback span (failures only, plus §4.2 post-processing feedback);
- `binary`: reward token only (the paper's "w/o textual feedback");
- `none`: no reward token, no span — the no-conditioning control (same samples, same compute).
"""
from __future__ import annotations

from collections import Counter

from leti.core.errors import UserError
from leti.core.vocab import BAD, FEEDBACK_BEGIN, FEEDBACK_END, FEEDBACK_TYPES, GOOD


def _sample_id(task_id: str, sample_idx: int) -> str:
    return f"{task_id}#{sample_idx}"


def build_examples(problems: list[dict], samples: list[dict], results: list[dict], feedback_type: str,
                   postprocess: str | None = None, postprocess_feedback: bool = False,
                   postprocess_mode: str = "exact") -> tuple[list[dict], dict]:
    """Join problems, samples and execution results into FCFT examples; returns (examples, stats).

    `results` are the evaluator's records; their `meta` carries task_id and sample_idx.
    Harness errors are dropped (never the solution's fault) and counted in the stats. EAE
    results must carry their verdict (`leti execute --problems`, leti.execution.verdicts).
    """
    if feedback_type not in FEEDBACK_TYPES:
        raise UserError(f"feedback_type must be one of {FEEDBACK_TYPES}, got {feedback_type!r}")
    from leti.execution.postprocess import postprocess as run_postprocess
    from leti.execution.postprocess import postprocess_feedback as pp_feedback

    by_task = {p["task_id"]: p for p in problems}
    position = {p["task_id"]: i for i, p in enumerate(problems)}
    by_sample = {_sample_id(s["task_id"], s["sample_idx"]): s for s in samples}
    stats: Counter = Counter({"pass": 0, "fail": 0, "harness_error_dropped": 0})
    examples = []
    for res in results:
        meta = res.get("meta") or {}
        sid = _sample_id(meta.get("task_id"), meta.get("sample_idx")) if "task_id" in meta else res.get("id")
        sample = by_sample.get(sid)
        if sample is None:
            raise UserError(f"execution result {res.get('id')!r}: no sample with id {sid!r}")
        problem = by_task[sample["task_id"]]
        if problem.get("scorer") == "eae" and "eae" not in res:
            # EAE verdicts come from the rule-based verifier, applied once where programs run (spec §8.5)
            raise UserError(f"execution result {res.get('id')!r}: an EAE result without its verdict "
                            "(execute with `leti execute --problems`)")
        if res["status"] == "harness_error":
            stats["harness_error_dropped"] += 1
            continue
        success = res["status"] == "pass"
        stats["pass" if success else "fail"] += 1
        original = sample["completion"]
        solution = run_postprocess(postprocess, original, postprocess_mode) if postprocess else original
        feedback = None if success else (res.get("feedback") or res.get("status"))
        if postprocess and postprocess_feedback:
            extra = pp_feedback(original, solution)
            if extra:
                feedback = extra if feedback is None else feedback + "\n" + extra
        examples.append({
            "task_id": sample["task_id"], "sample_idx": sample["sample_idx"], "success": success,
            "reward": "" if feedback_type == "none" else (GOOD if success else BAD),
            "feedback": feedback if feedback_type == "textual" else None,
            "problem": problem["prompt"], "solution": solution,
            # what the original's generation order sorts by (train.data_order: generation)
            "problem_index": position[sample["task_id"]], "model_input": sample.get("model_input"),
        })
    stats["examples"] = len(examples)
    stats["pass_rate"] = round(stats["pass"] / max(1, stats["pass"] + stats["fail"]), 6)
    return examples, dict(stats)


def example_segments(ex: dict) -> list[tuple[str, str]]:
    """(role, text) pieces in training order; roles: reward, feedback, problem, solution."""
    segs = []
    if ex["reward"]:
        segs.append(("reward", ex["reward"]))
    if ex.get("feedback") is not None:
        segs.append(("feedback", FEEDBACK_BEGIN + ex["feedback"] + FEEDBACK_END))
    segs.append(("problem", ex["problem"]))
    segs.append(("solution", ex["solution"]))
    return segs


def tokenize_example(ex: dict, tokenizer, max_len: int, loss_on: str = "all", append_eos: bool = False
                     ) -> tuple[list[int], list[int]]:
    """Token ids and loss mask. Segments are tokenized separately so the problem|solution boundary
    is tokenized exactly as at sampling time (prompt encoded alone, solution generated after it).

    loss_on="all": every non-pad token (the original); "solution": only solution (+EOS) tokens.
    Truncation is on the right, as the original's tokenizer call did.
    """
    if loss_on not in ("all", "solution"):
        raise UserError(f"loss_on must be 'all' or 'solution', got {loss_on!r}")
    ids: list[int] = []
    mask: list[int] = []
    for role, text in example_segments(ex):
        piece = tokenizer(text, add_special_tokens=False)["input_ids"]
        ids.extend(piece)
        mask.extend([1 if (loss_on == "all" or role == "solution") else 0] * len(piece))
    if append_eos:
        ids.append(tokenizer.eos_token_id)
        mask.append(1)
    return ids[:max_len], mask[:max_len]
