"""A checkpoint in a form vLLM loads: CodeGen rewritten exactly as GPT-J, other models linked as they are.

vLLM has no CodeGen architecture but has GPT-J, and the two compute the same function: the same
rotary embedding (rotate-every-two on the first `rotary_dim` channels of each head), the same
parallel block (`x + attn(ln_1(x)) + mlp(ln_1(x))`), the same `ln_f` and an lm_head with a bias.
They differ only in how the attention projections are stored. CodeGen keeps one fused `qkv_proj`
of 3·d rows, laid out for the 4 model-parallel shards it was trained on: shard m holds rows
[m·3L, (m+1)·3L) with L = d/4, in the order query, value, key (L rows each); GPT-J keeps separate
`q_proj`, `k_proj`, `v_proj` of d rows. So GPT-J's q_proj is the concatenation over m of CodeGen's
rows [m·3L, m·3L+L), v_proj of [m·3L+L, m·3L+2L), k_proj of [m·3L+2L, m·3L+3L) - a fixed row
permutation, no arithmetic, so the converted weights are bit-identical and the logits equal up to
the kernels' rounding (tests/model/test_gptj_convert.py compares them in fp32).

Everything else is copied: the embedding with all its rows (CodeGen's padding rows where LeTI's
tokens live, trained or not), layer norms, MLP, lm_head weight and bias, the tokenizer files.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from leti.core.errors import UserError
from leti.core.io import atomic_write_json

MARKER = "leti_vllm.json"  # what was converted from what (written last: a directory without it is incomplete)
MP_NUM = 4                 # CodeGen's model-parallel shards (transformers' CodeGenAttention.mp_num)
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
INDEX_FILE = "model.safetensors.index.json"
SKIP_FILES = {"optimizer.pt", "config.json", INDEX_FILE, MARKER}
# architectures vLLM has under the name the checkpoint's config gives (used as they are)
NATIVE = {"gpt2", "gptj", "llama", "mistral", "qwen2", "gpt_neox", "gpt_bigcode", "starcoder2", "phi", "opt"}
# CodeGen config fields that carry over to GPTJConfig unchanged
SHARED_FIELDS = ("vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "rotary_dim", "n_inner",
                 "activation_function", "resid_pdrop", "embd_pdrop", "attn_pdrop", "layer_norm_epsilon",
                 "initializer_range", "bos_token_id", "eos_token_id", "pad_token_id")


def split_qkv(qkv, n_embd: int, mp_num: int = MP_NUM):
    """CodeGen's fused qkv_proj weight (3·d, d) -> GPT-J's (q, k, v) weights, each (d, d)."""
    if qkv.shape[0] != 3 * n_embd or n_embd % mp_num:
        raise UserError(f"qkv_proj of shape {tuple(qkv.shape)} does not fit n_embd {n_embd} in {mp_num} shards")
    local = n_embd // mp_num
    shards = qkv.reshape(mp_num, 3, local, qkv.shape[1])  # (shard, [query, value, key], rows, in)
    q, v, k = (shards[:, j].reshape(n_embd, qkv.shape[1]).contiguous() for j in range(3))
    return q, k, v


def gptj_config(codegen: dict) -> dict:
    """config.json of the GPT-J equivalent of a CodeGen config.json."""
    if codegen.get("model_type") != "codegen":
        raise UserError(f"not a CodeGen config (model_type {codegen.get('model_type')!r})")
    d, heads = codegen["n_embd"], codegen["n_head"]
    rotary = codegen.get("rotary_dim")
    if not rotary or rotary % 2 or rotary > d // heads:
        raise UserError(f"rotary_dim {rotary!r} cannot be expressed in GPT-J (even, at most the head size {d // heads})")
    if d % MP_NUM or d % heads:
        raise UserError(f"n_embd {d} must be divisible by n_head {heads} and by CodeGen's {MP_NUM} shards")
    out = {k: codegen[k] for k in SHARED_FIELDS if k in codegen}
    out.update(model_type="gptj", architectures=["GPTJForCausalLM"], tie_word_embeddings=False,
               use_cache=True)
    for key in ("dtype", "torch_dtype"):
        if key in codegen:
            out[key] = codegen[key]
    return out


def convert_state(tensors: dict, n_embd: int, tied: bool) -> dict:
    """CodeGen tensor names -> GPT-J's: split each qkv_proj, drop attention buffers, untie lm_head."""
    out = {}
    for name, t in tensors.items():
        if name.endswith((".attn.causal_mask", ".attn.masked_bias", ".attn.bias")):
            continue  # buffers of older transformers versions, recomputed by every engine
        if name.endswith(".attn.qkv_proj.weight"):
            stem = name[: -len("qkv_proj.weight")]
            q, k, v = split_qkv(t, n_embd)
            out.update({stem + "q_proj.weight": q, stem + "k_proj.weight": k, stem + "v_proj.weight": v})
        else:
            out[name] = t
    if tied and "lm_head.weight" not in out and "transformer.wte.weight" in out:
        out["lm_head.weight"] = out["transformer.wte.weight"].clone()  # vLLM's GPT-J has an untied head
    return out


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _weight_files(src: Path) -> list[Path]:
    files = sorted(p for p in src.glob("*.safetensors"))
    if not files:
        others = sorted(p.name for p in src.iterdir() if p.suffix in WEIGHT_SUFFIXES and p.name != "optimizer.pt")
        raise UserError(f"{src}: no *.safetensors weights to convert (found {others or 'none'}); "
                        "save the checkpoint with save_pretrained (leti init-model does)")
    return files


