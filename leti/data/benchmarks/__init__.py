"""Real benchmarks (MBPP, HumanEval, GSM8K-PaL, Big-Bench-Hard): loaders, prompts, scoring.

`prepare(benchmark, split, ...)` returns (problems, provenance); `leti data` writes them as the
canonical Problem JSONL of docs/contracts.md plus a manifest.
"""
from __future__ import annotations

BENCHMARKS = ("mbpp", "humaneval", "gsm8k", "bbh")


def prepare(benchmark: str, split: str = "test", *, data_root=None, source: str = "local",
            shots: int = 0, style: str | None = None, limit: int | None = None, tasks=None):
    """Problems of one benchmark split and their provenance (data hashes, template id).

    `limit` keeps the first N problems (for BBH: the first N examples of *each* task)."""
    from leti.core.errors import UserError

    if benchmark == "mbpp":
        from leti.data.benchmarks import mbpp
        problems, prov = mbpp.load_problems(split, data_root, source, shots)
    elif benchmark == "humaneval":
        from leti.data.benchmarks import humaneval
        problems, prov = humaneval.load_problems(split, data_root, source)
    elif benchmark == "gsm8k":
        from leti.data.benchmarks import gsm8k
        problems, prov = gsm8k.load_problems(split, data_root, source, style or "leti")
    elif benchmark == "bbh":
        from leti.data.benchmarks import bbh
        problems, prov = bbh.load_problems(split, data_root, source, style or "direct", tasks, limit)
        return problems, {**prov, "limit_per_task": limit}
    else:
        raise UserError(f"unknown benchmark '{benchmark}' (choose from {', '.join(BENCHMARKS)})")
    if shots and benchmark != "mbpp":
        raise UserError("--shots applies to mbpp only")
    if limit:
        problems = problems[:limit]
    return problems, {**prov, "limit": limit}
