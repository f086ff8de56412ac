"""Sampling engines side by side: TorchSampler (`--engine hf`) against vLLM (`--engine vllm`), interleaved.

Each measurement is one real `leti sample` job, as the workflow runs it: a process start, the imports,
the model load (and for vLLM the hand-over to its environment and the engine start), then sampling.
Reported per job: wall time (what a sampling job of the workflow pays), the start-up part (model load
+ engine start, from the job's own line), sampling time and new tokens/s (EOS not counted). Runs
alternate engines and models (the order flips every repetition), so machine load hits both alike;
ratios are vLLM over TorchSampler within the same repetition, and the median is printed. On CPU it also
estimates the embedded default's whole sampling time under each engine (its sampling jobs from
config.yaml, each paying the measured start, its tokens at the measured rate), which chose its engine.

    python bench/sampling.py --out bench/results/sampling-cpu.json --plot bench/results/sampling-cpu.png
    python bench/sampling.py --from bench/results/sampling-cpu.json --plot ...  # again, from a result
    python bench/sampling.py --device cuda --models 350m      # GPU: CodeGen-350M shape, random weights
    python bench/sampling.py --device cuda --models 350m,2b --vllm-env /path/to/python-with-vllm

CPU models: `tiny` = the tiny default's base checkpoint (work/base/default/ckpt; build it with
`snakemake --cores 2 work/base/default/ckpt`) sampled on the synthetic test prompts, 64 prompts x 16
samples x 128 new tokens at T=1 (the issue's setting); `codegen` = the 350M stand-in of `leti
hub-standin` (random weights, converted to GPT-J for vLLM; the conversion time is reported). GPU models:
CodeGen-mono 350M / 2B shapes with random weights and a 51,200-entry tokenizer, 192-token prompts, 128
samples per prompt, 256 new tokens (the paper's sampling; random weights rarely emit EOS). Goals on a
GPU (issue 25): vLLM >= 10x TorchSampler and >= 30,000 new tokens/s at 350M; printed as ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LINE = re.compile(r"leti sample: engine (\w+): (\d+) samples, (\d+) new tokens in ([\d.]+) s .*?"
                  r"model load and engine start ([\d.]+) s")
GPU_SHAPES = {  # CodeGen-mono configurations (bench/gpu.py)
    "350m": dict(n_layer=20, n_embd=1024, n_head=16, rotary_dim=32),
    "2b": dict(n_layer=32, n_embd=2560, n_head=32, rotary_dim=64),
}
GOAL_RATIO, GOAL_TOKENS_350M = 10.0, 30_000


def leti() -> list[str]:
    """`leti` of this interpreter (also where only PYTHONPATH points at the repository, as on a GPU node)."""
    return [sys.executable, "-m", "leti.cli"]


def run_job(model: str, problems: str, engine: str, args, out_dir: Path, vllm_model: str | None = None,
            n: int | None = None, limit: int | None = None) -> dict:
    out = out_dir / f"{engine}-{time.monotonic_ns()}.jsonl"
    cmd = [*leti(), "sample", "--model", model, "--problems", problems, "--n", str(n or args.n),
           "--max-new-tokens", str(args.max_new_tokens), "--temperature", str(args.temperature),
           "--batch-size", str(args.batch_size), "--seed", "0", "--out", str(out), "--no-progress",
           "--engine", engine, "--device", args.device]
    if limit or args.prompts:
        cmd += ["--limit", str(limit or args.prompts)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if engine == "vllm":
        cmd += ["--vllm-env", args.stamp] + (["--vllm-model", vllm_model] if vllm_model else [])
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True,
                       env={**os.environ, "LETI_WARM": "0",
                            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)})
    wall = time.perf_counter() - t0
    m = LINE.search(r.stdout + r.stderr)
    if r.returncode or not m:
        raise SystemExit(f"{' '.join(cmd[:10])} ... failed (exit {r.returncode}):\n{(r.stdout + r.stderr)[-3000:]}")
    samples, tokens, sample_s, start_s = int(m[2]), int(m[3]), float(m[4]), float(m[5])
    out.unlink(missing_ok=True)
    return {"engine": engine, "wall_s": round(wall, 2), "start_s": start_s, "sample_s": sample_s, "samples": samples,
            "new_tokens": tokens, "tokens_per_s": round(tokens / max(sample_s, 1e-9), 1),
            "overhead_s": round(wall - sample_s, 2)}


# ------------------------------------------------------------------ models
def cpu_models(args, tmp: Path) -> dict:
    """name -> (checkpoint, problems, vLLM dir or None, conversion seconds)."""
    out = {}
    problems = Path(args.problems)
    ckpt = Path(args.tiny_ckpt)
    if not problems.exists() or ("tiny" in args.models and not ckpt.exists()):
        raise SystemExit(f"{ckpt} or {problems} missing: build them with "
                         "`snakemake --cores 2 work/base/default/ckpt work/data/synth/seed=0/test.jsonl`")
    if "tiny" in args.models:
        out["tiny"] = (str(ckpt), str(problems), None, 0.0)
    if "codegen" in args.models:
        from leti.model.gptj_convert import prepare_for_vllm
        from leti.model.loading import add_leti_tokens, load_model, load_tokenizer
        from leti.model.checkpoint import save_checkpoint
        from leti.model.standin import build_standins

        src = build_standins(tmp / "hf", n_files=200, vocab_size=2000)["models"]["Salesforce/codegen-350M-mono"]
        tok, model = load_tokenizer(src), load_model(src)
        add_leti_tokens(model, tok)
        ckpt = save_checkpoint(tmp / "codegen", model, tok)
        t0 = time.perf_counter()
        prepare_for_vllm(ckpt, tmp / "codegen-vllm")
        out["codegen"] = (str(ckpt), str(problems), str(tmp / "codegen-vllm"), round(time.perf_counter() - t0, 2))
    return out


def gpu_models(args, tmp: Path) -> dict:
    """Random-weight CodeGen shapes saved with a 51,200-entry tokenizer; prompts of about 192 tokens."""
    import torch
    from transformers import CodeGenConfig, CodeGenForCausalLM

    from leti.model.gptj_convert import prepare_for_vllm
    from leti.model.standin import codegen_tokenizer, python_files, read_sources

    texts = [t for _, t in read_sources(python_files(200))]
    tok = codegen_tokenizer(texts, 2000)
    tok.add_tokens([f"<x{i}>" for i in range(51200 - len(tok))])  # every id the model can emit decodes
    prompts = tmp / "prompts.jsonl"
    with open(prompts, "w") as fh:
        for k, text in enumerate(texts[: args.prompts or 16]):
            ids = tok(text, add_special_tokens=False)["input_ids"][:192]
            fh.write(json.dumps({"task_id": f"p{k}", "prompt": tok.decode(ids)}) + "\n")
    out = {}
    for name in args.models:
        eos = tok.eos_token_id
        cfg = CodeGenConfig(vocab_size=51200, n_positions=2048, n_ctx=2048, bos_token_id=eos, eos_token_id=eos,
                            tie_word_embeddings=False, **GPU_SHAPES[name])
        torch.manual_seed(0)
        model = CodeGenForCausalLM(cfg)
        model.save_pretrained(tmp / name)
        tok.save_pretrained(tmp / name)
        del model
        t0 = time.perf_counter()
        prepare_for_vllm(tmp / name, tmp / f"{name}-vllm")
        out[name] = (str(tmp / name), str(prompts), str(tmp / f"{name}-vllm"), round(time.perf_counter() - t0, 2))
    return out


# ------------------------------------------------------------------ main
def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--models", default=None, help="cpu: tiny,codegen (default both); cuda: 350m,2b (default 350m)")
    p.add_argument("--reps", type=int, default=3, help="repetitions (each runs every engine and model once)")
    p.add_argument("--prompts", type=int, default=None, help="prompts per job (cpu 64; cuda 16)")
    p.add_argument("--n", type=int, default=None, help="samples per prompt (cpu 16; cuda 128)")
    p.add_argument("--hf-prompts", type=int, default=None, help="cuda: prompts of TorchSampler's jobs (default 2: "
                   "it is ~10x slower; tokens/s is a rate)")
    p.add_argument("--max-new-tokens", type=int, default=None, help="cpu 128; cuda 256")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=128, help="TorchSampler's rows decoded together")
    p.add_argument("--threads", type=int, default=None, help="torch threads per job (cpu default 1, as the workflow)")
    p.add_argument("--tiny-ckpt", default=str(REPO / "work" / "base" / "default" / "ckpt"))
    p.add_argument("--problems", default=str(REPO / "work" / "data" / "synth" / "seed=0" / "test.jsonl"),
                   help="cpu: the prompts (the tiny default's synthetic test problems)")
    p.add_argument("--vllm-env", default="auto", help="auto | cpu | cuda | a Python with vLLM (leti vllm-env --env)")
    p.add_argument("--out", default=None, help="JSON with every run and the summary")
    p.add_argument("--plot", default=None, help="a PNG of the medians (with --from: of that result)")
    p.add_argument("--from", dest="source", default=None, help="summarize and plot a result JSON again, no runs")
    p.add_argument("--default-work", default=None, help="cpu: the default's work dir, to count its problems")
    args = p.parse_args(argv)
    if args.source:
        result = json.loads(Path(args.source).read_text())
        if result["device"] == "cpu" and "tiny" in result["summary"]:
            result["default_estimate"] = default_estimate(result["runs"], default_sampling_jobs(
                str(REPO / "config.yaml"), args.default_work))
            print_default(result["default_estimate"])
        if args.out:
            from leti.core.io import atomic_write_json

            atomic_write_json(args.out, result)
        if args.plot:
            plot(result, args.plot)
        return 0
    gpu = args.device == "cuda"
    args.models = (args.models or ("350m" if gpu else "tiny,codegen")).split(",")
    args.prompts = args.prompts or (16 if gpu else 64)
    args.n = args.n or (128 if gpu else 16)
    args.max_new_tokens = args.max_new_tokens or (256 if gpu else 128)
    args.threads = args.threads or (None if gpu else 1)
    tmp = Path(tempfile.mkdtemp(prefix="bench-sampling-"))
    try:
        args.stamp = str(tmp / "vllm.json")
        t0 = time.perf_counter()
        subprocess.run([*leti(), "vllm-env", "--env", args.vllm_env, "--out", args.stamp], check=True)
        env_s = time.perf_counter() - t0
        models = gpu_models(args, tmp) if gpu else cpu_models(args, tmp)
        runs = []
        for rep in range(args.reps):
            for name, (ckpt, problems, vllm_dir, _) in models.items():
                for engine in (("hf", "vllm") if rep % 2 == 0 else ("vllm", "hf")):
                    limit = (args.hf_prompts or 2) if gpu and engine == "hf" else None
                    r = run_job(ckpt, problems, engine, args, tmp, vllm_model=vllm_dir, limit=limit)
                    r.update(model=name, rep=rep)
                    runs.append(r)
                    print(f"rep {rep} {name:8s} {engine:5s} wall {r['wall_s']:7.1f} s  start {r['start_s']:6.1f} s  "
                          f"sample {r['sample_s']:7.1f} s  {r['new_tokens']:8d} tokens  {r['tokens_per_s']:9.0f} tok/s",
                          flush=True)
        summary = summarize(runs, models, gpu)
        print_summary(summary, gpu)
        estimate = None
        if not gpu and "tiny" in models:
            estimate = default_estimate(runs, default_sampling_jobs(str(REPO / "config.yaml"), args.default_work))
            print_default(estimate)
        if args.out:
            from leti.core.io import atomic_write_json
            from leti.core.provenance import environment

            atomic_write_json(args.out, {"device": args.device, "machine": platform.platform(),
                                         "cpus": os.cpu_count(), "load_avg": os.getloadavg(),
                                         "settings": {k: v for k, v in vars(args).items() if k != "stamp"},
                                         "vllm_env_seconds": round(env_s, 1), "environment": environment(),
                                         "runs": runs, "summary": summary,
                                         **({"default_estimate": estimate} if estimate else {})})
            if args.plot:
                plot(json.loads(Path(args.out).read_text()), args.plot)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def summarize(runs: list[dict], models: dict, gpu: bool) -> dict:
    out = {}
    for name in models:
        per = {e: [r for r in runs if r["model"] == name and r["engine"] == e] for e in ("hf", "vllm")}
        med = {e: {k: statistics.median(r[k] for r in rs) for k in ("wall_s", "start_s", "sample_s", "tokens_per_s",
                                                                     "new_tokens")} for e, rs in per.items()}
        pairs = [(h, v) for h in per["hf"] for v in per["vllm"] if h["rep"] == v["rep"]]
        ratio = statistics.median(v["tokens_per_s"] / h["tokens_per_s"] for h, v in pairs)
        wall_ratio = statistics.median(h["wall_s"] / v["wall_s"] for h, v in pairs) if not gpu else None
        # a job's wall time is start + sampling: vLLM wins a job once its extra start is paid back
        extra_start = med["vllm"]["start_s"] - med["hf"]["start_s"]
        hf_rate, v_rate = med["hf"]["tokens_per_s"], med["vllm"]["tokens_per_s"]
        breakeven = extra_start / (1 / hf_rate - 1 / v_rate) if v_rate > hf_rate and extra_start > 0 else None
        out[name] = {"median": med, "tokens_per_s_ratio_vllm_over_hf": round(ratio, 2),
                     "job_wall_ratio_hf_over_vllm": round(wall_ratio, 2) if wall_ratio else None,
                     "conversion_s": models[name][3],
                     "breakeven_new_tokens_per_job": round(breakeven) if breakeven else None}
        if gpu:
            out[name]["goal_ratio"] = {"goal": GOAL_RATIO, "measured": round(ratio, 2), "met": ratio >= GOAL_RATIO}
            if name == "350m":
                out[name]["goal_tokens_per_s"] = {"goal": GOAL_TOKENS_350M, "measured": v_rate,
                                                  "fraction": round(v_rate / GOAL_TOKENS_350M, 2)}
    return out


def default_sampling_jobs(config: str, work: str | None) -> dict:
    """The embedded default's sampling jobs (config.yaml: training samples and evaluations of every run and
    iteration), with their samples and the most new tokens they may decode (problems counted in `work`'s data
    files where they exist, else their config limit)."""
    import yaml

    from leti.workflow import specs
    from leti.workflow.freshness import Catalog
    from leti.workflow.plan import Plan

    cfg = yaml.safe_load(Path(config).read_text())
    if work:
        cfg["workdir"] = work
    plan = Plan(cfg)
    cat = Catalog(plan)

    def problems(path: str, limit) -> int:
        try:
            count = sum(1 for _ in open(path, encoding="utf-8"))
        except OSError:
            count = limit or 0
        return min(count, limit) if limit else count

    jobs = []
    for rule in ("sample_train", "eval_sample"):
        for job in cat.of_rule(rule):
            wc = job.wildcards
            if rule == "sample_train":
                items = [specs.train_sample_item(plan, cat.lookup["loop"][(wc["lk"], int(wc["it"]))], int(wc["it"]))]
            else:
                items = specs.eval_sample_spec(plan, cat.lookup["eval_any"][(wc["ek"], int(wc["it"]))], int(wc["it"]))
            samples = [problems(i["problems"], i.get("limit")) * i["n"] for i in items]
            jobs.append({"rule": rule, "samples": sum(samples),
                         "max_new_tokens": sum(s * i["max_new_tokens"] for s, i in zip(samples, items))})
    return {"config": config, "jobs": len(jobs), "samples": sum(j["samples"] for j in jobs),
            "max_new_tokens": sum(j["max_new_tokens"] for j in jobs)}


def default_estimate(runs: list[dict], plan: dict, model: str = "tiny") -> dict:
    """The default's sampling wall time under each engine: every job pays its fixed part (process, imports,
    model load, engine start: the measured median of wall - sampling) and its tokens at the measured rate.
    Tokens: the measured mean per sample (the synthetic prompts at 128 new tokens) and, as the bound most
    favourable to vLLM, every sample decoding its whole budget."""
    out = {}
    for e in ("hf", "vllm"):
        rs = [r for r in runs if r["model"] == model and r["engine"] == e]
        fixed = statistics.median(r["wall_s"] - r["sample_s"] for r in rs)
        rate = statistics.median(r["tokens_per_s"] for r in rs)
        per_sample = statistics.median(r["new_tokens"] / r["samples"] for r in rs)
        out[e] = {"fixed_s_per_job": round(fixed, 2), "tokens_per_s": round(rate),
                  "wall_s_measured_lengths": round(plan["jobs"] * fixed + plan["samples"] * per_sample / rate, 1),
                  "wall_s_full_budgets": round(plan["jobs"] * fixed + plan["max_new_tokens"] / rate, 1)}
    faster = min(("hf", "vllm"), key=lambda e: out[e]["wall_s_full_budgets"])
    return {**plan, "model": model, "engines": out, "faster": faster,
            "robust": faster == min(("hf", "vllm"), key=lambda e: out[e]["wall_s_measured_lengths"])}


def plot(result: dict, path: str) -> None:
    """Two panels per model: new tokens/s and a job's wall time split into start (load + engine) and the rest."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(result["summary"])
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    width = 0.38
    for k, engine in enumerate(("hf", "vllm")):
        xs = [i + (k - 0.5) * width for i in range(len(models))]
        med = [result["summary"][m]["median"][engine] for m in models]
        label = "TorchSampler (hf)" if engine == "hf" else "vLLM"
        axes[0].bar(xs, [m["tokens_per_s"] for m in med], width, label=label, color=f"C{k}")
        walls = [statistics.median(r["wall_s"] for r in result["runs"] if r["model"] == m and r["engine"] == engine)
                 for m in models]
        starts = [statistics.median(r["wall_s"] - r["sample_s"] for r in result["runs"]
                                    if r["model"] == m and r["engine"] == engine) for m in models]
        axes[1].bar(xs, starts, width, color=f"C{k}", alpha=0.45, hatch="//")
        axes[1].bar(xs, [w - s for w, s in zip(walls, starts)], width, bottom=starts, color=f"C{k}", label=label)
    for ax, title in zip(axes, ("new tokens/s (median)", "job wall time, s (hatched: start)")):
        ax.set_xticks(range(len(models)), models)
        ax.set_title(title, fontsize=10)
    axes[0].legend(fontsize=8)
    s = result["settings"]
    fig.suptitle(f"leti sample on {result['device']} ({result['cpus']} cores, load {result['load_avg'][0]:.1f}): "
                 f"{s['prompts']} prompts x {s['n']} samples x {s['max_new_tokens']} new tokens", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def print_summary(summary: dict, gpu: bool) -> None:
    print("\nmedians (hf = TorchSampler, vllm = vLLM; start = model load + engine start inside the job)")
    for name, s in summary.items():
        h, v = s["median"]["hf"], s["median"]["vllm"]
        print(f"{name}: tokens/s hf {h['tokens_per_s']:.0f}, vllm {v['tokens_per_s']:.0f} -> "
              f"x{s['tokens_per_s_ratio_vllm_over_hf']}; job wall hf {h['wall_s']:.1f} s, vllm {v['wall_s']:.1f} s "
              f"(start hf {h['start_s']:.1f} s, vllm {v['start_s']:.1f} s)"
              + (f"; vLLM pays back its start after {s['breakeven_new_tokens_per_job']} new tokens per job"
                 if s["breakeven_new_tokens_per_job"] else ""))
        if gpu:
            g = s["goal_ratio"]
            print(f"  goal vLLM/TorchSampler >= {g['goal']}x: {g['measured']}x ({'met' if g['met'] else 'NOT met'})")
            if "goal_tokens_per_s" in s:
                t = s["goal_tokens_per_s"]
                print(f"  goal >= {t['goal']} new tokens/s at 350M: {t['measured']:.0f} ({t['fraction']}x of the goal)")


def print_default(e: dict) -> None:
    h, v = e["engines"]["hf"], e["engines"]["vllm"]
    print(f"\nthe embedded default ({e['config']}): {e['jobs']} sampling jobs, {e['samples']} samples; sampling wall "
          f"hf {h['wall_s_measured_lengths']:.0f} s, vllm {v['wall_s_measured_lengths']:.0f} s at the measured lengths "
          f"(every budget used: hf {h['wall_s_full_budgets']:.0f} s, vllm {v['wall_s_full_budgets']:.0f} s) -> "
          f"{e['faster']}{'' if e['robust'] else ' (not robust: the two bounds disagree)'}")


if __name__ == "__main__":
    sys.exit(main())
