"""The api-level evaluation runner (motiongpt_lite.evaluation) on the tiny pipeline's trained model.

The tiny checkpoints (tokenizer, tuned model, evaluator) are trained on demand the first time and
reused afterwards; the evaluation itself runs with a lighter protocol (one run, 32 captions) to stay fast.
"""
from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from motiongpt_lite.api import MotionGPT, MotionResult
from motiongpt_lite.config import get_preset
from motiongpt_lite.data.features import features_to_joints
from motiongpt_lite.eval.evaluator import evaluator_for
from motiongpt_lite.evaluation import DECODINGS, EvaluationReport, evaluate
from motiongpt_lite.pipeline import trained_model, write_gallery

TINY = get_preset("tiny")
LIGHT = replace(TINY, eval=replace(TINY.eval, replications=2, num_captions=32, multimodality_texts=2,
                                   multimodality_repeats=3, multimodality_pairs=2))
COMPLETION = 8  # clips for prediction and in-betweening (one generate call each)


class NoiseGPT(MotionGPT):
    """A 'model' whose text-to-motion answers are random feature noise: what a useless generator scores."""

    def text_to_motion(self, text, length=None, num_samples=1, **decoding):
        rng = np.random.default_rng(decoding.get("seed", 0))
        texts = [text] if isinstance(text, str) else list(text)
        if length is None:  # no length asked for: the model decides; noise takes the longest motion
            length = self.max_frames if isinstance(text, str) else [self.max_frames] * len(texts)
        lengths = [length] if isinstance(text, str) else list(length)
        norm = self.motion_tokenizer.normalizer
        mean, std = np.asarray(norm.mean, np.float32), np.asarray(norm.std, np.float32)  # (D,) the data's scale

        def make(caption: str, frames: int) -> MotionResult:
            features = mean + rng.standard_normal((frames, self.motion_dim)).astype(np.float32) * std  # (T, D)
            return MotionResult(caption, "", np.zeros(0, np.int64), slice(0, 0), features,
                                np.asarray(features_to_joints(features)), ())

        results = [[make(t, n) for _ in range(num_samples)] if num_samples > 1 else make(t, n)
                   for t, n in zip(texts, lengths)]
        return results if not isinstance(text, str) else results[0]


@pytest.fixture(scope="module")
def model_and_evaluator():
    gpt = trained_model(TINY)
    return gpt, evaluator_for(TINY, progress=False)


@pytest.fixture(scope="module")
def report(model_and_evaluator) -> EvaluationReport:
    gpt, evaluator = model_and_evaluator
    return evaluate(gpt, evaluator, LIGHT, progress=False, seed=0, completion_clips=COMPLETION)


def _numbers(tree):
    """Every number in a nested dict/list."""
    if isinstance(tree, dict):
        return [x for v in tree.values() for x in _numbers(v)]
    if isinstance(tree, (list, tuple)):
        return [x for v in tree for x in _numbers(v)]
    return [tree] if isinstance(tree, (int, float)) and not isinstance(tree, bool) else []


def test_values_are_finite_and_in_range(report):
    for name, row in report.text_to_motion.items():
        for k in (1, 2, 3):
            assert 0.0 <= row[f"r_precision_top{k}"][0] <= 1.0, name
        assert row["r_precision_top1"][0] <= row["r_precision_top2"][0] <= row["r_precision_top3"][0]
        assert row["fid"][0] > -1e-6 and row["diversity"][0] > 0 and row["mm_dist"][0] > 0
        assert all(half >= 0 for _, half in row.values())
    assert report.text_to_motion["generated"]["multimodality"][0] >= 0
    assert all(0.0 <= v <= 1.0 for k, v in report.captions.items() if k != "cider")
    assert 0.0 <= report.captions["cider"] <= 10.0
    for task in ("prediction", "inbetween"):
        assert report.completion[task]["clips"] > 0
        # Millimetres, not metres: an untrained tiny model misses by more than 1 cm. The upper bound is what a
        # 196-frame motion can drift at running speed (about 10 s x 5 m/s); the tiny model's own error is no
        # bound (5.5 m measured with one thread, under 5 m with two: its root drift depends on the rounding).
        for error in (report.completion[task]["ade_mm"], report.completion[task]["fde_mm"]):
            assert 10 < error < 50_000
    assert set(report.well_formed) == {"text_to_motion", "motion_to_text", "prediction", "inbetween",
                                       "text_to_motion_free_greedy_closed"}  # the last: embedded set only (labels)
    assert all(0.0 <= v <= 1.0 for v in report.well_formed.values())
    assert report.reconstruction["mpjpe_mm"] > 0
    assert all(math.isfinite(x) for x in _numbers(report.to_dict()) if x is not None)


