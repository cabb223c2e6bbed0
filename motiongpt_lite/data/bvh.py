"""Bring your own motion: BVH motion-capture files -> HumanML3D joints and features
(introduced in notebook 08, the playground).

A BVH file has two parts. ``HIERARCHY`` lists the skeleton: every ``JOINT`` has an ``OFFSET``
(where it sits in its parent's frame, in the file's length unit) and ``CHANNELS`` (which numbers of
a frame drive it, e.g. ``Xposition Yposition Zposition Zrotation Yrotation Xrotation``); an
``End Site`` only marks the tip of a bone. ``MOTION`` holds the frame count, the frame time and one
line of numbers per frame, one per channel, in hierarchy order.

Forward kinematics (:func:`bvh_forward_kinematics`): rotations are Euler angles in degrees, applied
in the order the channels are listed, as matrices acting on column vectors, so
``Zrotation Yrotation Xrotation`` means ``R = Rz @ Ry @ Rx``. A joint's world rotation is its
parent's times its own; its position is the parent's position plus the parent's world rotation
applied to its translation. The translation is its ``OFFSET``; position channels, where a joint has
them (usually only the root), replace the offset's coordinates.

:func:`bvh_to_joints` turns a parsed file into a HumanML3D-style clip:

1. forward kinematics of every joint, in the file's units;
2. pick the 22 SMPL joints by name (``mapping``; a tuple of names is the mean of those joints);
3. resample to ``fps``: when the file's rate is a whole multiple of ``fps`` (CMU: 120 = 6 x 20)
   we keep every n-th frame, as HumanML3D does when it brings AMASS down to 20 fps (no filtering);
   otherwise positions are interpolated linearly between the two nearest frames;
4. retarget onto the HumanML3D reference skeleton with :func:`features.retarget`: every bone keeps
   its direction and gets the reference length, and the root trajectory is scaled by the ratio of
   leg lengths (right knee and shin bones), which also converts the file's unit to metres
   (:func:`bvh_unit_scale`; CMU files measure 5.75 cm per unit this way, CMU documents 1/0.45 inch
   = 5.64 cm);
5. the floor at y = 0, frame 0's pelvis above the origin, frame 0 facing +Z, the same steps as
   :func:`features.joints_to_features`, so the result is already in the form the tokenizer was
   trained on. BVH files are Y-up by convention and we require it.

The floor. HumanML3D takes the clip's single lowest joint position as the floor. Real mocap has
frames where a foot sinks through the floor (131_02: a toe 6 cm under it for 0.2 s), and
retargeting onto longer shins lowers the feet whenever the knees bend deeply (131_01's crouch), so
one such frame would leave the feet hovering 5-7 cm above the floor for the rest of the clip. We
take the floor at the 20th percentile (``FLOOR_PERCENTILE``) of each frame's lowest joint and lift
the frames that go below it straight up onto it (a rigid shift of that frame; bones untouched).
Clean clips barely change (HumanML3D's reference clips: by at most 7 mm); ``floor_percentile=0``
gives HumanML3D's rule. The lowest joint is then exactly at 0, so ``joints_to_features`` keeps it.

Default mappings (``CMU_MAPPINGS``) cover two namings of the CMU skeleton: ``cmu_cgspeed`` (the
cgspeed MotionBuilder-friendly release) and ``cmu_131`` (the naming of the files in
``../shared/data/cmu_bvh``); the first whose joint names the file has is used. Both
have 31 joints with the same layout; note that ``LeftShoulder`` is the collar in one and the
upper arm in the other, so names alone cannot be trusted across skeletons.

==============  ======================  ======================  =====================================
SMPL joint      cgspeed                 131_xx variant          why
==============  ======================  ======================  =====================================
pelvis          Hips                    Hips                    the root, between the hips
l_hip, r_hip    LeftUpLeg, RightUpLeg   LeftHip, RightHip       hip joint centre (``LHipJoint`` sits
                                                                on the root: zero offset)
l/r_knee        LeftLeg, RightLeg       LeftKnee, RightKnee     knee
l/r_ankle       LeftFoot, RightFoot     LeftAnkle, RightAnkle   ankle
l/r_foot        LeftToeBase, Right...   LeftToe, RightToe       ball of the foot, as SMPL's foot joint
spine1          Spine                   Chest                   first vertebra joint above the root
                                                                (``LowerBack`` sits on the root)
spine2          mean(Spine, Spine1)     mean(Chest, Chest2)     CMU has one joint fewer in the spine:
                                                                a point halfway up the chest bone
spine3          Spine1                  Chest2                  top of the thorax, where neck and
                                                                collars branch off, as in SMPL
neck            Neck1                   Neck                    base of the neck (``Neck`` /
                                                                ``lowerneck`` sit on spine3)
head            Head                    Head                    base of the skull
l/r_collar      mean(Spine1, LeftArm)   mean(Chest2,            CMU's collar joint sits on spine3
                                        LeftShoulder)           (zero offset): halfway along the
                                                                collar bone instead
l/r_shoulder    LeftArm, RightArm       LeftShoulder, Right...  shoulder joint (top of the humerus)
l/r_elbow       LeftForeArm, Right...   LeftElbow, RightElbow   elbow
l/r_wrist       LeftHand, RightHand     LeftWrist, RightWrist   wrist
==============  ======================  ======================  =====================================

Hands, fingers, thumbs, toe tips and the head's end site are left out (SMPL's 22 joints have none).
For another skeleton pass ``mapping={"pelvis": "mixamorig:Hips", ...}`` with all 22 SMPL names.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from motiongpt_lite.data.features import joints_to_features, retarget
from motiongpt_lite.data.skeleton import HUMANML3D, to_start_frame

__all__ = ["Bvh", "parse_bvh", "load_bvh", "bvh_forward_kinematics", "bvh_unit_scale", "bvh_to_joints",
           "bvh_to_features", "CMU_MAPPINGS", "FLOOR_PERCENTILE"]

JointSpec = str | tuple[str, ...]  # a BVH joint name, or several whose positions are averaged
FLOOR_PERCENTILE = 20.0  # the floor: this percentile of the per-frame lowest joint height (0 = HumanML3D's minimum)

_CHANNELS = {f"{axis}{kind}".lower(): f"{axis}{kind}" for axis in "XYZ" for kind in ("position", "rotation")}


def _cmu_mapping(up_leg: str, leg: str, foot: str, toe: str, spine: str, spine1: str, neck1: str,
                 arm: str, fore_arm: str, hand: str) -> dict[str, JointSpec]:
    """The SMPL <- CMU mapping for one naming scheme; arguments are the left-side names after 'Left'."""
    mapping: dict[str, JointSpec] = {"pelvis": "Hips", "spine1": spine, "spine2": (spine, spine1), "spine3": spine1,
                                     "neck": neck1, "head": "Head"}
    for side, prefix in (("l", "Left"), ("r", "Right")):
        mapping.update({f"{side}_hip": prefix + up_leg, f"{side}_knee": prefix + leg, f"{side}_ankle": prefix + foot,
                        f"{side}_foot": prefix + toe, f"{side}_collar": (spine1, prefix + arm),
                        f"{side}_shoulder": prefix + arm, f"{side}_elbow": prefix + fore_arm,
                        f"{side}_wrist": prefix + hand})
    return mapping


CMU_MAPPINGS: dict[str, dict[str, JointSpec]] = {
    "cmu_cgspeed": _cmu_mapping("UpLeg", "Leg", "Foot", "ToeBase", "Spine", "Spine1", "Neck1", "Arm", "ForeArm",
                                "Hand"),
    "cmu_131": _cmu_mapping("Hip", "Knee", "Ankle", "Toe", "Chest", "Chest2", "Neck", "Shoulder", "Elbow", "Wrist"),
}


@dataclass
class Bvh:
    """A parsed BVH file. Joints are in file order (depth first); end sites are joints without channels.

    Attributes:
        names: J joint names; an end site is named after its parent plus ``"_end"``.
        parents: J parent indices, -1 for a root.
        offsets: (J, 3) position of each joint in its parent's frame, in the file's unit.
        channels: J lists of channel names such as ``["Zrotation", "Yrotation", "Xrotation"]``.
        is_end_site: J flags, True for ``End Site`` entries.
        frame_time: seconds per frame (CMU: 1/120).
        motion: (F, C) channel values per frame, C = total number of channels; angles in degrees.
    """

    names: list[str]
    parents: list[int]
    offsets: np.ndarray
    channels: list[list[str]]
    is_end_site: list[bool]
    frame_time: float
    motion: np.ndarray

    @property
    def joint_names(self) -> list[str]:
        """Names of the real joints (end sites left out)."""
        return [name for name, end in zip(self.names, self.is_end_site) if not end]

    @property
    def num_frames(self) -> int:
        return len(self.motion)

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    def channel_start(self) -> list[int]:
        """Column of ``motion`` holding each joint's first channel."""
        return np.cumsum([0] + [len(c) for c in self.channels[:-1]]).tolist()


