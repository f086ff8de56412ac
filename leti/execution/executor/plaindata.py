"""Plain data: the only way a value leaves a sandboxed program for an isolated verdict.

The child encodes what the candidate computed into JSON that admits exact built-in types only
(`type(v) is int`, not `isinstance`): an `int` subclass, an object whose `__eq__` always returns True,
a generator or any other object cannot cross. Two kinds of stdlib values that tests compare with
literals cross as what they equal: `collections.Counter`/`OrderedDict`/`defaultdict` as dicts and
namedtuples as tuples (read with `dict.items`/`tuple.__iter__`, never the value's own methods). The trusted side decodes into fresh built-in objects, so
nothing the candidate defined runs during the comparison.

Encoding: None, bool, str, list and finite floats and ints below 2**12000 are JSON as is; every JSON
object is a tag: {"t": tuple}, {"s": set}, {"fs": frozenset}, {"d": [[key, value], ...]},
{"b": bytes as hex}, {"c": [real, imag]}, {"f": "nan" | "inf" | "-inf"}, {"i": big int as hex} and
{"x": why a value could not be encoded}.
"""
from __future__ import annotations

import collections
import json
import math

PROBE = "__leti_probe__"  # the function the rewritten tests call in the child (leti.execution.executor.isolated)
MAX_DEPTH = 100
MAX_NODES = 1_000_000
MAX_ENCODED = 8 * 1024 * 1024  # characters of one encoded value
MAX_HASH_COLLISIONS = 1000  # members of one set/dict sharing a hash with another (crafted ints make sets quadratic)
BIG_INT_BITS = 12_000  # JSON ints beyond this would hit int<->str conversion limits: sent as hex


class Unencodable(Exception):
    """The value is not plain data (its reason is sent instead of the value)."""


class Rejected:
    """Decoded stand-in for a value the child could not encode; comparing it is a failed check."""

    __slots__ = ("why",)

    def __init__(self, why: str):
        self.why = why

    def __repr__(self) -> str:
        return f"<not plain data: {self.why}>"


def encode(value):
    """JSON-ready form of `value`, or raise Unencodable (runs in the sandboxed child)."""
    budget = [MAX_NODES]
    return _enc(value, 0, budget)


def _enc(v, depth: int, budget: list):
    budget[0] -= 1
    if budget[0] < 0:
        raise Unencodable(f"more than {MAX_NODES} items")
    if depth > MAX_DEPTH:
        raise Unencodable(f"nested deeper than {MAX_DEPTH} levels")
    t = type(v)
    if v is None or t is bool or t is str:
        return v
    if t is int:
        return v if v.bit_length() <= BIG_INT_BITS else {"i": hex(v)}
    if t is float:
        return v if math.isfinite(v) else {"f": repr(v)}
    d = depth + 1
    if t is list:
        return [_enc(x, d, budget) for x in v]
    if t is tuple:
        return {"t": [_enc(x, d, budget) for x in v]}
    if t is set:
        return {"s": [_enc(x, d, budget) for x in v]}
    if t is frozenset:
        return {"fs": [_enc(x, d, budget) for x in v]}
    if t is dict:
        return {"d": [[_enc(k, d, budget), _enc(x, d, budget)] for k, x in v.items()]}
    if t is bytes:
        return {"b": v.hex()}
    if t is complex:
        return {"c": [_enc(v.real, d, budget), _enc(v.imag, d, budget)]}
    if t in _DICT_LIKE:  # compares equal to a dict with the same items, as here
        return {"d": [[_enc(k, d, budget), _enc(x, d, budget)] for k, x in _dict_items(v)]}
    if isinstance(v, tuple) and _is_namedtuple(t):  # compares equal to the tuple of its fields, as here
        return {"t": [_enc(x, d, budget) for x in _tuple_iter(v)]}
    raise Unencodable(f"a value of type {_type_name(v)!s} is not plain data (exact built-in types, namedtuples "
                      "and collections' dict types only)")


# the classes themselves, taken before any program runs (a program rebinding `collections.Counter` changes
# nothing here); their contents are read with the C-level dict and tuple methods, never the value's own
_DICT_LIKE = frozenset({collections.Counter, collections.OrderedDict, collections.defaultdict})
_dict_items = dict.items
_tuple_iter = tuple.__iter__


