"""Presets: every tunable knob of the pipeline in one dataclass (introduced in notebook 00).

Choose one with the environment variable ``MOTIONGPT_LITE_PRESET`` (``tiny``, ``small`` -- the
default --, ``base`` or ``paper``) or by name in code::

    from motiongpt_lite.config import get_preset
    preset = get_preset()            # reads MOTIONGPT_LITE_PRESET, default "small"
    preset = get_preset("tiny")      # explicit

Folders come from environment variables with repository-relative defaults:
``MOTIONGPT_LITE_DATA`` (datasets; default ``<repo>/data``) and ``MOTIONGPT_LITE_CHECKPOINTS``
(trained models; default ``<repo>/checkpoints``).
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

__all__ = ["TrainConfig", "with_training", "stored_settings", "stage_config", "smoke_preset", "DataConfig", "VQConfig", "LMConfig", "InstructConfig", "EvalConfig", "Preset", "PRESETS", "get_preset", "data_root", "checkpoint_root", "embedded_dir", "run_dir", "real_data_roots", "reference_dir", "PRESET_ENV"]

PRESET_ENV = "MOTIONGPT_LITE_PRESET"
DEFAULT_PRESET = "small"


@dataclass(frozen=True)
class TrainConfig:
    """How one stage trains: optimiser, schedule, logging and checkpoints (read by ``motiongpt_lite.training.fit``).

    Every stage config holds one as ``train``; change it with :func:`with_training`.
    """

    steps: int = 100_000  # optimiser steps; they fix the learning-rate schedule
    batch_size: int = 16  # items per step and process
    lr: float = 2e-4  # AdamW peak learning rate
    weight_decay: float = 0.0  # AdamW weight decay
    warmup_steps: int = 1000  # linear warm-up from 0 to lr
    decay: str = "cosine"  # after warm-up: "cosine" or "linear" decay to min_lr_ratio * lr, or "constant"
    min_lr_ratio: float = 0.1  # final learning rate as a fraction of lr
    grad_clip: float = 1.0  # clip the global gradient norm to this (0 turns clipping off)
    log_every: int = 100  # steps averaged into one row of the loss history
    checkpoint_every: int = 5000  # steps between checkpoints (a final one is always written)
    mixed_precision: str = "no"  # accelerate's "no", "fp16" or "bf16", or "auto": bf16 on a GPU that has it, fp16 on
    # one that does not (a T4), float32 on a CPU or Apple MPS (motiongpt_lite.training.resolve_precision)


def with_training(cfg, **changes):
    """A copy of a stage config (``VQConfig``, ``LMConfig``, ``InstructConfig``, ``EvalConfig``) with some training
    knobs changed, e.g. ``with_training(preset.vq, steps=200)``."""
    return replace(cfg, train=replace(cfg.train, **changes))


def stored_settings(cfg) -> dict:
    """A stage config as run folders record it (checkpoints, ``config.json``): one flat dict, the training knobs
    beside the others, so a folder written before ``TrainConfig`` existed still matches and resumes."""
    settings = asdict(cfg)
    train = settings.pop("train")
    return {**settings, **train}


def stage_config(cls, settings: dict):
    """The stage config ``cls`` (e.g. ``VQConfig``) back from :func:`stored_settings`."""
    settings, knobs = dict(settings), {f.name for f in fields(TrainConfig)}
    return cls(**{k: v for k, v in settings.items() if k not in knobs},
               train=TrainConfig(**{k: v for k, v in settings.items() if k in knobs}))


@dataclass(frozen=True)
class DataConfig:
    """Which motions we learn from and how they are cut."""

    dataset: str = "embedded"  # "embedded" (generated offline), "humanml3d" or "kit" (downloaded by data_download.sh)
    num_motions: int = 2000  # embedded set: motions generated before mirroring (mirroring doubles them)
    min_frames: int = 40  # reference filter: clips and caption crops shorter than this are skipped (HumanML3D: 40)
    max_frames: int = 196  # reference filter: clips longer are cropped to this (HumanML3D keeps < 200, uses 196)
    window_frames: int = 64  # length of the random motion windows the VQ-VAE trains on (batch sizes: each stage's config)


@dataclass(frozen=True)
class VQConfig:
    """The motion tokenizer (VQ-VAE): architecture, quantizer, loss weights and training (notebooks 02-03)."""

    # Architecture (1D convolutions over time, see motiongpt_lite.vq.model)
    width: int = 512  # channels of every hidden convolution (reference: 512)
    depth: int = 3  # dilated residual blocks per resolution (reference: 3)
    down_t: int = 2  # stride-2 down-sampling layers: 2**down_t frames per token (reference: 2 -> 4 frames)
    dilation_growth: int = 3  # dilations inside a residual stack grow 1, 3, 9, ... (reference: 3)
    num_codes: int = 512  # K, codebook size (reference: 512)
    code_dim: int = 512  # dimension of each code vector (reference: 512)
    # Quantizer (motiongpt_lite.vq.quantizer)
    quantizer: str = "ema_reset"  # "plain" (codebook loss), "ema" (moving averages) or "ema_reset" (EMA + dead-code reset, reference)
    ema_decay: float = 0.99  # decay of the EMA codebook statistics (reference: 0.99)
    reset_threshold: float = 1.0  # a code whose EMA count per batch falls below this is dead and re-initialised (reference: 1.0)
    codebook_rule: str = "reference"  # EMA kinds: "reference" (T2M-GPT: sum / count, a dead code's vector re-drawn) or "smoothed" (ours: Laplace-smoothed counts, a reset code's statistics restart)
    # Loss weights (motiongpt_lite.vq.losses)
    recon_weight: float = 1.0  # smooth-L1 reconstruction of all feature dims (reference: 1.0)
    velocity_weight: float = 0.5  # the "velocity" term (reference: 0.5)
    velocity_kind: str = "reference"  # "reference": positions dims 4:67 as the reference code; "true": their frame-to-frame differences
    embed_weight: float = 1.0  # codebook (embedding) loss, used by the plain quantizer only (EMA kinds have none)
    commit_weight: float = 0.02  # beta, commitment loss (reference: 0.02)
    # Training (motiongpt_lite.vq.train): the reference recipe, 300k steps of 256 windows, AdamW at 2e-4 (no weight
    # decay) after 1000 warm-up steps, down to 1e-5 (min_lr_ratio 0.05)
    train: TrainConfig = TrainConfig(steps=300_000, batch_size=256, lr=2e-4, warmup_steps=1000, min_lr_ratio=0.05)

    @property
    def frames_per_token(self) -> int:
        """Frames one motion token stands for: ``2 ** down_t`` (4 in every preset)."""
        return 2 ** self.down_t


@dataclass(frozen=True)
class LMConfig:
    """The motion-language model: which T5, the merged vocabulary, pretraining (notebooks 04-05)."""

    # Which T5 and which text tokenizer (motiongpt_lite.lm.model, motiongpt_lite.lm.tokenizer)
    model: str = "google-t5/t5-base"  # "config": a T5 built from the architecture below; else a hub id or folder of weights (paper: T5-base; the reference code loads flan-t5-base)
    tokenizer: str = "google-t5/t5-base"  # "trained": a unigram tokenizer trained on the captions; else a hub id or folder
    text_vocab_size: int = 2000  # trained tokenizer only: most pieces it may learn (pad, eos, unk included)
    extra_ids: int = 100  # sentinel tokens <extra_id_i> for span corruption (T5: 100)
    # Architecture: used when model == "config", and as the fallback when pretrained weights are missing
    d_model: int = 768  # hidden size (T5-base: 768)
    d_ff: int = 3072  # feed-forward width (T5-base: 3072; flan-t5-base: 2048, gated)
    d_kv: int = 64  # size of one attention head (T5: 64)
    num_layers: int = 12  # encoder layers, and as many decoder layers (T5-base: 12)
    num_heads: int = 12  # attention heads (T5-base: 12)
    feed_forward_proj: str = "relu"  # "relu" (T5 v1.0) or "gated-gelu" (T5 v1.1 / flan-t5)
    tie_embeddings: bool = True  # output head shares the input embeddings (T5 v1.0) or has its own (flan-t5)
    dropout: float = 0.1  # dropout rate inside T5 (T5: 0.1)
    # Vocabulary merging (motiongpt_lite.lm.surgery)
    init: str = "mean"  # how the rows of the new motion words start: "mean", "normal", "mean_noise" or "mean_cov"
    # Lengths, in tokens
    max_source_len: int = 256  # prompt tokens kept (reference: max_length 256)
    max_target_len: int = 256  # target tokens kept (reference: max_length 256)
    max_caption_tokens: int = 40  # tokens generated for a caption (reference: 40 for motion-to-text)
    # Pretraining (motiongpt_lite.lm.pretrain): batch 16 and AdamW at 2e-4 (no weight decay) as the reference;
    # 300k steps is our choice (the reference trains until stopped)
    train: TrainConfig = TrainConfig(steps=300_000, batch_size=16, lr=2e-4)
    # Task mixture: relative weights of the pretraining tasks, normalised to sum to 1
    mix_span_motion: float = 0.2  # span corruption on motion-token "sentences" (reference: 1/5 when switched on)
    mix_span_text: float = 0.2  # span corruption on captions (reference: 1/5 when switched on)
    mix_text_to_motion: float = 0.3  # caption -> motion tokens
    mix_motion_to_text: float = 0.2  # motion tokens -> caption
    mix_predict: float = 0.1  # first part of a motion -> the rest
    # Span corruption (T5's objective)
    noise_density: float = 0.15  # share of tokens masked (reference and T5: 0.15)
    mean_span_length: float = 3.0  # mean length of a masked span, in tokens (reference and T5: 3)
    # Motion prediction
    predict_ratio: float = 0.2  # share of the motion given as the prompt (reference: 0.2)
    # Composition (ours; the paper has none): share of examples built on two training motions in sequence,
    # codes concatenated and captions joined by "then" (motiongpt_lite.lm.tasks.compose)
    compose_rate: float = 0.0


@dataclass(frozen=True)
class InstructConfig:
    """Instruction tuning, MotionGPT's stage 3 (notebook 06): steps, learning rate and the task mixture."""

    # Training (motiongpt_lite.lm.instruct), continuing from lm_pretrain: batch 16 as the reference; 100k steps
    # (one GPU) and lr 1e-4, below pretraining's since we fine-tune, are our choices
    train: TrainConfig = TrainConfig(steps=100_000, batch_size=16, lr=1e-4, warmup_steps=500)
    max_source_len: int = 256  # prompt tokens kept (instructions are longer than pretraining prompts)
    max_target_len: int = 256  # target tokens kept
    # Task mixture: relative weights of the template families of motiongpt_lite.lm.templates
    mix_text_to_motion: float = 0.25  # caption -> motion
    mix_text_to_motion_length: float = 0.15  # caption + length in frames or seconds -> motion of that length
    mix_motion_to_text: float = 0.25  # motion -> caption
    mix_predict: float = 0.1  # first part of a motion -> the rest
    mix_inbetween: float = 0.1  # start and end of a motion, middle masked -> the middle
    mix_paraphrase: float = 0.15  # caption -> another caption of the same motion (keeps the language)
    # Prediction and in-betweening: which share of the motion the prompt shows
    predict_given: tuple[float, float] = (0.2, 0.6)  # the prompt holds this share (drawn uniformly) of the motion
    inbetween_masked: tuple[float, float] = (0.2, 0.6)  # share of the motion masked in the middle (drawn uniformly)
    compose_rate: float = 0.0  # share of examples on two training motions in sequence (ours, see LMConfig)


