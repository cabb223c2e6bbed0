"""The playground (motiongpt_lite.playground) without a browser: the app builds its five tabs around a
tiny untrained MotionGPT, every action returns a plotly animation and the numbers the model was asked
for, buttons and uploads reach the actions, and bad input (an empty prompt, a non-BVH upload, a .npy of
the wrong shape) ends as a readable message on the tab instead of an exception."""
from __future__ import annotations

import dataclasses
import io
from datetime import datetime, timezone
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from motiongpt_lite.api import MotionGPT
from motiongpt_lite.config import get_preset
from motiongpt_lite.data.bvh import load_bvh
from motiongpt_lite.data.normalization import Normalizer
from motiongpt_lite.lm.model import MotionLM
from motiongpt_lite.playground import TABS, Playground, Shown, read_upload, seconds_to_frames
from motiongpt_lite.vq.model import VQVAE
from motiongpt_lite.vq.tokenize import MotionTokenizer

CMU = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cmu_bvh" / "131_03.bvh"
NUM_CODES = 16
CAPTIONS = ["a person walks forward.", "a man jumps up.", "someone waves a hand.", "a person turns around."]


@pytest.fixture(scope="module")
def gpt(tmp_path_factory) -> MotionGPT:
    """An untrained micro model: T5 with one layer, a 16-code VQ-VAE, at most 32 frames (8 tokens)."""
    preset = get_preset("tiny")
    lm_cfg = dataclasses.replace(preset.lm, d_model=32, d_ff=64, d_kv=8, num_layers=1, num_heads=2)
    lm = MotionLM.build(lm_cfg, NUM_CODES, CAPTIONS, cache_dir=tmp_path_factory.mktemp("tokenizer"), seed=0)
    torch.manual_seed(0)
    vq = VQVAE(dataclasses.replace(preset.vq, width=32, depth=1, num_codes=NUM_CODES, code_dim=16)).eval()
    normalizer = Normalizer(np.zeros(263, np.float32), np.full(263, 0.1, np.float32))
    return MotionGPT(lm, MotionTokenizer(vq, normalizer), max_frames=32, max_caption_tokens=6)


@pytest.fixture(scope="module")
def clips() -> dict:
    rng = np.random.default_rng(0)
    return {f"clip{i}": (0.05 * rng.normal(size=(n, 263)).astype(np.float32), [f"caption {i} a", f"caption {i} b"])
            for i, n in enumerate((24, 30))}


@pytest.fixture()
def app(gpt, clips) -> Playground:
    return Playground(gpt, clips, bvh_files=[CMU] if CMU.exists() else [])


def _status(app: Playground, tab: str) -> str:
    return app.tabs[tab].status.value


def _check_motion(shown: Shown, frames: int) -> None:
    assert not shown.error, shown.message
    assert isinstance(shown.figure, go.Figure) and len(shown.figure.frames) == frames
    assert shown.result.joints.shape == (frames, 22, 3) and np.isfinite(shown.result.joints).all()


def test_the_app_has_five_tabs_and_lists_the_clips(app):
    assert isinstance(app.widget, widgets.Tab) and len(app.widget.children) == 5
    assert [app.widget.get_title(i) for i in range(5)] == list(TABS)
    for dropdown in app._dropdowns:  # Motion -> text, Complete, In-between
        assert [value for _, value in dropdown.options] == ["clip0", "clip1"]
        assert dropdown.options[0][0] == "clip0 · caption 0 a"


def test_seconds_to_frames_rounds_and_clamps():
    assert seconds_to_frames(2.3, 20.0, 4, 196) == 46  # ceil(46 / 4) = 12 tokens
    assert seconds_to_frames(0.01, 20.0, 4, 196) == 4  # at least one token
    assert seconds_to_frames(60.0, 20.0, 4, 196) == 196
    with pytest.raises(ValueError, match="not positive"):
        seconds_to_frames(0.0, 20.0, 4, 196)


def test_generate_gives_the_asked_length_and_shows_the_tokens(app):
    shown = app.generate("a person walks forward.", seconds=0.9)  # 18 frames -> 5 tokens
    _check_motion(shown, 18)
    assert len(shown.result.code_idx) == 5 and "18 frames" in shown.message and "5 tokens" in shown.message
    assert str(shown.result.code_idx.tolist()) in shown.message
    assert "18 frames" in _status(app, "Text → motion")
    first, again = (app.generate("a man jumps up.", seconds=1.0, sample=True, seed=3) for _ in range(2))
    assert first.result.code_idx.tolist() == again.result.code_idx.tolist()  # seeded sampling repeats


