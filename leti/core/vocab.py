"""LeTI's special tokens and the reward-token conditioning of prompts (spec §1.1, §2)."""
from __future__ import annotations

GOOD = "<|good|>"
BAD = "<|bad|>"
FEEDBACK_BEGIN = "<|lang_feedback|>"
FEEDBACK_END = "<|/lang_feedback|>"
# The order the original added them in (spec §1.1).
SPECIAL_TOKENS = [BAD, GOOD, FEEDBACK_BEGIN, FEEDBACK_END]

CONDITIONS = {"good": GOOD, "bad": BAD, "none": ""}


def condition_prompt(prompt: str, conditioning: str) -> str:
    """The text fed to the model: reward token (or nothing) + prompt, no feedback span, no BOS."""
    try:
        return CONDITIONS[conditioning] + prompt
    except KeyError:
        raise ValueError(f"conditioning must be one of {sorted(CONDITIONS)}, got {conditioning!r}") from None


def strip_condition(model_input: str, conditioning: str, mode: str = "exact") -> str:
    """Remove the reward token before execution.

    mode="exact" removes the token as a prefix (correct). mode="lstrip" reproduces the
    original's `str.lstrip(token)`, which strips a *character set* and eats e.g. the `d`
    of a leading `def` (spec §2 quirk).
    """
    token = CONDITIONS[conditioning]
    if not token:
        return model_input
    if mode == "exact":
        return model_input[len(token):] if model_input.startswith(token) else model_input
    if mode == "lstrip":
        return model_input.lstrip(token)
    raise ValueError(f"strip mode must be 'exact' or 'lstrip', got {mode!r}")


# ---- feedback types of FCFT (spec §1): reward token + feedback span | reward token | neither (control)
FEEDBACK_TYPES = ("textual", "binary", "none")

# ---- the paper's error buckets
# The poster's six, and the evaluator's finer eight (TypeError and timeout split out of "other").
PAPER_BUCKETS = ("pass", "AssertionError", "SyntaxError", "IndentationError", "NameError", "other")
FINE_BUCKETS = ("pass", "AssertionError", "SyntaxError", "IndentationError", "NameError", "TypeError", "timeout", "other")
SYNTAX_BUCKETS = ("SyntaxError", "IndentationError")  # "syntax-type errors" of the claims
_NAMED_BUCKETS = frozenset({"AssertionError", "SyntaxError", "IndentationError", "NameError", "TypeError"})


def error_bucket(result: dict) -> str:
    """Fine bucket of one execution record. A harness_error is not the solution's fault: ValueError.

    Only the exact exception name counts (a TabError, an IndentationError subclass, is "other")."""
    status = result.get("status")
    if status == "harness_error":
        raise ValueError(f"result {result.get('id')!r} is a harness_error; it must not be counted against the solution")
    if status == "pass":
        return "pass"
    if status == "timeout":
        return "timeout"
    exc = result.get("exc_type")
    return exc if exc in _NAMED_BUCKETS else "other"


def paper_bucket(fine: str) -> str:
    return fine if fine in PAPER_BUCKETS else "other"