@dataclass(frozen=True)
class EvalConfig:
    """Evaluation (notebook 07): the retrieval evaluator we train, and the paper's protocol."""

    evaluator: str = "auto"  # "ours" (trained here), "t2m" (the official one, downloaded) or "auto": t2m on HumanML3D when present
    # Our evaluator: a text encoder and a motion encoder trained contrastively on the dataset's train split
    embed_dim: int = 512  # size of the shared text-motion embedding (T2M evaluator: 512)
    hidden: int = 512  # width of both encoders
    temperature: float = 0.1  # InfoNCE softmax temperature
    # Its training: batches of caption-motion pairs (the other pairs of a batch are the negatives)
    train: TrainConfig = TrainConfig(steps=10_000, batch_size=64, lr=1e-4, warmup_steps=100, checkpoint_every=2000)
    # The protocol (Guo et al. 2022, used by MotionGPT)
    r_precision_batch: int = 32  # one caption against 31 mismatched motions
    replications: int = 20  # repeated runs for 95% confidence intervals (paper: 20)
    num_captions: int = 0  # test captions used per run (0: all)
    diversity_pairs: int = 300  # random motion pairs for Diversity (paper: 300)
    multimodality_texts: int = 100  # captions generated several times for MultiModality (paper: 100)
    multimodality_repeats: int = 30  # generations per such caption (paper: 30)
    multimodality_pairs: int = 10  # pairs among them (paper: 10)
    # Prompt following (ours, embedded set): semantic checks of motions made from test captions, per decoding
    prompt_captions: int = 120  # labelled whole test motions whose first caption is turned into motion


