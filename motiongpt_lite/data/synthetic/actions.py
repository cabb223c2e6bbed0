"""Motion synthesis for the embedded dataset: one small "choreographer" per action, compositions
of two actions, and the structured labels that describe what was made (introduced in notebook 00).

Each action writes a :class:`~motiongpt_lite.data.synthetic.body.Plan` (feet, hands, pelvis, spine
over time) for a randomly proportioned :class:`~motiongpt_lite.data.synthetic.body.Body`; the body
solver turns it into joints. Every duration, length and amplitude is drawn from the clip's random
generator, so two clips of the same action differ the way two people's motions do.

Walking-type actions place footsteps: a foot stays put (toe pinned) while planted, lifts its heel,
swings along a smooth arc and lands flat. Jumps and hops drive the pelvis height with a crouch,
a push, a ballistic flight and a landing. Arm actions move the wrists in the chest frame.

Labels: one dict per segment with the fields of :data:`FIELDS` (``None`` where a field does not
apply), plus ``start``/``end`` frames. Directions follow the dataset's conventions: forward is +Z at
frame 0, the person's left is +X, turning left is counter-clockwise seen from above.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motiongpt_lite.data.synthetic.body import FPS, LEFT, RIGHT, SIDE_SIGN, Body, Plan, crossfade, ease, solve

__all__ = ["ACTIONS", "FIELDS", "CHOICES", "MIN_FRAMES", "MAX_FRAMES", "generate_motion", "sample_spec", "mirror_labels"]

FIELDS = ("action", "side", "direction", "count", "speed", "degrees", "target")
# Every action and the values each of its parameters may take (the other fields stay None).
CHOICES: dict[str, dict[str, tuple]] = {
    "walk": {"direction": ("forward", "backward", "left", "right"), "speed": ("slow", "normal", "fast"), "count": tuple(range(2, 9))},
    "jog": {"direction": ("forward",), "count": tuple(range(4, 11))},
    "run": {"direction": ("forward",), "count": tuple(range(4, 11))},
    "turn": {"direction": ("left", "right"), "degrees": (90, 180)},
    "circle": {"direction": ("clockwise", "counterclockwise")},
    "jump": {"direction": ("in_place", "forward"), "count": (1, 2, 3)},
    "hop": {"side": ("left", "right"), "count": (1, 2, 3, 4)},
    "wave": {"side": ("left", "right", "both"), "count": (1, 2, 3)},
    "raise_arms": {"side": ("left", "right", "both"), "target": ("overhead", "forward", "sideways")},
    "clap": {"count": (2, 3, 4, 5, 6)},
    "kick": {"side": ("left", "right")},
    "punch": {"side": ("left", "right"), "count": (1, 2, 3)},
    "squat": {"count": (1, 2, 3)},
    "bow": {},
    "stand": {},
}
ACTIONS = tuple(CHOICES)
# How often each action is drawn for the dataset (walking has the most parameter combinations).
_WEIGHTS = {"walk": 3.0, "jog": 0.8, "run": 0.8, "turn": 1.5, "circle": 1.0, "jump": 1.5, "hop": 1.0, "wave": 1.5,
            "raise_arms": 1.5, "clap": 1.0, "kick": 1.0, "punch": 1.0, "squat": 1.0, "bow": 0.8, "stand": 0.8}
COMPOSITION_RATE = 0.2  # share of dataset motions made of two actions in sequence
MIN_FRAMES, MAX_FRAMES = 41, 197  # raw frames of a clip (its features have one row fewer: 40..196)
GRAVITY = 9.81
_SWAP = {"left": "right", "right": "left", "clockwise": "counterclockwise", "counterclockwise": "clockwise"}


# ----------------------------------------------------------------------------- time helpers

def _ramp(t: np.ndarray, start: float, stop: float) -> np.ndarray:
    """0 before ``start``, eases to 1 at ``stop``, 1 after."""
    return ease((t - start) / max(stop - start, 1e-6))


def _window(t: np.ndarray, rise: float, top: float, fall: float, end: float) -> np.ndarray:
    """0 -> 1 over [rise, top], 1 until ``fall``, back to 0 at ``end``."""
    return _ramp(t, rise, top) - _ramp(t, fall, end)


def _keyframes(t: np.ndarray, times: list[float], values: np.ndarray) -> np.ndarray:
    """Eased interpolation through keyframes (zero velocity at each key), held outside them.

    Args:
        t: (T,) seconds.
        times: K increasing key times.
        values: (K, ...) key values.
    Returns:
        (T, ...) interpolated values.
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.repeat(values[:1], len(t), axis=0)
    for k in range(1, len(times)):
        w = _ramp(t, times[k - 1], times[k]).reshape((-1,) + (1,) * (values.ndim - 1))
        inside = t >= times[k - 1]
        out[inside] = ((1 - w) * values[k - 1] + w * values[k])[inside]
    return out


def _hermite(u: np.ndarray, p0: float, p1: float, v0: float, v1: float, duration: float) -> np.ndarray:
    """Cubic from ``p0`` to ``p1`` over ``duration`` seconds with end velocities ``v0``, ``v1`` (u in [0, 1])."""
    h00, h10, h01, h11 = 2 * u**3 - 3 * u**2 + 1, u**3 - 2 * u**2 + u, -2 * u**3 + 3 * u**2, u**3 - u**2
    return h00 * p0 + h10 * v0 * duration + h01 * p1 + h11 * v1 * duration


def _frames(duration: float) -> int:
    """Frames needed to show ``duration`` seconds (first and last frame included)."""
    return int(np.ceil(duration * FPS)) + 1


def _time(num_frames: int) -> np.ndarray:
    return np.arange(num_frames) / FPS


def _segment(action: str, **values) -> dict:
    """A label with every field of FIELDS (None where it does not apply)."""
    return {"action": action, **{name: values.get(name) for name in FIELDS[1:]}}


