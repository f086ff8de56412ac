"""Build the synthetic task family, the transfer / retention sets and the pre-training corpus.

Everything is a pure function of the seed (string-seeded `random.Random` per component, no set
iteration, no clock), so the same seed gives byte-identical files.
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from leti.core.errors import UserError
from leti.core.io import atomic_write_json, atomic_write_jsonl, sha256_file
from leti.data.synth.bugs import BUG_KINDS, make_bug, run_trusted
from leti.data.synth.templates import (
    ARGNAMES,
    FAMILY,
    PEOPLE,
    TRANSFER,
    WORD,
    CodeTemplate,
    WordTemplate,
    docstring_text,
)

GENERATOR_VERSION = "synth-1"

DEFAULT_SIZES: dict[str, int] = {
    "n_train": 420,              # MBPP-format train problems (FCFT prompts)
    "n_test": 120,               # MBPP-format test problems (held-out (template, param) combos)
    "n_transfer": 42,            # HumanEval-format problems from held-out templates
    "n_retention": 60,           # PaL word problems (GSM8K analogue)
    "n_heldout": 200,            # held-out pre-training documents (regularization metric)
    "n_humaneval_docs": 210,     # HumanEval-format correct documents of train combos in the corpus
    "n_pal_docs": 240,           # PaL documents in the corpus (numbers disjoint from retention)
    "test_params_per_template": 2,
    "bugs_per_problem": 2,
}

FILES = ("train.jsonl", "test.jsonl", "transfer.jsonl", "retention.jsonl", "corpus.jsonl", "heldout.jsonl")
PAL_SUFFIX = "\n# solution in Python:\n\n\n"


def _rng(seed: int, *parts: Any) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def _distribute(n: int, names: Sequence[str], rng: random.Random) -> dict[str, int]:
    """n items over names as evenly as possible; the extras go to a seeded choice of names."""
    base, extra = divmod(n, len(names))
    lucky = set(rng.sample(list(names), extra))
    return {name: base + (1 if name in lucky else 0) for name in names}


def _allocate(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Largest-remainder rounding of `total` over `shares` (dict order breaks ties)."""
    norm = sum(shares.values())
    raw = {k: total * v / norm for k, v in shares.items()}
    counts = {k: int(v) for k, v in raw.items()}
    left = total - sum(counts.values())
    for k in sorted(raw, key=lambda k: (-(raw[k] - counts[k]), list(raw).index(k)))[:left]:
        counts[k] += 1
    return counts


# ---------------------------------------------------------------- code instances
@dataclass
class Instance:
    template: CodeTemplate
    k: int
    paraphrase: int
    argname: str
    cases: list[tuple[Any, Any]]   # (input, expected output), three of them

    @property
    def text(self) -> str:
        return self.template.paraphrases[self.paraphrase].format(k=self.k)

    def asserts(self) -> list[str]:
        f = self.template.fname
        return [f"assert {f}({x!r}) == {y!r}" for x, y in self.cases]

    def mbpp_prompt(self) -> str:
        return '"""\n' + self.text + "\n" + self.asserts()[0] + "\n" + '"""'

    def mbpp_tests(self) -> str:
        return "\n".join(self.asserts())

    def mbpp_reference(self) -> str:
        return "\n" + self.template.code(self.argname, self.k)

    def he_prompt(self) -> str:
        t, (x, y) = self.template, self.cases[0]
        return (f"def {t.fname}({self.argname}):\n"
                f'    """{docstring_text(self.text)}\n'
                f"    >>> {t.fname}({x!r})\n"
                f"    {y!r}\n"
                f'    """')

    def he_reference(self) -> str:
        return "\n    return " + self.template.expr.format(a=self.argname, k=self.k)

    def he_tests(self) -> str:
        checks = "\n".join(f"    assert candidate({x!r}) == {y!r}" for x, y in self.cases)
        return f"\n\ndef check(candidate):\n{checks}\n\ncheck({self.template.fname})"

    def meta(self) -> dict[str, Any]:
        return {"template": self.template.name, "param": self.k, "paraphrase": self.paraphrase,
                "argname": self.argname, "entry_point": self.template.fname}


