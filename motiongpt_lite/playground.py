"""The playground: every task of one trained MotionGPT behind a few widgets (introduced in notebook 08).

:class:`Playground` puts five tabs around a :class:`~motiongpt_lite.api.MotionGPT`:

===============  ==========================================================================
tab              does
===============  ==========================================================================
Text → motion    a prompt, a length in seconds, greedy or sampled decoding -> an animation
Motion → text    a clip of the dataset (or an uploaded ``.npy`` / ``.bvh``) -> its caption,
                 beside the clip's real captions
Complete         the first part of a clip -> the model writes the rest
In-between       the start and the end of a clip -> the model writes the middle
BVH              a motion-capture file -> HumanML3D joints and features -> a caption; the
                 imported clip joins the clip lists of the other tabs
===============  ==========================================================================

Each button calls a plain method (:meth:`Playground.generate`, :meth:`~Playground.caption`,
:meth:`~Playground.caption_upload`, :meth:`~Playground.complete`, :meth:`~Playground.inbetween`,
:meth:`~Playground.import_bvh`) that returns a :class:`Shown` -- the message, the plotly figure and
the model's result -- and puts it on the tab (``show=False`` only computes). The methods work
without a browser (tests and notebook cells call them directly), and they never raise: a bad prompt
or a broken upload becomes a one-line message in the tab. Figures are plotly animations
(:func:`motiongpt_lite.viz.plotly_animation`) shown in an ``ipywidgets.Output`` by :func:`show_in_output`:
on Colab with plotly's ``colab`` renderer (plotly does not detect Colab by itself), elsewhere written
into the widget's state with the notebook's default renderer, so that headless runs (nbclient,
papermill, nbval) execute the notebook without waiting on the widget::

    from motiongpt_lite.playground import Playground
    app = Playground(gpt, split.clips[:20])     # gpt: a MotionGPT; clips: load_split(...).clips
    app.widget                                   # show it (the last line of a cell)
    app.generate("a person walks forward.", seconds=3.0).message

Bounded, and text stays text: a prompt holding a control token of the model (``<motion_id_5>``, ``</s>``,
``<pad>``, ...) is refused with a message (the API refuses it, see :mod:`motiongpt_lite.api`); a prompt
too long for the model is cut, and the message says so; an upload may have at most
``MAX_UPLOAD_BYTES``; uploaded ``.npy`` and ``.bvh`` clips longer than the model's ``max_frames`` are cut
to it (and the message says so); a clip in the lists longer than the model's ``max_input_frames`` is
refused with a message.
"""
from __future__ import annotations

import io
import sys
import warnings
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Callable, Mapping, Sequence

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
from IPython import get_ipython
from IPython.display import clear_output, display

from motiongpt_lite.api import TEXT_TO_MOTION_DECODING, MotionGPT, MotionResult
from motiongpt_lite.data.bvh import bvh_to_features, parse_bvh
from motiongpt_lite.data.dataset import MotionClip
from motiongpt_lite.data.features import features_to_joints, joints_to_features
from motiongpt_lite.viz import plotly_animation

__all__ = ["Shown", "Playground", "seconds_to_frames", "read_upload", "show_figure", "show_in_output"]

TABS = ("Text → motion", "Motion → text", "Complete", "In-between", "BVH")
SHOWN_TOKENS = 24  # motion tokens printed in a message before "..."
MAX_UPLOAD_BYTES = 64 * 2 ** 20  # largest .npy / .bvh accepted (a minute of 120 fps BVH is about 7 MB)


@dataclass
class Shown:
    """What one action put on its tab.

    Attributes:
        message: the text under the buttons (plain text; the tab shows it as HTML).
        figure: the plotly animation, or None (an error, or nothing to animate).
        result: the model's answer, or None.
        error: True when the action failed; ``message`` then says why and what to do.
        captions: the clip's real captions (Motion → text), else empty.
    """

    message: str
    figure: go.Figure | None = None
    result: MotionResult | None = None
    error: bool = False
    captions: tuple[str, ...] = ()


