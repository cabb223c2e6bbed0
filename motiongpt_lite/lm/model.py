"""The motion-language model: T5 with the merged vocabulary, prompts and constrained decoding
(introduced in notebook 04, trained from notebook 05 on).

:class:`MotionLM` holds the three things that must always travel together: the T5 model, the
tokenizer with the motion words, and the :class:`~motiongpt_lite.lm.vocab.MotionVocab` saying
where those words sit. :meth:`MotionLM.build` makes one from a preset:

- ``lm.model == "config"``: a T5 built from the preset's architecture (offline, random weights) and
  a tokenizer trained on the captions.
- a hub id or folder: the pretrained weights and their tokenizer when both are on disk (or can be
  downloaded); otherwise the same offline pair as above, and the message says why.

Either way the vocabulary is merged by :func:`motiongpt_lite.lm.surgery.merge_vocabulary`, never by
``resize_token_embeddings`` (see that module for the transformers 5.x trap).

transformers 5.x: ``T5Config()`` no longer sets ``decoder_start_token_id``; :func:`t5_config`
passes ``decoder_start_token_id=0, pad_token_id=0, eos_token_id=1`` (T5's layout). It also always
says ``tie_word_embeddings=True``; an untied model (flan-t5) is made by :func:`build_t5`, which gives
the head its own matrix and passes ``tie_word_embeddings=False`` so that, as in flan-t5, the decoder
output is not rescaled by ``d_model ** -0.5`` (``config.scale_decoder_outputs``).
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Sequence

import torch
from transformers import (AutoTokenizer, BatchEncoding, LogitsProcessor, LogitsProcessorList, PreTrainedTokenizerBase,
                          T5Config, T5ForConditionalGeneration)

from motiongpt_lite.config import LMConfig
from motiongpt_lite.lm.surgery import merge_vocabulary, quiet_untied_load_warning, untie_output_head
from motiongpt_lite.lm.tokenizer import TRAINED, add_motion_tokens, load_text_tokenizer
from motiongpt_lite.lm.vocab import MotionVocab
from motiongpt_lite.runtime import follow_umask, hub_offline

__all__ = ["FROM_CONFIG", "t5_config", "build_t5", "load_pretrained_t5", "load_text_model", "MotionSpanLogitsProcessor",
           "GENERATION_MODES", "MotionLM"]

FROM_CONFIG = "config"  # the preset value asking for a T5 built from its architecture fields
MOTION_FILE = "motion_vocab.json"  # written by MotionLM.save next to the model and tokenizer


def t5_config(lm: LMConfig, vocab_size: int) -> T5Config:
    """A ``T5Config`` with the preset's architecture and T5's special ids (pad 0, eos 1, decoder start 0)."""
    return T5Config(vocab_size=vocab_size, d_model=lm.d_model, d_ff=lm.d_ff, d_kv=lm.d_kv, num_layers=lm.num_layers,
                    num_decoder_layers=lm.num_layers, num_heads=lm.num_heads, feed_forward_proj=lm.feed_forward_proj,
                    dropout_rate=lm.dropout, tie_word_embeddings=lm.tie_embeddings,
                    decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)


def build_t5(lm: LMConfig, vocab_size: int, seed: int = 0) -> T5ForConditionalGeneration:
    """A randomly initialised T5 (seeded), with an output head of its own when ``lm.tie_embeddings`` is False.

    Args:
        lm: the preset's language-model knobs (architecture fields).
        vocab_size: rows of the embedding matrix (the text vocabulary before merging).
        seed: makes the initialisation repeatable.
    """
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(t5_config(lm, vocab_size))
    if not lm.tie_embeddings:
        untie_output_head(model, seed=seed + 1)
    return model.eval()


def load_pretrained_t5(name_or_dir: str) -> tuple[T5ForConditionalGeneration | None, str]:
    """Pretrained T5 weights from a folder, the local cache, or the hub when online.

    Returns:
        ``(model or None, where it came from or why it could not be loaded)``.
    """
    quiet_untied_load_warning()
    local = Path(name_or_dir).is_dir()
    try:
        with no_progress_bars():
            model = T5ForConditionalGeneration.from_pretrained(name_or_dir, local_files_only=True).eval()
        return model, f"pretrained weights from {'the folder' if local else 'the local cache'} {name_or_dir}"
    except OSError as error:
        if local:
            return None, f"the folder {name_or_dir} holds no loadable T5 ({type(error).__name__})"
        if hub_offline():
            return None, f"{name_or_dir} is not on disk and HF_HUB_OFFLINE=1 forbids downloading it"
    try:
        return T5ForConditionalGeneration.from_pretrained(name_or_dir).eval(), f"{name_or_dir} downloaded from the hub"
    except OSError as error:
        return None, (f"{name_or_dir} could not be loaded ({type(error).__name__}); set HF_HUB_OFFLINE=1 to skip "
                      "the ~45 s of retries when there is no network")


def load_text_model(lm: LMConfig, captions: Iterable[str] | None = None, cache_dir: str | Path | None = None,
                    seed: int = 0) -> tuple[T5ForConditionalGeneration, PreTrainedTokenizerBase, str]:
    """The preset's T5 and text tokenizer, before any motion word is added.

    Pretrained weights are used only together with their own tokenizer (embeddings index a
    vocabulary); when either is missing, both fall back: a T5 from the preset's architecture with
    random weights, and a tokenizer trained on ``captions``.

    Args:
        lm: the preset's language-model knobs.
        captions: training captions, for the offline tokenizer.
        cache_dir: where a trained tokenizer is kept between runs.
        seed: seeds the random initialisation.
    Returns:
        ``(model, tokenizer, message)``; the message says what is in use and why.
    """
    model, notes = None, []
    if lm.model != FROM_CONFIG:
        model, source = load_pretrained_t5(lm.model)
        notes.append(f"model: {source}.")
        if model is not None:
            try:
                tokenizer, tmsg = load_text_tokenizer(lm.tokenizer, None)
                notes.append(tmsg)
            except ValueError as error:
                model = None
                notes.append(f"its tokenizer is missing ({error}); pretrained weights need their own tokenizer.")
        if model is None:
            notes.append("Falling back to a T5 built from the preset's architecture with random weights, "
                         "and a tokenizer trained on the captions.")
    if model is None:
        tokenizer, tmsg = load_text_tokenizer(TRAINED, captions, cache_dir, lm.text_vocab_size, lm.extra_ids)
        model = build_t5(lm, len(tokenizer), seed)
        notes.append(f"model: T5 from the preset's config ({lm.num_layers}+{lm.num_layers} layers, "
                     f"d_model {lm.d_model}), random weights. {tmsg}")
    return model.eval(), tokenizer, " ".join(notes)


class MotionSpanLogitsProcessor(LogitsProcessor):
    """Constrained decoding: between a start and an end marker only motion codes may appear.

    At every step each sequence is either *outside* a motion span or *inside* one (its last marker is
    a start marker). Inside, every token but the codes and the end marker gets a score of -inf (the
    end marker too while fewer than ``min_codes`` codes were emitted; only the end marker once
    ``max_codes`` were). Outside, codes, end and mask markers are forbidden, so codes never float in
    text. With ``motion_only`` the whole output must be one motion: the first token is the start
    marker and after the end marker only end-of-sequence may follow.

    Args:
        vocab: where the motion words sit.
        eos_id: end-of-sequence id (T5: 1).
        motion_only: force ``<som> codes <eom> </s>`` (text-to-motion, prediction, in-betweening).
        min_codes: fewest codes in a span.
        max_codes: most codes in a span (None: no limit).
    """

    def __init__(self, vocab: MotionVocab, eos_id: int = 1, motion_only: bool = False, min_codes: int = 1,
                 max_codes: int | None = None) -> None:
        self.vocab, self.eos_id, self.motion_only = vocab, eos_id, motion_only
        self.min_codes, self.max_codes = min_codes, max_codes

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        """input_ids (B, L) generated so far (decoder start first); scores (B, V) -> constrained scores (B, V)."""
        v = self.vocab
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        last_som = torch.where(input_ids == v.som_id, positions, -1).max(-1).values  # (B,)
        last_eom = torch.where(input_ids == v.eom_id, positions, -1).max(-1).values  # (B,)
        codes_in_span = (v.is_code(input_ids) & (positions > last_som[:, None])).sum(-1)  # (B,)
        allowed = torch.zeros_like(scores, dtype=torch.bool)  # (B, V)
        codes = slice(v.offset, v.offset + v.num_codes)
        for b in range(scores.shape[0]):
            if last_som[b] > last_eom[b]:  # inside a span
                full = self.max_codes is not None and codes_in_span[b] >= self.max_codes
                allowed[b, codes] = not full
                allowed[b, v.eom_id] = codes_in_span[b] >= self.min_codes
            elif self.motion_only and last_eom[b] >= 0:  # the motion is done
                allowed[b, self.eos_id] = True
            elif self.motion_only:  # nothing emitted yet
                allowed[b, v.som_id] = True
            else:  # text: anything but codes and the end/mask markers
                allowed[b] = True
                allowed[b, v.offset:v.end] = False
                allowed[b, v.som_id] = True
        return scores.masked_fill(~allowed, float("-inf"))


GENERATION_MODES = ("motion", "free", "text", "unconstrained")  # what MotionLM.generate may emit
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")  # written by save_pretrained of the tokenizer


@contextmanager
def no_progress_bars():
    """Hide transformers' progress bars (a local one-shard load or save shows one per call) for the block."""
    from transformers.utils import logging as hf_logging

    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            hf_logging.enable_progress_bar()


