"""The total parser of model output (motiongpt_lite.lm.parse): what it recovers, what it flags, and
property tests that it never raises."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from motiongpt_lite.lm.parse import FLAGS, parse_ids, parse_text
from motiongpt_lite.lm.tokenizer import add_motion_tokens, train_text_tokenizer
from motiongpt_lite.lm.vocab import MotionVocab

K = 16
VOCAB = MotionVocab(num_codes=K, offset=200)  # codes 200..215, som 216, eom 217, mask 218, end 219
SOM, EOM, MASK = VOCAB.som_id, VOCAB.eom_id, VOCAB.mask_id


@pytest.fixture(scope="module")
def tokenizer():
    tokenizer = train_text_tokenizer(["a person walks forward", "the man jumps twice", "someone waves"] * 5, 100)
    vocab = add_motion_tokens(tokenizer, K)
    return tokenizer, vocab


def codes(*k: int) -> list[int]:
    return [VOCAB.offset + c for c in k]


@pytest.mark.parametrize("ids, expected_codes, expected_flags", [
    ([SOM, *codes(3, 4, 5), EOM, 1], [3, 4, 5], ()),                       # well formed, eos
    ([SOM, *codes(3), EOM, 1, SOM, *codes(9), EOM], [3], ()),             # after eos nothing counts
    ([0, SOM, *codes(1, 2), EOM, 1, 0, 0], [1, 2], ()),                   # decoder start / padding
    ([*codes(3, 4), EOM], [3, 4], ("no_start",)),                         # missing start marker
    ([SOM, *codes(3, 4)], [3, 4], ("no_end",)),                           # cut off
    ([SOM, 7, *codes(3), 8, EOM], [3], ("stray_text",)),                  # text inside the span
    ([SOM, *codes(3), MASK, *codes(4), EOM], [3, 4], ("mask_in_motion",)),
    ([SOM, *codes(3), -5, 10**6, 2**70, EOM], [3], ("out_of_range",)),   # ids outside the vocabulary
    ([SOM, EOM], [], ("no_codes",)),
    ([SOM, *codes(3), EOM, SOM, *codes(4), EOM], [3], ("extra_motion",)),  # two motions: first kept
    ([SOM, *codes(3), SOM, *codes(4), EOM], [3], ("extra_motion", "no_end")),
    ([EOM, SOM, *codes(3), EOM], [3], ("extra_motion",)),                 # stray end marker first
    ([5, 6, 7], [], ("no_motion",)),                                      # a caption: no motion
    ([], [], ("empty",)),
    ([1, SOM, *codes(3)], [], ("empty",)),
])
def test_parse_ids_cases(ids, expected_codes, expected_flags):
    parsed = parse_ids(ids, VOCAB)
    assert parsed.code_idx == expected_codes and parsed.flags == expected_flags
    assert parsed.well_formed_motion == (bool(expected_codes) and not expected_flags)


def test_containers_and_unreadable_input():
    ids = [SOM, *codes(1, 2), EOM]
    for container in (ids, np.array(ids), torch.tensor(ids), tuple(ids)):
        assert parse_ids(container, VOCAB).code_idx == [1, 2]
    for bad in (None, "text", [1.5, 2.0], [[SOM, EOM]], [True, False], object(), [SOM, "x"]):
        assert parse_ids(bad, VOCAB).flags == ("unreadable",)


def test_text_outside_the_span_is_decoded(tokenizer):
    tok, vocab = tokenizer
    ids = tok("the man jumps " + vocab.codes_to_text([2, 9]) + " twice").input_ids
    parsed = parse_ids(ids, vocab, tok)
    assert parsed.code_idx == [2, 9] and parsed.text == "the man jumps twice" and parsed.flags == ()
    caption = parse_ids(tok("someone waves").input_ids, vocab, tok)
    assert caption.text == "someone waves" and caption.flags == ("no_motion",)


def test_text_and_id_parsers_agree_on_decoded_output(tokenizer):
    tok, vocab = tokenizer
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        ids = torch.randint(0, vocab.end, (int(torch.randint(0, 30, (1,), generator=g)),), generator=g).tolist()
        from_ids = parse_ids(ids, vocab, tok)
        from_text = parse_text(tok.decode(ids), vocab)
        assert from_text.code_idx == from_ids.code_idx


@pytest.mark.parametrize("text, expected_codes, expected_flags", [
    ("<motion_id_16><motion_id_3><motion_id_4><motion_id_17></s><pad>", [3, 4], ()),
    ("a man <motion_id_16> <motion_id_3> jumps <motion_id_4><motion_id_17>", [3, 4], ("stray_text",)),
    ("<motion_id_3><motion_id_4>", [3, 4], ("no_end", "no_start")),
    ("<motion_id_16><motion_id_3><motion_id_99><motion_id_17>", [3], ("out_of_range",)),
    ("<motion_id_16><motion_id_-1><motion_id_17>", [], ("no_codes", "stray_text")),
    ("a person walks forward", [], ("no_motion",)),
    ("   <pad> ", [], ("empty",)),
])
def test_parse_text_cases(text, expected_codes, expected_flags):
    parsed = parse_text(text, VOCAB)
    assert parsed.code_idx == expected_codes and parsed.flags == expected_flags


def test_every_flag_is_described():
    parsed = parse_ids([SOM, 5, MASK, -1], VOCAB)
    assert [line.split(":")[0] for line in parsed.describe()] == list(parsed.flags)
    assert set(parsed.flags) <= set(FLAGS)


# -- property tests: the parser is total ----------------------------------------------------------
_near_vocab = st.integers(min_value=-3, max_value=VOCAB.end + 3)
_any_int = st.one_of(_near_vocab, st.integers(), st.integers(min_value=-(2**80), max_value=2**80))
_fragments = st.sampled_from(["<motion_id_", ">", "<motion_id_16>", "<motion_id_17>", "<motion_id_18>",
                              "<motion_id_3>", "<motion_id_999999999999>", "</s>", "<pad>", "<extra_id_0>",
                              " ", "walk", "<", "_", "7"])


def _check(parsed, end: int = K) -> None:
    assert all(0 <= c < end for c in parsed.code_idx)
    assert set(parsed.flags) <= set(FLAGS) and isinstance(parsed.text, str)


@settings(max_examples=300, deadline=None)
@given(st.lists(_any_int, max_size=60))
def test_parse_ids_never_raises(ids):
    _check(parse_ids(ids, VOCAB))


@settings(max_examples=150, deadline=None)
@given(st.lists(_any_int, max_size=40))
def test_parse_ids_with_tokenizer_never_raises(tokenizer, ids):
    tok, vocab = tokenizer
    _check(parse_ids(ids, vocab, tok), vocab.num_codes)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.lists(_fragments, max_size=40).map("".join)))
def test_parse_text_never_raises(text):
    _check(parse_text(text, VOCAB))


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.none(), st.floats(), st.booleans(), st.binary(), st.dictionaries(st.text(), st.integers()),
                 st.lists(st.one_of(st.integers(), st.floats(), st.text(), st.none()), max_size=8)))
def test_parsers_never_raise_on_arbitrary_objects(value):
    _check(parse_ids(value, VOCAB))
    _check(parse_text(value, VOCAB))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, K - 1), min_size=1, max_size=50))
def test_well_formed_outputs_round_trip(code_idx):
    assert parse_ids(VOCAB.codes_to_ids(code_idx) + [1], VOCAB).code_idx == code_idx
    assert parse_text(VOCAB.codes_to_text(code_idx), VOCAB).code_idx == code_idx
