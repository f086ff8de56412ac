"""Config validation before any job is scheduled: the JSON schema (top level from
config.schema.yaml, `params.*` generated from the stage dataclasses), then what a schema cannot
say (data files present, names that refer to each other). Every error is one line naming the key.
"""
from __future__ import annotations

import functools
from pathlib import Path

from leti.core.errors import UserError

SCHEMA_FILE = Path(__file__).with_name("config.schema.yaml")

# which data file each real-benchmark source reads (relative to data_root)
DATA_DIRS = {"mbpp": "mbpp/mbpp.jsonl", "humaneval": "humaneval/HumanEval.jsonl.gz", "gsm8k": "gsm8k-pal/gsm.jsonl",
             "bbh": "bbh/bbh", "eae": "eae/geneva/data/test.json"}


@functools.lru_cache(maxsize=1)
def _schema_text() -> str:
    return SCHEMA_FILE.read_text(encoding="utf-8")


def config_schema() -> dict:
    """The whole config schema: config.schema.yaml with `params`, `benchmarks` and `resources` generated
    from their dataclasses (`Params`, leti.workflow.sections)."""
    import yaml

    from leti.core.config import json_schema
    from leti.workflow.params import params_schema
    from leti.workflow.sections import REQUIRED_BENCHMARK_KEYS, BenchmarkConfig, ResourcesConfig

    schema = yaml.safe_load(_schema_text())
    schema["properties"]["params"] = params_schema()
    bench = json_schema(BenchmarkConfig)
    bench["required"] = list(REQUIRED_BENCHMARK_KEYS)
    bench["properties"]["problems"]["required"] = ["source"]
    schema["properties"]["benchmarks"] = {"type": "object", "minProperties": 1, "additionalProperties": bench}
    res = json_schema(ResourcesConfig)
    res["required"] = ["gpu_partition", "cpu_partition", "gpu_rules", "cpu_rules"]
    for kind in ("gpu_rules", "cpu_rules"):
        res["properties"][kind]["required"] = ["mem_mb", "runtime"]
    schema["properties"]["resources"] = res
    return schema


def _schema_errors(config: dict) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(config_schema())
    err = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if err is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path).lstrip(".")
        message = err.message.replace("[None, ", "[")  # a nullable enum: null is the default, not a choice
        raise UserError(f"{where or '(top level)'}: {message}")


def normalize(config: dict) -> None:
    """Values the command line hands over as strings (`--config seeds=[0,1,2]`) become numbers."""
    if isinstance(config.get("seeds"), list):
        config["seeds"] = [int(s) if isinstance(s, str) and s.strip().lstrip("-").isdigit() else s
                           for s in config["seeds"]]


def _schema_at(schema: dict, path: list[str]) -> dict:
    node = schema
    for key in path:
        props = node.get("properties") or {}
        if key in props:
            node = props[key]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return {}
    return node


def _takes_strings(node: dict) -> bool:
    """Does this (sub)schema accept a string (a string type or enum, or anything)?"""
    types = node.get("type")
    types = [types] if isinstance(types, str) else types
    if types is None and "enum" not in node and "oneOf" not in node:
        return True
    return ("string" in (types or []) or any(isinstance(e, str) for e in node.get("enum", []))
            or any(_takes_strings(o) for o in node.get("oneOf", [])))


def coerce_command_line(config: dict, overrides: dict) -> None:
    """`--config key=value` hands nested values over as strings (Snakemake parses them with YAML's
    BaseLoader): `--config 'params={train: {steps: 100}}'` gives steps '100'. Where the schema takes no
    string, such a value is read again as YAML, so the nested form works like a config file."""
    import yaml

    schema = config_schema()

    def reread(value, node):
        if isinstance(value, str) and not _takes_strings(node):
            try:
                return yaml.safe_load(value)
            except yaml.YAMLError:
                return value
        if isinstance(value, list):
            items = node.get("items", {}) if isinstance(node.get("items"), dict) else {}
            return [reread(v, items) for v in value]
        return value

    def walk(over, node, path):
        for key, value in over.items():
            if not isinstance(node, dict) or key not in node:
                continue
            if isinstance(value, dict):
                walk(value, node[key], path + [key])
            else:  # an axis value's override `a.b` has the type of params.a.b
                where = ["params", *key.split(".")] if path[:1] == ["axes"] and len(path) == 3 else path + [key]
                node[key] = reread(node[key], _schema_at(schema, where))

    walk(overrides, config, [])


