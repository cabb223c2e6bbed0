"""The official T2M evaluator of Guo et al. (2022), which MotionGPT reports with (notebook 07).

``bash data_download.sh t2m-evaluators`` puts the published checkpoints and word vectors under
``<data root>/t2m_evaluators``::

    t2m/text_mot_match/model/finest.tar   HumanML3D evaluator (torch.save dict: text_encoder,
    kit/text_mot_match/model/finest.tar   movement_encoder, motion_encoder state dicts, epoch, ...)
    glove/our_vab_data.npy                (V, 300) GloVe vectors of the evaluator's vocabulary
    glove/our_vab_words.pkl, our_vab_idx.pkl   its words, and word -> row

and the evaluator's own normalisation comes from ``t2m_mean.npy`` / ``t2m_std.npy`` (``bash
data_download.sh sample``, sha256-checked; ``kit_mean.npy`` / ``kit_std.npy`` for KIT-ML), or from
``t2m/Comp_v6_KLD01/meta/mean.npy`` / ``std.npy`` when the checkpoint zip brought them.

The architecture, rebuilt here from its published description (module names follow the
checkpoint's keys, so its state dicts load unchanged):

- text: each word is its 300-d GloVe vector plus ``Linear(15, 300)`` of a one-hot part-of-speech
  category -> ``Linear(300, 512)`` -> bi-GRU (hidden 512, learned initial state) -> the two last
  states (1024) -> ``Linear(1024, 512)``-LayerNorm-LeakyReLU(0.2)-``Linear(512, 512)``. A caption is
  ``sos`` + at most 20 words + ``eos``.
- movement: the motion normalised with the *evaluator's own* mean/std (``t2m_mean.npy`` /
  ``t2m_std.npy``, not the dataset's ``Mean``/``Std``), its last 4 dims (foot contacts) dropped ->
  ``Conv1d(D-4, 512, 4, 2, 1)``-Dropout-LeakyReLU-``Conv1d(512, 512, 4, 2, 1)``-Dropout-LeakyReLU ->
  ``Linear(512, 512)`` per step: one step per 4 frames.
- motion: ``Linear(512, 1024)`` -> bi-GRU (hidden 1024) over ``T // 4`` steps -> last states (2048)
  -> ``Linear(2048, 1024)``-LayerNorm-LeakyReLU(0.2)-``Linear(1024, 512)``.

The part-of-speech categories are spaCy's coarse tags VERB, NOUN, DET, ADP, NUM, AUX, PRON, ADJ, ADV,
five "very important" word lists that override the tag (locations, body parts, objects, actions,
manner), and OTHER for the rest; a word without a GloVe vector becomes ``unk/OTHER``.

Safety: these files come from Google Drive, and a pickle can run code when it is loaded. We never
unpickle arbitrary objects: ``finest.tar`` is read with ``torch.load(weights_only=True)`` only (tensors
and plain containers; no fallback), and ``our_vab_idx.pkl`` with :class:`_PlainUnpickler`, which refuses
every class or function a pickle names (a dict of str -> int needs none). Each file's sha256 is checked
against :data:`KNOWN_SHA256` when a value is recorded there; no checksums are published for these files,
so by default a file without a recorded value is not loaded: set ``MOTIONGPT_LITE_TRUST_T2M=1`` (or pass
``trust_unverified=True``) once you trust your download. ``preset.eval.evaluator = "auto"`` then uses our
own evaluator and says why.

Paper vs code: the official pipeline tags captions with spaCy. We do not depend on spaCy: the
dataset's captions carry their tags (``word/POS`` in ``texts/*.txt``), so ground-truth captions get
the exact official input when their ``tokens`` are passed; a plain caption (a generated one) is
tagged with the most frequent ``word/POS`` of each surface word in the dataset's captions (lemma
included), and unseen words get OTHER. For generated captions this approximates spaCy.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from motiongpt_lite.config import data_root, reference_dir
from motiongpt_lite.eval.base import UNIT_LENGTH, Evaluator, check_motions, check_texts

__all__ = ["T2MEvaluator", "T2MTextEncoder", "MovementEncoder", "T2MMotionEncoder", "POS_CATEGORIES", "VIP_WORDS",
           "official_dir", "official_files_present", "build_lexicon", "tag_caption", "pad_motions", "MAX_TEXT_WORDS",
           "KNOWN_SHA256", "TRUST_ENV", "UnverifiedFilesError", "unverified_files", "read_plain_pickle"]

MAX_TEXT_WORDS = 20  # words kept per caption (plus sos and eos)
POS_CATEGORIES = ("VERB", "NOUN", "DET", "ADP", "NUM", "AUX", "PRON", "ADJ", "ADV",
                  "Loc_VIP", "Body_VIP", "Obj_VIP", "Act_VIP", "Desc_VIP", "OTHER")  # one-hot order of the checkpoint
VIP_WORDS = {  # words whose category replaces their part of speech (HumanML3D's lists)
    "Loc_VIP": ("left", "right", "clockwise", "counterclockwise", "anticlockwise", "forward", "back", "backward",
                "up", "down", "straight", "curve"),
    "Body_VIP": ("arm", "chin", "foot", "feet", "face", "hand", "mouth", "leg", "waist", "eye", "knee", "shoulder",
                 "thigh"),
    "Obj_VIP": ("stair", "dumbbell", "chair", "window", "floor", "car", "ball", "handrail", "baseball", "basketball"),
    "Act_VIP": ("walk", "run", "swing", "pick", "bring", "kick", "put", "squat", "throw", "hop", "dance", "jump",
                "turn", "stumble", "stop", "sit", "lift", "lower", "raise", "wash", "stand", "kneel", "stroll",
                "rub", "bend", "balance", "flap", "jog", "shuffle", "lean", "rotate", "spin", "spread", "climb"),
    "Desc_VIP": ("slowly", "carefully", "fast", "careful", "slow", "quickly", "happy", "angry", "sad", "happily",
                 "angrily", "sadly"),
}
_FOLDER = {"humanml3d": "t2m", "kit": "kit"}  # dataset -> checkpoint folder
_DIM_POSE = {"humanml3d": 263, "kit": 251}
_META = {"humanml3d": "Comp_v6_KLD01", "kit": "Comp_v6_KLD005"}  # the T2M generator runs whose meta/ hold mean/std
# sha256 of the published evaluator files, by path under t2m_evaluators/. Guo et al. publish none and we
# have not been able to fetch the Google Drive files here, so this is empty: every file counts as
# unverified until a value is recorded (``sha256sum`` of a download you trust).
KNOWN_SHA256: dict[str, str] = {}
TRUST_ENV = "MOTIONGPT_LITE_TRUST_T2M"  # "1": load evaluator files that have no recorded sha256
_DOWNLOAD = "run `bash data_download.sh t2m-evaluators` (and `bash data_download.sh sample` for t2m_mean/std)"


def _bigru_head(hidden: int, out: int) -> nn.Sequential:
    """(B, 2 * hidden) -> (B, out): Linear-LayerNorm-LeakyReLU(0.2)-Linear, the checkpoint's ``output_net``."""
    return nn.Sequential(nn.Linear(2 * hidden, hidden), nn.LayerNorm(hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, out))


