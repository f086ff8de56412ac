"""The fused GELU swap keeps the model's function (up to float rounding) and its saved weights."""
import torch
from transformers import GPT2Config, GPT2LMHeadModel
from transformers.activations import NewGELUActivation

from leti.model.fused_ops import TanhGELU, fuse_gelu


def test_tanh_gelu_matches_gelu_new():
    x = torch.linspace(-8, 8, 4001, dtype=torch.float64)
    torch.testing.assert_close(TanhGELU()(x), NewGELUActivation()(x), rtol=1e-12, atol=1e-12)


def test_fuse_gelu_swaps_every_activation_and_keeps_outputs():
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=3, n_embd=32, n_head=4, vocab_size=64, n_positions=32,
                                       activation_function="gelu_new")).eval()
    ids = torch.randint(0, 64, (2, 16))
    before = model(ids).logits
    state = {k: v.clone() for k, v in model.state_dict().items()}
    assert fuse_gelu(model) == 3
    assert not any(isinstance(m, NewGELUActivation) for m in model.modules())
    torch.testing.assert_close(model(ids).logits, before, rtol=1e-5, atol=1e-5)
    assert model.state_dict().keys() == state.keys()
    assert fuse_gelu(model) == 0  # idempotent