def nested_form(dotted: str, value) -> str:
    """'params.train.steps', 100 -> "params={train: {steps: 100}}" (what --config takes)."""
    import json

    head, *rest = dotted.split(".")
    inner = json.dumps(value) if not isinstance(value, str) else value
    for key in reversed(rest):
        inner = f"{{{key}: {inner}}}"
    return f"{head}={inner}"


def dotted_key_error(dotted: str, value) -> str:
    return (f"{dotted}: dotted keys are not config keys (Snakemake's --config takes top-level keys); "
            f"nest it: --config '{nested_form(dotted, value)}' (merged into the config file's values)")


def _moved_or_misplaced(config: dict, name: str) -> None:
    """Mistakes with a better message than the schema's."""
    for key, value in config.items():
        if isinstance(key, str) and "." in key:
            raise UserError(f"{name}: {dotted_key_error(key, value)}")
    if config.get("checkpoint_sampling") == "joint":
        raise UserError(f"{name}: checkpoint_sampling: 'joint' was removed: a checkpoint's evaluation and the next "
                        f"iteration's training samples are separate jobs, so an evaluation-only change never "
                        f"retrains (delete the key)")


def validate_config(config: dict, name: str = "config") -> None:
    """Raise UserError (one line, naming the key) for anything that would fail later."""
    from leti.workflow.params import Params
    from leti.workflow.sections import validate_benchmarks, validate_resources, validate_vllm_env

    if not isinstance(config, dict):
        raise UserError(f"{name}: expected a mapping at the top level")
    normalize(config)
    _moved_or_misplaced(config, name)
    _schema_errors(config)
    Params.from_dict(config["params"])
    validate_benchmarks(config["benchmarks"])
    validate_resources(config["resources"])
    validate_vllm_env(config.get("vllm_env", "auto"), name)
    check_config(config, name)


def validate_or_exit(config: dict, workflow=None) -> None:
    """For the Snakefile: validate, or exit with `config error: <one line>`. With Snakemake's `workflow`:
    values given with --config are read as YAML first, and hub model ids are checked (main process only)."""
    import sys

    try:
        if workflow is not None:
            overrides = getattr(getattr(workflow, "config_settings", None), "overwrite_config", None) or {}
            coerce_command_line(config, dict(overrides))
        validate_config(config)
        job_process = getattr(workflow, "remote_exec", False) or getattr(workflow, "subprocess_exec", False)
        if workflow is not None and not job_process:  # not again in every job's own Snakemake
            from leti.workflow.hub import check_hub_models

            check_hub_models(config)
    except UserError as exc:
        sys.exit(f"config error: {exc}")


def _iterations(value, last: int, where: str) -> None:
    if value == "all":
        return
    for it in value:
        if it != "last" and int(it) > last:
            raise UserError(f"{where}: iteration {it} is beyond params.loop.iterations ({last}); it would never run")


