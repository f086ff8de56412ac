"""vLLM behind the `Sampler` protocol, with TorchSampler's semantics.

What is the same as TorchSampler, by construction:
  - prompts are tokenized by the project's tokenizer (no special tokens added) and passed as token ids,
    so the reward tokens and every prompt token are identical;
  - the new-token budget of each prompt is `new_token_budget` (the original's total length: the prompt
    padded to a multiple of 128 plus the new tokens, never past the context); a prompt without room gets
    n empty samples and is never cut;
  - completions are decoded by the project's tokenizer from the generated token ids (up to EOS, special
    tokens skipped, the clean-up switch applied) and cut at the first stop sequence;
  - temperature, top-p (the smallest set of tokens whose mass reaches top_p) and greedy (temperature 0:
    one decode, repeated n times; vLLM refuses n > 1 when greedy).
What differs: the random streams. Each (prompt, sample) has its own seed, `request_seed(seed, key)` +
sample index, where key = "<task_id>@<first sample index>" (the driver's keys): a sample depends only on
the job's seed, its problem and its index, not on the batch it was drawn in, the other prompts, or
whether the job was resumed. On CPU (fp32) a rerun gives identical samples (tests/sampling); on a GPU,
batch composition can change the last bits of the logits and so, rarely, a token. TorchSampler's
samples for the same seed are different draws from the same distributions (checked statistically:
docs/measurements.md). vLLM decodes stop sequences with its own incremental detokenizer to stop early;
the returned text is always the project tokenizer's decode, cut as TorchSampler cuts.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from leti.core.errors import UserError
from leti.sampling.cleanup import decode_text
from leti.sampling.sampler import DecodingConfig, _cut_at_stop, _seed_for, new_token_budget

# head sizes vLLM's CPU attention kernels support (vllm/v1/attention/backends/cpu_attn.py, 0.32)
CPU_HEAD_SIZES = (32, 64, 80, 96, 112, 128, 160, 192, 224, 256, 512)
KV_CACHE_GB_VAR = "LETI_VLLM_KV_CACHE_GB"   # CPU only: memory reserved for the KV cache (default 1)


def request_seed(seed: int, key: str) -> int:
    """The seed of one prompt's request; vLLM gives its i-th sample seed + i (62 bits leave room)."""
    return _seed_for(seed, f"vllm|{key}") & ((1 << 62) - 1)


def model_context(config: dict) -> int | None:
    return config.get("n_positions") or config.get("max_position_embeddings")