@dataclass(frozen=True)
class Preset:
    """One complete set of knobs. Presets are instances of this class, see ``PRESETS``."""

    name: str
    data: DataConfig = field(default_factory=DataConfig)
    seed: int = 1234  # one seed for data generation, initialisation and shuffling
    device: str = "auto"  # "auto" picks cuda, then mps, then cpu; or name one explicitly
    vq: VQConfig = field(default_factory=VQConfig)  # the motion tokenizer (defaults: the paper's)
    lm: LMConfig = field(default_factory=LMConfig)  # the motion-language model (defaults: the paper's)
    instruct: InstructConfig = field(default_factory=InstructConfig)  # instruction tuning (notebook 06)
    eval: EvalConfig = field(default_factory=EvalConfig)  # evaluation (notebook 07)

    def with_overrides(self, **changes) -> "Preset":
        """A copy with top-level fields replaced, e.g. ``preset.with_overrides(seed=0)``."""
        return replace(self, **changes)


# Language models per preset (paper: the LMConfig defaults). tiny and small are flan-t5 shrunk to a CPU:
# gated-GELU feed-forward and an output head of its own, so every preset merges an untied model.
LM_TINY = LMConfig(
    model="config", tokenizer="trained",  # offline: T5 from a config, tokenizer trained on the captions
    text_vocab_size=400, d_model=64, d_ff=128, d_kv=16, num_layers=2, num_heads=4,  # about 0.25M parameters
    feed_forward_proj="gated-gelu", tie_embeddings=False, dropout=0.0,
    max_source_len=96, max_target_len=96,  # 196 frames = 49 codes + markers fit with room for a prompt
    train=TrainConfig(steps=100, batch_size=16, lr=3e-3, warmup_steps=10, log_every=10, checkpoint_every=0),  # seconds
)
LM_SMALL = LMConfig(
    model="config", tokenizer="trained",
    text_vocab_size=1000, d_model=128, d_ff=256, d_kv=32, num_layers=3, num_heads=4,  # about 1.3M parameters
    feed_forward_proj="gated-gelu", tie_embeddings=False, dropout=0.1,
    max_source_len=96, max_target_len=96,
    train=TrainConfig(steps=1200, batch_size=32, lr=2e-3, warmup_steps=100, log_every=25, checkpoint_every=400),  # minutes
    # The mixture leans on the paired tasks: 1200 steps of 32 examples hold only ~2 passes of caption->motion
    # at the default 0.3. Measured (120 test captions, greedy, with instruction tuning below): text->motion
    # action 0.30 -> 0.65, side 0.51 -> 0.83. (lr 4e-3 instead of 2e-3 collapses to one caption: action 0.03.)
    mix_span_motion=0.05, mix_span_text=0.05, mix_text_to_motion=0.5, mix_motion_to_text=0.3, mix_predict=0.1,
    # Composition ("A, then B" from two training motions, lm.tasks.compose) is left off, as in the paper: measured
    # on this machine's tokenizer with the API's default decoding, 120 test captions, one run each, compose_rate
    # 0 / 0.3 / 0.5 (pretraining and tuning) gave action 0.68 / 0.64 / 0.51, side 0.76 / 0.73 / 0.63, direction
    # 0.55 / 0.60 / 0.65, two-action captions showing both 0.03 / 0.09 / 0.03 (1 / 3 / 1 of 33); the whole job at
    # 0.3: FID 0.084 vs 0.109, caption side 0.42 vs 0.60, real clips 3 vs 1 of 4. No overall gain, for batches 11 %
    # longer (pretraining 302 vs 297 s, tuning 220 vs 206 s). The model writes A and stops (notebook 05 §3).
)
LM_BASE = LMConfig(
    model="google/flan-t5-base", tokenizer="google/flan-t5-base",  # falls back to a config T5 + trained tokenizer offline
    d_model=768, d_ff=2048, d_kv=64, num_layers=12, num_heads=12,  # flan-t5-base's architecture (the fallback)
    feed_forward_proj="gated-gelu", tie_embeddings=False,
    train=TrainConfig(steps=100_000, batch_size=32, lr=2e-4, warmup_steps=1000, log_every=100, checkpoint_every=5000,
                      mixed_precision="auto"),  # one GPU
)

