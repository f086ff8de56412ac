"""Progress of long jobs (training, sampling, execution) that shows in Snakemake's job logs.

On a terminal this is a tqdm bar. In a log file (a job's stderr redirected by its rule, a SLURM
log) a bar would be one line rewritten in place that only becomes readable at the end, so there
it prints one line when the work starts, then at most one every `LETI_PROGRESS_INTERVAL` seconds
(default 30) as work completes, and one when it ends:

    fcft it2: 120/3000 (4.0%) 0.52 step/s elapsed 3m50s ETA 1h32m loss=0.412

`LETI_PROGRESS=bar|lines|off` forces a style.
"""
from __future__ import annotations

import os
import sys
import time

INTERVAL_VAR = "LETI_PROGRESS_INTERVAL"
STYLE_VAR = "LETI_PROGRESS"
DEFAULT_INTERVAL = 30.0


def interval() -> float:
    try:
        return max(0.0, float(os.environ.get(INTERVAL_VAR, DEFAULT_INTERVAL)))
    except ValueError:
        return DEFAULT_INTERVAL


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class LineProgress:
    """tqdm's update/set_postfix/close, as timed lines for log files."""

    def __init__(self, total: int | None, desc: str, unit: str = "it", initial: int = 0, stream=None,
                 every: float | None = None, clock=time.monotonic):
        self.total, self.desc, self.unit = total, desc, unit
        self.n = self.start_n = initial
        self.stream = stream or sys.stderr
        self.every = interval() if every is None else every
        self.clock = clock
        self.t0 = self.last = clock()
        self.postfix = ""
        self.closed = False
        self._emit()

    def line(self) -> str:
        elapsed = self.clock() - self.t0
        done = self.n - self.start_n
        rate = done / elapsed if elapsed > 0 else 0.0
        parts = [f"{self.desc}: {self.n}/{self.total if self.total is not None else '?'}"]
        if self.total:
            parts.append(f"({100.0 * self.n / self.total:.1f}%)")
        parts.append(f"{rate:.3g} {self.unit}/s" if rate >= 0.01 or not done else f"{1 / rate:.3g} s/{self.unit}")
        parts.append(f"elapsed {_duration(elapsed)}")
        if self.total is not None:
            left = self.total - self.n
            parts.append("ETA " + (_duration(left / rate) if rate > 0 else "?") if left > 0 else "ETA 0s")
        if self.postfix:
            parts.append(self.postfix)
        return " ".join(parts)

    def _emit(self) -> None:
        self.last = self.clock()
        print(self.line(), file=self.stream, flush=True)

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.clock() - self.last >= self.every:
            self._emit()

    def set_postfix(self, **kw) -> None:
        self.postfix = " ".join(f"{k}={v}" for k, v in kw.items())

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._emit()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Off:
    n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, **kw) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


def progress(total: int | None, desc: str, unit: str = "it", initial: int = 0, disable: bool = False):
    """A tqdm bar on a terminal, timed lines in a log, nothing if disabled (`--no-progress`)."""
    style = os.environ.get(STYLE_VAR, "").strip().lower()
    if disable or style == "off":
        return _Off()
    isatty = getattr(sys.stderr, "isatty", lambda: False)()
    if style == "bar" or (style != "lines" and isatty):
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit=unit, initial=initial, mininterval=2, dynamic_ncols=True)
    return LineProgress(total, desc, unit=unit, initial=initial)
