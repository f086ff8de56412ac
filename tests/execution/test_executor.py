"""Solution evaluator: golden feedback per error class, API contract, cache/resume, CLI, bad input."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from leti.core.errors import UserError
from leti.execution.executor import (
    EVALUATOR_VERSION,
    content_key,
    error_bucket,
    execute_many,
    execute_one,
    normalize_program,
)
from leti.execution.executor import pool as pool_mod

REPO = Path(__file__).resolve().parents[2]
PROG = "def add(a, b):\n    return a + b"


def run(program, tests="", **kw):
    return execute_one({"id": "t", "program": program, "tests": tests, **kw})


# ---------------------------------------------------------------- golden feedback (spec §5.2)
GOLDEN = [
    # (program, tests, status, exc_type, bucket, feedback, failed_test)
    (PROG, "assert add(1, 2) == 3\nassert add(1, 1) == 3", "fail", "AssertionError", "AssertionError",
     'Traceback (most recent call last):\n  File "<string>", line 4, in <module>\n    assert add(1, 1) == 3\nAssertionError\n',
     "assert add(1, 1) == 3"),
    ("def add(a, b):\n    return a + c", "assert add(1, 2) == 3", "error", "NameError", "NameError",
     'Traceback (most recent call last):\n  File "<string>", line 3, in <module>\n    assert add(1, 2) == 3\n\n'
     '  File "<string>", line 2, in add\n    return a + c\nNameError: name \'c\' is not defined\n',
     "assert add(1, 2) == 3"),
    (PROG, "assert add(1) == 3", "error", "TypeError", "TypeError",
     'Traceback (most recent call last):\n  File "<string>", line 3, in <module>\n    assert add(1) == 3\n'
     "TypeError: add() missing 1 required positional argument: 'b'\n", "assert add(1) == 3"),
    ("def add(a, b):\n    return (a + b", "assert add(1, 2) == 3", "syntax_error", "SyntaxError", "SyntaxError",
     # the original joined the exception-only lines of a SyntaxError with "\n" (each already ends in one)
     'Traceback (most recent call last):\n  File "<string>", line 2\n\n    return (a + b\n\nSyntaxError: \'(\' was never closed\n',
     None),
    ("def add(a, b):\nreturn a + b", "assert add(1, 2) == 3", "syntax_error", "IndentationError", "IndentationError",
     'Traceback (most recent call last):\n  File "<string>", line 2\n\n    return a + b\n\n'
     "IndentationError: expected an indented block after function definition on line 1\n", None),
    ("def f(x):\n    return 1 / x", "assert f(0) == 1", "error", "ZeroDivisionError", "other",
     'Traceback (most recent call last):\n  File "<string>", line 3, in <module>\n    assert f(0) == 1\n\n'
     '  File "<string>", line 2, in f\n    return 1 / x\nZeroDivisionError: division by zero\n', "assert f(0) == 1"),
    ("while True:\n    pass", "", "timeout", None, "timeout", "timeout", None),
    ("import sys\nsys.exit(0)", "assert False", "error", "SystemExit", "other",
     'Traceback (most recent call last):\n  File "<string>", line 2, in <module>\n    sys.exit(0)\nSystemExit: 0\n', None),
    # the original's reliability_guard set builtins.exit to None: its exact text (checked against the original)
    ("exit()", "assert False", "error", "TypeError", "TypeError",
     "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\n    exit()\n"
     "TypeError: 'NoneType' object is not callable\n", None),
]


@pytest.mark.parametrize("program,tests,status,exc_type,bucket,feedback,failed", GOLDEN,
                         ids=["assertion", "name", "type", "syntax", "indentation", "zerodiv", "timeout", "sys_exit",
                              "exit_builtin"])
def test_golden_feedback(program, tests, status, exc_type, bucket, feedback, failed):
    r = run(program, tests, timeout=1.0)
    for name, v in r["verdicts"].items():  # both verdicts: the same text for these honest programs
        assert (v["status"], v["exc_type"], v["feedback"], v["failed_test"]) == (status, exc_type, feedback, failed), name
    assert r["status"] == status
    assert r["exc_type"] == exc_type
    assert r["feedback"] == feedback
    assert r["failed_test"] == failed
    assert error_bucket(r) == bucket


def test_header_not_counted_in_line_numbers():
    r = run("def f():\n    return undefined_name", "assert f()", header="from __future__ import annotations\nimport math")
    assert r["exc_type"] == "NameError"
    assert '  File "<string>", line 3, in <module>\n    assert f()\n' in r["feedback"]
    assert '  File "<string>", line 2, in f\n    return undefined_name\n' in r["feedback"]
    r = run("x = (", "", header="import math")
    assert r["feedback"].startswith('Traceback (most recent call last):\n  File "<string>", line 1\n')


def test_library_frames_after_the_first_user_frame_are_kept():
    """As the original: frames from the first exec'd one on, the library's included (harness frames above dropped)."""
    r = run("import json\ndef f():\n    return json.loads('{')", "f()")
    fb = r["feedback"]
    assert fb.startswith('Traceback (most recent call last):\n  File "<string>", line 4, in <module>\n    f()\n')
    assert '  File "<string>", line 3, in f\n' in fb and "json" in fb.split('line 3, in f')[1]
    assert 'decoder.py", line' in fb and fb.rstrip().endswith("(char 1)")
    assert "worker.py" not in fb and "executor" not in fb


def test_humaneval_style_failed_test_is_the_assert_inside_check():
    tests = "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(2, 2) == 5\n\ncheck(add)"
    r = run(PROG, tests)
    assert r["status"] == "fail" and r["failed_test"] == "assert candidate(2, 2) == 5"
    assert "in check\n    assert candidate(2, 2) == 5" in r["feedback"]


def test_pass_record_fields_and_capture():
    r = execute_one({"id": "x", "program": PROG, "tests": "assert add(1, 2) == 3", "meta": {"k": 1},
                     "capture": "__leti_capture__ = {'v': add(2, 3), 'l': [1, 'a']}"})
    assert r["status"] == "pass" and r["feedback"] is None and error_bucket(r) == "pass"
    assert r["captured"] == {"v": 5, "l": [1, "a"]}
    assert r["meta"] == {"k": 1} and r["id"] == "x" and r["evaluator_version"] == EVALUATOR_VERSION
    for f in ("key", "stdout_tail", "stderr_tail", "wall_s", "cpu_s", "peak_rss_mb", "sandbox"):
        assert r[f] is not None, f
    bad = run(PROG, "", capture="__leti_capture__ = object()")
    assert bad["status"] == "pass" and bad["captured"] is None and "capture failed" in bad["message"]


def test_name_is_not_main_as_in_the_original():
    # the original exec'd with bare globals: `if __name__ == "__main__":` blocks do not run
    r = run("if __name__ == '__main__':\n    input()\nx = 1", "assert x == 1")
    assert r["status"] == "pass"


def test_memory_budget_is_relative_to_worker_size():
    prog = "x = bytearray(200 * 1024 * 1024)\ndef n():\n    return len(x)"
    assert run(prog, "assert n()", memory_mb=1024)["status"] == "pass"
    assert run(prog, "assert n()", memory_mb=64)["status"] == "memory"


def test_error_bucket_rejects_harness_error():
    with pytest.raises(ValueError):
        error_bucket({"status": "harness_error"})
    assert error_bucket({"status": "memory", "exc_type": "MemoryError"}) == "other"
    assert error_bucket({"status": "output_limit", "exc_type": None}) == "other"


def test_results_in_input_order_and_duplicates_run_once(tmp_path):
    progs = [{"id": str(i), "program": f"x = {i % 7}", "tests": f"assert x == {i % 7}"} for i in range(40)]
    progs[5]["tests"] = "assert x == -1"
    rs = execute_many(progs, workers=2, progress=False)
    assert [r["id"] for r in rs] == [p["id"] for p in progs]
    assert [r["status"] for r in rs].count("fail") == 1 and rs[5]["status"] == "fail"


def test_cache_resume_and_truncated_tail(tmp_path):
    cache = tmp_path / "cache.jsonl"
    progs = [{"id": str(i), "program": f"x = {i}", "tests": f"assert x == {i}"} for i in range(6)]
    first = execute_many(progs[:4], workers=1, cache_path=str(cache), progress=False)
    lines = cache.read_text().splitlines()
    assert len(lines) == 4
    # simulate a run killed mid-write: the last line is cut
    cache.write_text("\n".join(lines[:3]) + "\n" + lines[3][: len(lines[3]) // 2])
    again = execute_many(progs, workers=1, cache_path=str(cache), progress=False)
    assert [r["status"] for r in again] == ["pass"] * 6
    assert [r["key"] for r in again[:4]] == [r["key"] for r in first]
    recs = [json.loads(line) for line in cache.read_text().splitlines()]
    assert len(recs) == 6  # 3 kept + the cut one re-run + 2 new; nothing run twice
    assert len({r["key"] for r in recs}) == 6
    # a cached program is not re-run: poison the cache and see the cached record come back
    recs[0]["stdout_tail"] = "from-cache"
    cache.write_text("".join(json.dumps(r) + "\n" for r in recs))
    assert execute_many(progs[:1], workers=1, cache_path=str(cache), progress=False)[0]["stdout_tail"] == "from-cache"


def test_content_key_covers_limits_and_version():
    a = normalize_program({"program": "x", "tests": "y"})
    b = normalize_program({"program": "x", "tests": "y", "timeout": 6})
    c = normalize_program({"program": "x", "tests": "y", "memory_mb": 10})
    assert len({content_key(a), content_key(b), content_key(c)}) == 3


@pytest.mark.parametrize("rec,msg", [
    ({"tests": ""}, "missing field 'program'"),
    ({"program": 3}, "field 'program' must be a string"),
    ({"program": "", "timeout": -1}, "field 'timeout'"),
    ({"program": "", "timeout": "5"}, "field 'timeout'"),
    ({"program": "", "memory_mb": 1.5}, "field 'memory_mb'"),
    ({"program": "", "capture": 1}, "field 'capture'"),
])
def test_bad_program_records(rec, msg):
    with pytest.raises(UserError, match=msg):
        execute_many([rec], progress=False)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "leti.cli", "execute", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=120)


def test_cli_roundtrip_and_bad_lines(tmp_path):
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text(json.dumps({"id": "a", "program": PROG, "tests": "assert add(1, 2) == 3"}) + "\n\n"
                   + json.dumps({"id": "b", "program": "\x00\xff garbage", "tests": ""}) + "\n"
                   + json.dumps({"id": "c", "program": "while True: pass"}) + "\n")
    p = _cli(inp, out, "--workers", "2", "--no-progress", "--timeout", "0.5", "--cache", tmp_path / "c.jsonl")
    assert p.returncode == 0, p.stderr
    rs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["status"] for r in rs] == ["pass", "syntax_error", "timeout"]
    assert rs[2]["wall_s"] < 2
    cases = [
        ('{"id": "a", "program": "x"}\n{"id": "b"}\n', "in.jsonl:2: missing field 'program'"),
        ('{"id": "a", "program": "x"}\n{"id": "a", "program": "y"}\n', "in.jsonl:2: field 'id'"),
        ('{"id": "a", "program": "x"}\nnot json\n', "in.jsonl:2: not valid JSON"),
        ('{"program": "x"}\n', "in.jsonl:1: missing field 'id'"),
        ('{"id": "a", "program": "x", "timeout": 0}\n', "in.jsonl:1: field 'timeout'"),
    ]
    for text, msg in cases:
        inp.write_text(text)
        p = _cli(inp, tmp_path / "o2.jsonl", "--no-progress")
        assert p.returncode == 2 and msg in p.stderr and "Traceback" not in p.stderr, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1
    inp.write_bytes(b'{"id": "a", "program": "\xff\xfe"}\n')
    p = _cli(inp, tmp_path / "o3.jsonl", "--no-progress")
    assert p.returncode == 2 and "in.jsonl:1: not valid UTF-8" in p.stderr
    assert not (tmp_path / "o2.jsonl").exists()


def test_worker_never_imports_torch_and_is_clean():
    w = pool_mod.Worker()
    try:
        hello = w.wait_ready()
        assert hello["torch_loaded"] is False
        w.proc.stdin.write(b'{"ping": true}\n')
        w.proc.stdin.flush()
        mods = w._read(30)["modules"]
        assert not any(m == "torch" or m.startswith(("torch.", "numpy", "transformers")) for m in mods)
    finally:
        w.close()


def test_fallback_level_without_namespaces(monkeypatch):
    """LETI_EXECUTOR_SANDBOX=rlimits forces the minimal level (what runs where namespaces are refused)."""
    monkeypatch.setenv("LETI_EXECUTOR_SANDBOX", "rlimits")
    p = pool_mod.Pool(1)
    try:
        out = {}
        jobs = [normalize_program({"program": PROG + extra, "tests": t, "timeout": 1.0}) for extra, t in
                [("", "assert add(1, 2) == 3"), ("", "assert add(1, 2) == 4"), ("\nimport os\nos._exit(0)", ""),
                 ("\nimport subprocess\nsubprocess.Popen(['sleep', '1000'])", ""), ("\nwhile True: pass", "")]]
        p.run(jobs, lambda i, r: out.__setitem__(i, r))
        assert [out[i]["status"] for i in range(5)] == ["pass", "fail", "error", "pass", "timeout"]
        assert out[0]["sandbox"] == "rlimits"
        left = [d for d in os.listdir("/proc") if d.isdigit() and _cmd(d).startswith(b"sleep\x001000")]
        assert not left
    finally:
        p.close()


def _cmd(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_two_answers_arriving_in_one_read_are_both_seen():
    """Regression: with two requests in flight, both answers can arrive in one read; the second must
    not wait for more data on the pipe (it used to stall for the 30 s grace period)."""
    import time

    w = pool_mod.Worker()
    try:
        w.wait_ready()
        w.send({"ping": True})
        w.send({"ping": True})
        time.sleep(0.5)  # both answers are now in the pipe
        t0 = time.monotonic()
        assert w._read(5)["pong"] and w._read(5)["pong"]
        assert time.monotonic() - t0 < 2
    finally:
        w.close()


def test_the_interpreter_is_configurable(tmp_path):
    """execute.python: programs run under another interpreter (here: this one, named explicitly)."""
    import sys

    from leti.core.errors import UserError
    from leti.execution.executor import content_key, normalize_program
    from leti.execution.verdicts import execute_with_verdicts

    prog = {"id": "p", "program": "import sys\nprint(sys.version_info[:2])", "tests": "assert True"}
    (r,) = execute_with_verdicts([prog], None, workers=1, progress=False, python=sys.executable)
    assert r["status"] == "pass"
    job = normalize_program(prog)
    assert content_key(job) != content_key(job, "/other/python3.8")  # caches never mix interpreters
    with pytest.raises(UserError, match="is not an executable file"):
        execute_with_verdicts([prog], None, workers=1, progress=False, python=str(tmp_path / "nope"))


# ---------------------------------------------------------------- hardening (issue #17)
def test_out_of_range_limits_are_one_line_errors(tmp_path):
    inp = tmp_path / "in.jsonl"
    for text, msg in [('{"id": "a", "program": "x", "timeout": 1e12}\n', "in.jsonl:1: field 'timeout'"),
                      ('{"id": "a", "program": "x", "timeout": NaN}\n', "in.jsonl:1: field 'timeout'"),
                      ('{"id": "a", "program": "x"}\n{"id": "b", "program": "x", "timeout": 3e6}\n', "in.jsonl:2: field 'timeout'"),
                      ('{"id": "a", "program": "x", "memory_mb": 99999999999}\n', "in.jsonl:1: field 'memory_mb'")]:
        inp.write_text(text)
        p = _cli(inp, tmp_path / "o.jsonl", "--no-progress")
        assert p.returncode == 2 and msg in p.stderr and "Traceback" not in p.stderr, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1
    inp.write_text('{"id": "a", "program": "x"}\n')
    for flag in (["--timeout", "1e12"], ["--timeout", "nan"], ["--memory-mb", "0"]):
        p = _cli(inp, tmp_path / "o.jsonl", "--no-progress", *flag)
        assert p.returncode == 2 and flag[0] in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_lone_surrogates_never_lose_a_batch(tmp_path):
    """Surrogates in an id, meta, captured value or message are escaped; the cached rerun works too."""
    inp, out, cache = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "c.jsonl"
    recs = [{"id": "ok", "program": PROG, "tests": "assert add(1, 2) == 3"},
            {"id": "s\ud800", "program": "x = 1", "meta": {"m": "\udfff"},
             "capture": "__leti_capture__ = [chr(0xd800)]"},
            {"id": "e", "program": "raise ValueError(chr(0xdc80))"}]
    inp.write_text("".join(json.dumps(r) + "\n" for r in recs))
    for _ in range(2):  # the second run comes from the cache
        p = _cli(inp, out, "--no-progress", "--cache", cache)
        assert p.returncode == 0, p.stderr
        rs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert [r["status"] for r in rs] == ["pass", "pass", "error"]
        assert rs[1]["id"] == "s\\ud800" and rs[1]["captured"] == ["\\ud800"] and rs[1]["meta"] == {"m": "\\udfff"}
        assert rs[2]["exc_type"] == "ValueError"  # the worker already replaced the surrogate in the message


def test_cgroup_v2_setup_on_a_fake_hierarchy(tmp_path):
    """The v2 path (not mounted on this machine): controllers enabled in the parent, limits written."""
    from leti.execution.executor import cgroup as cg

    root = tmp_path / "cg"
    (root / "leti-exec-7").mkdir(parents=True)  # a real cgroupfs creates the interface files on mkdir
    for f in ("memory.max", "memory.swap.max", "pids.max", "cgroup.procs", "memory.events"):
        (root / "leti-exec-7" / f).write_text("")
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    (tmp_path / "mountinfo").write_text(f"30 20 0:26 / {root} rw,nosuid - cgroup2 cgroup2 rw\n")
    (tmp_path / "cgroup").write_text("0::/\n")
    spec = cg.setup(64, name="leti-exec-7", mountinfo=str(tmp_path / "mountinfo"), cgroup_file=str(tmp_path / "cgroup"))
    assert spec is not None and spec["version"] == 2
    assert (root / "cgroup.subtree_control").read_text() == "+memory +pids"
    assert (root / "leti-exec-7" / "pids.max").read_text() == "64"
    assert (root / "leti-exec-7" / "memory.swap.max").read_text() == "0"
    assert cg.set_memory(spec, 300 << 20) and (root / "leti-exec-7" / "memory.max").read_text() == str(300 << 20)
    (root / "leti-exec-7" / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n")
    assert cg.oom_kills(spec) == 2


def test_cleanup_removes_deep_trees_without_following_links(tmp_path):
    from leti.execution.executor import cleanup as cl

    host = tmp_path / "host"
    host.mkdir()
    (host / "f").write_text("x")
    os.chmod(host, 0o755)
    top = tmp_path / "scratch"
    top.mkdir()
    d = str(top)
    for _ in range(1100):
        d = os.path.join(d, "d")
        os.mkdir(d) if len(d) < 4000 else None
        if len(d) >= 4000:
            break
    os.symlink(host, os.path.join(os.path.dirname(d) if len(d) >= 4000 else d, "link"))
    assert cl.run_cleaner(None, [(str(top), set(), False)], False)
    assert os.listdir(top) == [] and (host / "f").read_text() == "x" and oct(os.stat(host).st_mode & 0o777) == "0o755"


def test_workers_import_the_parents_leti_not_another_install():
    """The worker's PYTHONPATH is the directory holding this `leti` package, so a checkout that is not the
    installed one (an old worktree, a bench baseline) runs its own executor code in its workers."""
    from pathlib import Path

    import leti
    from leti.execution.executor.pool import _package_root, _worker_env

    holder = str(Path(leti.__file__).resolve().parents[1])
    assert _worker_env()["PYTHONPATH"] == holder
    assert str(Path(_package_root()).resolve()) == holder


def test_no_program_can_cost_a_batch_its_records(tmp_path):
    """Crafted exception names, deep and huge values in every field, forged records: through the real CLI,
    the run exits 0 and every honest program of the batch keeps its own record (issue #22)."""
    deep = "v = []\nfor _ in range(100000):\n    v = [v]\n"
    nasty = [
        "class E(Exception):\n    pass\nE.__name__ = '\\udc80\\n' * 50000\nE.__qualname__ = 'q' * 10**6\nraise E('x' * 10**7)",
        deep + "raise ValueError(v)",
        "class E(Exception):\n    def __str__(self):\n        raise E()\nraise E()",
        "import sys\nfor fr in [sys._getframe()]:\n    pass\nimport os\nos.write(3, b'{\"status\": [[[[' * 10000 + b'\\n')",
        "def f(x):\n    v = []\n    for _ in range(100000):\n        v = [v]\n    return v",
    ]
    recs = []
    for i, prog in enumerate(nasty):
        recs.append({"id": f"nasty{i}", "program": prog, "tests": "assert f(1) == 2", "capture": deep + "__leti_capture__ = v"})
        recs.append({"id": f"honest{i}", "program": PROG, "tests": "assert add(1, 2) == 3"})
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in recs))
    p = _cli(inp, out, "--no-progress", "--workers", "2", "--timeout", "5")
    assert p.returncode == 0, p.stderr[-3000:]
    rs = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert set(rs) == {r["id"] for r in recs}
    for i in range(len(nasty)):
        assert rs[f"honest{i}"]["status"] == "pass" and rs[f"honest{i}"]["verdicts"]["faithful"]["status"] == "pass"
        assert rs[f"nasty{i}"]["status"] not in ("pass", "harness_error"), rs[f"nasty{i}"]["status"]
        assert len(json.dumps(rs[f"nasty{i}"])) < 200_000