# Motion tokenizers per preset (paper: the VQConfig defaults, the reference's). tiny and small shrink the
# width and the codebook and raise the learning rate so that a 2-core CPU trains one in seconds / minutes,
# and keep the smoothed codebook rule they were measured with (notebook 03 compares it with the reference's).
VQ_TINY = VQConfig(
    width=64, depth=2, num_codes=64, code_dim=32,  # about 0.3M parameters; 4 frames per token as everywhere
    train=TrainConfig(steps=150, batch_size=32, lr=2e-3, warmup_steps=15, min_lr_ratio=0.1,  # seconds on a CPU
                      log_every=5, checkpoint_every=0),  # history rows every 5 steps; one checkpoint at the end
    codebook_rule="smoothed",
)
VQ_SMALL = VQConfig(
    width=128, depth=2, num_codes=256, code_dim=64,  # about 1M parameters
    # 3000 steps, about 7 minutes on 2 CPU cores. Measured on 300 test clips (semantic checks of the
    # reconstructions; all clips, then clips of seen parameter combinations): action kept 0.68 after 1200
    # steps (no repeated jab stayed a punch), 0.80 / 0.90 after 2400 and 0.90 / 0.97 after 3000.
    train=TrainConfig(steps=3000, batch_size=64, lr=2e-3, warmup_steps=100, min_lr_ratio=0.1, log_every=20,
                      checkpoint_every=400),
    codebook_rule="smoothed",
)
VQ_BASE = VQConfig(  # the paper's architecture on one GPU, a third of its steps
    train=TrainConfig(steps=100_000, batch_size=256, lr=2e-4, warmup_steps=1000, min_lr_ratio=0.05, log_every=100,
                      checkpoint_every=5000, mixed_precision="auto"),
)

