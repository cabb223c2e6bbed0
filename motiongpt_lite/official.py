"""The released MotionGPT weights inside this package's ``MotionGPT`` (issue 15), to compare a learner's model with
the paper's on the same prompts.

The official checkpoint (OpenMotionLab/MotionGPT's ``motiongpt_s3_h3d.tar``, a PyTorch Lightning checkpoint) holds
under ``"state_dict"``, as the reference code names them:

- ``vae.encoder.model.*``, ``vae.decoder.model.*``, ``vae.quantizer.codebook``: the T2M-GPT VQ-VAE. Its encoder is
  conv, ReLU, then per level ``[strided conv, Resnet1D]``, then conv; its decoder is conv, ReLU, per level
  ``[Resnet1D, upsample, conv]``, then conv, ReLU, conv. A ``Resnet1D`` holds ``model.<j>.conv1`` (3-tap, dilated)
  and ``model.<j>.conv2`` (1x1), largest dilation first, in both halves. The EMA sums and counts are not stored.
- ``lm.language_model.*``: flan-t5-base after ``resize_token_embeddings`` to its tokenizer plus the
  ``<motion_id_0>`` ... ``<motion_id_514>`` words (512 codes, then start, end and mask), in that order.

Our ``VQVAE`` has the same layers in one flat sequence, so the import renames keys (:func:`vq_key_map`) and
checks every shape; the T5 keys are transformers' own. The mapping is ours; the key names are facts of the
reference code. Loading never runs code from the file: the checkpoint is read by torch's ``weights_only``
unpickler, and the few non-tensor objects Lightning stores (its hyper-parameters) become inert placeholders.
"""
from __future__ import annotations

import contextlib
import copy
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from motiongpt_lite.api import MotionGPT
from motiongpt_lite.config import LMConfig, VQConfig, reference_dir
from motiongpt_lite.data.normalization import Normalizer
from motiongpt_lite.lm.model import MotionLM, build_t5
from motiongpt_lite.lm.tokenizer import add_motion_tokens
from motiongpt_lite.vq.model import VQVAE
from motiongpt_lite.vq.tokenize import MotionTokenizer

__all__ = ["OFFICIAL_URL", "read_checkpoint", "vq_key_map", "official_vq", "official_t5", "import_official"]

OFFICIAL_URL = "https://huggingface.co/OpenMotionLab/MotionGPT-base"  # where the released checkpoint is published
VQ_PREFIX, LM_PREFIX = "vae.", "lm.language_model."


class _Placeholder:
    """Stands for any non-tensor object in a checkpoint: takes whatever it is given and does nothing."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __setstate__(self, state) -> None:
        pass

    def __setitem__(self, key, value) -> None:
        pass


def read_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """The ``state_dict`` of a (Lightning) checkpoint, read without running code from the file.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file holds no ``state_dict`` of tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; download motiongpt_s3_h3d.tar from {OFFICIAL_URL}.")
    finder = getattr(torch.serialization, "get_unsafe_globals_in_checkpoint", None)  # torch >= 2.5
    placeholders = [(_Placeholder, name) for name in finder(path)] if finder else []
    try:
        with torch.serialization.safe_globals(placeholders) if placeholders else contextlib.nullcontext():
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:  # e.g. it asks for os or subprocess, which torch never allows
        reason = str(error).strip().splitlines()[-3:]
        raise ValueError(f"{path} asks to run code while it is read ({' '.join(reason)[:200]}); it is not the released "
                         f"checkpoint: download motiongpt_s3_h3d.tar again from {OFFICIAL_URL}.") from None
    state = loaded.get("state_dict", loaded) if isinstance(loaded, dict) else None
    if not isinstance(state, dict) or not state or not all(torch.is_tensor(v) for v in state.values()):
        raise ValueError(f"{path} holds no state_dict of tensors; point at the released motiongpt_s3_h3d.tar.")
    return state


