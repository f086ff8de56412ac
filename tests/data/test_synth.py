"""Synthetic task family (leti.data.synth): format, split, determinism, references and bug kinds.

The programs executed here are our own generated templates (trusted), so they run in-process.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from leti.core.errors import UserError
from leti.core.io import sha256_file
from leti.data.synth import DEFAULT_SIZES, FILES, GENERATOR_VERSION, build_synthetic
from leti.data.synth.bugs import BUG_KINDS, run_trusted
from leti.data.synth.templates import ARGNAMES, FAMILY, TRANSFER, WORD, docstring_text
from leti.execution.postprocess import postprocess

RECORD_FIELDS = {"task_id", "benchmark", "split", "prompt", "tests", "program_prefix", "header",
                 "postprocess", "scorer", "timeout", "reference", "target", "meta"}
BY_NAME = {t.name: t for t in FAMILY + TRANSFER}


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth0")
    manifest = build_synthetic(0, str(out))
    data = {name.split(".")[0]: _read(out / name) for name in FILES}
    return out, manifest, data


def _text_index():
    """MBPP text / HumanEval docstring -> (template, param), to recover the combo of a document."""
    idx = {}
    for t in FAMILY + TRANSFER:
        for k in t.params:
            for p in t.paraphrases:
                idx[p.format(k=k)] = (t.name, k)
                idx[docstring_text(p.format(k=k))] = (t.name, k)
    return idx


def _combo_of_doc(doc: dict, idx: dict) -> tuple[str, int]:
    text = doc["text"]
    if text.startswith('"""\n'):
        return idx[text.split("\n")[1]]
    m = re.search(r'    """(.*)\n', text)
    return idx[m.group(1)]


# ------------------------------------------------------------------ determinism and manifest
def test_same_seed_byte_identical_and_other_seed_differs(built, tmp_path):
    out0, _, _ = built
    again = tmp_path / "again"
    build_synthetic(0, str(again))
    for name in (*FILES, "manifest.json"):
        assert (out0 / name).read_bytes() == (again / name).read_bytes(), name
    other = tmp_path / "other"
    build_synthetic(1, str(other))
    assert (out0 / "train.jsonl").read_bytes() != (other / "train.jsonl").read_bytes()


def test_manifest(built):
    out, manifest, data = built
    assert manifest == json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 0 and manifest["generator_version"] == GENERATOR_VERSION
    for name in FILES:
        assert manifest["sha256"][name] == sha256_file(out / name)
        assert manifest["counts"][name] == len(data[name.split(".")[0]])


def test_default_counts(built):
    _, manifest, data = built
    s = DEFAULT_SIZES
    assert len(data["train"]) == s["n_train"] == 420
    assert len(data["test"]) == s["n_test"] == 120
    assert len(data["transfer"]) == s["n_transfer"]
    assert len(data["retention"]) == s["n_retention"]
    assert len(data["heldout"]) == s["n_heldout"]
    kinds = Counter(d["kind"] for d in data["corpus"])
    assert kinds["correct"] == s["n_train"]
    assert kinds["humaneval_format"] == s["n_humaneval_docs"]
    assert kinds["pal"] == s["n_pal_docs"]
    n_bugs = s["n_train"] * s["bugs_per_problem"]
    for kind, (_, share) in BUG_KINDS.items():
        assert abs(kinds[kind] - share * n_bugs) <= 1, kind
    assert manifest["corpus_kinds"] == dict(sorted(kinds.items()))
    assert len(FAMILY) == 30 and len(TRANSFER) == 6
    for t in FAMILY + TRANSFER:
        assert len(t.params) == 9 and len(t.paraphrases) == 2


def test_small_sizes(tmp_path):
    m = build_synthetic(3, str(tmp_path), n_train=31, n_test=7, n_transfer=5, n_retention=9, n_heldout=11,
                        n_humaneval_docs=4, n_pal_docs=6)
    assert m["counts"] == {"train.jsonl": 31, "test.jsonl": 7, "transfer.jsonl": 5, "retention.jsonl": 9,
                           "corpus.jsonl": 31 * 3 + 4 + 6, "heldout.jsonl": 11}


@pytest.mark.parametrize("sizes", [{"n_train": -1}, {"n_trian": 3}, {"test_params_per_template": 9},
                                   {"n_pal_docs": 100000}])
def test_bad_sizes_are_user_errors(tmp_path, sizes):
    with pytest.raises(UserError):
        build_synthetic(0, str(tmp_path), **sizes)


