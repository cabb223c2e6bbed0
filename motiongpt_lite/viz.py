"""Plots and animations of motion clips (introduced in notebook 00, used by every later notebook).

Everything here is headless-safe: figures have fixed sizes and labelled axes, nothing calls
``plt.show()``, and every figure is detached from pyplot (``plt.close``) before it is returned,
so a notebook shows it exactly once (as the cell's value) and CI never opens a window.

Data conventions (HumanML3D): ``joints`` is (T, J, 3) with Y up and the floor at y = 0.
matplotlib's 3D axes put *their* z axis up, so we plot the cyclic permutation (z, x, y), which keeps
the scene right-handed (nothing is mirrored). Left limbs are blue, right limbs red, the spine grey.
"""
from __future__ import annotations

import io
import os
import tempfile
import textwrap
from html import escape
from pathlib import Path
from typing import Callable, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go
from IPython.display import HTML, Image
from matplotlib import animation
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from motiongpt_lite.data.features import feature_groups
from motiongpt_lite.data.skeleton import HUMANML3D, Skeleton

__all__ = ["animate", "to_html", "save_animation", "filmstrip", "plotly_animation", "feature_heatmap",
           "motion_player", "plot_curves"]

SIDE_COLORS = {"left": "#1f77b4", "right": "#d62728", "centre": "#4d4d4d"}  # hex: matplotlib and plotly both read it
PLOTLY_COLOURS = ("#4d4d4d", "#ff7f0e", "#2ca02c", "#9467bd")  # one per clip when several share a 3D scene
MPL_AXES = [2, 0, 1]  # data (x, y, z) -> matplotlib (z, x, y): matplotlib's vertical axis is its z
CLIP_SIZE = 4.0  # inches per clip in 3D figures
ANIM_DPI = 72  # keeps a 200-frame jshtml animation well under matplotlib's 20 MB embed limit
ANIMATION_FORMAT = "MOTIONGPT_LITE_ANIMATION"  # "gif": to_html gives a GIF (what execute-notebooks stores)
GIF_DPI = 56  # 224 px a clip, legible; about 3 kB a frame
GIF_FRAME_STEP = 2  # a stored GIF keeps every 2nd frame (10 fps at 20 fps), at real speed: half the bytes
PLOTLY_DTYPE = np.float32  # plotly stores arrays as base64 bytes: float32 (sub-micrometre steps) makes a figure a fifth smaller


def _figure(**kwargs) -> Figure:
    """A new figure detached from pyplot: never shown by ``plt.show()``, shown once when a cell returns it."""
    fig = plt.figure(**kwargs)
    plt.close(fig)
    return fig


def _numpy(array) -> np.ndarray:
    """numpy array or torch tensor (any device) -> float64 numpy array."""
    return np.asarray(array.detach().cpu().numpy() if hasattr(array, "detach") else array, dtype=np.float64)


def _as_clip(joints, skeleton: Skeleton) -> np.ndarray:
    """numpy or torch (T, J, 3) -> float numpy array, with a clear error for anything else."""
    joints = _numpy(joints)
    if joints.ndim != 3 or joints.shape[1:] != (skeleton.num_joints, 3) or len(joints) == 0:
        raise ValueError(f"joints must have shape (T, {skeleton.num_joints}, 3) for {skeleton.name} with T >= 1, "
                         f"got {joints.shape}; pass one clip as frames x joints x xyz (several clips as a list).")
    if not np.isfinite(joints).all():
        bad = np.flatnonzero(~np.isfinite(joints).all(axis=(1, 2)))
        raise ValueError(f"joints contain NaN/inf at frames {bad[:10].tolist()}; drop or interpolate them first.")
    return joints


def _as_clips(joints, skeleton: Skeleton) -> list[np.ndarray]:
    """One clip or a list/tuple of clips -> list of (T, J, 3) arrays."""
    clips = joints if isinstance(joints, (list, tuple)) else [joints]
    if not clips:
        raise ValueError("got an empty list of clips; pass at least one (T, J, 3) clip.")
    return [_as_clip(clip, skeleton) for clip in clips]


