"""The pretraining tasks of MotionGPT's stage 2 and their shuffled mixture (introduced in notebook 05).

Every example is an (input ids, target ids) pair for T5, drawn from one motion with its captions:

=====================  ====================================================  ==============================
task                   input                                                 target
=====================  ====================================================  ==============================
``span_motion``        the motion sentence, spans replaced by sentinels      the masked spans
``span_text``          a caption, spans replaced by sentinels                the masked spans
``text_to_motion``     "Generate motion: <caption>" (half of the time with   the motion sentence
                       the length in frames)
``motion_to_text``     "Describe the motion: <motion sentence>"              a caption
``predict``            "Predict the motion that follows: <first part>"       the rest of the motion
=====================  ====================================================  ==============================

Composition (our addition, off in the paper's settings): with probability ``compose_rate`` an example is
built on two training motions in sequence instead of one -- their codes concatenated, their captions
joined by "then" (:func:`compose`) -- so that "A, then B" prompts are not limited to the few two-action
clips of the dataset. Only pairs that fit ``max_frames`` together are composed.

A *motion sentence* is ``<som> <motion_id_c0> ... <motion_id_cN-1> <eom>``. Span corruption is T5's
objective: about ``noise_density`` of the tokens, in spans of mean length ``mean_span_length``, are
cut out; the input keeps one sentinel ``<extra_id_i>`` per span, the target lists
``<extra_id_i>`` + the span's tokens for every span.

Which task an example gets is drawn per example, with the preset's ratios, from a generator seeded
by ``(seed, epoch, index)``: the mixture is shuffled (not task after task), and a resumed run sees
exactly the examples the uninterrupted run would have seen.

Paper vs code: the reference implements span corruption but switches it off (every example is a
paired task), does not shuffle tasks, and writes token counts where its templates say frames (a
4x error). Here span corruption is on (set both ``mix_span_*`` to 0 to switch it off, as an
ablation), and "frames" in a prompt always means frames: ``motion_len``, the clip's frame count.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from motiongpt_lite.config import LMConfig
from motiongpt_lite.data.dataset import SeededDataset
from motiongpt_lite.lm.vocab import MotionVocab

__all__ = ["TASKS", "PROMPTS", "MotionText", "task_weights", "random_spans_noise_mask", "span_corrupt",
           "make_example", "then_caption", "compose", "ComposedItems", "PretrainDataset", "collate_examples",
           "seq2seq_step", "prompt_texts"]

TASKS = ("span_motion", "span_text", "text_to_motion", "motion_to_text", "predict")
PROMPTS = {  # {caption}, {motion} (a motion sentence) and {frames} (a length in frames) are filled in
    "text_to_motion": "Generate motion: {caption}",
    "text_to_motion_frames": "Generate a motion of {frames} frames: {caption}",
    "motion_to_text": "Describe the motion: {motion}",
    "predict": "Predict the motion that follows: {motion}",
}
IGNORE = -100  # label of padding: no loss


@dataclass
class MotionText:
    """One motion of the training set, as the language model sees it.

    Attributes:
        code_idx: (N,) int64 motion tokens.
        captions: its captions.
        motion_len: its length in frames (about N * frames per token).
    """

    code_idx: np.ndarray
    captions: list[str]
    motion_len: int


def task_weights(lm: LMConfig) -> np.ndarray:
    """The mixture ratios of ``TASKS`` from the preset, normalised to sum to 1."""
    weights = np.array([lm.mix_span_motion, lm.mix_span_text, lm.mix_text_to_motion, lm.mix_motion_to_text,
                        lm.mix_predict], dtype=np.float64)
    if (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"task ratios {dict(zip(TASKS, weights.tolist()))} must be non-negative and not all zero; "
                         "fix the mix_* fields of the preset's LMConfig.")
    return weights / weights.sum()


def _segments(total: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``total`` items cut into ``count`` non-empty runs at random; returns the run lengths (count,)."""
    cuts = np.sort(rng.choice(np.arange(1, total), size=count - 1, replace=False)) if count > 1 else np.array([], int)
    return np.diff(np.concatenate([[0], cuts, [total]]))


def random_spans_noise_mask(length: int, noise_density: float, mean_span_length: float,
                            rng: np.random.Generator) -> np.ndarray:
    """T5's noise mask: which of ``length`` tokens to cut out, in spans.

    ``round(length * noise_density)`` tokens (at least 1, at most ``length - 1``) are cut, in
    ``round(noise / mean_span_length)`` spans (at least 1); noise and kept tokens are each split into
    that many runs at random, and the runs alternate, starting with kept tokens.

    Args:
        length: tokens in the sequence (at least 2).
        noise_density: share of tokens cut.
        mean_span_length: average span length.
        rng: random generator.
    Returns:
        (length,) bool, True where a token is cut.
    """
    if length < 2:
        raise ValueError(f"span corruption needs at least 2 tokens, got {length}; skip such short sequences.")
    num_noise = int(np.clip(round(length * noise_density), 1, length - 1))
    num_spans = int(np.clip(round(num_noise / mean_span_length), 1, min(num_noise, length - num_noise)))
    noise, kept = _segments(num_noise, num_spans, rng), _segments(length - num_noise, num_spans, rng)
    runs = np.stack([kept, noise], axis=1).reshape(-1)  # kept_0, noise_0, kept_1, noise_1, ...
    flags = np.tile([False, True], num_spans)
    return np.repeat(flags, runs)


