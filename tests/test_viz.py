"""motiongpt_lite.viz: every plot builds headless, has the right structure and really draws the skeleton."""
from __future__ import annotations

import io

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from PIL import Image

from motiongpt_lite import viz
from motiongpt_lite.data.features import feature_groups
from motiongpt_lite.data.skeleton import HUMANML3D, KIT

pytestmark = pytest.mark.filterwarnings("ignore:Animation was deleted without rendering anything")

LEFT_WRIST, RIGHT_WRIST = HUMANML3D.joint_names.index("l_wrist"), HUMANML3D.joint_names.index("r_wrist")


def rest_pose(skeleton=HUMANML3D) -> np.ndarray:
    """(J, 3) reference rest pose: bone vectors accumulated along the chains, feet on the floor."""
    offsets = skeleton.reference_offsets()
    pose = np.zeros((skeleton.num_joints, 3))
    for chain in skeleton.kinematic_chains:
        for parent, child in zip(chain[:-1], chain[1:]):
            pose[child] = pose[parent] + offsets[child]
    pose[:, 1] -= pose[:, 1].min()
    return pose


def synthetic_clip(num_frames: int = 6) -> np.ndarray:
    """(T, 22, 3) rest pose walking forward (+z) 5 cm per frame while the left wrist rises."""
    clip = np.repeat(rest_pose()[None], num_frames, axis=0)
    clip[:, :, 2] += 0.05 * np.arange(num_frames)[:, None]
    clip[:, LEFT_WRIST, 1] += 0.04 * np.arange(num_frames)
    return clip


@pytest.fixture(scope="module")
def real_joints(reference_dir) -> np.ndarray:
    return np.load(reference_dir / "new_joints" / "000000.npy")


def segments(ax) -> list[np.ndarray]:
    """Every consecutive pair of vertices of every line on a 3D axis, as (2, 3) arrays in matplotlib order."""
    pairs = []
    for line in ax.lines:
        points = np.stack(line.get_data_3d(), axis=1)  # (N, 3)
        pairs += [points[i:i + 2] for i in range(len(points) - 1)]
    return pairs


def test_rest_pose_has_reference_bone_lengths():
    np.testing.assert_allclose(HUMANML3D.bone_lengths(rest_pose()), HUMANML3D.reference_bone_lengths, atol=1e-12)


def test_animate_has_one_frame_per_pose_and_longest_clip_wins():
    assert len(list(viz.animate(synthetic_clip(6)).new_frame_seq())) == 6
    anim = viz.animate([synthetic_clip(4), synthetic_clip(7)], title=["original", "reconstruction"], captions=["a walk"])
    assert len(list(anim.new_frame_seq())) == 7
    assert [ax.get_title() for ax in anim._fig.axes] == ["original", "reconstruction"]
    assert plt.get_fignums() == []  # detached from pyplot: nothing to close, nothing shown twice


def test_animation_frame0_draws_the_skeleton_bones():
    clip = synthetic_clip()
    ax = viz.animate(clip)._fig.axes[0]
    pose = clip[0][:, viz.MPL_AXES]  # (22, 3) as plotted: matplotlib's z axis is the data's y (up)
    drawn = segments(ax)
    for child, parent in enumerate(HUMANML3D.parents):
        if parent >= 0:
            bone = pose[[parent, child]]
            assert any(np.allclose(seg, bone) or np.allclose(seg, bone[::-1]) for seg in drawn), f"bone {parent}->{child} not drawn"
    colors = {}
    for line in ax.lines:
        points = np.stack(line.get_data_3d(), axis=1)
        for joint in (LEFT_WRIST, RIGHT_WRIST):
            if len(points) > 1 and np.allclose(points[-1], pose[joint]):
                colors[joint] = line.get_color()
    assert colors == {LEFT_WRIST: viz.SIDE_COLORS["left"], RIGHT_WRIST: viz.SIDE_COLORS["right"]}


def test_to_html_embeds_every_frame_as_jshtml():
    html = viz.to_html(viz.animate(synthetic_clip(3))).data
    assert "<script" in html and html.count("data:image/png;base64") == 3


def test_to_html_gives_a_small_gif_for_stored_notebooks(monkeypatch):
    monkeypatch.setenv(viz.ANIMATION_FORMAT, "gif")  # what execute-notebooks sets
    shown = viz.to_html(viz.animate(synthetic_clip(4)))
    with Image.open(io.BytesIO(shown.data)) as gif:
        assert gif.format == "GIF" and gif.n_frames == len(range(0, 4, viz.GIF_FRAME_STEP))
        assert gif.info["duration"] == 1000 * viz.GIF_FRAME_STEP / HUMANML3D.fps, "every kept frame, at real speed"
        assert gif.size == (round(viz.CLIP_SIZE * viz.GIF_DPI),) * 2