def _make_cases(t: CodeTemplate, k: int, rng: random.Random, prefer_first: bool = True) -> list[tuple[Any, Any]]:
    """Three distinct inputs whose outputs are not all equal (so an assert can tell bugs apart).

    Preferably the first case (the one shown in the prompt) also tells k apart from every other
    parameter value of the template; after 100 draws that preference is dropped.  The three cases
    together always tell k apart from at least one other value and from at least one wrong-operation
    variant, so both kinds of wrong solutions fail an assert."""
    ref = t.reference(k)
    others = [t.reference(p) for p in t.params if p != k]
    op_variants = [t.reference(k, e) for e in t.op_bugs]
    for attempt in range(300):
        inputs: list[Any] = []
        while len(inputs) < 3:
            x = t.gen(rng, k)
            if x not in inputs:
                inputs.append(x)
        outputs = [ref(x) for x in inputs]   # our own reference function, computed in-process
        if all(o == outputs[0] for o in outputs[1:]):
            continue
        if prefer_first and attempt < 100 and any(_safe(f, inputs[0]) == outputs[0] for f in others):
            continue
        # a wrong constant must be catchable by the three asserts (the corpus needs that bug)
        if others and not any(_catches(f, inputs, outputs) for f in others):
            continue
        if op_variants and not any(_catches(f, inputs, outputs) for f in op_variants):
            continue
        return list(zip(inputs, outputs))
    raise RuntimeError(f"could not draw informative inputs for {t.name} k={k}")


def _catches(f: Any, inputs: list[Any], outputs: list[Any]) -> bool:
    """f runs on every input without raising and differs on at least one (an assert fails)."""
    got = [_safe(f, x) for x in inputs]
    return all(g is not _safe for g in got) and got != outputs


def _safe(f: Any, x: Any) -> Any:
    try:
        return f(x)
    except Exception:  # e.g. an index out of range for another parameter value
        return _safe


def _variant_order(seed: int, t: CodeTemplate, k: int) -> list[tuple[int, str]]:
    combos = list(itertools.product(range(len(t.paraphrases)), ARGNAMES[t.argtype]))
    _rng(seed, "variants", t.name, k).shuffle(combos)
    return combos


class _Pool:
    """Hands out (paraphrase, argname) variants of each (template, param) combo in a seeded order,
    so that train, held-out shard and corpus extras use different variants while they last."""

    def __init__(self, seed: int):
        self.seed = seed
        self.used: dict[tuple[str, int], int] = {}

    def next(self, t: CodeTemplate, k: int) -> tuple[int, str]:
        order = _variant_order(self.seed, t, k)
        i = self.used.get((t.name, k), 0)
        self.used[(t.name, k)] = i + 1
        return order[i % len(order)]


def _instances(seed: int, purpose: str, templates: Sequence[CodeTemplate], params: dict[str, list[int]],
               n: int, pool: _Pool, offset: dict[str, int] | None = None) -> list[tuple[str, Instance]]:
    """n instances over templates (evenly) and each template's params (round robin).

    Ids are "<template>/<index>", the index starting at offset[template] (default 0)."""
    per_t = _distribute(n, [t.name for t in templates], _rng(seed, "distribute", purpose))
    out = []
    for t in templates:
        ks = params[t.name]
        for j in range(per_t[t.name]):
            k = ks[j % len(ks)]
            para, arg = pool.next(t, k)
            cases = _make_cases(t, k, _rng(seed, "inputs", purpose, t.name, j))
            out.append((f"{t.name}/{(offset or {}).get(t.name, 0) + j}", Instance(t, k, para, arg, cases)))
    return out


def _code_record(task_id: str, benchmark: str, split: str, prompt: str, tests: str, postprocess: str,
                 reference: str, meta: dict) -> dict:
    return {"task_id": task_id, "benchmark": benchmark, "split": split, "prompt": prompt, "tests": tests,
            "program_prefix": "prompt", "header": "", "postprocess": postprocess, "scorer": "execute",
            "timeout": 5.0, "reference": reference, "target": None, "meta": meta}


def _mbpp_record(task_id: str, split: str, inst: Instance) -> dict:
    return _code_record(task_id, "synth", split, inst.mbpp_prompt(), inst.mbpp_tests(), "mbpp",
                        inst.mbpp_reference(), inst.meta())


