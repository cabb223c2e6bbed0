"""The importer of the released MotionGPT checkpoint (issue 15), on a checkpoint written here in the published layout.

The reference's VQ-VAE is rebuilt below from its published structure (module names, dilation order, layer order; see
motiongpt_lite/official.py), independently of our VQVAE, with random weights; the T5 is transformers' own. A
checkpoint holding both, plus a Lightning-style object whose unpickling would run code, must import into a
MotionGPT whose encoder, codes, decoder and logits are the reference's.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from torch import nn

from motiongpt_lite.config import LMConfig
from motiongpt_lite.lm.model import build_t5
from motiongpt_lite.lm.tokenizer import train_text_tokenizer
from motiongpt_lite.official import import_official, read_checkpoint

MOTION_DIM, WIDTH, DEPTH, DOWN_T, CODES, CODE_DIM = 263, 16, 3, 2, 32, 8


class _Module(nn.Module):
    def __init__(self, *layers):
        super().__init__()
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class ReferenceBlock(nn.Module):
    """x + conv2(relu(conv1(relu(x)))), conv1 3-tap dilated, conv2 1x1 (norm None, ReLU)."""

    def __init__(self, dilation):
        super().__init__()
        self.conv1 = nn.Conv1d(WIDTH, WIDTH, 3, 1, dilation, dilation)
        self.conv2 = nn.Conv1d(WIDTH, WIDTH, 1, 1, 0)

    def forward(self, x):
        return x + self.conv2(torch.relu(self.conv1(torch.relu(x))))


def resnet():  # Resnet1D: dilations 3**d, largest first
    return _Module(*[ReferenceBlock(3 ** d) for d in range(DEPTH)][::-1])


class ReferenceVQ(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = _Module(nn.Conv1d(MOTION_DIM, WIDTH, 3, 1, 1), nn.ReLU(),
                               *[nn.Sequential(nn.Conv1d(WIDTH, WIDTH, 4, 2, 1), resnet()) for _ in range(DOWN_T)],
                               nn.Conv1d(WIDTH, CODE_DIM, 3, 1, 1))
        self.decoder = _Module(nn.Conv1d(CODE_DIM, WIDTH, 3, 1, 1), nn.ReLU(),
                               *[nn.Sequential(resnet(), nn.Upsample(scale_factor=2, mode="nearest"),
                                               nn.Conv1d(WIDTH, WIDTH, 3, 1, 1)) for _ in range(DOWN_T)],
                               nn.Conv1d(WIDTH, WIDTH, 3, 1, 1), nn.ReLU(), nn.Conv1d(WIDTH, MOTION_DIM, 3, 1, 1))
        self.quantizer = nn.Module()
        self.quantizer.register_buffer("codebook", torch.randn(CODES, CODE_DIM))


class LightningStyleSettings:
    """Stands for the hyper-parameter object a Lightning checkpoint stores: its own code runs when it is unpickled."""

    def __init__(self, path):
        self.path = path

    def __setstate__(self, state):
        os.makedirs(state["path"])


class Hostile:
    """A checkpoint object whose unpickling calls os.makedirs(path) directly."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.makedirs, (self.path,)


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    root = tmp_path_factory.mktemp("official")
    torch.manual_seed(0)
    vae = ReferenceVQ().eval()
    tokenizer = train_text_tokenizer(["a person walks forward.", "a man waves his right hand."] * 20, vocab_size=120)
    lm_cfg = LMConfig(model="config", d_model=32, d_ff=64, d_kv=8, num_layers=2, num_heads=4,
                      feed_forward_proj="gated-gelu", tie_embeddings=False, dropout=0.0)
    t5 = build_t5(lm_cfg, len(tokenizer) + CODES + 3, seed=1).eval()
    state = {**{f"vae.{k}": v for k, v in vae.state_dict().items()},
             **{f"lm.language_model.{k}": v for k, v in t5.state_dict().items()}}
    marker = root / "code_ran"
    torch.save({"state_dict": state, "hyper_parameters": LightningStyleSettings(str(marker)), "epoch": 3},
               root / "motiongpt_s3_h3d.tar")
    stats = root / "stats"
    stats.mkdir()
    np.save(stats / "Mean.npy", np.zeros(MOTION_DIM, np.float32))
    np.save(stats / "Std.npy", np.ones(MOTION_DIM, np.float32))
    return root, vae, t5, tokenizer, marker


def test_reading_the_checkpoint_runs_no_code_from_it(released, tmp_path):
    root, _, _, _, marker = released
    state = read_checkpoint(root / "motiongpt_s3_h3d.tar")  # its settings object becomes an inert placeholder
    assert "vae.quantizer.codebook" in state and not marker.exists()
    torch.save({"state_dict": state, "hyper_parameters": Hostile(str(tmp_path / "ran"))}, tmp_path / "hostile.tar")
    with pytest.raises(ValueError, match="hostile.tar asks to run code while it is read"):
        read_checkpoint(tmp_path / "hostile.tar")
    assert not (tmp_path / "ran").exists()


def test_the_released_weights_become_a_motiongpt_that_computes_what_the_reference_does(released):
    root, vae, t5, tokenizer, marker = released
    text_tokens = len(tokenizer)
    gpt = import_official(root / "motiongpt_s3_h3d.tar", tokenizer=tokenizer, statistics=root / "stats")
    assert not marker.exists()
    assert (gpt.motion_tokenizer.num_codes, gpt.lm.vocab.offset, gpt.lm.vocab.som_id) == \
        (CODES, text_tokens, text_tokens + CODES)  # <motion_id_512> after the 512 codes, as the reference adds them
    vq = gpt.motion_tokenizer.vq
    motion = torch.randn(2, 32, MOTION_DIM)
    with torch.no_grad():
        latent = vae.encoder(motion.transpose(1, 2))  # (B, C, T / 4)
        torch.testing.assert_close(vq.encode_latent(motion), latent)
        flat = latent.transpose(1, 2).reshape(-1, CODE_DIM)
        codes = torch.cdist(flat, vae.quantizer.codebook).argmin(-1).view(2, -1)
        assert torch.equal(vq.encode(motion), codes)
        decoded = vae.decoder(vae.quantizer.codebook[codes].transpose(1, 2)).transpose(1, 2)
        torch.testing.assert_close(vq.decode(codes), decoded)
        ids = torch.tensor([[5, 9, text_tokens + 3, 1]])
        expected = t5(input_ids=ids, decoder_input_ids=ids).logits
        torch.testing.assert_close(gpt.lm.model(input_ids=ids, decoder_input_ids=ids).logits, expected)
    result = gpt.text_to_motion("a person walks forward.", length=16)
    assert result.joints.shape == (16, 22, 3)  # the whole path: prompt, constrained decoding, decoder, joints


def test_a_checkpoint_of_another_architecture_is_named(released, tmp_path):
    root, *_ = released
    state = read_checkpoint(root / "motiongpt_s3_h3d.tar")
    state["vae.encoder.model.9.weight"] = torch.zeros(1)
    torch.save({"state_dict": state}, tmp_path / "other.tar")
    with pytest.raises(ValueError, match="layers this importer does not know"):
        import_official(tmp_path / "other.tar", tokenizer="unused", statistics=root / "stats")
    with pytest.raises(FileNotFoundError, match="download motiongpt_s3_h3d.tar"):
        import_official(tmp_path / "missing.tar")
