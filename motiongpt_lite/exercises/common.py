"""What every exercise checker shares: the verdict lines and the safe way to run a checker cell."""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["correct", "run_check", "NOT_DONE", "SAME_WITHIN", "compare_paired", "per_example_loss"]

NOT_DONE = "not done yet"  # the words a checker prints for an exercise whose solution cell still raises
SAME_WITHIN = 3.0  # standard errors: a paired mean difference closer to 0 than this counts as "about the same"


def correct(exercise: str) -> None:
    """Print the verdict of a correct answer: ``Exercise N.M: correct ✓``."""
    print(f"Exercise {exercise}: correct ✓")


def run_check(exercise: str, check: Callable[[], None]) -> None:
    """Run one checker cell; an unsolved exercise gets a one-line message instead of a traceback.

    A checker cell reads ``run_check("N.M", lambda: check_exercise_N_M(answer, ...))``. In a student
    copy the solution cell raises ``NotImplementedError`` and leaves ``answer`` undefined; both show
    up here, and we print ``Exercise N.M: not done yet`` with what to do. A wrong answer still raises
    the checker's ``AssertionError`` and its hint.

    Args:
        exercise: the exercise number, e.g. ``"2.1"``.
        check: a function calling the exercise's checker with the learner's answer.
    Returns nothing, so that the cell shows only the verdict line (nbval compares it).
    """
    try:
        check()
    except (NotImplementedError, NameError) as err:
        print(f"Exercise {exercise}: {NOT_DONE} ({type(err).__name__}: {err}). "
              "Write your solution in the cell above, run it, then run this cell again.")


def per_example_loss(model, batch: dict) -> np.ndarray:
    """(B,) mean cross-entropy over each example's target tokens (labels -100 are padding), no gradients.

    Args:
        model: a T5 (``lm.model``), put in eval mode here.
        batch: ``input_ids``, ``attention_mask`` (B, S) and ``labels`` (B, L), as ``collate_examples`` pads them.
    """
    import torch
    import torch.nn.functional as F

    device = next(model.parameters()).device
    batch = {k: batch[k].to(device) for k in ("input_ids", "attention_mask", "labels")}
    with torch.no_grad():
        logits = model.eval()(**batch).logits  # (B, L, V)
        token = F.cross_entropy(logits.float().transpose(1, 2), batch["labels"], ignore_index=-100, reduction="none")
        valid = batch["labels"] != -100  # (B, L)
        return (token.sum(1) / valid.sum(1).clamp(min=1)).double().cpu().numpy()


def compare_paired(knob: np.ndarray, reference: np.ndarray, within: float = SAME_WITHIN) -> str:
    """"higher", "lower" or "about the same": per-example losses of a knob run against a reference run.

    Both runs are scored on the same examples, so we look at the per-example differences: their mean
    is "about the same" as 0 unless it lies more than ``within`` standard errors (std / sqrt(n)) away.
    The band follows from the sample, wide for a handful of examples (``tiny``) and narrow for many,
    where a fixed ratio of the two mean losses is met at one preset and missed at another by luck.

    Args:
        knob, reference: (n,) losses of the same n examples under the two models, n >= 2.
        within: the half-width of the "about the same" band, in standard errors.
    """
    diff = np.asarray(knob, np.float64) - np.asarray(reference, np.float64)
    if diff.shape != np.shape(reference) or diff.ndim != 1 or len(diff) < 2:
        raise ValueError(f"compare_paired needs two (n >= 2,) arrays of the same examples, got {np.shape(knob)} "
                         f"and {np.shape(reference)}.")
    band = within * diff.std(ddof=1) / np.sqrt(len(diff))
    return "higher" if diff.mean() > band else "lower" if diff.mean() < -band else "about the same"