# ----------------------------------------------------------------------------- footsteps

@dataclass
class _Step:
    """One step: a foot leaves the floor at ``lift`` (s) and lands at ``land`` on ``ankle`` (floor x, z)."""

    side: int
    lift: float
    land: float
    ankle: tuple[float, float]
    yaw: float
    height: float  # toe clearance at mid-swing (m)
    heel: float  # heel lift at toe-off (rad)


def _place_steps(plan: Plan, body: Body, t: np.ndarray, steps: list[_Step], heel_time: float) -> None:
    """Write footsteps into the plan's feet: planted feet stay, swinging feet arc to their next spot.

    Before each lift the heel rises about the pinned toe over ``heel_time`` seconds; the swing
    moves the toe along an eased path with a sine-shaped lift and lands the foot flat.
    """
    offsets = body.offsets[[10, 11]]
    for side in (LEFT, RIGHT):
        toe, yaw = plan.toe[side], plan.foot_yaw[side]
        pitch = plan.foot_pitch[side]
        for step in sorted((s for s in steps if s.side == side), key=lambda s: s.lift):
            c, s = np.cos(step.yaw), np.sin(step.yaw)
            new_toe = np.array([step.ankle[0] + c * offsets[side, 0] + s * offsets[side, 2], 0.0,
                                step.ankle[1] - s * offsets[side, 0] + c * offsets[side, 2]])
            start_toe, start_yaw = toe[np.searchsorted(t, step.lift)].copy(), yaw[np.searchsorted(t, step.lift)]
            pre = (t >= step.lift - heel_time) & (t < step.lift)
            pitch[pre] = np.maximum(pitch[pre], step.heel * _ramp(t[pre], step.lift - heel_time, step.lift))
            swing = (t >= step.lift) & (t < step.land)
            u = (t[swing] - step.lift) / (step.land - step.lift)
            glide = 3 * u**2 - 2 * u**3  # cubic: a gentler peak speed than the quintic, for fast swings
            toe[swing] = start_toe + glide[:, None] * (new_toe - start_toe)
            toe[swing, 1] = step.height * np.sin(np.pi * u)
            yaw[swing] = start_yaw + glide * (step.yaw - start_yaw)
            pitch[swing] = step.heel * (1 - u) ** 2 - 0.2 * np.sin(np.pi * u)  # toes up through mid-swing
            after = t >= step.land
            toe[after], yaw[after], pitch[after] = new_toe, step.yaw, 0.0
    plan.anchor[:] = body.ankle_xz(plan.toe, plan.foot_yaw)


def _stride_positions(count: int, length: float) -> np.ndarray:
    """Distance along the path of each of ``count`` steps: a short first step, full strides, a closing step."""
    scale = np.minimum(1.0, np.arange(1, count + 1) / 2.0 + 0.25)  # 0.75, 1, 1, ...
    positions = np.cumsum(length * scale)
    positions[-1] = positions[-2] if count > 1 else positions[-1]  # the last step brings the feet together
    return positions


def _walk_steps(body: Body, rng: np.random.Generator, path, distances: np.ndarray, first: int, start: float,
                period: float, swing: float, height: float, heel: float) -> list[_Step]:
    """Alternating steps whose ankles land beside ``path(distance) -> (x, z, yaw)`` at the given distances."""
    steps = []
    for i, distance in enumerate(distances):
        side = first if i % 2 == 0 else 1 - first
        x, z, yaw = path(distance)
        lateral = SIDE_SIGN[side] * body.stance
        lift = start + (i + rng.uniform(-0.03, 0.03)) * period  # a little timing noise per step
        steps.append(_Step(side, lift, lift + swing, (x + np.cos(yaw) * lateral, z - np.sin(yaw) * lateral), yaw,
                           height * rng.uniform(0.85, 1.15), heel))
    return steps


# ----------------------------------------------------------------------------- actions

def _walk(body: Body, rng: np.random.Generator, p: dict) -> Plan:
    """Walking forward, backward or sideways at a speed, a number of steps."""
    stride, period = {"slow": ((0.35, 0.5), (0.62, 0.75)), "normal": ((0.55, 0.7), (0.5, 0.58)),
                      "fast": ((0.72, 0.85), (0.4, 0.46))}[p["speed"]]
    length, period = rng.uniform(*stride), rng.uniform(*period)
    swing, lead = period * rng.uniform(0.72, 0.82), rng.uniform(0.3, 0.8)
    count, direction = p["count"], p["direction"]
    if direction in ("left", "right"):
        sign = 1.0 if direction == "left" else -1.0
        side_step = 0.5 * length
        period, swing = 0.8 * period, 0.65 * period
        steps = []
        for k in range(count):  # the leading foot opens, the other closes
            for j, side in enumerate((LEFT, RIGHT) if sign > 0 else (RIGHT, LEFT)):
                lift = lead + (2 * k + j) * period
                x = SIDE_SIGN[side] * body.stance + sign * side_step * (k + 1)
                steps.append(_Step(side, lift, lift + swing, (x, 0.0), 0.0, rng.uniform(0.04, 0.07), 0.15))
        gait = 0.2
    else:
        sign = 1.0 if direction == "forward" else -1.0
        if sign < 0:
            length *= rng.uniform(0.55, 0.7)
        distances = _stride_positions(count, length)
        steps = _walk_steps(body, rng, lambda d: (0.0, sign * d, 0.0), distances, int(rng.integers(2)), lead, period,
                            swing, rng.uniform(0.05, 0.1), rng.uniform(0.3, 0.55) if sign > 0 else 0.1)
        gait = 1.0 if sign > 0 else 0.6
    end = max(s.land for s in steps) + rng.uniform(0.3, 0.8)
    plan = Plan.neutral(body, _frames(end))
    t = _time(plan.num_frames)
    _place_steps(plan, body, t, steps, 0.3 * period)
    moving = _window(t, lead - 0.2, lead + 0.3, steps[-1].lift, steps[-1].land + 0.2)
    plan.gait[:] = gait * moving
    lean = {"slow": 0.02, "normal": 0.04, "fast": 0.07}[p["speed"]] * (1.0 if sign > 0 and direction == "forward" else 0.3)
    plan.pelvis_tilt[:, 0] = lean * moving
    plan.spine[:, 0] = lean * moving * rng.uniform(0.5, 1.5)
    return plan


