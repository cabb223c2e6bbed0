"""The MotionGPT object: one thing to hold, every motion task as one method call (introduced in notebook 06).

:class:`MotionGPT` keeps the motion tokenizer (VQ-VAE + normalisation) and the instruction-tuned
language model together, and turns each task into a prompt written with the first template of its
family (:mod:`motiongpt_lite.lm.templates`), constrained decoding, the total parser and the
VQ-VAE decoder::

    from motiongpt_lite import MotionGPT
    gpt = MotionGPT.from_preset("small")            # or MotionGPT.from_pretrained("my_model/")
    out = gpt.text_to_motion("a person jumps twice", length=80)
    out.joints.shape                                # (80, 22, 3)
    gpt.motion_to_text(out.features).text           # a caption

Inputs: motions are raw feature arrays (T, D) (D = 263 for HumanML3D), numpy or torch; a batch is
a list of clips or a padded (B, T, D) array with ``motion_len`` (B,). Every method returns one
:class:`MotionResult` per input (a list for a batch). Lengths are in frames; one motion token covers
``frames_per_token`` (4) frames, so a length is rounded up to whole tokens and the result cropped back.

Typed text stays text: a caption or prompt that holds a control token of the model (``</s>``, ``<pad>``,
``<unk>``, ``<extra_id_N>``, a motion word ``<motion_id_N>`` or a span marker) is refused with a
``ValueError`` naming it (:func:`motiongpt_lite.lm.tokenizer.check_plain_text` says why we refuse rather
than rewrite); motions enter a prompt only through ``motion=`` arguments.

Bounded input: a prompt longer than the model's ``max_source_len`` tokens (the preset's
``instruct.max_source_len``) has its text cut to fit, with a warning; a motion input may have at most
``max_input_frames`` frames (default twice ``max_frames``: 392 frames, 19.6 s, for HumanML3D), and one
whose tokens leave no room in the prompt is refused, each with an error saying what to pass instead.

A saved model is one folder: ``lm/`` (T5 and tokenizer, safetensors), ``vq/`` (VQ-VAE weights in
safetensors, ``config.json``, ``Mean.npy``/``Std.npy``) and ``motiongpt.json`` (frame rate, lengths).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from motiongpt_lite.config import Preset, get_preset
from motiongpt_lite.data.features import features_to_joints
from motiongpt_lite.lm.model import MotionLM
from motiongpt_lite.lm.parse import ParsedOutput, parse_ids
from motiongpt_lite.lm.templates import fill, placeholders, templates
from motiongpt_lite.lm.tokenizer import check_plain_text
from motiongpt_lite.checkpoints import weights_sha256
from motiongpt_lite.vq.tokenize import MotionTokenizer, num_tokens

__all__ = ["MotionResult", "MotionGPT", "TEXT_TO_MOTION_DECODING"]

CONFIG_FILE = "motiongpt.json"  # beside lm/ and vq/ in a saved model folder
FORMAT = "motiongpt_lite-model-1"
DEFAULT_MAX_SOURCE_LEN = 256  # prompt tokens read when a saved model does not say (LMConfig's default)
# text_to_motion's decoding when the caller chooses none. The reference samples text -> motion and decodes
# motion -> text greedily; the semantic checks of the generated motions (issue 12, README) measured this
# tempered, top-k sampling above greedy decoding and above plain T = 1 sampling. Seeded, so one prompt gives
# one motion on every call; pass ``do_sample=False`` for greedy, or another ``seed``.
TEXT_TO_MOTION_DECODING: dict[str, Any] = {"do_sample": True, "temperature": 0.7, "top_k": 20, "seed": 0}
CHARS_PER_TOKEN_CAP = 16  # text longer than this many characters per source token is cut before tokenizing


@dataclass
class MotionResult:
    """What one prompt gave back.

    Attributes:
        prompt: the prompt the language model saw.
        text: the text of the answer (the caption for motion-to-text; usually empty for motion tasks).
        code_idx: (N,) motion tokens of the whole motion (for prediction and in-betweening the given
            codes too), empty when there is none.
        generated: which codes of ``code_idx`` the model wrote (a slice).
        features: (T, D) raw features decoded from ``code_idx`` (cropped to the asked length), or None.
        joints: (T, J, 3) joint positions from ``features``, or None.
        flags: the parser's flags (see ``motiongpt_lite.lm.parse.FLAGS``); ``no_motion`` is normal for a caption.
    """

    prompt: str
    text: str
    code_idx: np.ndarray
    generated: slice
    features: np.ndarray | None
    joints: np.ndarray | None
    flags: tuple[str, ...]

    @property
    def has_motion(self) -> bool:
        """True when the result holds a motion."""
        return self.features is not None


def _as_clip(clip: Any, motion_dim: int, min_frames: int, where: str, max_frames: int | None = None) -> torch.Tensor:
    """One (T, D) clip as float32, checked (at most ``max_frames`` frames when given)."""
    if not isinstance(clip, (np.ndarray, torch.Tensor)):
        raise TypeError(f"{where} is a {type(clip).__name__}; pass a numpy array or torch tensor of shape (T, {motion_dim}).")
    if max_frames is not None and clip.ndim == 2 and clip.shape[0] > max_frames:  # before any copy is made
        raise ValueError(f"{where} has {clip.shape[0]} frames, more than this model takes ({max_frames} frames); "
                         f"pass a shorter clip, e.g. {where}[:{max_frames}].")
    clip = torch.as_tensor(np.asarray(clip.detach().cpu() if isinstance(clip, torch.Tensor) else clip,
                                      dtype=np.float32))
    if clip.ndim != 2 or clip.shape[1] != motion_dim:
        raise ValueError(f"{where} has shape {tuple(clip.shape)} but this model expects features (T, {motion_dim}); "
                         f"convert joints with motiongpt_lite.data.features.joints_to_features first.")
    if not torch.isfinite(clip).all():
        raise ValueError(f"{where} contains NaN or inf values; clean the clip or drop it.")
    if clip.shape[0] < min_frames:
        raise ValueError(f"{where} has {clip.shape[0]} frames, fewer than one motion token ({min_frames} frames); "
                         "pass a longer clip.")
    return clip


def _as_clips(motion: Any, motion_dim: int, min_frames: int, motion_len: Any = None,
              name: str = "motion", max_frames: int | None = None) -> tuple[list[torch.Tensor], bool]:
    """One clip (T, D), a list of clips, or a padded batch (B, T, D) with ``motion_len`` -> (clips, was it a batch)."""
    if isinstance(motion, (list, tuple)):
        if not motion:
            raise ValueError(f"{name} is an empty list; pass at least one clip (T, {motion_dim}).")
        return [_as_clip(c, motion_dim, min_frames, f"{name}[{b}]", max_frames) for b, c in enumerate(motion)], True
    ndim = getattr(motion, "ndim", None)
    if ndim == 3:
        lengths = [motion.shape[1]] * motion.shape[0] if motion_len is None else [int(n) for n in motion_len]
        if len(lengths) != motion.shape[0] or any(not 0 < n <= motion.shape[1] for n in lengths):
            raise ValueError(f"motion_len {lengths} does not fit a batch of shape {tuple(motion.shape)}; pass one "
                             "length per clip, each at most T.")
        return [_as_clip(motion[b, :n], motion_dim, min_frames, f"{name}[{b}]", max_frames)
                for b, n in enumerate(lengths)], True
    return [_as_clip(motion, motion_dim, min_frames, name, max_frames)], False


def _as_texts(text: Any, name: str = "text") -> tuple[list[str], bool]:
    """A string or a list of strings -> (texts, was it a batch)."""
    texts, batch = ([text], False) if isinstance(text, str) else (list(text), True) \
        if isinstance(text, (list, tuple)) else (None, False)
    if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise ValueError(f"{name} must be a non-empty string or a non-empty list of them, got {text!r}.")
    return texts, batch


def _per_item(value: Any, count: int, name: str) -> list:
    """One value for every item: a scalar is repeated, a sequence must have ``count`` entries."""
    values = list(value) if isinstance(value, (list, tuple, np.ndarray, torch.Tensor)) else [value] * count
    if len(values) != count:
        raise ValueError(f"{name} has {len(values)} entries for {count} inputs; pass one value or one per input.")
    return values


def _manifest(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder/lm`` and ``folder/vq``, by path relative to ``folder``."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for sub in ("lm", "vq") for p in sorted((folder / sub).rglob("*")) if p.is_file()}


def _verify_manifest(folder: Path, recorded: dict[str, str] | None) -> None:
    """Check the files of a saved model against the sha256 recorded at save (models saved before the manifest
    existed have none and are loaded as they are)."""
    if not recorded:
        return
    for name, expected in recorded.items():
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing from the saved model; restore it or save the model again.")
        if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
            raise ValueError(f"{path} differs from the file saved with this model (sha256 mismatch: damaged, or "
                             "replaced by another run's); restore it or save the model again.")


def _check_decoding(num_beams: Any, top_k: Any, temperature: Any, max_new_tokens: Any) -> None:
    """Decoding settings as generate needs them, refused before any work with the value named."""
    def whole(x: Any) -> bool:
        return isinstance(x, (int, np.integer)) and not isinstance(x, bool)

    if not whole(num_beams) or num_beams < 1:
        raise ValueError(f"num_beams={num_beams!r} must be a whole number of at least 1 (1: no beam search).")
    if not whole(top_k) or top_k < 0:
        raise ValueError(f"top_k={top_k!r} must be a whole number of at least 0 (0: no top-k filtering).")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.floating)) or \
            not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature={temperature!r} must be a positive number (1.0: the model's distribution).")
    if max_new_tokens is not None and (not whole(max_new_tokens) or max_new_tokens < 1):
        raise ValueError(f"max_new_tokens={max_new_tokens!r} must be a whole number of at least 1, or None.")


def _load_motion_tokenizer(folder: Path, device: str | torch.device) -> MotionTokenizer:
    """:meth:`MotionTokenizer.load`, with a damaged ``config.json`` named instead of a bare JSON or key error."""
    try:
        return MotionTokenizer.load(folder, device)
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"{folder / 'config.json'} is damaged ({type(error).__name__}: {error}); restore it, or "
                         "train the motion tokenizer again (`motiongpt-lite train-vq`).") from None


def _tokenizer_sha256(motion_tokenizer: MotionTokenizer) -> str:
    return weights_sha256(motion_tokenizer.vq, motion_tokenizer.normalizer.mean, motion_tokenizer.normalizer.std)


def _check_pair(lm: MotionLM, motion_tokenizer: MotionTokenizer, vq_where: Path | str = "this motion tokenizer",
                lm_where: Path | str = "the language model") -> None:
    """Refuse a motion tokenizer other than the one whose tokens the language model was trained on (recorded by
    pretraining as ``motion_tokenizer_sha256``; models without the record are not checked)."""
    recorded = getattr(lm, "motion_tokenizer_sha256", None)
    if recorded and recorded != _tokenizer_sha256(motion_tokenizer):
        raise ValueError(f"{vq_where} is not the motion tokenizer {lm_where} was trained with (another VQ-VAE run, or "
                         "other Mean/Std); load the pair that was trained together, or pretrain and tune again on "
                         "this tokenizer's tokens.")


class MotionGPT:
    """A motion tokenizer and an instruction-tuned motion-language model behind one set of task methods.

    Args:
        lm: the language model (merged vocabulary).
        motion_tokenizer: the VQ-VAE and its normalisation; its codebook must match ``lm.vocab.num_codes``.
        fps: frames per second of the motions (HumanML3D: 20).
        max_frames: longest motion generated, in frames (HumanML3D: 196).
        max_caption_tokens: most tokens generated for a caption.
        batch_size: prompts per ``generate`` call.
        max_source_len: most prompt tokens the model reads (eos included); longer typed text is cut, with a warning.
        max_input_frames: most frames of a motion input; default ``2 * max_frames``.
    """

    def __init__(self, lm: MotionLM, motion_tokenizer: MotionTokenizer, fps: float = 20.0, max_frames: int = 196,
                 max_caption_tokens: int = 40, batch_size: int = 16, max_source_len: int = DEFAULT_MAX_SOURCE_LEN,
                 max_input_frames: int | None = None) -> None:
        if motion_tokenizer.num_codes != lm.vocab.num_codes:
            raise ValueError(f"the motion tokenizer has {motion_tokenizer.num_codes} codes but the language model "
                             f"knows {lm.vocab.num_codes}; load the pair that was trained together.")
        self.lm, self.motion_tokenizer = lm, motion_tokenizer
        _check_pair(lm, motion_tokenizer)
        self.fps, self.max_frames, self.max_caption_tokens, self.batch_size = fps, max_frames, max_caption_tokens, batch_size
        self.max_source_len = int(max_source_len)
        self.max_input_frames = int(max_input_frames) if max_input_frames else 2 * max_frames

    # -- properties ------------------------------------------------------------------------------
    @property
    def frames_per_token(self) -> int:
        """Frames one motion token covers (4)."""
        return self.motion_tokenizer.down_rate

    @property
    def motion_dim(self) -> int:
        """D, features per frame (263 for HumanML3D)."""
        return self.motion_tokenizer.vq.motion_dim

    @property
    def max_codes(self) -> int:
        """Most motion tokens generated for one motion."""
        return num_tokens(self.max_frames, self.frames_per_token)

    def tokenizer_sha256(self) -> str:
        """Fingerprint of the motion tokenizer: its VQ-VAE weights and normalisation statistics."""
        return _tokenizer_sha256(self.motion_tokenizer)

    # -- saving and loading ----------------------------------------------------------------------
    def save_pretrained(self, folder: str | Path) -> Path:
        """Write ``lm/``, ``vq/`` and ``motiongpt.json`` into ``folder`` (all weights as safetensors); returns it.

        The model is written into a hidden folder beside ``folder`` and swapped in only when complete, so an
        interrupted save leaves the previous model whole (never a new ``lm/`` beside an old ``vq/``).

        Raises:
            ValueError: ``folder`` exists and holds anything but a saved model (it is not replaced).
        """
        folder = Path(folder)
        if folder.exists():
            others = sorted(p.name for p in folder.iterdir() if p.name not in (CONFIG_FILE, "lm", "vq")) \
                if folder.is_dir() else [folder.name]
            if others:
                raise ValueError(f"{folder} holds {', '.join(others[:3])}, which are not part of a saved model, so it "
                                 "is not replaced; save into a new folder or move those away.")
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = folder.parent / f".{folder.name}.saving-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            staging.mkdir()
            self.lm.save(staging / "lm")
            self.motion_tokenizer.save(staging / "vq")
            (staging / CONFIG_FILE).write_text(json.dumps(
                {"format": FORMAT, "fps": self.fps, "max_frames": self.max_frames,
                 "max_caption_tokens": self.max_caption_tokens, "frames_per_token": self.frames_per_token,
                 "max_source_len": self.max_source_len, "max_input_frames": self.max_input_frames,
                 "sha256": _manifest(staging)}, indent=2))
            if folder.exists():  # swap: the old model leaves only once the new one is complete
                old = staging.with_name(staging.name.replace(".saving-", ".old-"))
                folder.rename(old)
                staging.rename(folder)
                shutil.rmtree(old, ignore_errors=True)
            else:
                staging.rename(folder)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return folder

    @classmethod
    def from_pretrained(cls, folder: str | Path, device: str | torch.device = "cpu") -> "MotionGPT":
        """Load a model written by :meth:`save_pretrained`."""
        folder = Path(folder)
        if not (folder / CONFIG_FILE).exists():
            raise FileNotFoundError(f"{folder} holds no MotionGPT model ({CONFIG_FILE} missing); write one with "
                                    "MotionGPT.save_pretrained or load a preset's run with MotionGPT.from_preset.")
        try:
            info = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
            missing = [k for k in ("fps", "max_frames", "max_caption_tokens") if k not in info]  # what the loader reads
            if missing:
                raise KeyError(missing[0])
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{folder / CONFIG_FILE} is damaged ({type(error).__name__}: {error}); save the model "
                             "again with MotionGPT.save_pretrained.") from None
        _verify_manifest(folder, info.get("sha256"))
        lm, motion_tokenizer = MotionLM.load(folder / "lm", device), _load_motion_tokenizer(folder / "vq", device)
        _check_pair(lm, motion_tokenizer, folder / "vq", folder / "lm")
        return cls(lm, motion_tokenizer, fps=info["fps"],
                   max_frames=info["max_frames"], max_caption_tokens=info["max_caption_tokens"],
                   max_source_len=info.get("max_source_len", DEFAULT_MAX_SOURCE_LEN),
                   max_input_frames=info.get("max_input_frames"))

    @classmethod
    def from_preset(cls, preset: Preset | str | None = None, device: str | torch.device = "cpu") -> "MotionGPT":
        """The preset's trained run: ``checkpoints/<preset>/vq`` and the instruction-tuned model
        (``lm_instruct/model``; the pretrained one, ``lm_pretrain/model``, when tuning has not run)."""
        from motiongpt_lite.lm.instruct import lm_instruct_dir
        from motiongpt_lite.lm.pretrain import lm_pretrain_dir
        from motiongpt_lite.data.registry import preset_spec
        from motiongpt_lite.vq.train import vq_dir

        preset = preset if isinstance(preset, Preset) else get_preset(preset)
        candidates = [lm_instruct_dir(preset) / "model", lm_pretrain_dir(preset) / "model"]
        found = [c for c in candidates if c.is_dir()]
        if not found:
            raise FileNotFoundError(f"no trained language model for preset {preset.name} in {candidates[0]} or "
                                    f"{candidates[1]}; run `motiongpt-lite instruct --preset {preset.name}` first.")
        lm, motion_tokenizer = MotionLM.load(found[0], device), _load_motion_tokenizer(vq_dir(preset), device)
        _check_pair(lm, motion_tokenizer, vq_dir(preset), found[0])
        return cls(lm, motion_tokenizer, fps=preset_spec(preset).fps,
                   max_frames=preset.data.max_frames, max_caption_tokens=preset.lm.max_caption_tokens,
                   max_source_len=preset.instruct.max_source_len)

    # -- building blocks -------------------------------------------------------------------------
    def _check_length(self, length: Any, name: str = "length") -> int:
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or \
                not self.frames_per_token <= length <= self.max_frames:
            raise ValueError(f"{name}={length!r} must be a whole number of frames between {self.frames_per_token} "
                             f"(one token) and {self.max_frames}; pass frames, not seconds or tokens.")
        return int(length)

    def _clips(self, motion: Any, motion_len: Any = None, name: str = "motion") -> tuple[list[torch.Tensor], bool]:
        """Motion inputs, checked, each at most ``max_input_frames`` frames."""
        return _as_clips(motion, self.motion_dim, self.frames_per_token, motion_len, name, self.max_input_frames)

    def _num_source_tokens(self, prompt: str) -> int:
        return len(self.lm.tokenizer(prompt).input_ids)  # eos included

    def _fit(self, prompt: str, what: str = "the motion") -> str:
        """A prompt without typed text (motion words and a template): refused when it does not fit."""
        n = self._num_source_tokens(prompt)
        if n > self.max_source_len:
            raise ValueError(f"{what} makes a prompt of {n} tokens but the model reads at most {self.max_source_len}; "
                             f"pass clips shorter by at least {(n - self.max_source_len) * self.frames_per_token} frames "
                             f"({self.frames_per_token} frames per token).")
        return prompt

    def _bounded(self, text: str, build: Any, name: str) -> str:
        """``build(text)``, with the typed ``text`` cut from its end so that the prompt fits ``max_source_len``
        tokens (a warning says so); control tokens in ``text`` are refused first."""
        check_plain_text(text, self.lm.tokenizer, name)
        limit, original = self.max_source_len, len(text)
        cut = text[:CHARS_PER_TOKEN_CAP * limit]  # never tokenize megabytes
        prompt = build(cut)
        excess = self._num_source_tokens(prompt) - limit
        if excess > 0:
            ids = self.lm.tokenizer(cut, add_special_tokens=False).input_ids
            keep = len(ids) - excess
            while keep > 0:
                cut = self.lm.tokenizer.decode(ids[:keep]).strip()
                prompt = build(cut)
                if self._num_source_tokens(prompt) <= limit:
                    break
                keep -= 1
            if keep <= 0:
                raise ValueError(f"{name} leaves no room in the prompt: the rest of it fills the model's {limit} "
                                 "source tokens; pass a shorter motion.")
        if len(cut) < original:
            warnings.warn(f"{name} was cut from {original} to {len(cut)} characters so that the prompt fits the "
                          f"model's {limit} source tokens; shorten it to keep all of it.", stacklevel=3)
        return prompt

    def _phrasing(self, template: str | None, allowed: set[str], family: str) -> str | None:
        """A caller's instruction phrasing, checked before any work: plain text naming only ``allowed`` placeholders."""
        if template is None:
            return None
        example = templates(family)[0]
        needed = "caption" if "caption" in allowed else "motion"
        try:
            names = placeholders(template) if isinstance(template, str) else set()
        except ValueError:  # an unmatched brace
            names = set()
        if needed not in names:
            raise ValueError(f"template={template!r} must be a string holding {{{needed}}}, e.g. {example!r}.")
        unknown = names - allowed
        if unknown:
            raise ValueError(f"template={template!r} names {{{sorted(unknown)[0]}}}, which this task cannot fill; use "
                             f"only {', '.join('{' + a + '}' for a in sorted(allowed))}, e.g. {example!r}.")
        check_plain_text(template, self.lm.tokenizer, "template")
        return template

    def _codes(self, clip: torch.Tensor) -> list[int]:
        """(T, D) raw features -> the clip's code_idx."""
        return [int(c) for c in self.motion_tokenizer.encode(clip)]

    def _generate(self, prompts: list[str], mode: str, min_codes: list[int] | None = None,
                  max_codes: list[int] | None = None, max_new_tokens: int | None = None, do_sample: bool = False,
                  num_beams: int = 1, top_k: int = 0, temperature: float = 1.0,
                  seed: int | None = None) -> list[ParsedOutput]:
        """Generate and parse, prompt by prompt in batches.

        Args:
            prompts: B prompts.
            mode: "motion" (exactly one motion span), "text" (no motion words) or "free" (codes only inside spans).
            min_codes, max_codes: per prompt, fewest / most codes of the motion ("motion" and "free").
            max_new_tokens: most tokens generated; default what the mode needs.
            do_sample, num_beams, top_k, temperature, seed: decoding strategy (greedy by default).
        Returns:
            B parsed outputs.
        """
        _check_decoding(num_beams, top_k, temperature, max_new_tokens)
        min_codes = min_codes or [1] * len(prompts)
        max_codes = max_codes or [self.max_codes] * len(prompts)
        if seed is not None:
            torch.manual_seed(seed)  # once: the batches below draw one stream
        parsed = []
        for start in range(0, len(prompts), self.batch_size):
            chunk = slice(start, start + self.batch_size)
            lo, hi = min(min_codes[chunk]), max(max_codes[chunk])  # one processor per call: group equal lengths
            needed = {"text": self.max_caption_tokens, "motion": hi + 3, "free": hi + 3 + self.max_caption_tokens}[mode]
            rows = self.lm.generate(prompts[chunk], max_new_tokens or needed, mode, min_codes=lo, max_codes=hi,
                                    do_sample=do_sample, num_beams=num_beams, top_k=top_k, temperature=temperature)
            parsed += [parse_ids(row, self.lm.vocab, self.lm.tokenizer) for row in rows]
        return parsed

    def _run_motion(self, prompts: list[str], lengths: list[int | None], decoding: dict) -> list[ParsedOutput]:
        """Generate motions; prompts with a length get exactly that many tokens (grouped so each call shares one)."""
        wanted = [num_tokens(n, self.frames_per_token) if n else None for n in lengths]
        parsed: list[ParsedOutput | None] = [None] * len(prompts)
        for n in dict.fromkeys(wanted):
            rows = [i for i, w in enumerate(wanted) if w == n]
            lo, hi = (n, n) if n else (1, self.max_codes)
            outs = self._generate([prompts[i] for i in rows], "motion", [lo] * len(rows), [hi] * len(rows), **decoding)
            for i, out in zip(rows, outs):
                parsed[i] = out
        return parsed

    def _result(self, prompt: str, parsed: ParsedOutput, before: list[int] = (), after: list[int] = (),
                frames: int | None = None) -> MotionResult:
        """Assemble a result: the generated codes between the given ones, decoded and cropped to ``frames``."""
        codes = [*before, *parsed.code_idx, *after]
        generated = slice(len(before), len(before) + len(parsed.code_idx))
        features = joints = None
        if parsed.code_idx:
            features = self.motion_tokenizer.decode(torch.tensor(codes)).numpy()  # (N * r, D)
            features = features[:frames] if frames else features
            joints = features_to_joints(features)  # (T, J, 3)
        return MotionResult(prompt, parsed.text, np.array(codes, dtype=np.int64), generated, features,
                            None if joints is None else np.asarray(joints), parsed.flags)

    @staticmethod
    def _shape(results: list, batch: bool) -> Any:
        return results if batch else results[0]

    # -- tasks -------------------------------------------------------------------------------------
    def text_to_motion(self, text: str | Sequence[str], length: int | Sequence[int] | None = None,
                       num_samples: int = 1, template: str | None = None, **decoding) -> MotionResult | list:
        """Motions from captions.

        Args:
            text: a caption, or a list of them.
            length: frames of the motion (one value, or one per caption); None lets the model decide
                (up to ``max_frames``). The motion gets ``ceil(length / 4)`` tokens and is cropped to ``length``.
            num_samples: motions per caption (each a different sample unless ``do_sample=False``).
            template: the instruction's phrasing, holding ``{caption}`` (and ``{frames}`` or ``{seconds}`` when
                every caption has a length), e.g. a held-out one (``templates("text_to_motion", "held_out")``);
                default the first training phrasing of ``text_to_motion`` (``text_to_motion_length`` with a length).
            decoding: ``do_sample``, ``num_beams``, ``top_k``, ``temperature``, ``seed``; when neither
                ``do_sample`` nor ``num_beams`` is given, ``TEXT_TO_MOTION_DECODING`` fills what is missing.
        Returns:
            one MotionResult for one caption and one sample; a list over samples or over captions;
            a list (captions) of lists (samples) when both are many.
        """
        texts, batch = _as_texts(text)
        lengths = [None if n is None else self._check_length(n) for n in _per_item(length, len(texts), "length")]
        if not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"num_samples={num_samples!r} must be a positive whole number.")
        every_length = all(n is not None for n in lengths)
        phrasing = self._phrasing(template, {"caption", "frames", "seconds"} if every_length else {"caption"},
                                  "text_to_motion_length" if every_length else "text_to_motion")
        if "do_sample" not in decoding and "num_beams" not in decoding:
            decoding = {**TEXT_TO_MOTION_DECODING, **decoding}
        if num_samples > 1:
            decoding.setdefault("do_sample", True)  # several beam searches would give one motion several times

        def prompt(caption: str, n: int | None) -> str:
            if phrasing:
                return fill(phrasing, self.fps, caption=caption, **({"frames": n} if n else {}))
            if n:
                return fill(templates("text_to_motion_length")[0], self.fps, caption=caption, frames=n)
            return fill(templates("text_to_motion")[0], caption=caption)

        prompts = [self._bounded(t, lambda c, n=n: prompt(c, n), "text" if not batch else f"text[{i}]")
                   for i, (t, n) in enumerate(zip(texts, lengths))]
        repeated = [i for i in range(len(texts)) for _ in range(num_samples)]
        parsed = self._run_motion([prompts[i] for i in repeated], [lengths[i] for i in repeated], decoding)
        results = [self._result(prompts[i], p, frames=lengths[i]) for i, p in zip(repeated, parsed)]
        grouped = [results[i * num_samples:(i + 1) * num_samples] for i in range(len(texts))]
        grouped = [g if num_samples > 1 else g[0] for g in grouped]
        return self._shape(grouped, batch)

    def motion_to_text(self, motion: Any, motion_len: Any = None, template: str | None = None,
                       **decoding) -> MotionResult | list[MotionResult]:
        """Captions of motions.

        Args:
            motion: raw features (T, D), a list of clips, or a padded batch (B, T, D).
            motion_len: (B,) valid frames of a padded batch.
            template: the instruction's phrasing, holding ``{motion}``; default the first training phrasing of
                ``motion_to_text``.
            decoding: ``do_sample``, ``num_beams``, ``top_k``, ``temperature``, ``seed``, ``max_new_tokens``.
        Returns:
            a MotionResult per clip: ``text`` is the caption, ``code_idx`` the clip's tokens,
            ``features`` / ``joints`` the clip as the tokenizer reconstructs it.
        """
        phrasing = self._phrasing(template, {"motion"}, "motion_to_text") or templates("motion_to_text")[0]
        clips, batch = self._clips(motion, motion_len)
        codes = [self._codes(c) for c in clips]
        prompts = [self._fit(fill(phrasing, motion=self.lm.vocab.codes_to_text(c))) for c in codes]
        parsed = self._generate(prompts, "text", **decoding)
        results = [self._result(p, ParsedOutput(c, out.text, out.flags), frames=len(clip))
                   for p, c, out, clip in zip(prompts, codes, parsed, clips)]
        return self._shape([MotionResult(r.prompt, r.text, r.code_idx, slice(0, 0), r.features, r.joints, r.flags)
                            for r in results], batch)

    def predict(self, motion: Any, length: int | Sequence[int] | None = None, motion_len: Any = None,
                **decoding) -> MotionResult | list[MotionResult]:
        """Continue motions.

        Args:
            motion: the beginning(s): raw features (T, D), a list of clips, or a padded batch (B, T, D).
            length: frames to add (one value or one per clip); None lets the model decide (the whole
                motion stays within ``max_frames``).
            motion_len: (B,) valid frames of a padded batch.
            decoding: ``do_sample``, ``num_beams``, ``top_k``, ``temperature``, ``seed``.
        Returns:
            a MotionResult per clip with the whole motion: given tokens, then ``code_idx[generated]``.
        """
        clips, batch = self._clips(motion, motion_len)
        lengths = [None if n is None else self._check_length(n) for n in _per_item(length, len(clips), "length")]
        codes = [self._codes(c) for c in clips]
        prompts = [self._fit(fill(templates("predict")[0], motion=self.lm.vocab.codes_to_text(c))) for c in codes]
        results = []
        for i, (prompt, given, n) in enumerate(zip(prompts, codes, lengths)):
            room = max(1, self.max_codes - len(given))
            wanted = (num_tokens(n, self.frames_per_token),) * 2 if n else (1, room)
            parsed = self._generate([prompt], "motion", [wanted[0]], [wanted[1]], **decoding)[0]
            frames = len(given) * self.frames_per_token + n if n else None
            results.append(self._result(prompt, parsed, before=given, frames=frames))
        return self._shape(results, batch)

    def inbetween(self, start: Any, end: Any, length: int | Sequence[int], **decoding) -> MotionResult | list[MotionResult]:
        """Fill the gap between a start and an end.

        Args:
            start, end: raw features (T, D) each, or lists of clips (one end per start).
            length: frames of the missing middle (one value or one per pair).
            decoding: ``do_sample``, ``num_beams``, ``top_k``, ``temperature``, ``seed``.
        Returns:
            a MotionResult per pair with the whole motion: start tokens, ``code_idx[generated]``, end tokens.
        """
        starts, batch = self._clips(start, name="start")
        ends, _ = self._clips(end, name="end")
        if len(starts) != len(ends):
            raise ValueError(f"{len(starts)} starts but {len(ends)} ends; pass one end per start.")
        lengths = [self._check_length(n) for n in _per_item(length, len(starts), "length")]
        results = []
        for first, last, n in zip(starts, ends, lengths):
            before, after, masked = self._codes(first), self._codes(last), num_tokens(n, self.frames_per_token)
            prompt = self._fit(fill(templates("inbetween")[0], motion=self.lm.vocab.masked_to_text(before, masked, after)),
                               "the start, the masked middle and the end")
            parsed = self._generate([prompt], "motion", [masked], [masked], **decoding)[0]
            results.append(self._result(prompt, parsed, before=before, after=after))
        return self._shape(results, batch)

    def chat(self, prompt: str | Sequence[str], motion: Any = None, **decoding) -> MotionResult | list[MotionResult]:
        """Answer free instructions; a motion, when given, is written where the prompt says ``{motion}``
        (or after the prompt). Codes may appear only inside a motion span; the answer may hold text, a motion or both.

        Args:
            prompt: an instruction, or a list of them.
            motion: None, or raw features (T, D) / a list of clips, one per prompt.
            decoding: ``do_sample``, ``num_beams``, ``top_k``, ``temperature``, ``seed``, ``max_new_tokens``.
        Returns:
            a MotionResult per prompt (``features`` is None when the answer holds no motion).
        """
        prompts, batch = _as_texts(prompt, "prompt")
        names = [f"prompt[{i}]" if batch else "prompt" for i in range(len(prompts))]
        if motion is not None:
            clips, _ = self._clips(motion)
            if len(clips) != len(prompts):
                raise ValueError(f"{len(prompts)} prompts but {len(clips)} motions; pass one motion per prompt.")
            words = [self.lm.vocab.codes_to_text(self._codes(c)) for c in clips]
            prompts = [self._bounded(p, lambda t, w=w: t.replace("{motion}", w) if "{motion}" in t else f"{t} {w}", name)
                       for p, w, name in zip(prompts, words, names)]
        elif any("{motion}" in p for p in prompts):
            raise ValueError("the prompt names {motion} but no motion was given; pass motion=... or drop the placeholder.")
        else:
            prompts = [self._bounded(p, lambda t: t, name) for p, name in zip(prompts, names)]
        parsed = self._generate(prompts, "free", **decoding)
        return self._shape([self._result(p, out) for p, out in zip(prompts, parsed)], batch)
