"""Textual feedback in the format of the original LeTI executor (spec §5.2).

Only frames of the executed code (filename "<string>") are kept; line numbers and source lines refer
to `program + "\\n" + tests` as the model saw it; SyntaxError has no frames and no caret. Python's
own repeated-frame folding ("[Previous line repeated N more times]") is kept so that a RecursionError
stays short. No caret lines (`^^^`) are added: the original ran on Python 3.8.
"""
from __future__ import annotations

import traceback

FILENAME = "<string>"
HEADER = "Traceback (most recent call last):\n"
MAX_MESSAGE = 1000
MAX_FEEDBACK = 8000
TIMEOUT_FEEDBACK = "timeout"  # the original's bare reason string for timeouts (spec §5.1)
REPEAT_CUTOFF = 3


def cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + f"\n...[{len(text) - 2 * half} characters truncated]...\n" + text[-half:]


def safe_str(exc: BaseException) -> str:
    try:
        s = str(exc)
    except BaseException:  # noqa: BLE001 - a hostile __str__
        s = "<str() of the exception failed>"
    return cap(s, MAX_MESSAGE)


def exception_only(exc: BaseException) -> str:
    try:
        msg = str(exc)
    except BaseException:
        msg = "<str() of the exception failed>"
    if len(msg) <= MAX_MESSAGE and not isinstance(exc, SyntaxError):
        try:
            return "".join(traceback.format_exception_only(type(exc), exc))
        except BaseException:
            pass
    if isinstance(exc, SyntaxError):
        return "".join(traceback.format_exception_only(type(exc), exc))
    name = type(exc).__qualname__
    mod = type(exc).__module__
    if mod not in ("builtins", "__main__"):
        name = f"{mod}.{name}"
    return f"{name}: {cap(msg, MAX_MESSAGE)}\n"


def user_frames(tb, offset: int, lines: list[str]) -> list[tuple[int, str, str]]:
    """(line number in program+tests, function name, stripped source line) of the exec'd frames."""
    out = []
    for fs in traceback.extract_tb(tb):
        if fs.filename != FILENAME:
            continue
        n = (fs.lineno or 0) - offset
        code = lines[n - 1].strip() if 1 <= n <= len(lines) else ""
        out.append((n, fs.name, code))
    return out


def format_frames(frames: list[tuple[int, str, str]]) -> list[str]:
    out: list[str] = []
    last = None
    count = 0
    for n, name, code in frames:
        key = (n, name)
        if key == last:
            count += 1
        else:
            if count > REPEAT_CUTOFF:
                out.append(f"  [Previous line repeated {count - REPEAT_CUTOFF} more times]\n")
            last, count = key, 1
        if count > REPEAT_CUTOFF:
            continue
        text = f'  File "{FILENAME}", line {n}, in {name}\n'
        if code:
            text += f"    {code}\n"
        out.append(text)
    if count > REPEAT_CUTOFF:
        out.append(f"  [Previous line repeated {count - REPEAT_CUTOFF} more times]\n")
    return out


def runtime_feedback(exc: BaseException, tb, offset: int, lines: list[str]) -> tuple[str, list[tuple[int, str, str]]]:
    frames = user_frames(tb, offset, lines)
    text = HEADER + "\n".join(format_frames(frames)) + exception_only(exc)
    return cap(text, MAX_FEEDBACK), frames


def syntax_feedback(exc: SyntaxError, offset: int) -> str:
    if exc.lineno is not None:
        exc.lineno = exc.lineno - offset
    exc.offset = None
    if hasattr(exc, "end_offset"):
        exc.end_offset = None
    if getattr(exc, "end_lineno", None) is not None:
        exc.end_lineno = None
    if exc.msg and len(exc.msg) > MAX_MESSAGE:
        exc.msg = cap(exc.msg, MAX_MESSAGE)
    if exc.text and len(exc.text) > MAX_MESSAGE:
        exc.text = cap(exc.text, MAX_MESSAGE)
    return cap(HEADER + exception_only(exc), MAX_FEEDBACK)