class _Tokens:
    """Whitespace tokens of the hierarchy with their line numbers, read one at a time."""

    def __init__(self, lines: list[str]):
        self.items = [(number, word) for number, line in enumerate(lines, start=1) for word in line.split()]
        self.pos = 0

    def peek(self) -> str | None:
        return self.items[self.pos][1] if self.pos < len(self.items) else None

    def line(self) -> int:
        return self.items[min(self.pos, len(self.items) - 1)][0] if self.items else 1

    def take(self, expected: str | None = None) -> str:
        if self.pos >= len(self.items):
            raise ValueError(f"BVH hierarchy ends early (expected {expected or 'more'} before MOTION); "
                             "check that every '{' has its '}' and re-export the file.")
        number, word = self.items[self.pos]
        if expected is not None and word.lower() != expected.lower():
            raise ValueError(f"BVH line {number}: expected '{expected}' but found '{word}'; "
                             "the hierarchy is malformed, re-export the file.")
        self.pos += 1
        return word

    def numbers(self, count: int, what: str) -> list[float]:
        words = [self.take() for _ in range(count)]
        try:
            return [float(word) for word in words]
        except ValueError:
            raise ValueError(f"BVH line {self.line()}: {what} needs {count} numbers, got {' '.join(words)}; "
                             "fix or re-export the file.") from None


