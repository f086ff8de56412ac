"""Offline stand-ins for the Hugging Face Hub: micro checkpoints of the real architecture and format
under the paper's model ids, written in the hub's own cache layout.

With `HF_HOME=<out>` and `HF_HUB_OFFLINE=1`, `from_pretrained("Salesforce/codegen-350M-mono")`
resolves them exactly as it resolves a downloaded model: nothing in the harness knows it is a
rehearsal, only where the loaders look changes. What is real: `CodeGenForCausalLM` with an
embedding of CodeGen's 51,200 rows (so LeTI's four tokens land in unused rows, as in the original),
a byte-level BPE tokenizer of the CodeGen kind (GPT-2 pre-tokenization plus tokens for runs of
spaces and tabs, class `CodeGenTokenizer`), trained on real Python files of this machine and on the
English of GSM8K's train split. What is not: the weights (random) and the sizes (a few layers, narrow).

The tokenizer's vocabulary (32,000 merges by default) and its English make prompts as long as under
CodeGen's own (GPT-2's BPE, learnt on web text): the paper's token budgets (`max_length`) then leave
each prompt the room they leave it there. With a 2,000-token vocabulary learnt on code alone, a
GSM8K PaL prompt took about 2,000 tokens instead of CodeGen's 1,200-1,360 and never got any room
under the 1,536 budget. tests/model/test_standin.py compares the lengths with CodeGen's own
(tests/fixtures/codegen_prompt_tokens.json, docs/measurements.md says how they were counted).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sysconfig
from pathlib import Path

# CodeGen-mono's padded vocabulary: 50,257 GPT-2 tokens + 38 whitespace tokens, rounded up to 51,200 rows
CODEGEN_ROWS = 51200
# the paper's two models (presets/paper.yaml); the 2B stand-in is the larger of the two. Heads of 32
# channels: the smallest head size vLLM's CPU attention runs (sample.engine vllm on the rehearsal)
STANDIN_SIZES = {
    "Salesforce/codegen-350M-mono": {"n_layer": 2, "n_embd": 64, "n_head": 2, "rotary_dim": 8},
    "Salesforce/codegen-2B-mono": {"n_layer": 3, "n_embd": 96, "n_head": 3, "rotary_dim": 8},
}
EOS = "<|endoftext|>"


def whitespace_tokens() -> list[str]:
    """CodeGen's added tokens: runs of 31 down to 2 spaces, then 9 down to 2 tabs (38 in all)."""
    return [" " * k for k in range(31, 1, -1)] + ["\t" * k for k in range(9, 1, -1)]