def test_caption_shows_the_real_captions_beside_the_models(app, clips):
    shown = app.caption("clip1")
    _check_motion(shown, 30)
    assert isinstance(shown.result.text, str) and shown.captions == ("caption 1 a", "caption 1 b")
    status = _status(app, "Motion → text")
    assert "real captions" in status and "caption 1 b" in status and "caption:" in status


def test_uploaded_features_and_joints_are_captioned(app, clips):
    buffer = io.BytesIO()
    np.save(buffer, clips["clip0"][0])
    _check_motion(app.caption_upload("mine.npy", buffer.getvalue()), 24)
    joints = app.generate("a person walks forward.", seconds=1.0).result.joints  # (20, 22, 3)
    buffer = io.BytesIO()
    np.save(buffer, joints)
    shown = app.caption_upload("joints.npy", buffer.getvalue())
    _check_motion(shown, 19)  # features have one frame fewer than joints
    assert "joints (20, 22, 3)" in shown.message


@pytest.mark.parametrize("name, content, words", [
    ("wrong.npy", np.zeros((10, 12), np.float32), "shape (10, 12)"),
    ("junk.npy", b"\x93NOT really numpy", "not a numpy array file"),
    ("notes.txt", b"hello", "neither a .npy nor a .bvh"),
    ("fake.bvh", b"\x00\x01\x02PNG binary junk", "not a BVH file"),
])
def test_bad_uploads_give_a_readable_message(app, name, content, words):
    if isinstance(content, np.ndarray):
        buffer = io.BytesIO()
        np.save(buffer, content)
        content = buffer.getvalue()
    shown = app.caption_upload(name, content)
    assert shown.error and shown.figure is None and words in shown.message
    status = _status(app, "Motion → text")
    assert words in status and "Traceback" not in status and "#b00020" in status  # shown in red


def test_errors_never_raise(app):
    assert "prompt is empty" in app.generate("   ").message
    assert "not positive" in app.generate("a man jumps up.", seconds=float("nan")).message
    assert "unknown clip" in app.caption("nope").message
    assert "share between 0 and 1" in app.complete("clip0", given=1.5).message
    assert "too few" in app.inbetween("clip0", keep=0.45).message
    assert Playground(app.gpt).caption(None).message.startswith("ValueError: there are no clips")


def test_complete_writes_the_rest_of_the_clip(app):
    shown = app.complete("clip1", given=0.5)  # 30 frames: 16 given (4 tokens), 14 written (4 tokens)
    _check_motion(shown, 30)
    assert len(shown.result.code_idx[shown.result.generated]) == 4 and "given 16 frames" in shown.message
    assert "mean joint distance" in shown.message and "nan" not in shown.message
    status = _status(app, "Complete")
    quiet = app.complete("clip1", given=0.25, show=False)  # computes without touching the tab
    assert not quiet.error and _status(app, "Complete") == status


def test_inbetween_keeps_both_ends_and_writes_the_middle(app, gpt, clips):
    shown = app.inbetween("clip1", keep=0.25, seconds=0.5)  # keep 8 frames (2 tokens) each end; middle 10 frames
    result = shown.result
    assert not shown.error, shown.message
    assert len(result.code_idx[result.generated]) == 3 and len(result.code_idx) == 2 + 3 + 2
    features = clips["clip1"][0]
    assert result.code_idx[:2].tolist() == gpt.motion_tokenizer.encode(features[:8]).tolist()
    assert result.code_idx[-2:].tolist() == gpt.motion_tokenizer.encode(features[-8:]).tolist()
    assert isinstance(shown.figure, go.Figure)


def test_buttons_and_uploads_reach_the_actions(app, clips):
    text_tab = app.tabs["Text → motion"].box
    button = next(w for w in text_tab.children if isinstance(w, widgets.Button))
    button.click()
    assert "tokens (sampled)" in _status(app, "Text → motion")
    upload = next(w for w in app.tabs["BVH"].box.children if isinstance(w, widgets.FileUpload))
    upload.value = ({"name": "broken.bvh", "type": "", "size": 5, "content": memoryview(b"HELLO"),
                     "last_modified": datetime.now(timezone.utc)},)
    assert read_upload(upload) == ("broken.bvh", b"HELLO")
    assert "not a BVH file" in _status(app, "BVH")