def _run(body: Body, rng: np.random.Generator, p: dict, jog: bool) -> Plan:
    """Jogging or running forward: longer strides, a flight phase, bent arms, a forward lean."""
    length = rng.uniform(0.75, 0.95) if jog else rng.uniform(1.0, 1.2)
    period = rng.uniform(0.34, 0.38) if jog else rng.uniform(0.29, 0.32)
    lead = rng.uniform(0.3, 0.7)
    distances = _stride_positions(p["count"], length)
    steps = _walk_steps(body, rng, lambda d: (0.0, d, 0.0), distances, int(rng.integers(2)), lead, period,
                        period * rng.uniform(1.2, 1.35), rng.uniform(0.12, 0.18) if jog else rng.uniform(0.18, 0.26),
                        rng.uniform(0.5, 0.8))
    end = max(s.land for s in steps) + rng.uniform(0.4, 0.8)
    plan = Plan.neutral(body, _frames(end))
    t = _time(plan.num_frames)
    _place_steps(plan, body, t, steps, 0.25 * period)
    moving = _window(t, lead - 0.2, lead + 0.4, steps[-1].lift - 0.1, steps[-1].land + 0.3)
    plan.gait[:] = moving
    lean = rng.uniform(0.06, 0.12) if jog else rng.uniform(0.12, 0.2)
    plan.pelvis_tilt[:, 0] = lean * moving
    plan.spine[:, 0] = 0.5 * lean * moving
    plan.pelvis_drop[:] = -(0.03 if jog else 0.05) * moving
    plan.root_shift[:, 1] = (rng.uniform(0.05, 0.1) if jog else rng.uniform(0.1, 0.15)) * moving  # the body leads the feet
    for side in (LEFT, RIGHT):  # elbows bent about 90 degrees, hands by the ribs
        bent = body.shoulder(side) + np.array([0.05 * SIDE_SIGN[side], -0.32, 0.12])
        plan.hand[side] += moving[:, None] * (bent - plan.hand[side])
        plan.elbow_pole[side] += moving[:, None] * (np.array([0.3 * SIDE_SIGN[side], -1.0, -0.6]) - plan.elbow_pole[side])
    return plan


def _turn(body: Body, rng: np.random.Generator, p: dict) -> Plan:
    """Turning in place by 90 or 180 degrees with a few stepping pairs; left = counter-clockwise."""
    sign = 1.0 if p["direction"] == "left" else -1.0
    angle = sign * np.radians(p["degrees"])
    pairs = int(rng.integers(1, 3)) if p["degrees"] == 90 else int(rng.integers(2, 4))
    period, lead = rng.uniform(0.42, 0.58), rng.uniform(0.3, 0.8)
    order = (LEFT, RIGHT) if sign > 0 else (RIGHT, LEFT)  # the foot on the turning side opens
    steps = []
    for k in range(pairs):
        yaw = angle * (k + 1) / pairs
        for j, side in enumerate(order):
            lift = lead + (2 * k + j) * period
            lateral = SIDE_SIGN[side] * body.stance
            steps.append(_Step(side, lift, lift + 0.75 * period, (np.cos(yaw) * lateral, -np.sin(yaw) * lateral), yaw,
                               rng.uniform(0.04, 0.08), 0.15))
    end = steps[-1].land + rng.uniform(0.3, 0.8)
    plan = Plan.neutral(body, _frames(end))
    t = _time(plan.num_frames)
    _place_steps(plan, body, t, steps, 0.25 * period)
    plan.neck[:, 1] = sign * rng.uniform(0.1, 0.3) * _window(t, lead - 0.2, lead + 0.1, steps[-2].land, steps[-1].land + 0.2)
    return plan


def _circle(body: Body, rng: np.random.Generator, p: dict) -> Plan:
    """Walking once around a circle; counter-clockwise curves to the left."""
    sign = 1.0 if p["direction"] == "counterclockwise" else -1.0
    radius, length, period = rng.uniform(0.7, 1.1), rng.uniform(0.5, 0.6), rng.uniform(0.45, 0.52)
    lead = rng.uniform(0.3, 0.7)
    count = int(round(2 * np.pi * radius / length)) + 1
    distances = _stride_positions(count, 2 * np.pi * radius / (count - 1.25))  # the last stride closes the circle

    def path(d: float) -> tuple[float, float, float]:
        angle = min(d, 2 * np.pi * radius) / radius
        return sign * radius * (1 - np.cos(angle)), radius * np.sin(angle), sign * angle

    steps = _walk_steps(body, rng, path, distances, LEFT if sign < 0 else RIGHT, lead, period, 0.77 * period,
                        rng.uniform(0.05, 0.09), rng.uniform(0.25, 0.45))
    end = max(s.land for s in steps) + rng.uniform(0.3, 0.8)
    plan = Plan.neutral(body, _frames(end))
    t = _time(plan.num_frames)
    _place_steps(plan, body, t, steps, 0.3 * period)
    plan.gait[:] = _window(t, lead - 0.2, lead + 0.3, steps[-1].lift, steps[-1].land + 0.2)
    plan.neck[:, 1] = sign * 0.15 * plan.gait  # looking into the curve
    return plan


