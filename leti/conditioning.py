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
