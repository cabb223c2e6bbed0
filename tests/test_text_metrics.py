"""Caption metrics written from scratch against the libraries the field uses: nltk's corpus BLEU,
pycocoevalcap's ROUGE-L and CIDEr-D, rouge-score's ROUGE-L, all to 1e-6 on a fixed corpus."""
from __future__ import annotations

import math
import sys

import pytest

from motiongpt_lite.eval.text_metrics import (bert_score, bleu, caption_metrics, cider, lcs_length, rouge_l,
                                              tokenize)

# (generated caption, reference captions): motion captions with 1-3 references, exact and partial
# matches, reorderings, a 3-word hypothesis (shorter than a 4-gram) and punctuation to strip.
CORPUS = [
    ("a person walks forward then turns left.", ["a person walks forward and then turns left",
                                                  "someone walks ahead and turns to the left"]),
    ("a man jumps up twice", ["a person jumps in place two times", "a man jumps up and down twice"]),
    ("a person waves with the right hand", ["a person waves their right hand", "someone waves hello with the right arm",
                                            "the man is waving his right hand"]),
    ("someone runs in a circle", ["a person jogs in a circle clockwise"]),
    ("a person sits down on a chair", ["a person sits down", "the person sits on a chair slowly"]),
    ("a person kicks with the left leg", ["a person kicks forward with their left leg",
                                          "someone does a left-legged kick"]),
    ("a person jumps", ["a person jumps forward", "a person jumps up high"]),
    ("the person walks backwards slowly", ["a person slowly walks backwards", "someone walks backward four steps"]),
    ("a person turns around to the right", ["a person turns right", "the person spins around to the right"]),
    ("a man throws a ball with his right hand", ["a man throws something with his right hand",
                                                 "a person throws a ball overhand"]),
    ("a person crouches and then stands up", ["a person squats down and stands back up",
                                              "someone crouches then stands"]),
    ("a person walks in a straight line", ["a person walks forward in a straight line"]),
    ("someone dances happily", ["a person dances with their arms in the air", "someone is dancing"]),
    ("a person steps to the left twice", ["a person side steps to the left two times",
                                          "the person takes two steps to the left"]),
    ("a person raises both arms above the head", ["a person lifts both arms over their head",
                                                  "someone raises their arms up high"]),
    ("a person walks forward, stops, and walks back", ["a person walks forward and back",
                                                       "someone walks a few steps forward then returns"]),
    ("the man climbs up the stairs", ["a man walks up some stairs", "a person climbs stairs"]),
    ("a person hops on the right foot", ["a person hops on one foot", "someone hops on their right leg three times"]),
    ("a person bows", ["a person bows forward at the waist", "someone takes a bow"]),
    ("a person runs forward quickly then stops", ["a person runs forward and stops",
                                                  "someone sprints forward then comes to a halt"]),
    ("a person stretches the arms to the side", ["a person stretches their arms out",
                                                 "the person extends both arms to the sides"]),
    ("a person walks in a zig zag", ["a person walks in a zigzag pattern"]),
    ("a person picks something up from the floor", ["a person bends down to pick something up from the floor",
                                                    "someone picks up an object off the ground"]),
    ("a person claps their hands three times", ["a person claps three times", "someone claps their hands"]),
]
HYPOTHESES = [hyp for hyp, _ in CORPUS]
REFERENCES = [refs for _, refs in CORPUS]


def _coco(hypotheses, references):
    """pycocoevalcap's input: {id: [one space-joined sentence]} with our tokenisation applied first."""
    res = {i: [" ".join(tokenize(h))] for i, h in enumerate(hypotheses)}
    gts = {i: [" ".join(tokenize(r)) for r in refs] for i, refs in enumerate(references)}
    return gts, res


def test_tokenize_lowercases_and_strips_punctuation():
    assert tokenize("A person walks, then turns LEFT. (Left-legged kick!)") == \
        ["a", "person", "walks", "then", "turns", "left", "left", "legged", "kick"]


@pytest.mark.parametrize("max_order", [1, 2, 3, 4])
def test_bleu_equals_nltk_corpus_bleu(max_order):
    bleu_score = pytest.importorskip("nltk.translate.bleu_score")
    expected = bleu_score.corpus_bleu([[tokenize(r) for r in refs] for refs in REFERENCES],
                                      [tokenize(h) for h in HYPOTHESES], weights=(1 / max_order,) * max_order)
    assert bleu(HYPOTHESES, REFERENCES, max_order) == pytest.approx(expected, abs=1e-6)
    assert 0 < bleu(HYPOTHESES, REFERENCES, max_order) < 1


