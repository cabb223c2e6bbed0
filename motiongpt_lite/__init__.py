"""motiongpt_lite: MotionGPT rebuilt step by step, one notebook per idea.

Layers (imports only point down): cli -> lm / eval -> vq -> data / viz -> config.
"""
__version__ = "0.1.0"