MAX_DEPTH = 100  # deepest joint chain read (a human skeleton has about 10; a deeper one is refused, not a RecursionError)


def _parse_joint(tokens: _Tokens, name: str, parent: int, end_site: bool, bvh: dict, depth: int = 0) -> None:
    """Read one ``{ OFFSET ... CHANNELS ... children }`` block (recursively) into ``bvh``."""
    if depth > MAX_DEPTH:
        raise ValueError(f"BVH line {tokens.line()}: joints are nested more than {MAX_DEPTH} deep at {name}; this is "
                         "not a human skeleton, export the file again.")
    index = len(bvh["names"])
    bvh["names"].append(name)
    bvh["parents"].append(parent)
    bvh["is_end_site"].append(end_site)
    tokens.take("{")
    tokens.take("OFFSET")
    bvh["offsets"].append(tokens.numbers(3, f"OFFSET of {name}"))
    channels: list[str] = []
    if not end_site and tokens.peek() and tokens.peek().upper() == "CHANNELS":
        tokens.take()
        line, count = tokens.line(), tokens.take()
        if not count.isdigit():
            raise ValueError(f"BVH line {line}: CHANNELS of {name} must start with a count, got '{count}'; "
                             "fix the file.")
        for _ in range(int(count)):
            word = tokens.peek()
            if word is None or word.lower() not in _CHANNELS:
                raise ValueError(f"BVH line {line}: {name} declares {count} channels but lists "
                                 f"{len(channels)} ({' '.join(channels) or 'none'}) before '{word}'; make the count "
                                 "match the channel names (Xposition ... Zrotation).")
            channels.append(_CHANNELS[tokens.take().lower()])
    bvh["channels"].append(channels)
    while (word := tokens.peek()) != "}":
        if word is None:
            tokens.take("}")
        elif word.upper() == "JOINT" and not end_site:
            tokens.take()
            _parse_joint(tokens, tokens.take(), index, False, bvh, depth + 1)
        elif word.upper() == "END" and not end_site:
            tokens.take()
            tokens.take("Site")
            _parse_joint(tokens, f"{name}_end", index, True, bvh, depth + 1)
        else:
            raise ValueError(f"BVH line {tokens.line()}: unexpected '{word}' inside {name}; "
                             "expected JOINT, End Site or '}', re-export the file.")
    tokens.take("}")


