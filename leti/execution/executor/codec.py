"""Typed data: how values cross between the judge (trusted) and a program's process (untrusted).

The hardened verdict runs the benchmark's real test code in the judge; the program's callables are
proxies whose calls send their arguments to the program's process and get the result back through
this codec. Values cross as what they are: numpy arrays and scalars (compared as numpy compares),
`Fraction`, `Decimal`, built-in types and subclasses that do not change how they compare, the
`collections` types, namedtuples, dates. The receiving side builds real objects of those types from
data; nothing the program defined ever runs in the judge. What cannot cross (an object of the
program's own class, a function, a module) crosses as a *handle*: the judge may call it, read or set
its attributes (each one a request to the program's process), or pass it back; comparing, hashing,
iterating or printing it raises `Unverifiable`, because only the program's own code could decide that.

Wire form: JSON. null/true/false, numbers (NaN and +-Infinity allowed) and strings are themselves,
arrays are lists, and every object is a tag with exactly one key:

  t tuple · s set · fs frozenset · d dict [[k, v], ...] · b bytes (hex) · ba bytearray (hex) ·
  c complex [re, im] · i int beyond JSON's digits (hex text) · r range [start, stop, step] ·
  q Fraction [num, den] · dec Decimal (text) · od OrderedDict · dd defaultdict [factory, items] ·
  ctr Counter · dq deque [maxlen, items] · nt namedtuple [typename, fields, items] ·
  nd numpy array [dtype, shape, hex] · ns numpy scalar [dtype, hex] · dt date/time [kind, value] ·
  it an iterator, already consumed [items] · fn a standard-library function or class by name
  [module, qualname] (`int`, `len`, `math.sqrt`) · h handle id · x a value the sender could not encode (why)

`decode` is what the judge applies to everything a program sends: it accepts nothing else, and it is
bounded in depth, items, sizes, big-int digits and hash collisions, so no message can make it hang or
allocate without bound. The encoder is ordinary code: on the program's side it only has to be right
for honest values (a program can send whatever bytes it likes; only `decode` decides what they mean).
"""
from __future__ import annotations

import collections
import json
import math
import re
import sys

MAX_DEPTH = 100                 # container nesting
MAX_NODES = 1_000_000           # values in one message
MAX_INT_BITS = 1 << 20          # a decoded int (about 315,000 decimal digits)
MAX_BYTES = 32 * 1024 * 1024    # bytes of one decoded bytes/array/str payload
MAX_ITER = 100_000              # items of an iterator the program's side consumes before giving up
MAX_HASH_COLLISIONS = 1000      # members of a set/dict sharing a hash with another one (crafted ints)
MAX_NAMEDTUPLE_TYPES = 1000     # distinct namedtuple classes the judge builds
JSON_INT_DIGITS = 4000          # ints with more digits than this cross as hex (JSON ints stay below Python's limit)
_JSON_INT_MAX = 10 ** JSON_INT_DIGITS
ITERATOR_NAMES = frozenset({"generator", "map", "filter", "zip", "enumerate", "reversed", "list_iterator",
                            "tuple_iterator", "range_iterator", "str_iterator", "dict_keyiterator",
                            "dict_valueiterator", "dict_itemiterator", "set_iterator", "list_reverseiterator",
                            "callable_iterator", "chain", "islice", "count", "cycle", "repeat", "accumulate",
                            "compress", "dropwhile", "takewhile", "filterfalse", "groupby", "permutations",
                            "combinations", "combinations_with_replacement", "product", "starmap", "zip_longest",
                            "pairwise", "batched", "_tee", "bytes_iterator", "bytearray_iterator"})
_DTYPE = re.compile(r"^[<>|=]?[biufcUS][0-9]{1,4}$")
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
_FACTORIES = {"list": list, "int": int, "set": set, "dict": dict, "str": str, "float": float, "tuple": tuple,
              "bool": bool, "frozenset": frozenset, "bytes": bytes, "complex": complex}
_FACTORY_NAMES = {v: k for k, v in _FACTORIES.items()}
# a subclass of a built-in type crosses as its base value only if it changes none of these
_BEHAVIOUR = frozenset("__eq__ __ne__ __lt__ __le__ __gt__ __ge__ __hash__ __bool__ __len__ __contains__ __iter__ "
                       "__getitem__ __str__ __repr__ __format__ __add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ "
                       "__truediv__ __rtruediv__ __floordiv__ __rfloordiv__ __mod__ __rmod__ __pow__ __rpow__ "
                       "__neg__ __pos__ __abs__ __round__ __int__ __float__ __index__ __and__ __or__ __xor__ "
                       "__invert__ __lshift__ __rshift__ __divmod__ keys values items get count index".split())


