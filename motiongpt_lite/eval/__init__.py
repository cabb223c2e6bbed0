"""Evaluation on plain arrays (notebook 07): the protocol's motion and caption metrics, the evaluators whose
embeddings they use (ours, trained here, and the official T2M one), and the semantic checks against labels.

    from motiongpt_lite.eval import matching_metrics, caption_metrics, repeat_runs
    row = matching_metrics(text_emb, motion_emb, real_motion_emb, seed=0)   # (N, D) evaluator embeddings
    table = repeat_runs(lambda seed: matching_metrics(text_emb, motion_emb, real_motion_emb, seed=seed))
    scores = caption_metrics(["a person walks forward"], [["someone walks forward", "a man walks"]])
"""
from motiongpt_lite.eval.motion_metrics import (accel_error, ade, confidence_interval, diversity,
                                                embedding_statistics, euclidean_distance_matrix, fde, fid,
                                                frechet_distance, matching_metrics, mm_dist, mpjpe, multimodality,
                                                pa_mpjpe, procrustes_align, r_precision, repeat_runs, summarize_runs)
from motiongpt_lite.eval.text_metrics import bert_score, bleu, caption_metrics, cider, lcs_length, rouge_l, tokenize
from motiongpt_lite.eval.semantic import (SemanticReport, caption_accuracy, caption_checks, motion_checks,
                                          semantic_accuracy)
from motiongpt_lite.eval.base import Evaluator
from motiongpt_lite.eval.evaluator import RetrievalEvaluator, evaluator_for, train_evaluator
from motiongpt_lite.eval.t2m import T2MEvaluator

__all__ = ["embedding_statistics", "frechet_distance", "fid", "euclidean_distance_matrix", "r_precision", "mm_dist",
           "diversity", "multimodality", "matching_metrics", "confidence_interval", "summarize_runs", "repeat_runs",
           "ade", "fde", "mpjpe", "pa_mpjpe", "procrustes_align", "accel_error",
           "tokenize", "bleu", "rouge_l", "lcs_length", "cider", "bert_score", "caption_metrics",
           "motion_checks", "caption_checks", "semantic_accuracy", "caption_accuracy", "SemanticReport",
           "Evaluator", "RetrievalEvaluator", "train_evaluator", "evaluator_for", "T2MEvaluator"]