# Instruction tuning per preset: a short fine-tune on a CPU for tiny / small, the defaults on one GPU.
INSTRUCT_TINY = InstructConfig(train=TrainConfig(steps=150, batch_size=16, lr=2e-3, warmup_steps=15, log_every=10,
                                                 checkpoint_every=0),  # seconds on a CPU
                               max_source_len=128, max_target_len=96)
INSTRUCT_SMALL = InstructConfig(train=TrainConfig(steps=800, batch_size=32, lr=1e-3, warmup_steps=50, log_every=25,
                                                  checkpoint_every=200),  # minutes on 2 CPU cores
                                max_source_len=128, max_target_len=96,
                                # more of the two translations, less paraphrasing and completion (see LM_SMALL)
                                mix_text_to_motion=0.35, mix_text_to_motion_length=0.15, mix_motion_to_text=0.3,
                                mix_predict=0.07, mix_inbetween=0.07, mix_paraphrase=0.06)

# Evaluation per preset: the paper's protocol everywhere; on a CPU a smaller evaluator, fewer runs and captions.
EVAL_TINY = EvalConfig(embed_dim=64, hidden=64,
                       train=TrainConfig(steps=150, batch_size=32, lr=1e-3, warmup_steps=15, log_every=10,
                                         checkpoint_every=0),
                       replications=2, num_captions=64, diversity_pairs=30, multimodality_texts=4,
                       multimodality_repeats=4, multimodality_pairs=3, prompt_captions=24)  # seconds on a CPU