# ------------------------------------------------------------------ records and formats
def test_record_fields_and_ids(built):
    _, _, data = built
    ids = [r["task_id"] for part in ("train", "test", "transfer", "retention") for r in data[part]]
    assert len(ids) == len(set(ids))
    for part, bench, split in (("train", "synth", "train"), ("test", "synth", "test"),
                               ("transfer", "synth_transfer", "test"), ("retention", "synth_retention", "test")):
        for r in data[part]:
            assert set(r) == RECORD_FIELDS
            assert (r["benchmark"], r["split"], r["scorer"], r["timeout"], r["header"]) == (bench, split, "execute", 5.0, "")
            assert r["task_id"].startswith(bench + "/")
    for d in data["corpus"] + data["heldout"]:
        assert set(d) == {"text", "kind", "task_id"}


def test_mbpp_prompt_format(built):
    _, _, data = built
    for r in data["train"] + data["test"]:
        m = r["meta"]
        t = BY_NAME[m["template"]]
        text = t.paraphrases[m["paraphrase"]].format(k=m["param"])
        asserts = r["tests"].split("\n")
        assert len(asserts) == 3 and all(a.startswith(f"assert {t.fname}(") for a in asserts)
        assert r["prompt"] == '"""\n' + text + "\n" + asserts[0] + "\n" + '"""'
        assert r["reference"] == f"\ndef {t.fname}({m['argname']}):\n    return " + t.expr.format(a=m["argname"], k=m["param"])
        assert m["entry_point"] == t.fname
        assert (r["program_prefix"], r["postprocess"], r["target"]) == ("prompt", "mbpp", None)
        # the reference survives MBPP post-processing, in the exact and the original ("leti") mode
        assert postprocess("mbpp", r["reference"]) == r["reference"]
        assert postprocess("mbpp", r["reference"], "leti") == r["reference"]


def test_transfer_format(built):
    _, _, data = built
    for r in data["transfer"]:
        m = r["meta"]
        t = BY_NAME[m["template"]]
        assert t in TRANSFER
        assert r["prompt"].startswith(f"def {t.fname}({m['argname']}):\n    \"\"\"")
        assert r["prompt"].endswith('    """') and r["prompt"] == r["prompt"].strip()
        assert r["reference"].startswith("\n    return ")
        assert r["tests"].startswith("\n\ndef check(candidate):\n    assert candidate(")
        assert r["tests"].endswith(f"\n\ncheck({t.fname})") and r["tests"].count("assert candidate(") == 3
        assert (r["program_prefix"], r["postprocess"]) == ("prompt", "humaneval")


def test_retention_format(built):
    _, _, data = built
    for r in data["retention"]:
        assert re.fullmatch(r"Q: [^\n]+\n# solution in Python:\n\n\n", r["prompt"])
        question = r["prompt"][3:].split("\n")[0]
        assert r["reference"].startswith(f'def solution():\n    """{question}"""\n')
        assert r["reference"].endswith("\n    result = " + next(w.result for w in WORD if w.name == r["meta"]["template"])
                                       + "\n    return result")
        assert r["tests"] == f"assert solution() == {r['target']}"
        assert isinstance(r["target"], int)
        assert (r["program_prefix"], r["postprocess"]) == ("none", "gsm8k_pal")
        assert postprocess("gsm8k_pal", r["reference"]) == r["reference"]


# ------------------------------------------------------------------ split
def test_split_by_template_param_combination(built):
    _, manifest, data = built
    train = {(r["meta"]["template"], r["meta"]["param"]) for r in data["train"]}
    test = {(r["meta"]["template"], r["meta"]["param"]) for r in data["test"]}
    assert not train & test
    family = {t.name for t in FAMILY}
    assert {c[0] for c in train} == family == {c[0] for c in test}
    for t in FAMILY:  # 2 of 9 parameters held out per template, the others all used in train
        held = {k for name, k in test if name == t.name}
        assert held == set(manifest["test_params"][t.name]) and len(held) == 2
        assert {k for name, k in train if name == t.name} == set(t.params) - held
    # constants are held out per template, not globally
    assert {k for _, k in train} & {k for _, k in test}


def test_transfer_templates_are_held_out(built):
    _, _, data = built
    transfer = {t.name for t in TRANSFER}
    assert {r["meta"]["template"] for r in data["transfer"]} == transfer
    assert not transfer & {r["meta"]["template"] for r in data["train"] + data["test"]}
    fnames = [f"def {t.fname}(" for t in TRANSFER]
    for d in data["corpus"] + data["heldout"]:
        assert not any(f in d["text"] for f in fnames)


def test_corpus_and_heldout_use_train_combos_only(built):
    _, _, data = built
    idx = _text_index()
    train = {(r["meta"]["template"], r["meta"]["param"]) for r in data["train"]}
    for d in data["corpus"] + data["heldout"]:
        if d["kind"] != "pal":
            assert _combo_of_doc(d, idx) in train, d["task_id"]
    assert not {d["text"] for d in data["corpus"]} & {d["text"] for d in data["heldout"]}
    # test prompts never appear in the pre-training data
    test_prompts = {r["prompt"] for r in data["test"]}
    assert not any(d["text"].split("\ndef ")[0] in test_prompts for d in data["corpus"] + data["heldout"])