def test_save_animation_writes_a_gif_with_every_frame(tmp_path):
    path = viz.save_animation(viz.animate(synthetic_clip(5)), tmp_path / "clips" / "walk.gif")
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 5
    assert sorted(p.name for p in path.parent.iterdir()) == ["walk.gif"]  # no temp file left behind


def test_save_animation_is_atomic_and_names_the_fix(tmp_path, monkeypatch):
    anim = viz.animate(synthetic_clip(2))
    with pytest.raises(ValueError, match=".gif or .mp4"):
        viz.save_animation(anim, tmp_path / "walk.avi")
    monkeypatch.setattr(viz.animation.writers, "is_available", lambda name: False)
    with pytest.raises(RuntimeError, match="install it"):
        viz.save_animation(anim, tmp_path / "walk.mp4")
    monkeypatch.undo()

    def broken_save(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(anim, "save", broken_save)
    with pytest.raises(OSError):
        viz.save_animation(anim, tmp_path / "walk.gif")
    assert list(tmp_path.iterdir()) == []


def test_plotly_animation_has_frames_slider_buttons_and_skeleton():
    clip = synthetic_clip(5)
    fig = viz.plotly_animation(clip, title="walk")
    assert len(fig.frames) == 5 and len(fig.layout.sliders[0].steps) == 5
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["Play", "Pause"]
    first_chain = HUMANML3D.kinematic_chains[0]
    bone = fig.frames[3].data[0]
    np.testing.assert_allclose(np.stack([bone.x, bone.y, bone.z], axis=1), clip[3, list(first_chain)])
    scene = fig.layout.scene
    assert (scene.camera.up.x, scene.camera.up.y, scene.camera.up.z) == (0, 1, 0)
    ranges = np.array([np.ptp(scene.xaxis.range), np.ptp(scene.yaxis.range), np.ptp(scene.zaxis.range)])
    ratios = np.array([scene.aspectratio.x, scene.aspectratio.y, scene.aspectratio.z])
    np.testing.assert_allclose(ratios / ranges, ratios[0] / ranges[0])  # one metre is as long on every axis


def test_feature_heatmap_names_every_group():
    features = np.random.default_rng(0).normal(size=(30, 263))
    fig = viz.feature_heatmap(torch.tensor(features), normalized=True, title="clip")
    ax = fig.axes[0]
    labels = " ".join(t.get_text() for t in ax.get_yticklabels())
    assert all(name in labels for name in feature_groups(22))
    boundaries = sorted(line.get_ydata()[0] for line in ax.lines)  # one separator under each group
    assert boundaries == [dims.stop - 0.5 for dims in feature_groups(22).values()]
    assert "normalised" in ax.get_title() and ax.get_xlabel() == "frame"
    assert ax.images[0].get_array().shape == (263, 30)
    kit = viz.feature_heatmap(np.zeros((10, 251)), num_joints=21)
    assert "raw" in kit.axes[0].get_title()


def test_filmstrip_rows_and_frame_labels():
    clip = synthetic_clip(9)
    fig = viz.filmstrip([clip, clip[:5]], num_frames=3, title=["a", "b"])
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 6 and titles[0].startswith("a\nframe 0") and titles[2].startswith("frame 8")
    assert titles[5].startswith("frame 4") and fig.axes[0].get_ylabel() == "y (m)"
    fig3d = viz.filmstrip(clip, num_frames=4, view="3d")
    assert len(fig3d.axes) == 4 and fig3d.axes[0].name == "3d"


@pytest.mark.parametrize("call", [
    lambda: viz.animate(np.zeros((5, 21, 3))),
    lambda: viz.animate(np.zeros((2, 5, 22, 3))),
    lambda: viz.animate([synthetic_clip(), np.zeros((5, 22))]),
    lambda: viz.animate(np.full((5, 22, 3), np.nan)),
    lambda: viz.plotly_animation(np.zeros((0, 22, 3))),
    lambda: viz.filmstrip(np.zeros((5, 22, 2))),
    lambda: viz.filmstrip(synthetic_clip(), view="top"),
    lambda: viz.feature_heatmap(np.zeros((5, 262))),
    lambda: viz.motion_player({"a": np.zeros((5, 3))}),
    lambda: viz.animate(synthetic_clip(), title=["only one", "too many"]),
])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_torch_input_matches_numpy_input():
    clip = synthetic_clip(4)
    a, b = viz.plotly_animation(clip), viz.plotly_animation(torch.tensor(clip, dtype=torch.float32))
    np.testing.assert_allclose(a.frames[2].data[1].x, b.frames[2].data[1].x, atol=1e-6)
    assert len(list(viz.animate(torch.tensor(clip)).new_frame_seq())) == 4


def test_motion_player_browses_clips():
    clips = {"walk": (synthetic_clip(6), ["a person walks forward.", "someone <walks>"]), "still": synthetic_clip(3)}
    player = viz.motion_player(clips)
    found = {type(w): w for box in player.children for w in box.children}
    dropdown, play, slider = found[widgets.Dropdown], found[widgets.Play], found[widgets.IntSlider]
    image, captions = found[widgets.Image], found[widgets.HTML]
    assert list(dropdown.options) == ["walk", "still"] and slider.max == 5
    assert "a person walks forward." in captions.value and "&lt;walks&gt;" in captions.value
    first = image.value
    play.value = 4  # play drives the slider, the slider redraws the pose
    assert slider.value == 4 and image.value != first
    dropdown.value = "still"
    assert slider.value == 0 and slider.max == 2 and "no captions" in captions.value


def test_plot_curves():
    fig = viz.plot_curves({"train": [3.0, 2.0, 1.0], "val": [3.5, 2.5]}, ylabel="loss", title="VQ-VAE")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["train", "val"] and len(ax.lines[1].get_xdata()) == 2
    assert ax.get_ylabel() == "loss" and ax.get_xlabel() == "step"
    with pytest.raises(ValueError):
        viz.plot_curves({})
    logged = viz.plot_curves({"train": [3.0, 2.0, 1.0]}, x=[25, 50, 75])  # a history's step numbers
    assert list(logged.axes[0].lines[0].get_xdata()) == [25, 50, 75]
    with pytest.raises(ValueError, match="'val' has 2 values for 3 x values"):
        viz.plot_curves({"train": [3.0, 2.0, 1.0], "val": [3.5, 2.5]}, x=[25, 50, 75])


def test_kit_skeleton_draws():
    kit = np.zeros((3, KIT.num_joints, 3)) + np.arange(KIT.num_joints)[None, :, None] * 0.01
    assert len(viz.plotly_animation(kit, skeleton=KIT).frames) == 3
    assert len(list(viz.animate(kit, skeleton=KIT).new_frame_seq())) == 3


def test_real_reference_clip(real_joints):
    num_frames = len(real_joints)  # 116, a left high kick
    assert len(list(viz.animate(real_joints, title="000000").new_frame_seq())) == num_frames
    fig = viz.plotly_animation(real_joints)
    assert len(fig.frames) == num_frames and len(fig.layout.sliders[0].steps) == num_frames
    strip = viz.filmstrip(real_joints)
    assert strip.axes[-1].get_title().startswith(f"frame {num_frames - 1}")
    assert viz.motion_player({"000000": real_joints}).children[0].children[2].max == num_frames - 1
    assert plt.get_fignums() == []


def test_real_reference_features_heatmap(reference_dir):
    features = np.load(reference_dir / "new_joint_vecs" / "000000.npy")
    ax = viz.feature_heatmap(features).axes[0]
    assert ax.images[0].get_array().shape == (263, len(features))


def test_plotly_animation_compares_clips_in_one_scene():
    walk, short = synthetic_clip(6), synthetic_clip(4)
    fig = viz.plotly_animation([walk, short], names=["real", "generated"], spacing=1.5)
    chains = len(HUMANML3D.kinematic_chains)
    assert len(fig.frames) == 6 and len(fig.frames[0].data) == 2 * chains  # the longer clip sets the frames
    legend = [t.name for t in fig.data if t.showlegend]
    assert legend == ["real", "generated"]
    held = fig.frames[5].data[chains]  # the short clip holds its last pose, moved 1.5 m along x
    np.testing.assert_allclose(np.stack([held.x, held.y, held.z], axis=1),
                               short[3, list(HUMANML3D.kinematic_chains[0])] + [1.5, 0, 0])
    with pytest.raises(ValueError, match="2 names for 1 clips"):
        viz.plotly_animation([walk], names=["a", "b"])