def seconds_to_frames(seconds: float, fps: float, frames_per_token: int, max_frames: int) -> int:
    """A length in seconds -> frames, rounded to the nearest frame and kept between one token and ``max_frames``.

    Example: 2.3 s at 20 fps -> 46 frames (the model then writes ceil(46 / 4) = 12 tokens).
    """
    if not np.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"a length of {seconds} s is not positive; pick a length of at least "
                         f"{frames_per_token / fps:.2f} s.")
    return int(min(max(round(seconds * fps), frames_per_token), max_frames))


def read_upload(upload: widgets.FileUpload) -> tuple[str, bytes] | None:
    """(file name, contents) of the last file in a FileUpload widget (ipywidgets 7 or 8), or None when empty."""
    value = upload.value
    if not value:
        return None
    if isinstance(value, dict):  # ipywidgets 7: {name: {"metadata": ..., "content": bytes}}
        name, item = list(value.items())[-1]
        return name, bytes(item["content"])
    item = value[-1]  # ipywidgets 8: a tuple of dicts with "name" and "content" (a memoryview)
    return item["name"], bytes(item["content"])


def show_figure(figure: go.Figure) -> None:
    """Display a plotly figure in JupyterLab, Jupyter or Colab (which needs plotly's ``colab`` renderer);
    does nothing outside IPython (tests, scripts), where plotly would open a browser."""
    if get_ipython() is None:
        return
    figure.show(renderer="colab") if "google.colab" in sys.modules else display(figure)


def show_in_output(out: widgets.Output, figure: go.Figure | None) -> None:
    """Make an ``ipywidgets.Output`` show ``figure`` alone (or nothing, for None), replacing what it showed.

    Outside Colab the figure is written into the widget's ``outputs`` state from the kernel, not captured
    with ``with out: display(...)``. Both look the same in JupyterLab and Jupyter, but a captured display
    makes a headless runner mimic the front end: nbclient (nbconvert, papermill) sends every captured
    output back to the kernel on the shell channel while it waits there for the cell's reply, and then
    waits out the whole cell timeout with the kernel idle, or forever without one (notebook 08 never
    finished headless). Written as state, there is nothing to mimic, so notebook 08 runs headless like
    any other notebook. Colab keeps the captured display (its own front end, with plotly's ``colab``
    renderer). Outside IPython (tests, scripts) the widget is only cleared: nothing would draw it.
    """
    inside = get_ipython() is not None
    # the mime bundle display(figure) would send, under plotly's default renderer; empty for renderers
    # that draw elsewhere (a browser tab), which keep the captured display
    bundle = figure._repr_mimebundle_() if figure is not None and inside else {}
    if inside and figure is not None and ("google.colab" in sys.modules or not bundle):
        with out:
            clear_output(wait=True)
            show_figure(figure)
        return
    out.outputs = ({"output_type": "display_data", "data": bundle, "metadata": {}},) if bundle else ()


def _check_upload_size(name: str, content: bytes | str) -> None:
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValueError(f"{name} is {len(content) / 2 ** 20:.0f} MB, more than the playground reads "
                         f"({MAX_UPLOAD_BYTES // 2 ** 20} MB); upload a shorter clip.")


def _tokens_text(code_idx: np.ndarray) -> str:
    codes = code_idx.tolist()
    return str(codes) if len(codes) <= SHOWN_TOKENS else f"{str(codes[:SHOWN_TOKENS])[:-1]}, ...] ({len(codes)} in all)"