def test_the_jail_view_holds_only_the_runtime_and_leti(tmp_path):
    """bwrap's argv (when bwrap runs here): the private tmpfs mounts come first, so a checkout under /tmp is
    bound on top of them and kept by the worker's cleanup; nothing of the repository but `leti/` is bound."""
    import sys

    from leti.execution.executor import jail

    if jail.bwrap() is None:
        pytest.skip("no bwrap that runs here")
    root = str(tmp_path / "checkout")
    args, layers, keep = jail.command(sys.executable, root, [], None)
    binds = [args[i + 1] for i, a in enumerate(args) if a == "--ro-bind"]
    assert args.index("--tmpfs") < args.index("--ro-bind")
    assert root + "/leti" in binds and root not in binds and str(REPO) not in binds
    assert not any(b.startswith(str(REPO) + "/") and not b.startswith((str(REPO) + "/leti", str(REPO) + "/.venv"))
                   for b in binds)
    if root.startswith("/tmp/"):
        assert "/tmp/" + root.split("/")[2] in keep
    assert {"pidns", "netns", "ipcns", "mntns"} <= set(layers)


def test_slots_get_a_core_each_when_there_are_enough():
    """pool.slot_cpus: one distinct usable core per slot when the pool has one slot per core; none pinned
    otherwise (several smaller pools at once must not crowd the first cores)."""
    cpus = sorted(os.sched_getaffinity(0))
    assert pool_mod.slot_cpus(len(cpus)) == cpus
    assert pool_mod.slot_cpus(len(cpus) + 1) == [None] * (len(cpus) + 1)
    if len(cpus) > 1:
        assert pool_mod.slot_cpus(1) == [None]