def test_semantic_rows_line_up_with_their_labels(report):
    """Real motions and human captions pass their own labels' checks: the labels are paired with the right clips."""
    assert report.semantic["motions (real)"].overall["action"] >= 0.8
    assert report.semantic["captions (real)"].overall["action"] >= 0.8
    assert report.semantic["motions (generated)"].counts["overall"] > 0


def test_json_table_and_headline(report):
    data = json.loads(json.dumps(report.to_dict()))
    assert data["text_to_motion"]["generated"]["fid"] == report.text_to_motion["generated"]["fid"]
    table = report.table()
    assert "different data, different evaluator" in table and "real motions" in table and "0.492" in table
    assert report.headline()["t2m_fid"] == round(report.text_to_motion["generated"]["fid"][0], 3)


def test_same_seed_same_report_other_seed_other_draws(model_and_evaluator, report):
    gpt, evaluator = model_and_evaluator
    again = evaluate(gpt, evaluator, LIGHT, progress=False, seed=0, completion_clips=COMPLETION)
    first, second = report.to_dict(), again.to_dict()
    first["settings"].pop("seconds"), second["settings"].pop("seconds")
    assert first == second
    other = evaluate(NoiseGPT(gpt.lm, gpt.motion_tokenizer, max_frames=gpt.max_frames), evaluator, LIGHT,
                     progress=False, seed=1, completion_clips=COMPLETION)
    assert other.text_to_motion["real"] != report.text_to_motion["real"]  # other captions and crops drawn
    # the ground-truth row beats a generator of noise under the same evaluator
    real, noise = other.text_to_motion["real"], other.text_to_motion["generated"]
    assert real["r_precision_top3"][0] > noise["r_precision_top3"][0]
    assert real["mm_dist"][0] < noise["mm_dist"][0]
    assert real["fid"][0] < noise["fid"][0]


def test_captions_without_a_word_are_scored_as_failures_not_a_crash(model_and_evaluator):
    """An undertrained model may caption a motion "." (seen with a 4-step model): the evaluator needs a word, so
    such a caption stands in as EMPTY_CAPTION and counts as malformed instead of stopping the evaluation."""
    gpt, evaluator = model_and_evaluator

    class PunctuationGPT(MotionGPT):
        def motion_to_text(self, motion, motion_len=None, **decoding):
            results = super().motion_to_text(motion, motion_len, **decoding)
            return [replace(r, text=".") for r in results] if isinstance(results, list) else replace(results, text=".")

    punct = PunctuationGPT(gpt.lm, gpt.motion_tokenizer, fps=gpt.fps, max_frames=gpt.max_frames)
    light = replace(LIGHT, eval=replace(LIGHT.eval, replications=1, num_captions=8, prompt_captions=4))
    result = evaluate(punct, evaluator, light, progress=False, seed=0, completion_clips=2)
    assert result.well_formed["motion_to_text"] == 0.0
    assert result.captions["bleu_4"] == 0.0


def test_mismatched_evaluator_is_refused(model_and_evaluator):
    gpt, evaluator = model_and_evaluator

    class KitEvaluator:
        name, motion_dim, embed_dim = "kit", 251, 8

    with pytest.raises(ValueError, match="evaluator reads 251-dim"):
        evaluate(gpt, KitEvaluator(), LIGHT, progress=False)


def test_prompt_following_covers_every_decoding_and_splits_the_default(report):
    names = list(report.prompt_following)
    assert [n for n in names if n in DECODINGS] == list(DECODINGS)
    default = report.prompt_following[names[0]].counts["overall"]
    parts = [report.prompt_following[n].counts["overall"] for n in names if n not in DECODINGS]
    assert default == min(LIGHT.eval.prompt_captions, default) and sum(parts) == default
    values, met = report.targets()
    assert set(values) == set(met) and "t2m_action" in values and "Prompt following" in report.table()
    assert 0.0 <= report.well_formed["text_to_motion_free_greedy_closed"] <= 1.0


def test_the_gallery_shows_seen_and_held_out_captions_with_their_verdicts(model_and_evaluator, tmp_path):
    gpt, _ = model_and_evaluator
    rows = write_gallery(gpt, TINY, tmp_path, count=4)
    assert [r["combination"] for r in rows] == ["seen", "seen", "held-out", "held-out"]
    page = (tmp_path / "gallery.md").read_text()
    for row in rows:
        assert row["caption"] in page
        assert (row["image"] is None) == (not row["checks"])
        assert row["image"] is None or row["image"].exists()
    assert write_gallery(gpt, TINY, tmp_path / "again", count=4)[0]["caption"] == rows[0]["caption"]  # fixed seed