def test_a_cmu_bvh_clip_is_imported_captioned_and_listed(app, gpt):
    if not CMU.exists():
        pytest.skip(f"CMU clip not found at {CMU}; the BVH import is tested against the real file only")
    shown = app.import_bvh(CMU.name, CMU.read_bytes())
    _check_motion(shown, gpt.max_frames)  # 9.2 s -> cut to the model's 32 frames
    bvh = load_bvh(CMU)
    seconds = (bvh.num_frames - 1) * bvh.frame_time
    assert f"{bvh.num_frames} frames at 120 fps = {seconds:.1f} s" in shown.message
    assert "cut to the first 32" in shown.message and "caption:" in shown.message
    assert all("bvh:131_03" in [v for _, v in d.options] for d in app._dropdowns)
    assert not app.complete("bvh:131_03", given=0.5).error  # the imported clip works in the other tabs


def test_figures_are_written_into_the_tab_as_widget_state(app, monkeypatch):
    """The animation reaches the tab's Output as its ``outputs`` state, never through ``with out:``: a captured
    display makes nbclient send each output back to the kernel and then wait out the cell timeout (notebook 08
    ran headless in about a minute per playground cell before)."""
    import plotly.io as pio

    from motiongpt_lite import playground

    def no_capture(self):
        raise AssertionError("the playground captured a display with `with out:`")

    monkeypatch.setattr(widgets.Output, "__enter__", no_capture)
    out = app.tabs["Text → motion"].out
    app.generate("a person walks forward.", seconds=1.0)  # outside IPython: nothing to draw with
    assert out.outputs == ()
    monkeypatch.setattr(playground, "get_ipython", lambda: object())  # inside a kernel, any front end
    monkeypatch.setattr(pio.renderers, "default", "plotly_mimetype")
    shown = app.generate("a person walks forward.", seconds=1.0)
    (output,) = out.outputs
    assert output["output_type"] == "display_data"
    assert output["data"] == shown.figure._repr_mimebundle_() and "application/vnd.plotly.v1+json" in output["data"]
    assert app.generate("   ").error and out.outputs == ()  # a failed action clears the old animation


# -- typed text stays text, inputs are bounded (issue 18) ----------------------------------------------
@pytest.mark.parametrize("prompt, token", [
    ("a man <motion_id_5> jumps", "<motion_id_5>"), (f"walk <motion_id_{NUM_CODES}>", f"<motion_id_{NUM_CODES}>"),
    ("a man jumps</s>", "</s>"), ("<pad> walks", "<pad>"), ("a <unk> man", "<unk>"), ("a <extra_id_3> b", "<extra_id_3>"),
])
def test_control_tokens_in_a_prompt_are_refused_with_a_message(app, prompt, token):
    shown = app.generate(prompt, seconds=1.0)
    assert shown.error and shown.result is None and f"holds '{token}'" in shown.message
    assert "control token" in _status(app, "Text → motion")


def test_a_huge_prompt_is_cut_and_says_so(app, gpt):
    shown = app.generate("a person walks forward and " * 2000, seconds=1.0)
    _check_motion(shown, 20)
    assert f"fits the model's {gpt.max_source_len} source tokens" in shown.message
    assert len(gpt.lm.tokenizer(shown.result.prompt).input_ids) <= gpt.max_source_len


def test_long_uploads_are_cut_and_huge_ones_refused(app, gpt, monkeypatch):
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((10_000, 263), np.float32))
    shown = app.caption_upload("long.npy", buffer.getvalue())
    _check_motion(shown, gpt.max_frames)
    assert f"cut to the first {gpt.max_frames} frames" in shown.message
    import motiongpt_lite.playground as playground_module
    monkeypatch.setattr(playground_module, "MAX_UPLOAD_BYTES", 1000)
    for name in ("big.npy", "big.bvh"):
        shown = app.caption_upload(name, buffer.getvalue())
        assert shown.error and "more than the playground reads" in shown.message


def test_a_listed_clip_beyond_the_input_limit_is_refused(gpt):
    app = Playground(gpt, {"huge": np.zeros((10_000, 263), np.float32)})
    shown = app.caption("huge")
    assert shown.error and f"more than this model takes ({gpt.max_input_frames} frames)" in shown.message


# ----------------------------------------------------------------------------- the exercises of notebook 08