def test_pinning_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("LETI_EXECUTOR_PIN", "0")
    assert pool_mod.slot_cpus(1) == [None]


def test_a_slot_and_its_programs_run_on_the_slot_core():
    """The judge, its jailed worker and the program's process share the slot's core (local hand-overs)."""
    core = sorted(os.sched_getaffinity(0))[0]
    w = pool_mod.Worker(cpu=core)
    try:
        w.wait_ready()
        r = w.call(normalize_program({"program": "import os\ncores = sorted(os.sched_getaffinity(0))",
                                      "tests": f"assert cores == [{core}]", "timeout": 5.0}))
        assert r["verdicts"]["faithful"]["status"] == "pass", r
        assert os.sched_getaffinity(w.pid) == {core}
    finally:
        w.close()


def test_each_phase_runs_in_its_own_empty_directory_named_by_home_and_tmpdir():
    """The hardened phase's module code and the faithful phase's each start in an empty working directory
    that HOME and TMPDIR name (set partly by the worker before the fork), and what the first wrote is gone
    before the second runs, also where the program's directory has a non-empty sibling left from it."""
    program = ("import os\n"
               "cwd = os.getcwd()\n"
               "SEEN = sorted(os.listdir('.'))\n"
               "SIBLING = sorted(os.listdir(cwd + 'h')) if os.path.isdir(cwd + 'h') else None\n"
               "open('mark', 'w').write('x')\n"
               "os.mkdir('made')\n"
               "open('made/inner', 'w').write('x')\n"
               "SAME = cwd == os.environ['HOME'] == os.environ['TMPDIR']\n"
               "def f():\n"
               "    return SEEN, SIBLING in (None, []), SAME")
    rec = run(program, "assert f() == ([], True, True)")
    assert {k: v["status"] for k, v in rec["verdicts"].items()} == {"faithful": "pass", "hardened": "pass"}, rec
