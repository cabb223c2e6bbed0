"""Semantic accuracy: does a motion do what its prompt says, does a caption say what the motion does (notebook 07).

FID and R-precision tell us whether generated motions *look like* the data; they do not tell us
whether "a person kicks with the left leg" produced a kick, with the left leg. The embedded dataset
knows exactly what every clip shows (``labels/<id>.json``: action, side, direction, count, speed),
so we can check that directly, with a few lines of kinematics per question:

==============  =============================================================================
attribute       how we measure it (joints in metres, Y up, the person facing +Z at the start)
==============  =============================================================================
action          a small rule-based classifier (:func:`classify_action`) on readable measurements
                (:func:`measure_motion`): how far the pelvis travels, how much the body turns,
                whether both feet leave the floor, how low the pelvis goes, where the hands go ...
side            which hand or foot does the work: the one raised higher (wave, raise_arms), pushed
                further forward (punch, kick), or the one we stand on (hop)
direction       walk: the pelvis displacement in the facing frame at the start (forward = +Z, left
                = +X); turn and circle: the sign of the change of facing yaw (left = counter-
                clockwise seen from above); jump: forward travel or none; raise_arms: where the
                hands end up (overhead, forward, sideways) -- the label's ``target``
count           events counted in one signal per action: footsteps (walk, jog, run; sideways
                walks count step pairs), flights with both feet up (jump), pelvis bounces (hop),
                side-to-side turns of the waving hand, claps (wrists meeting), punches (fist
                extensions), squats (pelvis dips); for a turn: quarter turns (90 deg -> 1, 180 -> 2)
speed           walk only: the time between footsteps (cadence), in bands measured on the dataset
                for forward/backward and for sideways walking
==============  =============================================================================

A motion of two actions ("A, then B") is split by the label's *relative* timing: segment k is
checked on the same share of the motion that it takes in the label (generated motions never hit
the label's frames exactly, but keep roughly its proportions), in its own starting facing frame.
An attribute passes when it passes for every segment it applies to.

Every threshold below was read off the embedded dataset's label distribution (small preset, all
4000 clips) and sits between the classes it separates; the comments give the measured ranges. On
the dataset's own motions the checks agree with the labels on 99.9 % of clips and attributes, and
5 mm of joint jitter changes no verdict (toe paths and pelvis height are smoothed first).

Captions are checked with words (:func:`caption_checks`): the caption must name exactly the
label's action(s), with the caption generator's synonyms in any inflection ("jogs", "jogging"),
and name the label's side(s), in order, as sides of the body ("the left hand", "a right kick") --
"turns left" or "to the left" are directions and do not count.

    from motiongpt_lite.eval.semantic import motion_checks, semantic_accuracy
    motion_checks(joints, label)             # {'action': True, 'side': True}
    print(semantic_accuracy(joints_list, labels).table())
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from motiongpt_lite.data.skeleton import HUMANML3D, facing_direction
from motiongpt_lite.data.synthetic.captions import ACTION_WORDS

__all__ = ["ATTRIBUTES", "facing_yaw", "measure_motion", "classify_action", "side_of", "direction_of", "count_of",
           "speed_of", "motion_checks", "named_actions", "named_sides", "caption_checks", "SemanticReport",
           "semantic_accuracy", "caption_accuracy"]

ATTRIBUTES = ("action", "side", "direction", "count", "speed")
# Joint ids of the SMPL skeleton (DESIGN.md); index 0 of every pair is the left side, 1 the right.
PELVIS, NECK = 0, 12
SHOULDERS, WRISTS = (16, 17), (20, 21)
ANKLES, TOES = (7, 8), (10, 11)
SIDE_SIGN = np.array([1.0, -1.0])  # +X is outward on the left, -X on the right
SIDES = ("left", "right")

# --- thresholds (metres, seconds, degrees), measured on the embedded dataset
SMOOTH = 0.05  # s (Gaussian sigma; 1 frame at 20 fps): toe paths and pelvis height are smoothed, so jitter is no footstep
FOOT_DOWN = 0.04  # a foot lower than this above the floor touches it (walking toes clear 5-10 cm)
SWING_SPEED = 0.35  # m/s: a toe moving faster than this along the floor is taking a step (short backward steps: ~0.4)
BOUNCE = 0.03  # m: a pelvis peak this prominent is a jump or a hop
SQUAT_DIP = 0.15  # m: a pelvis dip this deep is a squat (squats go 25-43 cm down, jump crouches 11-24 cm)
SWAY = 0.04  # m: a side-to-side turn of a raised hand this large is a wave (waves sway 6-12 cm)
JAB = 0.12  # m: a forward extension of a hand this large is a punch
CLAP_GAP, CLAP = 0.15, 0.05  # m: wrists closer than CLAP_GAP meet (claps: 0.03-0.11), after parting by at least CLAP
# Classifier rules (measured ranges in brackets: [min-max] of the classes a threshold separates).
CIRCLE_TURN, CIRCLE_PATH = 270.0, 2.0  # deg, m: circles turn ~355 deg over 4-6 m [turns: <= 180 deg, < 0.2 m]
TURN = 45.0  # deg: turns are 90 or 180 deg [every other in-place action: < 3 deg]
TRAVEL = 0.1  # m: walks travel >= 0.19 m [in-place actions: <= 0.02 m]
RAISED_FOOT = 0.1  # share of frames 10 cm off the floor: a hop's free foot 41-72 % [jump: both feet, standing: 0]
FOOT_DOWN_SHARE = 0.1  # ... and a hop's or kick's other foot <= 4 % [jogs and runs: both feet >= 12 %]
KICK_REACH = 0.4  # m ahead of the pelvis: kicking toes reach 0.65-0.84 m [a hop's free foot stays at 0.13 m]
JUMP_RISE = 0.01  # m above standing height (smoothed): jumps rise 0.02-0.2 m [runs: 0, the pelvis is lowered]
JOG_PERIOD, RUN_PERIOD = 0.39, 0.327  # s between steps: runs 0.28-0.32, jogs 0.33-0.38 [forward walks >= 0.40]
BOW_LEAN = 20.0  # deg of trunk lean: bows 25-44 [standing, arm actions: <= 3; squats and jumps are caught before]
WAVE_HEIGHT = 0.1  # m above the shoulder: waving hands 0.2-0.33 [hanging or guarding hands: < -0.1]
GUARD_GAP = 0.35  # m between the wrists: a boxing guard keeps them 0.19-0.29 apart [arms raised forward: >= 0.40]
ARM_LIFT = 0.2  # m: a raised arm lifts its wrist 0.3-1.0 m [standing: < 0.05]
OVERHEAD = 0.42  # m above the shoulder: hands overhead 0.5-0.53 [waving 0.2-0.33, forward and sideways ~0]
JUMP_TRAVEL = 0.15  # m: a forward jump covers 0.3-0.7 m per jump [in place: < 0.02]
# Walking speed bands: (fast below, slow above) the mean step period in s. Measured: forward and backward
# fast 0.40-0.47, normal 0.50-0.60, slow 0.62-0.75; sideways fast 0.32-0.37, normal 0.40-0.47, slow 0.49-0.59.
# Stride length is no help: a fast walk backward covers less ground than a normal walk forward.
STEP_PERIOD, STEP_PERIOD_SIDEWAYS = (0.485, 0.61), (0.385, 0.48)


# ----------------------------------------------------------------------------- measuring a motion

def _check_joints(joints: np.ndarray) -> np.ndarray:
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (22, 3) or len(joints) < 2:
        raise ValueError(f"joints must be (T >= 2, 22, 3) HumanML3D joint positions, got shape {joints.shape}; "
                         "convert features with features_to_joints first.")
    if not np.isfinite(joints).all():
        raise ValueError("joints contain NaN/inf; check the motion that produced them.")
    return joints


def facing_yaw(joints: np.ndarray) -> np.ndarray:
    """Unwrapped yaw of the direction the body faces, from hips and shoulders.

    Args:
        joints: (T, 22, 3).
    Returns:
        (T,) radians; 0 faces +Z, positive angles turn to the person's left (counter-clockwise from above).
    """
    forward = facing_direction(torch.from_numpy(np.ascontiguousarray(joints)), HUMANML3D).numpy()  # (T, 3), y = 0
    return np.unwrap(np.arctan2(forward[:, 0], forward[:, 2]))


def _start_frame(joints: np.ndarray) -> np.ndarray:
    """Joints moved so the pelvis starts above the origin facing +Z (left = +X), floor at y = 0."""
    yaw = facing_yaw(joints[:3]).mean()
    c, s = np.cos(yaw), np.sin(yaw)
    local = joints - joints[:1, PELVIS] * np.array([1.0, 0.0, 1.0])  # (T, 22, 3)
    x, z = local[..., 0].copy(), local[..., 2].copy()
    local[..., 0], local[..., 2] = c * x - s * z, s * x + c * z  # rotate by -yaw about +Y
    feet = np.minimum(local[:, ANKLES, 1], local[:, TOES, 1])  # (T, 2)
    local[..., 1] -= np.percentile(feet.min(axis=1), 5)  # the floor: where the lower foot usually is
    return local


def _segments_of(mask: np.ndarray, min_len: int = 1, max_gap: int = 0) -> list[tuple[int, int]]:
    """[start, end) runs of True in ``mask`` (T,); gaps up to ``max_gap`` frames bridged, runs under ``min_len`` dropped."""
    runs, start = [], None
    for t, on in enumerate(np.append(mask, False)):
        if on and start is None:
            start = t
        elif not on and start is not None:
            runs.append([start, t])
            start = None
    merged: list[list[int]] = []
    for run in runs:
        if merged and run[0] - merged[-1][1] <= max_gap:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    return [(a, b) for a, b in merged if b - a >= min_len]


def _peaks(signal: np.ndarray, prominence: float, height: float | None = None) -> int:
    """How many peaks of ``signal`` (T,) stand out by at least ``prominence`` from their surroundings (and reach ``height``)."""
    return len(find_peaks(signal, prominence=prominence, height=height)[0])


def _while(signal: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The part of ``signal`` (T,) from the first to the last frame where ``mask`` (T,) holds."""
    frames = np.flatnonzero(mask)
    return signal[frames[0]:frames[-1] + 1] if len(frames) else signal[:0]


def measure_motion(joints: np.ndarray, fps: float = 20.0) -> dict:
    """Readable measurements of a motion, in the facing frame of its first frame.

    Args:
        joints: (T, 22, 3) positions in metres, Y up.
        fps: frames per second.
    Returns:
        A dict of floats, and of (2,) arrays for per-side values (index 0 = left, 1 = right):

        - body: ``travel_forward`` / ``travel_left`` (m, pelvis displacement from start to end),
          ``path`` (m, pelvis path on the floor), ``turn`` (degrees of facing yaw, + = to the left),
          ``rise`` (m, highest pelvis above its standing height),
          ``lean`` (degrees, largest forward lean of the trunk), ``bounces`` (pelvis peaks).
        - feet: ``steps`` (swings along the floor), ``steps_together`` (swings both feet make at
          once), ``step_period`` (s, mean time between step starts), ``flights`` (times both feet
          leave the floor), ``foot_forward`` (m, furthest each toe gets ahead of the pelvis),
          ``foot_raised`` (share of frames each foot is 10 cm or more off the floor), ``dips`` (squats).
        - hands: ``hand_lift`` (m, how far each wrist rises above where it started), ``hand_up`` /
          ``hand_forward`` / ``hand_out`` (m, highest / furthest forward / furthest outward wrist
          relative to its shoulder), ``hands_min`` (m, closest the wrists come), ``sways`` (side-to-
          side cycles of each raised hand), ``jabs`` (quick forward extensions of each hand), ``claps``.
    """
    joints = _start_frame(_check_joints(joints))  # (T, 22, 3)
    pelvis = joints[:, PELVIS]  # (T, 3)
    height = gaussian_filter1d(pelvis[:, 1], SMOOTH * fps, mode="nearest")  # (T,) smoothed like the toes
    standing = np.median(np.r_[height[:3], height[-3:]])  # motions start and end standing
    trunk = joints[:, NECK] - pelvis  # (T, 3)

    feet = np.minimum(joints[:, ANKLES, 1], joints[:, TOES, 1])  # (T, 2) height of each foot's lowest point
    toes = gaussian_filter1d(joints[:, TOES][..., [0, 2]], SMOOTH * fps, axis=0, mode="nearest")  # (T, 2, 2) on the floor
    toe_speed = np.linalg.norm(np.diff(toes, axis=0), axis=-1) * fps  # (T-1, 2)
    swings = [_segments_of(toe_speed[:, side] > SWING_SPEED, min_len=2) for side in (0, 1)]
    together = sum(1 for a, b in swings[0] if any(min(b, d) - max(a, c) > 0.5 * (b - a) for c, d in swings[1]))
    starts = np.sort([a for side in swings for a, _ in side])
    airborne = feet.min(axis=1) > FOOT_DOWN  # (T,) both feet off the floor

    hands = joints[:, WRISTS] - joints[:, SHOULDERS]  # (T, 2, 3) wrists relative to their shoulders
    outward = hands[..., 0] * SIDE_SIGN  # (T, 2)
    raised = hands[..., 1] > -0.1  # (T, 2) hand near or above shoulder height
    gap = np.linalg.norm(joints[:, WRISTS[0]] - joints[:, WRISTS[1]], axis=1)  # (T,)
    return {
        "travel_forward": float(pelvis[-1, 2]), "travel_left": float(pelvis[-1, 0]),
        "path": float(np.linalg.norm(np.diff(pelvis[:, [0, 2]], axis=0), axis=1).sum()),
        "turn": float(np.degrees(facing_yaw(joints)[-1])),
        "rise": float(height.max() - standing),
        "lean": float(np.degrees(np.arctan2(trunk[:, 2], trunk[:, 1])).max()),
        "bounces": _peaks(height, BOUNCE),
        "steps": len(swings[0]) + len(swings[1]), "steps_together": 2 * together,
        "step_period": float(np.diff(starts).mean() / fps) if len(starts) > 1 else 0.0,
        "flights": len(_segments_of(airborne, max_gap=1)),
        "foot_forward": (joints[:, TOES, 2] - pelvis[:, None, 2]).max(axis=0),
        "foot_raised": (feet > 0.1).mean(axis=0),
        "dips": _peaks(-height, SQUAT_DIP),
        "hand_lift": (joints[:, WRISTS, 1] - joints[:1, WRISTS, 1]).max(axis=0),
        "hand_up": hands[..., 1].max(axis=0), "hand_forward": hands[..., 2].max(axis=0), "hand_out": outward.max(axis=0),
        "hands_min": float(gap.min()),
        "sways": np.array([_peaks(-_while(outward[:, k], raised[:, k]), SWAY) for k in (0, 1)]),
        "jabs": np.array([_peaks(hands[:, k, 2], JAB) for k in (0, 1)]),
        "claps": _peaks(-gap, CLAP, height=-CLAP_GAP),
    }


# ----------------------------------------------------------------------------- what the motion does

def classify_action(m: dict) -> str:
    """The action a motion shows, from :func:`measure_motion`'s measurements, by rules tried in order.

    Whole-body actions come first (they move the hands too), the arm actions last.

    Args:
        m: measurements of one motion (or one segment of it).
    Returns:
        One of the dataset's 15 action names.
    """
    travel = np.hypot(m["travel_forward"], m["travel_left"])
    in_place, other_foot_down = travel < TRAVEL, m["foot_raised"].min() < FOOT_DOWN_SHARE
    if abs(m["turn"]) > CIRCLE_TURN and m["path"] > CIRCLE_PATH:
        return "circle"  # a full turn while walking a long way
    if abs(m["turn"]) > TURN and in_place:
        return "turn"  # facing changes, the pelvis stays put
    if in_place and other_foot_down and m["foot_forward"].max() > KICK_REACH:
        return "kick"  # one foot swings up well ahead of the body, the other stays on the floor
    if in_place and other_foot_down and m["foot_raised"].max() > RAISED_FOOT and m["bounces"]:
        return "hop"  # one foot held up off the floor while the body bounces on the other
    if m["flights"] and m["rise"] > JUMP_RISE and m["steps_together"] >= m["steps"] / 2:
        return "jump"  # both feet leave the floor together, the pelvis rises above standing height
    if m["steps"] >= 2 and travel > TRAVEL:
        running = abs(m["travel_forward"]) > abs(m["travel_left"]) and 0 < m["step_period"] < JOG_PERIOD
        if running:
            return "run" if m["step_period"] < RUN_PERIOD else "jog"
        return "walk"
    if m["dips"]:
        return "squat"  # the pelvis goes down a long way and comes back up
    if m["lean"] > BOW_LEAN:
        return "bow"  # the trunk tips forward from the hips
    if m["claps"]:
        return "clap"  # the hands meet in front of the body
    if ((m["sways"] > 0) & (m["hand_up"] > WAVE_HEIGHT) & (m["hand_up"] < OVERHEAD)).any():
        return "wave"  # a hand a little above the shoulder moves side to side
    if m["jabs"].max() and m["hands_min"] < GUARD_GAP:
        return "punch"  # fists up in a guard, one shoots forward and back
    if m["hand_lift"].max() > ARM_LIFT:
        return "raise_arms"
    return "stand"


def _hand_sides(m: dict) -> str:
    """Which hands are raised: 'left', 'right' or 'both' (both when the smaller lift is at least half the larger)."""
    lift = m["hand_lift"]
    if lift.min() > 0.5 * lift.max():
        return "both"
    return SIDES[int(np.argmax(lift))]


def side_of(action: str, m: dict) -> str | None:
    """The side a motion uses for ``action``: the moving hand(s) or the kicking / standing foot.

    Args:
        action: the action the label asks for (decides which limb we look at).
        m: measurements from :func:`measure_motion`.
    Returns:
        'left', 'right', 'both' or None for actions without a side.
    """
    if action in ("wave", "raise_arms"):
        return _hand_sides(m)
    if action == "punch":
        return SIDES[int(np.argmax(m["hand_forward"]))]  # the fist that reaches furthest forward
    if action == "kick":
        return SIDES[int(np.argmax(m["foot_forward"]))]  # the foot that swings out in front
    if action == "hop":
        return SIDES[int(np.argmin(m["foot_raised"]))]  # we stand (and hop) on the foot that stays down
    return None


def direction_of(action: str, m: dict) -> str | None:
    """The direction (or target) a motion shows for ``action``, in the label's words, or None."""
    if action == "walk":
        forward, left = m["travel_forward"], m["travel_left"]
        if abs(forward) >= abs(left):
            return "forward" if forward > 0 else "backward"
        return "left" if left > 0 else "right"
    if action in ("jog", "run"):
        return "forward" if m["travel_forward"] > abs(m["travel_left"]) else "other"
    if action == "turn":
        return "left" if m["turn"] > 0 else "right"  # left = counter-clockwise seen from above
    if action == "circle":
        return "counterclockwise" if m["turn"] > 0 else "clockwise"
    if action == "jump":
        return "forward" if m["travel_forward"] > JUMP_TRAVEL else "in_place"
    if action == "raise_arms":
        used = [k for k, side in enumerate(SIDES) if _hand_sides(m) in (side, "both")]
        if m["hand_up"][used].max() > OVERHEAD:
            return "overhead"
        return "forward" if m["hand_forward"][used].max() > m["hand_out"][used].max() else "sideways"
    return None


def count_of(action: str, m: dict, side: str | None = None) -> int | None:
    """How many times a motion repeats ``action``, or None where counts do not apply.

    For a turn: its quarter turns. For wave and punch: the repetitions of the hand ``side`` names
    (the label's; either hand when None).
    """
    hands = [k for k, name in enumerate(SIDES) if side in (name, "both")] or [0, 1]
    if action == "walk":
        sideways = abs(m["travel_left"]) > abs(m["travel_forward"])
        return m["steps"] // 2 if sideways else m["steps"]  # sideways: count = step pairs (open, close)
    if action in ("jog", "run"):
        return m["steps"]
    if action == "turn":
        return int(round(abs(m["turn"]) / 90))
    if action == "jump":
        return m["flights"]
    if action == "hop":
        return m["bounces"]
    if action == "wave":
        return int(m["sways"][hands].max())
    if action == "punch":
        return int(m["jabs"][hands].max())
    if action == "clap":
        return m["claps"]
    if action == "squat":
        return m["dips"]
    return None


def speed_of(action: str, m: dict, direction: str | None) -> str | None:
    """'slow', 'normal' or 'fast' from the step period, in the bands of the walking direction (walk only)."""
    if action != "walk" or m["step_period"] <= 0:
        return None
    fast, slow = STEP_PERIOD_SIDEWAYS if direction in ("left", "right") else STEP_PERIOD
    return "fast" if m["step_period"] < fast else "slow" if m["step_period"] > slow else "normal"


# ----------------------------------------------------------------------------- checking a motion against its label

def _check_label(label: dict) -> list[dict]:
    segments = label.get("segments") if isinstance(label, dict) else None
    if not segments or not all(isinstance(s, dict) and "action" in s for s in segments):
        raise ValueError("label must be a labels/<id>.json dict with a non-empty 'segments' list of {'action': ...} dicts; "
                         "load it with json.load.")
    return segments


def _windows(num_frames: int, label: dict) -> list[tuple[dict, int, int]]:
    """Each segment with the frames [start, end) of the motion that cover its *share* of the label's duration."""
    segments = _check_label(label)
    if len(segments) == 1:
        return [(segments[0], 0, num_frames)]
    total = label.get("num_frames") or segments[-1].get("end") or 1
    windows = []
    for segment in segments:
        start = int(round(segment.get("start", 0) / total * num_frames))
        end = int(round(segment.get("end", total) / total * num_frames))
        windows.append((segment, start, max(end, start + 2)))
    return windows


def _segment_checks(segment: dict, m: dict) -> dict[str, bool]:
    action = segment["action"]
    checks = {"action": classify_action(m) == action}
    if segment.get("side") is not None:
        checks["side"] = side_of(action, m) == segment["side"]
    wanted = segment.get("target") if action == "raise_arms" else segment.get("direction")
    if wanted is not None:
        checks["direction"] = direction_of(action, m) == wanted
    wanted_count = segment["degrees"] // 90 if action == "turn" and segment.get("degrees") else segment.get("count")
    if wanted_count is not None:
        checks["count"] = count_of(action, m, segment.get("side")) == wanted_count
    if segment.get("speed") is not None:
        checks["speed"] = speed_of(action, m, segment.get("direction")) == segment["speed"]
    return checks


def motion_checks(joints: np.ndarray, label: dict, fps: float = 20.0) -> dict[str, bool]:
    """Does a motion do what its label says? One boolean per attribute the label specifies.

    A two-action label ("A, then B") is checked segment by segment on the segment's share of the
    motion; an attribute passes when every segment it applies to passes.

    Args:
        joints: (T, 22, 3) joint positions (metres, Y up, floor at 0), e.g. ``features_to_joints`` of a
            generated motion.
        label: the dataset's ``labels/<id>.json`` dict (``segments`` with action, side, direction,
            count, speed, degrees, target).
        fps: frames per second of ``joints``.
    Returns:
        ``{attribute: passed}`` for the attributes among :data:`ATTRIBUTES` that the label specifies
        ("action" always; for a turn "count" is its quarter turns, for raise_arms "direction" is its target).
    """
    joints = _check_joints(joints)
    result: dict[str, bool] = {}
    for segment, start, end in _windows(len(joints), label):
        for attribute, passed in _segment_checks(segment, measure_motion(joints[start:end], fps)).items():
            result[attribute] = result.get(attribute, True) and passed
    return {attribute: result[attribute] for attribute in ATTRIBUTES if attribute in result}