def save_t5(model: T5ForConditionalGeneration, tokenizer, folder: str | Path) -> Path:
    """Write a T5 and its tokenizer with ``save_pretrained``, readable as the umask says; returns the folder."""
    folder = Path(folder)
    with no_progress_bars():
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    follow_umask(folder)  # safetensors writes 0600
    return folder

@dataclass
class MotionLM:
    """A T5 that speaks motion: model, tokenizer with the motion words, and their place in the vocabulary.

    Attributes:
        model: the T5 (vocabulary already merged).
        tokenizer: text tokenizer plus the K + 3 motion words.
        vocab: where the motion words sit (``vocab.end == len(tokenizer)``).
        message: how the model and tokenizer were obtained (pretrained, fallback and why, ...).
    """

    model: T5ForConditionalGeneration
    tokenizer: PreTrainedTokenizerBase
    vocab: MotionVocab
    message: str = ""
    motion_tokenizer_sha256: str | None = None  # weights_sha256 of the motion tokenizer its tokens came from

    @classmethod
    def build(cls, lm: LMConfig, num_codes: int, captions: Iterable[str] | None = None,
              cache_dir: str | Path | None = None, seed: int = 0) -> "MotionLM":
        """Build the preset's language model and merge the motion words into it.

        Args:
            lm: the preset's language-model knobs.
            num_codes: K, the codebook size of the motion tokenizer.
            captions: training captions, for the offline tokenizer (needed unless pretrained files are on disk).
            cache_dir: where a trained tokenizer is kept between runs.
            seed: seeds the random initialisation and the new rows.
        """
        model, tokenizer, message = load_text_model(lm, captions, cache_dir, seed)
        num_text = len(tokenizer)
        vocab = add_motion_tokens(tokenizer, num_codes)
        merge_vocabulary(model, num_text, len(tokenizer), init=lm.init, seed=seed)
        message += (f" Merged vocabulary: {num_text} text tokens + {vocab.size} motion words = {len(tokenizer)}; "
                    f"new rows init '{lm.init}'.")
        return cls(model.eval(), tokenizer, vocab, message)

    def encode(self, prompts: Sequence[str], max_len: int | None = None) -> BatchEncoding:
        """Tokenize prompts that mix text and motion words (``<motion_id_k>``), padded to the longest.

        Args:
            prompts: B strings, e.g. ``"Generate text: " + vocab.codes_to_text(code_idx)``.
            max_len: truncate to this many tokens (eos included).
        Returns:
            ``input_ids`` (B, L) and ``attention_mask`` (B, L) tensors on the model's device.
        """
        batch = self.tokenizer(list(prompts), padding=True, truncation=max_len is not None, max_length=max_len,
                               return_tensors="pt")
        return batch.to(self.model.device)

    @torch.no_grad()
    def generate(self, prompts: Sequence[str], max_new_tokens: int, mode: str = "free", min_codes: int = 1,
                 max_codes: int | None = None, do_sample: bool = False, num_beams: int = 1, top_k: int = 0,
                 temperature: float = 1.0, max_len: int | None = None, seed: int | None = None) -> list[list[int]]:
        """Generate from prompts; returns the new token ids (decoder start token removed) of each prompt.

        The one generation path of the package: the API's tasks, the stage reports and the notebooks call it.

        Args:
            prompts: B prompt strings.
            max_new_tokens: most tokens generated (a motion of N codes needs N + 3: markers and eos).
            mode: what the output may hold, one of :data:`GENERATION_MODES`: ``"motion"`` exactly one motion span
                (text-to-motion, prediction, in-betweening), ``"free"`` text with codes only inside spans (chat),
                ``"text"`` no motion word at all (captions), ``"unconstrained"`` whatever the model says.
                ``"motion"`` and ``"free"`` decode through :class:`MotionSpanLogitsProcessor`.
            min_codes, max_codes: fewest / most codes in a span (``"motion"`` and ``"free"``; None: no limit).
            do_sample, num_beams, top_k, temperature: decoding strategy (greedy by default).
            max_len: truncate prompts to this many tokens.
            seed: seeds sampling.
        Returns:
            B lists of ids, each ending at (and including) eos when one was generated; parse them
            with :func:`motiongpt_lite.lm.parse.parse_ids`.
        """
        if mode not in GENERATION_MODES:
            raise ValueError(f"mode={mode!r} is not a generation mode; use one of {', '.join(GENERATION_MODES)}.")
        batch = self.encode(prompts, max_len)
        rules: dict = {}
        if mode in ("motion", "free"):
            rules["logits_processor"] = LogitsProcessorList([MotionSpanLogitsProcessor(
                self.vocab, self.tokenizer.eos_token_id, mode == "motion", min_codes=min_codes, max_codes=max_codes)])
        elif mode == "text":
            rules["suppress_tokens"] = list(range(self.vocab.offset, self.vocab.end))
        if seed is not None:
            torch.manual_seed(seed)
        sampling = {"top_k": top_k, "temperature": temperature} if do_sample else {}
        out = self.model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=do_sample, num_beams=num_beams,
                                  **sampling, **rules)  # (B, 1 + new)
        rows = []
        for row in out[:, 1:].tolist():
            eos = row.index(self.tokenizer.eos_token_id) + 1 if self.tokenizer.eos_token_id in row else len(row)
            rows.append(row[:eos])
        return rows

    def save(self, folder: str | Path) -> Path:
        """Write model, tokenizer and ``motion_vocab.json`` with ``save_pretrained``; returns the folder."""
        folder = save_t5(self.model, self.tokenizer, folder)
        (folder / MOTION_FILE).write_text(json.dumps({**asdict(self.vocab), "message": self.message,
                                                      "motion_tokenizer_sha256": self.motion_tokenizer_sha256}, indent=2))
        return folder

    @classmethod
    def load(cls, folder: str | Path, device: str | torch.device = "cpu") -> "MotionLM":
        """Load a model written by :meth:`save` (an untied head stays untied)."""
        folder = Path(folder)
        if not (folder / MOTION_FILE).exists():
            raise FileNotFoundError(f"{folder} holds no merged motion-language model ({MOTION_FILE} missing); "
                                    "save one with MotionLM.save or run `motiongpt-lite pretrain`.")
        try:
            info = json.loads((folder / MOTION_FILE).read_text(encoding="utf-8"))
            num_codes = int(info["num_codes"])
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{folder / MOTION_FILE} is damaged ({type(error).__name__}: {error}); save the model "
                             "again with MotionLM.save or rerun the stage that wrote it.") from None
        missing = [name for name in TOKENIZER_FILES if not (folder / name).is_file()]
        if missing:
            raise FileNotFoundError(f"{folder} lacks the tokenizer file {missing[0]} that MotionLM.save writes beside "
                                    "the weights; restore it from where the model came from, or save the model again.")
        quiet_untied_load_warning()
        with no_progress_bars():
            model = T5ForConditionalGeneration.from_pretrained(folder).to(device).eval()
        tokenizer = AutoTokenizer.from_pretrained(folder)
        vocab = MotionVocab.from_tokenizer(tokenizer, num_codes)
        return cls(model, tokenizer, vocab, f"loaded from {folder}", info.get("motion_tokenizer_sha256"))
