"""Caption metrics written out from their definitions: BLEU, ROUGE-L, CIDEr-D; BERTScore when available (notebook 07).

Each generated caption (a *hypothesis*) is scored against one or more human captions of the same
motion (its *references*). All metrics share one simple tokenisation, :func:`tokenize`: lowercase,
every character that is not a letter or a digit becomes a space, split on spaces
(``"A person walks, then turns left."`` -> ``a person walks then turns left``). This matches
rouge-score's default tokenizer; coco-caption uses the Stanford PTB tokenizer (Java) instead.

Scales: BLEU and ROUGE-L lie in [0, 1], CIDEr-D in [0, 10]; papers (MotionGPT's table included)
print all of them multiplied by 100.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Sequence

__all__ = ["tokenize", "ngrams", "bleu", "rouge_l", "lcs_length", "cider", "bert_score", "caption_metrics"]

References = Sequence[str | Sequence[str]]  # per hypothesis: one reference caption or a list of them


def tokenize(text: str) -> list[str]:
    """Lowercase, make each non-alphanumeric character a space, split: ``"Walks, left!"`` -> ``["walks", "left"]``."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).split()


def ngrams(tokens: Sequence[str], n: int) -> Counter:
    """Counts of the n-grams (tuples of n consecutive tokens) of one sentence."""
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _corpus(hypotheses: Sequence[str], references: References) -> list[tuple[list[str], list[list[str]]]]:
    """Tokenised ``(hypothesis, [references])`` pairs, checked."""
    if isinstance(hypotheses, str) or len(hypotheses) != len(references) or len(hypotheses) == 0:
        raise ValueError(f"need one list of references per hypothesis, got {len(hypotheses)} hypotheses and "
                         f"{len(references)} reference entries; pass hypotheses as a list of strings.")
    pairs = []
    for hyp, refs in zip(hypotheses, references):
        refs = [refs] if isinstance(refs, str) else list(refs)
        if not refs:
            raise ValueError(f"the hypothesis {hyp!r} has no reference caption; drop it or add its references.")
        pairs.append((tokenize(hyp), [tokenize(ref) for ref in refs]))
    return pairs


# -- BLEU -------------------------------------------------------------------------------------
def bleu(hypotheses: Sequence[str], references: References, max_order: int = 4) -> float:
    """Corpus BLEU with uniform weights over 1..max_order-grams (BLEU@1: max_order=1, BLEU@4: 4).

    ``BLEU = BP * exp((1 / N) * sum_n log p_n)`` with, summed over the whole corpus,

    - clipped precision ``p_n = sum min(count_hyp(g), max_ref count_ref(g)) / sum max(1, #n-grams of hyp)``
      (a hypothesis shorter than n still adds 1 to the denominator, as nltk does);
    - brevity penalty ``BP = 1 if c > r else exp(1 - r / c)``, ``c`` = total hypothesis length, ``r`` =
      sum of the reference lengths closest to each hypothesis length (the shorter on a tie).

    Without smoothing, a corpus with no matching n-gram of some order scores 0 (nltk returns that 0
    or a number below 1e-70). Same as ``nltk.translate.bleu_score.corpus_bleu`` with its defaults.
    pycocoevalcap's ``Bleu`` adds ``max(0, len - n + 1)`` instead, so its BLEU-3/4 differ slightly when
    some caption is shorter than n words.

    Args:
        hypotheses: one generated caption per motion.
        references: per motion, a reference caption or a list of them.
        max_order: N, the longest n-gram.
    Returns:
        BLEU in [0, 1].
    """
    matches, totals = [0] * max_order, [0] * max_order
    hyp_len = ref_len = 0
    for hyp, refs in _corpus(hypotheses, references):
        hyp_len += len(hyp)
        ref_len += min((abs(len(ref) - len(hyp)), len(ref)) for ref in refs)[1]
        for n in range(1, max_order + 1):
            counts = ngrams(hyp, n)
            max_ref = Counter()
            for ref in refs:
                max_ref |= ngrams(ref, n)  # elementwise max over the references
            matches[n - 1] += sum(min(c, max_ref[g]) for g, c in counts.items())
            totals[n - 1] += max(1, sum(counts.values()))
    if min(matches) == 0:
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matches, totals)) / max_order
    brevity = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    return brevity * math.exp(log_precision)


# -- ROUGE-L ----------------------------------------------------------------------------------
def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists (dynamic programming, O(len a * len b))."""
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(hypotheses: Sequence[str], references: References, beta: float = 1.2) -> float:
    """ROUGE-L: an F-measure of the longest common subsequence, averaged over hypotheses.

    For a hypothesis h and its references r: ``P = max_r LCS(h, r) / |h|``, ``R = max_r LCS(h, r) / |r|``
    (each maximised on its own), ``F = (1 + beta^2) P R / (R + beta^2 P)`` (0 when P or R is 0).

    We follow coco-caption (pycocoevalcap), whose ``beta = 1.2`` weighs recall a little more; that is
    the captioning papers' convention. With one reference and ``beta = 1`` this is rouge-score's
    ``rougeL`` F-measure; with several references rouge-score instead keeps the reference of best F.

    Args:
        hypotheses: one generated caption per motion.
        references: per motion, a reference caption or a list of them.
        beta: recall weight.
    Returns:
        mean ROUGE-L in [0, 1].
    """
    scores = []
    for hyp, refs in _corpus(hypotheses, references):
        lcs = [lcs_length(hyp, ref) for ref in refs]
        precision = max(lcs) / len(hyp) if hyp else 0.0
        recall = max((common / len(ref) for common, ref in zip(lcs, refs) if ref), default=0.0)
        f = (1 + beta ** 2) * precision * recall / (recall + beta ** 2 * precision) if precision and recall else 0.0
        scores.append(f)
    return sum(scores) / len(scores)


# -- CIDEr-D ----------------------------------------------------------------------------------
def _tfidf(tokens: list[str], doc_freq: Counter, log_num_docs: float, max_order: int):
    """tf-idf vectors per n-gram order, their norms, and the sentence's length in words."""
    vectors, norms = [], []
    for n in range(1, max_order + 1):
        vec = {g: tf * (log_num_docs - math.log(max(1.0, doc_freq[g]))) for g, tf in ngrams(tokens, n).items()}
        vectors.append(vec)
        norms.append(math.sqrt(sum(v * v for v in vec.values())))
    return vectors, norms, len(tokens)