# ----------------------------------------------------------------------------- checking a caption against its label

# A caption may name an action with any form of these words (the caption generator's synonyms, plus
# the irregular past forms people write).
_IRREGULAR = {"run": ("ran",), "stand": ("stood",), "hold": ("held",), "leap": ("leapt",), "lift": ("lifted",)}
# Words of one action that captions of another use in passing ("raises the left hand and waves",
# "runs forward at a jogging pace", "walks in a circle, turning left"); every action starts and ends standing.
_IMPLIED = {"jog": {"run", "walk"}, "run": {"walk"}, "circle": {"walk", "turn"}, "wave": {"raise_arms"},
            "punch": {"raise_arms"}, "kick": {"raise_arms"}}
_LIMBS = {"hand", "hands", "arm", "arms", "leg", "legs", "foot", "feet", "fist", "fists", "one", "kick", "kicks",
          "punch", "punches", "jab", "jabs"}


def _word_forms(lemma: str) -> set[str]:
    """Inflected forms of a verb: walk -> walks, walked, walking; wave -> waving; hop -> hopping."""
    stem = lemma[:-1] if lemma.endswith("e") else lemma
    doubled = lemma + lemma[-1]
    return {lemma, lemma + "s", lemma + "es", lemma + "d", lemma + "ed", stem + "ing", doubled + "ing", doubled + "ed",
            *_IRREGULAR.get(lemma, ())}


_FORMS = {form: action for action, lemmas in ACTION_WORDS.items() for lemma in lemmas for form in _word_forms(lemma)}


def named_actions(caption: str, expected: set[str] | frozenset = frozenset()) -> set[str]:
    """The actions a caption names.

    Args:
        caption: one sentence.
        expected: actions the label asks for; a word another named action uses in passing (see
            ``_IMPLIED``, e.g. "raises" in "raises the left hand and waves") only counts when the
            label does not ask for its action.
    Returns:
        Action names, e.g. ``{"wave"}``.
    """
    named = {_FORMS[word] for word in re.findall(r"[a-z]+", caption.lower()) if word in _FORMS}
    implied = set().union(*(_IMPLIED.get(action, set()) for action in named)) | ({"stand"} if len(named) > 1 else set())
    return {action for action in named if action in expected or action not in implied}


def named_sides(caption: str) -> list[str]:
    """The sides of the body a caption names, in order, repeats merged.

    'left' / 'right' count right before a limb ("the left hand", "a right kick", "the left one"),
    'both' for hands or arms in the plural ("both hands", "their arms"; not "claps his hands").
    As directions ("to the left", "turns right", "over his left shoulder") they do not count.

    Args:
        caption: one sentence.
    Returns:
        e.g. ``["right", "left"]`` for "hops on the right foot, then punches with the left hand".
    """
    words = re.findall(r"[a-z]+", caption.lower())
    sides = []
    for k, word in enumerate(words):
        after, before = words[k + 1] if k + 1 < len(words) else "", words[max(0, k - 3):k]
        if word in SIDES and after in _LIMBS:
            sides.append(word)
        elif word in ("hands", "arms") and not any(w.startswith("clap") for w in before):
            sides.append("both")
    return _merge_repeats(sides)


def _merge_repeats(items: list[str]) -> list[str]:
    return [item for k, item in enumerate(items) if k == 0 or items[k - 1] != item]