def _he_record(task_id: str, inst: Instance) -> dict:
    return _code_record(task_id, "synth_transfer", "test", inst.he_prompt(), inst.he_tests(), "humaneval",
                        inst.he_reference(), inst.meta())


# ---------------------------------------------------------------- word problems
def _word_pool(seed: int, w: WordTemplate) -> list[tuple[int, ...]]:
    tuples = [nums for nums in itertools.product(*(range(lo, hi + 1) for lo, hi in w.ranges)) if w.valid(nums)]
    _rng(seed, "word", w.name).shuffle(tuples)
    return tuples


def _pal(w: WordTemplate, nums: tuple[int, ...], person: str) -> tuple[str, str, int]:
    question = w.question.format(p=person, **dict(zip(w.variables, nums)))
    lines = ["def solution():", f'    """{question}"""']
    lines += [f"    {v} = {x}" for v, x in zip(w.variables, nums)]
    lines += [f"    result = {w.result}", "    return result"]
    return "Q: " + question + PAL_SUFFIX, "\n".join(lines), w.value(nums)


def _retention_record(task_id: str, w: WordTemplate, nums: tuple[int, ...], person: str) -> dict:
    prompt, completion, target = _pal(w, nums, person)
    return {"task_id": task_id, "benchmark": "synth_retention", "split": "test", "prompt": prompt,
            "tests": f"assert solution() == {target}", "program_prefix": "none", "header": "",
            "postprocess": "gsm8k_pal", "scorer": "execute", "timeout": 5.0, "reference": completion,
            "target": target, "meta": {"template": w.name, "numbers": list(nums), "person": person}}


class _WordSource:
    """Number tuples of each word template, consumed in a seeded order: the retention set takes
    the first ones, the corpus and the held-out shard later ones, so their numbers never meet."""

    def __init__(self, seed: int):
        self.seed = seed
        self.pools = {w.name: _word_pool(seed, w) for w in WORD}
        self.pos = {w.name: 0 for w in WORD}

    def take(self, w: WordTemplate) -> tuple[int, ...]:
        pool, i = self.pools[w.name], self.pos[w.name]
        if i >= len(pool):
            raise UserError(f"word template {w.name}: only {len(pool)} number tuples; ask for fewer PaL documents")
        self.pos[w.name] = i + 1
        return pool[i]

    def records(self, purpose: str, n: int) -> list[tuple[str, WordTemplate, tuple[int, ...], str]]:
        per_w = _distribute(n, [w.name for w in WORD], _rng(self.seed, "distribute", purpose))
        rng = _rng(self.seed, "people", purpose)
        return [(f"{w.name}/{j}", w, self.take(w), rng.choice(PEOPLE)) for w in WORD for j in range(per_w[w.name])]


# ---------------------------------------------------------------- the corpus
def _bug_pairs(n_problems: int, per_problem: int, rng: random.Random) -> list[list[str]]:
    """Bug kinds for each problem: exact mix, and the kinds of one problem differ from each other."""
    counts = _allocate(n_problems * per_problem, {k: share for k, (_, share) in BUG_KINDS.items()})
    flat = [k for k in BUG_KINDS for _ in range(counts[k])]
    # Column j of the sorted list, read with stride n_problems, never repeats a kind as long as
    # no kind has more than n_problems items (the largest share is 20%).
    groups = [[flat[i + j * n_problems] for j in range(per_problem)] for i in range(n_problems)]
    rng.shuffle(groups)
    return groups


def _doc(text: str, kind: str, task_id: str) -> dict:
    return {"text": text, "kind": kind, "task_id": task_id}


def _buggy_docs(seed: int, purpose: str, task_id: str, inst: Instance, kinds: Iterable[str]) -> list[dict]:
    prompt, tests = inst.mbpp_prompt(), inst.mbpp_tests()
    seen = {inst.mbpp_reference()}
    docs = []
    for slot, kind in enumerate(kinds):
        completion = make_bug(kind, inst.template, inst.argname, inst.k, prompt, tests,
                              _rng(seed, "bug", purpose, task_id, slot), avoid=seen)
        seen.add(completion)
        docs.append(_doc(prompt + completion, kind, task_id))
    return docs


