"""Templates of the synthetic task family (the embedded default's miniature of the paper).

A code template is a one-line Python function with one integer constant `k` (the template's
*parameter*).  Each template has two MBPP-style paraphrases of its text, three possible argument
names (by argument type), nine parameter values, a generator of concrete inputs, and one or more
"wrong operation" variants used to make realistic buggy solutions for the pre-training corpus.

`expr` and `op_bugs` are format strings with `{a}` (the argument name) and `{k}` (the constant).
Every paraphrase starts with "Write a function to " or "Write a function that ", so that a
HumanEval-style docstring can be derived from it (see `docstring_text`).

No reference of the MBPP-format family contains "/": the original's MBPP post-processing
(`leti.execution.postprocess`, mode "leti") cuts a generation at its first "/", which would break a
correct `//` solution.

The word-problem templates at the bottom are the GSM8K-PaL analogue (retention check).
"""
from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from typing import Any, Callable

ARGNAMES: dict[str, tuple[str, str, str]] = {
    "list": ("lst", "nums", "arr"),
    "str": ("s", "text", "word"),
    "int": ("n", "num", "val"),
}

PARAPHRASE_PREFIXES = ("Write a function to ", "Write a function that ")

InputGen = Callable[[random.Random, int], Any]


@dataclass(frozen=True)
class CodeTemplate:
    name: str            # template id, e.g. "add_each"
    fname: str           # function (entry point) name
    argtype: str         # "list" | "str" | "int"
    paraphrases: tuple[str, str]
    expr: str            # e.g. "[x + {k} for x in {a}]"
    op_bugs: tuple[str, ...]
    params: tuple[int, ...]
    gen: InputGen = field(repr=False, compare=False)

    def code(self, argname: str, k: Any, expr: str | None = None) -> str:
        body = (expr or self.expr).format(a=argname, k=k)
        return f"def {self.fname}({argname}):\n    return {body}"

    def reference(self, k: int, expr: str | None = None) -> Callable[[Any], Any]:
        """The reference (or, with `expr`, a wrong-operation variant) as a callable (our own template code)."""
        ns: dict[str, Any] = {}
        exec(compile(self.code("arg", k, expr), f"<template {self.name}>", "exec"), ns)  # trusted template text
        return ns[self.fname]


# ---------------------------------------------------------------- input generators
def _list(lo: int = 0, hi: int = 9, min_len: int = 2, max_len: int = 4) -> InputGen:
    def gen(rng: random.Random, k: int) -> list[int]:
        return [rng.randint(lo, hi) for _ in range(rng.randint(min_len, max_len))]
    return gen


def _int(lo: int = 0, hi: int = 20) -> InputGen:
    def gen(rng: random.Random, k: int) -> int:
        return rng.randint(lo, hi)
    return gen


def _multiple_or_not(rng: random.Random, k: int) -> int:
    return k * rng.randint(1, 4) if rng.random() < 0.5 else k * rng.randint(0, 3) + rng.randint(1, k - 1)


def _str(min_extra: int = 0, max_extra: int = 2, base: int | None = None) -> InputGen:
    """Lowercase word; length k+1+extra (or base..base+extra when `base` is given)."""
    def gen(rng: random.Random, k: int) -> str:
        lo = base if base is not None else k + 1
        n = rng.randint(lo + min_extra, lo + max_extra)
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))
    return gen


R1_9 = tuple(range(1, 10))
R2_10 = tuple(range(2, 11))
R0_8 = tuple(range(0, 9))


def _t(name, fname, argtype, p1, p2, expr, op_bugs, params, gen) -> CodeTemplate:
    return CodeTemplate(name, fname, argtype, (p1, p2), expr, tuple(op_bugs), tuple(params), gen)