def _ballistic(body: Body, rng: np.random.Generator, t: np.ndarray, start: float, count: int, crouch: float, rise: float,
               heel: float, rebound: bool) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Pelvis height and foot lift of ``count`` jumps: crouch, push, ballistic flight, landing.

    Args:
        t: (T,) seconds. start: when the first crouch begins. crouch: crouch depth (m).
        rise: pelvis rise above full extension at the top of the flight (m). heel: heel lift at take-off (rad).
        rebound: whether jumps follow each other without standing up in between.
    Returns:
        ``(height (T,), lift (T,), phases)``: wanted pelvis height, toe height of the jumping feet,
        and per jump the times ``start``, ``bottom`` (of the crouch), ``takeoff``, ``landing``, ``end``.
    """
    stand = body.standing_height()
    toe = body.offsets[10]
    ankle_up = -(toe[1] * np.cos(heel) - toe[2] * np.sin(heel))  # ankle height with the heel lifted about the toe
    hip = body.offsets[1]
    extension = ankle_up - hip[1] + np.sqrt((0.99 * body.leg_length) ** 2 - (body.stance - hip[0]) ** 2) - 0.01
    takeoff_speed = np.sqrt(2 * GRAVITY * rise)
    flight = 2 * takeoff_speed / GRAVITY
    height, lift = np.full(len(t), stand), np.zeros(len(t))
    clock, level, phases = start, stand, []
    for j in range(count):
        down = rng.uniform(0.35, 0.55) if j == 0 or not rebound else rng.uniform(0.15, 0.25)
        push, land, settle = rng.uniform(0.15, 0.22), rng.uniform(0.15, 0.25), rng.uniform(0.35, 0.55)
        low = stand - crouch * rng.uniform(0.9, 1.1)
        pieces = [(down, lambda u, a=level, b=low, d=down: _hermite(u, a, b, 0.0, 0.0, d)),
                  (push, lambda u, b=low, d=push: _hermite(u, b, extension, 0.0, takeoff_speed, d)),
                  (flight, lambda u: extension + takeoff_speed * u * flight - 0.5 * GRAVITY * (u * flight) ** 2),
                  (land, lambda u, b=low, d=land: _hermite(u, extension, b + 0.3 * crouch, -takeoff_speed, 0.0, d))]
        last = j == count - 1 or not rebound
        level = stand if last else low + 0.3 * crouch
        if last:
            pieces.append((settle, lambda u, a=low + 0.3 * crouch, d=settle: _hermite(u, a, stand, 0.0, 0.0, d)))
        times = np.cumsum([clock] + [duration for duration, _ in pieces])
        for (duration, curve), begin in zip(pieces, times):
            inside = (t >= begin) & (t < begin + duration)
            height[inside] = curve((t[inside] - begin) / duration)
        airborne = (t >= times[2]) & (t < times[3])
        lift[airborne] = height[airborne] - extension  # legs stay stretched: the feet rise with the pelvis
        phases.append({"start": times[0], "bottom": times[1], "takeoff": times[2], "landing": times[3], "end": times[-1]})
        clock = times[-1]
        height[t >= clock] = level
    return height, np.maximum(lift, 0.0), phases


def _jump_feet(plan: Plan, t: np.ndarray, sides, lift: np.ndarray, phases: list[dict], heel: float, tuck: float) -> None:
    """Heels rise through each push and come down through each landing; feet leave the floor in flight."""
    keys, values = [0.0], [0.0]
    for ph in phases:
        keys += [ph["bottom"], ph["takeoff"], ph["landing"], ph["landing"] + 0.6 * (ph["end"] - ph["landing"])]
        values += [0.0, heel, heel, 0.0]
    pitch = _keyframes(t, keys, np.array(values))
    for ph in phases:
        inside = (t >= ph["takeoff"]) & (t < ph["landing"])
        lift = lift + inside * tuck * np.sin(np.pi * np.clip((t - ph["takeoff"]) / (ph["landing"] - ph["takeoff"]), 0, 1))
    for side in sides:
        plan.toe[side, :, 1] = lift
        plan.foot_pitch[side] = pitch


def _jump(body: Body, rng: np.random.Generator, p: dict) -> Plan:
    """Jumping with both feet, in place or forward, one to three times; arms swing back then up."""
    lead = rng.uniform(0.2, 0.6)
    heel, rise, crouch = rng.uniform(0.5, 0.8), rng.uniform(0.1, 0.25), rng.uniform(0.12, 0.22)
    probe = np.arange(0, 12, 1 / FPS)
    height, lift, phases = _ballistic(body, rng, probe, lead, p["count"], crouch, rise, heel, rebound=bool(rng.integers(2)))
    plan = Plan.neutral(body, _frames(phases[-1]["end"] + rng.uniform(0.3, 0.8)))
    t = _time(plan.num_frames)
    stand = body.standing_height()
    plan.pelvis_drop[:] = height[: plan.num_frames] - stand
    _jump_feet(plan, t, (LEFT, RIGHT), lift[: plan.num_frames], phases, heel, rng.uniform(0.03, 0.12))
    if p["direction"] == "forward":
        distance = rng.uniform(0.3, 0.7)
        advance = sum(distance * _ramp(t, ph["takeoff"], ph["landing"]) for ph in phases)
        plan.toe[:, :, 2] += advance
        plan.anchor[:, :, 1] += advance
    bend = np.clip(-plan.pelvis_drop / crouch, 0.0, 1.2)  # 1 at the bottom of a crouch
    plan.pelvis_tilt[:, 0] = rng.uniform(0.15, 0.3) * bend
    plan.spine[:, 0] = rng.uniform(0.15, 0.35) * bend
    plan.root_shift[:, 1] = -0.04 * bend
    # Arms: back while crouching, forward and up through the push, down again through the landing.
    keys, angles = [0.0], [0.0]
    top, back = np.radians(rng.uniform(70, 130)), -np.radians(rng.uniform(20, 40))
    for ph in phases:
        keys += [ph["start"], ph["bottom"] - 0.12, ph["takeoff"] + 0.2, ph["landing"], ph["end"]]
        angles += [angles[-1], back, top, 0.6 * top, 0.0]
    _arm_arc(plan, body, (LEFT, RIGHT), _keyframes(t, keys, np.array(angles)), forward=True)
    return plan


def _arm_arc(plan: Plan, body: Body, sides, angle: np.ndarray, forward: bool, reach: float = 1.0, weight: np.ndarray | None = None) -> None:
    """Swing straight-ish arms up by ``angle`` (T,) radians, forward or out to the side (negative: backwards)."""
    for side in sides:
        axis = np.array([0.0, 0.0, 1.0]) if forward else np.array([SIDE_SIGN[side], 0.0, 0.0])
        direction = np.cos(angle)[:, None] * np.array([0.0, -1.0, 0.0]) + np.sin(angle)[:, None] * axis  # (T, 3)
        raised = np.clip(np.abs(angle) / (np.pi / 2), 0, 1)[:, None]
        length = body.arm_length * (0.985 + (reach - 0.985) * raised)
        rest = body.hand_rest(side) - (body.shoulder(side) + 0.985 * body.arm_length * np.array([0.0, -1.0, 0.0]))
        target = body.shoulder(side) + length * direction + rest * (1 - raised)
        w = np.ones(len(angle)) if weight is None else weight
        plan.hand[side] += w[:, None] * (target - plan.hand[side])
        pole = np.array([0.5 * SIDE_SIGN[side], -0.5, -0.7])
        plan.elbow_pole[side] += (w * raised[:, 0])[:, None] * (pole - plan.elbow_pole[side])


def _hop(body: Body, rng: np.random.Generator, p: dict) -> Plan:
    """Hopping on one leg (``side`` = the leg we stand on); the other foot is held up behind."""
    stance = LEFT if p["side"] == "left" else RIGHT
    free = 1 - stance
    shift, lift_time, lead = rng.uniform(0.35, 0.55), rng.uniform(0.25, 0.4), rng.uniform(0.2, 0.6)
    start = lead + shift + lift_time
    heel = rng.uniform(0.4, 0.7)
    probe = np.arange(0, 12, 1 / FPS)
    height, lift, phases = _ballistic(body, rng, probe, start, p["count"], rng.uniform(0.05, 0.09), rng.uniform(0.04, 0.1), heel, rebound=True)
    down = phases[-1]["end"]
    end = down + lift_time + shift + rng.uniform(0.3, 0.7)
    plan = Plan.neutral(body, _frames(end))
    t = _time(plan.num_frames)
    height = height[: plan.num_frames]
    stand = body.standing_height()
    plan.pelvis_drop[:] = height - stand
    _jump_feet(plan, t, (stance,), lift[: plan.num_frames], phases, heel, 0.0)
    over = _window(t, lead, lead + shift, down + lift_time, down + lift_time + shift)
    plan.root_shift[:, 0] = SIDE_SIGN[stance] * body.stance * rng.uniform(0.75, 0.95) * over
    plan.pelvis_tilt[:, 2] = -SIDE_SIGN[stance] * 0.04 * over
    raised = _window(t, lead + shift, start, down, down + lift_time)
    plan.toe[free, :, 1] = raised * (rng.uniform(0.15, 0.3) + np.maximum(height - stand, 0.0))
    plan.toe[free, :, 2] -= raised * rng.uniform(0.05, 0.2)
    plan.foot_pitch[free] = raised * rng.uniform(0.4, 0.8)
    _arm_arc(plan, body, (LEFT, RIGHT), np.radians(rng.uniform(15, 45)) * over, forward=False)
    return plan


def _wave(body: Body, rng: np.random.Generator, p: dict) -> Plan:
    """Waving one or both hands above the shoulder, one to three back-and-forth waves."""
    sides = {"left": (LEFT,), "right": (RIGHT,), "both": (LEFT, RIGHT)}[p["side"]]
    lead, up, down = rng.uniform(0.2, 0.7), rng.uniform(0.45, 0.75), rng.uniform(0.45, 0.75)
    cycle = rng.uniform(0.35, 0.6)
    waving = p["count"] * cycle
    end = lead + up + waving + down + rng.uniform(0.3, 0.8)
    plan = Plan.neutral(body, _frames(end))
    t = _time(plan.num_frames)
    raised = _window(t, lead, lead + up, lead + up + waving, lead + up + waving + down)
    phase = np.clip((t - lead - up) / cycle, 0, p["count"])
    sway = rng.uniform(0.06, 0.12) * np.sin(2 * np.pi * phase)
    high = np.array([rng.uniform(0.1, 0.25), rng.uniform(0.2, 0.33), rng.uniform(0.05, 0.2)])
    for side in sides:
        target = body.shoulder(side) + high * np.array([SIDE_SIGN[side], 1.0, 1.0])
        target = target + np.outer(sway, [SIDE_SIGN[side], 0.0, 0.0])
        plan.hand[side] += raised[:, None] * (target - plan.hand[side])
        plan.elbow_pole[side] += raised[:, None] * (np.array([0.8 * SIDE_SIGN[side], -0.6, -0.2]) - plan.elbow_pole[side])
        plan.shrug[side] = 0.08 * raised
    if len(sides) == 1:
        plan.spine[:, 2] = -SIDE_SIGN[sides[0]] * 0.04 * raised  # lean away from the raised arm
    return plan


def _raise_arms(body: Body, rng: np.random.Generator, p: dict) -> Plan:
    """Raising one or both arms overhead, forward or sideways, holding, lowering them."""
    sides = {"left": (LEFT,), "right": (RIGHT,), "both": (LEFT, RIGHT)}[p["side"]]
    lead, up, hold, down = rng.uniform(0.2, 0.7), rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.8), rng.uniform(0.6, 1.0)
    end = lead + up + hold + down + rng.uniform(0.3, 0.8)
    plan = Plan.neutral(body, _frames(end))
    t = _time(plan.num_frames)
    raised = _window(t, lead, lead + up, lead + up + hold, lead + up + hold + down)
    top = np.radians(rng.uniform(160, 175) if p["target"] == "overhead" else rng.uniform(80, 100))
    forward = p["target"] == "forward" or (p["target"] == "overhead" and bool(rng.integers(2)))
    _arm_arc(plan, body, sides, top * raised, forward=forward, reach=1.03)
    if p["target"] == "overhead":
        for side in sides:
            plan.shrug[side] = 0.15 * raised
    return plan


def _clap(body: Body, rng: np.random.Generator, p: dict) -> Plan:
    """Clapping the hands in front of the chest a number of times."""
    lead, bring, lower = rng.uniform(0.2, 0.7), rng.uniform(0.4, 0.7), rng.uniform(0.4, 0.7)
    cycle = rng.uniform(0.3, 0.45)
    clapping = p["count"] * cycle
    end = lead + bring + clapping + lower + rng.uniform(0.3, 0.8)
    plan = Plan.neutral(body, _frames(end))
    t = _time(plan.num_frames)
    front = _window(t, lead, lead + bring, lead + bring + clapping, lead + bring + clapping + lower)
    phase = np.clip((t - lead - bring) / cycle, 0, p["count"])
    widest = rng.uniform(0.25, 0.4)
    gap = 0.05 + (widest - 0.05) * (0.5 + 0.5 * np.cos(2 * np.pi * phase))
    centre = np.array([0.0, body.shoulder(LEFT)[1] - rng.uniform(0.2, 0.35), rng.uniform(0.28, 0.4)])
    for side in (LEFT, RIGHT):
        target = centre + np.outer(gap / 2, [SIDE_SIGN[side], 0.0, 0.0])
        plan.hand[side] += front[:, None] * (target - plan.hand[side])
        plan.elbow_pole[side] += front[:, None] * (np.array([0.8 * SIDE_SIGN[side], -0.6, -0.2]) - plan.elbow_pole[side])
    return plan


def _kick(body: Body, rng: np.random.Generator, p: dict) -> Plan:
    """A front kick with one leg: weight over the other foot, chamber, snap the leg out straight, back, down."""
    kick = LEFT if p["side"] == "left" else RIGHT
    stance = 1 - kick
    lead, shift = rng.uniform(0.2, 0.6), rng.uniform(0.3, 0.5)
    chamber, snap, hold = rng.uniform(0.25, 0.4), rng.uniform(0.15, 0.25), rng.uniform(0.05, 0.2)
    back, lower = rng.uniform(0.2, 0.3), rng.uniform(0.3, 0.4)
    keys = np.cumsum([lead + shift, chamber, snap, hold, back, lower])
    end = keys[-1] + shift + rng.uniform(0.3, 0.8)
    plan = Plan.neutral(body, _frames(end))
    t = _time(plan.num_frames)
    over = _window(t, lead, lead + shift, keys[-1], keys[-1] + shift)
    plan.root_shift[:, 0] = SIDE_SIGN[stance] * body.stance * rng.uniform(0.6, 0.85) * over
    # Fully out, the leg points forward and up at ``angle`` from straight down, the toes pointed.
    angle, pitch = np.radians(rng.uniform(55, 95)), rng.uniform(0.6, 1.0)
    hip = body.offsets[1] * np.array([SIDE_SIGN[kick], 1.0, 1.0]) + np.array([0.0, body.standing_height(), 0.0])
    ankle = hip + 0.96 * body.leg_length * np.array([0.0, -np.cos(angle), np.sin(angle)])
    toe = body.offsets[10] * np.array([SIDE_SIGN[kick], 1.0, 1.0])
    toe_out = ankle + np.array([toe[0], toe[1] * np.cos(pitch) - toe[2] * np.sin(pitch), toe[1] * np.sin(pitch) + toe[2] * np.cos(pitch)])
    rest = plan.toe[kick, 0]
    knee_up = rest + np.array([0.0, rng.uniform(0.25, 0.35), rng.uniform(0.1, 0.2)])
    plan.toe[kick] = _keyframes(t, list(keys), np.stack([rest, knee_up, toe_out, toe_out, knee_up, rest]))
    plan.foot_pitch[kick] = _keyframes(t, list(keys), np.array([0.0, 0.6, pitch, pitch, 0.6, 0.0]))
    active = _window(t, keys[0], keys[1], keys[4], keys[5])
    plan.pelvis_tilt[:, 0] = -rng.uniform(0.05, 0.2) * active
    plan.spine[:, 0] = -rng.uniform(0.0, 0.12) * active
    _arm_arc(plan, body, (LEFT, RIGHT), np.radians(rng.uniform(20, 45)) * active, forward=False)
    return plan


def _punch(body: Body, rng: np.random.Generator, p: dict) -> Plan:
    """Punching forward with one hand from a guard, one to three times."""
    hit = LEFT if p["side"] == "left" else RIGHT
    lead, guard_time, lower = rng.uniform(0.2, 0.6), rng.uniform(0.3, 0.5), rng.uniform(0.4, 0.6)
    hits = [(rng.uniform(0.12, 0.2), rng.uniform(0.2, 0.3), rng.uniform(0.1, 0.3)) for _ in range(p["count"])]
    punching = sum(sum(h) for h in hits)
    end = lead + guard_time + punching + lower + rng.uniform(0.3, 0.8)
    plan = Plan.neutral(body, _frames(end))
    t = _time(plan.num_frames)
    guard_on = _window(t, lead, lead + guard_time, lead + guard_time + punching, lead + guard_time + punching + lower)
    up = np.array([rng.uniform(0.05, 0.1), rng.uniform(-0.25, -0.15), rng.uniform(0.2, 0.28)])
    for side in (LEFT, RIGHT):
        guard = body.shoulder(side) + up * np.array([-SIDE_SIGN[side], 1.0, 1.0])
        plan.hand[side] += guard_on[:, None] * (guard - plan.hand[side])
        plan.elbow_pole[side] += guard_on[:, None] * (np.array([0.5 * SIDE_SIGN[side], -0.8, -0.3]) - plan.elbow_pole[side])
    extend = np.zeros(len(t))
    clock = lead + guard_time
    for out, back, pause in hits:
        extend += _window(t, clock, clock + out, clock + out, clock + out + back)
        clock += out + back + pause
    fist = body.shoulder(hit) + np.array([-SIDE_SIGN[hit] * rng.uniform(0.05, 0.12), rng.uniform(-0.05, 0.03), 1.02 * body.arm_length])
    plan.hand[hit] += extend[:, None] * (fist - plan.hand[hit])
    plan.spine[:, 1] = -SIDE_SIGN[hit] * rng.uniform(0.15, 0.35) * extend  # the punching shoulder comes forward
    plan.pelvis_tilt[:, 1] = -SIDE_SIGN[hit] * 0.05 * extend
    return plan


def _squat(body: Body, rng: np.random.Generator, p: dict) -> Plan:
    """Squatting down and standing up, one to three times, hips back and chest forward."""
    lead = rng.uniform(0.2, 0.6)
    reps = [(rng.uniform(0.7, 1.1), rng.uniform(0.0, 0.5), rng.uniform(0.7, 1.1), rng.uniform(0.1, 0.4)) for _ in range(p["count"])]
    end = lead + sum(sum(r) for r in reps) + rng.uniform(0.2, 0.6)
    plan = Plan.neutral(body, _frames(end))
    t = _time(plan.num_frames)
    depth = np.zeros(len(t))
    clock = lead
    for down, hold, up, pause in reps:
        depth += _window(t, clock, clock + down, clock + down + hold, clock + down + hold + up)
        clock += down + hold + up + pause
    plan.pelvis_drop[:] = -rng.uniform(0.25, 0.42) * depth
    plan.root_shift[:, 1] = -rng.uniform(0.05, 0.12) * depth
    plan.pelvis_tilt[:, 0] = rng.uniform(0.15, 0.35) * depth
    plan.spine[:, 0] = rng.uniform(0.1, 0.35) * depth
    if rng.random() < 0.6:  # arms forward for balance
        _arm_arc(plan, body, (LEFT, RIGHT), np.radians(rng.uniform(60, 95)) * depth, forward=True)
    return plan


def _bow(body: Body, rng: np.random.Generator, p: dict) -> Plan:
    """Bowing from the waist and straightening up again."""
    lead, down, hold, up = rng.uniform(0.2, 0.7), rng.uniform(0.8, 1.2), rng.uniform(0.3, 1.0), rng.uniform(0.8, 1.2)
    end = lead + down + hold + up + rng.uniform(0.3, 0.8)
    plan = Plan.neutral(body, _frames(end))
    t = _time(plan.num_frames)
    bent = _window(t, lead, lead + down, lead + down + hold, lead + down + hold + up)
    plan.pelvis_tilt[:, 0] = rng.uniform(0.25, 0.45) * bent
    plan.spine[:, 0] = rng.uniform(0.35, 0.7) * bent
    plan.neck[:, 0] = rng.uniform(0.0, 0.25) * bent
    plan.root_shift[:, 1] = -rng.uniform(0.03, 0.08) * bent
    return plan


def _stand(body: Body, rng: np.random.Generator, p: dict) -> Plan:
    """Standing still: small weight shifts and glances, nothing else."""
    duration = rng.uniform(2.0, 6.0)
    plan = Plan.neutral(body, _frames(duration))
    t = _time(plan.num_frames)
    settled = _window(t, 0.0, 0.6, duration - 0.6, duration)  # start and end in the neutral pose, for sequences
    plan.root_shift[:, 0] = settled * rng.uniform(0.005, 0.025) * np.sin(2 * np.pi * rng.uniform(0.1, 0.25) * t + rng.uniform(0, 2 * np.pi))
    plan.neck[:, 1] = settled * rng.uniform(0.0, 0.25) * np.sin(2 * np.pi * rng.uniform(0.05, 0.15) * t + rng.uniform(0, 2 * np.pi))
    return plan


_MAKERS = {
    "walk": _walk, "jog": lambda b, r, p: _run(b, r, p, jog=True), "run": lambda b, r, p: _run(b, r, p, jog=False),
    "turn": _turn, "circle": _circle, "jump": _jump, "hop": _hop, "wave": _wave, "raise_arms": _raise_arms,
    "clap": _clap, "kick": _kick, "punch": _punch, "squat": _squat, "bow": _bow, "stand": _stand,
}


# ----------------------------------------------------------------------------- specs, composition, labels

def _check_spec(spec: dict) -> dict:
    """A validated copy of one action's spec, e.g. ``{"action": "walk", "direction": "left"}``."""
    if not isinstance(spec, dict) or spec.get("action") not in CHOICES:
        name = spec.get("action") if isinstance(spec, dict) else spec
        raise ValueError(f"unknown action {name!r}; use one of {', '.join(ACTIONS)}.")
    allowed = CHOICES[spec["action"]]
    for key, value in spec.items():
        if key == "action" or (value is None and key in FIELDS):
            continue
        if key not in allowed:
            raise ValueError(f"action {spec['action']!r} takes no {key!r}; its parameters are {sorted(allowed) or 'none'}.")
        if value is not None and value not in allowed[key]:
            raise ValueError(f"{spec['action']} {key}={value!r} is not allowed; choose one of {list(allowed[key])}.")
    return dict(spec)


