"""The embedded motion-language dataset: a deterministic generator of human motions with captions,
written in the HumanML3D layout (introduced in notebook 00).

    from motiongpt_lite.data.synthetic import build_embedded_dataset, generate_motion, describe
    build_embedded_dataset("data/embedded_tiny", preset="tiny")        # 160 motions + mirrors
    joints, labels = generate_motion({"action": "kick", "side": "left"}, np.random.default_rng(0))
    describe(labels, np.random.default_rng(0))                            # three captions

Modules: ``body`` (skeleton, kinematics, the plan solver), ``actions`` (one choreographer per
action, compositions, labels), ``captions`` (templates, tagger, mirroring), ``build`` (the writer).
"""
from motiongpt_lite.data.synthetic.actions import ACTIONS, CHOICES, FIELDS, generate_motion, mirror_labels, sample_spec
from motiongpt_lite.data.synthetic.body import Body, mirror_joints
from motiongpt_lite.data.synthetic.build import GENERATOR_VERSION, HELD_OUT, build_embedded_dataset, generate_clip, held_out
from motiongpt_lite.data.synthetic.captions import ACTION_WORDS, caption_line, describe, mirror_caption, tag

__all__ = [
    "ACTIONS", "CHOICES", "FIELDS", "generate_motion", "mirror_labels", "sample_spec", "Body", "mirror_joints",
    "GENERATOR_VERSION", "HELD_OUT", "build_embedded_dataset", "generate_clip", "held_out", "ACTION_WORDS",
    "caption_line", "describe", "mirror_caption", "tag",
]
