"""The package layout as a contract: stages import only downward, planning never imports torch,
rules take every artefact path from the plan."""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO

# the pipeline in order; a module may import its own stage and earlier ones only
STAGES = ["core", "data", "model", "sampling", "execution", "fcft", "evaluation", "workflow", "report", "warmstart"]
TOP = {"leti.cli"}  # the dispatcher: may import any stage (and the warm-start client calls back into it)
LETI = REPO / "leti"


def _stage(module: str) -> int | None:
    parts = module.split(".")
    if module in TOP:
        return len(STAGES)
    if parts == ["leti"]:
        return 0  # leti/__init__: the version
    return STAGES.index(parts[1]) if len(parts) > 1 and parts[1] in STAGES else None


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every `leti` module imported anywhere in the file (function-level imports included)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.split(".")[0] == "leti":
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "leti"]
    return out


def test_every_module_belongs_to_a_stage():
    loose = [_module_name(p) for p in LETI.rglob("*.py") if _stage(_module_name(p)) is None]
    assert loose == []


def test_imports_follow_stage_order():
    upward = []
    for path in sorted(LETI.rglob("*.py")):
        me = _module_name(path)
        mine = _stage(me)
        for lineno, target in _imports(path):
            theirs = _stage(target)
            if me.startswith("leti.warmstart") and target == "leti.cli":
                continue  # the warm-start server runs the command table (allowed by design)
            if theirs is None or theirs > mine:
                upward.append(f"{path.relative_to(REPO)}:{lineno}: {me} -> {target}")
    assert upward == [], "imports against the stage order:\n" + "\n".join(upward)


def test_the_scan_catches_an_upward_import(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from leti.fcft.train import TrainConfig\n")
    assert _imports(bad) == [(2, "leti.fcft.train")] and _stage("leti.fcft.train") > _stage("leti.model.pretrain")


NO_TORCH = """
import importlib.abc, sys
class _Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'transformers', 'tokenizers', 'datasets'):
            raise ImportError(f'planning imported {name}')
sys.meta_path.insert(0, _Refuse())
"""


def _no_torch_env(tmp_path) -> dict:
    (tmp_path / "sitecustomize.py").write_text(NO_TORCH)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("LETI_WARM", None)
    return env


def test_planning_modules_import_no_torch(tmp_path):
    code = ("import sys, yaml\n"
            "from leti.workflow.checks import validate_config\n"
            "from leti.workflow.plan import Plan\n"
            "from leti.workflow import specs\n"
            "import leti.report, leti.cli\n"
            "for f in ('config.yaml', 'presets/paper.yaml', 'presets/ci.yaml'):\n"
            "    c = yaml.safe_load(open(f)); c['data_root'] = sys.argv[1]\n"
            "    validate_config(c); p = Plan(c)\n"
            "    r = p.runs[0]; specs.eval_sample_spec(p, r, 1); specs.train_sample_item(p, r, 2)\n"
            "heavy = [m for m in ('torch', 'transformers', 'matplotlib', 'pandas') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    from leti.core.paths import default_data_root

    r = subprocess.run([sys.executable, "-c", code, str(default_data_root())], cwd=REPO, env=_no_torch_env(tmp_path),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]


def test_snakemake_dry_run_and_lint_import_no_torch(tmp_path):
    """`snakemake -n` of the paper grid with torch and transformers made unimportable."""
    from leti.core.paths import default_data_root

    snakemake = Path(sys.executable).with_name("snakemake")
    work = ["--configfile", str(REPO / "presets" / "paper.yaml"), "--directory", str(tmp_path / "work")]
    for extra in (["-n", "--profile", "slurm", "--quiet", "rules", *work], ["--lint"]):
        r = subprocess.run([str(snakemake), *extra, "--config", f"data_root={default_data_root()}"], cwd=REPO,
                           env=_no_torch_env(tmp_path), capture_output=True, text=True, timeout=300)
        out = r.stdout + r.stderr
        assert "planning imported" not in out, out[-2000:]
        if extra[0] == "-n":
            assert r.returncode == 0, out[-2000:]


def test_rules_take_artefact_paths_from_the_plan():
    """No work/ or results/ path pattern in the rules except logs and benchmark timings (PATHS holds them)."""
    offending = []
    for smk in sorted((REPO / "rules").glob("*.smk")):
        for lineno, line in enumerate(smk.read_text().splitlines(), 1):
            if re.search(r'\{(W|R)\}/(?!logs/|benchmarks/|report-)', line) or re.search(r'\{R\}', line):
                offending.append(f"{smk.name}:{lineno}: {line.strip()}")
    assert offending == []


def test_command_modules_follow_one_scheme():
    from leti.cli import COMMANDS

    for name, (module, _) in COMMANDS.items():
        assert module.endswith(".cli") and _stage(module) is not None, module
        text = (REPO / (module.replace(".", "/") + ".py")).read_text()
        fn = name.replace("-", "_")
        assert f"def configure_{fn}(" in text and f"def run_{fn}(" in text, name
    clis = sorted(_module_name(p) for p in LETI.rglob("*cli.py"))
    assert clis == sorted({m for m, _ in COMMANDS.values()} | {"leti.cli"})