def vq_key_map(down_t: int, depth: int) -> dict[str, str]:
    """Our ``VQVAE`` parameter names -> the reference's (without the ``vae.`` prefix), weights and biases."""
    pairs = {"encoder.0": "encoder.model.0", f"encoder.{2 + 2 * down_t}": f"encoder.model.{2 + down_t}",
             "decoder.0": "decoder.model.0", f"decoder.{2 + 3 * down_t}": f"decoder.model.{2 + down_t}",
             f"decoder.{4 + 3 * down_t}": f"decoder.model.{4 + down_t}"}
    for level in range(down_t):
        pairs[f"encoder.{2 + 2 * level}"] = f"encoder.model.{2 + level}.0"  # the strided convolution
        pairs[f"decoder.{4 + 3 * level}"] = f"decoder.model.{2 + level}.2"  # the convolution after upsampling
        for block in range(depth):
            for ours, theirs in (("conv", "conv1"), ("mix", "conv2")):
                pairs[f"encoder.{3 + 2 * level}.{block}.{ours}"] = f"encoder.model.{2 + level}.1.model.{block}.{theirs}"
                pairs[f"decoder.{2 + 3 * level}.{block}.{ours}"] = f"decoder.model.{2 + level}.0.model.{block}.{theirs}"
    return {f"{ours}.{kind}": f"{theirs}.{kind}" for ours, theirs in pairs.items() for kind in ("weight", "bias")}


def official_vq(state: dict[str, torch.Tensor]) -> VQVAE:
    """Our VQ-VAE holding the checkpoint's ``vae.*`` weights; its sizes are read from the shapes."""
    vae = {k[len(VQ_PREFIX):]: v for k, v in state.items() if k.startswith(VQ_PREFIX)}
    if "quantizer.codebook" not in vae or "encoder.model.0.weight" not in vae:
        raise ValueError("the checkpoint holds no vae.encoder / vae.quantizer.codebook; it is not a MotionGPT checkpoint.")
    down_t = sum(1 for k in vae if k.startswith("encoder.model.") and k.endswith(".0.weight") and k.count(".") == 4)
    depth = len({k.split(".")[5] for k in vae if k.startswith("encoder.model.2.1.model.")})
    num_codes, code_dim = vae["quantizer.codebook"].shape
    width, motion_dim = vae["encoder.model.0.weight"].shape[:2]
    cfg = VQConfig(width=width, depth=depth, down_t=down_t, num_codes=num_codes, code_dim=code_dim,
                   quantizer="ema_reset", codebook_rule="reference")
    vq = VQVAE(cfg, motion_dim=motion_dim)
    ours = vq.state_dict()
    mapping = vq_key_map(down_t, depth)
    loaded = {name: vae[source] for name, source in mapping.items()}
    unused = sorted(set(vae) - set(mapping.values()) - {"quantizer.codebook"})
    if unused:
        raise ValueError(f"the checkpoint's VQ-VAE has layers this importer does not know ({unused[:3]}); it is not "
                         "the released MotionGPT architecture.")
    codebook = vae["quantizer.codebook"]
    loaded.update({"quantizer.codebook": codebook, "quantizer.code_sum": codebook.clone(),
                   "quantizer.code_count": torch.ones(num_codes), "quantizer.initialized": torch.tensor(True)})
    for name, value in loaded.items():
        if ours[name].shape != value.shape:
            raise ValueError(f"{name}: the checkpoint's shape {tuple(value.shape)} differs from ours "
                             f"{tuple(ours[name].shape)}; it is not the released MotionGPT architecture.")
    vq.load_state_dict({name: value.to(ours[name].dtype) for name, value in loaded.items()})
    return vq.eval()