def cider(hypotheses: Sequence[str], references: References, max_order: int = 4, sigma: float = 6.0) -> float:
    """CIDEr-D (Vedantam et al. 2015) as computed by coco-caption / pycocoevalcap's ``Cider``.

    Each sentence becomes, for n = 1..4, a tf-idf vector over its n-grams:
    ``g_n(s)[w] = tf_s(w) * log(M / max(1, df(w)))``, where M is the number of motions in the corpus and
    df(w) the number of motions whose references contain w (so the idf comes from the evaluated
    references themselves). For a hypothesis h with references r_1..r_m:

    ``CIDEr-D(h) = 10 / (4 m) * sum_n sum_j exp(-(l_h - l_j)^2 / (2 sigma^2))
    * <min(g_n(h), g_n(r_j)), g_n(r_j)> / (||g_n(h)|| ||g_n(r_j)||)``

    with the hypothesis clipped by the reference (``min`` element-wise) and a Gaussian length penalty
    on the word counts l, sigma = 6 (the reference code counts bigrams, words - 1: the same
    difference for any non-empty caption, and an empty one scores 0 either way). The corpus score is
    the mean over hypotheses.

    Args:
        hypotheses: one generated caption per motion.
        references: per motion, a reference caption or a list of them.
        max_order: longest n-gram.
        sigma: width of the length penalty.
    Returns:
        mean CIDEr-D in [0, 10] (papers print it times 100: 0.292 -> 29.2).
    """
    corpus = _corpus(hypotheses, references)
    doc_freq = Counter()
    for _, refs in corpus:
        doc_freq.update({g for ref in refs for n in range(1, max_order + 1) for g in ngrams(ref, n)})
    log_num_docs = math.log(len(corpus))
    scores = []
    for hyp, refs in corpus:
        vec_h, norm_h, len_h = _tfidf(hyp, doc_freq, log_num_docs, max_order)
        total = 0.0
        for ref in refs:
            vec_r, norm_r, len_r = _tfidf(ref, doc_freq, log_num_docs, max_order)
            penalty = math.exp(-((len_h - len_r) ** 2) / (2 * sigma ** 2))
            for n in range(max_order):
                dot = sum(min(v, vec_r[n].get(g, 0.0)) * vec_r[n].get(g, 0.0) for g, v in vec_h[n].items())
                if norm_h[n] and norm_r[n]:
                    dot /= norm_h[n] * norm_r[n]
                total += dot * penalty
        scores.append(10.0 * total / (max_order * len(refs)))
    return sum(scores) / len(scores)


# -- BERTScore and the table row --------------------------------------------------------------
def bert_score(hypotheses: Sequence[str], references: References, model_type: str = "roberta-large",
               num_layers: int | None = None, idf: bool = True,
               rescale_with_baseline: bool = True) -> tuple[float | None, str]:
    """BERTScore F1 through the ``bert_score`` package, as MotionGPT reports it, when it can run here.

    Nothing is downloaded: the model must be a local folder or already in the Hugging Face cache.

    Args:
        hypotheses: one generated caption per motion.
        references: per motion, a reference caption or a list of them.
        model_type: a model name in the local cache or a local folder (then also pass ``num_layers``).
        num_layers: the layer whose embeddings are compared (None: bert_score's default for the model).
        idf, rescale_with_baseline: as MotionGPT (idf weighting, baseline rescaling).
    Returns:
        ``(mean F1 or None, a message saying what was computed or why it was skipped)``.
    """
    try:
        from bert_score import score
    except ImportError:
        return None, "BERTScore skipped: the bert_score package is not installed (pip install bert-score)."
    from huggingface_hub import try_to_load_from_cache
    if not Path(model_type).is_dir() and not isinstance(try_to_load_from_cache(model_type, "config.json"), str):
        return None, f"BERTScore skipped: the model {model_type} is not on disk (download it once with network access)."
    refs = [[r] if isinstance(r, str) else list(r) for r in references]
    _, _, f1 = score(list(hypotheses), refs, model_type=model_type, num_layers=num_layers, idf=idf,
                     rescale_with_baseline=rescale_with_baseline, lang="en", verbose=False)
    return float(f1.mean()), f"BERTScore F1 with {model_type}"


def caption_metrics(hypotheses: Sequence[str], references: References) -> dict[str, float]:
    """BLEU@1, BLEU@4, ROUGE-L and CIDEr-D of a corpus, in [0, 1] / [0, 10] (multiply by 100 for papers' tables).

    Returns:
        dict with ``bleu_1``, ``bleu_4``, ``rouge_l``, ``cider``.
    """
    return {"bleu_1": bleu(hypotheses, references, 1), "bleu_4": bleu(hypotheses, references, 4),
            "rouge_l": rouge_l(hypotheses, references), "cider": cider(hypotheses, references)}