class CannotCross(Exception):
    """A value the sender cannot encode (its reason is in the message)."""


class Unverifiable(BaseException):
    """The test needs something only the program's own code could decide (comparing one of its objects).

    A BaseException, so that a test's `except Exception:` cannot swallow it; the judge also remembers
    that it was raised, so that swallowing it with a bare `except:` cannot turn it into a pass."""


# ------------------------------------------------------------------------------------------ encoding
def _is_namedtuple(t) -> bool:
    try:
        return (t.__bases__ == (tuple,) and type(t.__dict__.get("_fields")) is tuple
                and t.__eq__ is tuple.__eq__ and t.__hash__ is tuple.__hash__ and t.__repr__ is not tuple.__repr__)
    except BaseException:  # noqa: BLE001 - a hostile metaclass
        return False


def _plain_subclass(t, base) -> bool:
    """Does subclass `t` of built-in `base` behave as `base` (none of the behaviour methods changed)?"""
    try:
        for klass in t.__mro__:
            if klass is base:
                return True
            if _BEHAVIOUR.intersection(klass.__dict__):
                return False
    except BaseException:  # noqa: BLE001
        return False
    return False


class Encoder:
    """JSON-ready form of values. `other(value)` encodes what the codec does not know (the judge raises
    CannotCross, the program's side registers a handle)."""

    def __init__(self, other, numpy=None):
        self.other = other
        self.numpy = numpy  # the numpy module where one is loaded (looked up by the caller)
        self.nodes = 0

    def encode(self, v, depth: int = 0):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise CannotCross(f"more than {MAX_NODES} values")
        if depth > MAX_DEPTH:
            raise CannotCross(f"nested deeper than {MAX_DEPTH} levels")
        t = type(v)
        if v is None or t is bool:
            return v
        if t is str:
            if len(v) > MAX_BYTES:
                raise CannotCross(f"a string of more than {MAX_BYTES} characters")
            return v
        if t is int:
            return v if -_JSON_INT_MAX < v < _JSON_INT_MAX else {"i": hex(v)}
        if t is float:
            return v
        d = depth + 1
        enc = self.encode
        if t is list:
            return [enc(x, d) for x in v]
        if t is tuple:
            return {"t": [enc(x, d) for x in v]}
        if t is dict:
            return {"d": [[enc(k, d), enc(x, d)] for k, x in v.items()]}
        if t is set:
            return {"s": [enc(x, d) for x in v]}
        if t is frozenset:
            return {"fs": [enc(x, d) for x in v]}
        if t is bytes or t is bytearray:
            if len(v) > MAX_BYTES:
                raise CannotCross(f"more than {MAX_BYTES} bytes")
            return {"b" if t is bytes else "ba": v.hex()}
        if t is complex:
            return {"c": [v.real, v.imag]}
        if t is range:
            return {"r": [v.start, v.stop, v.step]}
        mod = t.__module__
        if mod in _LAZY and t is getattr(sys.modules.get(mod), t.__name__, None):
            if t.__name__ == "Fraction":
                return {"q": [enc(v.numerator, d), enc(v.denominator, d)]}
            if t.__name__ == "Decimal":
                return {"dec": str(v)}
            if t.__name__ in _DATE_KINDS:
                return {"dt": [t.__name__, [v.days, v.seconds, v.microseconds] if t.__name__ == "timedelta"
                               else v.isoformat()]}
        if t is collections.OrderedDict:
            return {"od": [[enc(k, d), enc(x, d)] for k, x in dict.items(v)]}
        if t is collections.Counter:
            return {"ctr": [[enc(k, d), enc(x, d)] for k, x in dict.items(v)]}
        if t is collections.defaultdict:
            fac = v.default_factory
            name = _FACTORY_NAMES.get(fac) if fac is not None else None
            fac_enc = name if (fac is None or name is not None) else self.other(fac)
            return {"dd": [fac_enc, [[enc(k, d), enc(x, d)] for k, x in dict.items(v)]]}
        if t is collections.deque:
            return {"dq": [v.maxlen, [enc(x, d) for x in v]]}
        np = self.numpy
        if np is not None:
            if t is np.ndarray:
                if v.nbytes > MAX_BYTES:
                    raise CannotCross(f"an array of more than {MAX_BYTES} bytes")
                if v.dtype.kind in "biufcSU" and v.dtype.fields is None and _DTYPE.match(v.dtype.str):
                    return {"nd": [v.dtype.str, list(v.shape), v.tobytes().hex()]}
                return self.other(v)
            if isinstance(v, np.generic) and t.__module__ == "numpy":
                if v.dtype.kind in "biufcSU" and _DTYPE.match(v.dtype.str):
                    return {"ns": [v.dtype.str, v.tobytes().hex()]}
                return self.other(v)
        ref = _named_ref(v)
        if ref is not None:
            return {"fn": ref}
        if isinstance(v, tuple) and _is_namedtuple(t):
            return {"nt": [t.__name__, list(t._fields), [enc(x, d) for x in tuple.__iter__(v)]]}
        for base, tag in _BASES:
            if isinstance(v, base) and _plain_subclass(t, base):
                return self.encode(_as_base(v, base), depth)
        if t.__name__ in ITERATOR_NAMES and t.__module__ in ("builtins", "itertools"):
            items = []
            for x in v:
                if len(items) >= MAX_ITER:
                    return {"x": f"an iterator of more than {MAX_ITER} items"}
                items.append(x)
            return {"it": [enc(x, d) for x in items]}
        return self.other(v)