def _head_size(config: dict) -> int | None:
    d = config.get("n_embd") or config.get("hidden_size")
    heads = config.get("n_head") or config.get("num_attention_heads")
    return config.get("head_dim") or (d // heads if d and heads else None)


def vllm_model_dir(model: str, vllm_model: str | None) -> str:
    """The directory vLLM loads: `vllm_model` (converted by the workflow), else `model` itself, converted
    to GPT-J into a temporary directory first when it is a CodeGen checkpoint."""
    if vllm_model:
        return vllm_model
    cfg = Path(model) / "config.json"
    if cfg.exists() and json.loads(cfg.read_text(encoding="utf-8")).get("model_type") == "codegen":
        from leti.model.gptj_convert import prepare_for_vllm

        out = Path(tempfile.mkdtemp(prefix="leti-vllm-")) / "model"
        prepare_for_vllm(model, out)
        print(f"vllm: converted the CodeGen checkpoint {model} to GPT-J in {out} (the workflow converts once per "
              "checkpoint: `leti vllm-model`)")
        return str(out)
    return model


class VllmSampler:
    """Samples with a vLLM engine that lives as long as this object (one engine start per job)."""

    rows_per_call = 4096  # the driver hands over this many rows at once: vLLM schedules its own batches
    new_tokens = 0  # tokens decoded so far, EOS not counted (the job's throughput line)

    def __init__(self, model_dir: str, tokenizer, device: str = "cpu", threads: int | None = None, seed: int = 0):
        config_path = Path(model_dir) / "config.json"
        if not config_path.exists():
            raise UserError(f"{model_dir}: --engine vllm needs a local checkpoint directory (no config.json)")
        config = json.loads(config_path.read_text(encoding="utf-8"))
        if config.get("model_type") == "codegen":
            raise UserError(f"{model_dir}: vLLM has no CodeGen; convert it with `leti vllm-model`")
        self.tok = tokenizer
        self.ctx = model_context(config)
        self.device = str(device)
        self.eos_id = tokenizer.eos_token_id
        on_cpu = not self.device.startswith("cuda")
        head = _head_size(config)
        if on_cpu and head not in CPU_HEAD_SIZES:
            raise UserError(f"{model_dir}: head size {head} is not one vLLM's CPU attention supports "
                            f"({', '.join(map(str, CPU_HEAD_SIZES))}); use --engine hf for this model on CPU")
        if on_cpu:
            # one process: no engine-core/worker processes to spawn (about 2x faster to start here), and
            # threads as the job was given (vLLM reads OMP_NUM_THREADS; it refuses set_num_threads later)
            os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
            import torch

            os.environ["OMP_NUM_THREADS"] = str(threads or torch.get_num_threads())  # else vLLM drops to 1
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
        t0 = time.time()
        from vllm import LLM
        import vllm

        kwargs = dict(model=str(model_dir), tokenizer=str(model_dir), seed=seed, generation_config="vllm",
                      max_model_len=self.ctx)
        if on_cpu:
            gb = float(os.environ.get(KV_CACHE_GB_VAR, "1"))
            # per-request seeds crash vLLM's CPU runner when a prefill is split in chunks ("CPU Generator does
            # not use offset"): whole prefills only; fp32 like TorchSampler on CPU
            kwargs.update(dtype="float32", enforce_eager=True, distributed_executor_backend="uni",
                          kv_cache_memory_bytes=int(gb * (1 << 30)), enable_chunked_prefill=False)
        else:
            import torch

            kwargs.update(dtype="bfloat16" if torch.cuda.is_bf16_supported() else "float16")
        self.llm = LLM(**kwargs)
        self.start_seconds = time.time() - t0
        self.info = {"name": "vllm", "vllm": vllm.__version__, "dtype": kwargs["dtype"],
                     "device": "cpu" if on_cpu else "cuda", "seeding": "per request"}
        print(f"vllm: engine started in {self.start_seconds:.1f} s ({model_dir}, {kwargs['dtype']})", flush=True)

    def context(self) -> int | None:
        return self.ctx

    def prompt_budgets(self, prompts: list[str], config: DecodingConfig) -> list[tuple[int, int]]:
        enc = self.tok(prompts, add_special_tokens=False)["input_ids"]
        return [(len(e), new_token_budget(len(e), config, self.ctx)) for e in enc]

    def _decode(self, token_ids, config: DecodingConfig) -> str:
        toks = list(token_ids)
        if self.eos_id is not None and self.eos_id in toks:
            toks = toks[: toks.index(self.eos_id)]
        self.new_tokens += len(toks)
        return _cut_at_stop(decode_text(self.tok, toks, config.clean_up_spaces), config.stop)

    def sample(self, prompts: list[str], config: DecodingConfig, batch_key: str = "",
               keys: list[str] | None = None) -> list[list[str]]:
        """`config.n` completions per prompt; `keys` name each prompt's draws (default: batch_key and position)."""
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        keys = keys or [f"{batch_key}#{i}" for i in range(len(prompts))]
        enc = self.tok(prompts, add_special_tokens=False)["input_ids"]
        greedy = config.temperature <= 0
        requests, params, where = [], [], []
        for i, e in enumerate(enc):
            budget = new_token_budget(len(e), config, self.ctx)
            if budget <= 0:
                continue  # no room: n empty samples, as TorchSampler (and the original) give
            params.append(SamplingParams(
                n=1 if greedy else config.n, temperature=0.0 if greedy else config.temperature,
                top_p=1.0 if greedy else config.top_p, max_tokens=budget,
                seed=None if greedy else request_seed(config.seed, keys[i]),
                stop=list(config.stop) or None, detokenize=bool(config.stop), skip_special_tokens=True,
                stop_token_ids=[self.eos_id] if self.eos_id is not None else None))
            requests.append(TokensPrompt(prompt_token_ids=list(e)))
            where.append(i)
        out: list[list[str]] = [[""] * config.n for _ in prompts]
        for i, result in zip(where, self.llm.generate(requests, params, use_tqdm=False) if requests else []):
            texts = [self._decode(c.token_ids, config) for c in sorted(result.outputs, key=lambda c: c.index)]
            out[i] = texts * config.n if greedy else texts
        return out
