"""Composition of two training motions ("A, then B", lm.tasks.compose): captions, codes, lengths, partners that
fit, and no effect at all when off (the presets' setting)."""
from dataclasses import replace

import numpy as np
import pytest

from motiongpt_lite.config import get_preset
from motiongpt_lite.lm.tasks import ComposedItems, MotionText, compose, then_caption


def _item(n_codes: int, frames: int, caption: str) -> MotionText:
    return MotionText(np.arange(n_codes, dtype=np.int64), [caption], frames)


def test_then_caption_drops_the_second_subject_and_keeps_one_sentence():
    rng = np.random.default_rng(0)
    joined = {then_caption("A man jumps twice.", "someone waves with the left hand.", rng) for _ in range(40)}
    assert joined == {"A man jumps twice, then waves with the left hand.",
                      "A man jumps twice and then waves with the left hand.",
                      "A man jumps twice, and then waves with the left hand.",
                      "A man jumps twice and afterwards waves with the left hand."}
    kept = then_caption("a person walks.", "The dog barks.", np.random.default_rng(1))
    assert kept.endswith("the dog barks.") and kept.count(".") == 1  # an unknown subject is kept, lower-cased


def test_compose_concatenates_codes_and_adds_lengths():
    first, second = _item(5, 20, "a man jumps."), _item(3, 11, "she bows.")
    both = compose(first, second, np.random.default_rng(0))
    np.testing.assert_array_equal(both.code_idx, [0, 1, 2, 3, 4, 0, 1, 2])
    assert both.motion_len == 31 and len(both.captions) == 1 and both.captions[0].startswith("a man jumps")
    assert both.captions[0].endswith("bows.")


def test_partners_fit_max_frames_and_the_rate_is_kept():
    items = [_item(n, 4 * n, f"motion {n}.") for n in range(10, 50)]  # 40 .. 196 frames
    pool = ComposedItems(items, rate=0.5, max_frames=120)
    draws = [pool.draw(i % len(items), np.random.default_rng(i)) for i in range(2000)]
    composed = [d for i, d in enumerate(draws) if d is not items[i % len(items)]]
    assert all(d.motion_len <= 120 for d in composed)
    short = sum(items[i % len(items)].motion_len <= 80 for i in range(2000))  # those with at least one partner
    assert abs(len(composed) / short - 0.5) < 0.05
    with pytest.raises(ValueError, match="compose_rate must lie in"):
        ComposedItems(items, rate=1.5)


def test_off_draws_no_random_number():
    """Rate 0 (every preset) must leave the examples bit-identical to a run without composition."""
    items = [_item(10, 40, "a man walks.")]
    rng = np.random.default_rng(3)
    assert ComposedItems(items, rate=0.0).draw(0, rng) is items[0]
    assert rng.random() == np.random.default_rng(3).random()
    assert all(p.lm.compose_rate == 0 and p.instruct.compose_rate == 0
               for p in (get_preset(n) for n in ("tiny", "small", "base", "paper")))
    assert replace(get_preset("small").lm, compose_rate=0.3).compose_rate == 0.3
