"""A total parser: model output (token ids or text) -> motion codes, text and what was wrong
(introduced in notebook 04, used from notebook 05 on).

A language model can emit anything: no start marker, a span cut off before its end marker, a word
in the middle of a motion, ids beyond the vocabulary, nothing at all. The reference implementation's
parser crashes on some of these; ours never raises on model output. It recovers what it can and
returns flags naming every problem, so that callers can count well-formed outputs or skip bad ones.

Reading rules, for ids and text alike:

1. Output ends at the first end-of-sequence token (``</s>``, id 1); padding is ignored.
2. The motion is the first span: from the first start marker to the next end marker (or the next
   start marker, or the end of the output). Without a start marker, a run of codes found anyway
   is taken from the first code to the next end marker (flag ``no_start``).
3. Inside the span only codes are kept; everything else there is dropped and flagged.
4. Everything outside the span is the text (decoded with the tokenizer when one is given).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from motiongpt_lite.lm.vocab import MotionVocab

__all__ = ["FLAGS", "ParsedOutput", "parse_ids", "parse_text"]

FLAGS: dict[str, str] = {
    "empty": "the output holds no tokens",
    "unreadable": "the output is neither a string nor a sequence of integer ids; nothing was read",
    "no_motion": "no start marker and no codes: the output holds no motion (fine for a caption)",
    "no_start": "codes without a start marker: they were read from the first code on",
    "no_end": "the motion span has no end marker: it was cut off (allow more new tokens?)",
    "no_codes": "the motion span holds no codes",
    "stray_text": "words other than codes inside the motion span were dropped",
    "mask_in_motion": "mask markers inside the motion span were dropped",
    "out_of_range": "ids outside the merged vocabulary (or motion words beyond the mask marker) were dropped",
    "extra_motion": "markers or codes outside the first span were dropped (more than one motion?)",
}

_WORD_RE = re.compile(r"<motion_id_(\d+)>")
_TEXT_SPECIALS_RE = re.compile(r"<pad>|<unk>|<extra_id_\d+>")


@dataclass(frozen=True)
class ParsedOutput:
    """What a model output holds.

    Attributes:
        code_idx: the motion's code indices, in order (empty when there is none).
        text: the text outside the motion span, whitespace-normalised.
        flags: names from ``FLAGS`` of everything that was wrong, sorted.
    """

    code_idx: list[int] = field(default_factory=list)
    text: str = ""
    flags: tuple[str, ...] = ()

    @property
    def well_formed_motion(self) -> bool:
        """True when the output is one clean motion span: start, at least one code, end, nothing dropped."""
        return bool(self.code_idx) and not self.flags

    def describe(self) -> list[str]:
        """One sentence per flag."""
        return [f"{name}: {FLAGS[name]}" for name in self.flags]


def _split(items: list[tuple[str, Any]]) -> tuple[list[int], list[Any], set[str]]:
    """Core of both parsers. ``items`` are ("code", k), ("som", _), ("eom", _), ("mask", _), ("text", x), ("bad", _)."""
    flags: set[str] = set()
    kinds = [kind for kind, _ in items]
    if "som" in kinds:
        start = kinds.index("som") + 1
    elif "code" in kinds:
        start = kinds.index("code")
        flags.add("no_start")
    else:
        start = None
        flags.add("no_motion")
    stop = len(items)
    if start is not None:
        ends = [i for i in range(start, len(items)) if kinds[i] in ("eom", "som")]
        stop = ends[0] if ends else len(items)
        if not ends or kinds[stop] != "eom":
            flags.add("no_end")
    codes: list[int] = []
    text: list[Any] = []
    for i, (kind, value) in enumerate(items):
        in_span = start is not None and start <= i < stop
        if kind == "bad":
            flags.add("out_of_range")
        elif in_span:
            if kind == "code":
                codes.append(value)
            else:
                flags.add({"mask": "mask_in_motion", "text": "stray_text"}[kind])
        elif kind == "text":
            text.append(value)
        else:
            own_marker = start is not None and ((i == start - 1 and kind == "som") or (i == stop and kind == "eom"))
            if not own_marker:
                flags.add("extra_motion")  # a code or marker outside the span, other than the span's own markers
    if start is not None and not codes:
        flags.add("no_codes")
    return codes, text, flags


def _classify_id(token_id: int, vocab: MotionVocab, vocab_end: int) -> tuple[str, Any]:
    if not 0 <= token_id < vocab_end:
        return "bad", token_id
    k = token_id - vocab.offset
    if 0 <= k < vocab.num_codes:
        return "code", k
    return {vocab.num_codes: ("som", None), vocab.num_codes + 1: ("eom", None),
            vocab.num_codes + 2: ("mask", None)}.get(k, ("text", token_id))


def _as_id_list(ids: Any) -> list[int] | None:
    """Token ids in any common container -> list of ints; None when they cannot be read as integers."""
    try:
        array = np.asarray(ids.detach().cpu() if hasattr(ids, "detach") else ids)
    except Exception:  # arbitrary objects: numpy may raise anything while converting them
        return None
    if array.ndim == 1 and array.size == 0:
        return []
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer) or array.ndim > 1:
        if array.dtype == object and array.ndim == 1 and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool)
                                                             for x in array):
            return [int(x) for x in array]  # Python ints too large for int64
        return None
    return [int(x) for x in array.reshape(-1)]


def parse_ids(ids: Any, vocab: MotionVocab, tokenizer=None, pad_id: int = 0, eos_id: int = 1) -> ParsedOutput:
    """Parse generated token ids; never raises.

    Args:
        ids: (L,) token ids as a list, numpy array or tensor (e.g. one row of ``generate``'s output,
            with or without the decoder start token).
        vocab: where the motion words sit.
        tokenizer: decodes the text part when given; ids below ``len(tokenizer)`` are in range.
            Without it, ids below ``vocab.end`` are in range and ``text`` stays empty.
        pad_id, eos_id: skipped padding and the end of the output (T5: 0 and 1).
    Returns:
        a :class:`ParsedOutput`.
    """
    id_list = _as_id_list(ids)
    if id_list is None:
        return ParsedOutput(flags=("unreadable",))
    if eos_id in id_list:
        id_list = id_list[:id_list.index(eos_id)]
    id_list = [i for i in id_list if i != pad_id]
    if not id_list:
        return ParsedOutput(flags=("empty",))
    vocab_end = max(vocab.end, len(tokenizer)) if tokenizer is not None else vocab.end
    codes, text_ids, flags = _split([_classify_id(i, vocab, vocab_end) for i in id_list])
    text = ""
    if tokenizer is not None and text_ids:
        text = " ".join(tokenizer.decode(text_ids, skip_special_tokens=True).split())
    return ParsedOutput(codes, text, tuple(sorted(flags)))


def parse_text(text: Any, vocab: MotionVocab) -> ParsedOutput:
    """Parse generated text (e.g. ``tokenizer.decode(ids)``); never raises.

    Motion words are ``<motion_id_n>``; ``</s>`` ends the output; ``<pad>``, ``<unk>`` and sentinels are
    ignored; any other non-space characters are text.

    Args:
        text: the decoded output.
        vocab: where the motion words sit (only ``num_codes`` matters here).
    Returns:
        a :class:`ParsedOutput`.
    """
    if not isinstance(text, str):
        return ParsedOutput(flags=("unreadable",))
    text = text.split("</s>", 1)[0]
    items: list[tuple[str, Any]] = []
    cursor = 0
    for match in _WORD_RE.finditer(text):
        items += _text_items(text[cursor:match.start()])
        n = int(match.group(1))
        kind = {vocab.num_codes: "som", vocab.num_codes + 1: "eom", vocab.num_codes + 2: "mask"}.get(n)
        items.append((kind, None) if kind else ("code", n) if n < vocab.num_codes else ("bad", n))
        cursor = match.end()
    items += _text_items(text[cursor:])
    if not items:
        return ParsedOutput(flags=("empty",))
    codes, words, flags = _split(items)
    return ParsedOutput(codes, " ".join(" ".join(words).split()), tuple(sorted(flags)))


def _text_items(chunk: str) -> list[tuple[str, str]]:
    """The words of a piece of text between motion words, special tokens removed."""
    words = _TEXT_SPECIALS_RE.sub(" ", chunk).split()
    return [("text", w) for w in words]