EVAL_SMALL = EvalConfig(embed_dim=128, hidden=128,
                        train=TrainConfig(steps=400, batch_size=64, lr=1e-3, warmup_steps=40, log_every=25,
                                          checkpoint_every=200),
                        replications=5, num_captions=256, diversity_pairs=100,
                        multimodality_texts=16, multimodality_repeats=10, multimodality_pairs=10)  # minutes on 2 CPU cores

# The learners' GPU preset (Colab's T4, 16 GB, fp16): between small and base, meant to finish the whole course in under
# an hour. flan-t5-small when it can be downloaded, else a T5 of its architecture from a config. NOT MEASURED ON A GPU:
# the stage times are estimates, `motiongpt-lite bench estimate --preset gpu` (training FLOPs counted per step on the
# CPU, at an assumed 20 % of the T4's 65 TFLOPS fp16 peak): VQ-VAE 2.9 min (114 GFLOP per step), pretraining 6.9 min
# and instruction tuning 3.4 min (669 GFLOP per step); data, tokens, the evaluator, evaluation and the demo
# (latency-bound generation) are not estimated. T5 in fp16 (the T4 has no bf16) relies on transformers' clamping.
VQ_GPU = VQConfig(
    width=256, depth=3, num_codes=512, code_dim=256,  # the reference's depth and codebook size, half its width
    train=TrainConfig(steps=20_000, batch_size=128, lr=1e-3, warmup_steps=500, min_lr_ratio=0.05, log_every=100,
                      checkpoint_every=2000, mixed_precision="auto"),
)
LM_GPU = LMConfig(
    model="google/flan-t5-small", tokenizer="google/flan-t5-small",  # falls back to a config T5 + trained tokenizer
    d_model=512, d_ff=1024, d_kv=64, num_layers=8, num_heads=6,  # flan-t5-small's architecture (about 77M parameters)
    feed_forward_proj="gated-gelu", tie_embeddings=False, max_source_len=128, max_target_len=96,
    train=TrainConfig(steps=8000, batch_size=32, lr=5e-4, warmup_steps=500, log_every=50, checkpoint_every=1000,
                      mixed_precision="auto"),
    mix_span_motion=0.05, mix_span_text=0.05, mix_text_to_motion=0.5, mix_motion_to_text=0.3, mix_predict=0.1,  # small's
)
INSTRUCT_GPU = InstructConfig(train=TrainConfig(steps=4000, batch_size=32, lr=3e-4, warmup_steps=200, log_every=50,
                                                checkpoint_every=1000, mixed_precision="auto"),
                              max_source_len=128, max_target_len=96,
                              mix_text_to_motion=0.35, mix_text_to_motion_length=0.15, mix_motion_to_text=0.3,
                              mix_predict=0.07, mix_inbetween=0.07, mix_paraphrase=0.06)  # small's mixture
EVAL_GPU = EvalConfig(embed_dim=256, hidden=256,
                      train=TrainConfig(steps=2000, batch_size=64, lr=1e-3, warmup_steps=100, log_every=50,
                                        checkpoint_every=500),
                      replications=10, num_captions=512)