def _convert_weights(src: Path, tmp: Path, config: dict) -> None:
    """One output shard per input shard (memory: one shard at a time), with the index rewritten."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    tied = bool(config.get("tie_word_embeddings", False))  # CodeGenConfig's default
    renamed: dict[str, str] = {}
    for f in _weight_files(src):
        with safe_open(str(f), framework="pt") as fh:
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
            metadata = fh.metadata() or {}
        new = convert_state(tensors, config["n_embd"], tied)
        save_file(new, str(tmp / f.name), metadata={**metadata, "format": "pt"})
        renamed.update({k: f.name for k in new})
    if (src / INDEX_FILE).exists():
        index = json.loads((src / INDEX_FILE).read_text(encoding="utf-8"))
        index["weight_map"] = dict(sorted(renamed.items()))
        atomic_write_json(tmp / INDEX_FILE, index)


def prepare_for_vllm(src: str | os.PathLike, out: str | os.PathLike) -> dict:
    """Write `out`: `src` as vLLM loads it (CodeGen converted to GPT-J, other architectures linked).

    Written into a sibling `.partial` directory and renamed into place, with MARKER last, so a killed
    job never leaves a directory that looks complete."""
    src, out = Path(src), Path(out)
    cfg_path = src / "config.json"
    if not cfg_path.exists():
        raise UserError(f"{src}: no config.json (not a save_pretrained checkpoint directory)")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UserError(f"{cfg_path}: not readable JSON ({exc})") from None
    kind = config.get("model_type")
    if kind != "codegen" and kind not in NATIVE:
        raise UserError(f"{cfg_path}: model_type {kind!r} is neither CodeGen (converted to GPT-J) nor one this "
                        f"harness passes to vLLM as it is ({sorted(NATIVE)})")
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    for f in sorted(src.iterdir()):  # tokenizer files, generation config, LeTI's metadata
        if f.is_file() and f.name not in SKIP_FILES and f.suffix not in WEIGHT_SUFFIXES:
            _link_or_copy(f, tmp / f.name)
    if kind == "codegen":
        new_config = gptj_config(config)
        _convert_weights(src, tmp, config)
        how = "codegen->gptj"
    else:
        new_config = config
        for f in _weight_files(src) + ([src / INDEX_FILE] if (src / INDEX_FILE).exists() else []):
            _link_or_copy(f, tmp / f.name)
        how = "as is"
    atomic_write_json(tmp / "config.json", new_config)
    info = {"source": str(src), "model_type": kind, "conversion": how,
            "source_files": {f.name: f.stat().st_size for f in sorted(src.iterdir()) if f.is_file()}}
    atomic_write_json(tmp / MARKER, info)
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return info
