"""What every exercise checker shares: the verdict lines and the safe way to run a checker cell."""
from __future__ import annotations

from typing import Callable

__all__ = ["correct", "run_check", "NOT_DONE"]

NOT_DONE = "not done yet"  # the words a checker prints for an exercise whose solution cell still raises


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
