"""Motion tokens as words: the strings and ids of the merged vocabulary (introduced in notebook 04).

A VQ-VAE with ``num_codes`` = K codes turns a motion into code indices ``code_idx`` in ``[0, K)``.
We give each code a word of its own, ``<motion_id_k>``, and add three more words, following the
reference implementation's naming:

=====================  ===================  =============================================
token                  role                 id in the merged vocabulary
=====================  ===================  =============================================
``<motion_id_0>``      code 0               ``offset``
...                    ...                  ...
``<motion_id_{K-1}>``  code K-1             ``offset + K - 1``
``<motion_id_{K}>``    start of motion      ``offset + K``       (``som_id``)
``<motion_id_{K+1}>``  end of motion        ``offset + K + 1``   (``eom_id``)
``<motion_id_{K+2}>``  masked code          ``offset + K + 2``   (``mask_id``, in-betweening)
=====================  ===================  =============================================

The K + 3 words are appended to the text tokenizer in this order, so they get consecutive ids
starting at ``offset`` = the size of the text vocabulary. All conversions are then one addition or
one subtraction: ``token_id = offset + code_idx`` and ``code_idx = token_id - offset``. A motion in a
prompt is written as a span ``<motion_id_K> <motion_id_c0> ... <motion_id_cN-1> <motion_id_{K+1}>``.

The conversions here are strict (bad input raises); reading *model output*, which may be anything,
is the job of the total parser in :mod:`motiongpt_lite.lm.parse`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import torch

__all__ = ["MOTION_TOKEN", "MOTION_TOKEN_RE", "motion_token", "motion_token_strings", "MotionVocab"]

MOTION_TOKEN = "<motion_id_{}>"  # the word of code k (and of the three markers, k = K, K+1, K+2)
MOTION_TOKEN_RE = re.compile(r"<motion_id_(\d+)>")  # finds every motion word in a string


def motion_token(k: int) -> str:
    """The word ``<motion_id_k>``."""
    return MOTION_TOKEN.format(int(k))


def motion_token_strings(num_codes: int) -> list[str]:
    """All K + 3 motion words in id order: K codes, then start, end and mask markers."""
    if num_codes < 1:
        raise ValueError(f"num_codes must be at least 1, got {num_codes}; pass the codebook size of the VQ-VAE.")
    return [motion_token(k) for k in range(num_codes + 3)]


def _as_codes(code_idx: torch.Tensor | Sequence[int] | Iterable[int]) -> list[int]:
    """Any 1D container of code indices -> list of Python ints."""
    if isinstance(code_idx, torch.Tensor):
        if code_idx.ndim != 1:
            raise ValueError(f"code_idx must be 1D (N,), got shape {tuple(code_idx.shape)}; convert one clip at a time.")
        return [int(c) for c in code_idx.tolist()]
    return [int(c) for c in code_idx]


@dataclass(frozen=True)
class MotionVocab:
    """Where the motion words sit in a merged vocabulary.

    Attributes:
        num_codes: K, the codebook size of the VQ-VAE.
        offset: token id of ``<motion_id_0>`` (the size of the text vocabulary it was appended to).
    """

    num_codes: int
    offset: int

    @property
    def som_id(self) -> int:
        """Id of the start-of-motion marker ``<motion_id_K>``."""
        return self.offset + self.num_codes

    @property
    def eom_id(self) -> int:
        """Id of the end-of-motion marker ``<motion_id_{K+1}>``."""
        return self.offset + self.num_codes + 1

    @property
    def mask_id(self) -> int:
        """Id of the masked-code marker ``<motion_id_{K+2}>`` (in-betweening)."""
        return self.offset + self.num_codes + 2

    @property
    def size(self) -> int:
        """Number of motion words, K + 3."""
        return self.num_codes + 3

    @property
    def end(self) -> int:
        """One past the last motion id: the size of the merged vocabulary."""
        return self.offset + self.size

    def tokens(self) -> list[str]:
        """All motion words in id order (see :func:`motion_token_strings`)."""
        return motion_token_strings(self.num_codes)

    def _check_codes(self, codes: list[int]) -> None:
        bad = [c for c in codes if not 0 <= c < self.num_codes]
        if bad:
            raise ValueError(f"code indices {bad[:5]} are outside [0, {self.num_codes}); pass codes of a VQ-VAE with "
                             f"{self.num_codes} codes.")

    def codes_to_ids(self, code_idx, markers: bool = True) -> list[int]:
        """code_idx (N,) -> token ids ``offset + code_idx``, wrapped in start/end markers when ``markers``."""
        codes = _as_codes(code_idx)
        self._check_codes(codes)
        ids = [self.offset + c for c in codes]
        return [self.som_id, *ids, self.eom_id] if markers else ids

    def ids_to_codes(self, ids) -> list[int]:
        """Token ids of codes (markers not allowed) -> code_idx ``id - offset``."""
        ids = _as_codes(ids)
        bad = [i for i in ids if not self.offset <= i < self.offset + self.num_codes]
        if bad:
            raise ValueError(f"token ids {bad[:5]} are not motion codes (codes are ids {self.offset}.."
                             f"{self.offset + self.num_codes - 1}); strip markers and text first, or use lm.parse.")
        return [i - self.offset for i in ids]

    def codes_to_text(self, code_idx, markers: bool = True) -> str:
        """code_idx (N,) -> ``"<motion_id_K><motion_id_c0>...<motion_id_{K+1}>"`` (no spaces)."""
        codes = _as_codes(code_idx)
        self._check_codes(codes)
        words = [motion_token(c) for c in codes]
        if markers:
            words = [motion_token(self.num_codes), *words, motion_token(self.num_codes + 1)]
        return "".join(words)

    def masked_to_text(self, start, num_masked: int, end) -> str:
        """The in-betweening prompt's motion: ``<som> start <mask> x num_masked end <eom>`` as motion words."""
        middle = motion_token(self.num_codes + 2) * num_masked
        return (motion_token(self.num_codes) + self.codes_to_text(start, markers=False) + middle
                + self.codes_to_text(end, markers=False) + motion_token(self.num_codes + 1))

    def text_to_codes(self, text: str) -> list[int]:
        """The code indices of every code word in ``text``, in order; markers and other text are skipped.

        Raises:
            ValueError: a motion word names a number beyond the mask marker (K + 2).
        """
        numbers = [int(m) for m in MOTION_TOKEN_RE.findall(text)]
        bad = [n for n in numbers if n >= self.size]
        if bad:
            raise ValueError(f"motion words {[motion_token(n) for n in bad[:3]]} do not exist with {self.num_codes} "
                             "codes; use the vocabulary of the VQ-VAE that made them, or lm.parse for model output.")
        return [n for n in numbers if n < self.num_codes]

    def is_code(self, ids: torch.Tensor) -> torch.Tensor:
        """Boolean mask of the ids that are motion codes (markers excluded), same shape as ``ids``."""
        return (ids >= self.offset) & (ids < self.offset + self.num_codes)

    @classmethod
    def from_tokenizer(cls, tokenizer, num_codes: int) -> "MotionVocab":
        """Read the offset from a tokenizer that holds the motion words, checking they are consecutive.

        Raises:
            ValueError: the words are missing or not consecutive; add them with ``lm.tokenizer.add_motion_tokens``.
        """
        ids = tokenizer.convert_tokens_to_ids(motion_token_strings(num_codes))
        offset = ids[0]
        if offset is None or offset == tokenizer.unk_token_id or ids != list(range(offset, offset + num_codes + 3)):
            raise ValueError(f"the tokenizer does not hold the {num_codes + 3} motion words at consecutive ids; add them "
                             "with motiongpt_lite.lm.tokenizer.add_motion_tokens(tokenizer, num_codes).")
        return cls(num_codes=num_codes, offset=offset)
