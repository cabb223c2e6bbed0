"""Checkers for the notebooks' exercises: one small function per exercise (used from notebook 00 on).

Each exercise has a solution cell (its code between ``# BEGIN SOLUTION`` and ``# END SOLUTION``)
and, right after it, a checker cell ``run_check("N.M", lambda: check_exercise_N_M(...))``. A checker
recomputes the right answer from the same inputs, prints "Exercise N.M: correct ✓" when the learner's
answer matches, and otherwise raises ``AssertionError`` with a hint that says what to look at, never
the answer itself. ``run_check`` turns an exercise that is not done yet into a one-line message.
One module per group of notebooks; everything is re-exported here.
"""
from motiongpt_lite.exercises.common import NOT_DONE as NOT_DONE, correct as correct, run_check as run_check
from motiongpt_lite.exercises.notebooks_00_03 import *  # noqa: F401,F403
from motiongpt_lite.exercises.notebook_03b import *  # noqa: F401,F403
from motiongpt_lite.exercises.notebooks_04_05 import *  # noqa: F401,F403
from motiongpt_lite.exercises.notebook_06 import *  # noqa: F401,F403
from motiongpt_lite.exercises.notebook_07 import *  # noqa: F401,F403
from motiongpt_lite.exercises.notebook_08 import *  # noqa: F401,F403