def _is_namedtuple(t) -> bool:
    try:
        return (t.__bases__ == (tuple,) and type(t.__dict__.get("_fields")) is tuple
                and t.__eq__ is tuple.__eq__ and t.__hash__ is tuple.__hash__)
    except BaseException:  # noqa: BLE001 - a hostile metaclass
        return False


def _type_name(v) -> str:
    try:
        t = type(v)
        name = f"{t.__module__}.{t.__qualname__}" if t.__module__ not in ("builtins",) else t.__qualname__
        return repr(name if isinstance(name, str) else "?")[:120]
    except BaseException:  # noqa: BLE001 - a hostile metaclass
        return "'?'"


def encode_or_reject(value):
    """The encoded value, or a {"x": why} tag (never raises except on exhausted memory)."""
    try:
        out = encode(value)
    except Unencodable as exc:
        return {"x": str(exc)}
    except RecursionError:
        return {"x": "nested too deeply"}
    return out


def decode(obj, depth: int = 0):
    """Fresh built-in objects from an encoded value; ValueError if it is not a valid encoding."""
    if depth > MAX_DEPTH + 2:
        raise ValueError("nested too deeply")
    t = type(obj)
    if obj is None or t is bool or t is str or t is int:
        return obj
    if t is float:
        return obj
    d = depth + 1
    if t is list:
        return [decode(x, d) for x in obj]
    if t is not dict or len(obj) != 1:
        raise ValueError(f"not an encoded value: {type(obj).__name__}")
    (tag, body), = obj.items()
    if tag == "x":
        return Rejected(str(body)[:300])
    if tag == "i":
        return int(_text(body), 16)
    if tag == "f":
        if body not in ("nan", "inf", "-inf"):
            raise ValueError(f"bad float tag {body!r}")
        return float(body)
    if tag == "b":
        return bytes.fromhex(_text(body))
    if tag == "c":
        if type(body) is not list or len(body) != 2:
            raise ValueError("bad complex tag")
        re_, im = (decode(x, d) for x in body)
        if type(re_) is not float or type(im) is not float:
            raise ValueError("bad complex parts")
        return complex(re_, im)
    items = body if type(body) is list else None
    if items is None:
        raise ValueError(f"tag {tag!r} needs a list")
    if tag == "t":
        return tuple(decode(x, d) for x in items)
    if tag in ("s", "fs"):
        members = [decode(x, d) for x in items]
        check_hashes(members)
        try:
            return set(members) if tag == "s" else frozenset(members)
        except TypeError as exc:
            raise ValueError(f"unhashable set member: {exc}") from None
    if tag == "d":
        out = {}
        check_hashes([decode(p[0], d) for p in items if type(p) is list and len(p) == 2])
        for pair in items:
            if type(pair) is not list or len(pair) != 2:
                raise ValueError("bad dict item")
            try:
                out[decode(pair[0], d)] = decode(pair[1], d)
            except TypeError as exc:
                raise ValueError(f"unhashable dict key: {exc}") from None
        return out
    raise ValueError(f"unknown tag {tag!r}")


def check_hashes(members) -> None:
    """ValueError if building a set or dict of `members` would be quadratic: equal hashes of distinct
    values are cheap to craft for ints (multiples of 2**61 - 1), and the trusted side must not hang."""
    members = list(members)
    if len(members) <= MAX_HASH_COLLISIONS:
        return
    try:
        hashes = {hash(m) for m in members}
    except TypeError as exc:
        raise ValueError(f"unhashable member: {exc}") from None
    if len(members) - len(hashes) > MAX_HASH_COLLISIONS:
        raise ValueError("too many members with equal hashes")


def _text(body) -> str:
    if type(body) is not str:
        raise ValueError("tag needs a string")
    return body


def loads_event(line: str):
    """(probe index, [decoded values]) from one probe line the child wrote, or None if malformed."""
    try:
        k, values = json.loads(line)
        if type(k) is not int or type(values) is not list:
            return None
        return k, [decode(v) for v in values]
    except (ValueError, TypeError, RecursionError, OverflowError):
        return None
