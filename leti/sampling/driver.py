"""Sample completions for a problem file: batching, conditioning, provenance and resume.

Results are appended batch by batch to `<out>.partial`; a killed job restarts and skips every
batch already there. Batches are formed deterministically (prompts sorted by length, as the
original did) and each batch's random stream is keyed by its content (TorchSampler) or each
prompt's by its task id and first sample index (vLLM), so a resumed run produces exactly the
samples an uninterrupted one would.
"""
from __future__ import annotations

import json
import os
from pathlib import Path


from leti.core.io import atomic_write_jsonl, iter_jsonl
from leti.core.progress import progress as progress_bar
from leti.core.vocab import condition_prompt
from leti.sampling.sampler import DecodingConfig, Sampler


def plan_batches(problems: list[dict], n: int, batch_size: int, tokenizer=None) -> list[list[tuple[int, int, int]]]:
    """Batches of (problem index, first sample idx, count); a batch holds at most `batch_size` rows."""
    order = sorted(range(len(problems)), key=lambda i: (len(problems[i]["prompt"]), problems[i]["task_id"]))
    chunks: list[tuple[int, int, int]] = []
    per = min(n, batch_size)
    for i in order:
        for start in range(0, n, per):
            chunks.append((i, start, min(per, n - start)))
    batches, cur, rows = [], [], 0
    for c in chunks:
        if cur and (rows + c[2] > batch_size or c[2] != cur[0][2]):
            batches.append(cur); cur, rows = [], 0
        cur.append(c); rows += c[2]
    if cur:
        batches.append(cur)
    return batches


def _calls(batches: list, rows_per_call: int | None) -> list[list]:
    """Consecutive batches handed to the engine in one call: one each (TorchSampler: a batch's key seeds
    its stream), or as many of the same n as fill `rows_per_call` (vLLM schedules its own batches, and
    seeds each prompt by its own key, so grouping changes no sample)."""
    if not rows_per_call:
        return [[b] for b in batches]
    calls, rows = [], 0
    for b in batches:
        count, n_rows = b[0][2], sum(c for _, _, c in b)
        if calls and calls[-1][0][0][2] == count and rows + n_rows <= rows_per_call:
            calls[-1].append(b)
            rows += n_rows
        else:
            calls.append([b])
            rows = n_rows
    return calls


def _drawn_by(provenance: dict) -> tuple:
    """What makes samples interchangeable on resume (not versions or the SLURM job id)."""
    return tuple(json.dumps(provenance.get(k), sort_keys=True)
                 for k in ("checkpoint", "checkpoint_step", "decoding", "conditioning", "engine"))


def sample_problems(problems: list[dict], sampler: Sampler, config: DecodingConfig, conditioning: str,
                    out_path: str | os.PathLike, provenance: dict, progress: bool = True) -> int:
    out_path = Path(out_path)
    partial = out_path.with_name(out_path.name + ".partial")
    done: dict[tuple[str, int], dict] = {}
    if partial.exists():
        rows = list(iter_jsonl(partial, tolerate_truncated_tail=True))
        if any(_drawn_by(r.get("provenance") or {}) != _drawn_by(provenance) for r in rows):
            print(f"{partial}: left by a job with other settings (model, decoding or conditioning); starting over")
            partial.unlink()
            rows = []
        for row in rows:
            done[(row["task_id"], row["sample_idx"])] = row
    if partial.exists():  # drop a cut-off last line so appends start on a fresh line
        lines = partial.read_text(encoding="utf-8").splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            partial.write_text("".join(lines[:-1]), encoding="utf-8")
    batches = plan_batches(problems, config.n, config.batch_size)
    total = sum(c[2] for b in batches for c in b)
    bar = progress_bar(total, f"sample[{conditioning}]", unit="sample", initial=len(done), disable=not progress)
    pending = [b for b in batches if not all((problems[i]["task_id"], s + k) in done for i, s, c in b for k in range(c))]
    with open(partial, "a", encoding="utf-8") as fh:
        for group in _calls(pending, getattr(sampler, "rows_per_call", None)):
            entries = [entry for batch in group for entry in batch]
            inputs = [condition_prompt(problems[i]["prompt"], conditioning) for i, _, _ in entries]
            per_prompt = DecodingConfig(**{**config.to_dict(), "n": entries[0][2], "stop": tuple(config.stop)})
            keys = [f"{problems[i]['task_id']}@{s}" for i, s, _ in entries]
            outs = sampler.sample(inputs, per_prompt, batch_key="|".join(keys), keys=keys)
            budgets = sampler.prompt_budgets(inputs, per_prompt) if hasattr(sampler, "prompt_budgets") \
                else [(None, None)] * len(inputs)
            for (i, start, count), model_input, completions, (n_tok, budget) in zip(entries, inputs, outs, budgets):
                for k, completion in enumerate(completions):
                    row = {"task_id": problems[i]["task_id"], "sample_idx": start + k, "conditioning": conditioning,
                           "model_input": model_input, "completion": completion, "provenance": provenance}
                    if n_tok is not None:  # what the context and the budget left this prompt (never cut)
                        row.update(prompt_tokens=n_tok, new_token_budget=budget)
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                    done[(row["task_id"], row["sample_idx"])] = row
            fh.flush()
            bar.update(sum(c for _, _, c in entries))
    bar.close()
    index = {p["task_id"]: j for j, p in enumerate(problems)}
    rows = sorted(done.values(), key=lambda r: (index.get(r["task_id"], 1 << 30), r["sample_idx"]))
    n = atomic_write_jsonl(out_path, rows)
    partial.unlink()
    return n
