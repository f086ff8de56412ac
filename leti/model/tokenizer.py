"""Train the tiny byte-level BPE tokenizer locally (no hub), saved like any HF tokenizer."""
from __future__ import annotations

from typing import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from leti.core.vocab import SPECIAL_TOKENS

EOS = "<|endoftext|>"


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int = 800) -> PreTrainedTokenizerFast:
    """Byte-level BPE on `texts`; EOS `<|endoftext|>` doubles as pad (as in CodeGen), LeTI tokens added."""
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(list(texts), trainer=trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=core, eos_token=EOS, bos_token=EOS, unk_token=EOS,
                                  pad_token=EOS, padding_side="left", model_max_length=1024)
    tok.add_tokens(SPECIAL_TOKENS, special_tokens=True)
    return tok