def span_corrupt(ids: list[int], sentinel_ids: list[int], noise_density: float, mean_span_length: float,
                 rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """T5 span corruption of one token sequence (without eos).

    Args:
        ids: the tokens.
        sentinel_ids: ids of ``<extra_id_0>``, ``<extra_id_1>``, ... (one per span at least).
        noise_density, mean_span_length, rng: see :func:`random_spans_noise_mask`.
    Returns:
        ``(input, target)``: the tokens with each cut span replaced by its sentinel, and the
        sentinels each followed by their span (no eos added).
    """
    mask = random_spans_noise_mask(len(ids), noise_density, mean_span_length, rng)
    source, target, span = [], [], -1
    for i, (token, cut) in enumerate(zip(ids, mask)):
        if cut and (i == 0 or not mask[i - 1]):
            span += 1
            if span >= len(sentinel_ids):
                raise ValueError(f"{span + 1} spans but only {len(sentinel_ids)} sentinels; raise extra_ids.")
            source.append(sentinel_ids[span])
            target.append(sentinel_ids[span])
        (target if cut else source).append(token)
    return source, target


def make_example(task: str, item: MotionText, tokenizer, vocab: MotionVocab, lm: LMConfig,
                 rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """Input and target ids (each ending with eos, truncated to the preset's lengths) of one task on one motion.

    Args:
        task: one of ``TASKS``.
        item: the motion and its captions.
        tokenizer: the merged tokenizer.
        vocab: where the motion words sit in it.
        lm: lengths, span-corruption and prediction settings.
        rng: draws the caption, the spans and the prompt variant.
    Returns:
        ``(input_ids, target_ids)``.
    """
    eos = tokenizer.eos_token_id
    codes = [int(c) for c in item.code_idx]
    caption = item.captions[int(rng.integers(len(item.captions)))]

    def text_ids(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False).input_ids

    if task in ("span_motion", "span_text"):
        ids = vocab.codes_to_ids(codes) if task == "span_motion" else text_ids(caption)
        sentinels = tokenizer.convert_tokens_to_ids([f"<extra_id_{i}>" for i in range(lm.extra_ids)])
        source, target = span_corrupt(ids, sentinels, lm.noise_density, lm.mean_span_length, rng)
    elif task == "text_to_motion":
        key = "text_to_motion_frames" if rng.random() < 0.5 else "text_to_motion"
        source = text_ids(PROMPTS[key].format(caption=caption, frames=item.motion_len))
        target = vocab.codes_to_ids(codes)
    elif task == "motion_to_text":
        source = text_ids(PROMPTS["motion_to_text"].format(motion=vocab.codes_to_text(codes)))
        target = text_ids(caption)
    elif task == "predict":
        given = max(1, int(len(codes) * lm.predict_ratio))
        source = text_ids(PROMPTS["predict"].format(motion=vocab.codes_to_text(codes[:given])))
        target = vocab.codes_to_ids(codes[given:])
    else:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}.")
    return source[:lm.max_source_len - 1] + [eos], target[:lm.max_target_len - 1] + [eos]


_SUBJECT = re.compile(r"^(?:(?:a|an|the)\s+(?:person|man|woman|human|figure|guy|lady|boy|girl)|someone|somebody|"
                      r"he|she|they)\s+", re.IGNORECASE)
_THEN = (", then ", " and then ", ", and then ", " and afterwards ")


def then_caption(first: str, second: str, rng: np.random.Generator) -> str:
    """One caption for two motions in sequence: "a man jumps, then waves." from "a man jumps." and "someone waves."

    The second caption loses its subject when it starts with a common one ("a person", "someone", "she", ...);
    otherwise it is kept whole ("a man jumps, then a dog barks.").
    """
    head = first.strip().rstrip(".").rstrip()
    tail = second.strip().rstrip(".").rstrip()
    tail = _SUBJECT.sub("", tail, count=1) or tail
    return f"{head}{_THEN[int(rng.integers(len(_THEN)))]}{tail[:1].lower()}{tail[1:]}."


def compose(first: MotionText, second: MotionText, rng: np.random.Generator) -> MotionText:
    """The two motions in sequence: codes concatenated, lengths added, captions joined pairwise by :func:`then_caption`."""
    count = max(len(first.captions), len(second.captions))
    captions = [then_caption(first.captions[i % len(first.captions)], second.captions[(i + k) % len(second.captions)], rng)
                for i, k in zip(range(count), rng.permutation(count))]
    return MotionText(np.concatenate([first.code_idx, second.code_idx]), captions, first.motion_len + second.motion_len)


class ComposedItems:
    """Item ``i`` of a motion list, or with probability ``rate`` item ``i`` followed by a random partner that fits.

    Args:
        items: the motions.
        rate: share of draws that compose two motions (0: never, and no random number is drawn).
        max_frames: a composed motion is at most this long (partners are drawn among the motions that fit).
    """

    def __init__(self, items: list[MotionText], rate: float = 0.0, max_frames: int = 196) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"compose_rate must lie in [0, 1], got {rate!r}; fix the preset.")
        self.items, self.rate, self.max_frames = items, rate, max_frames
        self.by_length = sorted(range(len(items)), key=lambda i: items[i].motion_len)
        self.lengths = [items[i].motion_len for i in self.by_length]

    def __len__(self) -> int:
        return len(self.items)

    def draw(self, index: int, rng: np.random.Generator) -> MotionText:
        """Item ``index``, composed with a partner with probability ``rate``."""
        item = self.items[index]
        if self.rate == 0.0 or rng.random() >= self.rate:
            return item
        fitting = bisect.bisect_right(self.lengths, self.max_frames - item.motion_len)
        if fitting == 0:
            return item
        return compose(item, self.items[self.by_length[int(rng.integers(fitting))]], rng)


