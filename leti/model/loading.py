"""Load a causal LM + tokenizer by hub name or local path, and add LeTI's special tokens.

Hub names (e.g. `Salesforce/codegen-350M-mono`) work for users with a network; local
directories written by `save_pretrained` (the tiny base, every FCFT checkpoint) work everywhere.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from leti.core.errors import UserError
from leti.core.vocab import SPECIAL_TOKENS


def quiet_library_progress() -> None:
    """No tqdm bars of transformers' own ("Loading weights", "Writing model shards") or the hub's
    (downloads) in our jobs: in a log file each is a line rewritten in place, an unreadable smear per
    load and save. The jobs report their progress as lines (leti.core.progress)."""
    from transformers.utils import logging as hf_logging

    if hf_logging.is_progress_bar_enabled():
        hf_logging.disable_progress_bar()


quiet_library_progress()  # every command that loads a model imports this module


def pick_device(requested: str = "auto") -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


def _check_source(name_or_path: str) -> None:
    looks_local = name_or_path.startswith((".", "/")) or os.sep in name_or_path and Path(name_or_path).parts[0] in (".", "..")
    if looks_local and not Path(name_or_path).exists():
        raise UserError(f"{name_or_path}: model directory not found")
    if Path(name_or_path).is_dir():
        from leti.model.checkpoint import check_checkpoint_files

        check_checkpoint_files(name_or_path)


def _load_error(name_or_path: str, what: str, exc: Exception) -> UserError:
    """A local directory that transformers cannot load: one line naming it (a hub id: re-raised)."""
    lines = str(exc).strip().splitlines()
    return UserError(f"{name_or_path}: cannot load the {what} ({type(exc).__name__}: {lines[0][:200] if lines else ''})")


def load_tokenizer(name_or_path: str):
    """Tokenizer with LeTI's conventions: left padding, pad = eos (spec §1.1)."""
    _check_source(name_or_path)
    try:
        tok = AutoTokenizer.from_pretrained(name_or_path)
    except Exception as exc:
        if not Path(name_or_path).is_dir():
            raise
        raise _load_error(name_or_path, "tokenizer", exc) from None
    tok.padding_side = "left"
    # Nothing here truncates to model_max_length (prompts that do not fit are counted and given no
    # room, held-out documents are cut to max_len after tokenizing): mark transformers' one-time
    # "Token indices sequence length is longer than the specified maximum" warning as given.
    if isinstance(getattr(tok, "deprecation_warnings", None), dict):
        tok.deprecation_warnings["sequence-length-is-longer-than-the-specified-maximum"] = True
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def add_leti_tokens(model, tokenizer) -> int:
    """Add <|bad|>, <|good|>, <|lang_feedback|>, <|/lang_feedback|> and make room for them.

    The original reused CodeGen's padded, unused embedding rows (vocab 51200 > len(tokenizer)) and
    never resized. We resize only when the embedding is too small; when it already has room (CodeGen),
    the new ids land in the unused rows exactly as in the original. Returns the number of tokens added.
    """
    added = tokenizer.add_tokens(SPECIAL_TOKENS, special_tokens=True)
    n_rows = model.get_input_embeddings().weight.shape[0]
    if len(tokenizer) > n_rows:
        model.resize_token_embeddings(len(tokenizer), mean_resizing=True)
    if model.config.bos_token_id != tokenizer.eos_token_id:  # spec §1.1: bos "corrected" to eos
        model.config.bos_token_id = tokenizer.eos_token_id
    model.config.pad_token_id = tokenizer.pad_token_id
    return added


def load_model(name_or_path: str, device: torch.device | str = "cpu", dtype: str = "float32",
               attn_implementation: str | None = "sdpa"):
    """Load weights; fp32 master weights by default (bf16 compute comes from autocast)."""
    _check_source(name_or_path)
    torch_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    kwargs = {"dtype": torch_dtype}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    try:
        try:
            model = AutoModelForCausalLM.from_pretrained(name_or_path, **kwargs)
        except (ValueError, ImportError) as exc:
            if attn_implementation and "attn" in str(exc).lower():  # architecture without SDPA support
                kwargs.pop("attn_implementation")
                model = AutoModelForCausalLM.from_pretrained(name_or_path, **kwargs)
            else:
                raise
    except Exception as exc:
        if not Path(name_or_path).is_dir():
            raise
        raise _load_error(name_or_path, "model", exc) from None
    return model.to(device)
