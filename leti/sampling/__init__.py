"""Stage 3: batched sampling with a KV cache, one prefill per distinct prompt."""