class T2MTextEncoder(nn.Module):
    """Word vectors + part-of-speech one-hots -> (B, 512) text embedding (checkpoint key ``text_encoder``)."""

    def __init__(self, word_size: int = 300, pos_size: int = 15, hidden: int = 512, out: int = 512):
        super().__init__()
        self.pos_emb = nn.Linear(pos_size, word_size)
        self.input_emb = nn.Linear(word_size, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True, bidirectional=True)
        self.output_net = _bigru_head(hidden, out)
        self.hidden = nn.Parameter(torch.zeros(2, 1, hidden))  # learned initial GRU state

    def forward(self, word_vecs: torch.Tensor, pos_onehot: torch.Tensor, text_len: torch.Tensor) -> torch.Tensor:
        """(B, L, 300) word vectors, (B, L, 15) one-hots, (B,) lengths -> (B, out)."""
        inputs = self.input_emb(word_vecs + self.pos_emb(pos_onehot))  # (B, L, hidden)
        packed = pack_padded_sequence(inputs, text_len.cpu(), batch_first=True, enforce_sorted=False)
        _, last = self.gru(packed, self.hidden.repeat(1, len(inputs), 1).contiguous())  # (2, B, hidden)
        return self.output_net(torch.cat([last[0], last[1]], dim=-1))  # (B, out)


