"""The typed-data codec of the hardened verdict: what crosses as what, and that the judge's decoding of
whatever a program sends is bounded and fails only with a one-line ValueError."""
from __future__ import annotations

import collections
import datetime
import decimal
import fractions
import json
import math

import numpy as np
import pytest

from leti.execution.executor import codec


class Handle:
    def __init__(self, hid, why=None):
        self.hid, self.why = hid, why


def roundtrip(v, handles=None):
    handles = handles if handles is not None else []

    def other(x):
        handles.append(x)
        return {"h": len(handles)}

    wire = json.loads(codec.dumps(codec.Encoder(other, np).encode(v)))
    return codec.Decoder(lambda h, why=None: Handle(h, why), lambda: np).decode(wire)


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2 ** 100, 10 ** 5000, -(10 ** 5000), 1.5, -0.0, 1e308, "", "é\ud800x", [1, [2, "a"]],
    (1, (2,)), {1, 2}, frozenset({"a"}), {"a": 1, (1, 2): [3]}, b"\x00\xff", bytearray(b"ab"), 1 + 2j, [], (), {},
    range(2, 9, 3), fractions.Fraction(3, 7), decimal.Decimal("1.10"), decimal.Decimal("-Infinity"),
    collections.OrderedDict(a=1, b=2), collections.Counter("abca"), collections.deque([1, 2], maxlen=3),
    datetime.date(2020, 1, 2), datetime.datetime(2020, 1, 2, 3, 4, 5, 6), datetime.timedelta(days=-1, seconds=5),
], ids=lambda v: type(v).__name__)
def test_values_cross_with_their_types(value):
    out = roundtrip(value)
    assert out == value and type(out) is type(value)
    if isinstance(value, decimal.Decimal):
        assert str(out) == str(value)


def test_special_floats_and_defaultdict():
    assert math.isnan(roundtrip(float("nan"))) and roundtrip(-math.inf) == -math.inf
    assert math.copysign(1, roundtrip(-0.0)) == -1
    d = collections.defaultdict(list, {"a": [1]})
    out = roundtrip(d)
    assert type(out) is collections.defaultdict and out == d and out.default_factory is list and out["zz"] == []


def test_numpy_values_cross_as_numpy_and_compare_as_numpy():
    for v in (np.int64(3), np.float32(0.5), np.bool_(True), np.str_("ab"), np.uint8(255), np.complex128(1 + 2j)):
        out = roundtrip(v)
        assert type(out) is type(v) and out == v
    arr = np.arange(6, dtype=np.int32).reshape(2, 3)
    out = roundtrip(arr)
    assert out.dtype == arr.dtype and out.shape == (2, 3) and (out == arr).all() and out.flags.writeable
    assert roundtrip(np.array(["a", "bc"])).tolist() == ["a", "bc"]
    assert roundtrip(np.float64(2.0)) == 2 and isinstance(roundtrip(np.float64(2.0)), float)  # a float subclass
    handles: list = []
    roundtrip(np.array([object()], dtype=object), handles)
    assert len(handles) == 1  # object arrays cannot cross as data


def test_namedtuples_and_plain_subclasses_cross():
    P = collections.namedtuple("P", "a b")
    out = roundtrip(P(1, 2))
    assert out == (1, 2) and out.a == 1 and repr(out) == "P(a=1, b=2)"
    MyInt = type("MyInt", (int,), {"double": lambda s: 2 * s})  # adds a method, changes no comparison
    MyList = type("MyList", (list,), {})
    assert type(roundtrip(MyInt(3))) is int and roundtrip(MyInt(3)) == 3
    assert type(roundtrip(MyList([1]))) is list


