"""Checkers for the exercises of notebook 08, the playground (see :mod:`motiongpt_lite.exercises`)."""
from __future__ import annotations

import math

from motiongpt_lite.exercises.common import correct as _correct

__all__ = ["check_exercise_8_1", "check_exercise_8_2", "check_exercise_8_3"]


def check_exercise_8_1(frames: int, tokens: int, seconds: float, gpt) -> None:
    """8.1: the Text → motion slider at ``seconds``: how many frames the motion gets and how many tokens the
    model writes; the checker also asks the model and counts."""
    from motiongpt_lite.playground import seconds_to_frames

    want_frames = seconds_to_frames(seconds, gpt.fps, gpt.frames_per_token, gpt.max_frames)
    assert int(frames) == want_frames, (f"{frames} frames is not what the slider gives for {seconds} s; multiply "
                                        "by the model's frame rate (gpt.fps) and round to a whole frame.")
    want_tokens = math.ceil(want_frames / gpt.frames_per_token)
    assert int(tokens) == want_tokens, (f"{tokens} tokens is off; one token covers gpt.frames_per_token frames and the "
                                        "model writes whole tokens, so round up.")
    result = gpt.text_to_motion("a person walks forward.", length=want_frames)
    assert len(result.code_idx) == tokens and len(result.features) == frames, "the model disagrees; re-run the cell."
    _correct("8.1")


def check_exercise_8_2(seconds: float, frames: int, bvh, fps: float = 20.0) -> None:
    """8.2: a BVH clip's duration in seconds, and how many frames it has once brought to ``fps``."""
    duration = (bvh.num_frames - 1) * bvh.frame_time
    assert abs(float(seconds) - duration) < 0.5 * bvh.frame_time, (
        f"{seconds} s is not the clip's duration; the first frame is at time 0, so the last one is at "
        "(number of frames - 1) x the frame time.")
    want = math.floor(duration * fps + 1e-6) + 1
    assert int(frames) == want, (f"{frames} frames is off; count the times 0, 1/fps, 2/fps, ... that fall inside "
                                 "the clip (both ends included).")
    _correct("8.2")


def check_exercise_8_3(prediction: str, app, clip_id: str) -> None:
    """8.3: with more of the clip given (Complete's ``given`` 0.25 -> 0.75), does the model write more, the same
    number of, or fewer tokens? The checker runs both and compares."""
    choices = ("more", "the same", "fewer")
    assert prediction in choices, f"prediction must be one of {choices}, got {prediction!r}."
    written = []
    for given in (0.25, 0.75):
        shown = app.complete(clip_id, given, show=False)  # measure only: nothing drawn in the app
        assert not shown.error, f"the Complete tab failed on clip {clip_id}: {shown.message}"
        written.append(len(shown.result.code_idx[shown.result.generated]))
    measured = "more" if written[1] > written[0] else "fewer" if written[1] < written[0] else "the same"
    assert prediction == measured, ("not what the model did; read how complete() chooses the length it asks for "
                                    "(the rest of the clip).")
    _correct("8.3")