def parse_bvh(text: str) -> Bvh:
    """Parse the contents of a BVH file (any line endings, spaces or tabs, any channel order).

    Args:
        text: the whole file as a string, e.g. from ``Path.read_text`` or an upload widget.
    Returns:
        :class:`Bvh` with ``motion`` of shape (F, C).
    Raises:
        ValueError: not a BVH file, malformed hierarchy, channel counts that do not match, or a
            MOTION section shorter than its ``Frames:`` line says; the message names the line.
    """
    lines = text.splitlines()
    first = next((line.split()[0] for line in lines if line.strip()), "")
    if first.upper() != "HIERARCHY":
        raise ValueError(f"this is not a BVH file: it should start with HIERARCHY but starts with "
                         f"'{first[:40]}'; pass the text of a .bvh motion-capture file.")
    motion_at = next((i for i, line in enumerate(lines) if line.strip().upper() == "MOTION"), None)
    if motion_at is None:
        raise ValueError("this BVH file has no MOTION section (only a skeleton); export it with its animation.")

    tokens = _Tokens(lines[:motion_at])
    tokens.take("HIERARCHY")
    bvh: dict = {"names": [], "parents": [], "offsets": [], "channels": [], "is_end_site": []}
    while tokens.peek() is not None:
        tokens.take("ROOT")
        _parse_joint(tokens, tokens.take(), -1, False, bvh)
    if not bvh["names"]:
        raise ValueError("this BVH file's HIERARCHY holds no ROOT joint; export the skeleton with the motion.")

    rest = [(number, line) for number, line in enumerate(lines[motion_at + 1:], start=motion_at + 2) if line.strip()]
    header = {}
    for key in ("frames", "frame time"):
        number, line = rest.pop(0) if rest else (len(lines), "")
        label, _, value = line.partition(":")
        if label.strip().lower() != key:
            raise ValueError(f"BVH line {number}: expected '{key.title()}: ...' after MOTION, found "
                             f"'{line.strip()[:40]}'; the MOTION header is malformed, re-export the file.")
        header[key] = value.strip()
    try:
        num_frames, frame_time = int(header["frames"]), float(header["frame time"])
    except ValueError:
        raise ValueError(f"BVH MOTION header has Frames '{header['frames']}' and Frame Time '{header['frame time']}', "
                         "which should be a whole number and seconds; fix the header.") from None
    if not np.isfinite(frame_time) or frame_time <= 0:
        raise ValueError(f"BVH Frame Time is {frame_time} s; it must be positive and finite (e.g. 0.0083333 for 120 fps).")
    if num_frames < 1:
        raise ValueError(f"BVH MOTION header says Frames: {num_frames}; a motion needs at least one frame, export "
                         "the file with its animation.")

    num_channels = sum(len(c) for c in bvh["channels"])
    if len(rest) < num_frames:
        raise ValueError(f"the BVH MOTION section declares {num_frames} frames but holds only {len(rest)}: "
                         "the file looks truncated, download or export it again.")
    if len(rest) > num_frames:
        raise ValueError(f"the BVH MOTION section declares {num_frames} frames but holds {len(rest)} lines of "
                         "numbers; fix the 'Frames:' line or re-export the file.")
    rows = [line.split() for _, line in rest]
    for (number, _), row in zip(rest, rows):
        if len(row) != num_channels:
            raise ValueError(f"BVH line {number} has {len(row)} numbers but the hierarchy declares {num_channels} "
                             "channels per frame; the file is truncated or its hierarchy does not match its motion.")
    try:
        motion = np.array(rows, dtype=np.float64).reshape(num_frames, num_channels)  # (F, C)
    except ValueError:
        number = next(n for (n, _), row in zip(rest, rows) if not _all_numbers(row))
        raise ValueError(f"BVH line {number} holds something that is not a number; "
                         "fix or re-export the file.") from None
    if not np.isfinite(motion).all():
        frame = int(np.flatnonzero(~np.isfinite(motion).all(axis=1))[0])
        raise ValueError(f"BVH frame {frame} holds NaN or inf values; clean the motion before importing it.")
    return Bvh(names=bvh["names"], parents=bvh["parents"], offsets=np.array(bvh["offsets"], dtype=np.float64),
               channels=bvh["channels"], is_end_site=bvh["is_end_site"], frame_time=frame_time, motion=motion)


def _all_numbers(words: list[str]) -> bool:
    try:
        [float(word) for word in words]
    except ValueError:
        return False
    return True


def load_bvh(path: str | Path) -> Bvh:
    """Read and parse a ``.bvh`` file (see :func:`parse_bvh`)."""
    return parse_bvh(Path(path).read_text(encoding="utf-8", errors="replace"))


def _axis_rotation(axis: int, degrees: np.ndarray) -> np.ndarray:
    """Rotation matrices about axis 0/1/2 (x/y/z) by ``degrees``, right-hand rule. (F,) -> (F, 3, 3)."""
    angle = np.radians(degrees)
    c, s = np.cos(angle), np.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]  # the plane the rotation turns: y->z, z->x, x->y
    matrix = np.zeros(angle.shape + (3, 3))
    matrix[:, axis, axis] = 1.0
    matrix[:, i, i], matrix[:, i, j], matrix[:, j, i], matrix[:, j, j] = c, -s, s, c
    return matrix


def bvh_forward_kinematics(bvh: Bvh) -> np.ndarray:
    """World positions of every joint and end site, in the file's axes and unit.

    Args:
        bvh: a parsed file.
    Returns:
        (F, J, 3) positions, J = ``len(bvh.names)``.
    """
    num_frames = bvh.num_frames
    rotations = np.zeros((num_frames, len(bvh.names), 3, 3))
    positions = np.zeros((num_frames, len(bvh.names), 3))
    for joint, (parent, start) in enumerate(zip(bvh.parents, bvh.channel_start())):
        local = np.broadcast_to(np.eye(3), (num_frames, 3, 3))
        translation = np.tile(bvh.offsets[joint], (num_frames, 1))  # (F, 3)
        for k, channel in enumerate(bvh.channels[joint]):
            axis, values = "XYZ".index(channel[0]), bvh.motion[:, start + k]
            if channel.endswith("rotation"):
                local = local @ _axis_rotation(axis, values)  # listed order: R = R1 @ R2 @ R3
            else:
                translation[:, axis] = values
        if parent < 0:
            rotations[:, joint], positions[:, joint] = local, translation
        else:
            rotations[:, joint] = rotations[:, parent] @ local
            positions[:, joint] = positions[:, parent] + (rotations[:, parent] @ translation[..., None])[..., 0]
    return positions


def _resolve_mapping(bvh: Bvh, mapping: dict[str, JointSpec] | None) -> dict[str, JointSpec]:
    """The given mapping, checked, or the first of ``CMU_MAPPINGS`` whose names the file has."""
    def missing(candidate: dict[str, JointSpec]) -> list[str]:
        wanted = [name for spec in candidate.values() for name in ((spec,) if isinstance(spec, str) else spec)]
        return sorted(set(wanted) - set(bvh.names))

    if mapping is None:
        for candidate in CMU_MAPPINGS.values():
            if not missing(candidate):
                return candidate
        closest_name, closest = min(CMU_MAPPINGS.items(), key=lambda item: len(missing(item[1])))
        raise ValueError(f"this BVH skeleton is not a CMU one we know: the closest ({closest_name}) lacks joints "
                         f"{missing(closest)}; the file has {bvh.joint_names}. Pass mapping={{SMPL joint: BVH joint}} "
                         f"for the 22 SMPL joints {list(HUMANML3D.joint_names)}.")
    lacking = [name for name in HUMANML3D.joint_names if name not in mapping]
    if lacking:
        raise ValueError(f"the mapping lacks SMPL joints {lacking}; give a BVH joint (or a tuple of joints to "
                         f"average) for each of {list(HUMANML3D.joint_names)}.")
    absent = missing({name: mapping[name] for name in HUMANML3D.joint_names})
    if absent:
        raise ValueError(f"the mapping names BVH joints {absent} that this file does not have; "
                         f"its joints are {bvh.names}.")
    return mapping


def _pick(positions: np.ndarray, names: list[str], mapping: dict[str, JointSpec]) -> np.ndarray:
    """The 22 SMPL joints picked (or averaged) from all joints. (F, J, 3) -> (F, 22, 3)."""
    index = {name: i for i, name in enumerate(names)}
    columns = []
    for smpl_name in HUMANML3D.joint_names:
        spec = mapping[smpl_name]
        names_here = (spec,) if isinstance(spec, str) else spec
        columns.append(positions[:, [index[name] for name in names_here]].mean(axis=1))  # (F, 3)
    return np.stack(columns, axis=1)  # (F, 22, 3)


def _mapped_joints(bvh: Bvh, mapping: dict[str, JointSpec]) -> np.ndarray:
    """Forward kinematics of the 22 mapped joints, checked to be Y-up with no zero-length bone.

    Returns:
        (F, 22, 3) positions in the file's unit.
    """
    rest_pose = replace(bvh, motion=np.zeros((1, bvh.motion.shape[1])))  # every channel at 0
    rest = _pick(bvh_forward_kinematics(rest_pose), bvh.names, mapping)[0]  # (22, 3)
    up = rest[HUMANML3D.joint_names.index("head")] - rest[0]  # pelvis -> head
    if up[1] <= 0.5 * np.abs(up).max():
        raise ValueError(f"in this file's rest pose the body points along {np.round(up / np.linalg.norm(up), 2)}, "
                         "not +Y; BVH files are Y-up by convention, re-export it with Y as the up axis.")
    joints = _pick(bvh_forward_kinematics(bvh), bvh.names, mapping)  # (F, 22, 3)
    lengths = HUMANML3D.bone_lengths(joints[0])
    short = [i for i in range(1, HUMANML3D.num_joints) if lengths[i] < 1e-6 * lengths.max()]
    if short:
        pairs = [f"{HUMANML3D.joint_names[HUMANML3D.parents[i]]}-{HUMANML3D.joint_names[i]}" for i in short]
        raise ValueError(f"the mapping puts both ends of bones {pairs} on the same point, so their direction is "
                         "undefined; map one end to another BVH joint or to a tuple of joints to average.")
    return joints