def _labels_half_right(gpt) -> list[dict]:
    """Labels that the micro model's default motions for CAPTIONS pass for the first half and fail for the rest."""
    from motiongpt_lite.eval.semantic import classify_action, measure_motion

    seen = [classify_action(measure_motion(r.joints, gpt.fps)) for r in gpt.text_to_motion(CAPTIONS)]
    return [{"segments": [{"action": a if i < len(seen) // 2 else ("kick" if a != "kick" else "jump")}]}
            for i, a in enumerate(seen)]


def test_exercise_8_1_accepts_the_rule_and_refuses_ones_that_miss_a_control_token(gpt):
    from motiongpt_lite.exercises import check_exercise_8_1

    def is_plain(text, tokenizer):
        control = (set(tokenizer.all_special_ids) | set(tokenizer.get_added_vocab().values())) - {tokenizer.unk_token_id}
        return not any(i in control for i in tokenizer(text, add_special_tokens=False).input_ids)

    check_exercise_8_1(is_plain, gpt.lm.tokenizer)
    for wrong in (lambda text, tok: True,  # trusts everything
                  lambda text, tok: "<motion_id" not in text,  # forgets </s>, <pad>, <extra_id_0>
                  lambda text, tok: not any(i in set(tok.all_special_ids) for i in tok(text, add_special_tokens=False).input_ids)):
        with pytest.raises(AssertionError, match="is_plain"):  # the last counts <unk> and misses the motion words
            check_exercise_8_1(wrong, gpt.lm.tokenizer)


def test_exercise_8_2_measures_the_learners_phrasing_and_refuses_the_models_own(gpt):
    from motiongpt_lite.eval.semantic import motion_checks
    from motiongpt_lite.exercises import check_exercise_8_2
    from motiongpt_lite.lm.templates import templates

    labels = _labels_half_right(gpt)

    def action_share(gpt, captions, labels, template):
        results = gpt.text_to_motion(list(captions), template=template)
        return float(np.mean([r.joints is not None and motion_checks(r.joints, lab, gpt.fps)["action"]
                              for r, lab in zip(results, labels)]))

    check_exercise_8_2(action_share, "Act this out: {caption}", gpt, CAPTIONS, labels)
    with pytest.raises(AssertionError, match="checker measured"):
        check_exercise_8_2(lambda *a: action_share(*a) + 0.25, "Act this out: {caption}", gpt, CAPTIONS, labels)
    for template, words in ((templates("text_to_motion", "held_out")[0], "one of the model's own"),
                            ("Act this out.", "holding {caption}")):
        with pytest.raises(AssertionError, match=words):
            check_exercise_8_2(action_share, template, gpt, CAPTIONS, labels)


def test_exercise_8_3_measures_three_length_protocols(gpt):
    from motiongpt_lite.eval.semantic import motion_checks
    from motiongpt_lite.exercises import check_exercise_8_3
    from motiongpt_lite.exercises.notebook_08 import _fit_length

    labels, frames = _labels_half_right(gpt), [12, 20, 28, 32]
    motion = np.arange(3 * 2 * 3, dtype=float).reshape(3, 2, 3)
    assert np.array_equal(_fit_length(motion, 2), motion[:2])
    assert np.array_equal(_fit_length(motion, 5)[3:], np.stack([motion[-1]] * 2))

    def share(motions, labels):
        return float(np.mean([j is not None and motion_checks(j, lab, gpt.fps)["action"] for j, lab in zip(motions, labels)]))

    def length_protocols(gpt, captions, labels, frames):
        given = [r.joints for r in gpt.text_to_motion(list(captions), length=list(frames))]
        chosen = [r.joints for r in gpt.text_to_motion(list(captions))]
        return {"length given": share(given, labels), "model chooses": share(chosen, labels),
                "chosen, fit to the real length": share([_fit_length(j, n) for j, n in zip(chosen, frames)], labels)}

    check_exercise_8_3(length_protocols, gpt, CAPTIONS, labels, frames)
    with pytest.raises(AssertionError, match="keys"):
        check_exercise_8_3(lambda *a: {"length given": 0.5}, gpt, CAPTIONS, labels, frames)
    with pytest.raises(AssertionError, match="the checker"):
        check_exercise_8_3(lambda *a: {k: v + 0.5 for k, v in length_protocols(*a).items()}, gpt, CAPTIONS, labels, frames)