# modules imported only where a value needs them (the worker that forks programs stays small)
_LAZY = frozenset({"fractions", "decimal", "datetime"})
_DATE_KINDS = frozenset({"datetime", "date", "time", "timedelta"})


_BASES = ((bool, None), (int, None), (float, None), (str, None), (bytes, None), (complex, None), (list, None),
          (tuple, None), (dict, None), (set, None), (frozenset, None), (bytearray, None))


# modules whose functions and classes cross by name (looked up, never imported on a program's say-so
# beyond these), and names that never cross
_STD = frozenset({"builtins", "math", "cmath", "operator", "itertools", "functools", "collections", "string", "re",
                  "heapq", "bisect", "statistics", "fractions", "decimal", "datetime", "copy", "numbers", "array",
                  "_operator", "_functools", "_collections", "_heapq", "_bisect", "_decimal", "_datetime",
                  "_pydecimal", "_pydatetime", "_strptime", "enum", "typing", "dataclasses", "numpy"})
_DENIED = frozenset({"eval", "exec", "compile", "open", "__import__", "breakpoint", "input", "exit", "quit", "help",
                     "globals", "locals", "vars", "getattr", "setattr", "delattr", "memoryview", "print", "object",
                     "type", "super", "classmethod", "staticmethod", "property"})


def _named_ref(v):
    """[module, qualname] of a standard-library function or class (`int`, `len`, `math.sqrt`,
    `operator.itemgetter`, `str.upper`) that the receiving side can look up by name, else None."""
    try:
        if not (isinstance(v, type) or type(v).__name__ in ("builtin_function_or_method", "function",
                                                             "method_descriptor", "wrapper_descriptor")):
            return None
        mod, qual = getattr(v, "__module__", None), getattr(v, "__qualname__", None)
        if type(v).__name__ == "method_descriptor" and mod is None:
            mod = "builtins"
        if type(mod) is not str or type(qual) is not str or mod.split(".")[0] not in _STD or "<" in qual:
            return None
        return [mod, qual] if _lookup(mod, qual) is v else None
    except Exception:  # noqa: BLE001 - a hostile object on the program's side: not a named reference
        return None


def _lookup(mod: str, qual: str):
    if mod.split(".")[0] not in _STD or len(qual) > 200 or len(mod) > 100:
        raise ValueError("not a standard-library name")
    parts = qual.split(".")
    if parts[0] in _DENIED or any(not p.isidentifier() or p.startswith("_") for p in parts):
        raise ValueError("not a public name")
    obj = sys.modules.get(mod)
    if obj is None:
        import importlib

        obj = importlib.import_module(mod)
    for part in parts:
        obj = getattr(obj, part)
    return obj


def _as_base(v, base):
    """The built-in value of a subclass instance, read with the base type's own methods."""
    if base is int:
        return int.__index__(v)
    if base is float:
        return float.__float__(v)
    if base is str:
        return str.__str__(v)
    if base is bytes:
        return bytes(memoryview(v))
    if base is complex:
        return complex(float.__float__(v.real), float.__float__(v.imag))
    if base is list:
        return list(list.__iter__(v))
    if base is tuple:
        return tuple(tuple.__iter__(v))
    if base is dict:
        return dict(dict.items(v))
    if base is set:
        return set(set.__iter__(v))
    if base is frozenset:
        return frozenset(frozenset.__iter__(v))
    if base is bytearray:
        return bytearray(memoryview(v))
    return v


