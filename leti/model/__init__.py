"""Stage 2: base models (hub/local or the tiny GPT-2 trained here), the checkpoint format, batching, LM loss."""
