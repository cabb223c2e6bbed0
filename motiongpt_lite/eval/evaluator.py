"""Text-motion evaluators: the embedding spaces the protocol's metrics are measured in (notebook 07).

FID, R-precision, MM-Dist, Diversity and MultiModality (:mod:`motiongpt_lite.eval.motion_metrics`)
are distances between *embeddings*; an evaluator supplies them. Two kinds share one interface
(:class:`Evaluator`: ``embed_texts``, ``embed_motions``, ``name``), so one metric path serves both:

- **ours** (:class:`RetrievalEvaluator`): a text encoder (words of the caption -> embedding ->
  bi-GRU) and a motion encoder (normalised features -> two stride-2 convolutions -> bi-GRU), shaped
  like Guo et al.'s, trained here on the dataset's train split with a symmetric InfoNCE loss
  (:func:`train_evaluator`). It needs no download, works on every dataset (the embedded one
  included) and its numbers compare models *with each other*, never with the paper's table.
- **t2m** (:class:`~motiongpt_lite.eval.t2m.T2MEvaluator`): the official evaluator of Guo et al.
  (2022) that MotionGPT reports with, loaded from ``bash data_download.sh t2m-evaluators``. Only
  its numbers, on HumanML3D, are comparable with the paper.

:func:`evaluator_for` picks one for a preset (``preset.eval.evaluator``).

InfoNCE with temperature :math:`\\tau` over a batch of B pairs, text and motion embeddings
:math:`t_i, m_j` on the unit sphere, :math:`s_{ij} = t_i \\cdot m_j / \\tau`:

.. math:: L = \\tfrac12 \\big( \\mathrm{CE}(s, y) + \\mathrm{CE}(s^\\top, y^\\top) \\big)

where the target :math:`y_{ij}` spreads evenly over the motions whose caption is the same text as
caption i (identical captions in one batch are not negatives of each other).
"""
from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

from motiongpt_lite.config import EvalConfig, Preset, get_preset, run_dir
from motiongpt_lite.data.dataset import (MotionSplit, MotionTextDataset, collate_motion_text, dataset_fingerprint,
                                         load_split)
from motiongpt_lite.data.registry import dataset_dir, preset_spec, spec_of
from motiongpt_lite.eval.base import UNIT_LENGTH, Evaluator, caption_words, check_motions, check_texts, one_cpu_thread
from motiongpt_lite.eval.motion_metrics import fid, matching_metrics
from motiongpt_lite.eval.t2m import TRUST_ENV, T2MEvaluator, UnverifiedFilesError, official_files_present
from motiongpt_lite.runtime import follow_umask, seed_everything

__all__ = ["RetrievalEvaluator", "build_vocabulary", "info_nce", "evaluator_step", "evaluator_dir", "train_evaluator", "evaluator_for",
           "ground_truth_pairs", "ground_truth_metrics"]

PAD, UNK = "<pad>", "<unk>"  # vocabulary ids 0 and 1
WORD_DROPOUT = 0.1  # share of caption words replaced by <unk> while training (robustness to unknown words)
FORMAT = "motiongpt_lite-evaluator-1"


# -- text ---------------------------------------------------------------------------------------
def build_vocabulary(captions: Sequence[str], min_count: int = 1) -> list[str]:
    """Word list for :class:`RetrievalEvaluator`: ``<pad>``, ``<unk>``, then words by falling frequency.

    Args:
        captions: the training captions.
        min_count: words seen fewer times become ``<unk>``.
    Returns:
        the vocabulary; a word's id is its position.
    """
    counts = Counter(word for caption in captions for word in caption_words(caption))
    return [PAD, UNK] + sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))


# -- our evaluator ------------------------------------------------------------------------------
def _head(width: int, embed_dim: int) -> nn.Sequential:
    """(B, 2 * width) bi-GRU state -> (B, embed_dim), the T2M evaluator's output net."""
    return nn.Sequential(nn.Linear(2 * width, width), nn.LayerNorm(width), nn.LeakyReLU(0.2),
                         nn.Linear(width, embed_dim))