def _normalise(spec) -> list[dict]:
    """A spec as a list of one or two action dicts (an action name, a dict, or a sequence of those)."""
    parts = [spec] if isinstance(spec, (str, dict)) else list(spec)
    if not 1 <= len(parts) <= 2:
        raise ValueError(f"a motion is one action or two in sequence, got {len(parts)} parts.")
    return [_check_spec({"action": part} if isinstance(part, str) else part) for part in parts]


def _fill(spec: dict, rng: np.random.Generator) -> dict:
    """Draw every parameter the spec leaves open."""
    full = dict(spec)
    for key, values in CHOICES[spec["action"]].items():
        if full.get(key) is None:
            full[key] = values[int(rng.integers(len(values)))]
    return full


def sample_spec(rng: np.random.Generator) -> list[dict]:
    """A random motion spec for the dataset: one action, or (sometimes) two in sequence."""
    names = list(_WEIGHTS)
    weights = np.array([_WEIGHTS[n] for n in names])
    first = names[rng.choice(len(names), p=weights / weights.sum())]
    if rng.random() >= COMPOSITION_RATE:
        return [{"action": first}]
    others = [n for n in names if n != first]
    w = np.array([_WEIGHTS[n] for n in others])
    return [{"action": first}, {"action": others[rng.choice(len(others), p=w / w.sum())]}]


