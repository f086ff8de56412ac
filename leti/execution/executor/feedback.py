"""Textual feedback in the format of the original LeTI executor (spec §5.2).

Frames from the first one of the executed code (filename "<string>") on are kept, library frames it
called into included, as the original did; the harness's frames above it are dropped. Line numbers and
source lines of "<string>" frames refer to `program + "\\n" + tests` as the model saw it. SyntaxError has
no frames and no caret, and its lines are joined with "\\n" as the original joined them. Python's
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


def user_frames(tb, offset: int, lines: list[str]) -> list[tuple[int, str, str, str]]:
    """(file, line number, function name, stripped source line) of the frames from the first exec'd
    one on: "<string>" frames numbered in program+tests, library frames as Python reports them."""
    out, seen_user = [], False
    for fs in traceback.extract_tb(tb):
        if fs.filename == FILENAME:
            seen_user = True
            n = (fs.lineno or 0) - offset
            out.append((FILENAME, n, fs.name, lines[n - 1].strip() if 1 <= n <= len(lines) else ""))
        elif seen_user:
            out.append((fs.filename, fs.lineno or 0, fs.name, (fs.line or "").strip()))
    return out


def format_frames(frames: list[tuple[str, int, str, str]]) -> list[str]:
    out: list[str] = []
    last = None
    count = 0
    for filename, n, name, code in frames:
        key = (filename, n, name)
        if key == last:
            count += 1
        else:
            if count > REPEAT_CUTOFF:
                out.append(f"  [Previous line repeated {count - REPEAT_CUTOFF} more times]\n")
            last, count = key, 1
        if count > REPEAT_CUTOFF:
            continue
        text = f'  File "{filename}", line {n}, in {name}\n'
        if code:
            text += f"    {code}\n"
        out.append(text)
    if count > REPEAT_CUTOFF:
        out.append(f"  [Previous line repeated {count - REPEAT_CUTOFF} more times]\n")
    return out


def runtime_feedback(exc: BaseException, tb, offset: int, lines: list[str]) -> tuple[str, list[tuple[int, str, str]]]:
    """The feedback text and the (line, function, source) of the "<string>" frames (failed_test)."""
    frames = user_frames(tb, offset, lines)
    text = HEADER + "\n".join(format_frames(frames)) + exception_only(exc)
    return cap(text, MAX_FEEDBACK), [(n, name, code) for f, n, name, code in frames if f == FILENAME]


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
    return cap(HEADER + "\n".join(traceback.format_exception_only(type(exc), exc)), MAX_FEEDBACK)
