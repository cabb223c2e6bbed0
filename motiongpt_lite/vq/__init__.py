"""The motion tokenizer: a VQ-VAE that turns motion into discrete tokens (notebooks 02-03).

    from motiongpt_lite.vq import VQVAE, MotionTokenizer, train_vq
    run = train_vq("tiny")                       # trains and writes checkpoints/tiny/vq
    tokenizer = MotionTokenizer.load("checkpoints/tiny/vq")
    code_idx = tokenizer.encode(features)        # (T, 263) raw features -> (ceil(T / 4),) tokens
"""
from motiongpt_lite.vq.model import VQVAE
from motiongpt_lite.vq.quantizer import EMAQuantizer, EMAResetQuantizer, Quantizer, make_quantizer
from motiongpt_lite.vq.tokenize import MotionTokenizer, decode, encode, evaluate_tokenizer, tokenize_dataset

__all__ = ["VQVAE", "Quantizer", "EMAQuantizer", "EMAResetQuantizer", "make_quantizer", "MotionTokenizer",
           "encode", "decode", "evaluate_tokenizer", "tokenize_dataset", "train_vq"]


def __getattr__(name: str):
    """``train_vq`` is imported on first use, so that reading tokens or metrics never loads the training loop."""
    if name == "train_vq":
        from motiongpt_lite.vq.train import train_vq
        return train_vq
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