def _idle_frames(plan: Plan, at_start: bool) -> int:
    """Frames at the start (or end) of a plan during which nothing moves."""
    t = plan.num_frames
    channels = np.concatenate([plan.toe.transpose(1, 0, 2).reshape(t, -1), plan.hand.transpose(1, 0, 2).reshape(t, -1),
                               plan.pelvis_drop[:, None], plan.pelvis_tilt, plan.spine, plan.neck, plan.root_shift, plan.foot_pitch.T],
                              axis=1)  # (T, C)
    still = np.abs(channels - channels[0 if at_start else -1]).max(axis=1) < 1e-6
    order = still if at_start else still[::-1]
    return int(np.argmin(order)) if not order.all() else len(order)


def _secondary(plan: Plan, rng: np.random.Generator) -> None:
    """Breathing, a slight postural sway and a head that keeps the gaze roughly level (in place)."""
    t = _time(plan.num_frames)
    breath = rng.uniform(0.005, 0.015) * np.sin(2 * np.pi * rng.uniform(0.2, 0.33) * t + rng.uniform(0, 2 * np.pi))
    plan.spine[:, 0] += breath
    plan.shrug += 2 * breath
    plan.root_shift[:, 0] += rng.uniform(0.002, 0.008) * np.sin(2 * np.pi * rng.uniform(0.1, 0.2) * t + rng.uniform(0, 2 * np.pi))
    plan.neck[:, 0] -= rng.uniform(0.3, 0.6) * (plan.pelvis_tilt[:, 0] + plan.spine[:, 0])


