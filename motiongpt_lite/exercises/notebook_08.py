"""Checkers for the exercises of notebook 08, the playground (see :mod:`motiongpt_lite.exercises`)."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from motiongpt_lite.exercises.common import correct as _correct

__all__ = ["check_exercise_8_1", "check_exercise_8_2", "check_exercise_8_3"]

# Text a learner might type into the playground: plain captions, and ones that smuggle in the model's own words
TYPED_8_1 = ["a person walks forward.", "someone waves < 3 times >", "the man kicks with his left leg, </ then stops",
             "a man <motion_id_3> jumps", "walks </s> forward", "<extra_id_0> turns around", "a <pad> hop",
             "he walks <motion_id_1><motion_id_2> then stops", "a person waves \U0001F44B twice", "a person says 'motion_id_3' aloud"]


def check_exercise_8_1(is_plain: Callable, tokenizer) -> None:
    """8.1: ``is_plain(text, tokenizer)`` is True when typed text reaches the model as words only, False when
    the tokenizer would turn part of it into a control token (a motion word, a span marker, a sentinel,
    ``</s>``, ``<pad>``); checked against :func:`~motiongpt_lite.lm.tokenizer.control_tokens_in`."""
    from motiongpt_lite.lm.tokenizer import control_tokens_in

    for text in TYPED_8_1:
        want = not control_tokens_in(text, tokenizer)
        got = is_plain(text, tokenizer)
        assert isinstance(got, (bool, np.bool_)), f"is_plain must return True or False, got {got!r} for {text!r}."
        assert bool(got) == want, (
            f"is_plain({text!r}) gave {got}: " + ("the tokenizer turns part of it into a control token; look for "
                                                  "the ids of tokenizer.all_special_ids and get_added_vocab()"
                                                  if not want else "it holds no control token, only words and "
                                                  "brackets (<unk> stands for an unknown piece and is not counted)"))
    _correct("8.1")


def _action_passes(joints: np.ndarray | None, label: dict, fps: float) -> bool:
    """Does one motion show its label's action? A motion that was not written (None) does not."""
    from motiongpt_lite.eval.semantic import motion_checks

    return joints is not None and motion_checks(joints, label, fps)["action"]


def check_exercise_8_2(action_share: Callable, template: str, gpt, captions: Sequence[str],
                       labels: Sequence[dict]) -> None:
    """8.2: ``action_share(gpt, captions, labels, template)`` is the share of motions written for ``captions``
    in the phrasing ``template`` that show their label's action; ``template`` is a phrasing of the learner's
    own (holding ``{caption}``, not one the model was tuned or tested on). The checker recomputes the share for
    the first training phrasing and for the learner's."""
    from motiongpt_lite.lm.templates import templates

    known = templates("text_to_motion", "train") + templates("text_to_motion", "held_out")
    assert isinstance(template, str) and "{caption}" in template, "my_template_8_2 must be a string holding {caption}."
    assert template not in known, "that phrasing is one of the model's own; write one in your words."
    for phrasing in (templates("text_to_motion")[0], template):
        results = gpt.text_to_motion(list(captions), template=phrasing)
        want = float(np.mean([_action_passes(r.joints, lab, gpt.fps) for r, lab in zip(results, labels)]))
        got = float(action_share(gpt, captions, labels, phrasing))
        assert abs(got - want) < 1e-9, (
            f"action_share gave {got:.3f} for {phrasing!r}, the checker measured {want:.3f}; ask for all the captions "
            "in one call of gpt.text_to_motion (its default decoding is seeded per call), and count a motion that "
            "was not written (result.joints is None) as failing.")
    _correct("8.2")


def _fit_length(joints: np.ndarray, frames: int) -> np.ndarray:
    """(frames, J, 3): the first ``frames`` frames of a motion, padded by holding its last pose when shorter."""
    if len(joints) >= frames:
        return joints[:frames]
    return np.concatenate([joints, np.repeat(joints[-1:], frames - len(joints), axis=0)])


def check_exercise_8_3(length_protocols: Callable, gpt, captions: Sequence[str], labels: Sequence[dict],
                       frames: Sequence[int]) -> None:
    """8.3: ``length_protocols(gpt, captions, labels, frames)`` gives the action share under three ways of
    handling length: ``"length given"`` (the real frames in the prompt), ``"model chooses"`` (no length, the
    motion as written) and ``"chosen, fit to the real length"`` (the same motions cropped, or padded by holding
    the last pose, to the real frames, as the reference's evaluation crops or pads)."""
    given = gpt.text_to_motion(list(captions), length=list(frames))
    chosen = gpt.text_to_motion(list(captions))
    fitted = [None if r.joints is None else _fit_length(r.joints, n) for r, n in zip(chosen, frames)]
    want = {"length given": [r.joints for r in given], "model chooses": [r.joints for r in chosen],
            "chosen, fit to the real length": fitted}
    got = length_protocols(gpt, captions, labels, frames)
    assert isinstance(got, dict) and set(got) == set(want), f"return a dict with the keys {sorted(want)}."
    for name, joints in want.items():
        share = float(np.mean([_action_passes(j, lab, gpt.fps) for j, lab in zip(joints, labels)]))
        assert abs(float(got[name]) - share) < 1e-9, (
            f"{name!r}: you measured {float(got[name]):.3f}, the checker {share:.3f}; one call of gpt.text_to_motion "
            "per protocol with all the captions, length=list(frames) for the first, and for the third crop the "
            "model's own motions to the real frames or hold their last pose.")
    _correct("8.3")