def _titles(title: str | Sequence[str] | None, count: int) -> list[str | None]:
    """Per-clip titles from a sequence; a single string is a figure title (suptitle), not a clip's."""
    if title is None or isinstance(title, str):
        return [None] * count
    if len(title) != count:
        raise ValueError(f"got {len(title)} titles for {count} clips; pass one title per clip.")
    return list(title)


def _side(chain: Sequence[int], skeleton: Skeleton) -> str:
    name = skeleton.joint_names[chain[-1]]
    return "left" if name.startswith("l_") else "right" if name.startswith("r_") else "centre"


def _cube(points: np.ndarray, half: float) -> np.ndarray:
    """(N, 3) points -> (3, 2) data-axis limits of a cube of side 2 * half around them, its bottom at the floor (or lower)."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    lo[1] = min(lo[1], 0.0)
    centre = (lo + hi) / 2
    centre[1] = lo[1] + half
    return np.stack([centre - half, centre + half], axis=1)  # (3, 2)


def _box(points: np.ndarray, margin: float = 0.1) -> np.ndarray:
    """(N, 3) points -> (3, 2) data-axis limits from the floor (or lower) up; each floor side at least as long
    as the box is high, so a pose standing still is not squeezed and a long walk keeps one scale."""
    lo, hi = points.min(axis=0) - margin, points.max(axis=0) + margin
    lo[1] = min(points[:, 1].min(), 0.0)
    grow = np.maximum((hi[1] - lo[1]) - (hi - lo), 0.0) / 2  # (3,)
    return np.stack([lo - grow, hi + grow], axis=1)  # (3, 2)


def _scene(ax, joints: np.ndarray, skeleton: Skeleton, limits: np.ndarray, fps: float,
           legend: bool = True, clock: bool = True) -> Callable[[int], list]:
    """Draw floor, root path and bone lines of one clip on a 3D axis; return ``update(t)`` that poses frame t.

    ``limits`` (3, 2) are data-axis (x, y, z) limits; the box is drawn with equal scale on every axis.
    """
    (x0, x1), (y0, y1), (z0, z1) = limits
    gx, gz = np.meshgrid([x0, x1], [z0, z1])
    ax.plot_surface(gz, gx, np.zeros_like(gx), color="0.8", alpha=0.4, shade=False)  # floor y = 0
    root = joints[:, 0]  # (T, 3)
    ax.plot(root[:, 2], root[:, 0], np.zeros(len(root)), color="tab:green", lw=1, label="root path")
    lines = []
    for chain in skeleton.kinematic_chains:
        side = _side(chain, skeleton)
        labelled = side in {line.get_label() for line in lines}
        lines.append(ax.plot([], [], [], color=SIDE_COLORS[side], lw=2.5, marker="o", ms=2,
                             label=f"_{side}" if labelled else side)[0])
    ax.set(xlim=limits[2], ylim=limits[0], zlim=limits[1])
    for axis, label in zip((ax.xaxis, ax.yaxis, ax.zaxis), ("z (m)", "x (m)", "y, up (m)")):
        axis.set_label_text(label, fontsize=8)
        axis.set_major_locator(MaxNLocator(4))
    ax.tick_params(labelsize=6)
    ax.set_box_aspect(np.ptp(limits, axis=1)[MPL_AXES])
    ax.view_init(elev=15, azim=-50)  # front-right three-quarter view of a body facing +z
    if legend:
        ax.legend(loc="upper right", fontsize=7)
    clock_text = ax.text2D(0.02, 0.95, "", transform=ax.transAxes, fontsize=8, visible=clock)

    def update(t: int) -> list:
        pose = joints[min(t, len(joints) - 1)][:, MPL_AXES]  # (J, 3) in matplotlib order; short clips hold still
        for line, chain in zip(lines, skeleton.kinematic_chains):
            line.set_data_3d(*pose[list(chain)].T)
        clock_text.set_text(f"frame {t}  ({t / fps:.2f} s)")
        return lines + [clock_text]

    update(0)
    return update


def animate(joints, skeleton: Skeleton = HUMANML3D, title: str | Sequence[str] | None = None,
            captions: Sequence[str] | None = None, fps: float | None = None) -> animation.FuncAnimation:
    """3D stick-figure animation of one clip, or of several clips side by side.

    Args:
        joints: (T, J, 3) numpy array or torch tensor, or a list of them (e.g. original vs reconstruction).
        title: one title for the figure, or one per clip.
        captions: text lines shown under the animation.
        fps: playback speed; default ``skeleton.fps``.
    Returns:
        A FuncAnimation with max(T) frames (every :data:`GIF_FRAME_STEP`-th one, at the same speed, when
        notebooks are stored with GIFs: see :func:`to_html`); show it with :func:`to_html`, write it with
        :func:`save_animation`.
    """
    clips = _as_clips(joints, skeleton)
    titles = _titles(title, len(clips))
    fps = fps or skeleton.fps
    caption_text = "\n".join(textwrap.fill(c, 35 * len(clips)) for c in captions or [])
    caption_height = 0.17 * (caption_text.count("\n") + 1) * bool(captions)  # inches
    fig = _figure(figsize=(CLIP_SIZE * len(clips), CLIP_SIZE + caption_height), dpi=ANIM_DPI)
    fig.subplots_adjust(left=0.0, right=0.97, top=0.92, bottom=(caption_height + 0.05) / (CLIP_SIZE + caption_height),
                        wspace=0.05)  # constrained layout clips the titles of 3D axes
    limits = _box(np.concatenate(clips).reshape(-1, 3))  # shared, so clips compare at the same scale
    updates = []
    for i, (clip, clip_title) in enumerate(zip(clips, titles)):
        ax = fig.add_subplot(1, len(clips), i + 1, projection="3d")
        updates.append(_scene(ax, clip, skeleton, limits, fps, legend=i == 0))
        ax.set_title(clip_title)
    if isinstance(title, str):
        fig.suptitle(title)
    if captions:
        fig.text(0.5, 0.02, caption_text, ha="center", va="bottom", fontsize=8)
    step = GIF_FRAME_STEP if _stored_as_gif() else 1
    return animation.FuncAnimation(fig, lambda t: sum((u(t) for u in updates), []),
                                   frames=range(0, max(len(clip) for clip in clips), step), interval=1000 * step / fps)


def _stored_as_gif() -> bool:
    return os.environ.get(ANIMATION_FORMAT, "").lower() == "gif"


def to_html(anim: animation.FuncAnimation) -> HTML | Image:
    """Self-contained JavaScript player (jshtml) that works in JupyterLab, Colab and under nbval.

    With ``MOTIONGPT_LITE_ANIMATION=gif`` in the environment (``motiongpt-lite execute-notebooks`` sets it) it
    gives a small GIF instead, at :data:`GIF_DPI` and the animation's own speed: a stored notebook
    then shows the motion on GitHub too and stays small (a jshtml player of 200 frames is 3-7 MB).
    """
    if not _stored_as_gif():
        return HTML(anim.to_jshtml())
    with tempfile.TemporaryDirectory() as folder:
        return Image(data=save_animation(anim, Path(folder) / "animation.gif", dpi=GIF_DPI).read_bytes(), format="gif")


def save_animation(anim: animation.FuncAnimation, path: str | os.PathLike, fps: float | None = None,
                   dpi: float | None = None) -> Path:
    """Write an animation to ``.gif`` (Pillow) or ``.mp4`` (ffmpeg), atomically (temp file, then rename).

    Args:
        fps: frames per second; default the animation's own speed.
        dpi: resolution; default the figure's.
    Returns:
        The written path.
    """
    path = Path(path)
    writers = {".gif": "pillow", ".mp4": "ffmpeg"}
    if path.suffix.lower() not in writers:
        raise ValueError(f"cannot save an animation as {path.suffix!r}; use a .gif or .mp4 path.")
    writer = writers[path.suffix.lower()]
    if not animation.writers.is_available(writer):
        raise RuntimeError(f"the {writer} movie writer is not available; install it (e.g. `conda install ffmpeg` "
                           "or `apt-get install ffmpeg`) or save as .gif instead.")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        anim.save(tmp, writer=writer, fps=fps, dpi=dpi)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp creates 0600: give the GIF the permissions open() would
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def filmstrip(joints, num_frames: int = 8, skeleton: Skeleton = HUMANML3D, view: str = "side",
              title: str | Sequence[str] | None = None, fps: float | None = None) -> Figure:
    """Static strip of evenly spaced poses, one row per clip, each pose labelled with frame and time.

    Args:
        joints: (T, J, 3) clip or a list of clips.
        view: ``"side"`` (z forward to the right, y up: seen from the body's right at frame 0) or ``"3d"``.
        title: a figure title, or one row title per clip.
    Returns:
        A (rows x num_frames) figure.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be at least 1, got {num_frames}.")
    if view not in ("side", "3d"):
        raise ValueError(f"unknown view {view!r}; use 'side' or '3d'.")
    clips = _as_clips(joints, skeleton)
    titles = _titles(title, len(clips))
    fps = fps or skeleton.fps
    fig = _figure(figsize=(1.6 * num_frames, 2.4 * len(clips) + 0.3), layout="constrained")
    for row, clip in enumerate(clips):
        frames = np.unique(np.linspace(0, len(clip) - 1, num_frames).round().astype(int))
        body = clip - clip[:, :1]  # (T, J, 3) relative to the root
        half = max(np.abs(body[..., [0, 2]]).max(), (clip[..., 1].max() - min(clip[..., 1].min(), 0)) / 2) + 0.1
        for col, t in enumerate(frames):
            index = row * num_frames + col + 1
            if view == "3d":
                ax = fig.add_subplot(len(clips), num_frames, index, projection="3d")
                _scene(ax, clip[t:t + 1], skeleton, _cube(clip[t], half), fps, legend=False, clock=False)
            else:
                ax = fig.add_subplot(len(clips), num_frames, index)
                for chain in skeleton.kinematic_chains:
                    ax.plot(clip[t, list(chain), 2], clip[t, list(chain), 1], color=SIDE_COLORS[_side(chain, skeleton)],
                            lw=2, marker="o", ms=2)
                ax.axhline(0.0, color="0.5", lw=1)
                ax.set(xlim=(clip[t, 0, 2] - half, clip[t, 0, 2] + half), ylim=_cube(clip[t], half)[1], aspect="equal",
                       xlabel="z (m)" if row == len(clips) - 1 else None, ylabel="y (m)" if col == 0 else None)
                ax.tick_params(labelsize=7, labelleft=col == 0)
            label = f"frame {t} ({t / fps:.1f} s)"
            ax.set_title(f"{titles[row]}\n{label}" if titles[row] and col == 0 else label, fontsize=8)
    if isinstance(title, str):
        fig.suptitle(title)
    return fig


def plotly_animation(joints, skeleton: Skeleton = HUMANML3D, title: str | None = None,
                     fps: float | None = None, names: Sequence[str] | None = None, spacing: float = 0.0) -> go.Figure:
    """Interactive 3D animation (Play/Pause and a frame slider), Y up, equal aspect, floor at y = 0.

    Several clips share one scene and one slider, to be turned and compared (a clip that ends early holds
    its last pose): each is drawn in its own colour and named in the legend; one clip is coloured by body
    side (left blue, right red).

    Args:
        joints: one (T, J, 3) numpy array or torch tensor, or a list of them.
        names: one legend name per clip (default "clip 1", "clip 2", ...).
        spacing: metres along x between the clips (0 draws them on top of each other, e.g. a motion and
            its reconstruction).
    Returns:
        A plotly Figure with max(T) frames and a slider of as many steps.
    """
    clips = _as_clips(joints, skeleton)
    names = list(names) if names is not None else [f"clip {k + 1}" for k in range(len(clips))]
    if len(names) != len(clips):
        raise ValueError(f"got {len(names)} names for {len(clips)} clips; pass one name per clip.")
    clips = [(clip + np.array([k * spacing, 0.0, 0.0])).astype(PLOTLY_DTYPE) for k, clip in enumerate(clips)]
    num_frames, fps = max(len(clip) for clip in clips), fps or skeleton.fps
    (x0, x1), (y0, y1), (z0, z1) = limits = _box(np.concatenate(clips).reshape(-1, 3))
    ratio = np.ptp(limits, axis=1) / np.ptp(limits, axis=1).max()  # (3,) equal scale on every axis
    colours = [None] if len(clips) == 1 else [PLOTLY_COLOURS[k % len(PLOTLY_COLOURS)] for k in range(len(clips))]
    floor = go.Mesh3d(x=[x0, x1, x1, x0], y=[0, 0, 0, 0], z=[z0, z0, z1, z1], i=[0, 0], j=[1, 2], k=[2, 3],
                      color="lightgray", opacity=0.5, hoverinfo="skip", name="floor")
    paths = [go.Scatter3d(x=clip[:, 0, 0], y=np.zeros(len(clip)), z=clip[:, 0, 2], mode="lines",
                          line=dict(color=colour or "green", width=2), name=f"{name}: root path", showlegend=False)
             for clip, name, colour in zip(clips, names, colours)]

    def bones(t: int) -> list[go.Scatter3d]:
        traces = []
        for clip, name, colour in zip(clips, names, colours):
            pose = clip[min(t, len(clip) - 1)]
            traces += [go.Scatter3d(x=pose[list(c), 0], y=pose[list(c), 1], z=pose[list(c), 2], mode="lines+markers",
                                    line=dict(color=colour or SIDE_COLORS[_side(c, skeleton)], width=6),
                                    marker=dict(size=2), name=name if colour else _side(c, skeleton),
                                    legendgroup=name, showlegend=bool(colour) and i == 0)
                       for i, c in enumerate(skeleton.kinematic_chains)]
        return traces

    bone_ids = list(range(1 + len(paths), 1 + len(paths) + len(clips) * len(skeleton.kinematic_chains)))
    frames = [go.Frame(data=bones(t), traces=bone_ids, name=str(t)) for t in range(num_frames)]
    still = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate", "transition": {"duration": 0}}
    play = {"frame": {"duration": 1000 / fps, "redraw": True}, "fromcurrent": True, "transition": {"duration": 0}}
    fig = go.Figure(data=[floor, *paths] + bones(0), frames=frames)
    fig.update_layout(
        title=title, width=600 if len(clips) == 1 else 800, height=600, margin=dict(l=0, r=0, t=40, b=0),
        scene=dict(xaxis=dict(range=[x0, x1], title="x (m)"), yaxis=dict(range=[y0, y1], title="y, up (m)"),
                   zaxis=dict(range=[z0, z1], title="z (m)"), aspectmode="manual",
                   aspectratio=dict(x=ratio[0], y=ratio[1], z=ratio[2]),
                   camera=dict(up=dict(x=0, y=1, z=0), eye=dict(x=1.2, y=0.8, z=1.6))),
        updatemenus=[dict(type="buttons", x=0.05, y=0.05, direction="left", buttons=[
            dict(label="Play", method="animate", args=[None, play]),
            dict(label="Pause", method="animate", args=[[None], still])])],
        sliders=[dict(x=0.2, len=0.75, y=0.05, currentvalue=dict(prefix="frame "), steps=[
            dict(label=str(t), method="animate", args=[[str(t)], still]) for t in range(num_frames)])],
    )
    return fig


def feature_heatmap(features, num_joints: int = 22, normalized: bool = False, title: str | None = None) -> Figure:
    """Heat map of a (T, D) feature matrix: frames on x, dims on y, feature groups marked and named.

    Args:
        features: (T, D) numpy array or torch tensor, D = 12 * num_joints - 1 (263 for HumanML3D).
        normalized: whether the input is normalised (z-scores); shown in the title and sets the colour range.
    Returns:
        The figure.
    """
    features = _numpy(features)
    dim = 12 * num_joints - 1
    if features.ndim != 2 or features.shape[1] != dim:
        raise ValueError(f"features must have shape (T, {dim}) for {num_joints} joints, got {features.shape}; "
                         "pass one clip's feature matrix (or set num_joints).")
    limit = 3.0 if normalized else max(float(np.percentile(np.abs(features), 99)), 1e-6)
    fig = _figure(figsize=(9, 5), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(features.T, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    fig.colorbar(image, ax=ax, label="z-score" if normalized else "value")
    runs = []  # (thin?, groups): neighbouring thin groups share one multi-line label so names never overlap
    for name, dims in feature_groups(num_joints).items():
        ax.axhline(dims.stop - 0.5, color="k", lw=0.6)
        thin = dims.stop - dims.start < dim / 20
        if thin and runs and runs[-1][0]:
            runs[-1][1].append((name, dims))
        else:
            runs.append((thin, [(name, dims)]))
    ax.set_yticks([(run[0][1].start + run[-1][1].stop - 1) / 2 for _, run in runs],
                  ["\n".join(f"{n} [{d.start}:{d.stop}]" for n, d in run) for _, run in runs], fontsize=7)
    ax.set(xlabel="frame", ylabel="feature dimension (group [dims])",
           title=f"{title or 'motion features'} ({'normalised' if normalized else 'raw'}, T={len(features)})")
    return fig


def motion_player(clips: dict, skeleton: Skeleton = HUMANML3D) -> widgets.Widget:
    """Widget to browse clips: a clip dropdown, Play + frame slider, the captions and the current pose.

    Args:
        clips: id -> (joints (T, J, 3), list of caption strings), or id -> joints.
    Returns:
        A VBox; the pose is a matplotlib PNG in an ``ipywidgets.Image``, redrawn in Python on every change,
        so the widget also builds (and redraws) without a browser.
    """
    if not clips:
        raise ValueError("motion_player needs at least one clip; pass a dict id -> joints or (joints, captions).")
    data = {}
    for clip_id, value in clips.items():
        joints, captions = value if isinstance(value, tuple) else (value, [])
        data[clip_id] = (_as_clip(joints, skeleton), [str(c) for c in captions])
    dropdown = widgets.Dropdown(options=list(data), description="clip")
    play = widgets.Play(interval=round(1000 / skeleton.fps), description="play")
    slider = widgets.IntSlider(description="frame")
    widgets.link((play, "value"), (slider, "value"))
    image = widgets.Image(format="png", layout=widgets.Layout(width="400px"))
    text = widgets.HTML()
    fig = _figure(figsize=(CLIP_SIZE, CLIP_SIZE), dpi=ANIM_DPI, layout="constrained")
    state = {}

    def show_frame(change=None) -> None:
        state["update"](slider.value)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        image.value = buffer.getvalue()

    def show_clip(change=None) -> None:
        joints, captions = data[dropdown.value]
        fig.clear()
        ax = fig.add_subplot(projection="3d")
        state["update"] = _scene(ax, joints, skeleton, _box(joints.reshape(-1, 3)), skeleton.fps)
        ax.set_title(str(dropdown.value))
        text.value = "<ul>" + "".join(f"<li>{escape(c)}</li>" for c in captions) + "</ul>" if captions else "<i>no captions</i>"
        if slider.value:
            slider.value = 0  # the slider's observer redraws
        else:
            show_frame()
        play.max = slider.max = len(joints) - 1

    dropdown.observe(show_clip, names="value")
    slider.observe(show_frame, names="value")
    show_clip()
    return widgets.VBox([widgets.HBox([dropdown, play, slider]), widgets.HBox([image, text])])


def plot_curves(curves: dict[str, Sequence[float]], xlabel: str = "step", ylabel: str = "loss",
                title: str | None = None, logy: bool = False, x: Sequence[float] | None = None) -> Figure:
    """Line plot of named curves (losses, metrics) against ``x`` (e.g. a history's logged step numbers),
    or against their index when ``x`` is None; every curve needs one value per ``x``."""
    if not curves:
        raise ValueError("plot_curves got no curves; pass a dict name -> list of values.")
    wrong = [name for name, values in curves.items() if x is not None and len(values) != len(x)]
    if wrong:
        raise ValueError(f"curve {wrong[0]!r} has {len(curves[wrong[0]])} values for {len(x)} x values; pass "
                         "one value per x (the rows of one history), or x=None to plot against the index.")
    fig = _figure(figsize=(6, 3.5), layout="constrained")
    ax = fig.add_subplot()
    for name, values in curves.items():
        ax.plot(np.arange(len(values)) if x is None else np.asarray(x, dtype=float), np.asarray(values, dtype=float),
                label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, yscale="log" if logy else "linear")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig
