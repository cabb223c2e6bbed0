"""Dataset folder reading (length rules of the reference T2M loader, skipped clips, errors) and the
torch datasets built on it, on tiny folders written here and on the official reference clip."""
from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from motiongpt_lite.data.dataset import (Caption, MotionTextDataset, MotionWindowDataset, collate_motion_text,
                                         load_split, read_captions)
from motiongpt_lite.data.normalization import Normalizer, compute_mean_std
from motiongpt_lite.data.skeleton import KIT

WHOLE = "a person walks forward.#a/DET person/NOUN walk/VERB forward/ADV#0.0#0.0"


def smooth_motion(num_frames: int, dim: int = 263, seed: int = 0, dtype=np.float32) -> np.ndarray:
    """(T, D) a random walk: smooth like real features, distinct in every frame."""
    steps = np.random.default_rng(seed).normal(scale=0.1, size=(num_frames, dim))
    return np.cumsum(steps, axis=0).astype(dtype)


def write_clip(root: Path, clip_id: str, motion: np.ndarray | None, caption_lines: list[str] | None) -> None:
    if motion is not None:
        np.save(root / "new_joint_vecs" / f"{clip_id}.npy", motion)
    if caption_lines is not None:
        (root / "texts" / f"{clip_id}.txt").write_text("\n".join(caption_lines) + "\n")


@pytest.fixture()
def folder(tmp_path) -> Path:
    """A HumanML3D-layout folder with one clip of every kind the loader must handle."""
    root = tmp_path / "toy"
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    (root / "labels").mkdir()
    clips = {
        # 120 frames: two whole-motion captions, a kept part (frames 20:80) and a too-short part (0:30)
        "000001": (smooth_motion(120, seed=1), [WHOLE, "", "someone waves.#someone/PRON wave/VERB#0.0#0.0",
                                                 "he turns.#he/PRON turn/VERB#1.0#4.0", "a step.#a/DET step/NOUN#0.0#1.5"]),
        "000002": (smooth_motion(80, seed=2, dtype=np.float64), [WHOLE]),  # float64 on disk
        "000003": (np.where(np.arange(90)[:, None] == 5, np.nan, smooth_motion(90, seed=3)), [WHOLE]),
        "000004": (smooth_motion(30, seed=4), [WHOLE]),  # too short
        "000005": (smooth_motion(220, seed=5), [WHOLE, "a part.#a/DET part/NOUN#1.0#4.0"]),  # too long, parts too
        "000006": (None, [WHOLE]),  # no motion file
        # only part captions, the same part twice: two items, no whole-motion item
        "000007": (smooth_motion(150, seed=7), ["jumps.#jump/VERB#0.5#3.5", "hops.#hop/VERB#0.5#3.5"]),
        "000008": (smooth_motion(100, dim=251, seed=8), [WHOLE]),  # KIT width in a HumanML3D folder
        "000009": (smooth_motion(100, seed=9), None),  # no caption file
        "000010": (smooth_motion(199, seed=10), ["", "runs.#run/VERB#nan#nan", ""]),  # NaN times = whole motion
        "000011": (smooth_motion(200, seed=11), [WHOLE]),  # too long: the reference keeps T < 200
        "000012": (smooth_motion(40, seed=12), [WHOLE]),  # shortest kept
        "M000001": (smooth_motion(120, seed=13), [WHOLE]),  # mirrored clips are ordinary ids
    }
    for clip_id, (motion, lines) in clips.items():
        write_clip(root, clip_id, motion, lines)
    (root / "labels" / "000002.json").write_text(json.dumps({"action": "walk", "speed": 1.2}))
    ids = list(clips)
    (root / "train.txt").write_text("\n".join(ids) + "\n\n")
    (root / "val.txt").write_text("000002\n000007\n")
    good = [m for m, _ in clips.values() if m is not None and m.shape[1] == 263 and np.isfinite(m).all()]
    Normalizer(*compute_mean_std(good)).save(root)
    return root


