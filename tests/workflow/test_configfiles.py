"""A config file Snakemake cannot read (missing, YAML syntax error, not a mapping) is one line
naming it, from plain `snakemake`: the workflow profile (profiles/default) checks it first."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from leti.core.errors import UserError
from leti.workflow.configfiles import check_configfile, configfiles_of, workflow_profile_options

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))

BAD = {  # name -> (file text or None for a missing file, what the line must say)
    "missing": (None, "--configfile {path}: no such file"),
    "flow": ("seeds: [0\nfoo: : bar\n", "{path}:2:4: YAML syntax error"),
    "indent": ("a: 1\n  b: 2\n", "{path}:2:4: YAML syntax error: mapping values are not allowed here"),
    "tab": ("params:\n\tloop: 1\n", "{path}:2:1: YAML syntax error"),
    "list": ("- 1\n- 2\n", "{path}: expected a mapping"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_check_configfile(tmp_path, name):
    text, message = BAD[name]
    path = tmp_path / f"{name}.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(UserError) as err:
        check_configfile(path)
    assert message.format(path=path) in str(err.value) and "\n" not in str(err.value), str(err.value)


@pytest.mark.parametrize("name", ["missing", "flow"])
def test_plain_snakemake_prints_one_line(tmp_path, name):
    text, message = BAD[name]
    path = tmp_path / f"{name}.yaml"
    if text is not None:
        path.write_text(text)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    r = subprocess.run([SNAKEMAKE, "-n", "--configfile", str(path)], cwd=REPO, capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 1
    out = r.stdout + r.stderr
    errors = [l for l in out.splitlines() if l.strip() and not l.startswith("Using workflow specific profile")]
    assert len(errors) == 1 and errors[0].startswith(f"config error: {message.format(path=path)}"), out
    assert "Traceback" not in out and "rule " not in out


def test_which_files_the_command_line_reads(tmp_path):
    assert configfiles_of(["-n", "--configfile", "a.yaml", "b.yaml", "--cores", "2"]) == [
        ("a.yaml", "--configfile"), ("b.yaml", "--configfile")]
    assert configfiles_of(["--configfiles=x.yaml"]) == [("x.yaml", "--configfile")]
    # a --profile's configfile counts unless the command line gives one (it wins)
    (tmp_path / "prof").mkdir()
    (tmp_path / "prof" / "config.yaml").write_text("configfile: presets/none.yaml\n")
    assert configfiles_of(["--profile", str(tmp_path / "prof")]) == [
        ("presets/none.yaml", f"configfile of profile {tmp_path / 'prof'}")]
    assert configfiles_of(["--profile", str(tmp_path / "prof"), "--configfile", "c.yaml"]) == [("c.yaml", "--configfile")]


def test_workflow_profile_sets_no_option():
    """It is applied to every run and would replace the same keys of `--profile slurm`."""
    assert workflow_profile_options(REPO / "profiles" / "default" / "config.yaml") == {}