class PretrainDataset(SeededDataset):
    """The shuffled task mixture over a list of motions; item ``i`` of epoch ``e`` is fixed by (seed, e, i).

    Args:
        items: the motions with their captions (motions of fewer than 2 tokens are dropped).
        tokenizer: the merged tokenizer.
        vocab: where the motion words sit.
        lm: task ratios, lengths and corruption settings.
        seed: seeds the draws.
        max_frames: longest composed motion (see ``lm.compose_rate``).
    """

    def __init__(self, items: list[MotionText], tokenizer, vocab: MotionVocab, lm: LMConfig, seed: int = 0,
                 max_frames: int = 196) -> None:
        self.items = [item for item in items if len(item.code_idx) >= 2 and item.captions]
        if not self.items:
            raise ValueError("no motion with at least 2 tokens and a caption; tokenize the dataset first.")
        super().__init__(seed)
        self.pool = ComposedItems(self.items, lm.compose_rate, max_frames)
        self.tokenizer, self.vocab, self.lm = tokenizer, vocab, lm
        self.weights = task_weights(lm)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        rng = self.rng(index)
        task = int(rng.choice(len(TASKS), p=self.weights))
        source, target = make_example(TASKS[task], self.pool.draw(index, rng), self.tokenizer, self.vocab, self.lm, rng)
        return {"input_ids": source, "labels": target, "task": task}


def collate_examples(batch: list[dict], pad_id: int = 0) -> dict[str, torch.Tensor]:
    """Pad a list of examples: ``input_ids``/``attention_mask`` (B, S), ``labels`` (B, L) with -100, ``task`` (B,)."""
    source_len = max(len(b["input_ids"]) for b in batch)
    target_len = max(len(b["labels"]) for b in batch)
    input_ids = torch.full((len(batch), source_len), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), target_len), IGNORE, dtype=torch.long)
    for row, example in enumerate(batch):
        input_ids[row, :len(example["input_ids"])] = torch.tensor(example["input_ids"])
        labels[row, :len(example["labels"])] = torch.tensor(example["labels"])
    return {"input_ids": input_ids, "attention_mask": (input_ids != pad_id).long(), "labels": labels,
            "task": torch.tensor([b["task"] for b in batch])}


def seq2seq_step(model: torch.nn.Module, batch: dict[str, torch.Tensor], names: tuple[str, ...]
                 ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """One training step's loss for T5: cross-entropy of the targets, and the loss of every task in the batch.

    Args:
        model: the T5 (possibly wrapped by accelerate).
        batch: ``input_ids``, ``attention_mask`` (B, S), ``labels`` (B, L) with -100 padding, ``task`` (B,), an
            index into ``names``.
        names: the task names (``TASKS`` in pretraining, the template families in instruction tuning).
    Returns:
        ``(loss, logs)``: mean over all target tokens; ``loss_<name>`` = mean over that task's tokens.
    """
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
    with torch.no_grad():
        token_loss = F.cross_entropy(out.logits.float().transpose(1, 2), batch["labels"], ignore_index=IGNORE,
                                     reduction="none")  # (B, L)
        valid = batch["labels"] != IGNORE  # (B, L)
        logs = {f"loss_{name}": token_loss[rows].sum() / valid[rows].sum()
                for t, name in enumerate(names) if (rows := batch["task"] == t).any()}
    return out.loss, logs


def prompt_texts() -> list[str]:
    """The fixed words of the prompts, for training a tokenizer that knows them."""
    return [template.format(caption="", motion="", frames=196) for template in PROMPTS.values()]
