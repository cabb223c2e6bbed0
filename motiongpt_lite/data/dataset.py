"""Reading a dataset folder in the HumanML3D layout, and the torch datasets built on it
(introduced in notebook 01).

One reader serves HumanML3D, KIT-ML and our embedded set, which all share this layout::

    <root>/new_joint_vecs/<id>.npy   (T, D) features, D = 263 (HumanML3D) or 251 (KIT-ML)
    <root>/new_joints/<id>.npy       (T, J, 3) joint positions (not needed for training)
    <root>/texts/<id>.txt            one caption per line: caption#tok/POS tok/POS ...#start#end
    <root>/labels/<id>.json          embedded set only, optional: structured labels of the motion
    <root>/train.txt, val.txt, test.txt   one id per line (mirrored clips are ids starting with "M")
    <root>/Mean.npy, Std.npy         (D,) normalisation statistics

``load_split`` applies the length rules of the reference T2M loader (``Text2MotionDatasetV2`` of
Guo et al., used by MotionGPT for text-motion pairs): a motion is kept only if
``min_frames <= T < max_frames`` (40 <= T < 200 for HumanML3D, 24 <= T < 200 for KIT-ML); a caption
with a non-zero ``start#end`` (seconds) describes only the part ``motion[int(start*fps):int(end*fps)]``,
which becomes its own item under the same length rule; captions marked ``0.0#0.0`` describe the whole
motion, and a motion none of whose captions does is not kept as a whole.

Paper vs code: the reference loader cuts sub-clips at ``int(start*20)`` for every dataset; we use
the dataset's own frame rate (only HumanML3D has sub-clip captions, so nothing changes there). The
reference also skips unreadable clips silently; we list every skipped id with its reason.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from motiongpt_lite.data.normalization import Normalizer
from motiongpt_lite.data.registry import DatasetSpec, dataset_spec
from motiongpt_lite.data.skeleton import Skeleton

__all__ = ["Caption", "MotionClip", "MotionSplit", "read_captions", "load_split", "content_fingerprint",
           "dataset_fingerprint", "SeededDataset", "MotionWindowDataset", "MotionTextDataset", "collate_motion_text"]

@dataclass
class Caption:
    """One line of a ``texts/<id>.txt`` file.

    Attributes:
        text: the caption, e.g. "a man kicks with his left leg."
        tokens: lemmatised words with part-of-speech tags, e.g. ["a/DET", "man/NOUN", ...].
        start, end: seconds of the motion the caption describes; both 0.0 means the whole motion.
    """

    text: str
    tokens: list[str]
    start: float
    end: float

    @property
    def whole_motion(self) -> bool:
        """True when the caption describes the whole motion (``0.0#0.0``)."""
        return self.start == 0.0 and self.end == 0.0


@dataclass
class MotionClip:
    """One item of a split: a motion (or a captioned part of one) and its captions.

    Attributes:
        id: file id, e.g. "000123" or "M000123" (mirrored); a part cut out by a caption's start and end
            is named "<parent id>#<start>#<end>", e.g. "000123#3.2#7.8".
        motion: (T, D) float32 raw (not normalised) features.
        captions: the captions describing exactly this motion.
        labels: structured labels from ``labels/<id>.json`` (embedded set), else None; parts cut out by
            a caption get None, since the labels describe the whole motion.
    """

    id: str
    motion: np.ndarray
    captions: list[Caption]
    labels: dict | None = None


@dataclass
class MotionSplit:
    """The clips of one split of a dataset folder, with what is needed to use them.

    Attributes:
        root: the dataset folder.
        split: split name, e.g. "train".
        skeleton: ``HUMANML3D`` or ``KIT``; gives the feature width D and the frame rate.
        clips: the kept items, in split-file order (parts right after their parent's position).
        normalizer: the folder's ``Mean.npy`` / ``Std.npy``.
        skipped: id -> reason, for every motion or caption part that was left out.
    """

    root: Path
    split: str
    skeleton: Skeleton
    clips: list[MotionClip]
    normalizer: Normalizer
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return self.skeleton.fps

    def __len__(self) -> int:
        return len(self.clips)


def content_fingerprint(files) -> str:
    """sha256 (hex, first 16 digits) of the names and bytes of ``files``, in sorted order of their names.

    Identifies data by what it holds, not by where it lies: a run folder moved with its data (another
    checkout, another ``MOTIONGPT_LITE_DATA``, a teacher's ``checkpoints/`` handed to a class) keeps its
    fingerprints, so finished training stages are reused instead of refused.
    """
    digest = hashlib.sha256()
    for path in sorted((Path(f) for f in files), key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def dataset_fingerprint(root: str | Path) -> str:
    """:func:`content_fingerprint` of a dataset folder's split files and normalisation statistics."""
    root = Path(root)
    return content_fingerprint([root / n for n in ("train.txt", "val.txt", "test.txt", "Mean.npy", "Std.npy")
                                if (root / n).exists()])


def read_captions(path: str | Path) -> list[Caption]:
    """Parse a ``texts/<id>.txt`` file, one ``caption#tokens#start#end`` per line.

    Blank lines are ignored; missing token or time fields count as none and ``0.0`` (whole motion);
    NaN start or end times count as 0.0, as in the reference loader.

    Args:
        path: the caption file.
    Returns:
        The captions in file order.
    Raises:
        ValueError: a start or end field that is not a finite number of seconds (the message names file and line).
    """
    captions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.strip().split("#")
        if not fields[0].strip():
            continue
        fields += [""] * (4 - len(fields))
        try:
            times = [float(value) if value.strip() else 0.0 for value in fields[2:4]]
        except ValueError:
            raise ValueError(f"{path}, line {number}: start/end {fields[2:4]} are not numbers; "
                             "write them as seconds, e.g. 'caption#tokens#0.0#0.0'.") from None
        start, end = (0.0 if np.isnan(t) else t for t in times)
        if not (np.isfinite(start) and np.isfinite(end)):
            raise ValueError(f"{path}, line {number}: start/end {fields[2:4]} must be finite seconds; "
                             "write them as e.g. 'caption#tokens#0.0#0.0'.")
        captions.append(Caption(text=fields[0].strip(), tokens=fields[1].split(), start=start, end=end))
    return captions


class _Skip(Exception):
    """A clip that cannot be used; the message is the reason listed in ``MotionSplit.skipped``."""


def _load_motion(path: Path, feature_dim: int) -> np.ndarray:
    """(T, D) float32 features of one file; raises ``_Skip`` when the file cannot be used."""
    if not path.exists():
        raise _Skip("missing motion file: " + path.name)
    try:
        motion = np.load(path)
    except (OSError, ValueError, EOFError) as error:  # EOFError: a zero-byte or cut-off .npy
        raise _Skip(f"unreadable motion file: {path.name}: {error or type(error).__name__}") from None
    if motion.ndim != 2 or motion.shape[1] != feature_dim:
        raise _Skip(f"wrong feature dimension: shape {motion.shape}, expected (T, {feature_dim})")
    motion = motion.astype(np.float32)  # HumanML3D ships some clips as float64
    if not np.isfinite(motion).all():
        raise _Skip("NaN or inf values")
    return motion


def _check_length(num_frames: int, min_frames: int, max_frames: int) -> None:
    """Raises ``_Skip`` unless ``min_frames <= num_frames < max_frames``."""
    if num_frames < min_frames:
        raise _Skip(f"too short: {num_frames} frames < {min_frames}")
    if num_frames >= max_frames:
        raise _Skip(f"too long: {num_frames} frames >= {max_frames}")


def _load_texts(root: Path, clip_id: str) -> tuple[list[Caption], dict | None]:
    """Captions and optional labels of one motion; raises ``_Skip`` when there is no usable caption."""
    text_path = root / "texts" / f"{clip_id}.txt"
    if not text_path.exists():
        raise _Skip("missing caption file: " + text_path.name)
    try:
        captions = read_captions(text_path)
    except ValueError as error:
        raise _Skip(f"bad caption file: {error}") from None
    if not captions:
        raise _Skip("no captions")
    label_path = root / "labels" / f"{clip_id}.json"
    if not label_path.exists():
        return captions, None
    try:
        labels = json.loads(label_path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise _Skip(f"bad labels file: {error}") from None
    if not isinstance(labels, dict):
        raise _Skip(f"bad labels file: expected a JSON object, got {type(labels).__name__}")
    return captions, labels


def load_split(root: str | Path, split: str = "train", *, dataset: str | DatasetSpec | Skeleton = "humanml3d",
               min_frames: int | None = None, max_frames: int = 200) -> MotionSplit:
    """Read one split of a HumanML3D-layout folder with the reference loader's length rules.

    Problem clips (missing or unreadable file, wrong feature width, NaN/inf, too short or too long,
    no caption file or no caption) never stop the loading: they are listed in ``skipped`` and
    summarised in one warning.

    Args:
        root: the dataset folder.
        split: name of the split file without ".txt": "train", "val", "test" (or "all", "train_val").
        dataset: "embedded", "humanml3d" or "kit", a DatasetSpec (``spec_of(root)``) or a Skeleton; sets D, fps
            and the fix for a missing folder.
        min_frames: shortest motion or caption part kept; default the reference's (40, KIT-ML 24).
        max_frames: motions and parts with this many frames or more are skipped (reference: 200).
    Returns:
        The split: clips with (T, D) float32 raw motion, the normalizer, the skeleton and the skipped ids.
    Raises:
        FileNotFoundError: the folder, its split file, features, texts or statistics are missing;
            the message names the command that provides them.
        ValueError: unknown dataset, or ``Mean.npy`` of another width than the dataset's features.
    """
    spec = dataset_spec(dataset)
    skeleton, reference_min, fix = spec.skeleton, spec.min_frames, spec.provide
    min_frames = reference_min if min_frames is None else min_frames
    if not 1 <= min_frames < max_frames:
        raise ValueError(f"need 1 <= min_frames < max_frames, got {min_frames} and {max_frames}.")
    root = Path(root)
    required = [root, root / f"{split}.txt", root / "new_joint_vecs", root / "texts", root / "Mean.npy", root / "Std.npy"]
    missing = next((path for path in required if not path.exists()), None)
    if missing is not None:
        raise FileNotFoundError(f"{missing} does not exist; create the dataset with `{fix.format(root=root)}`.")
    normalizer = Normalizer.from_folder(root)
    if normalizer.mean.shape != (skeleton.feature_dim,):
        raise ValueError(f"{root / 'Mean.npy'} has shape {normalizer.mean.shape} but {skeleton.name} features have "
                         f"{skeleton.feature_dim} dims; pass the matching dataset= argument.")

    try:
        ids = [line.strip() for line in (root / f"{split}.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError as error:
        raise ValueError(f"{root / f'{split}.txt'} is not UTF-8 text ({error.reason} at byte {error.start}); save it "
                         "as plain UTF-8, one clip id per line.") from None
    clips: list[MotionClip] = []
    skipped: dict[str, str] = {}
    for clip_id in dict.fromkeys(ids):  # drop repeated ids, keep order
        try:
            motion = _load_motion(root / "new_joint_vecs" / f"{clip_id}.npy", skeleton.feature_dim)
            _check_length(len(motion), min_frames, max_frames)
            captions, labels = _load_texts(root, clip_id)
        except _Skip as reason:
            skipped[clip_id] = str(reason)
            continue
        whole = [caption for caption in captions if caption.whole_motion]
        if whole:
            clips.append(MotionClip(clip_id, motion, whole, labels))
        part_count: Counter = Counter()
        for caption in captions:
            if caption.whole_motion:
                continue
            part_id = f"{clip_id}#{caption.start}#{caption.end}"
            part_count[part_id] += 1
            if part_count[part_id] > 1:  # a second caption for the same part is its own item, as in the reference
                part_id += f"#{part_count[part_id]}"
            part = motion[int(caption.start * skeleton.fps):int(caption.end * skeleton.fps)]  # (T', D)
            try:
                _check_length(len(part), min_frames, max_frames)
            except _Skip as reason:
                skipped[part_id] = str(reason)
                continue
            clips.append(MotionClip(part_id, part.copy(), [caption], None))

    if skipped:
        kinds = Counter(reason.split(":")[0] for reason in skipped.values())
        warnings.warn(f"{root.name}/{split}: skipped {len(skipped)} motions or caption parts ("
                      + ", ".join(f"{n} {kind}" for kind, n in kinds.most_common())
                      + "); see MotionSplit.skipped for ids and reasons.", stacklevel=2)
    return MotionSplit(root=root, split=split, skeleton=skeleton, clips=clips, normalizer=normalizer, skipped=skipped)


class SeededDataset(Dataset):
    """A map-style dataset whose random draws are fixed by (seed, epoch, item index).

    Every training dataset of the package is one: a subclass calls ``super().__init__(seed)`` and takes item
    ``index``'s randomness from :meth:`rng`; ``fit`` calls :meth:`set_epoch` once per epoch, so each epoch draws
    afresh and a resumed run draws exactly what the uninterrupted one would have.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        """Fresh draws for every epoch: call once per epoch before iterating (``fit`` does)."""
        self.epoch = epoch

    def rng(self, index: int) -> np.random.Generator:
        """Item ``index``'s generator in this epoch: the same numbers whichever DataLoader worker asks for it."""
        return np.random.default_rng([self.seed, self.epoch, index])


class MotionWindowDataset(SeededDataset):
    """Random fixed-length windows of normalised motion, one per clip and epoch (VQ-VAE training).

    Clips shorter than the window are dropped; their ids are in ``dropped``.

    Args:
        split: a loaded split.
        window_frames: frames per window (reference: 64).
        seed: with the epoch (``set_epoch``) and the item index, fixes every window start.
    """

    def __init__(self, split: MotionSplit, window_frames: int = 64, seed: int = 0):
        super().__init__(seed)
        self.window_frames = window_frames
        kept = [clip for clip in split.clips if len(clip.motion) >= window_frames]
        self.dropped = [clip.id for clip in split.clips if len(clip.motion) < window_frames]
        if not kept:
            raise ValueError(f"no clip of {split.root.name}/{split.split} has {window_frames} frames or more; "
                             "lower window_frames or use a dataset with longer motions.")
        self.ids = [clip.id for clip in kept]
        self.motions = [split.normalizer.normalize(clip.motion).astype(np.float32) for clip in kept]  # (T_i, D) each

    def __len__(self) -> int:
        return len(self.motions)

    def __getitem__(self, index: int) -> torch.Tensor:
        """Returns: (window_frames, D) float32 tensor of normalised features."""
        motion = self.motions[index]
        start = self.rng(index).integers(0, len(motion) - self.window_frames + 1)
        return torch.from_numpy(motion[start:start + self.window_frames].copy())  # (W, D)


class MotionTextDataset(SeededDataset):
    """Motion-caption pairs, cropped the way the reference T2M loader crops them.

    For each item a caption is drawn among the clip's captions; the length T is rounded down to a
    multiple of ``unit_length`` and, with probability 1/3, made one unit shorter (the reference's
    "single"/"double" coin), capped at ``max_frames``; the crop then starts at a random frame.

    Args:
        split: a loaded split.
        unit_length: frames per motion token; crop lengths are multiples of it (reference: 4).
        max_frames: longest crop (reference: 196).
        seed: with the epoch (``set_epoch``) and the item index, fixes every draw.
    """

    def __init__(self, split: MotionSplit, unit_length: int = 4, max_frames: int = 196, seed: int = 0):
        shortest = min((len(clip.motion) for clip in split.clips), default=None)
        if shortest is None or shortest < unit_length or max_frames < unit_length:
            raise ValueError(f"{split.root.name}/{split.split} needs clips and max_frames of at least unit_length="
                             f"{unit_length} frames (shortest clip: {shortest}, max_frames: {max_frames}); "
                             "load the split with a larger min_frames.")
        super().__init__(seed)
        self.clips = split.clips
        self.normalizer = split.normalizer
        self.unit_length = unit_length
        self.max_frames = max_frames

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> dict:
        """Returns: dict with motion (motion_len, D) float32 normalised tensor, motion_len int,
        caption str, tokens list[str], id str."""
        clip = self.clips[index]
        rng = self.rng(index)
        caption = clip.captions[rng.integers(len(clip.captions))]
        units = len(clip.motion) // self.unit_length
        if rng.random() < 1 / 3 and units > 1:  # the reference's "double" coin: one unit shorter
            units -= 1
        motion_len = min(units, self.max_frames // self.unit_length) * self.unit_length
        start = rng.integers(0, len(clip.motion) - motion_len + 1)
        motion = self.normalizer.normalize(clip.motion[start:start + motion_len])  # (motion_len, D)
        return {"motion": torch.from_numpy(motion.astype(np.float32)), "motion_len": int(motion_len),
                "caption": caption.text, "tokens": list(caption.tokens), "id": clip.id}


def collate_motion_text(batch: list[dict]) -> dict:
    """Stack ``MotionTextDataset`` items, padding motions with zeros to the longest.

    Args:
        batch: items with motion (T_i, D), motion_len, caption, tokens, id.
    Returns:
        dict with motion (B, T_max, D) float32, motion_len (B,) long, and lists caption, tokens, id.
    """
    motion_len = torch.tensor([item["motion_len"] for item in batch], dtype=torch.long)  # (B,)
    first = batch[0]["motion"]
    motion = first.new_zeros(len(batch), int(motion_len.max()), first.shape[-1])  # (B, T_max, D)
    for row, item in enumerate(batch):
        motion[row, :item["motion_len"]] = item["motion"]
    return {"motion": motion, "motion_len": motion_len, "caption": [item["caption"] for item in batch],
            "tokens": [item["tokens"] for item in batch], "id": [item["id"] for item in batch]}