@pytest.mark.parametrize("make", [
    lambda: type("I", (int,), {"__eq__": lambda s, o: True, "__hash__": int.__hash__})(3),
    lambda: type("S", (str,), {"__eq__": lambda s, o: True, "__hash__": str.__hash__})("x"),
    lambda: type("Any", (), {"__eq__": lambda s, o: True})(),
    lambda: type("T", (tuple,), {"_fields": ("a",), "__eq__": lambda s, o: True, "__hash__": tuple.__hash__})((1,)),
    lambda: (lambda: 1),
])
def test_what_only_the_program_could_compare_crosses_as_a_handle(make):
    handles: list = []
    out = roundtrip(make(), handles)
    assert isinstance(out, Handle) and len(handles) == 1


def test_iterators_are_consumed_on_the_programs_side():
    out = roundtrip(x * 2 for x in range(3))
    assert list(out) == [0, 2, 4]
    assert list(roundtrip(map(str, [1, 2]))) == ["1", "2"]
    import itertools

    out = roundtrip(itertools.count())  # endless: refused, never consumed forever
    assert isinstance(out, Handle) and out.hid is None and "iterator" in out.why


def test_cycles_and_depth_are_refused_by_the_encoder():
    a: list = []
    a.append(a)
    with pytest.raises(codec.CannotCross):
        codec.Encoder(lambda v: None).encode(a)
    deep: list = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(codec.CannotCross, match="nested"):
        codec.Encoder(lambda v: None).encode(deep)


BAD = ['{"s": [[1]]}', '{"q": 1}', '{"t": 1, "s": []}', '{"d": [[[1], 2]]}', '{"c": ["a", 1]}', '{"zz": 1}',
       '{"b": "xyz"}', '{"nd": ["|O8", [1], "00"]}', '{"nd": ["<i8", [2], "00"]}', '{"nd": ["<i8", [-1], ""]}',
       '{"ns": ["<f8", "00"]}', '{"nt": ["1bad", ["a"], [1]]}', '{"nt": ["P", ["a", "a"], [1, 2]]}',
       '{"dec": "1e9999999999"}', '{"dec": "__import__"}', '{"i": "0x' + "f" * 400000 + '"}', '{"r": [0, 1, 0]}',
       '{"dt": ["datetime", "yesterday"]}', '{"dd": ["lambda", []]}', '{"h": -1}', '{"h": "1"}', '{"x": 5}',
       '{"dq": [-1, []]}', "[" * 5000 + "]" * 5000, '{"it": 3}', '{"fs": [[1]]}']


@pytest.mark.parametrize("text", BAD)
def test_malformed_values_are_one_line_errors(text):
    dec = codec.Decoder(lambda h, why=None: Handle(h, why), lambda: np)
    with pytest.raises(ValueError) as err:
        dec.decode(codec.loads(text))
    assert "\n" not in str(err.value)


def test_decoding_is_bounded():
    m = (1 << 61) - 1  # ints sharing a hash: building a set of them would be quadratic
    dec = codec.Decoder(lambda h, why=None: None)
    with pytest.raises(ValueError, match="equal hashes"):
        dec.decode({"s": [i * m for i in range(1, 5001)]})
    assert len(codec.Decoder(lambda h, why=None: None).decode({"s": list(range(5000))})) == 5000
    with pytest.raises(ValueError, match="more than"):
        codec.Decoder(lambda h, why=None: None).decode([0] * (codec.MAX_NODES + 1))
    with pytest.raises(ValueError, match="not valid JSON"):
        codec.loads(b"\n" * 100000)


def test_update_in_place_keeps_identity():
    lst, inner = [3, [2, 1]], None
    inner = lst[1]
    codec.update_in_place(lst, [1, [1, 2]])
    assert lst == [1, [1, 2]] and lst[1] is inner
    d = {"a": [1]}
    codec.update_in_place(d, {"a": [2], "b": 3})
    assert d == {"a": [2], "b": 3}
    arr = np.zeros(3)
    codec.update_in_place(arr, np.ones(3))
    assert arr.tolist() == [1.0, 1.0, 1.0]