def test_bleu_brevity_penalty_and_zero_match_edge_cases():
    bleu_score = pytest.importorskip("nltk.translate.bleu_score")
    short = (["a person walks"], [["a person walks forward and then turns left"]])
    expected = bleu_score.corpus_bleu([[tokenize(r) for r in short[1][0]]], [tokenize(short[0][0])], weights=(1.0,))
    assert bleu(*short, max_order=1) == pytest.approx(expected, abs=1e-12)
    assert bleu(*short, max_order=1) == pytest.approx(math.exp(1 - 8 / 3), abs=1e-12)  # p1 = 1, c = 3, r = 8
    tie = (["a person walks forward"], [["a person walks", "a person walks forward quickly"]])  # 3 and 5 words
    expected = bleu_score.corpus_bleu([[tokenize(r) for r in tie[1][0]]], [tokenize(tie[0][0])], weights=(1.0,))
    assert bleu(*tie, max_order=1) == pytest.approx(expected, abs=1e-12) == 1.0  # the shorter wins the tie: no BP
    assert bleu(["someone dances"], [["a person jumps"]], max_order=4) == 0.0  # no unigram in common
    assert bleu(["a person walks"], [["a person walks"]], max_order=4) == 0.0  # no 4-gram: unsmoothed BLEU-4 is 0


def test_rouge_l_equals_pycocoevalcap():
    rouge = pytest.importorskip("pycocoevalcap.rouge.rouge")
    expected, _ = rouge.Rouge().compute_score(*_coco(HYPOTHESES, REFERENCES))
    assert rouge_l(HYPOTHESES, REFERENCES) == pytest.approx(expected, abs=1e-6)


def test_rouge_l_single_reference_beta_1_equals_rouge_score():
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    first_refs = [refs[0] for refs in REFERENCES]
    expected = sum(scorer.score(r, h)["rougeL"].fmeasure for h, r in zip(HYPOTHESES, first_refs)) / len(CORPUS)
    assert rouge_l(HYPOTHESES, first_refs, beta=1.0) == pytest.approx(expected, abs=1e-6)


def test_lcs_by_hand():
    assert lcs_length("a person walks forward".split(), "a person slowly walks back".split()) == 3
    assert lcs_length([], ["a"]) == 0


def test_cider_equals_pycocoevalcap():
    cider_module = pytest.importorskip("pycocoevalcap.cider.cider")
    expected, per_caption = cider_module.Cider().compute_score(*_coco(HYPOTHESES, REFERENCES))
    assert cider(HYPOTHESES, REFERENCES) == pytest.approx(expected, abs=1e-6)
    assert 0 < expected < 10 and per_caption.min() < per_caption.max()
    one = cider_module.Cider().compute_score(*_coco(HYPOTHESES[:5], REFERENCES[:5]))[0]  # idf from 5 motions only
    assert cider(HYPOTHESES[:5], REFERENCES[:5]) == pytest.approx(one, abs=1e-6)


def test_cider_hand_computed_two_captions():
    """M = 2 motions, one reference each. idf = log(2 / df): 0 for n-grams in both references ('a',
    'person', 'a person'), log 2 for the others. Motion 1 repeats its reference: the cosine is 1 for
    n = 1, 2, 3 and there are no 4-grams (0), so 10 * 3 / 4. Motion 2's only weighted n-grams
    ('jumps', 'person jumps', ...) are not in its reference: 0. Corpus mean 3.75."""
    hyps, refs = ["a person walks", "a person jumps"], ["a person walks", "a person runs"]
    assert cider(hyps, refs) == pytest.approx(10 * 3 / 4 / 2, abs=1e-12)


def test_caption_metrics_row_and_input_errors():
    row = caption_metrics(HYPOTHESES, REFERENCES)
    assert set(row) == {"bleu_1", "bleu_4", "rouge_l", "cider"}
    assert row["bleu_1"] > row["bleu_4"] > 0
    perfect = caption_metrics([refs[0] for refs in REFERENCES], REFERENCES)
    assert perfect["bleu_4"] > row["bleu_4"] and perfect["cider"] > row["cider"]
    with pytest.raises(ValueError, match="one list of references per hypothesis"):
        bleu(HYPOTHESES, REFERENCES[:-1])
    with pytest.raises(ValueError, match="no reference"):
        cider(["a person walks"], [[]])


def test_bert_score_skips_with_a_message_when_unavailable(monkeypatch):
    monkeypatch.setitem(sys.modules, "bert_score", None)  # import fails as if not installed
    value, message = bert_score(HYPOTHESES, REFERENCES)
    assert value is None and "not installed" in message
