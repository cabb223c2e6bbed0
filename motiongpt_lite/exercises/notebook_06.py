"""Checkers for the exercises of notebook 06, instruction tuning (see :mod:`motiongpt_lite.exercises`)."""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

from motiongpt_lite.exercises.common import compare_paired, per_example_loss
from motiongpt_lite.exercises.common import correct as _correct

__all__ = ["check_exercise_6_1", "check_exercise_6_2", "check_exercise_6_3", "REQUIRED_PLACEHOLDERS",
           "family_loss", "family_losses"]

# What an instruction of each family must name: every set listed, and at least one name of each tuple.
REQUIRED_PLACEHOLDERS: dict[str, tuple[set[str], tuple[str, ...]]] = {
    "text_to_motion": ({"caption"}, ()),
    "text_to_motion_length": ({"caption"}, ("frames", "seconds")),
    "motion_to_text": ({"motion"}, ()),
    "predict": ({"motion"}, ()),
    "inbetween": ({"motion"}, ()),
    "paraphrase": ({"caption"}, ()),
}


def check_exercise_6_1(length_prompt: Callable) -> None:
    """Exercise 6.1: ``length_prompt(template, caption, num_codes, frames_per_token, fps)`` fills a
    text-to-motion-with-length instruction by hand: frames = tokens x frames per token, seconds = frames / fps."""
    from motiongpt_lite.lm.templates import fill, templates, tokens_to_frames

    family = templates("text_to_motion_length")
    chosen = [t for t in family if "{frames}" in t and "{seconds}" not in t][:1] + \
             [t for t in family if "{seconds}" in t and "{frames}" not in t][:1] + \
             [t for t in family if "{seconds}" in t and "{frames}" in t][:1]
    for template in chosen:
        for num_codes, rate, fps in ((12, 4, 20.0), (49, 4, 20.0), (11, 4, 12.5), (7, 8, 20.0)):
            want = fill(template, fps, caption="a man jumps.", frames=tokens_to_frames(num_codes, rate))
            got = length_prompt(template, "a man jumps.", num_codes, rate, fps)
            assert isinstance(got, str), f"length_prompt should return the prompt as a string, got {type(got).__name__}."
            assert "{" not in got, f"a placeholder is still unfilled in {got!r}; fill every {{name}} of the template."
            tokens_as_frames = template.format(caption="a man jumps.", frames=num_codes,
                                               seconds=f"{num_codes / fps:.1f}")
            assert got != tokens_as_frames, (
                f"for {num_codes} tokens of {rate} frames you wrote the number of tokens where the template means "
                "frames (the reference code's bug); how many frames do the tokens cover?")
            assert got == want, (
                f"for {num_codes} tokens, {rate} frames per token at {fps} fps, template {template!r} gave {got!r}; "
                "frames are tokens x frames per token, and seconds are frames / fps written with one decimal.")
    _correct("6.1")


def check_exercise_6_2(new_templates: dict) -> None:
    """Exercise 6.2: at least three new instructions (family -> list of templates) that fill cleanly,
    name what their family needs, and are not already in the template tables."""
    from motiongpt_lite.lm.templates import FAMILIES, PLACEHOLDERS, TEMPLATES, fill, placeholders

    assert isinstance(new_templates, dict), "new_templates should be a dict: family name -> list of instructions."
    known = {" ".join(t.lower().split()) for family in TEMPLATES.values() for t in family}
    count = 0
    for family, instructions in new_templates.items():
        assert family in FAMILIES, f"{family!r} is not a task family; choose among {', '.join(FAMILIES)}."
        assert isinstance(instructions, (list, tuple)), f"new_templates[{family!r}] should be a list of strings."
        required, one_of = REQUIRED_PLACEHOLDERS[family]
        for template in instructions:
            assert isinstance(template, str), f"{template!r} in {family} is not a string."
            names = placeholders(template)
            assert names <= set(PLACEHOLDERS), (
                f"{template!r} uses {sorted(names - set(PLACEHOLDERS))}; the only placeholders are "
                f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)}.")
            assert required <= names, f"{template!r} ({family}) must contain {', '.join('{' + p + '}' for p in required)}."
            assert not one_of or names & set(one_of), (
                f"{template!r} ({family}) must say how long the motion is with {{frames}} or {{seconds}}.")
            assert family == "text_to_motion_length" or not names & {"frames", "seconds"}, (
                f"{template!r} ({family}) names a length, but only text_to_motion_length examples carry one.")
            assert not ({"caption", "motion"} <= names), (
                f"{template!r} holds both a caption and a motion; in every family the prompt gives one of them.")
            assert " ".join(template.lower().split()) not in known, (
                f"{template!r} is already in TEMPLATES[{family!r}]; write a phrasing of your own.")
            try:
                fill(template, caption="a man jumps.", motion="<motion_id_64><motion_id_3><motion_id_65>", frames=40)
            except (ValueError, IndexError, KeyError) as err:
                raise AssertionError(f"{template!r} cannot be filled cleanly ({err}); write placeholders as "
                                     "{name} and leave no <...> or stray braces in the text.") from None
            count += 1
    assert count >= 3, f"found {count} new instructions; write at least three."
    _correct("6.2")


