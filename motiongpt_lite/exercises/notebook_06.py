"""Checkers for the exercises of notebook 06, instruction tuning (see :mod:`motiongpt_lite.exercises`)."""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np

from motiongpt_lite.exercises.common import SAME_WITHIN, compare_paired, per_example_loss
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


def _inbetween_cases(codes: list[int], num_codes: int) -> list[tuple[list[int], int, int]]:
    """(codes, first, masked) cuts exercise 6.1 is checked on: the learner's motion at its edges and middle,
    and every cut of a short motion (one code kept on each side of the gap at least)."""
    n = len(codes)
    mine = [(codes, 1, n - 2), (codes, n - 2, 1), (codes, max(1, n // 3), max(1, n // 3))] if n >= 3 else []
    short = [(k * 7 + 3) % num_codes for k in range(6)]
    return mine + [(short, first, masked) for first in range(1, 5) for masked in range(1, 6 - first)]


def check_exercise_6_1(inbetween_example: Callable, code_idx, vocab) -> None:
    """Exercise 6.1: ``inbetween_example(codes, first, masked, vocab)`` -> ``(prompt_motion, target)``, the two
    motion texts of an in-betweening example written by hand: the motion of the prompt keeps ``codes[:first]``
    and ``codes[first + masked:]`` with one ``<mask>`` word per missing code between them, the target is the
    missing middle; both are wrapped in start and end markers. Compared with ``MotionVocab.masked_to_text`` and
    ``vocab.codes_to_text`` (what ``make_instruction`` builds) on the learner's motion and on every cut of
    a short one."""
    from motiongpt_lite.lm.vocab import motion_token

    codes = [int(c) for c in code_idx]
    som, eom, mask = (motion_token(vocab.num_codes + k) for k in range(3))
    for case, first, masked in _inbetween_cases(codes, vocab.num_codes):
        want_prompt = vocab.masked_to_text(case[:first], masked, case[first + masked:])
        want_target = vocab.codes_to_text(case[first:first + masked])
        got = inbetween_example(list(case), first, masked, vocab)
        assert isinstance(got, tuple) and len(got) == 2 and all(isinstance(g, str) for g in got), (
            "Exercise 6.1: return two strings, (prompt_motion, target).")
        prompt, target = got
        where = f"{len(case)} codes, first={first}, masked={masked}"
        if prompt != want_prompt:
            if not (prompt.startswith(som) and prompt.endswith(eom)):
                hint = f"the prompt's motion starts with the start marker {som} and ends with the end marker {eom}."
            elif prompt.count(mask) != masked:
                hint = (f"it holds {prompt.count(mask)} mask words {mask} for {masked} missing codes; the model "
                        "reads the gap's length from them.")
            else:
                hint = "keep every code before the gap (codes[:first]) and every code after it, nothing else."
            raise AssertionError(f"Exercise 6.1: wrong prompt motion for {where}: {hint}")
        assert target == want_target, (
            f"Exercise 6.1: wrong target for {where}: the target is the missing middle, the codes the masks "
            "stand for, as a motion (start and end markers around it).")
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


def check_exercise_6_3(prediction: str, paired_difference: Callable, knob_lm, reference_lm, items: list,
                       cfg) -> None:
    """Exercise 6.3: tuned without in-betweening examples, is the in-betweening loss on held-out motions
    lower, about the same or higher than after tuning as long with the preset's mixture? The learner writes
    the paired measurement that decides it, ``paired_difference(knob_losses, reference_losses)`` ->
    ``(mean, standard_error)`` of the per-motion differences (knob minus reference), and the prediction
    must match what it says: "about the same" within ``SAME_WITHIN`` standard errors of 0
    (:func:`~motiongpt_lite.exercises.common.compare_paired`).

    Args:
        prediction: "lower", "about the same" or "higher".
        paired_difference: the learner's paired comparison.
        knob_lm: the model tuned with ``mix_inbetween = 0``.
        reference_lm: the model tuned as long with the preset's mixture.
        items: held-out motions with at least three tokens each.
        cfg: the InstructConfig.
    """
    items = [item for item in items if len(item.code_idx) >= 3]
    assert len(items) >= 2, ("Exercise 6.3: pass at least two motions with at least three tokens each "
                             "(in-betweening keeps one on each side of the gap).")
    rng = np.random.default_rng(6)
    base = rng.uniform(2.0, 3.0, size=9)
    knob, reference = family_losses(knob_lm, items, cfg, "inbetween"), family_losses(reference_lm, items, cfg,
                                                                                      "inbetween")
    cases = {"two made-up runs whose losses move together": (base + rng.normal(0.2, 0.05, 9), base),
             "two made-up runs, the knob's loss lower": (base - rng.uniform(0.0, 0.4, 9), base + 0.1),
             "your two models' in-betweening losses": (knob, reference)}
    for name, (k, r) in cases.items():
        diff = k - r
        want = (diff.mean(), diff.std(ddof=1) / np.sqrt(len(diff)))
        got = np.asarray(paired_difference(k.copy(), r.copy()), dtype=np.float64)
        assert got.shape == (2,), "Exercise 6.3: paired_difference should return (mean, standard_error)."
        if not np.isclose(got[0], want[0], rtol=1e-9, atol=1e-12):
            hint = ("the mean of the differences knob - reference, motion by motion (a positive mean: the knob's "
                    "loss is higher)")
            raise AssertionError(f"Exercise 6.3: wrong mean for {name}; {hint}.")
        if not np.isclose(got[1], want[1], rtol=1e-9, atol=1e-12):
            unpaired = np.sqrt(k.var(ddof=1) / len(k) + r.var(ddof=1) / len(r))
            hint = ("that is the standard error of two independent samples; both models are scored on the same "
                    "motions, so take the spread of the per-motion differences" if np.isclose(got[1], unpaired)
                    else "the standard error of a mean of n differences is their sample standard deviation "
                    "(ddof=1) over sqrt(n)")
            raise AssertionError(f"Exercise 6.3: wrong standard error for {name}; {hint}.")
    measured = compare_paired(knob, reference)
    assert str(prediction).strip().lower() in ("lower", "about the same", "higher"), (
        f"Exercise 6.3: prediction {prediction!r} should be one of 'lower', 'about the same' or 'higher'.")
    assert str(prediction).strip().lower() == measured, (
        f"Exercise 6.3: prediction {prediction!r} is not what your paired difference says (within "
        f"{SAME_WITHIN:g} standard errors of 0 is 'about the same'); has the model ever seen a prompt with "
        "<mask> words, and a target that is the masked middle of a motion?")
    _correct("6.3")