class RetrievalEvaluator(nn.Module, Evaluator):
    """Our evaluator: a caption encoder and a motion encoder trained contrastively into one space.

    Text: word ids -> embedding (width) -> bi-GRU (width per direction) -> last states -> head -> E.
    Motion: normalised (T, D) -> Conv1d(D, width, 4, 2, 1) -> LeakyReLU -> Conv1d(width, width, 4, 2, 1)
    -> LeakyReLU -> bi-GRU over T // 4 steps -> last states -> head -> E. Both embeddings are
    L2-normalised, so Euclidean distances lie in [0, 2].

    Args:
        vocabulary: words, ``<pad>`` and ``<unk>`` first (:func:`build_vocabulary`).
        mean, std: (D,) the dataset's normalisation (``Mean.npy`` / ``Std.npy``).
        embed_dim: E.
        width: hidden size of both encoders.
        dataset: "humanml3d", "kit" or "embedded" (recorded, so users can see what it was trained on).
    """

    name = "ours"

    def __init__(self, vocabulary: Sequence[str], mean: np.ndarray, std: np.ndarray, embed_dim: int = 512,
                 width: int = 512, dataset: str = "humanml3d"):
        super().__init__()
        if list(vocabulary[:2]) != [PAD, UNK]:
            raise ValueError(f"the vocabulary must start with {PAD!r}, {UNK!r}; build it with build_vocabulary.")
        self.vocabulary = list(vocabulary)
        self.word_ids = {word: i for i, word in enumerate(self.vocabulary)}
        self.embed_dim, self.width, self.dataset = embed_dim, width, dataset
        self.motion_dim = int(np.shape(mean)[0])
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean, dtype=np.float32)), persistent=False)
        self.register_buffer("std", torch.as_tensor(np.asarray(std, dtype=np.float32)), persistent=False)
        self.word_emb = nn.Embedding(len(self.vocabulary), width, padding_idx=0)
        self.text_gru = nn.GRU(width, width, batch_first=True, bidirectional=True)
        self.text_head = _head(width, embed_dim)
        self.motion_conv = nn.Sequential(nn.Conv1d(self.motion_dim, width, 4, 2, 1), nn.LeakyReLU(0.2),
                                         nn.Conv1d(width, width, 4, 2, 1), nn.LeakyReLU(0.2))
        self.motion_gru = nn.GRU(width, width, batch_first=True, bidirectional=True)
        self.motion_head = _head(width, embed_dim)
        self.history: list[dict[str, float]] = []  # training losses, filled by train_evaluator

    def tokenize(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Captions -> (B, L) word ids padded with 0 and (B,) lengths; unknown words get ``<unk>``."""
        ids = [[self.word_ids.get(w, 1) for w in caption_words(t)] for t in check_texts(texts)]
        text_len = torch.tensor([len(row) for row in ids])  # (B,)
        padded = torch.zeros(len(ids), int(text_len.max()), dtype=torch.long)  # (B, L)
        for row, words in enumerate(ids):
            padded[row, :len(words)] = torch.tensor(words)
        return padded.to(self.mean.device), text_len

    def encode_text(self, text_ids: torch.Tensor, text_len: torch.Tensor) -> torch.Tensor:
        """(B, L) word ids, (B,) lengths -> (B, E) unit-length text embeddings."""
        if self.training and WORD_DROPOUT > 0:
            drop = (torch.rand(text_ids.shape, device=text_ids.device) < WORD_DROPOUT) & (text_ids > 0)
            text_ids = text_ids.masked_fill(drop, 1)
        words = self.word_emb(text_ids)  # (B, L, width)
        packed = pack_padded_sequence(words, text_len.cpu(), batch_first=True, enforce_sorted=False)
        _, last = self.text_gru(packed)  # (2, B, width)
        return F.normalize(self.text_head(torch.cat([last[0], last[1]], dim=-1)), dim=-1)  # (B, E)

    def encode_motion(self, motion: torch.Tensor, motion_len: torch.Tensor) -> torch.Tensor:
        """(B, T, D) normalised motion zero-padded after each motion_len, (B,) lengths -> (B, E) unit-length
        motion embeddings. The GRU runs over ``motion_len // 4`` steps."""
        motion = F.pad(motion, (0, 0, 0, UNIT_LENGTH))  # (B, T + 4, D) zeros after the longest one too
        steps = self.motion_conv(motion.transpose(1, 2)).transpose(1, 2)  # (B, (T + 4) // 4, width)
        packed = pack_padded_sequence(steps, (motion_len // UNIT_LENGTH).cpu(), batch_first=True, enforce_sorted=False)
        _, last = self.motion_gru(packed)  # (2, B, width)
        return F.normalize(self.motion_head(torch.cat([last[0], last[1]], dim=-1)), dim=-1)  # (B, E)

    def forward(self, text_ids: torch.Tensor, text_len: torch.Tensor, motion: torch.Tensor,
                motion_len: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Both embeddings of a batch of pairs: ((B, E) text, (B, E) motion)."""
        return self.encode_text(text_ids, text_len), self.encode_motion(motion, motion_len)

    @torch.no_grad()
    def embed_texts(self, texts: Sequence[str], tokens: Sequence[Sequence[str]] | None = None,
                    batch_size: int = 256) -> np.ndarray:
        """(N, E) embeddings of N captions (``tokens`` is ignored: we read the words of the text, so ground-truth
        and generated captions are treated alike). Raises ValueError for a caption without words."""
        texts = check_texts(texts)
        self.eval()
        with one_cpu_thread(self.mean.device):
            chunks = [self.encode_text(*self.tokenize(texts[i:i + batch_size]))
                      for i in range(0, len(texts), batch_size)]
        return torch.cat(chunks).cpu().numpy()  # (N, E)

    @torch.no_grad()
    def embed_motions(self, motions: Sequence[np.ndarray], batch_size: int = 256) -> np.ndarray:
        """(N, E) embeddings of N raw (T_i, D) motions, normalised here with the dataset's Mean/Std."""
        motions = check_motions(motions, self.motion_dim)
        self.eval()
        chunks = []
        with one_cpu_thread(self.mean.device):
            for i in range(0, len(motions), batch_size):
                batch = [(torch.from_numpy(m).to(self.mean.device) - self.mean) / self.std
                         for m in motions[i:i + batch_size]]
                motion_len = torch.tensor([len(m) for m in batch])  # (B,)
                motion = pad_sequence(batch, batch_first=True)  # (B, T_max, D) zeros after each motion
                chunks.append(self.encode_motion(motion, motion_len))  # (B, E)
        return torch.cat(chunks).cpu().numpy()  # (N, E)

    def config(self) -> dict[str, Any]:
        """What :meth:`load` needs besides the weights."""
        return {"format": FORMAT, "name": self.name, "embed_dim": self.embed_dim, "width": self.width,
                "motion_dim": self.motion_dim, "dataset": self.dataset, "vocabulary": self.vocabulary,
                "mean": self.mean.cpu().tolist(), "std": self.std.cpu().tolist()}

    def save(self, folder: str | Path, training: dict[str, Any] | None = None) -> Path:
        """Write ``model.safetensors`` (weights) and ``evaluator.json`` (vocabulary, normalisation, sizes and
        ``training``: run config, steps done, loss history), each atomically.

        Returns:
            the folder.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        weights = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        save_file(weights, str(folder / "model.safetensors.tmp"))
        follow_umask(folder / "model.safetensors.tmp")  # safetensors writes 0600
        os.replace(folder / "model.safetensors.tmp", folder / "model.safetensors")
        info = {**self.config(), "training": training or {}}
        (folder / "evaluator.json.tmp").write_text(json.dumps(info), encoding="utf-8")
        os.replace(folder / "evaluator.json.tmp", folder / "evaluator.json")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "RetrievalEvaluator":
        """An evaluator written by :meth:`save` (eval mode, CPU); its ``history`` holds the training losses."""
        folder = Path(folder)
        missing = [n for n in ("evaluator.json", "model.safetensors") if not (folder / n).exists()]
        if missing:
            raise FileNotFoundError(f"{folder} holds no trained evaluator ({', '.join(missing)} missing); "
                                    "train one with motiongpt_lite.eval.evaluator.train_evaluator(preset).")
        info = json.loads((folder / "evaluator.json").read_text(encoding="utf-8"))
        if info.get("format") != FORMAT:
            raise ValueError(f"{folder / 'evaluator.json'} is not a motiongpt_lite evaluator; "
                             "retrain it with train_evaluator.")
        model = cls(info["vocabulary"], np.array(info["mean"], np.float32), np.array(info["std"], np.float32),
                    info["embed_dim"], info["width"], info["dataset"])
        model.load_state_dict(load_file(str(folder / "model.safetensors")))
        model.history = info["training"].get("history", [])
        return model.eval()


# -- training -----------------------------------------------------------------------------------
def info_nce(text_emb: torch.Tensor, motion_emb: torch.Tensor, temperature: float,
             captions: Sequence[str] | None = None) -> torch.Tensor:
    """Symmetric InfoNCE of B matched pairs (row i of each belongs together).

    Args:
        text_emb, motion_emb: (B, E) unit-length embeddings.
        temperature: tau; similarities are divided by it.
        captions: the B captions; pairs with the same caption text count as positives of each other.
    Returns:
        the scalar loss (log B for embeddings that carry no information).
    """
    logits = text_emb @ motion_emb.T / temperature  # (B, B)
    same = torch.eye(len(logits), device=logits.device)
    if captions is not None:
        keys = [" ".join(caption_words(c)) for c in captions]
        same = torch.tensor([[float(a == b) for b in keys] for a in keys], device=logits.device)  # (B, B)
    target = same / same.sum(dim=1, keepdim=True)  # (B, B) rows sum to 1 (same is symmetric)
    text_to_motion = -(target * F.log_softmax(logits, dim=1)).sum(1).mean()
    motion_to_text = -(target * F.log_softmax(logits.T, dim=1)).sum(1).mean()
    return (text_to_motion + motion_to_text) / 2


def evaluator_step(model: nn.Module, batch: dict, temperature: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """One training step's loss on a ``collate_motion_text`` batch, and the batch's text-to-motion top-1 accuracy."""
    bare = getattr(model, "module", model)
    text_ids, text_len = bare.tokenize(batch["caption"])
    text_emb, motion_emb = model(text_ids, text_len, batch["motion"], batch["motion_len"])  # (B, E) each
    loss = info_nce(text_emb, motion_emb, temperature, batch["caption"])
    accuracy = ((text_emb @ motion_emb.T).argmax(1) == torch.arange(len(text_emb), device=text_emb.device)).float().mean()
    return loss, {"top1": accuracy.detach()}


def evaluator_dir(preset: Preset) -> Path:
    """The preset's evaluator folder: ``<checkpoint root>/<preset>/evaluator``."""
    return run_dir(preset) / "evaluator"


def _run_config(cfg: EvalConfig, preset: Preset, data_dir: Path) -> dict[str, Any]:
    """The settings a trained evaluator depends on (changing any of them retrains it). The schedule's knobs are
    recorded where they leave the recipe evaluators trained with before it was configurable (warm-up of a tenth of
    the steps up to 100, cosine to 0.1, clipping at 1, no weight decay, float32), so those runs stay valid."""
    train = cfg.train
    former = replace(train, warmup_steps=min(100, train.steps // 10), decay="cosine", min_lr_ratio=0.1, grad_clip=1.0,
                     weight_decay=0.0, mixed_precision="no")
    knobs = {"embed_dim": cfg.embed_dim, "hidden": cfg.hidden, "temperature": cfg.temperature, "steps": train.steps,
             "batch_size": train.batch_size, "lr": train.lr,
             **{k: v for k, v in asdict(train).items() if v != getattr(former, k)}}
    return {"eval": knobs, "seed": preset.seed, "data": dataset_fingerprint(data_dir), "max_frames": preset.data.max_frames,
            "min_frames": preset.data.min_frames}


def train_evaluator(preset: Preset | str | None = None, data_dir: str | Path | None = None,
                    out_dir: str | Path | None = None, resume: bool = True, progress: bool = True, *,
                    cfg: EvalConfig | None = None, stop_after: int | None = None) -> RetrievalEvaluator:
    """Train (or resume, or just load) our evaluator on the preset's train split.

    Pairs are a caption and a crop of its motion, drawn as the T2M loader draws them
    (:class:`~motiongpt_lite.data.dataset.MotionTextDataset`); the loss is :func:`info_nce`; the loop is
    :func:`motiongpt_lite.training.fit` (accelerate, AdamW, warm-up and cosine decay, clipping,
    atomic checkpoints, exact resume). When the folder already holds a finished run with the same
    settings, it is loaded and returned at once, without reading the dataset.

    Args:
        preset: a Preset or its name; default ``MOTIONGPT_LITE_PRESET``. Knobs: ``preset.eval``.
        data_dir: dataset folder; default the preset's (:func:`motiongpt_lite.data.registry.dataset_dir`).
        out_dir: run folder; default ``checkpoints/<preset>/evaluator``.
        resume: continue from (or reuse) the folder's run; False starts over.
        progress: show a progress bar.
        cfg: replaces ``preset.eval``.
        stop_after: stop after this many steps (with a checkpoint), as if interrupted.
    Returns:
        the trained evaluator (eval mode, CPU), its ``history`` the logged losses.
    Raises:
        ValueError: a checkpoint in the folder from other settings (pass resume=False or another out_dir).
    """
    from motiongpt_lite.training import fit, make_accelerator  # the loop (and accelerate) only when training

    preset = preset if isinstance(preset, Preset) else get_preset(preset)
    cfg = cfg or preset.eval
    data_dir = Path(data_dir) if data_dir else dataset_dir(preset)
    folder = Path(out_dir) if out_dir else evaluator_dir(preset)
    run = _run_config(cfg, preset, data_dir)
    info_path = folder / "evaluator.json"
    if resume and info_path.exists():
        training = json.loads(info_path.read_text(encoding="utf-8")).get("training", {})
        if training.get("config") == run and training.get("step") == cfg.train.steps:
            return RetrievalEvaluator.load(folder)
    spec = spec_of(data_dir)
    split = load_split(data_dir, "train", dataset=spec, min_frames=preset.data.min_frames)
    if not (np.isfinite(split.normalizer.mean).all() and np.isfinite(split.normalizer.std).all()):
        raise ValueError(f"{data_dir}/Mean.npy or Std.npy contains NaN or inf; rebuild the dataset's statistics "
                         "(motiongpt_lite.data.normalization.compute_mean_std over its finite clips).")
    seed_everything(preset.seed)
    model = RetrievalEvaluator(build_vocabulary([c.text for clip in split.clips for c in clip.captions]),
                               split.normalizer.mean, split.normalizer.std, cfg.embed_dim, cfg.hidden,
                               spec.name)
    pairs = MotionTextDataset(split, unit_length=UNIT_LENGTH, max_frames=preset.data.max_frames, seed=preset.seed)
    accelerator = make_accelerator(cfg.train.mixed_precision, preset.device)
    with one_cpu_thread(accelerator.device):
        train = replace(cfg.train, batch_size=min(cfg.train.batch_size, len(pairs)))  # a tiny split: one batch
        history = fit(model, pairs, lambda m, batch: evaluator_step(m, batch, cfg.temperature), train, seed=preset.seed,
                      checkpoint_path=folder / "checkpoint.safetensors", resume=resume, stop_after=stop_after,
                      extra={"config": run}, collate_fn=collate_motion_text, accelerator=accelerator,
                      progress=progress, desc=f"evaluator {preset.name}")
    model = accelerator.unwrap_model(model).cpu().eval()
    model.history = history
    if accelerator.is_main_process:
        done = cfg.train.steps if stop_after is None else min(cfg.train.steps, stop_after)
        model.save(folder, {"config": run, "step": done, "history": history})
    return model


# -- choosing one, and measuring it ---------------------------------------------------------------
def evaluator_for(preset: Preset | str | None = None, progress: bool = True) -> Evaluator:
    """The evaluator a preset asks for (``preset.eval.evaluator``).

    "t2m": the official one (an error tells how to download it when missing, or how to opt in to files
    without a recorded sha256); "ours": ours, trained now if it is not yet; "auto": the official one when
    the preset's dataset is HumanML3D and the files of ``bash data_download.sh t2m-evaluators`` are present
    and verified (or trusted with ``MOTIONGPT_LITE_TRUST_T2M=1``), else ours (saying why).
    """
    preset = preset if isinstance(preset, Preset) else get_preset(preset)
    choice = preset.eval.evaluator
    if choice not in ("auto", "ours", "t2m"):
        raise ValueError(f"preset.eval.evaluator is {choice!r}; choose 'auto', 'ours' or 't2m'.")
    data_dir = dataset_dir(preset)
    if choice == "t2m":
        return T2MEvaluator.load(dataset=spec_of(data_dir).skeleton.name, captions_dir=data_dir / "texts")
    if choice == "auto" and preset_spec(preset).name == "humanml3d":
        if official_files_present("humanml3d"):
            try:
                return T2MEvaluator.load(dataset="humanml3d", captions_dir=data_dir / "texts")
            except UnverifiedFilesError:
                print(f"[eval] the official T2M evaluator's files have no recorded sha256, so 'auto' does not load "
                      f"them; set {TRUST_ENV}=1 if you trust your download. Using our own evaluator, whose "
                      "numbers are not comparable with the paper's.")
                return train_evaluator(preset, data_dir=data_dir, progress=progress)
        print("[eval] the official T2M evaluator is not downloaded (`bash data_download.sh t2m-evaluators`); "
              "using our own evaluator, whose numbers are not comparable with the paper's.")
    return train_evaluator(preset, data_dir=data_dir, progress=progress)


def ground_truth_pairs(split: MotionSplit, seed: int = 0, max_frames: int = 196
                       ) -> tuple[list[str], list[list[str]], list[np.ndarray]]:
    """One (caption, tokens, motion) per clip, as the T2M protocol draws real pairs: a random caption and
    a random crop of ``T // 4 * 4`` frames (at most ``max_frames``) of the raw motion.

    Returns:
        captions (N,), their ``word/POS`` tokens, raw motions (T_i, D).
    """
    rng = np.random.default_rng(seed)
    captions, tokens, motions = [], [], []
    for clip in split.clips:
        caption = clip.captions[rng.integers(len(clip.captions))]
        length = min(len(clip.motion) // UNIT_LENGTH * UNIT_LENGTH, max_frames)
        start = rng.integers(0, len(clip.motion) - length + 1)
        captions.append(caption.text)
        tokens.append(list(caption.tokens))
        motions.append(clip.motion[start:start + length])
    return captions, tokens, motions


def ground_truth_metrics(evaluator: Evaluator, test: MotionSplit, reference: MotionSplit | None = None,
                         seed: int = 0, batch_size: int = 32) -> dict[str, float]:
    """The protocol's "Real motion" row for an evaluator: real test pairs through the same metric path
    (:func:`~motiongpt_lite.eval.motion_metrics.matching_metrics`) as generated ones.

    Args:
        evaluator: any :class:`Evaluator`.
        test: the split whose pairs are ranked (R-precision top-1..3 in batches of ``batch_size``, MM-Dist,
            Diversity over min(300, N) pairs).
        reference: another split (e.g. train); adds ``fid`` of the test motions against its motions.
        seed: seeds the caption and crop draw, the shuffle and the Diversity pairs.
    Returns:
        dict of metric -> value, plus ``pairs`` (N).
    """
    captions, tokens, motions = ground_truth_pairs(test, seed)
    text_emb = evaluator.embed_texts(captions, tokens)  # (N, E)
    motion_emb = evaluator.embed_motions(motions)  # (N, E)
    report = matching_metrics(text_emb, motion_emb, batch_size=batch_size,
                              diversity_pairs=min(300, len(motions)), seed=seed)
    if reference is not None:
        report["fid"] = fid(evaluator.embed_motions(ground_truth_pairs(reference, seed)[2]), motion_emb)
    return {**report, "pairs": float(len(motions))}