def _t5_architecture(weights: dict[str, torch.Tensor]) -> LMConfig:
    """The T5 architecture a state dict was written by (flan-t5-base's for the release), read from its shapes."""
    attention = weights["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]  # (buckets, heads)
    gated = "encoder.block.0.layer.1.DenseReluDense.wi_0.weight" in weights
    d_ff = weights[f"encoder.block.0.layer.1.DenseReluDense.{'wi_0' if gated else 'wi'}.weight"].shape[0]
    num_heads = attention.shape[1]
    tied = "lm_head.weight" not in weights or torch.equal(weights["lm_head.weight"], weights["shared.weight"])
    return LMConfig(model="config", d_model=weights["shared.weight"].shape[1], d_ff=d_ff, num_heads=num_heads,
                    d_kv=weights["encoder.block.0.layer.0.SelfAttention.q.weight"].shape[0] // num_heads,
                    num_layers=len({k.split(".")[2] for k in weights if k.startswith("encoder.block.")}),
                    feed_forward_proj="gated-gelu" if gated else "relu", tie_embeddings=tied, dropout=0.0)


def official_t5(state: dict[str, torch.Tensor]):
    """The checkpoint's ``lm.language_model.*`` as a T5 (flan-t5-base's architecture in the release)."""
    weights = {k[len(LM_PREFIX):]: v for k, v in state.items() if k.startswith(LM_PREFIX)}
    if "shared.weight" not in weights or "encoder.block.0.layer.0.SelfAttention.q.weight" not in weights:
        raise ValueError("the checkpoint holds no lm.language_model T5 weights; it is not a MotionGPT checkpoint.")
    model = build_t5(_t5_architecture(weights), weights["shared.weight"].shape[0])
    expected = model.state_dict()
    for tied in ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"):  # aliases of shared
        if tied in expected:
            weights.setdefault(tied, weights["shared.weight"])
    missing, unexpected = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
    wrong = [k for k in expected if k in weights and weights[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        raise ValueError(f"the checkpoint's language model is not a T5 this importer can build (missing {missing[:2]}, "
                         f"unexpected {unexpected[:2]}, other shapes {wrong[:2]}).")
    model.load_state_dict(weights)
    return model.eval()


def import_official(checkpoint: str | Path, tokenizer: Any = "google/flan-t5-base",
                    statistics: str | Path | None = None) -> MotionGPT:
    """The released MotionGPT as a :class:`~motiongpt_lite.api.MotionGPT`.

    Args:
        checkpoint: ``motiongpt_s3_h3d.tar`` (see :data:`OFFICIAL_URL`).
        tokenizer: flan-t5-base's text tokenizer, or its hub id / folder (``bash data_download.sh flan-t5-base``);
            the 515 motion words are added here, after its own tokens, as the reference adds them.
        statistics: a folder with HumanML3D's ``Mean.npy`` / ``Std.npy`` (the model's normalisation); default the
            reference files of ``bash data_download.sh sample``.
    Raises:
        FileNotFoundError: the checkpoint, the tokenizer or the statistics are missing (the message says how to get them).
        ValueError: the file is not the released architecture.
    """
    state = read_checkpoint(checkpoint)
    folder = Path(statistics) if statistics else reference_dir()
    if folder is None or not (folder / "Mean.npy").is_file():
        raise FileNotFoundError("HumanML3D's Mean.npy / Std.npy were not found; run `bash data_download.sh sample` or "
                                "pass statistics= a HumanML3D folder.")
    vq = official_vq(state)
    if isinstance(tokenizer, (str, Path)):
        from transformers import AutoTokenizer

        from motiongpt_lite.runtime import hub_offline

        try:
            tokenizer = AutoTokenizer.from_pretrained(str(tokenizer), legacy=True)
        except OSError:
            raise FileNotFoundError(f"the tokenizer {tokenizer} is not on disk{' and HF_HUB_OFFLINE=1 forbids downloading it' if hub_offline() else ''}; "
                                    "run `bash data_download.sh flan-t5-base` first.") from None
    else:
        tokenizer = copy.deepcopy(tokenizer)  # the caller's tokenizer keeps its vocabulary
    num_text = len(tokenizer)
    vocab = add_motion_tokens(tokenizer, vq.cfg.num_codes)
    model = official_t5(state)
    if model.config.vocab_size != vocab.end:
        raise ValueError(f"the checkpoint's vocabulary has {model.config.vocab_size} rows, but this tokenizer has "
                         f"{num_text} text tokens + {vocab.size} motion words; use flan-t5-base's tokenizer.")
    lm = MotionLM(model, tokenizer, vocab, f"the released MotionGPT weights from {checkpoint}")
    normalizer = Normalizer(np.load(folder / "Mean.npy"), np.load(folder / "Std.npy"))
    return MotionGPT(lm, MotionTokenizer(vq, normalizer), fps=20.0, max_frames=196)
