"""Decoding with the original's clean-up of tokenization spaces, the same in both engines.

The original decoded CodeGen's samples with transformers 4's `clean_up_tokenization` (" ," -> ",",
" 's" -> "'s", ...). transformers 5 ignores `clean_up_tokenization_spaces=True` for BPE tokenizers
such as CodeGen's (it warns and decodes raw), so `sample.clean_up_spaces: true` would silently do
nothing. The harness therefore decodes raw and applies the clean-up itself."""
from __future__ import annotations

# transformers 4's clean_up_tokenization, in its order
_REPLACEMENTS = ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                 (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"))


def clean_up_spaces(text: str) -> str:
    for old, new in _REPLACEMENTS:
        text = text.replace(old, new)
    return text


def decode_text(tokenizer, token_ids, clean_up: bool | None) -> str:
    """`clean_up`: True the original's clean-up, False none, None the tokenizer's own default."""
    if clean_up is None:
        return tokenizer.decode(token_ids, skip_special_tokens=True)
    text = tokenizer.decode(token_ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
    return clean_up_spaces(text) if clean_up else text
