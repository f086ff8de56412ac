"""Checks that need more than the JSON schema, run before any job is scheduled."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from leti.errors import UserError

# which data folders each real-benchmark source reads (relative to data_root)
DATA_DIRS = {"mbpp": "mbpp/mbpp.jsonl", "humaneval": "humaneval/HumanEval.jsonl.gz", "gsm8k": "gsm8k-pal/gsm.jsonl",
             "bbh": "bbh/bbh", "eae": "eae/geneva/data/test.json"}


def validate_or_exit(config: dict, basedir: str) -> None:
    """Schema validation through snakemake.utils.validate, reported as one line naming the key."""
    import sys

    from snakemake.utils import validate

    # `--config seeds=[0,1,2]` arrives as strings
    if isinstance(config.get("seeds"), list):
        config["seeds"] = [int(s) if isinstance(s, str) and s.strip().lstrip("-").isdigit() else s
                           for s in config["seeds"]]
    try:
        validate(config, str(Path(basedir) / "leti" / "workflow" / "config.schema.yaml"))
    except Exception as exc:  # WorkflowError wrapping a jsonschema ValidationError
        err = exc
        while err is not None and not hasattr(err, "absolute_path"):
            err = err.__cause__ or err.__context__ or next((a for a in getattr(err, "args", ()) if hasattr(a, "absolute_path")), None)
        if err is None:
            sys.exit(f"config error: {str(exc).splitlines()[0]}")
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        sys.exit(f"config error: {where}: {err.message}")


def check_config(config: dict, name: str = "config") -> None:
    from leti.fcft.train import TrainConfig

    for axis, values in config["axes"].items():
        for value in values:
            if not isinstance(value, str):
                raise UserError(f"{name}: axes.{axis}: value name {value!r} is not a string "
                                f"(YAML reads on/off/yes/no as booleans: quote it)")
    for f in config.get("exclude", []) + config.get("include", []):
        for k, v in f.items():
            if isinstance(v, bool):
                raise UserError(f"{name}: include/exclude {k}: {v!r} is not a string (quote on/off/yes/no)")
    known_train = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(config["params"]["train"]) - known_train)
    if unknown:
        raise UserError(f"{name}: params.train has unknown key(s) {unknown}")
    root = Path(config["data_root"])
    needed = []
    for bench, spec in config["benchmarks"].items():
        src = spec["problems"]["source"]
        if src == "data":
            needed.append((f"benchmarks.{bench}", DATA_DIRS.get(spec["problems"].get("benchmark"), "")))
        elif src == "eae":
            needed.append((f"benchmarks.{bench}", DATA_DIRS["eae"]))
    for axis_values in [config["params"]] + [v for a in config["axes"].values() for v in a.values() if v]:
        train = (axis_values.get("task") or {}).get("train") if "task" in axis_values else axis_values.get("task.train")
        if train in ("mbpp", "eae"):
            needed.append(("task.train", DATA_DIRS[train]))
    corpora = [(k, config["params"]["task"].get(k)) for k in ("pretrain_corpus", "heldout_corpus")]
    corpora += [(k.split(".", 1)[1], v) for a in config["axes"].values() for o in a.values() if o
                for k, v in o.items() if k in ("task.pretrain_corpus", "task.heldout_corpus")]
    for key, src in corpora:
        if src and src != "synth" and not str(src).startswith("hub:") and not Path(src).exists():
            raise UserError(f"{name}: task.{key}: {src} does not exist (use 'synth', 'hub:<dataset>' or a JSONL path)")
    for field, rel in needed:
        if rel and not (root / rel).exists():
            raise UserError(f"{name}: {field} needs {root / rel}, which does not exist (check data_root)")