def _clip_table(clips: Sequence[MotionClip] | Mapping) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Dataset clips, or a dict id -> features (T, D) or (features, captions) -> id -> (features, captions)."""
    if isinstance(clips, Mapping):
        items = [(str(k), v if isinstance(v, tuple) else (v, [])) for k, v in clips.items()]
    else:
        items = [(clip.id, (clip.motion, [c.text for c in clip.captions])) for clip in clips]
    return {clip_id: (np.asarray(motion, dtype=np.float32), [str(c) for c in captions])
            for clip_id, (motion, captions) in items}


class _Tab:
    """The widgets every tab shares: a message line and an output area for the animation."""

    def __init__(self, controls: list[widgets.Widget]) -> None:
        self.status = widgets.HTML()
        self.out = widgets.Output()
        self.box = widgets.VBox([*controls, self.status, self.out])


class Playground:
    """Five tabs of widgets around a MotionGPT (see the module docstring); ``widget`` is the app to display.

    Args:
        gpt: a trained MotionGPT (e.g. ``motiongpt_lite.pipeline.trained_model(preset)``).
        clips: clips to pick from: ``load_split(...).clips`` or a dict id -> features (T, D) or
            (features, captions). May be empty (the clip tabs then say so).
        bvh_files: example ``.bvh`` files for the BVH tab (the upload button takes any other).
    """

    def __init__(self, gpt: MotionGPT, clips: Sequence[MotionClip] | Mapping = (),
                 bvh_files: Sequence[str | Path] = ()) -> None:
        self.gpt = gpt
        self.clips = _clip_table(clips)
        self.bvh_files = {Path(p).name: Path(p) for p in bvh_files}
        self._dropdowns: list[widgets.Dropdown] = []
        tabs = [self._text_tab(), self._caption_tab(), self._complete_tab(), self._inbetween_tab(), self._bvh_tab()]
        self.tabs = dict(zip(TABS, tabs))
        self.widget = widgets.Tab(children=[t.box for t in tabs])
        for i, title in enumerate(TABS):
            self.widget.set_title(i, title)

    # -- helpers ---------------------------------------------------------------------------------
    def _seconds_slider(self, value: float, description: str = "seconds") -> widgets.FloatSlider:
        step = self.gpt.frames_per_token / self.gpt.fps  # one token
        return widgets.FloatSlider(value=value, min=step, max=self.gpt.max_frames / self.gpt.fps, step=step,
                                   description=description, readout_format=".1f")

    def _frames(self, seconds: float) -> int:
        return seconds_to_frames(seconds, self.gpt.fps, self.gpt.frames_per_token, self.gpt.max_frames)

    def _clip_dropdown(self) -> widgets.Dropdown:
        dropdown = widgets.Dropdown(options=self._clip_options(), description="clip",
                                    layout=widgets.Layout(width="480px"))
        self._dropdowns.append(dropdown)
        return dropdown

    def _clip_options(self) -> list[tuple[str, str]]:
        return [(f"{clip_id} · {captions[0][:50]}" if captions else clip_id, clip_id)
                for clip_id, (_, captions) in self.clips.items()]

    def _clip(self, clip_id: str | None) -> tuple[np.ndarray, list[str]]:
        if not self.clips:
            raise ValueError("there are no clips to pick from; build the app with clips (load_split(...).clips) "
                             "or import a BVH file in the BVH tab.")
        if clip_id not in self.clips:
            raise ValueError(f"unknown clip {clip_id!r}; pick one of the list ({len(self.clips)} clips).")
        return self.clips[clip_id]

    def _figure(self, joints: np.ndarray, title: str) -> go.Figure:
        return plotly_animation(joints, title=title, fps=self.gpt.fps)

    def _show(self, tab: str, action: Callable[[], Shown], show: bool) -> Shown:
        """Run an action; any error becomes the message; with ``show``, put message and figure on ``tab``."""
        try:
            shown = action()
        except Exception as error:  # the UI shows every failure as one readable line, never a traceback
            shown = Shown(message=f"{type(error).__name__}: {error}", error=True)
        if not show:
            return shown
        box = self.tabs[tab]
        colour = "#b00020" if shown.error else "inherit"
        lines = escape(shown.message).replace("\n", "<br>")
        real = "".join(f"<li>{escape(c)}</li>" for c in shown.captions)
        box.status.value = (f"<div style='color:{colour}'>{lines}</div>"
                            + (f"<b>real captions</b><ul>{real}</ul>" if real else ""))
        show_in_output(box.out, shown.figure)
        return shown

    # -- actions (what the buttons call) ---------------------------------------------------------
    def generate(self, text: str, seconds: float = 3.0, sample: bool = True, seed: int | None = None,
                 show: bool = True) -> Shown:
        """Text → motion: a motion of ``seconds`` for the prompt ``text``.

        Args:
            text: the prompt, e.g. "a person walks forward."
            seconds: length of the motion (rounded to frames, at most the model's ``max_frames``).
            sample: sample the tokens as the API does by default (``TEXT_TO_MOTION_DECODING``, but different
                each time unless ``seed`` is given); False: greedy decoding.
            seed: seeds the sampling.
            show: put the answer on the tab (every action takes it; False only computes, e.g. for a checker).
        """
        def action() -> Shown:
            if not text.strip():
                raise ValueError("the prompt is empty; type what the person should do, e.g. 'a person walks forward.'")
            frames = self._frames(seconds)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                decoding = {**TEXT_TO_MOTION_DECODING, "seed": seed} if sample else {"do_sample": False}
                result = self.gpt.text_to_motion(text.strip(), length=frames, **decoding)
            notes = "".join(f"{w.message}\n" for w in caught if issubclass(w.category, UserWarning))
            message = notes + (f"{frames} frames ({frames / self.gpt.fps:.1f} s), {len(result.code_idx)} tokens "
                       f"({'sampled' if sample else 'greedy'}): {_tokens_text(result.code_idx)}")
            return Shown(message, self._figure(result.joints, text.strip()[:80]), result)
        return self._show("Text → motion", action, show)

    def _caption_features(self, features: np.ndarray, title: str, captions: Sequence[str] = (),
                          note: str = "") -> Shown:
        result = self.gpt.motion_to_text(features)
        message = (f"{note}caption: {result.text or '(empty)'}\n"
                   f"{len(result.code_idx)} tokens: {_tokens_text(result.code_idx)}")
        return Shown(message, self._figure(features_to_joints(features), title), result, captions=tuple(captions))

    def caption(self, clip_id: str, show: bool = True) -> Shown:
        """Motion → text: caption a clip of the list; its real captions come along in ``Shown.captions``."""
        def action() -> Shown:
            features, captions = self._clip(clip_id)
            return self._caption_features(features, clip_id, captions)
        return self._show("Motion → text", action, show)

    def caption_upload(self, name: str, content: bytes, show: bool = True) -> Shown:
        """Motion → text for an uploaded file: ``.npy`` features (T, D) or joints (T, 22, 3), or a ``.bvh`` file."""
        def action() -> Shown:
            features, note = self._read_motion_file(name, content)
            return self._caption_features(features, name, note=note)
        return self._show("Motion → text", action, show)

    def complete(self, clip_id: str, given: float = 0.5, show: bool = True) -> Shown:
        """Complete: the model sees the first ``given`` share of a clip and writes the rest (as many frames as
        the clip has left, so the two can be compared)."""
        def action() -> Shown:
            features, _ = self._clip(clip_id)
            if not 0.0 < given < 1.0:
                raise ValueError(f"given={given} must be a share between 0 and 1 (e.g. 0.5 for the first half).")
            step = self.gpt.frames_per_token
            start = max(step, int(round(given * len(features) / step)) * step)  # whole tokens of the clip
            if start >= len(features):
                raise ValueError(f"clip {clip_id} has only {len(features)} frames, too few to give {start}; "
                                 "lower given or pick a longer clip.")
            rest = min(max(step, len(features) - start), self.gpt.max_frames)
            result = self.gpt.predict(features[:start], length=rest)
            real = features_to_joints(features)[start:start + rest]  # (rest', 22, 3)
            ade = np.linalg.norm(result.joints[start:start + len(real)] - real, axis=-1).mean()
            message = (f"given {start} frames ({start / self.gpt.fps:.1f} s), the model wrote {rest} frames "
                       f"({len(result.code_idx[result.generated])} tokens); mean joint distance to the real "
                       f"continuation {ade:.3f} m")
            return Shown(message, self._figure(result.joints, f"{clip_id}: given {start} frames, then the model"),
                         result)
        return self._show("Complete", action, show)

    def inbetween(self, clip_id: str, keep: float = 0.25, seconds: float | None = None,
                  show: bool = True) -> Shown:
        """In-between: the first and last ``keep`` share of a clip stay; the model writes a middle of ``seconds``
        (default: as long as the real middle)."""
        def action() -> Shown:
            features, _ = self._clip(clip_id)
            if not 0.0 < keep < 0.5:
                raise ValueError(f"keep={keep} must be a share between 0 and 0.5 "
                                 "(e.g. 0.25 keeps a quarter at each end).")
            step = self.gpt.frames_per_token
            kept = max(step, int(round(keep * len(features) / step)) * step)
            if 2 * kept + step > len(features):
                raise ValueError(f"clip {clip_id} has {len(features)} frames, too few to keep {kept} at each end "
                                 "and leave a middle; lower keep or pick a longer clip.")
            frames = self._frames(seconds) if seconds else min(len(features) - 2 * kept, self.gpt.max_frames)
            result = self.gpt.inbetween(features[:kept], features[-kept:], length=frames)
            message = (f"kept {kept} frames at each end; the model wrote a middle of {frames} frames "
                       f"({len(result.code_idx[result.generated])} tokens)")
            return Shown(message, self._figure(result.joints, f"{clip_id}: start, the model's middle, end"), result)
        return self._show("In-between", action, show)

    def import_bvh(self, name: str, content: bytes | str, show: bool = True) -> Shown:
        """BVH: parse a motion-capture file, convert it to the model's features, caption it and add it to the
        clip lists (as ``bvh:<name>``). Clips longer than the model's ``max_frames`` are cut to it."""
        def action() -> Shown:
            features, note = self._read_bvh(name, content)
            clip_id = f"bvh:{Path(name).stem}"
            self.clips[clip_id] = (features.astype(np.float32), [])
            for dropdown in self._dropdowns:
                dropdown.options = self._clip_options()
            return self._caption_features(features, name, note=note + f"added to the clip lists as {clip_id}\n")
        return self._show("BVH", action, show)

    # -- reading files ---------------------------------------------------------------------------
    def _read_bvh(self, name: str, content: bytes | str) -> tuple[np.ndarray, str]:
        """BVH text -> (features (T, D) cut to ``max_frames``, a note on what was read)."""
        _check_upload_size(name, content)
        text = content if isinstance(content, str) else bytes(content).decode("utf-8", errors="replace")
        bvh = parse_bvh(text)
        features = bvh_to_features(bvh, fps=self.gpt.fps)  # (T - 1, 263)
        seconds = (bvh.num_frames - 1) * bvh.frame_time
        note = (f"{name}: {bvh.num_frames} frames at {bvh.fps:.0f} fps = {seconds:.1f} s -> "
                f"{len(features)} frames of features at {self.gpt.fps:.0f} fps")
        if len(features) > self.gpt.max_frames:
            note += f", cut to the first {self.gpt.max_frames} ({self.gpt.max_frames / self.gpt.fps:.1f} s)"
            features = features[:self.gpt.max_frames]
        return features, note + "\n"

    def _read_motion_file(self, name: str, content: bytes) -> tuple[np.ndarray, str]:
        """An uploaded ``.npy`` (features or joints) or ``.bvh`` -> (features (T, D), a note)."""
        suffix = Path(name).suffix.lower()
        if suffix == ".bvh":
            return self._read_bvh(name, content)
        if suffix != ".npy":
            raise ValueError(f"{name} is neither a .npy nor a .bvh file; upload features (T, {self.gpt.motion_dim}) "
                             "or joints (T, 22, 3) saved with numpy.save, or a BVH file.")
        _check_upload_size(name, content)
        try:
            array = np.load(io.BytesIO(bytes(content)), allow_pickle=False)
        except (ValueError, OSError):
            raise ValueError(f"{name} is not a numpy array file; save the array with numpy.save "
                             "and upload that.") from None
        limit, cut = self.gpt.max_frames, ""
        if array.ndim == 3 and array.shape[1:] == (22, 3):
            if len(array) > limit + 1:  # joints give one feature frame fewer
                array, cut = array[:limit + 1], f", cut to the first {limit} frames (the model's max_frames)"
            return joints_to_features(array.astype(np.float64)), f"{name}: joints {array.shape} -> features{cut}\n"
        if array.ndim != 2 or array.shape[1] != self.gpt.motion_dim:
            raise ValueError(f"{name} holds an array of shape {array.shape}; upload features "
                             f"(T, {self.gpt.motion_dim}) (a new_joint_vecs file) or joints (T, 22, 3).")
        shape = array.shape
        if len(array) > limit:
            array, cut = array[:limit], f", cut to the first {limit} frames (the model's max_frames)"
        return array.astype(np.float32), f"{name}: features {shape}{cut}\n"

    # -- the tabs --------------------------------------------------------------------------------
    def _text_tab(self) -> _Tab:
        text = widgets.Text(value="a person walks forward.", description="prompt", layout=widgets.Layout(width="480px"))
        seconds = self._seconds_slider(3.0)
        mode = widgets.ToggleButtons(options=["sample", "greedy"], description="decoding")
        button = widgets.Button(description="Generate", button_style="primary")
        button.on_click(lambda _: self.generate(text.value, seconds.value, sample=mode.value == "sample"))
        return _Tab([text, seconds, mode, button])

    def _caption_tab(self) -> _Tab:
        dropdown = self._clip_dropdown()
        button = widgets.Button(description="Caption clip", button_style="primary")
        button.on_click(lambda _: self.caption(dropdown.value))
        upload = widgets.FileUpload(accept=".npy,.bvh", multiple=False, description="Upload .npy / .bvh")

        def on_upload(change) -> None:
            file = read_upload(upload)
            if file is not None:
                self.caption_upload(*file)

        upload.observe(on_upload, names="value")
        return _Tab([widgets.HBox([dropdown, button]), upload])

    def _complete_tab(self) -> _Tab:
        dropdown = self._clip_dropdown()
        given = widgets.FloatSlider(value=0.5, min=0.1, max=0.9, step=0.05, description="given")
        button = widgets.Button(description="Complete", button_style="primary")
        button.on_click(lambda _: self.complete(dropdown.value, given.value))
        return _Tab([dropdown, given, button])

    def _inbetween_tab(self) -> _Tab:
        dropdown = self._clip_dropdown()
        keep = widgets.FloatSlider(value=0.25, min=0.05, max=0.45, step=0.05, description="keep")
        seconds = self._seconds_slider(2.0, "middle (s)")
        button = widgets.Button(description="Fill the middle", button_style="primary")
        button.on_click(lambda _: self.inbetween(dropdown.value, keep.value, seconds.value))
        return _Tab([dropdown, keep, seconds, button])

    def _bvh_tab(self) -> _Tab:
        upload = widgets.FileUpload(accept=".bvh", multiple=False, description="Upload .bvh")
        examples = widgets.Dropdown(options=list(self.bvh_files), description="example")
        button = widgets.Button(description="Import example", button_style="primary", disabled=not self.bvh_files)
        button.on_click(lambda _: self.import_bvh(examples.value, self.bvh_files[examples.value].read_bytes()))

        def on_upload(change) -> None:
            file = read_upload(upload)
            if file is not None:
                self.import_bvh(*file)

        upload.observe(on_upload, names="value")
        hint = widgets.HTML("Upload a BVH file (Y up; CMU joint names, e.g. the cgspeed release of the CMU database)"
                            + ("" if self.bvh_files else ", or pass bvh_files=[...] to get examples here") + ".")
        return _Tab([hint, upload, widgets.HBox([examples, button])])
