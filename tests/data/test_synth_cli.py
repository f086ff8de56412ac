"""`leti synth` command line."""
from __future__ import annotations

import json

import pytest

from leti.cli import main


def test_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["synth", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--seed", "--out", "--n-train", "--n-test", "--n-transfer", "--n-retention", "--n-heldout",
                 "--n-pal-docs", "--n-humaneval-docs"):
        assert flag in out


def test_run_small(tmp_path, capsys):
    out = tmp_path / "s"
    rc = main(["synth", "--seed", "2", "--out", str(out), "--n-train", "30", "--n-test", "10",
               "--n-transfer", "6", "--n-retention", "8", "--n-heldout", "12", "--n-pal-docs", "8",
               "--n-humaneval-docs", "5"])
    assert rc == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["train.jsonl"] == 30 and manifest["counts"]["corpus.jsonl"] == 30 * 3 + 5 + 8
    assert json.loads(capsys.readouterr().out)["counts"] == manifest["counts"]


def test_bad_size_is_one_line_error(tmp_path, capsys):
    rc = main(["synth", "--out", str(tmp_path), "--n-train", "-3"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("leti synth: error:") and "n_train" in err and "Traceback" not in err