_ENCODE = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode
_DECODE = json.JSONDecoder().decode


def dumps(obj) -> str:
    return _ENCODE(obj)


# ------------------------------------------------------------------------------------------ decoding
class Decoder:
    """Real objects from a wire value. Raises ValueError (with a one-line reason) on anything that is
    not a valid encoding. `handle(id)` builds the object a handle stands for; `numpy()` imports numpy."""

    def __init__(self, handle, numpy_loader=None):
        self.handle = handle
        self.numpy_loader = numpy_loader
        self.nodes = 0
        self.nt_cache: dict = {}

    def decode(self, obj, depth: int = 0):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ValueError(f"more than {MAX_NODES} values")
        if depth > MAX_DEPTH:
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        t = type(obj)
        if obj is None or t is bool or t is str or t is float:
            return obj
        if t is int:
            if obj.bit_length() > MAX_INT_BITS:
                raise ValueError("an int too large")
            return obj
        d = depth + 1
        if t is list:
            return [self.decode(x, d) for x in obj]
        if t is not dict or len(obj) != 1:
            raise ValueError(f"not an encoded value ({t.__name__})")
        (tag, body), = obj.items()
        fn = _TAGS.get(tag)
        if fn is None:
            raise ValueError(f"unknown tag {str(tag)[:20]!r}")
        return fn(self, body, d)

    def items(self, body, d) -> list:
        if type(body) is not list:
            raise ValueError("a tag needs a list")
        return [self.decode(x, d) for x in body]

    def pairs(self, body, d) -> list:
        if type(body) is not list:
            raise ValueError("a mapping needs a list of pairs")
        out = []
        for p in body:
            if type(p) is not list or len(p) != 2:
                raise ValueError("a mapping item is not a pair")
            out.append((self.decode(p[0], d), self.decode(p[1], d)))
        check_hashes([k for k, _ in out])
        return out

    def numpy(self):
        if self.numpy_loader is None:
            raise ValueError("numpy values cannot be read here")
        np = self.numpy_loader()
        if np is None:
            raise ValueError("numpy is not installed")
        return np


def _text(body, what: str, limit: int = MAX_BYTES) -> str:
    if type(body) is not str or len(body) > limit:
        raise ValueError(f"{what}: expected a string of at most {limit} characters")
    return body


def _hexbytes(body, what: str) -> bytes:
    try:
        return bytes.fromhex(_text(body, what, 2 * MAX_BYTES))
    except ValueError:
        raise ValueError(f"{what}: not hex") from None


def _small_int(x, what: str) -> int:
    if type(x) is not int or abs(x) > (1 << 63):
        raise ValueError(f"{what}: expected an int")
    return x


