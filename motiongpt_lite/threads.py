"""How many CPU threads torch uses, and how to share a machine's cores between learners.

torch runs its CPU kernels on an OpenMP thread pool with one thread per core, and between two parallel
regions those threads *spin* (busy-wait). Alone on a machine that is the fastest setting; with two torch
processes on the same cores each one's spinning threads burn the time slices the other one needs, and
both crawl. Measured on the 2-core machine this project is developed on (``small`` language-model
training steps, ``motiongpt-lite bench concurrency``, idle otherwise):

============================================  ===========  ======================================
setting                                       alone        each of two at once
============================================  ===========  ======================================
2 threads (torch's default)                   2.24 step/s  0.75 step/s (34 % of alone)
1 thread each (``MOTIONGPT_LITE_THREADS=1``)  1.51 step/s  1.53 step/s (68 % of 2 threads alone)
============================================  ===========  ======================================

Letting waiting threads sleep instead (``OMP_WAIT_POLICY=PASSIVE``) helped two processes (1.42 step/s
each) but made a process alone erratic (0.86 to 1.97 step/s over four runs), so it is not the default.

``MOTIONGPT_LITE_THREADS=N`` pins torch to N threads per process: the one variable to set on a shared
server (cores divided by the learners who train at the same time, see docs/teaching.md). Unset, torch
keeps its default (every core), the fastest for a learner alone. A different thread count changes the
order of floating-point sums, so such a run trains a slightly different model.
"""
from __future__ import annotations

import os
import sys

__all__ = ["THREADS_VARIABLE", "configure_threads"]

THREADS_VARIABLE = "MOTIONGPT_LITE_THREADS"


def configure_threads() -> int | None:
    """Apply ``MOTIONGPT_LITE_THREADS`` (called when the package is imported, before or after torch).

    Returns:
        the thread count it pinned, or None when the variable is not set.
    Raises:
        ValueError: the variable is not a positive whole number.
    """
    value = os.environ.get(THREADS_VARIABLE, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{THREADS_VARIABLE}={value!r} is not a thread count; set it to a whole number of at least 1 "
                         f"(e.g. {THREADS_VARIABLE}=1) or unset it to use every core")
    threads = int(value)
    os.environ["OMP_NUM_THREADS"] = value  # read by torch when it is first imported
    if "torch" in sys.modules:  # already imported (a notebook imports torch first): change the running pool
        sys.modules["torch"].set_num_threads(threads)
    return threads