def test_heldout_mirrors_corpus_mix(built):
    _, _, data = built
    corpus, held = Counter(d["kind"] for d in data["corpus"]), Counter(d["kind"] for d in data["heldout"])
    assert set(held) == set(corpus)
    for kind in corpus:
        assert abs(held[kind] / len(data["heldout"]) - corpus[kind] / len(data["corpus"])) < 0.01


def test_pal_numbers_disjoint_from_retention(built):
    _, _, data = built

    def numbers(text: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\n    \w+ = (\d+)", text))

    retention = {(r["meta"]["template"], tuple(r["meta"]["numbers"])) for r in data["retention"]}
    assert all(numbers(r["reference"]) == nums for (_, nums), r in zip(sorted(retention), sorted(
        data["retention"], key=lambda r: (r["meta"]["template"], tuple(r["meta"]["numbers"])))))
    pal = [d for d in data["corpus"] + data["heldout"] if d["kind"] == "pal"]
    assert pal
    for d in pal:
        template = d["task_id"].split("/")[1]
        assert (template, numbers(d["text"])) not in retention
        assert d["text"].startswith("Q: ") and "\n# solution in Python:\n\n\ndef solution():\n" in d["text"]


# ------------------------------------------------------------------ execution of our own references / bugs
def test_every_reference_passes_its_tests(built):
    _, _, data = built
    for r in data["train"] + data["test"] + data["transfer"]:
        assert run_trusted(r["prompt"] + r["reference"] + "\n" + r["tests"]) is None, r["task_id"]
    for r in data["retention"]:
        assert run_trusted(r["reference"] + "\n" + r["tests"]) is None, r["task_id"]
        ns: dict = {}
        exec(r["reference"], ns)
        assert ns["solution"]() == r["target"]


def test_corpus_docs_fail_as_labelled(built):
    _, _, data = built
    tests = {r["task_id"]: r["tests"] for r in data["train"]}
    seen = Counter()
    per_problem: dict[str, list[str]] = {}
    for d in data["corpus"]:
        if d["kind"] in ("humaneval_format", "pal"):
            continue
        per_problem.setdefault(d["task_id"], []).append(d["kind"])
        got = run_trusted(d["text"] + "\n" + tests[d["task_id"]])
        want = None if d["kind"] == "correct" else BUG_KINDS[d["kind"]][0]
        assert got == want, (d["kind"], d["text"])
        seen[d["kind"]] += 1
    assert set(seen) == {"correct", *BUG_KINDS}
    assert set(per_problem) == set(tests)
    for kinds in per_problem.values():  # 1 correct + 2 buggy of different kinds
        assert sorted(kinds).count("correct") == 1 and len(kinds) == 3 and len(set(kinds)) == 3
    for d in data["corpus"]:
        if d["kind"] == "humaneval_format":
            t = next(t for t in FAMILY if d["text"].startswith(f"def {t.fname}("))
            assert d["text"].split("\n")[-1].startswith("    return ")
            assert run_trusted(d["text"]) is None and t
        elif d["kind"] == "pal":
            assert run_trusted(d["text"].split("\n# solution in Python:\n\n\n")[1]) is None


def test_heldout_docs_fail_as_labelled(built):
    _, _, data = built
    for d in data["heldout"]:
        if d["kind"] in ("humaneval_format", "pal") or d["kind"] == "correct":
            continue
        # the buggy held-out docs carry only the prompt's assert; that one, or the code itself, fails
        first = d["text"].split("\n")[2]
        got = run_trusted(d["text"] + "\n" + first)
        want = BUG_KINDS[d["kind"]][0]
        if d["kind"] in ("wrong_constant", "wrong_operator") and got is None:
            continue  # the prompt's assert alone may not catch it; the hidden ones did at build time
        assert got == want, (d["kind"], d["text"])


def test_bug_variants_cover_every_template():
    """Every template can produce every bug kind (checked on one instance per template)."""
    import random

    from leti.data.synth.bugs import make_bug
    from leti.data.synth.build import _make_cases

    for t in FAMILY + TRANSFER:
        k = t.params[len(t.params) // 2]
        cases = _make_cases(t, k, random.Random(t.name))
        a = ARGNAMES[t.argtype][0]
        prompt = '"""\n' + t.paraphrases[0].format(k=k) + '\n"""'
        tests = "\n".join(f"assert {t.fname}({x!r}) == {y!r}" for x, y in cases)
        for kind, (exc, _) in BUG_KINDS.items():
            completion = make_bug(kind, t, a, k, prompt, tests, random.Random(kind))
            assert run_trusted(prompt + completion + "\n" + tests) == exc