def generate_motion(spec, rng: np.random.Generator, body: Body | None = None) -> tuple[np.ndarray, dict]:
    """Synthesise one motion: raw joint positions and its structured labels.

    Args:
        spec: an action name (``"kick"``), a partial or full spec dict (``{"action": "kick",
            "side": "left"}``), or a sequence of two of them for "A then B". Parameters left out are
            drawn at random; see :data:`CHOICES`.
        rng: the random generator; the same generator state gives the same motion.
        body: the skeleton; by default a random body drawn from ``rng``.
    Returns:
        ``(joints, labels)``: joints (T + 1, 22, 3) float64 with ``MIN_FRAMES <= T + 1 <= MAX_FRAMES``
        (its features have T rows); labels ``{"segments": [...], "num_frames": T, "fps": 20.0}``,
        one segment per action with every field of :data:`FIELDS` plus ``start``/``end`` (feature frames).
    Raises:
        ValueError: an unknown action or parameter value, or a spec whose motion cannot fit in
            ``MAX_FRAMES`` frames.
    """
    parts = _normalise(spec)
    body = Body.sample(rng) if body is None else body
    for _ in range(50):  # draw open parameters and timings until the motion fits the length limits
        filled = [_fill(part, rng) for part in parts]
        plans = [_MAKERS[part["action"]](body, rng, part) for part in filled]
        plan, bounds = plans[0], [0]
        for nxt in plans[1:]:
            overlap = max(2, min(_idle_frames(plan, at_start=False), _idle_frames(nxt, at_start=True), 12) - 2)
            yaw, origin = float(plan.foot_yaw[:, -1].mean()), plan.anchor[:, -1].mean(axis=0)
            bounds.append(plan.num_frames - overlap // 2)
            plan = crossfade(plan, nxt.moved(yaw, origin), overlap)
        if plan.num_frames <= MAX_FRAMES:
            break
    else:
        raise ValueError(f"the motion {parts} does not fit in {MAX_FRAMES} frames; ask for fewer steps or repetitions.")
    if plan.num_frames < MIN_FRAMES:
        plan = plan.held(MIN_FRAMES - plan.num_frames)
    _secondary(plan, rng)
    joints = solve(plan, body)
    num_frames = len(joints) - 1
    bounds.append(num_frames)
    segments = [{**_segment(**part), "start": int(bounds[k]), "end": int(bounds[k + 1])} for k, part in enumerate(filled)]
    return joints, {"segments": segments, "num_frames": num_frames, "fps": FPS}


def mirror_labels(labels: dict) -> dict:
    """Labels of the left-right mirrored motion: left <-> right, clockwise <-> counterclockwise."""
    segments = [{key: _SWAP.get(value, value) if isinstance(value, str) and key != "action" else value
                 for key, value in segment.items()} for segment in labels["segments"]]
    return {**labels, "segments": segments}