PRESETS: dict[str, Preset] = {
    # CI and quick checks: every notebook in seconds.
    "tiny": Preset(name="tiny", data=DataConfig(num_motions=160), vq=VQ_TINY, lm=LM_TINY, instruct=INSTRUCT_TINY,
                   eval=EVAL_TINY),
    # The default: a 2-core CPU, about five minutes per notebook.
    "small": Preset(name="small", data=DataConfig(num_motions=2000), vq=VQ_SMALL, lm=LM_SMALL, instruct=INSTRUCT_SMALL,
                    eval=EVAL_SMALL),
    # A learner's GPU (Colab T4), under an hour for the course (estimated): HumanML3D when present, else 6000 embedded
    # motions; flan-t5-small.
    "gpu": Preset(name="gpu", data=DataConfig(dataset="humanml3d", num_motions=6000), vq=VQ_GPU, lm=LM_GPU,
                  instruct=INSTRUCT_GPU, eval=EVAL_GPU),
    # One GPU: HumanML3D when present (else a large embedded set), flan-t5-base.
    "base": Preset(name="base", data=DataConfig(dataset="humanml3d", num_motions=8000), vq=VQ_BASE,
                   lm=LM_BASE),
    # MotionGPT's own settings (HumanML3D, 64-frame windows, batch 256 for the tokenizer).
    "paper": Preset(name="paper", data=DataConfig(dataset="humanml3d", num_motions=8000)),
}


def smoke_preset(preset: Preset) -> Preset:
    """``preset``'s code paths cut to minutes on a CPU: its architectures at full width, its data loaders and precision
    settings, but two steps of every stage on batches of two, a few clips and the evaluation protocol at its smallest.
    It catches a broken ``base`` or ``paper`` path before a GPU is rented (``motiongpt-lite run --preset base --smoke``);
    it learns nothing. Named ``<name>-smoke``, so it writes its own run folder and embedded set."""
    two = dict(steps=2, batch_size=2, warmup_steps=1, log_every=1, checkpoint_every=0)
    data = replace(preset.data, num_motions=12, max_frames=64)  # motions of at most 16 tokens: short generations
    return replace(preset, name=f"{preset.name}-smoke", data=data,
                   vq=with_training(preset.vq, **two), lm=with_training(preset.lm, **two),
                   instruct=with_training(preset.instruct, **two),
                   eval=replace(with_training(preset.eval, **two), replications=1, num_captions=8, diversity_pairs=4,
                                multimodality_texts=2, multimodality_repeats=2, multimodality_pairs=1, prompt_captions=4))


def get_preset(name: str | None = None) -> Preset:
    """The preset called ``name``, or the one named by ``MOTIONGPT_LITE_PRESET`` (default ``small``).

    Raises:
        ValueError: unknown name; the message lists the valid ones.
    """
    name = name or os.environ.get(PRESET_ENV) or DEFAULT_PRESET
    key = name.strip().lower()
    if key not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)} "
                         f"(set {PRESET_ENV} or pass --preset).")
    return PRESETS[key]


def _repo_root() -> Path:
    """The checkout this package lives in (editable install), else the current folder."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def data_root() -> Path:
    """Folder holding datasets: ``$MOTIONGPT_LITE_DATA`` or ``<repo>/data``."""
    return Path(os.environ.get("MOTIONGPT_LITE_DATA") or _repo_root() / "data")


def checkpoint_root() -> Path:
    """Folder holding trained models: ``$MOTIONGPT_LITE_CHECKPOINTS`` or ``<repo>/checkpoints``."""
    return Path(os.environ.get("MOTIONGPT_LITE_CHECKPOINTS") or _repo_root() / "checkpoints")


def embedded_dir(preset: Preset) -> Path:
    """Folder of the preset's embedded dataset, ``<data root>/embedded_<preset name>`` (sizes differ per preset)."""
    return data_root() / f"embedded_{preset.name}"


def run_dir(preset: Preset) -> Path:
    """Folder for everything a pipeline run at ``preset`` writes (models, tokens, report, demos)."""
    return checkpoint_root() / preset.name


def real_data_roots() -> tuple[Path, ...]:
    """Where real clips are looked for, in order: the data root (``bash data_download.sh sample`` and ``cmu`` put
    them there) and ``../shared/data`` beside the checkout."""
    return data_root(), _repo_root().parent / "shared" / "data"


def reference_dir() -> Path | None:
    """The official HumanML3D reference clips, if present: ``humanml3d_reference`` in the first of
    :func:`real_data_roots` that holds it."""
    return next((root / "humanml3d_reference" for root in real_data_roots() if (root / "humanml3d_reference").is_dir()), None)
