"""Embedding surgery: grow a language model to the merged vocabulary without touching the old words
(introduced in notebook 04).

A T5 reads token ids through an input embedding matrix ``shared`` (V, d) and writes logits through
an output head ``lm_head`` (V, d): ``logits = h @ lm_head.T``. Adding K + 3 motion words means adding
K + 3 rows to *both*. Two layouts exist:

- **tied** (T5 v1.0, a fresh ``T5Config``): ``lm_head`` *is* ``shared``; one matrix grows.
- **untied** (flan-t5, T5 v1.1): ``lm_head`` is a separate matrix; each grows on its own, and the new
  head rows are initialised from the old *head* rows, the new input rows from the old *input* rows.

Old rows are copied unchanged, so for any input made of old words every old logit stays exactly
what it was; the new words only add new logits.

**The transformers 5.x trap.** ``model.resize_token_embeddings(n)`` ends with ``model.tie_weights()``.
In 5.x ``T5Config`` always says ``tie_word_embeddings=True`` (untied checkpoints are recognised at
load time only, by finding two different matrices in the file), so on an untied flan-t5 that call
replaces the trained ``lm_head`` by the input embeddings and every old-vocabulary logit changes.
:func:`merge_vocabulary` never calls it; ``tests/test_lm_surgery.py`` shows both behaviours.
"""
from __future__ import annotations

import logging

import torch
from torch import nn

__all__ = ["INIT_STRATEGIES", "embeddings_tied", "new_rows", "merge_vocabulary", "untie_output_head",
           "quiet_untied_load_warning"]

INIT_STRATEGIES = ("mean", "normal", "mean_noise", "mean_cov")  # how new rows start, see new_rows


def embeddings_tied(model: nn.Module) -> bool:
    """True when the output head and the input embeddings are the same tensor."""
    head = model.get_output_embeddings()
    return head is not None and head.weight is model.get_input_embeddings().weight


def new_rows(old: torch.Tensor, count: int, init: str = "mean", noise: float = 0.1,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """Initial values for ``count`` new rows of an embedding or head matrix whose existing rows are ``old``.

    Strategies (``init``):
        ``"mean"``: every new row is the mean of the old rows. New logits start at the average old
            logit, so the model's distribution over old words barely moves; all new words start equal.
        ``"normal"``: N(0, sigma^2) with sigma the standard deviation of the old entries: random
            directions of the usual size; new logits start at arbitrary values.
        ``"mean_noise"``: the mean plus ``noise * sigma`` Gaussian noise: close to ``"mean"`` but the
            new words are told apart from the start.
        ``"mean_cov"``: samples of a Gaussian with the old rows' mean and covariance (what transformers'
            ``mean_resizing=True`` does; d x d covariance, fine up to a few thousand dims).

    Args:
        old: (V_old, d) existing rows.
        count: number of new rows.
        noise: relative noise scale for ``"mean_noise"``.
        generator: seeds the random strategies.
    Returns:
        (count, d) rows, same dtype and device as ``old``.
    """
    if init not in INIT_STRATEGIES:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INIT_STRATEGIES)}.")
    work = old.detach().float().cpu()  # (V_old, d)
    mean, sigma = work.mean(0), work.std()  # (d,), scalar
    d = work.shape[1]
    if init == "mean":
        rows = mean.expand(count, d).clone()
    elif init == "normal":
        rows = torch.randn(count, d, generator=generator) * sigma
    elif init == "mean_noise":
        rows = mean + noise * sigma * torch.randn(count, d, generator=generator)
    else:
        centred = work - mean
        cov = centred.T @ centred / max(1, len(work) - 1) + 1e-6 * torch.eye(d)  # (d, d)
        chol = torch.linalg.cholesky(cov.double()).float()
        rows = mean + torch.randn(count, d, generator=generator) @ chol.T
    return rows.to(dtype=old.dtype, device=old.device)  # (count, d)


def _grown(old: torch.Tensor, num_old: int, new_size: int, init: str, noise: float,
           generator: torch.Generator | None) -> torch.Tensor:
    """(V, d) -> (new_size, d): rows < num_old copied, the rest initialised from them."""
    kept = old.detach()[:num_old]  # (num_old, d)
    return torch.cat([kept, new_rows(kept, new_size - num_old, init, noise, generator)])  # (new_size, d)


