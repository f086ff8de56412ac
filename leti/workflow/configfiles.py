"""Config files checked before Snakemake reads them, so a typo is one line, not a traceback.

Snakemake 9 loads `--configfile` files in its command-line layer (`ConfigSettings`), before the
Snakefile runs: a missing file ends in a Python traceback and a YAML syntax error in
`WorkflowError: Config file is not valid JSON or YAML` without the file, line or column. The only
hook that runs earlier is the workflow profile: `profiles/default/config.yaml` is parsed (as a
YTE template) while the command line is parsed, and its `__definitions__` call `check_command_line()`.
It sets no option. It is not applied with `--workflow-profile none`, nor when Snakemake is run
from outside the repo without `profiles/default` next to the Snakefile; then Snakemake's own
messages remain.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from leti.core.errors import UserError

CONFIG_FLAGS = ("--configfile", "--configfiles")


def check_configfile(path: str | os.PathLike, given_by: str = "--configfile") -> None:
    """Raise UserError (one line) if `path` is missing, unreadable, not YAML or not a mapping."""
    import yaml

    p = Path(path)
    if not p.exists():
        raise UserError(f"{given_by} {path}: no such file (from {os.getcwd()})")
    if p.is_dir():
        raise UserError(f"{given_by} {path}: is a directory, not a YAML file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{given_by} {path}: cannot read it ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        what = " ".join(str(x) for x in (exc.problem, exc.context) if x) or "invalid YAML"
        raise UserError(f"{where}: YAML syntax error: {what}") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: YAML error: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping (key: value) at the top level, got {type(data).__name__}")


def _flag_values(argv: list[str], flags: tuple[str, ...]) -> list[str] | None:
    """Values of the last occurrence of any of `flags` (nargs='+' style), None if absent."""
    found = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if name in flags:
            if eq:
                found = [value]
            else:
                found = []
                while i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                    i += 1
                    found.append(argv[i])
        i += 1
    return found


def _profile_configfiles(argv: list[str]) -> list[tuple[str, str]]:
    """`configfile(s)` set by the `--profile` profiles (the last one that sets it wins)."""
    import yaml

    profiles = _flag_values(argv, ("--profile",)) or []
    if not profiles and os.environ.get("SNAKEMAKE_PROFILE"):
        profiles = [os.environ["SNAKEMAKE_PROFILE"]]
    found: list[tuple[str, str]] = []
    for profile in profiles:
        try:
            from snakemake.cli import get_profile_dir

            entry = get_profile_dir(profile)
            data = yaml.safe_load(entry[1].read_text(encoding="utf-8")) if entry else None
        except Exception:  # a broken profile is Snakemake's to report
            continue
        if not isinstance(data, dict):
            continue
        for key in ("configfile", "configfiles"):
            if data.get(key):
                value = data[key]
                found = [(str(v), f"configfile of profile {profile}") for v in (value if isinstance(value, list) else [value])]
    return found


def configfiles_of(argv: list[str]) -> list[tuple[str, str]]:
    """(path, who gave it) for every config file this command line makes Snakemake read."""
    given = _flag_values(argv, CONFIG_FLAGS)
    if given is not None:
        return [(f, "--configfile") for f in given]
    return _profile_configfiles(argv)


def check_config_overrides(argv: list[str]) -> None:
    """`--config a.b.c=1` ends in a Snakemake traceback ("Config entry must start with a valid identifier"):
    say instead how to write it (the nested form, which Snakemake merges into the config file's values)."""
    import yaml

    from leti.workflow.checks import dotted_key_error

    for entry in _flag_values(argv, ("--config", "-C")) or []:
        key, eq, value = entry.partition("=")
        if eq and "." in key:
            try:
                parsed = yaml.safe_load(value)
            except yaml.YAMLError:
                parsed = value
            raise UserError(f"--config {entry}: {dotted_key_error(key, parsed)}")


def check_command_line(argv: list[str] | None = None) -> None:
    """For the workflow profile: exit with `config error: <one line>` on a bad config file or --config."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        check_config_overrides(argv)
        for path, given_by in configfiles_of(argv):
            check_configfile(path, given_by)
    except UserError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        sys.exit(1)


def workflow_profile_options(profile_file: str | os.PathLike) -> dict:
    """The options a workflow profile file sets once Snakemake has parsed it ({} for ours), without
    running its definitions (the `__definitions__` hook is left out)."""
    import io

    import yaml
    import yte

    data = yaml.safe_load(Path(profile_file).read_text(encoding="utf-8")) if Path(profile_file).exists() else {}
    data.pop("__definitions__", None)
    return dict(yte.process_yaml(io.StringIO(yaml.safe_dump(data)), require_use_yte=True) or {})
