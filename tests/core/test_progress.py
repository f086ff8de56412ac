"""Progress in job logs: timed lines with done/total, rate and ETA (tqdm only on a terminal), and
training's loss rows appended to a partial CSV as they are made."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from leti.core.progress import LineProgress, progress

LINE = re.compile(r"^(?P<desc>[\w\[\] ]+): (?P<n>\d+)/(?P<total>\d+) \([\d.]+%\) [\d.e+]+ \w+/s "
                  r"elapsed \S+ ETA \S+")


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_lines_first_every_interval_and_last():
    out, clock = io.StringIO(), Clock()
    bar = LineProgress(100, "fcft it1", unit="step", stream=out, every=30, clock=clock)
    for _ in range(100):
        clock.t += 1.0  # one step a second
        bar.update(1)
        bar.set_postfix(loss="0.500")
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 + 3 + 1, lines  # start, at 30/60/90 s, end
    assert lines[0].startswith("fcft it1: 0/100 (0.0%)")
    assert lines[1] == "fcft it1: 30/100 (30.0%) 1 step/s elapsed 30s ETA 1m10s loss=0.500"
    assert lines[-1] == "fcft it1: 100/100 (100.0%) 1 step/s elapsed 1m40s ETA 0s loss=0.500"
    assert all(LINE.match(l) for l in lines), lines


def test_resumed_work_counts_rate_from_here():
    out, clock = io.StringIO(), Clock()
    bar = LineProgress(10, "sample[good]", unit="sample", initial=6, stream=out, every=0, clock=clock)
    clock.t = 2.0
    bar.update(2)
    assert out.getvalue().splitlines()[-1].startswith("sample[good]: 8/10 (80.0%) 1 sample/s elapsed 2s ETA 2s")


def test_style_follows_the_terminal(monkeypatch):
    monkeypatch.delenv("LETI_PROGRESS", raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a TTY: lines
    assert isinstance(progress(5, "x"), LineProgress)
    assert not isinstance(progress(5, "x", disable=True), LineProgress)
    monkeypatch.setenv("LETI_PROGRESS", "off")
    assert not isinstance(progress(5, "x"), LineProgress)


def test_a_running_train_job_logs_progress_and_loss_rows(micro_checkpoint, tmp_path):
    """`leti train` as a rule runs it (stderr to a file): progress lines and partial loss rows
    appear while it runs, not only at the end."""
    from leti.core.io import atomic_write_jsonl

    atomic_write_jsonl(tmp_path / "ex.jsonl", [
        {"task_id": f"t/{k}", "sample_idx": 0, "success": k % 2 == 0, "reward": "<|good|>" if k % 2 == 0 else "<|bad|>",
         "feedback": None, "problem": '"""\nadd %d\n"""' % k, "solution": "\ndef f(x):\n    return x + %d" % k}
        for k in range(16)])
    ck = tmp_path / "ckpt"
    cfg = json.dumps(dict(lr=1e-3, steps=400, batch_size=4, micro_batch_size=4, reg_ratio=0, max_len=64, seed=1))
    log = open(tmp_path / "train.log", "w")
    leti = str(Path(sys.executable).with_name("leti"))
    env = {**os.environ, "LETI_PROGRESS_INTERVAL": "0.2", "LETI_WARM": "0", "LETI_PROGRESS": ""}
    proc = subprocess.Popen([leti, "train", "--init", str(micro_checkpoint), "--examples", str(tmp_path / "ex.jsonl"),
                             "--out", str(ck), "--config", cfg, "--loss-csv", str(ck / "loss.csv"), "--threads", "1"],
                            stdout=log, stderr=log, env=env)
    partial = tmp_path / "ckpt.loss.csv.partial"
    seen_rows, seen_lines = 0, 0
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            if partial.exists():
                seen_rows = max(seen_rows, len(partial.read_text().splitlines()) - 1)
            seen_lines = max(seen_lines, sum(bool(LINE.match(l)) for l in (tmp_path / "train.log").read_text().splitlines()))
            time.sleep(0.1)
        assert proc.wait(timeout=60) == 0, (tmp_path / "train.log").read_text()[-3000:]
    finally:
        proc.kill()
    text = (tmp_path / "train.log").read_text()
    assert seen_lines >= 2, text  # the first line and at least one while training, before the end
    assert 0 < seen_rows, "no loss row in the partial file while training"
    final = [l for l in text.splitlines() if LINE.match(l)][-1]
    assert final.startswith("fcft it1: 400/400 (100.0%)") and " step/s " in final and "ETA 0s" in final, final
    assert "attention_mask" not in text and "Token indices" not in text, text
    assert not partial.exists() and len((ck / "loss.csv").read_text().splitlines()) == 401