def family_loss(lm, items: list, cfg, family: str, split: str = "train", fps: float = 20.0, seed: int = 0) -> float:
    """Teacher-forced cross-entropy of one task family's targets, over one example per motion.

    Args:
        lm: a MotionLM.
        items: MotionText motions (e.g. the test split's).
        cfg: the InstructConfig (lengths, prediction / in-betweening shares; its ratios are ignored).
        family: the task family.
        split: which instructions ("train" or "held_out").
        fps: frame rate, for lengths in seconds.
        seed: fixes the drawn examples, so that two models see the same ones.
    Returns:
        the mean loss per target token.
    """
    import torch

    from motiongpt_lite.lm.instruct import instruct_step

    with torch.no_grad():
        return float(instruct_step(lm.model.eval(), _family_batch(lm, items, cfg, family, split, fps, seed))[0])


def _family_batch(lm, items: list, cfg, family: str, split: str, fps: float, seed: int) -> dict:
    """One example of ``family`` per motion, tokenised and padded (the same draws for every model)."""
    from motiongpt_lite.lm.instruct import InstructDataset
    from motiongpt_lite.lm.tasks import collate_examples
    from motiongpt_lite.lm.templates import FAMILIES

    only = replace(cfg, **{f"mix_{name}": float(name == family) for name in FAMILIES})
    dataset = InstructDataset(items, lm.tokenizer, lm.vocab, only, seed=seed, split=split, fps=fps)
    return collate_examples([dataset[i] for i in range(len(dataset))])


def family_losses(lm, items: list, cfg, family: str, split: str = "train", fps: float = 20.0,
                  seed: int = 0):
    """Like :func:`family_loss`, one number per motion: (n,) mean cross-entropy of each example's target."""
    return per_example_loss(lm.model, _family_batch(lm, items, cfg, family, split, fps, seed))


def check_exercise_6_3(prediction: str, knob_lm, reference_lm, items: list, cfg) -> None:
    """Exercise 6.3: tuned without in-betweening examples, the in-betweening loss on held-out motions
    is higher than after tuning as long with the preset's mixture. Higher, lower or about the same is
    decided per motion, paired, within the noise of the sample (:func:`~motiongpt_lite.exercises.common.compare_paired`).

    Args:
        prediction: "lower", "about the same" or "higher".
        knob_lm: the model tuned with ``mix_inbetween = 0``.
        reference_lm: the model tuned as long with the preset's mixture.
        items: held-out motions with at least three tokens each.
        cfg: the InstructConfig.
    """
    items = [item for item in items if len(item.code_idx) >= 3]
    assert len(items) >= 2, ("pass at least two motions with at least three tokens each (in-betweening keeps one "
                             "on each side of the gap).")
    # per held-out motion, paired: "about the same" only within the noise of this many motions (common.compare_paired)
    measured = compare_paired(family_losses(knob_lm, items, cfg, "inbetween"),
                              family_losses(reference_lm, items, cfg, "inbetween"))
    assert str(prediction).strip().lower() in ("lower", "about the same", "higher"), (
        f"prediction {prediction!r} should be one of 'lower', 'about the same' or 'higher'.")
    assert str(prediction).strip().lower() == measured, (
        f"prediction {prediction!r} is not what happened; has the model ever seen a prompt with <mask> words, "
        "and a target that is the masked middle of a motion?")
    _correct("6.3")
