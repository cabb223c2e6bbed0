"""What every text-motion evaluator shares (notebook 07): the interface the metrics use, and its input checks.

:class:`Evaluator` is implemented by our :class:`~motiongpt_lite.eval.evaluator.RetrievalEvaluator` and by the
official :class:`~motiongpt_lite.eval.t2m.T2MEvaluator`; both modules build on this one, and neither on the other.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from contextlib import contextmanager
from typing import Iterator, Sequence

import numpy as np
import torch

__all__ = ["Evaluator", "UNIT_LENGTH", "one_cpu_thread", "caption_words", "check_texts", "check_motions"]

UNIT_LENGTH = 4  # frames per step of the motion encoders (two stride-2 convolutions), as the T2M evaluator


class Evaluator(ABC):
    """What the metrics need from an evaluator: texts and motions mapped into one embedding space.

    Attributes:
        name: "ours" or "t2m".
        embed_dim: E, the size of the embeddings.
        motion_dim: D, the feature width of the motions it reads (263 HumanML3D, 251 KIT-ML).
    """

    name: str
    embed_dim: int
    motion_dim: int

    @abstractmethod
    def embed_texts(self, texts: Sequence[str], tokens: Sequence[Sequence[str]] | None = None) -> np.ndarray:
        """Embed captions.

        Args:
            texts: N captions, e.g. "a person walks forward.".
            tokens: optional HumanML3D ``word/POS`` tokens of each caption (the dataset's ``Caption.tokens``);
                the official evaluator uses them when given, ours reads the words of ``texts`` only.
        Returns:
            (N, E) float32 embeddings.
        """

    @abstractmethod
    def embed_motions(self, motions: Sequence[np.ndarray]) -> np.ndarray:
        """Embed motions.

        Args:
            motions: N raw (not normalised) feature arrays (T_i, D), T_i >= 4 frames.
        Returns:
            (N, E) float32 embeddings.
        """


@contextmanager
def one_cpu_thread(device: torch.device | str = "cpu") -> Iterator[None]:
    """Run torch on one CPU thread inside the block (restored after); no effect on a GPU.

    The encoders' GRUs take many small steps, and two threads fight over them: on the 2-core CPU of
    this project, while other processes ran (load 4-15), one tiny training step took 0.04 s on one
    thread and 0.26-3.2 s on two (tiny preset: 15 s against 126 s).
    """
    threads = torch.get_num_threads()
    if torch.device(device).type == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def caption_words(text: str) -> list[str]:
    """Lower-case words of a caption: runs of letters ("A man's left-hand wave." -> a, man, s, left, hand, wave)."""
    return re.findall(r"[a-z]+", text.lower())


def check_texts(texts: Sequence[str]) -> list[str]:
    """The captions as a list; raises a clear error for a bare string, an empty list or a caption without words."""
    if isinstance(texts, str):
        raise TypeError("texts must be a list of captions, not one string; wrap it: embed_texts([text]).")
    texts = list(texts)
    if not texts:
        raise ValueError("texts is empty; pass at least one caption.")
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not caption_words(text):
            raise ValueError(f"text {i} ({text!r}) has no words; pass a non-empty caption such as 'a person walks'.")
    return texts


def check_motions(motions: Sequence[np.ndarray], motion_dim: int) -> list[np.ndarray]:
    """The motions as float32 (T, D) arrays; raises a clear error for a wrong width, fewer than 4 frames or NaN."""
    if isinstance(motions, np.ndarray) and motions.ndim == 2:
        raise TypeError("motions must be a list of (T, D) arrays, not one array; wrap it: embed_motions([motion]).")
    motions = [np.asarray(m, dtype=np.float32) for m in motions]
    if not motions:
        raise ValueError("motions is empty; pass at least one (T, D) motion.")
    for i, motion in enumerate(motions):
        if motion.ndim != 2 or motion.shape[1] != motion_dim:
            raise ValueError(f"motion {i} has shape {motion.shape}, expected (T, {motion_dim}) raw features; "
                             "pass un-normalised features of this evaluator's dataset.")
        if len(motion) < UNIT_LENGTH:
            raise ValueError(f"motion {i} has {len(motion)} frames; the motion encoder needs at least {UNIT_LENGTH}.")
        if not np.isfinite(motion).all():
            raise ValueError(f"motion {i} contains NaN or inf; check the generated or loaded features.")
    return motions