def python_files(limit: int | None = None) -> list[Path]:
    """Real Python source files on this machine (the interpreter's standard library), sorted."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts and p.stat().st_size > 200)
    return files[:limit] if limit else files


def read_sources(files: list[Path]) -> list[tuple[str, str]]:
    """(path relative to the standard library, text) of every readable UTF-8 file."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    out = []
    for f in files:
        try:
            out.append((str(f.relative_to(stdlib)), f.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, OSError, ValueError):
            continue
    return out


STANDIN_VOCAB = 32000
ENGLISH_FILE = "gsm8k/train.jsonl"  # under the data root: 7,473 word problems with worked answers


def english_texts(data_root: str | os.PathLike | None = None) -> list[str]:
    """English prose of the register the benchmarks' prompts are in (GSM8K's train split, never its test
    split): CodeGen's BPE was learnt on web text, this machine's Python files alone lack its everyday words
    ("bagels", "golf"), which then cost several tokens each. [] when the data root lacks the file."""
    from leti.core.io import iter_jsonl
    from leti.core.paths import data_root as resolve_root

    path = resolve_root(data_root) / ENGLISH_FILE
    if not path.exists():
        return []
    return [row["question"] + "\n" + row["answer"] for row in iter_jsonl(path)]


def codegen_tokenizer(texts: list[str], vocab_size: int = STANDIN_VOCAB):
    """A CodeGenTokenizer whose BPE was trained here: GPT-2 byte-level pre-tokenization, EOS first,
    CodeGen's whitespace-run tokens added after the merges (as in the released tokenizer)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import CodeGenTokenizer

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    core.train_from_iterator(texts, trainer=trainer)
    state = json.loads(core.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in state["merges"]]
    tok = CodeGenTokenizer(vocab=state["vocab"], merges=merges, unk_token=EOS, bos_token=EOS, eos_token=EOS,
                           model_max_length=2048)
    tok.add_tokens(whitespace_tokens())
    return tok


def micro_codegen(tokenizer, n_layer: int, n_embd: int, n_head: int, rotary_dim: int, seed: int = 0):
    """A randomly initialised CodeGenForCausalLM with CodeGen's context (2048) and 51,200 embedding rows."""
    import torch
    from transformers import CodeGenConfig, CodeGenForCausalLM

    eos = tokenizer.convert_tokens_to_ids(EOS)
    config = CodeGenConfig(vocab_size=CODEGEN_ROWS, n_positions=2048, n_ctx=2048, n_embd=n_embd, n_layer=n_layer,
                           n_head=n_head, rotary_dim=rotary_dim, bos_token_id=eos, eos_token_id=eos,
                           tie_word_embeddings=False, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    torch.manual_seed(seed)
    return CodeGenForCausalLM(config)


def write_hub_model(hf_home: str | os.PathLike, model_id: str, model, tokenizer) -> Path:
    """Save into HF_HOME/hub/models--ORG--NAME/snapshots/<rev>/ with refs/main -> <rev>."""
    repo = Path(hf_home) / "hub" / ("models--" + model_id.replace("/", "--"))
    staging = repo / "staging"
    if staging.exists():
        shutil.rmtree(staging)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    digest = hashlib.sha1()
    for f in sorted(staging.iterdir()):
        digest.update(f.name.encode() + f.read_bytes())
    rev = digest.hexdigest()
    snap = repo / "snapshots" / rev
    if snap.exists():
        shutil.rmtree(snap)
    snap.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, snap)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(rev)
    return snap


def standin_tokenizer(sources: list[tuple[str, str]], vocab_size: int = STANDIN_VOCAB,
                      data_root: str | os.PathLike | None = None) -> tuple[object, int]:
    """(the stand-ins' tokenizer, how many English documents it learnt from): the BPE of `sources`'
    Python files and `english_texts(data_root)`."""
    english = english_texts(data_root)
    if not english:
        print(f"leti hub-standin: no {ENGLISH_FILE} under the data root: the tokenizer learns from code only, "
              "so prose-heavy prompts (GSM8K, BBH) come out longer than under CodeGen's and may get no room")
    return codegen_tokenizer([text for _, text in sources] + english, vocab_size), len(english)


def build_standins(out: str | os.PathLike, models: dict[str, dict] | None = None, n_files: int = 400,
                   vocab_size: int = STANDIN_VOCAB, dataset: str = "bigcode/the-stack", data_dir: str = "data/python",
                   data_root: str | os.PathLike | None = None) -> dict:
    """Micro models under `models`' ids in `out` (use as HF_HOME) and `out`/datasets/<dataset> (use as
    LETI_DATASETS_MIRROR), both from the first `n_files` Python files of this machine; the tokenizer
    also learns from `english_texts(data_root)` (the mirror holds only the Python files)."""
    from leti.data.corpus import write_mirror
    from leti.model.loading import quiet_library_progress

    quiet_library_progress()
    out = Path(out)
    sources = read_sources(python_files(n_files))
    tok, n_english = standin_tokenizer(sources, vocab_size, data_root)
    written = {}
    for k, (model_id, size) in enumerate(sorted((models or STANDIN_SIZES).items())):
        model = micro_codegen(tok, seed=k, **size)
        written[model_id] = str(write_hub_model(out, model_id, model, tok))
    texts = [text for _, text in sources]
    shard = write_mirror(out / "datasets", dataset, data_dir, texts, column="content", paths=[p for p, _ in sources])
    return {"models": written, "dataset": str(shard), "n_files": len(texts), "vocab": len(tok),
            "english_documents": n_english,
            "env": {"HF_HOME": str(out), "HF_HUB_OFFLINE": "1", "LETI_DATASETS_MIRROR": str(out / "datasets")}}