# ---------------------------------------------------------------- the MBPP-style family (30)
FAMILY: tuple[CodeTemplate, ...] = (
    # list -> list
    _t("add_each", "add_to_each", "list",
       "Write a function to add {k} to each element of a list.",
       "Write a function that adds {k} to every number in a list.",
       "[x + {k} for x in {a}]", ["[x - {k} for x in {a}]"], R1_9, _list()),
    _t("mul_each", "multiply_each", "list",
       "Write a function to multiply each element of a list by {k}.",
       "Write a function that multiplies every number in a list by {k}.",
       "[x * {k} for x in {a}]", ["[x + {k} for x in {a}]"], R2_10, _list()),
    _t("sub_each", "subtract_from_each", "list",
       "Write a function to subtract {k} from each element of a list.",
       "Write a function that subtracts {k} from every number in a list.",
       "[x - {k} for x in {a}]", ["[x + {k} for x in {a}]"], R1_9, _list()),
    _t("mod_each", "mod_each", "list",
       "Write a function to find the remainder of each element of a list divided by {k}.",
       "Write a function that returns every number in a list modulo {k}.",
       "[x % {k} for x in {a}]", ["[x // {k} for x in {a}]"], R2_10, _list(0, 20)),
    _t("keep_greater", "keep_greater", "list",
       "Write a function to keep the elements of a list that are greater than {k}.",
       "Write a function that removes every number not greater than {k} from a list.",
       "[x for x in {a} if x > {k}]", ["[x for x in {a} if x < {k}]"], R1_9, _list(0, 12, 3, 4)),
    _t("keep_smaller", "keep_smaller", "list",
       "Write a function to keep the elements of a list that are smaller than {k}.",
       "Write a function that removes every number not smaller than {k} from a list.",
       "[x for x in {a} if x < {k}]", ["[x for x in {a} if x > {k}]"], R1_9, _list(0, 12, 3, 4)),
    _t("cap_each", "cap_each", "list",
       "Write a function to replace each element of a list greater than {k} with {k}.",
       "Write a function that caps every number in a list at {k}.",
       "[{k} if x > {k} else x for x in {a}]", ["[{k} if x < {k} else x for x in {a}]"], R1_9,
       _list(0, 12, 3, 4)),
    # list -> int
    _t("count_greater", "count_greater", "list",
       "Write a function to count the elements of a list that are greater than {k}.",
       "Write a function that counts how many numbers in a list are greater than {k}.",
       "len([x for x in {a} if x > {k}])", ["len([x for x in {a} if x < {k}])"], R1_9,
       _list(0, 12, 3, 4)),
    _t("count_less", "count_less", "list",
       "Write a function to count the elements of a list that are smaller than {k}.",
       "Write a function that counts how many numbers in a list are smaller than {k}.",
       "len([x for x in {a} if x < {k}])", ["len([x for x in {a} if x > {k}])"], R1_9,
       _list(0, 12, 3, 4)),
    _t("sum_plus", "sum_plus", "list",
       "Write a function to find the sum of a list plus {k}.",
       "Write a function that adds {k} to the sum of a list.",
       "sum({a}) + {k}", ["sum({a}) - {k}"], R1_9, _list()),
    _t("sum_times", "sum_times", "list",
       "Write a function to find the sum of a list times {k}.",
       "Write a function that multiplies the sum of a list by {k}.",
       "sum({a}) * {k}", ["sum({a}) + {k}"], R2_10, _list(1, 9)),
    _t("max_plus", "max_plus", "list",
       "Write a function to find the largest element of a list plus {k}.",
       "Write a function that adds {k} to the maximum of a list.",
       "max({a}) + {k}", ["max({a}) - {k}", "min({a}) + {k}"], R1_9, _list()),
    _t("min_plus", "min_plus", "list",
       "Write a function to find the smallest element of a list plus {k}.",
       "Write a function that adds {k} to the minimum of a list.",
       "min({a}) + {k}", ["min({a}) - {k}", "max({a}) + {k}"], R1_9, _list()),
    _t("len_plus", "len_plus", "list",
       "Write a function to find the length of a list plus {k}.",
       "Write a function that adds {k} to the number of elements in a list.",
       "len({a}) + {k}", ["len({a}) * {k}", "len({a}) - {k}"], R1_9, _list(0, 9, 1, 5)),
    _t("last_plus", "last_plus", "list",
       "Write a function to add {k} to the last element of a list.",
       "Write a function that returns the last number of a list plus {k}.",
       "{a}[-1] + {k}", ["{a}[-1] - {k}", "{a}[0] + {k}"], R1_9, _list()),
    # int -> int / bool
    _t("add_num", "add_num", "int",
       "Write a function to add {k} to a number.",
       "Write a function that returns a number plus {k}.",
       "{a} + {k}", ["{a} - {k}"], R1_9, _int()),
    _t("mul_num", "mul_num", "int",
       "Write a function to multiply a number by {k}.",
       "Write a function that returns a number times {k}.",
       "{a} * {k}", ["{a} + {k}"], R2_10, _int(0, 12)),
    _t("sub_num", "sub_num", "int",
       "Write a function to subtract {k} from a number.",
       "Write a function that returns a number minus {k}.",
       "{a} - {k}", ["{a} + {k}"], R1_9, _int()),
    _t("mod_num", "mod_num", "int",
       "Write a function to find the remainder of a number divided by {k}.",
       "Write a function that returns a number modulo {k}.",
       "{a} % {k}", ["{a} // {k}"], R2_10, _int(0, 30)),
    _t("larger_of", "larger_of", "int",
       "Write a function to find the larger of a number and {k}.",
       "Write a function that returns the maximum of a number and {k}.",
       "max({a}, {k})", ["min({a}, {k})"], R1_9, _int(0, 15)),
    _t("is_multiple", "is_multiple", "int",
       "Write a function to check if a number is a multiple of {k}.",
       "Write a function that checks whether a number is divisible by {k}.",
       "{a} % {k} == 0", ["{a} % {k} != 0"], R2_10, _multiple_or_not),
    _t("greater_than", "greater_than", "int",
       "Write a function to check if a number is greater than {k}.",
       "Write a function that checks whether a number is larger than {k}.",
       "{a} > {k}", ["{a} < {k}"], R1_9, _int(0, 12)),
    _t("square_plus", "square_plus", "int",
       "Write a function to find the square of a number plus {k}.",
       "Write a function that adds {k} to the square of a number.",
       "{a} * {a} + {k}", ["{a} * {a} - {k}", "{a} + {a} + {k}"], R1_9, _int(0, 9)),
    # str
    _t("repeat_str", "repeat_str", "str",
       "Write a function to repeat a string {k} times.",
       "Write a function that returns a string repeated {k} times.",
       "{a} * {k}", ["{a} + str({k})"], R2_10, _str(0, 2, base=1)),
    _t("nth_char", "nth_char", "str",
       "Write a function to get the character at index {k} of a string.",
       "Write a function that returns the character of a string at position {k}.",
       "{a}[{k}]", ["{a}[-{k}]", "{a}[{k} - 1]"], R0_8, _str(0, 2)),
    _t("first_k", "first_chars", "str",
       "Write a function to get the first {k} characters of a string.",
       "Write a function that returns the first {k} letters of a string.",
       "{a}[:{k}]", ["{a}[{k}:]"], R1_9, _str(0, 2)),
    _t("last_k", "last_chars", "str",
       "Write a function to get the last {k} characters of a string.",
       "Write a function that returns the last {k} letters of a string.",
       "{a}[-{k}:]", ["{a}[:-{k}]"], R1_9, _str(0, 2)),
    _t("drop_first", "drop_first", "str",
       "Write a function to remove the first {k} characters of a string.",
       "Write a function that drops the first {k} letters of a string.",
       "{a}[{k}:]", ["{a}[:{k}]"], R1_9, _str(0, 2)),
    _t("add_bang", "add_bang", "str",
       "Write a function to add {k} exclamation marks to the end of a string.",
       "Write a function that appends {k} exclamation marks to a string.",
       '{a} + "!" * {k}', ['"!" * {k} + {a}', '{a} * {k} + "!"'], R1_9, _str(0, 2, base=2)),
    _t("len_str_plus", "len_str_plus", "str",
       "Write a function to find the length of a string plus {k}.",
       "Write a function that adds {k} to the length of a string.",
       "len({a}) + {k}", ["len({a}) * {k}", "len({a}) - {k}"], R1_9, _str(0, 4, base=1)),
)