def caption_checks(caption: str, label: dict) -> dict[str, bool]:
    """Does a caption say what the labelled motion does?

    Args:
        caption: a caption of the motion (generated or from the dataset).
        label: the dataset's ``labels/<id>.json`` dict.
    Returns:
        ``{"action": ..., "side": ...}``: "action" is True when the caption names exactly the label's
        actions (synonyms and inflections included); "side" (only when a segment has a side) when the
        body sides it names are the label's, in the label's order.
    """
    if not isinstance(caption, str):
        raise ValueError(f"caption must be a string, got {type(caption).__name__}; pass one caption per label.")
    segments = _check_label(label)
    wanted = {segment["action"] for segment in segments}
    checks = {"action": named_actions(caption, wanted) == wanted}
    sides = [segment["side"] for segment in segments if segment.get("side") is not None]
    if sides:
        checks["side"] = named_sides(caption) == _merge_repeats(sides)
    return checks


# ----------------------------------------------------------------------------- reports

SEQUENCE = "two actions"  # the row of motions made of two actions in sequence


@dataclass
class SemanticReport:
    """Semantic accuracy per action and overall.

    Attributes:
        per_action: action -> attribute -> share of clips that pass ("all": every check of a clip
            passes). Clips of two actions share the row :data:`SEQUENCE`.
        overall: attribute -> share over every clip the attribute applies to, and "all".
        counts: action -> number of clips (and "overall").
    """

    per_action: dict[str, dict[str, float]] = field(default_factory=dict)
    overall: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def table(self) -> str:
        """A markdown table: one row per action, one column per attribute (blank where it does not apply), then n."""
        columns = [a for a in (*ATTRIBUTES, "all") if a in self.overall]
        lines = ["| label | " + " | ".join(columns) + " | n |", "|---" * (len(columns) + 2) + "|"]
        for name, row in [*self.per_action.items(), ("overall", self.overall)]:
            cells = [f"{row[a]:.3f}" if a in row else "" for a in columns]
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {self.counts.get(name, 0)} |")
        return "\n".join(lines)


def _report(results: list[dict[str, bool]], labels: list[dict]) -> SemanticReport:
    """Averages of per-clip check results, grouped by the clip's action."""
    groups: dict[str, list[dict[str, bool]]] = {}
    for checks, label in zip(results, labels):
        segments = _check_label(label)
        name = segments[0]["action"] if len(segments) == 1 else SEQUENCE
        groups.setdefault(name, []).append({**checks, "all": all(checks.values())})

    def mean(rows: list[dict[str, bool]]) -> dict[str, float]:
        return {a: float(np.mean([r[a] for r in rows if a in r])) for a in (*ATTRIBUTES, "all") if any(a in r for r in rows)}

    order = sorted(groups, key=lambda name: (name == SEQUENCE, name))
    every = [row for name in order for row in groups[name]]
    return SemanticReport(per_action={name: mean(groups[name]) for name in order}, overall=mean(every) if every else {},
                          counts={**{name: len(groups[name]) for name in order}, "overall": len(every)})


def _same_length(items: list, labels: list[dict], what: str) -> None:
    if len(items) != len(labels):
        raise ValueError(f"got {len(items)} {what} but {len(labels)} labels; pass one label per {what[:-1]}.")


def semantic_accuracy(joints_list: list[np.ndarray], labels: list[dict], fps: float = 20.0) -> SemanticReport:
    """How often motions do what their labels say, per action and attribute (:func:`motion_checks`).

    Args:
        joints_list: N motions, each (T, 22, 3) joint positions.
        labels: N label dicts (``labels/<id>.json``), the prompts the motions were made from.
        fps: frames per second of the motions.
    Returns:
        A :class:`SemanticReport`.
    """
    _same_length(joints_list, labels, "motions")
    return _report([motion_checks(joints, label, fps) for joints, label in zip(joints_list, labels)], labels)


def caption_accuracy(captions: list[str], labels: list[dict]) -> SemanticReport:
    """How often captions name the labelled action(s) and side(s) (:func:`caption_checks`).

    Args:
        captions: N captions, one per motion.
        labels: N label dicts of the captioned motions.
    Returns:
        A :class:`SemanticReport` with the attributes "action" and "side".
    """
    _same_length(captions, labels, "captions")
    return _report([caption_checks(caption, label) for caption, label in zip(captions, labels)], labels)
