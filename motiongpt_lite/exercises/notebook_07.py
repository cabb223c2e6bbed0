"""Checkers for the exercises of notebook 07 (see :mod:`motiongpt_lite.exercises`)."""
from __future__ import annotations

from motiongpt_lite.exercises.common import correct as _correct

__all__: list[str] = []