@pytest.fixture()
def train(folder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_split(folder, "train")


def test_read_captions(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("\n" + WHOLE + "\n\n  \nturns.#turn/VERB#1.5#3.25\nhops#hop/VERB#nan#NaN\nbare caption\n")
    captions = read_captions(path)
    assert captions[0] == Caption("a person walks forward.", ["a/DET", "person/NOUN", "walk/VERB", "forward/ADV"], 0.0, 0.0)
    assert (captions[1].start, captions[1].end) == (1.5, 3.25) and not captions[1].whole_motion
    assert (captions[2].start, captions[2].end) == (0.0, 0.0) and captions[2].whole_motion
    assert captions[3] == Caption("bare caption", [], 0.0, 0.0)
    assert len(captions) == 4
    path.write_text("walks.#walk/VERB#soon#later\n")
    with pytest.raises(ValueError, match="line 1"):
        read_captions(path)


def test_items_ids_and_parts(folder, train):
    by_id = {clip.id: clip for clip in train.clips}
    assert list(by_id) == ["000001", "000001#1.0#4.0", "000002", "000007#0.5#3.5", "000007#0.5#3.5#2",
                           "000010", "000012", "M000001"]
    source = np.load(folder / "new_joint_vecs" / "000001.npy")
    np.testing.assert_array_equal(by_id["000001"].motion, source)
    assert [c.text for c in by_id["000001"].captions] == ["a person walks forward.", "someone waves."]
    np.testing.assert_array_equal(by_id["000001#1.0#4.0"].motion, source[20:80])
    assert [c.text for c in by_id["000001#1.0#4.0"].captions] == ["he turns."]
    parent = np.load(folder / "new_joint_vecs" / "000007.npy")
    for part_id, text in [("000007#0.5#3.5", "jumps."), ("000007#0.5#3.5#2", "hops.")]:
        np.testing.assert_array_equal(by_id[part_id].motion, parent[10:70])
        assert [c.text for c in by_id[part_id].captions] == [text]
    assert [c.text for c in by_id["000010"].captions] == ["runs."]
    assert by_id["000002"].labels == {"action": "walk", "speed": 1.2}
    assert by_id["000001"].labels is None and by_id["000001#1.0#4.0"].labels is None
    assert train.fps == 20.0 and len(train) == 8


def test_skipped_reasons_and_one_warning(folder):
    with pytest.warns(UserWarning, match="skipped 8") as record:
        split = load_split(folder, "train")
    assert len(record) == 1
    reasons = split.skipped
    assert set(reasons) == {"000001#0.0#1.5", "000003", "000004", "000005", "000006", "000008", "000009", "000011"}
    assert reasons["000001#0.0#1.5"].startswith("too short: 30 frames")
    assert reasons["000003"] == "NaN or inf values"
    assert reasons["000004"] == "too short: 30 frames < 40"
    assert reasons["000005"] == "too long: 220 frames >= 200"
    assert reasons["000011"] == "too long: 200 frames >= 200"
    assert reasons["000006"].startswith("missing motion file")
    assert reasons["000008"].startswith("wrong feature dimension")
    assert reasons["000009"].startswith("missing caption file")


def test_length_bounds_are_arguments(folder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        split = load_split(folder, "train", min_frames=20, max_frames=250)
    ids = [clip.id for clip in split.clips]
    assert "000004" in ids and "000005" in ids and "000005#1.0#4.0" in ids and "000001#0.0#1.5" in ids


def test_float64_is_cast_and_normalisation_round_trips(folder, train):
    assert np.load(folder / "new_joint_vecs" / "000002.npy").dtype == np.float64
    assert all(clip.motion.dtype == np.float32 for clip in train.clips)
    np.testing.assert_array_equal(train.normalizer.mean, np.load(folder / "Mean.npy"))
    np.testing.assert_array_equal(train.normalizer.std, np.load(folder / "Std.npy"))
    motion = train.clips[0].motion
    normalised = train.normalizer.normalize(torch.from_numpy(motion))
    torch.testing.assert_close(normalised, torch.from_numpy((motion - train.normalizer.mean) / train.normalizer.std))
    np.testing.assert_allclose(train.normalizer.denormalize(normalised).numpy(), motion, atol=1e-5)


def test_missing_data_names_the_fix(folder, tmp_path):
    for dataset, fix in [("embedded", f"motiongpt-lite data build --out {tmp_path / 'nowhere'}"),
                         ("humanml3d", "bash data_download.sh humanml3d"), ("kit", "bash data_download.sh kit")]:
        with pytest.raises(FileNotFoundError, match="nowhere") as error:
            load_split(tmp_path / "nowhere", "train", dataset=dataset)
        assert fix in str(error.value)
    with pytest.raises(FileNotFoundError, match=r"test\.txt.*bash data_download.sh humanml3d"):
        load_split(folder, "test")
    with pytest.raises(ValueError, match="unknown dataset"):
        load_split(folder, "train", dataset="amass")
    with pytest.raises(ValueError, match="251"):
        load_split(folder, "train", dataset="kit")


def test_kit_uses_its_width_frame_rate_and_minimum(tmp_path):
    root = tmp_path / "kit"
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    write_clip(root, "00001", smooth_motion(100, dim=251), [WHOLE, "a part.#a/DET part/NOUN#1.0#3.0"])
    write_clip(root, "00002", smooth_motion(30, dim=251, seed=1), [WHOLE])  # kept: KIT's minimum is 24
    (root / "test.txt").write_text("00001\n00002\n")
    Normalizer(*compute_mean_std([smooth_motion(100, dim=251)], num_joints=21)).save(root)
    split = load_split(root, "test", dataset=KIT)
    assert split.fps == 12.5 and split.skipped == {}
    assert [clip.id for clip in split.clips] == ["00001", "00001#1.0#3.0", "00002"]
    np.testing.assert_array_equal(split.clips[1].motion, split.clips[0].motion[12:37])


def test_window_dataset(train):
    data = MotionWindowDataset(train, window_frames=64, seed=3)
    assert data.dropped == ["000001#1.0#4.0", "000007#0.5#3.5", "000007#0.5#3.5#2", "000012"]
    assert len(data) == 4
    window = data[0]
    assert window.shape == (64, 263) and window.dtype == torch.float32
    torch.testing.assert_close(data[0], MotionWindowDataset(train, window_frames=64, seed=3)[0])
    normalised = train.normalizer.normalize(train.clips[0].motion)
    starts = [s for s in range(len(normalised) - 63) if np.allclose(normalised[s:s + 64], window.numpy())]
    assert len(starts) == 1
    first_epoch = [data[i] for i in range(len(data))]
    data.set_epoch(1)
    assert any(not torch.equal(a, data[i]) for i, a in enumerate(first_epoch))
    data.set_epoch(0)
    assert all(torch.equal(a, data[i]) for i, a in enumerate(first_epoch))


def test_text_dataset_crop_rule(folder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        split = load_split(folder, "train", max_frames=250)  # keeps the 220-frame clip to test the cap
    data = MotionTextDataset(split, unit_length=4, max_frames=196, seed=0)
    shorter = 0
    for epoch in range(30):
        data.set_epoch(epoch)
        for index, clip in enumerate(split.clips):
            item = data[index]
            full = (len(clip.motion) // 4) * 4
            assert item["motion_len"] % 4 == 0 and item["motion_len"] <= 196
            assert item["motion_len"] in ({full, full - 4} if full <= 196 else {196})
            shorter += full <= 196 and item["motion_len"] == full - 4
            assert item["motion"].shape == (item["motion_len"], 263) and item["motion"].dtype == torch.float32
            assert item["caption"] in [c.text for c in clip.captions] and item["id"] == clip.id
            assert item["tokens"] == next(c.tokens for c in clip.captions if c.text == item["caption"])
            raw = split.normalizer.denormalize(item["motion"].numpy())
            starts = [s for s in range(len(clip.motion) - item["motion_len"] + 1)
                      if np.allclose(clip.motion[s:s + item["motion_len"]], raw, atol=1e-4)]
            assert starts, "the crop must be a slice of the clip"
    trials = 30 * sum((len(c.motion) // 4) * 4 <= 196 for c in split.clips)
    assert 0.27 < shorter / trials < 0.40  # the reference's one-in-three coin (here 97 of 270)
    data.set_epoch(3)
    again = MotionTextDataset(split, seed=0)
    again.set_epoch(3)
    assert data[0]["caption"] == again[0]["caption"] and torch.equal(data[0]["motion"], again[0]["motion"])


def test_collate_pads_with_zeros(train):
    data = MotionTextDataset(train, seed=1)
    items = [data[0], data[1], data[2]]
    batch = collate_motion_text(items)
    lengths = [item["motion_len"] for item in items]
    assert batch["motion"].shape == (3, max(lengths), 263) and batch["motion"].dtype == torch.float32
    assert batch["motion_len"].dtype == torch.long and batch["motion_len"].tolist() == lengths
    for row, item in enumerate(items):
        torch.testing.assert_close(batch["motion"][row, :lengths[row]], item["motion"])
        assert (batch["motion"][row, lengths[row]:] == 0).all()
    assert batch["caption"] == [i["caption"] for i in items] and batch["id"] == [i["id"] for i in items]
    assert batch["tokens"] == [i["tokens"] for i in items]
    loader = torch.utils.data.DataLoader(data, batch_size=4, collate_fn=collate_motion_text)
    assert next(iter(loader))["motion"].shape[0] == 4


def test_reads_the_official_reference_clip(reference_dir, tmp_path):
    root = tmp_path / "humanml3d"
    for name in ["new_joint_vecs/000000.npy", "texts/000000.txt", "Mean.npy", "Std.npy"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(reference_dir / name, root / name)
    (root / "test.txt").write_text("000000\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean clip gives no warning
        split = load_split(root, "test", dataset="humanml3d")
    source = np.load(reference_dir / "new_joint_vecs" / "000000.npy")
    assert source.dtype == np.float64 and split.skipped == {}
    (clip,) = split.clips
    assert clip.id == "000000" and clip.motion.dtype == np.float32 and clip.motion.shape == (116, 263)
    np.testing.assert_array_equal(clip.motion, source.astype(np.float32))
    assert len(clip.captions) == 4 and all(c.whole_motion for c in clip.captions)
    assert clip.captions[0].text == "a man kicks something or someone with his left leg."
    assert all("/" in token for c in clip.captions for token in c.tokens)
    assert clip.captions[0].tokens[:3] == ["a/DET", "man/NOUN", "kick/VERB"]


def test_one_bad_file_skips_one_clip_and_a_bad_split_file_is_named(folder):
    """Issue 18: a zero-byte .npy and a caption timed #inf used to abort the whole split with no file named."""
    (folder / "new_joint_vecs" / "000012.npy").write_bytes(b"")
    write_clip(folder, "000002", None, [WHOLE, "runs.#run/VERB#0.5#inf"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        split = load_split(folder, "train")
    assert split.skipped["000012"].startswith("unreadable motion file: 000012.npy")
    assert split.skipped["000002"].startswith("bad caption file") and "line 2" in split.skipped["000002"]
    assert "000001" in {c.id for c in split.clips}  # the good clips are all still there
    (folder / "val.txt").write_bytes(b"000002\n\xff\xfe000007\n")
    with pytest.raises(ValueError, match="val.txt is not UTF-8 text"):
        load_split(folder, "val")
