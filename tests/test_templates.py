"""Instruction templates (motiongpt_lite.lm.templates): dozens of phrasings per task family, held-out
phrasings kept apart, every placeholder filled, lengths in real frames and seconds."""
from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from motiongpt_lite.lm.templates import (FAMILIES, HELD_OUT_PER_FAMILY, PLACEHOLDERS, TEMPLATES, fill,
                                         frames_to_seconds, pick, placeholders, templates, tokens_to_frames)

MOTION = "<motion_id_16><motion_id_3><motion_id_7><motion_id_17>"
NEEDS = {"text_to_motion": {"caption"}, "text_to_motion_length": {"caption"}, "motion_to_text": {"motion"},
         "predict": {"motion"}, "inbetween": {"motion"}, "paraphrase": {"caption"}}


def test_every_family_has_dozens_of_distinct_phrasings_and_a_held_out_set():
    assert set(TEMPLATES) == set(FAMILIES)
    every = [t.lower() for family in FAMILIES for t in templates(family, "all")]
    assert len(every) == len(set(every)), "a phrasing appears twice"
    for family in FAMILIES:
        train, held_out = templates(family), templates(family, "held_out")
        assert len(train) >= 20 and len(held_out) == HELD_OUT_PER_FAMILY
        assert not set(train) & set(held_out) and train + held_out == templates(family, "all")


@pytest.mark.parametrize("family", FAMILIES)
def test_templates_use_the_right_placeholders(family):
    for template in templates(family, "all"):
        names = placeholders(template)
        assert names <= set(PLACEHOLDERS), template
        assert NEEDS[family] <= names, f"{template!r} does not show its input"
        assert ("caption" in names) != ("motion" in names), template
        if family == "text_to_motion_length":
            assert names & {"frames", "seconds"}, f"{template!r} does not say the length"
        else:
            assert not names & {"frames", "seconds"}, template


@settings(max_examples=60, deadline=None)
@given(caption=st.text(st.characters(blacklist_characters="{}<>", blacklist_categories=("Cs",)), min_size=1,
                       max_size=60),
       frames=st.integers(4, 400))
def test_filled_prompts_have_no_holes(caption, frames):
    for family in FAMILIES:
        for template in templates(family, "all"):
            prompt = fill(template, caption=caption, motion=MOTION, frames=frames)  # never refuses a caption
            rest = re.sub(r"<motion_id_\d+>", "", fill(template, caption="", motion=MOTION, frames=frames))
            assert not re.search(r"[{}<>]", rest), (template, prompt)
            assert (MOTION in prompt) == ("motion" in placeholders(template))


def test_lengths_are_frames_and_seconds_not_token_counts():
    assert tokens_to_frames(10) == 40 and frames_to_seconds(tokens_to_frames(10)) == "2.0"
    assert frames_to_seconds(98) == "4.9" and frames_to_seconds(25, fps=12.5) == "2.0"
    prompt = fill("Caption: {caption} Length: {frames} frames ({seconds} s).", caption="a man jumps", frames=98)
    assert prompt == "Caption: a man jumps Length: 98 frames (4.9 s)."
    assert fill("{seconds} seconds: {caption}", caption="x", frames=40, seconds="7") == "7 seconds: x"


def test_fill_refuses_missing_values_and_leftover_placeholders():
    with pytest.raises(ValueError, match="needs \\['frames'\\]"):
        fill("Make {frames} frames: {caption}", caption="a man walks")
    with pytest.raises(ValueError, match="placeholder '<Caption_Placeholder>'"):
        fill("Generate <Caption_Placeholder> now: {motion}", motion=MOTION)
    assert fill("Describe: {motion}", motion=MOTION, caption="unused") == f"Describe: {MOTION}"


def test_pick_draws_every_training_phrasing_and_never_a_held_out_one():
    rng = np.random.default_rng(0)
    for family in FAMILIES:
        drawn = {pick(family, rng) for _ in range(600)}
        assert drawn == set(templates(family))
        assert {pick(family, rng, "held_out") for _ in range(200)} == set(templates(family, "held_out"))


def test_unknown_family_or_split_raise():
    with pytest.raises(ValueError, match="unknown task family"):
        templates("dance")
    with pytest.raises(ValueError, match="unknown template split"):
        templates("predict", "test")
