"""Batched sampling with a KV cache, one prefill per distinct prompt."""
from leti.sampling.sampler import DecodingConfig, Sampler, TorchSampler

__all__ = ["DecodingConfig", "Sampler", "TorchSampler"]
