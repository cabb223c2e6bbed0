"""The new checkers of notebooks 04 and 05 (motiongpt_lite.exercises.notebooks_04_05): a right answer passes with
the verdict line, a plausible wrong one raises AssertionError with a hint, and an unsolved one is "not done yet"."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lm_fake_data import make_fake_dataset
from motiongpt_lite.config import LMConfig
from motiongpt_lite.exercises import (check_exercise_4_1, check_exercise_4_3, check_exercise_5_2, check_exercise_5_3,
                                      motion_word_mass, run_check)
from motiongpt_lite.lm.model import build_t5
from motiongpt_lite.lm.pretrain import load_motion_texts
from motiongpt_lite.lm.tasks import MotionText, random_spans_noise_mask
from motiongpt_lite.lm.vocab import MotionVocab

# --- 4.1 the constrained-decoding rule ---

VOCAB = MotionVocab(num_codes=16, offset=40)
V_SIZE = VOCAB.end


def rule(inside_when=None, eom_needs_code=True, codes_outside=False, mask_outside=False, eos_inside=False,
         som_outside=True):
    """The constrained-decoding rule, with one of its parts switchable to a plausible mistake."""
    def allowed_next(prefix, vocab, vocab_size):
        markers = [t for t in prefix if t in (vocab.som_id, vocab.eom_id)]
        inside = inside_when(prefix, vocab) if inside_when else markers[-1:] == [vocab.som_id]
        allowed = torch.zeros(vocab_size, dtype=torch.bool)
        codes = slice(vocab.offset, vocab.offset + vocab.num_codes)
        if inside:
            start = max(i for i, t in enumerate(prefix) if t == vocab.som_id)
            allowed[codes] = True
            allowed[vocab.eom_id] = not eom_needs_code or any(vocab.is_code(torch.tensor(prefix[start + 1:])))
            allowed[1] = eos_inside
        else:
            allowed[:] = True
            allowed[vocab.offset:vocab.end] = False
            allowed[codes] = codes_outside
            allowed[vocab.mask_id] = mask_outside
            allowed[vocab.som_id] = som_outside
        return allowed
    return allowed_next


def test_4_1_the_rule_matches_the_logits_processor(capsys):
    check_exercise_4_1(rule(), VOCAB, V_SIZE)
    assert capsys.readouterr().out == "Exercise 4.1: correct ✓\n"


@pytest.mark.parametrize("wrong, hint", [
    (rule(eom_needs_code=False), "at least one code"),
    (rule(codes_outside=True), "float in text"),
    (rule(mask_outside=True), "mask marker"),
    (rule(eos_inside=True), "only codes and the end marker"),
    (rule(som_outside=False), "new motion may start"),
    (rule(inside_when=lambda prefix, vocab: vocab.som_id in prefix), "outside a motion span"),  # any start = inside
    (lambda prefix, vocab, size: torch.ones(size, dtype=torch.bool), "outside a motion span|inside a motion span"),
    (lambda prefix, vocab, size: torch.ones(size - 3, dtype=torch.bool), "booleans"),
])
def test_4_1_plausible_wrong_rules_are_rejected(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_exercise_4_1(wrong, VOCAB, V_SIZE)


# --- 4.3 the motion words' mass for a bigger codebook ---

NUM_OLD, K = 120, 16
FLAN_LIKE = LMConfig(model="config", d_model=32, d_ff=64, d_kv=8, num_layers=1, num_heads=4,
                     feed_forward_proj="gated-gelu", tie_embeddings=False, dropout=0.0)


@pytest.fixture(scope="module")
def text_model():
    model = build_t5(FLAN_LIKE, NUM_OLD, seed=0).eval()
    g = torch.Generator().manual_seed(3)
    source = torch.randint(3, NUM_OLD, (1, 9), generator=g)
    target = torch.cat([torch.zeros(1, 1, dtype=torch.long), torch.randint(3, NUM_OLD, (1, 3), generator=g)], 1)
    return model, source, target


def right_growth(p, n_before, n_after):
    odds = p / (1 - p) * n_after / n_before
    return odds / (1 + odds)


def test_4_3_the_odds_rule_is_what_the_merge_measures(text_model, capsys):
    model, source, target = text_model
    check_exercise_4_3(right_growth, model, NUM_OLD, K, source, target)
    assert capsys.readouterr().out == "Exercise 4.3: correct ✓\n"
    p = motion_word_mass(model, NUM_OLD, K, source, target)
    assert 0.0 < p < 1.0


@pytest.mark.parametrize("wrong, hint", [
    (lambda p, a, b: p * b / a, "n e\\^a"),  # mass in proportion to the number of words
    (lambda p, a, b: p * 4, "n e\\^a"),  # "four times the mass"
    (lambda p, a, b: right_growth(p, a - 3, b - 3), "markers included"),  # forgets the 3 markers
    (lambda p, a, b: p, "n e\\^a"),  # "the same"
    (lambda p, a, b: "larger", "float"),  # the old three-way guess
])
def test_4_3_plausible_wrong_predictions_are_rejected(text_model, wrong, hint):
    model, source, target = text_model
    with pytest.raises(AssertionError, match=hint):
        check_exercise_4_3(wrong, model, NUM_OLD, K, source, target)


# --- 5.2 span corruption by hand ---

SENTINELS = list(range(5000, 4900, -1))  # <extra_id_0> is the highest id, as in T5
SENTENCES = [list(range(300, 300 + n)) for n in (2, 7, 13, 40)]


def right_corrupt(ids, sentinel_ids, density, span_len, rng):
    mask = random_spans_noise_mask(len(ids), density, span_len, rng)
    source, target, span = [], [], -1
    for i, token in enumerate(ids):
        if mask[i] and (i == 0 or not mask[i - 1]):
            span += 1
            source.append(sentinel_ids[span])
            target.append(sentinel_ids[span])
        (target if mask[i] else source).append(token)
    return source, target


def sentinel_per_token(ids, sentinel_ids, density, span_len, rng):
    mask = random_spans_noise_mask(len(ids), density, span_len, rng)
    source, target, k = [], [], 0
    for token, cut in zip(ids, mask):
        if cut:
            source.append(sentinel_ids[k])
            target += [sentinel_ids[k], token]
            k += 1
        else:
            source.append(token)
    return source, target


def same_sentinel(ids, sentinel_ids, density, span_len, rng):
    return right_corrupt(ids, [sentinel_ids[0]] * len(sentinel_ids), density, span_len, rng)


def with_eos(ids, sentinel_ids, density, span_len, rng):
    source, target = right_corrupt(ids, sentinel_ids, density, span_len, rng)
    return source + [1], target + [1]


def other_draws(ids, sentinel_ids, density, span_len, rng):
    rng.random()  # one draw too many: a valid corruption, not T5's with this generator
    return right_corrupt(ids, sentinel_ids, density, span_len, rng)


def spans_dropped_from_target(ids, sentinel_ids, density, span_len, rng):
    source, target = right_corrupt(ids, sentinel_ids, density, span_len, rng)
    return source, [t for t in target if t in sentinel_ids]


def test_5_2_a_faithful_corruption_passes(capsys):
    check_exercise_5_2(right_corrupt, SENTENCES, SENTINELS, 0.15, 3.0)
    assert capsys.readouterr().out == "Exercise 5.2: correct ✓\n"


@pytest.mark.parametrize("wrong, hint", [
    (sentinel_per_token, "one sentinel per span|side by side"),
    (same_sentinel, "in order"),
    (with_eos, "no eos"),
    (other_draws, "not the one T5 would draw"),
    (spans_dropped_from_target, "hides no token"),
    (lambda ids, s, d, m, rng: (ids, []), "no sentinel"),
])
def test_5_2_plausible_wrong_corruptions_are_rejected(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_exercise_5_2(wrong, SENTENCES, SENTINELS, 0.15, 3.0)


def test_5_2_unsolved_is_not_done_yet(capsys):
    def stub(*args):
        raise NotImplementedError("Exercise 5.2: write corrupt")

    run_check("5.2", lambda: check_exercise_5_2(stub, SENTENCES, SENTINELS, 0.15, 3.0))
    assert capsys.readouterr().out.startswith("Exercise 5.2: not done yet")


# --- 5.3 the reference's 4x length bug ---

TEMPLATES = ["Make <Frame_Placeholder> frames, <Second_Placeholder> s: <Caption_Placeholder>"]


@pytest.fixture(scope="module")
def items(tmp_path_factory):
    data = make_fake_dataset(tmp_path_factory.mktemp("lm_data_05"))
    return load_motion_texts(data, data / "tokens")[0]


def fill_with(frames, seconds):
    def fill(template, item, fps):
        return (template.replace("<Caption_Placeholder>", item.captions[0])
                .replace("<Frame_Placeholder>", str(frames(item))).replace("<Second_Placeholder>", seconds(item, fps)))
    return fill


REFERENCE = fill_with(lambda m: len(m.code_idx), lambda m, fps: "%.1f" % np.floor(len(m.code_idx) / fps))
FIXED = fill_with(lambda m: m.motion_len, lambda m, fps: f"{m.motion_len / fps:.1f}")


def test_5_3_reproduced_fixed_and_predicted_passes(items, capsys):
    check_exercise_5_3(REFERENCE, FIXED, 0.25, items, TEMPLATES, 20.0)
    assert capsys.readouterr().out == "Exercise 5.3: correct ✓\n"


@pytest.mark.parametrize("reference, fixed, ratio, hint", [
    (FIXED, FIXED, 0.25, "number of\ntokens|number of tokens"),  # "reproduces" the bug with the right length
    (fill_with(lambda m: len(m.code_idx), lambda m, fps: f"{len(m.code_idx) / fps:.1f}"), FIXED, 0.25, "rounded down"),
    (REFERENCE, fill_with(lambda m: 4 * len(m.code_idx), lambda m, fps: f"{4 * len(m.code_idx) / fps:.1f}"), 0.25,
     "motion_len"),  # "fixes" it with 4 x tokens
    (REFERENCE, fill_with(lambda m: m.motion_len, lambda m, fps: "%.1f" % np.floor(m.motion_len / fps)), 0.25,
     "not rounded down"),
    (REFERENCE, FIXED, 4.0, "how many frames"),  # the ratio upside down
    (REFERENCE, FIXED, 1.0, "how many frames"),
])
def test_5_3_plausible_wrong_answers_are_rejected(items, reference, fixed, ratio, hint):
    with pytest.raises(AssertionError, match=hint):
        check_exercise_5_3(reference, fixed, ratio, items, TEMPLATES, 20.0)


def test_5_3_the_odd_clip_tells_real_frames_from_four_times_the_tokens():
    """Even where every training clip is a whole number of tokens long, 4 x tokens does not pass for motion_len."""
    whole = [MotionText(np.arange(10), ["a man walks."], 40) for _ in range(3)]
    four_times = fill_with(lambda m: 4 * len(m.code_idx), lambda m, fps: f"{4 * len(m.code_idx) / fps:.1f}")
    with pytest.raises(AssertionError, match="motion_len"):
        check_exercise_5_3(REFERENCE, four_times, 0.25, whole, TEMPLATES, 20.0)