class MovementEncoder(nn.Module):
    """(B, T, D - 4) normalised motion -> (B, T // 4, 512) movement features (checkpoint key ``movement_encoder``)."""

    def __init__(self, input_size: int, hidden: int = 512, out: int = 512):
        super().__init__()
        self.main = nn.Sequential(nn.Conv1d(input_size, hidden, 4, 2, 1), nn.Dropout(0.2), nn.LeakyReLU(0.2),
                                  nn.Conv1d(hidden, out, 4, 2, 1), nn.Dropout(0.2), nn.LeakyReLU(0.2))
        self.out_net = nn.Linear(out, out)

    def forward(self, motion: torch.Tensor) -> torch.Tensor:
        return self.out_net(self.main(motion.transpose(1, 2)).transpose(1, 2))  # (B, T // 4, out)


class T2MMotionEncoder(nn.Module):
    """(B, S, 512) movement features, (B,) step counts -> (B, 512) motion embedding (key ``motion_encoder``)."""

    def __init__(self, input_size: int = 512, hidden: int = 1024, out: int = 512):
        super().__init__()
        self.input_emb = nn.Linear(input_size, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True, bidirectional=True)
        self.output_net = _bigru_head(hidden, out)
        self.hidden = nn.Parameter(torch.zeros(2, 1, hidden))

    def forward(self, movements: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        inputs = self.input_emb(movements)  # (B, S, hidden)
        packed = pack_padded_sequence(inputs, steps.cpu(), batch_first=True, enforce_sorted=False)
        _, last = self.gru(packed, self.hidden.repeat(1, len(inputs), 1).contiguous())  # (2, B, hidden)
        return self.output_net(torch.cat([last[0], last[1]], dim=-1))  # (B, out)


def pad_motions(motions: Sequence[torch.Tensor]) -> torch.Tensor:
    """Zero-pad (T_i, D) normalised motions to (B, T_max + 4, D). At least 3 zero frames after each motion give
    its last ``T_i // 4`` movement steps exactly what the protocol's padding to 196 frames gives them."""
    padded = motions[0].new_zeros(len(motions), max(len(m) for m in motions) + UNIT_LENGTH, motions[0].shape[-1])
    for row, motion in enumerate(motions):
        padded[row, :len(motion)] = motion
    return padded  # (B, T_max + 4, D)


# -- files ----------------------------------------------------------------------------------------
def official_dir() -> Path:
    """Where ``data_download.sh t2m-evaluators`` puts the files: ``<data root>/t2m_evaluators``."""
    return data_root() / "t2m_evaluators"


def _required(folder: Path, dataset: str) -> list[Path]:
    glove = folder / "glove"
    return [folder / _FOLDER[dataset] / "text_mot_match" / "model" / "finest.tar", glove / "our_vab_data.npy",
            glove / "our_vab_words.pkl", glove / "our_vab_idx.pkl"]


def _normalisation_files(folder: Path, dataset: str) -> tuple[Path, Path] | None:
    """The evaluator's mean/std, first found of: ``<t2m|kit>_mean.npy`` / ``_std.npy`` in the reference clips of
    ``data_download.sh sample`` (sha256-checked) or beside the checkpoints, then the checkpoint zip's own
    ``<t2m|kit>/Comp_v6_KLD01|Comp_v6_KLD005/meta/mean.npy`` / ``std.npy``."""
    name = _FOLDER[dataset]
    pairs = [(root / f"{name}_mean.npy", root / f"{name}_std.npy") for root in (reference_dir(), folder) if root]
    meta = folder / name / _META[dataset] / "meta"
    pairs.append((meta / "mean.npy", meta / "std.npy"))
    return next(((m, s) for m, s in pairs if m.exists() and s.exists()), None)


def official_files_present(dataset: str = "humanml3d", folder: str | Path | None = None) -> bool:
    """True when the checkpoint, GloVe and the evaluator's mean/std are all there."""
    folder = Path(folder) if folder else official_dir()
    return all(p.exists() for p in _required(folder, dataset)) and _normalisation_files(folder, dataset) is not None


class UnverifiedFilesError(ValueError):
    """Evaluator files without a recorded sha256, and no opt-in to trust them."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _trusted(trust_unverified: bool | None) -> bool:
    if trust_unverified is not None:
        return bool(trust_unverified)
    return os.environ.get(TRUST_ENV, "").strip().lower() in ("1", "true", "yes")


def unverified_files(folder: str | Path | None = None, dataset: str = "humanml3d") -> list[Path]:
    """The evaluator files that have no sha256 in :data:`KNOWN_SHA256` (checks the recorded ones on the way).

    Raises:
        ValueError: a file's sha256 differs from the recorded value (the message names the file).
    """
    folder = Path(folder) if folder else official_dir()
    stats = _normalisation_files(folder, dataset)
    files = [p for p in _required(folder, dataset) if p.name != "our_vab_words.pkl"]  # the words file is never read
    files += [p for p in (stats or ()) if folder in p.parents]  # sample's t2m_mean/std are checked by data_download.sh
    unknown = []
    for path in files:
        expected = KNOWN_SHA256.get(path.relative_to(folder).as_posix())
        if expected is None:
            unknown.append(path)
        elif _sha256(path) != expected:
            raise ValueError(f"{path} does not have the published sha256 ({expected[:12]}...); delete it and "
                             f"{_DOWNLOAD}.")
    return unknown


class _PlainUnpickler(pickle.Unpickler):
    """An unpickler for plain data only: it refuses every global a pickle names (classes, functions such as
    ``os.system``), so loading can build dicts, lists, strings and numbers but never run code."""

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"refused to load {module}.{name}: only plain dicts, lists, strings and "
                                     "numbers are accepted")


def read_plain_pickle(path: str | Path) -> object:
    """Read a pickle that holds only builtin containers, strings and numbers (see :class:`_PlainUnpickler`).

    Raises:
        ValueError: the file names a class or function (it could run code), or is not a pickle.
    """
    try:
        with open(path, "rb") as f:
            return _PlainUnpickler(f).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as error:
        raise ValueError(f"{path} is not a plain-data pickle ({error}); it was not loaded, delete it and "
                         f"{_DOWNLOAD}.") from None


# -- captions -> word vectors ---------------------------------------------------------------------
def build_lexicon(captions_dir: str | Path) -> dict[str, str]:
    """Surface word -> its most frequent ``word/POS`` token in a dataset's ``texts/*.txt`` files.

    Only caption lines whose letter-words line up one to one with their tokens are counted.
    """
    counts: dict[str, Counter] = defaultdict(Counter)
    for path in sorted(Path(captions_dir).glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            fields = line.split("#")
            if len(fields) < 2:
                continue
            words, tokens = re.findall(r"[a-z]+", fields[0].replace("-", "").lower()), fields[1].split()
            if len(words) == len(tokens) and all("/" in t for t in tokens):
                for word, token in zip(words, tokens):
                    counts[word][token] += 1
    return {word: tokens.most_common(1)[0][0] for word, tokens in counts.items()}


def tag_caption(text: str, lexicon: dict[str, str]) -> list[str]:
    """A plain caption -> ``word/POS`` tokens via :func:`build_lexicon`'s table (unseen words: ``word/OTHER``)."""
    return [lexicon.get(w, f"{w}/OTHER") for w in re.findall(r"[a-z]+", text.replace("-", "").lower())]


# -- the evaluator --------------------------------------------------------------------------------
class T2MEvaluator(nn.Module, Evaluator):
    """The official evaluator behind the :class:`~motiongpt_lite.eval.evaluator.Evaluator` interface.

    Args:
        word_vectors: (V, 300) GloVe rows. word_ids: word -> row (must hold "sos", "eos", "unk").
        mean, std: (D,) the evaluator's own normalisation. dataset: "humanml3d" or "kit".
        lexicon: for tagging plain captions (:func:`build_lexicon`); empty tags every word OTHER.
    """

    name = "t2m"
    embed_dim = 512

    def __init__(self, word_vectors: np.ndarray, word_ids: dict[str, int], mean: np.ndarray, std: np.ndarray,
                 dataset: str = "humanml3d", lexicon: dict[str, str] | None = None):
        super().__init__()
        if dataset not in _FOLDER:
            raise ValueError(f"unknown dataset {dataset!r}; the official evaluators exist for 'humanml3d' and 'kit'.")
        self.dataset, self.motion_dim = dataset, _DIM_POSE[dataset]
        if np.shape(mean) != (self.motion_dim,) or np.shape(std) != (self.motion_dim,):
            raise ValueError(f"the evaluator's mean/std have shapes {np.shape(mean)}, {np.shape(std)}; {dataset} "
                             f"needs ({self.motion_dim},): use the files of that dataset's evaluator.")
        missing = [w for w in ("sos", "eos", "unk") if w not in word_ids]
        if missing:
            raise ValueError(f"the GloVe vocabulary lacks {missing}; re-download it with {_DOWNLOAD}.")
        self.word_vectors, self.word_ids, self.lexicon = np.asarray(word_vectors, np.float32), word_ids, lexicon or {}
        self.vip = {word: category for category, words in VIP_WORDS.items() for word in words}
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean, np.float32)), persistent=False)
        self.register_buffer("std", torch.as_tensor(np.asarray(std, np.float32)), persistent=False)
        self.text_encoder = T2MTextEncoder()
        self.movement_encoder = MovementEncoder(self.motion_dim - 4)
        self.motion_encoder = T2MMotionEncoder()

    @classmethod
    def load(cls, folder: str | Path | None = None, dataset: str = "humanml3d",
             captions_dir: str | Path | None = None, trust_unverified: bool | None = None) -> "T2MEvaluator":
        """Load the downloaded evaluator (eval mode, CPU), without ever unpickling arbitrary objects.

        Args:
            folder: default :func:`official_dir`.
            dataset: "humanml3d" (folder ``t2m``) or "kit".
            captions_dir: a dataset's ``texts`` folder to tag plain captions with (:func:`build_lexicon`).
            trust_unverified: load files that have no sha256 in :data:`KNOWN_SHA256`; None reads
                ``MOTIONGPT_LITE_TRUST_T2M`` (default: refuse).
        Raises:
            FileNotFoundError: a file is missing; the message names it and the download command.
            UnverifiedFilesError (a ValueError): files without a recorded sha256 and no opt-in; the message says how
                to opt in.
            ValueError: a file fails its sha256, or holds more than plain data (it is not loaded).
        """
        folder = Path(folder) if folder else official_dir()
        if dataset not in _FOLDER:
            raise ValueError(f"unknown dataset {dataset!r}; the official evaluators exist for 'humanml3d' and 'kit'.")
        missing = [str(p) for p in _required(folder, dataset) if not p.exists()]
        stats = _normalisation_files(folder, dataset)
        if missing or stats is None:
            what = ", ".join(missing) if missing else f"{_FOLDER[dataset]}_mean.npy / _std.npy"
            raise FileNotFoundError(f"the official T2M evaluator is incomplete ({what} not found); {_DOWNLOAD}, "
                                    f"or set preset.eval.evaluator='ours'.")
        unknown = unverified_files(folder, dataset)
        if unknown and not _trusted(trust_unverified):
            raise UnverifiedFilesError(
                f"{', '.join(p.name for p in unknown)} in {folder} have no recorded sha256, so they are not loaded; if you "
                f"trust your download, set {TRUST_ENV}=1 (or pass trust_unverified=True), else use "
                "preset.eval.evaluator='ours'.")
        glove = folder / "glove"
        word_ids = read_plain_pickle(glove / "our_vab_idx.pkl")
        if not isinstance(word_ids, dict) or not all(isinstance(k, str) and isinstance(v, int) and not
                                                     isinstance(v, bool) for k, v in word_ids.items()):
            raise ValueError(f"{glove / 'our_vab_idx.pkl'} does not hold a word -> row dict; delete it and {_DOWNLOAD}.")
        lexicon = build_lexicon(captions_dir) if captions_dir and Path(captions_dir).is_dir() else {}
        model = cls(np.load(glove / "our_vab_data.npy"), word_ids, np.load(stats[0]), np.load(stats[1]), dataset, lexicon)
        path = folder / _FOLDER[dataset] / "text_mot_match" / "model" / "finest.tar"
        try:  # tensors and plain containers only; never weights_only=False, which would run what the file says
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
            raise ValueError(f"{path} holds more than tensors and plain data, so it was not loaded "
                             f"({str(error).splitlines()[0][:120]}); delete it and {_DOWNLOAD}.") from None
        if not isinstance(checkpoint, dict):
            raise ValueError(f"{path} holds a {type(checkpoint).__name__}, not the evaluator's dict; {_DOWNLOAD}.")
        for part in ("text_encoder", "movement_encoder", "motion_encoder"):
            if part not in checkpoint:
                raise ValueError(f"{folder} holds no {part!r} in finest.tar; it is not the T2M evaluator, {_DOWNLOAD}.")
            getattr(model, part).load_state_dict(checkpoint[part])
        return model.eval()

    def vectorize(self, token: str) -> tuple[int, int]:
        """A ``word/POS`` token -> (GloVe row, index in ``POS_CATEGORIES``) by the official vectoriser's rules:
        a word without a vector is ``unk``/OTHER; a listed "very important" word takes its list's category;
        an unknown tag is OTHER."""
        word, _, pos = token.partition("/")
        if word not in self.word_ids:
            return self.word_ids["unk"], POS_CATEGORIES.index("OTHER")
        category = self.vip.get(word, pos if pos in POS_CATEGORIES else "OTHER")
        return self.word_ids[word], POS_CATEGORIES.index(category)

    @torch.no_grad()
    def embed_texts(self, texts: Sequence[str], tokens: Sequence[Sequence[str]] | None = None,
                    batch_size: int = 256) -> np.ndarray:
        """(N, 512) embeddings; ``tokens`` (the dataset's ``word/POS`` lists) give the official input exactly,
        else each text is tagged with the lexicon (see the module's "Paper vs code")."""
        texts = check_texts(texts)
        if tokens is not None and len(tokens) != len(texts):
            raise ValueError(f"got {len(tokens)} token lists for {len(texts)} texts; pass one per text or none.")
        rows = [list(tokens[i]) if tokens is not None and tokens[i] else tag_caption(t, self.lexicon)
                for i, t in enumerate(texts)]
        self.eval()
        chunks = []
        for start in range(0, len(rows), batch_size):
            coded = [[self.vectorize(t) for t in ["sos/OTHER", *row[:MAX_TEXT_WORDS], "eos/OTHER"]]
                     for row in rows[start:start + batch_size]]
            text_len = torch.tensor([len(c) for c in coded])  # (B,)
            ids = torch.full((len(coded), int(text_len.max())), self.word_ids["unk"], dtype=torch.long)  # (B, L)
            pos = torch.zeros(len(coded), int(text_len.max()), len(POS_CATEGORIES))  # (B, L, 15)
            for b, words in enumerate(coded):
                ids[b, :len(words)] = torch.tensor([w for w, _ in words])
                pos[b, torch.arange(len(words)), torch.tensor([p for _, p in words])] = 1.0
            vectors = torch.from_numpy(self.word_vectors[ids.numpy()]).to(self.mean.device)  # (B, L, 300)
            chunks.append(self.text_encoder(vectors, pos.to(self.mean.device), text_len))
        return torch.cat(chunks).cpu().numpy()  # (N, 512)

    @torch.no_grad()
    def embed_motions(self, motions: Sequence[np.ndarray], batch_size: int = 256) -> np.ndarray:
        """(N, 512) embeddings of raw (T_i, D) motions; the GRU runs over ``T_i // 4`` steps as in the protocol."""
        motions = check_motions(motions, self.motion_dim)
        self.eval()
        chunks = []
        for start in range(0, len(motions), batch_size):
            batch = [(torch.from_numpy(m).to(self.mean.device) - self.mean) / self.std
                     for m in motions[start:start + batch_size]]
            steps = torch.tensor([len(m) // UNIT_LENGTH for m in batch])  # (B,)
            movements = self.movement_encoder(pad_motions(batch)[..., :-4])  # (B, S, 512) foot contacts dropped
            chunks.append(self.motion_encoder(movements, steps))
        return torch.cat(chunks).cpu().numpy()  # (N, 512)