def _resample(joints: np.ndarray, frame_time: float, fps: float) -> np.ndarray:
    """Positions at times 0, 1/fps, 2/fps, ... within the clip. (F, J, 3) -> (T, J, 3).

    A whole-number ratio of frame rates (within 1e-3, as BVH headers round the frame time) keeps
    every n-th frame; any other ratio interpolates linearly between the two nearest frames.
    """
    step = 1.0 / (fps * frame_time)  # source frames per output frame
    if round(step) >= 1 and abs(step - round(step)) < 1e-3:
        return joints[:: round(step)]
    source = np.arange(int(np.floor((len(joints) - 1) / step + 1e-9)) + 1) * step  # (T,) fractional frame indices
    lower = np.minimum(np.floor(source).astype(int), len(joints) - 1)
    upper = np.minimum(lower + 1, len(joints) - 1)
    weight = (source - lower)[:, None, None]
    return (1.0 - weight) * joints[lower] + weight * joints[upper]


def bvh_unit_scale(bvh: Bvh, mapping: dict[str, JointSpec] | None = None) -> float:
    """Metres per file unit, measured as the retargeting does it: the reference skeleton's right
    thigh + shin length over the file's (frame 0). CMU files give about 0.0575 m per unit.
    """
    lengths = HUMANML3D.bone_lengths(_mapped_joints(bvh, _resolve_mapping(bvh, mapping))[0])  # (22,)
    knee, ankle = HUMANML3D.leg_joints
    reference = HUMANML3D.reference_bone_lengths
    return float((reference[knee] + reference[ankle]) / (lengths[knee] + lengths[ankle]))


def bvh_to_joints(bvh: Bvh, fps: float = 20.0, mapping: dict[str, JointSpec] | None = None,
                  floor_percentile: float = FLOOR_PERCENTILE) -> np.ndarray:
    """A BVH motion as HumanML3D joints: metres, Y up, floor at y = 0, frame 0 facing +Z, left = +X.

    Args:
        bvh: a parsed file (Y-up, as BVH files are by convention).
        fps: output frame rate (HumanML3D: 20).
        mapping: SMPL joint name -> BVH joint name, or tuple of names to average; default: the
            matching entry of ``CMU_MAPPINGS``.
        floor_percentile: the floor is this percentile of each frame's lowest joint height, and
            frames that sink below it are lifted onto it; 0 gives HumanML3D's rule (the clip's
            lowest point is the floor, nothing lifted).
    Returns:
        (T, 22, 3) float64 joints on the HumanML3D reference skeleton, T = floor(duration * fps) + 1.
    Raises:
        ValueError: unknown skeleton or joint names (the message lists the file's joints), a file
            that is not Y-up, or a clip shorter than two output frames.
    """
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}; HumanML3D uses 20.")
    joints = _mapped_joints(bvh, _resolve_mapping(bvh, mapping))  # (F, 22, 3)
    joints = _resample(joints, bvh.frame_time, fps)  # (T, 22, 3)
    if len(joints) < 2:
        raise ValueError(f"the clip lasts {(bvh.num_frames - 1) * bvh.frame_time:.3f} s, less than two frames at "
                         f"{fps} fps; use a longer clip.")

    pos = retarget(torch.from_numpy(np.ascontiguousarray(joints)), HUMANML3D)  # (T, 22, 3) metres
    return to_start_frame(pos, HUMANML3D, floor_percentile).numpy()


def bvh_to_features(bvh: Bvh, fps: float = 20.0, mapping: dict[str, JointSpec] | None = None,
                    floor_percentile: float = FLOOR_PERCENTILE) -> np.ndarray:
    """A BVH motion as raw (unnormalised) HumanML3D features: :func:`bvh_to_joints` then
    :func:`features.joints_to_features`. Returns (T - 1, 263) float64.
    """
    return joints_to_features(bvh_to_joints(bvh, fps, mapping, floor_percentile))
