"""Model-stage commands: `leti tokenizer`, `leti pretrain`, `leti init-model`, `leti lm-loss`.

torch and transformers are imported inside the commands (`leti --help` and planning stay fast);
the warm-start server imports them once for local runs (leti.warmstart).
"""
from __future__ import annotations

import argparse
import json

from leti.core.io import read_jsonl


# ---------------------------------------------------------------- leti tokenizer
def configure_tokenizer(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", required=True, help="JSONL with a 'text' field")
    p.add_argument("--extra", action="append", default=[],
                   help="more problem JSONLs whose prompts the tokenizer should cover")
    p.add_argument("--vocab-size", type=int, default=800)
    p.add_argument("--out", required=True, help="directory (save_pretrained)")


def run_tokenizer(args: argparse.Namespace) -> int:
    from leti.model.tokenizer import train_bpe_tokenizer

    texts = [r["text"] for r in read_jsonl(args.corpus, required=("text",))]
    for path in args.extra:
        texts += [r["prompt"] for r in read_jsonl(path, required=("prompt",))]
    tok = train_bpe_tokenizer(texts, args.vocab_size)
    tok.save_pretrained(args.out)
    print(f"tokenizer with {len(tok)} tokens saved to {args.out}")
    return 0


# ---------------------------------------------------------------- leti pretrain
def configure_pretrain(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--config", default="{}",
                   help="JSON of PretrainConfig fields (leti.model.config): steps, batch_size, lr, warmup, ...")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--resume-every", type=int, default=250,
                   help="steps between snapshots in <out>.resume/, from which a killed job continues (0: none)")


def run_pretrain(args: argparse.Namespace) -> int:
    from leti.core.config import parse_json_object
    from leti.core.errors import UserError
    from leti.model.config import PretrainConfig
    from leti.model.loading import load_tokenizer
    from leti.model.pretrain import pretrain_tiny

    cfg = PretrainConfig.from_dict(parse_json_object(args.config, "--config"), where="--config")
    tok = load_tokenizer(args.tokenizer)
    texts = [r["text"] for r in read_jsonl(args.corpus, required=("text",))]
    if args.resume_every < 0:
        raise UserError(f"--resume-every must be >= 0, got {args.resume_every}")
    metrics = pretrain_tiny(texts, tok, args.out, seed=args.seed, threads=args.threads,
                            resume_every=args.resume_every, **cfg.to_dict())
    print(json.dumps(metrics))
    return 0


# ---------------------------------------------------------------- leti init-model
def configure_init_model(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="hub name (e.g. Salesforce/codegen-350M-mono) or local dir")
    p.add_argument("--out", required=True)


def run_init_model(args: argparse.Namespace) -> int:
    from leti.core.provenance import environment
    from leti.model.checkpoint import save_checkpoint
    from leti.model.loading import add_leti_tokens, load_model, load_tokenizer

    tok = load_tokenizer(args.model)
    model = load_model(args.model, "cpu")
    added = add_leti_tokens(model, tok)
    save_checkpoint(args.out, model, tok, meta={"config": {"kind": "init", "source": args.model},
                                                "added_tokens": added, "global_step": 0,
                                                "environment": environment()})
    print(f"saved {args.model} (+{added} LeTI tokens) to {args.out}")
    return 0


# ---------------------------------------------------------------- leti lm-loss
def configure_lm_loss(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help="JSONL with a 'text' field")
    p.add_argument("--out", required=True)
    p.add_argument("--max-len", type=int, default=512)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None)


def run_lm_loss(args: argparse.Namespace) -> int:
    import torch

    from leti.model.lm_loss import read_heldout_texts, write_heldout_loss
    from leti.model.loading import pick_device

    if args.threads:
        torch.set_num_threads(args.threads)
    texts = read_heldout_texts(args.data)
    write_heldout_loss(args.model, texts, args.out, args.max_len, pick_device(args.device))
    return 0


# ---------------------------------------------------------------- leti hub-standin
def configure_hub_standin(p: argparse.ArgumentParser) -> None:
    p.description = ("Write offline stand-ins for the Hugging Face Hub (rehearsals, tests): micro CodeGen checkpoints "
                     "under the paper's model ids in the hub cache layout (use OUT as HF_HOME with HF_HUB_OFFLINE=1) "
                     "and the pre-training dataset as a local mirror (OUT/datasets, for LETI_DATASETS_MIRROR).")
    p.add_argument("--out", required=True, help="directory to use as HF_HOME")
    p.add_argument("--files", type=int, default=400, help="Python files of this machine to train the tokenizer on "
                   "and to put in the dataset mirror")
    p.add_argument("--vocab-size", type=int, default=32000,
                   help="BPE vocabulary before CodeGen's whitespace tokens (32,000: prompts as long as under CodeGen's)")
    p.add_argument("--data-root", default=None, help="benchmark data (default: $LETI_DATA_ROOT or ../shared/data); "
                   "the tokenizer also learns from its GSM8K train split's English")
    p.add_argument("--dataset", default="bigcode/the-stack", help="hub dataset id the mirror stands in for")
    p.add_argument("--data-dir", default="data/python")


def run_hub_standin(args: argparse.Namespace) -> int:
    from leti.core.errors import UserError
    from leti.model.standin import build_standins

    from leti.model.standin import CODEGEN_ROWS

    if args.files < 1 or not 300 <= args.vocab_size <= CODEGEN_ROWS - 100:
        raise UserError(f"--files must be >= 1 and --vocab-size in [300, {CODEGEN_ROWS - 100}] "
                        f"(the stand-ins have CodeGen's {CODEGEN_ROWS} embedding rows)")
    info = build_standins(args.out, n_files=args.files, vocab_size=args.vocab_size, dataset=args.dataset,
                          data_dir=args.data_dir, data_root=args.data_root)
    print(json.dumps(info, indent=1))
    return 0


# ---------------------------------------------------------------- leti vllm-model
def configure_vllm_model(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="checkpoint directory (save_pretrained)")
    p.add_argument("--out", required=True, help="directory to write: CodeGen converted to GPT-J (exact), other "
                   "architectures vLLM has linked as they are")


def run_vllm_model(args: argparse.Namespace) -> int:
    from leti.model.gptj_convert import prepare_for_vllm

    info = prepare_for_vllm(args.model, args.out)
    print(f"{args.model} -> {args.out} ({info['conversion']})")
    return 0