def check_config(config: dict, name: str = "config") -> None:
    for axis, values in config["axes"].items():
        for value in values:
            if not isinstance(value, str):
                raise UserError(f"{name}: axes.{axis}: value name {value!r} is not a string "
                                f"(YAML reads on/off/yes/no as booleans: quote it)")
    for f in config.get("exclude", []) + config.get("include", []):
        for k, v in f.items():
            if isinstance(v, bool):
                raise UserError(f"{name}: include/exclude {k}: {v!r} is not a string (quote on/off/yes/no)")
    seeds = config["seeds"]
    dup = sorted({s for s in seeds if seeds.count(s) > 1})
    if dup:
        raise UserError(f"{name}: seeds: {dup} listed more than once (runs would be counted twice)")
    max_iterations = max([int(config["params"]["loop"]["iterations"])]
                         + [int(o["loop.iterations"]) for a in config["axes"].values() for o in a.values()
                            if o and "loop.iterations" in o])
    root = Path(config["data_root"])
    needed = []
    for bench, spec in config["benchmarks"].items():
        src = spec["problems"]["source"]
        where = f"benchmarks.{bench}"
        if src == "data":
            kind = spec["problems"].get("benchmark")
            if kind is None:
                raise UserError(f"{name}: {where}.problems: missing 'benchmark' (one of {sorted(DATA_DIRS)[:4]})")
            if kind not in DATA_DIRS or kind == "eae":
                raise UserError(f"{name}: {where}.problems.benchmark: unknown benchmark {kind!r} "
                                f"(one of {sorted(k for k in DATA_DIRS if k != 'eae')}; EAE is source: eae)")
            needed.append((where, DATA_DIRS[kind]))
        elif src == "eae":
            needed.append((where, DATA_DIRS["eae"]))
        elif src == "synth" and "file" not in spec["problems"]:
            raise UserError(f"{name}: {where}.problems: source synth needs 'file' (test, transfer or retention)")
        elif src == "synth" and spec["problems"]["file"] not in ("train", "test", "transfer", "retention"):
            raise UserError(f"{name}: {where}.problems.file: unknown synthetic file {spec['problems']['file']!r} "
                            f"(train, test, transfer or retention)")
        for key in ("iterations", "conditionings_at"):
            if key in spec:
                _iterations(spec[key], max_iterations, f"{name}: {where}.{key}")
        for axis, value in (spec.get("only") or {}).items():
            if axis not in config["axes"] or str(value) not in map(str, config["axes"][axis]):
                raise UserError(f"{name}: {where}.only: {axis}={value!r} is not an axis value of this grid")
    for axis_values in [config["params"]] + [v for a in config["axes"].values() for v in a.values() if v]:
        train = (axis_values.get("task") or {}).get("train") if "task" in axis_values else axis_values.get("task.train")
        if train in ("mbpp", "eae"):
            needed.append(("task.train", DATA_DIRS[train]))
    corpora = [(k, config["params"]["task"].get(k)) for k in ("pretrain_corpus", "heldout_corpus")]
    corpora += [(k.split(".", 1)[1], v) for a in config["axes"].values() for o in a.values() if o
                for k, v in o.items() if k in ("task.pretrain_corpus", "task.heldout_corpus")]
    for key, src in corpora:
        if src and str(src).startswith("hub:"):
            from leti.data.corpus import parse_hub_source

            try:
                parse_hub_source(src)
            except UserError as exc:
                raise UserError(f"{name}: task.{key}: {exc}") from None
        elif src and src != "synth" and not Path(src).exists():
            raise UserError(f"{name}: task.{key}: {src} does not exist (use 'synth', 'hub:<dataset>' or a JSONL path)")
    sources = [("params.model.source", config["params"]["model"].get("source"))]
    sources += [(f"axes.{a}.{v}: model.source", o["model.source"]) for a, vals in config["axes"].items()
                for v, o in vals.items() if o and "model.source" in o]
    for where, src in sources:
        if _looks_local(src) and not Path(src).is_dir():
            raise UserError(f"{name}: {where}: {src} looks like a local path but is not a directory "
                            "(a hub id is 'org/name')")
    pythons = [("params.execute.python", config["params"].get("execute", {}).get("python"))]
    pythons += [(f"axes.{a}.{v}: execute.python", o["execute.python"]) for a, vals in config["axes"].items()
                for v, o in vals.items() if o and o.get("execute.python")]
    for where, python in pythons:
        if python and not Path(python).is_file():
            raise UserError(f"{name}: {where}: {python} does not exist (the interpreter that runs programs)")
    for field, rel in needed:
        if rel and not (root / rel).exists():
            raise UserError(f"{name}: {field} needs {root / rel}, which does not exist (check data_root)")


def _looks_local(src) -> bool:
    """A model source that names a path, not a hub id ('org/name') or 'tiny'."""
    s = str(src or "")
    return s.startswith(("/", "./", "../", "~")) or s.count("/") > 1 or Path(s).suffix in (".bin", ".safetensors")
