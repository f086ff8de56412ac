"""Base models: any Hugging Face causal LM, or the tiny GPT-2 trained here for the embedded default."""
from leti.model.loading import add_leti_tokens, load_model, load_tokenizer, pick_device

__all__ = ["add_leti_tokens", "load_model", "load_tokenizer", "pick_device"]
