"""The text tokenizer, with the motion words added (introduced in notebook 04).

Two tokenizers stand behind one function, :func:`load_text_tokenizer`:

1. **Pretrained T5** (``google/flan-t5-small``, ``-base``, ``google-t5/t5-base``, or a folder written by
   ``save_pretrained``): used when it is on disk (a folder, or the Hugging Face cache). With
   ``HF_HUB_OFFLINE=1`` the hub is never contacted; without it a missing tokenizer is downloaded.
2. **Trained on the captions** (:func:`train_text_tokenizer`): a unigram model learned with
   SentencePiece, laid out like T5's (pad 0, eos 1, unk 2, then the pieces,
   then the sentinels ``<extra_id_99>`` ... ``<extra_id_0>``), wrapped in transformers' ``T5Tokenizer``
   and saved/reloaded with ``save_pretrained`` / ``from_pretrained``.

The function returns the tokenizer and one sentence saying which one is in use and why.
:func:`add_motion_tokens` then appends the K + 3 motion words (see :mod:`motiongpt_lite.lm.vocab`).

transformers 5.x trap: ``T5Tokenizer(vocab_file="spiece.model")`` is silently ignored (you get a
4-token vocabulary). We build the tokenizer from a vocabulary list (``T5Tokenizer(vocab=[(piece,
score), ...])``) and reload it only from a folder written by ``save_pretrained``.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import string
from pathlib import Path
from typing import Iterable

import sentencepiece
from transformers import AddedToken, AutoTokenizer, PreTrainedTokenizerBase, T5Tokenizer

from motiongpt_lite.lm.vocab import MotionVocab, motion_token_strings
from motiongpt_lite.runtime import hub_offline

__all__ = ["TRAINED", "train_text_tokenizer", "load_text_tokenizer", "add_motion_tokens", "CONTROL_TOKEN_RE",
           "control_tokens_in", "check_plain_text"]

TRAINED = "trained"  # the preset value asking for a tokenizer trained on the captions
FINGERPRINT_FILE = "captions_fingerprint.json"  # next to a saved trained tokenizer: what it was trained on


def train_text_tokenizer(captions: Iterable[str], vocab_size: int = 2000, extra_ids: int = 100) -> T5Tokenizer:
    """Learn a unigram SentencePiece model on ``captions`` and wrap it as a T5 tokenizer.

    SentencePiece (single-threaded, so the result is the same on every run) learns the pieces and
    their scores; ``T5Tokenizer(vocab=[(piece, score), ...])`` rebuilds the same unigram model in
    transformers, which encodes exactly as SentencePiece does (``tests/test_lm_vocab.py`` checks it).
    Every printable ASCII character is a required piece, so no caption character becomes ``<unk>``.

    Args:
        captions: the training texts.
        vocab_size: upper bound on the number of pieces (pad, eos, unk included); a small corpus gives fewer.
        extra_ids: sentinel tokens ``<extra_id_i>`` for span corruption (T5: 100).
    Returns:
        a ``T5Tokenizer`` with ``len = pieces + extra_ids``; pad 0, eos 1, unk 2, ``<extra_id_0>`` the last id.
    """
    captions = [c for c in captions if c.strip()]
    if not captions:
        raise ValueError("no captions to train a tokenizer on; pass the dataset's captions or a pretrained tokenizer name.")
    buffer = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(captions), model_writer=buffer, model_type="unigram", vocab_size=vocab_size,
        hard_vocab_limit=False, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, normalization_rule_name="identity",
        required_chars=string.ascii_letters + string.digits + string.punctuation, num_threads=1, minloglevel=2)
    processor = sentencepiece.SentencePieceProcessor(model_proto=buffer.getvalue())
    pieces = [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())]
    sentinels = [(f"<extra_id_{i}>", 0.0) for i in reversed(range(extra_ids))]  # as T5: <extra_id_0> is the last id
    return T5Tokenizer(vocab=pieces + sentinels, extra_ids=extra_ids)


def _fingerprint(captions: list[str], vocab_size: int, extra_ids: int) -> str:
    digest = hashlib.sha256(json.dumps([vocab_size, extra_ids, captions]).encode()).hexdigest()
    return digest[:16]


def _trained(captions: list[str], cache_dir: Path | None, vocab_size: int, extra_ids: int) -> tuple[T5Tokenizer, bool]:
    """Train, or reload from ``cache_dir`` when it holds a tokenizer trained on the same captions and sizes."""
    fingerprint = _fingerprint(captions, vocab_size, extra_ids)
    stamp = cache_dir / FINGERPRINT_FILE if cache_dir else None
    if stamp is not None and stamp.exists() and json.loads(stamp.read_text()).get("fingerprint") == fingerprint:
        return AutoTokenizer.from_pretrained(cache_dir), True
    tokenizer = train_text_tokenizer(captions, vocab_size, extra_ids)
    if cache_dir is not None:
        tokenizer.save_pretrained(cache_dir)
        stamp.write_text(json.dumps({"fingerprint": fingerprint, "captions": len(captions), "vocab_size": vocab_size}))
    return tokenizer, False


def _pretrained(name_or_dir: str) -> tuple[PreTrainedTokenizerBase | None, str]:
    """Load a pretrained tokenizer from a folder or the hub cache (the hub itself only when online)."""
    if Path(name_or_dir).is_dir():
        return AutoTokenizer.from_pretrained(name_or_dir), f"the tokenizer saved in {name_or_dir}"
    try:
        return AutoTokenizer.from_pretrained(name_or_dir, local_files_only=True), f"{name_or_dir} from the local cache"
    except OSError:
        pass
    if hub_offline():
        return None, f"{name_or_dir} is not in the local cache and HF_HUB_OFFLINE=1 forbids downloading it"
    try:
        return AutoTokenizer.from_pretrained(name_or_dir), f"{name_or_dir} downloaded from the hub"
    except OSError as error:
        return None, (f"{name_or_dir} could not be loaded ({type(error).__name__}); set HF_HUB_OFFLINE=1 to skip "
                      "the ~45 s of retries when there is no network")


def load_text_tokenizer(name_or_dir: str | None, captions: Iterable[str] | None = None,
                        cache_dir: str | Path | None = None, vocab_size: int = 2000,
                        extra_ids: int = 100) -> tuple[PreTrainedTokenizerBase, str]:
    """The pretrained T5 tokenizer when it is available, else one trained on ``captions``.

    Args:
        name_or_dir: hub id (``"google/flan-t5-small"``), a folder written by ``save_pretrained``, or
            ``"trained"`` / None to train on the captions directly.
        captions: texts to train on when the pretrained tokenizer cannot be had.
        cache_dir: where a trained tokenizer is saved, and reloaded from when it was trained on the same
            captions with the same sizes (a fingerprint file records them).
        vocab_size, extra_ids: see :func:`train_text_tokenizer`.
    Returns:
        ``(tokenizer, message)``; the message says which tokenizer is in use and why.
    Raises:
        ValueError: the pretrained tokenizer is unavailable and no captions were given.
    """
    reason = "the preset asks for a tokenizer trained on the captions"
    if name_or_dir not in (None, TRAINED):
        tokenizer, source = _pretrained(str(name_or_dir))
        if tokenizer is not None:
            return tokenizer, f"text tokenizer: pretrained, {source} ({len(tokenizer)} tokens)."
        reason = source
    captions = list(captions or [])
    if not captions:
        raise ValueError(f"no text tokenizer: {reason}, and no captions were given to train one; pass captions= "
                         "or make the pretrained tokenizer available (bash data_download.sh flan-t5-small or flan-t5-base).")
    tokenizer, reloaded = _trained(captions, Path(cache_dir) if cache_dir else None, vocab_size, extra_ids)
    how = f"reloaded from {cache_dir}" if reloaded else f"trained on {len(captions)} captions"
    return tokenizer, f"text tokenizer: unigram {how} ({len(tokenizer)} tokens), because {reason}."


def add_motion_tokens(tokenizer: PreTrainedTokenizerBase, num_codes: int) -> MotionVocab:
    """Append the K + 3 motion words to ``tokenizer`` (in place) and return where they sit.

    The words are added as ordinary added tokens, not special ones, so that
    ``decode(..., skip_special_tokens=True)`` drops pad/eos but keeps the motion. Calling it again on a
    tokenizer that already holds them changes nothing.

    Args:
        tokenizer: a text tokenizer (its current length becomes the offset of ``<motion_id_0>``).
        num_codes: K, the codebook size.
    Returns:
        the :class:`MotionVocab` with ``offset`` = id of ``<motion_id_0>``.
    """
    words = motion_token_strings(num_codes)
    if words[0] not in tokenizer.get_vocab():
        tokenizer.add_tokens([AddedToken(w, normalized=False, special=False) for w in words])
    return MotionVocab.from_tokenizer(tokenizer, num_codes)


# -- typed text must stay text -------------------------------------------------------------------
CONTROL_TOKEN_RE = re.compile(r"<(?:motion_id|extra_id)_\d+>")  # motion words and sentinels, in or beyond the vocabulary


def control_tokens_in(text: str, tokenizer: PreTrainedTokenizerBase) -> list[str]:
    """The control tokens a piece of user text would become, in order of appearance.

    Control tokens are the tokenizer's special and added tokens (``</s>``, ``<pad>``, ``<unk>``,
    ``<extra_id_N>``, the motion words ``<motion_id_N>`` and their span markers) and every string shaped
    like a motion word or sentinel. The tokenizer splits added tokens out of a string before it looks at
    the text, and ``split_special_tokens`` does not cover the motion words, so there is no reliable way to
    encode them as plain characters; we find them instead. Besides the literal strings, the text is
    tokenized and any control id it yields is reported (this catches what normalisation turns into one).

    Returns:
        the distinct control-token strings found (empty for plain text).
    """
    added = tokenizer.get_added_vocab()  # token -> id, motion words included
    literal = set(tokenizer.all_special_tokens) | set(added)
    found = {m.group(0): m.start() for m in CONTROL_TOKEN_RE.finditer(text)}
    found.update({t: text.find(t) for t in literal if t and t in text and t not in found})
    if not found:
        control_ids = (set(tokenizer.all_special_ids) | set(added.values())) - {tokenizer.unk_token_id}
        ids = tokenizer(text, add_special_tokens=False).input_ids
        found = {tokenizer.convert_ids_to_tokens(i): k for k, i in enumerate(ids) if i in control_ids}
    return sorted(found, key=found.get)


def check_plain_text(text: str, tokenizer: PreTrainedTokenizerBase, name: str = "text") -> str:
    """Return ``text`` unchanged when it holds no control token (:func:`control_tokens_in`), else refuse it.

    We refuse rather than rewrite: replacing ``<`` by a lookalike would change the text silently, and T5's
    own vocabulary has no ``<`` piece to spell a marker with. Motions enter a prompt only as motion arrays.

    Raises:
        ValueError: naming the first control token and what to do.
    """
    found = control_tokens_in(text, tokenizer)
    if found:
        raise ValueError(f"{name} holds {found[0]!r}, a control token of the model that typed text may not contain; "
                         "remove it (a motion goes in through motion=..., never as <motion_id_N> words).")
    return text