# ---------------------------------------------------------------- held-out templates (transfer set)
TRANSFER: tuple[CodeTemplate, ...] = (
    _t("div_each", "divide_each", "list",
       "Write a function to divide each element of a list by {k} using integer division.",
       "Write a function that floor divides every number in a list by {k}.",
       "[x // {k} for x in {a}]", ["[x % {k} for x in {a}]"], R2_10, _list(0, 30)),
    _t("keep_at_least", "keep_at_least", "list",
       "Write a function to keep the elements of a list that are at least {k}.",
       "Write a function that removes every number smaller than {k} from a list.",
       "[x for x in {a} if x >= {k}]", ["[x for x in {a} if x <= {k}]"], R1_9, _list(0, 12, 3, 4)),
    _t("sum_minus", "sum_minus", "list",
       "Write a function to find the sum of a list minus {k}.",
       "Write a function that subtracts {k} from the sum of a list.",
       "sum({a}) - {k}", ["sum({a}) + {k}"], R1_9, _list()),
    _t("max_times", "max_times", "list",
       "Write a function to find the largest element of a list times {k}.",
       "Write a function that multiplies the maximum of a list by {k}.",
       "max({a}) * {k}", ["max({a}) + {k}"], R2_10, _list(1, 9)),
    _t("len_str_times", "len_str_times", "str",
       "Write a function to find the length of a string times {k}.",
       "Write a function that multiplies the length of a string by {k}.",
       "len({a}) * {k}", ["len({a}) + {k}"], R2_10, _str(0, 4, base=1)),
    _t("num_from_k", "subtract_from_k", "int",
       "Write a function to subtract a number from {k}.",
       "Write a function that returns {k} minus a number.",
       "{k} - {a}", ["{a} - {k}"], R1_9, _int()),
)