def _dec_int(dec, body, d):
    s = _text(body, "int", MAX_INT_BITS // 4 + 4)
    try:
        v = int(s, 16)
    except ValueError:
        raise ValueError("int: not hex") from None
    if v.bit_length() > MAX_INT_BITS:
        raise ValueError("an int too large")
    return v


def _dec_set(kind):
    def f(dec, body, d):
        members = dec.items(body, d)
        check_hashes(members)
        try:
            return kind(members)
        except TypeError as exc:
            raise ValueError(f"unhashable member ({exc})") from None
    return f


def _dec_dict(kind):
    def f(dec, body, d):
        try:
            pairs = dec.pairs(body, d)
            return kind(dict(pairs)) if kind is collections.Counter else kind(pairs)
        except TypeError as exc:
            raise ValueError(f"unhashable key ({exc})") from None
    return f


def _dec_complex(dec, body, d):
    if type(body) is not list or len(body) != 2 or any(type(x) not in (float, int) for x in body):
        raise ValueError("complex: expected [real, imag]")
    return complex(float(body[0]), float(body[1]))


def _dec_range(dec, body, d):
    if type(body) is not list or len(body) != 3:
        raise ValueError("range: expected [start, stop, step]")
    a, b, c = (_small_int(x, "range") for x in body)
    if c == 0:
        raise ValueError("range: step 0")
    return range(a, b, c)


def _dec_fraction(dec, body, d):
    if type(body) is not list or len(body) != 2:
        raise ValueError("Fraction: expected [numerator, denominator]")
    n, m = (dec.decode(x, d) for x in body)
    if type(n) is not int or type(m) is not int or m <= 0:
        raise ValueError("Fraction: bad parts")
    import fractions

    return fractions.Fraction(n, m)


_DECIMAL = re.compile(r"^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,6})?|Infinity|inf|NaN\d*|sNaN\d*)$", re.I)


def _dec_decimal(dec, body, d):
    s = _text(body, "Decimal", 100_000)
    if not _DECIMAL.match(s):
        raise ValueError("Decimal: not a number")
    import decimal

    return decimal.Decimal(s)


def _dec_defaultdict(dec, body, d):
    if type(body) is not list or len(body) != 2:
        raise ValueError("defaultdict: expected [factory, items]")
    fac, items = body
    if fac is None:
        factory = None
    elif type(fac) is str and fac in _FACTORIES:
        factory = _FACTORIES[fac]
    else:
        factory = dec.decode(fac, d)  # a handle: calling it asks the program
        if not callable(factory):
            raise ValueError("defaultdict: bad factory")
    out = collections.defaultdict(factory)
    try:
        out.update(dec.pairs(items, d))
    except TypeError as exc:
        raise ValueError(f"unhashable key ({exc})") from None
    return out


def _dec_deque(dec, body, d):
    if type(body) is not list or len(body) != 2:
        raise ValueError("deque: expected [maxlen, items]")
    maxlen = body[0]
    if maxlen is not None:
        maxlen = _small_int(maxlen, "deque maxlen")
        if maxlen < 0:
            raise ValueError("deque: negative maxlen")
    return collections.deque(dec.items(body[1], d), maxlen)


def _dec_namedtuple(dec, body, d):
    if type(body) is not list or len(body) != 3:
        raise ValueError("namedtuple: expected [typename, fields, items]")
    name, fields, items = body
    if (type(name) is not str or not _IDENT.match(name) or type(fields) is not list or len(fields) > 255
            or any(type(f) is not str or not _IDENT.match(f) for f in fields)):
        raise ValueError("namedtuple: bad type name or fields")
    values = dec.items(items, d)
    if len(values) != len(fields):
        raise ValueError("namedtuple: wrong number of items")
    key = (name, tuple(fields))
    cls = dec.nt_cache.get(key) or _NT_CACHE.get(key)
    if cls is None:
        try:
            cls = collections.namedtuple(name, fields)
        except ValueError as exc:
            raise ValueError(f"namedtuple: {exc}") from None
        if len(_NT_CACHE) < MAX_NAMEDTUPLE_TYPES:
            _NT_CACHE[key] = cls
        dec.nt_cache[key] = cls
    return cls(*values)


_NT_CACHE: dict = {}


def _np_dtype(np, s):
    if type(s) is not str or not _DTYPE.match(s):
        raise ValueError("numpy: unsupported dtype")
    dt = np.dtype(s)
    if dt.kind not in "biufcSU" or dt.fields is not None or dt.hasobject:
        raise ValueError("numpy: unsupported dtype")
    return dt


def _dec_ndarray(dec, body, d):
    if type(body) is not list or len(body) != 3:
        raise ValueError("ndarray: expected [dtype, shape, data]")
    np = dec.numpy()
    dt = _np_dtype(np, body[0])
    shape = body[1]
    if type(shape) is not list or len(shape) > 32 or any(type(n) is not int or not 0 <= n <= MAX_BYTES for n in shape):
        raise ValueError("ndarray: bad shape")
    data = _hexbytes(body[2], "ndarray")
    count = math.prod(shape)
    if count * dt.itemsize != len(data):
        raise ValueError("ndarray: the data does not match the shape")
    return np.frombuffer(data, dtype=dt).reshape(shape).copy()


def _dec_npscalar(dec, body, d):
    if type(body) is not list or len(body) != 2:
        raise ValueError("numpy scalar: expected [dtype, data]")
    np = dec.numpy()
    dt = _np_dtype(np, body[0])
    data = _hexbytes(body[1], "numpy scalar")
    if len(data) != dt.itemsize:
        raise ValueError("numpy scalar: wrong size")
    return np.frombuffer(data, dtype=dt)[0]


def _dec_date(dec, body, d):
    if type(body) is not list or len(body) != 2 or body[0] not in ("datetime", "date", "time", "timedelta"):
        raise ValueError("date: expected [kind, value]")
    kind, value = body
    import datetime

    try:
        if kind == "timedelta":
            if type(value) is not list or len(value) != 3:
                raise ValueError("timedelta")
            days, secs, us = (_small_int(x, "timedelta") for x in value)
            return datetime.timedelta(days=days, seconds=secs, microseconds=us)
        s = _text(value, "date", 64)
        return {"datetime": datetime.datetime, "date": datetime.date, "time": datetime.time}[kind].fromisoformat(s)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"date: {exc}") from None


