"""Code post-processing of generations (spec §4.1) and post-process language feedback (§4.2).

`postprocess(kind, text, mode="exact")` for kind in ``mbpp``, ``humaneval``, ``gsm8k_pal``, ``eae``.

Modes (they differ only for ``mbpp``):

* ``"exact"`` (default): every stop word is matched literally, as the spec and the
  bigcode-evaluation-harness MBPP task (which LeTI cites) intend.
* ``"leti"``: bug-compatible with the original. LeTI joins the MBPP stop words into a regex
  *without escaping them*; the last one, ``"\\n<|/"``, becomes the alternation ``\\n<`` | ``/``,
  so the original also cuts a generation at its first ``/`` (any division, ``//``, a path in
  a string...) and at ``\\n<``. For ``humaneval``, ``gsm8k_pal`` and ``eae`` the original
  patterns contain no regex metacharacters, so both modes are identical.

Quirks kept in both modes (they are the original's documented behaviour, spec §4.1):

* HumanEval drops the *last* stop word and everything after it; with no stop word at all the
  result is ``""`` (only the prompt's signature and docstring remain, which fails the tests).
* EAE stop words are not anchored to a newline (``class`` inside an identifier also cuts).
* MBPP keeps helper functions (``"\\ndef"`` is not a stop word) and ``rstrip()``s the result.
"""
from __future__ import annotations

import re

MBPP_STOP_WORDS = ["\nclass", "\nassert", '\n"""', "\nprint", "\nif", "\n<|/"]
HUMANEVAL_STOP_WORDS = ["\nclass", "\ndef", "\n#", "\n@", "\nprint", "\nif"]
GSM_PAL_STOP = "\nQ:"
EAE_STOP_WORDS = ['"""', "class", "print", "#"]

KINDS = ("mbpp", "humaneval", "gsm8k_pal", "eae")
MODES = ("exact", "leti")

_MBPP_EXACT = re.compile("|".join(re.escape(w) for w in MBPP_STOP_WORDS))
_MBPP_LETI = re.compile("|".join(MBPP_STOP_WORDS))  # unescaped on purpose: the original's regex
_HUMANEVAL = re.compile("(" + "|".join(re.escape(w) for w in HUMANEVAL_STOP_WORDS) + ")")
_EAE = re.compile("|".join(re.escape(w) for w in EAE_STOP_WORDS))


def postprocess_mbpp(text: str, mode: str = "exact") -> str:
    pattern = _MBPP_LETI if mode == "leti" else _MBPP_EXACT
    return pattern.split(text, maxsplit=1)[0].rstrip()


def postprocess_humaneval(text: str) -> str:
    pieces = _HUMANEVAL.split(text)
    # pieces = [code, stop, code, stop, ..., tail]; drop the last stop word and its tail.
    return "".join(pieces[:-2])


def postprocess_gsm8k_pal(text: str) -> str:
    return text.split(GSM_PAL_STOP, 1)[0]


def postprocess_eae(text: str) -> str:
    return _EAE.split(text, maxsplit=1)[0]


def postprocess(kind: str | None, text: str, mode: str = "exact") -> str:
    """Post-process one generation. `kind=None` returns the text unchanged (e.g. BBH)."""
    if mode not in MODES:
        raise ValueError(f"postprocess mode must be one of {MODES}, got {mode!r}")
    if kind is None:
        return text
    if kind == "mbpp":
        return postprocess_mbpp(text, mode)
    if kind == "humaneval":
        return postprocess_humaneval(text)
    if kind in ("gsm8k_pal", "gsm_pal"):
        return postprocess_gsm8k_pal(text)
    if kind == "eae":
        return postprocess_eae(text)
    raise ValueError(f"postprocess kind must be one of {KINDS} or None, got {kind!r}")


FEEDBACK_TEMPLATE = (
    "We only need the first defined function. You should not generate the rest of the code "
    "that starts with [{rest}]. Try to use <|endoftext|> to end your code."
)


def postprocess_feedback(original: str, processed: str) -> str:
    """Spec §4.2: extra feedback when post-processing cut something off, else ``""``.

    `processed` must be a prefix of `original` (true for every kind above). The cut-off rest
    is stripped and truncated to 128 characters, as in the original."""
    if not original.startswith(processed):
        raise ValueError("post-processed generation is not a prefix of the original generation")
    rest = original[len(processed):].strip()[:128]
    if not rest:
        return ""
    return FEEDBACK_TEMPLATE.format(rest=rest)