def merge_vocabulary(model: nn.Module, num_old: int, new_size: int, init: str = "mean", noise: float = 0.1,
                     seed: int = 0) -> nn.Module:
    """Grow the input embeddings and the output head of ``model`` to ``new_size`` rows, in place.

    Rows ``[0, num_old)`` (the text vocabulary) are kept bit for bit; rows ``[num_old, new_size)`` are
    initialised by :func:`new_rows` -- including unused padding rows a checkpoint may have beyond its
    tokenizer (flan-t5 has 32128 rows for 32100 tokens), so every motion word starts the same way.
    A tied model stays tied; an untied model stays untied, each matrix grown from its own rows.

    Args:
        model: a transformers encoder-decoder or decoder model (T5 here).
        num_old: size of the text vocabulary (``len(tokenizer)`` before the motion words were added).
        new_size: size of the merged vocabulary (``len(tokenizer)`` after).
        init: one of ``INIT_STRATEGIES``.
        noise: relative noise for ``"mean_noise"``.
        seed: seeds the random strategies (input rows and head rows use different draws).
    Returns:
        the same model, with ``config.vocab_size = new_size``.
    """
    embeddings = model.get_input_embeddings()
    if not 0 < num_old <= min(new_size, embeddings.num_embeddings):
        raise ValueError(f"num_old={num_old} must be positive, at most new_size={new_size} and at most the "
                         f"{embeddings.num_embeddings} rows the model has; pass len(tokenizer) before and after merging.")
    tied = embeddings_tied(model)
    generator = torch.Generator().manual_seed(seed)
    grown = nn.Embedding(new_size, embeddings.embedding_dim, device=embeddings.weight.device,
                         dtype=embeddings.weight.dtype)
    grown.weight.data.copy_(_grown(embeddings.weight, num_old, new_size, init, noise, generator))
    model.set_input_embeddings(grown)  # T5: also the encoder's and the decoder's embed_tokens
    head = model.get_output_embeddings()
    if tied:
        head.weight = grown.weight
    else:
        new_head = nn.Linear(head.in_features, new_size, bias=False, device=head.weight.device, dtype=head.weight.dtype)
        new_head.weight.data.copy_(_grown(head.weight, num_old, new_size, init, noise, generator))
        model.set_output_embeddings(new_head)
        untie_output_head(model)
    head = model.get_output_embeddings()
    head.out_features = new_size
    model.config.vocab_size = new_size
    model.vocab_size = new_size
    return model


def untie_output_head(model: nn.Module, seed: int | None = None) -> nn.Module:
    """Make ``lm_head`` a matrix of its own (as in flan-t5), in place.

    Also removes ``lm_head`` from transformers' record of tied weights, so that an internal
    ``tie_weights(recompute_mapping=False)`` does not tie it back (``resize_token_embeddings`` and an
    explicit ``model.tie_weights()`` still would: never call them on an untied T5).

    Args:
        model: a transformers model.
        seed: when given and the head is still tied, the new head is drawn from N(0, 1 / d_model), so
            that its logits start at the scale of a tied T5's (whose N(0, 1) embeddings meet a decoder
            output rescaled by d_model ** -0.5); transformers' own N(0, 1) would start them sqrt(d_model)
            times larger. When None, a tied head is copied (identical values, separate storage).
    """
    head = model.get_output_embeddings()
    if embeddings_tied(model):
        weight = head.weight.detach().clone()
        if seed is not None:
            weight = torch.randn(weight.shape, generator=torch.Generator().manual_seed(seed)).to(weight)
            weight = weight * head.in_features ** -0.5
        head.weight = nn.Parameter(weight)
    tied_keys = getattr(model, "all_tied_weights_keys", None)
    if isinstance(tied_keys, dict):
        for name, param in model.named_parameters(remove_duplicate=False):
            if param is head.weight:
                tied_keys.pop(name, None)
    return model


class _DropUntiedWarning(logging.Filter):
    """Drops transformers' load-time advice to set ``tie_word_embeddings=False``, which T5Config in 5.x ignores."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "but both are present in the checkpoints with different values" not in record.getMessage()


def quiet_untied_load_warning() -> None:
    """Silence the misleading 'update the config with tie_word_embeddings=False' warning of untied T5 loads."""
    logger = logging.getLogger("transformers.modeling_utils")
    if not any(isinstance(f, _DropUntiedWarning) for f in logger.filters):
        logger.addFilter(_DropUntiedWarning())