def docstring_text(paraphrase: str) -> str:
    """'Write a function to add 3 to ...' -> 'Add 3 to ...' (HumanEval-style docstring)."""
    for prefix in PARAPHRASE_PREFIXES:
        if paraphrase.startswith(prefix):
            rest = paraphrase[len(prefix):]
            return rest[:1].upper() + rest[1:]
    raise ValueError(f"paraphrase without a known prefix: {paraphrase!r}")


# ---------------------------------------------------------------- word problems (PaL form)
@dataclass(frozen=True)
class WordTemplate:
    name: str
    question: str                 # format string with {p} (a person) and the variable names
    variables: tuple[str, ...]    # variable names, in the order of the numbers
    result: str                   # Python expression over the variables
    ranges: tuple[tuple[int, int], ...]
    valid: Callable[[tuple[int, ...]], bool] = field(default=lambda nums: True, repr=False, compare=False)

    def value(self, nums: tuple[int, ...]) -> int:
        return eval(self.result, {"__builtins__": {}}, dict(zip(self.variables, nums)))  # trusted template text


PEOPLE = ("Tom", "Ann", "Sam", "Mia", "Ben", "Lily")

WORD: tuple[WordTemplate, ...] = (
    WordTemplate("buy_more", "{p} has {apples} apples and buys {bought} more. How many apples does {p} have now?",
                 ("apples", "bought"), "apples + bought", ((2, 20), (2, 20))),
    WordTemplate("give_away", "{p} has {pens} pens and gives away {given}. How many pens are left?",
                 ("pens", "given"), "pens - given", ((5, 30), (1, 12)), lambda n: n[0] > n[1]),
    WordTemplate("boxes", "There are {boxes} boxes with {per_box} balls in each box. How many balls are there?",
                 ("boxes", "per_box"), "boxes * per_box", ((2, 12), (2, 12))),
    WordTemplate("share", "{p} shares {cookies} cookies equally among {friends} friends. How many cookies does each friend get?",
                 ("cookies", "friends"), "cookies // friends", ((4, 60), (2, 6)), lambda n: n[0] % n[1] == 0),
    WordTemplate("two_buys", "{p} has {cards} cards, buys {first} cards and then {second} more. How many cards does {p} have?",
                 ("cards", "first", "second"), "cards + first + second", ((2, 15), (2, 15), (2, 15))),
    WordTemplate("reading", "{p} reads {per_day} pages a day for {days} days and then {extra} more pages. How many pages does {p} read?",
                 ("per_day", "days", "extra"), "per_day * days + extra", ((2, 10), (2, 7), (1, 12))),
    WordTemplate("eggs", "A shop has {eggs} eggs. It sells {per_day} eggs a day for {days} days. How many eggs are left?",
                 ("eggs", "per_day", "days"), "eggs - per_day * days", ((20, 60), (2, 8), (2, 5)),
                 lambda n: n[0] > n[1] * n[2]),
    WordTemplate("change", "A pen costs {price} dollars. {p} buys {count} pens and pays {paid} dollars. How much change does {p} get?",
                 ("price", "count", "paid"), "paid - price * count", ((2, 6), (2, 5), (10, 40)),
                 lambda n: n[2] >= n[0] * n[1]),
)