def _check_reference(prompt: str, completion: str, tests: str, task_id: str) -> None:
    got = run_trusted(prompt + completion + "\n" + tests)
    if got is not None:  # a template bug of ours, not a user error
        raise RuntimeError(f"{task_id}: reference solution fails with {got}")


# ---------------------------------------------------------------- entry point
def build_synthetic(seed: int, out_dir: str, **sizes: int) -> dict:
    """Write train/test/transfer/retention problems, corpus and held-out shard + manifest.json.

    Returns the manifest.  `sizes` override DEFAULT_SIZES (unknown names are a UserError).
    """
    unknown = sorted(set(sizes) - set(DEFAULT_SIZES))
    if unknown:
        raise UserError(f"build_synthetic: unknown size(s) {', '.join(unknown)}; known: {', '.join(DEFAULT_SIZES)}")
    cfg = {**DEFAULT_SIZES, **{k: v for k, v in sizes.items() if v is not None}}
    for name, value in cfg.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise UserError(f"build_synthetic: {name} must be a non-negative integer, got {value!r}")
    n_params = len(FAMILY[0].params)
    if not 1 <= cfg["test_params_per_template"] < n_params:
        raise UserError(f"build_synthetic: test_params_per_template must be in 1..{n_params - 1}")
    if cfg["bugs_per_problem"] > 4:
        raise UserError("build_synthetic: bugs_per_problem must be at most 4 (kinds of one problem differ)")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise UserError(f"build_synthetic: seed must be an integer, got {seed!r}")

    # -- split by (template, param) combination
    test_params: dict[str, list[int]] = {}
    train_params: dict[str, list[int]] = {}
    for t in FAMILY:
        held = set(_rng(seed, "split", t.name).sample(list(t.params), cfg["test_params_per_template"]))
        test_params[t.name] = [k for k in t.params if k in held]
        train_params[t.name] = [k for k in t.params if k not in held]

    pool = _Pool(seed)
    train = [(f"synth/{tid}", inst) for tid, inst in _instances(seed, "train", FAMILY, train_params, cfg["n_train"], pool)]
    n_train_per_t = {t.name: sum(1 for _, i in train if i.template is t) for t in FAMILY}
    test = [(f"synth/{tid}", inst)
            for tid, inst in _instances(seed, "test", FAMILY, test_params, cfg["n_test"], pool, n_train_per_t)]
    transfer_params = {t.name: list(t.params) for t in TRANSFER}
    transfer = [(f"synth_transfer/{tid}", inst)
                for tid, inst in _instances(seed, "transfer", TRANSFER, transfer_params, cfg["n_transfer"], pool)]

    train_rows = [_mbpp_record(tid, "train", inst) for tid, inst in train]
    test_rows = [_mbpp_record(tid, "test", inst) for tid, inst in test]
    transfer_rows = [_he_record(tid, inst) for tid, inst in transfer]
    for row in train_rows + test_rows + transfer_rows:
        _check_reference(row["prompt"], row["reference"], row["tests"], row["task_id"])

    words = _WordSource(seed)
    retention_rows = [_retention_record(f"synth_retention/{tid}", w, nums, person)
                      for tid, w, nums, person in words.records("retention", cfg["n_retention"])]
    for row in retention_rows:
        _check_reference("", row["reference"], row["tests"], row["task_id"])

    # -- pre-training corpus: each train problem with 1 correct + 2 buggy solutions, HE-format and PaL docs
    corpus: list[dict] = []
    pairs = _bug_pairs(len(train), cfg["bugs_per_problem"], _rng(seed, "bugmix", "corpus"))
    for (tid, inst), kinds in zip(train, pairs):
        corpus.append(_doc(inst.mbpp_prompt() + inst.mbpp_reference(), "correct", tid))
        corpus.extend(_buggy_docs(seed, "corpus", tid, inst, kinds))
    he_docs = _instances(seed, "he_docs", FAMILY, train_params, cfg["n_humaneval_docs"], pool)
    for tid, inst in he_docs:
        _check_reference(inst.he_prompt(), inst.he_reference(), inst.he_tests(), tid)
        corpus.append(_doc(inst.he_prompt() + inst.he_reference(), "humaneval_format", f"synth_pretrain_he/{tid}"))
    for tid, w, nums, person in words.records("pal_docs", cfg["n_pal_docs"]):
        prompt, completion, _ = _pal(w, nums, person)
        corpus.append(_doc(prompt + completion, "pal", f"synth_pretrain_pal/{tid}"))
    _rng(seed, "shuffle", "corpus").shuffle(corpus)

    # -- held-out shard: same kind mix as the corpus, train combos, documents the corpus lacks
    heldout = _heldout(seed, cfg["n_heldout"], corpus, train_params, pool, words)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, rows in zip(FILES, (train_rows, test_rows, transfer_rows, retention_rows, corpus, heldout)):
        counts[name] = atomic_write_jsonl(out / name, rows)

    def kinds_of(rows: list[dict]) -> dict[str, int]:
        c: dict[str, int] = {}
        for r in rows:
            c[r["kind"]] = c.get(r["kind"], 0) + 1
        return dict(sorted(c.items()))

    manifest = {
        "generator": "leti.data.synth.build_synthetic",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "sizes": cfg,
        "counts": counts,
        "sha256": {name: sha256_file(out / name) for name in FILES},
        "corpus_kinds": kinds_of(corpus),
        "heldout_kinds": kinds_of(heldout),
        "family_templates": [t.name for t in FAMILY],
        "transfer_templates": [t.name for t in TRANSFER],
        "retention_templates": [w.name for w in WORD],
        "test_params": test_params,
    }
    atomic_write_json(out / "manifest.json", manifest)
    return manifest