def _dec_iterator(dec, body, d):
    return iter(dec.items(body, d))


def _dec_named(dec, body, d):
    if type(body) is not list or len(body) != 2 or not all(type(x) is str for x in body):
        raise ValueError("fn: expected [module, name]")
    try:
        return _lookup(body[0], body[1])
    except (ImportError, AttributeError, ValueError) as exc:
        raise ValueError(f"fn: {type(exc).__name__}") from None


def _dec_handle(dec, body, d):
    if type(body) is not int or not 0 <= body < (1 << 31):
        raise ValueError("handle: bad id")
    return dec.handle(body)


def _dec_refused(dec, body, d):
    return dec.handle(None, _text(body, "reason", 2000)[:300])


_TAGS = {
    "t": lambda dec, b, d: tuple(dec.items(b, d)),
    "s": _dec_set(set), "fs": _dec_set(frozenset),
    "d": _dec_dict(dict), "od": _dec_dict(collections.OrderedDict), "ctr": _dec_dict(collections.Counter),
    "dd": _dec_defaultdict, "dq": _dec_deque, "nt": _dec_namedtuple,
    "b": lambda dec, b, d: _hexbytes(b, "bytes"), "ba": lambda dec, b, d: bytearray(_hexbytes(b, "bytearray")),
    "c": _dec_complex, "i": _dec_int, "r": _dec_range, "q": _dec_fraction, "dec": _dec_decimal,
    "nd": _dec_ndarray, "ns": _dec_npscalar, "dt": _dec_date, "it": _dec_iterator,
    "fn": _dec_named, "h": _dec_handle, "x": _dec_refused,
}


def check_hashes(members) -> None:
    """ValueError if building a set or dict of `members` would be quadratic: equal hashes of distinct
    values are cheap to craft for ints (multiples of 2**61 - 1), and the judge must not hang."""
    if len(members) <= MAX_HASH_COLLISIONS:
        return
    try:
        hashes = {hash(m) for m in members}
    except TypeError as exc:
        raise ValueError(f"unhashable member ({exc})") from None
    if len(members) - len(hashes) > MAX_HASH_COLLISIONS:
        raise ValueError("too many members with equal hashes")


def loads(text) -> object:
    """JSON text -> wire value; ValueError (never anything else) on bad input."""
    try:
        return _DECODE(text if isinstance(text, str) else text.decode("utf-8"))
    except (ValueError, RecursionError, MemoryError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not valid JSON ({type(exc).__name__})") from None


# ------------------------------------------------------------------------------ in-place write-back
def update_in_place(orig, new) -> None:
    """Make the judge's argument `orig` look like the program's post-call state `new` (a function that
    sorts its argument in place), keeping `orig`'s identity where it is a mutable container."""
    t = type(orig)
    if t is list and type(new) is list:
        if len(orig) == len(new):
            for i, (a, b) in enumerate(zip(orig, new)):
                if _same_mutable(a, b):
                    update_in_place(a, b)
                else:
                    orig[i] = b
        else:
            orig[:] = new
    elif t in (dict, collections.OrderedDict, collections.Counter, collections.defaultdict) and isinstance(new, dict):
        if orig.keys() == new.keys():
            for k in new:
                if _same_mutable(orig[k], new[k]):
                    update_in_place(orig[k], new[k])
                else:
                    orig[k] = new[k]
        else:
            orig.clear()
            orig.update(new)
    elif t is set and type(new) is set:
        orig.clear()
        orig.update(new)
    elif t is bytearray and type(new) is bytearray:
        orig[:] = new
    elif t is collections.deque and type(new) is collections.deque:
        orig.clear()
        orig.extend(new)
    elif t is tuple and type(new) is tuple and len(orig) == len(new):
        for a, b in zip(orig, new):
            if _same_mutable(a, b):
                update_in_place(a, b)
    elif type(orig).__name__ == "ndarray" and type(new) is type(orig):
        if orig.shape == new.shape and orig.dtype == new.dtype and orig.flags.writeable:
            orig[...] = new


def _same_mutable(a, b) -> bool:
    return type(a) is type(b) and type(a) in (list, dict, set, bytearray, tuple, collections.deque,
                                               collections.OrderedDict, collections.Counter, collections.defaultdict)
