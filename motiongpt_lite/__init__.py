"""motiongpt_lite: MotionGPT rebuilt step by step, one notebook per idea.

Layers (imports only point down): cli -> lm / eval -> vq -> data / viz -> config.
``motiongpt_lite.MotionGPT`` (the one object to hold, see :mod:`motiongpt_lite.api`) is imported on
first use, so ``import motiongpt_lite`` stays light.

Importing the package applies ``MOTIONGPT_LITE_THREADS`` (torch's thread count on a shared machine, see
:mod:`motiongpt_lite.threads`).
"""
from motiongpt_lite.threads import configure_threads

__version__ = "0.1.0"
__all__ = ["MotionGPT"]

configure_threads()


def __getattr__(name: str):
    if name == "MotionGPT":
        from motiongpt_lite.api import MotionGPT

        return MotionGPT
    raise AttributeError(f"module 'motiongpt_lite' has no attribute {name!r}")