def _heldout(seed: int, n: int, corpus: list[dict], train_params: dict[str, list[int]],
             pool: _Pool, words: _WordSource) -> list[dict]:
    shares: dict[str, float] = {}
    for doc in corpus:
        shares[doc["kind"]] = shares.get(doc["kind"], 0) + 1
    counts = _allocate(n, shares) if corpus else {}
    seen = {doc["text"] for doc in corpus}
    docs: list[dict] = []

    code_kinds = [k for k in ("correct", *BUG_KINDS) if counts.get(k)]
    n_code = sum(counts[k] for k in code_kinds)
    kind_list = [k for k in code_kinds for _ in range(counts[k])]
    _rng(seed, "heldout", "kinds").shuffle(kind_list)
    for (tid, inst), kind in zip(_instances(seed, "heldout", FAMILY, train_params, n_code, pool), kind_list):
        tid = f"synth_heldout/{tid}"
        for attempt in range(60):
            if kind == "correct":
                doc = _doc(inst.mbpp_prompt() + inst.mbpp_reference(), kind, tid)
            else:
                doc = _buggy_docs(seed, f"heldout{attempt}", tid, inst, [kind])[0]
            if doc["text"] not in seen:
                break
            # the text shows only the first assert: redraw inputs (any first case), now and then a variant
            if attempt % 5 == 4:
                inst.paraphrase, inst.argname = pool.next(inst.template, inst.k)
            inst.cases = _make_cases(inst.template, inst.k, _rng(seed, "heldout-redraw", tid, attempt),
                                     prefer_first=False)
        else:
            raise UserError(f"{tid}: no held-out document absent from the corpus; ask for a smaller corpus or shard")
        seen.add(doc["text"])
        docs.append(doc)

    if counts.get("humaneval_format"):
        for tid, inst in _instances(seed, "heldout_he", FAMILY, train_params, counts["humaneval_format"], pool):
            for attempt in range(60):
                text = inst.he_prompt() + inst.he_reference()
                if text not in seen:
                    break
                if attempt % 5 == 4:
                    inst.paraphrase, inst.argname = pool.next(inst.template, inst.k)
                inst.cases = _make_cases(inst.template, inst.k, _rng(seed, "heldout-he-redraw", tid, attempt),
                                         prefer_first=False)
            else:
                raise UserError(f"{tid}: no held-out document absent from the corpus; ask for a smaller corpus or shard")
            seen.add(text)
            docs.append(_doc(text, "humaneval_format", f"synth_heldout_he/{tid}"))
    if counts.get("pal"):
        for tid, w, nums, person in words.records("heldout_pal", counts["pal"]):
            prompt, completion, _ = _pal(w, nums, person)
            docs.append(_doc(prompt + completion, "pal", f"synth_heldout_pal/{tid}"))
    _rng(seed, "shuffle", "heldout").shuffle(docs)
    return docs
