"""Config dataclasses that validate themselves: each field's name, type, range and default in one place.

A stage declares its parameters as a `Config` subclass (e.g. `leti.fcft.config.TrainConfig`);
`from_dict` rejects unknown keys, `__post_init__` checks types and ranges, and `json_schema`
renders the same facts as the JSON schema the workflow validates `params.*` with. Errors are one
line naming the field: `params.train.lr: expected a number, got 'fast'`.
"""
from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from typing import Any, Literal

from leti.core.errors import UserError

_NONE = type(None)


def param(default: Any = dataclasses.MISSING, *, minimum: float | None = None, exclusive_minimum: float | None = None,
          maximum: float | None = None, help: str = "", default_factory: Any = dataclasses.MISSING):
    """A dataclass field with a range and a description (read by validation and by `json_schema`)."""
    meta = {"minimum": minimum, "exclusive_minimum": exclusive_minimum, "maximum": maximum, "help": help}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_config(tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, Config)


def _args_without_none(tp) -> tuple[list, bool]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = list(typing.get_args(tp))
        return [a for a in args if a is not _NONE], _NONE in args
    return [tp], False


def _describe(tp) -> str:
    if typing.get_origin(tp) is Literal:
        return "one of " + ", ".join(json.dumps(a) for a in typing.get_args(tp))
    names = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _check(value, tp, where: str, meta: dict):
    """The value as the field keeps it, or UserError naming `where`."""
    if tp is Any:
        return value
    options, nullable = _args_without_none(tp)
    if value is None:
        if nullable:
            return None
        raise UserError(f"{where}: must not be null (expected {_describe(options[0])})")
    tp = options[0]
    origin = typing.get_origin(tp)
    if _is_config(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise UserError(f"{where}: expected a mapping, got {value!r}")
        return tp.from_dict(value, where=where)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if isinstance(value, bool) or value not in allowed:
            raise UserError(f"{where}: expected {_describe(tp)}, got {value!r}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise UserError(f"{where}: expected a list, got {value!r}")
        item_types = typing.get_args(tp)
        if origin is tuple and item_types and item_types[-1] is not Ellipsis:
            if len(value) != len(item_types):
                raise UserError(f"{where}: expected {len(item_types)} items, got {len(value)}")
            return tuple(_check(v, t, f"{where}[{i}]", {}) for i, (v, t) in enumerate(zip(value, item_types)))
        item = item_types[0] if item_types else Any
        checked = [_check(v, item, f"{where}[{i}]", {}) for i, v in enumerate(value)]
        if meta.get("minimum") is not None and len(checked) < meta["minimum"]:
            raise UserError(f"{where}: needs at least {int(meta['minimum'])} item(s)")
        return tuple(checked) if origin is tuple else checked
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise UserError(f"{where}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(f"{where}: expected an integer, got {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UserError(f"{where}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise UserError(f"{where}: expected a finite number, got {value!r}")
    elif tp is str:
        if not isinstance(value, str):
            raise UserError(f"{where}: expected a string, got {value!r}")
        return value
    lo, xlo, hi = meta.get("minimum"), meta.get("exclusive_minimum"), meta.get("maximum")
    if lo is not None and value < lo:
        raise UserError(f"{where}: must be >= {lo}, got {value!r}")
    if xlo is not None and value <= xlo:
        raise UserError(f"{where}: must be > {xlo}, got {value!r}")
    if hi is not None and value > hi:
        raise UserError(f"{where}: must be <= {hi}, got {value!r}")
    return value


class Config:
    """Base of the stage configs (dataclasses). `SECTION` names them in error messages."""

    SECTION: typing.ClassVar[str] = "config"

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in dataclasses.fields(self):
            where = f"{self.SECTION}.{f.name}"
            object.__setattr__(self, f.name, _check(getattr(self, f.name), hints[f.name], where, dict(f.metadata)))
        self.validate()

    def validate(self) -> None:
        """Checks across fields (subclasses); raise UserError naming the fields."""

    @classmethod
    def from_dict(cls, data: dict | None, where: str | None = None):
        """Build from a mapping; unknown keys are an error naming `where` (default: SECTION)."""
        where = where or cls.SECTION
        if data is not None and not isinstance(data, dict):
            raise UserError(f"{where}: expected a mapping, got {data!r}")
        data = dict(data or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"{where}: unknown key(s) {unknown} (known: {sorted(known)})")
        hints = _hints(cls)
        for name, value in list(data.items()):
            options, _ = _args_without_none(hints[name])
            if _is_config(options[0]) and isinstance(value, dict):
                data[name] = options[0].from_dict(value, where=f"{where}.{name}")
        try:
            return cls(**data)
        except UserError as exc:
            msg = str(exc)
            if where != cls.SECTION and msg.startswith(cls.SECTION):
                msg = where + msg[len(cls.SECTION):]
            raise UserError(msg) from None

    def to_dict(self) -> dict:
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.to_dict() if isinstance(v, Config) else (list(v) if isinstance(v, tuple) else v)
        return out


def _schema_of_type(tp, meta: dict) -> dict:
    options, nullable = _args_without_none(tp)
    tp = options[0]
    origin = typing.get_origin(tp)
    if tp is Any:
        s = {}
    elif _is_config(tp):
        s = json_schema(tp)
    elif origin is Literal:
        s = {"enum": list(typing.get_args(tp))}
    elif origin in (list, tuple):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        s = {"type": "array"}
        if args:
            s["items"] = _schema_of_type(args[0], {})
        if origin is tuple and len(args) > 1 and Ellipsis not in typing.get_args(tp):
            s.update(minItems=len(args), maxItems=len(args))
        elif meta.get("minimum") is not None:
            s["minItems"] = int(meta["minimum"])
        meta = {}
    else:
        s = {"type": {int: "integer", float: "number", bool: "boolean", str: "string"}.get(tp, "object")}
    for key, name in (("minimum", "minimum"), ("exclusive_minimum", "exclusiveMinimum"), ("maximum", "maximum")):
        if meta.get(key) is not None:
            s[name] = meta[key]
    if nullable:
        if "enum" in s:
            s["enum"] = [None] + [e for e in s["enum"] if e is not None]
        elif isinstance(s.get("type"), str):
            s["type"] = [s["type"], "null"]
        else:
            s = {"oneOf": [{"type": "null"}, s]}
    return s


def json_schema(cls) -> dict:
    """JSON schema of a Config dataclass: types, enums, ranges, defaults and descriptions."""
    hints = _hints(cls)
    props = {}
    for f in dataclasses.fields(cls):
        s = _schema_of_type(hints[f.name], dict(f.metadata))
        if not _is_config(_args_without_none(hints[f.name])[0][0]):
            d = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
            if d is not dataclasses.MISSING:
                s["default"] = list(d) if isinstance(d, tuple) else d
        if f.metadata.get("help"):
            s["description"] = f.metadata["help"]
        props[f.name] = s
    required = [f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    out = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        out["required"] = required
    return out


def parse_json_object(text: str, where: str) -> dict:
    """A command's JSON option as a mapping, or a one-line UserError."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise UserError(f"{where}: expected a JSON object")
    return value
