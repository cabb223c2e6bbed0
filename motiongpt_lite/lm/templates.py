"""Instruction templates: many phrasings of every task MotionGPT is tuned on (introduced in notebook 06).

Instruction tuning (the paper's stage 3) turns the pretrained model into one that follows prompts.
Each *task family* below has dozens of instructions written in different words; a training example
draws one at random, so the model learns the task, not one fixed sentence. The last
``HELD_OUT_PER_FAMILY`` instructions of every family are never used in training: they test whether
the model understands phrasings it has not seen.

==========================  ======================================  ===========================
family                      placeholders in the instruction         target
==========================  ======================================  ===========================
``text_to_motion``          ``{caption}``                           the motion
``text_to_motion_length``   ``{caption}``, ``{frames}``/``{seconds}``  the motion
``motion_to_text``          ``{motion}``                            a caption
``predict``                 ``{motion}`` (the first part)           the rest of the motion
``inbetween``               ``{motion}`` (start, masks, end)        the masked middle
``paraphrase``              ``{caption}``                           another caption, same motion
==========================  ======================================  ===========================

Lengths are real lengths: ``{frames}`` is a frame count and ``{seconds}`` is ``frames / fps``. A
motion of N tokens is ``4 N`` frames at 4 frames per token, i.e. ``N / 5`` seconds at 20 fps.
(Paper vs code: the reference fills its frame placeholders with *token* counts, 4x too small, and
leaves some placeholders unfilled; :func:`fill` refuses to return a prompt with a hole in it.)
"""
from __future__ import annotations

import re
import string

import numpy as np

__all__ = ["FAMILIES", "TEMPLATES", "HELD_OUT_PER_FAMILY", "PLACEHOLDERS", "templates", "placeholders", "fill",
           "frames_to_seconds", "tokens_to_frames", "pick"]

FAMILIES = ("text_to_motion", "text_to_motion_length", "motion_to_text", "predict", "inbetween", "paraphrase")
PLACEHOLDERS = ("caption", "motion", "frames", "seconds")  # every name a template may use
HELD_OUT_PER_FAMILY = 5  # the last instructions of each family, kept for testing unseen phrasings

TEMPLATES: dict[str, tuple[str, ...]] = {
    "text_to_motion": (
        "Generate motion: {caption}",
        "Create a motion for this description: {caption}",
        "Show me a person doing this: {caption}",
        "Animate the following: {caption}",
        "Turn this caption into a motion: {caption}",
        "Make a human move like this: {caption}",
        "Please produce the movement described here: {caption}",
        "What does it look like when {caption}",
        "Give me a motion that matches the text: {caption}",
        "Write the motion tokens for: {caption}",
        "Here is a description of a movement. Perform it. {caption}",
        "Act out this sentence: {caption}",
        "Synthesize a motion from the caption \"{caption}\"",
        "Could you show how someone moves when the text says: {caption}",
        "Describe in motion, not in words: {caption}",
        "Caption: {caption} Motion:",
        "Translate text to motion: {caption}",
        "I need an animation of this: {caption}",
        "Generate a human motion where {caption}",
        "Move as the following sentence says: {caption}",
        "Produce body motion for the prompt: {caption}",
        "Demonstrate this action: {caption}",
        "From this text, make a motion sequence: {caption}",
        "Let a character perform: {caption}",
        "Please animate a person so that {caption}",
        # held out
        "Bring this description to life as movement: {caption}",
        "Show the motion that this sentence talks about: {caption}",
        "Render the described action as a motion: {caption}",
        "Text in, motion out: {caption}",
        "How would a body move for this text? {caption}",
    ),
    "text_to_motion_length": (
        "Generate a motion of {frames} frames: {caption}",
        "Create a {seconds} second motion for this description: {caption}",
        "Make a motion lasting {seconds} seconds in which {caption}",
        "In {frames} frames, show this: {caption}",
        "Animate the following in {seconds} seconds: {caption}",
        "Produce {frames} frames of motion for: {caption}",
        "Give me a {seconds}-second clip where {caption}",
        "The motion should be {frames} frames long. {caption}",
        "Show {seconds} seconds of a person doing this: {caption}",
        "Generate exactly {frames} frames of movement: {caption}",
        "Caption: {caption} Length: {frames} frames. Motion:",
        "Caption: {caption} Duration: {seconds} s. Motion:",
        "Make a human move like this for {seconds} seconds: {caption}",
        "Turn this caption into a motion of {frames} frames: {caption}",
        "Please produce a {frames}-frame movement described here: {caption}",
        "Within {seconds} seconds, act out: {caption}",
        "Write {frames} frames of motion tokens for: {caption}",
        "I need an animation of {seconds} seconds: {caption}",
        "Synthesize a motion of length {frames} frames from \"{caption}\"",
        "Let a character perform this for {seconds} seconds: {caption}",
        "Generate a motion that takes {seconds} seconds, where {caption}",
        "Take {frames} frames to show how {caption}",
        "Demonstrate this action in a clip of {frames} frames: {caption}",
        "Translate text to a {seconds} second motion: {caption}",
        "A motion of {frames} frames ({seconds} seconds) for: {caption}",
        # held out
        "Bring this description to life in {seconds} seconds: {caption}",
        "Render {frames} frames of the described action: {caption}",
        "Text in, {frames} frames of motion out: {caption}",
        "Show the motion this sentence talks about, {seconds} seconds long: {caption}",
        "How would a body move for {frames} frames here? {caption}",
    ),
    "motion_to_text": (
        "Describe the motion: {motion}",
        "What is the person doing? {motion}",
        "Write a caption for this motion: {motion}",
        "Explain this movement in words: {motion}",
        "Give a short description of {motion}",
        "Caption the following motion: {motion}",
        "{motion} What action is shown here?",
        "Tell me what happens in this motion: {motion}",
        "Translate motion to text: {motion}",
        "Summarize this motion in one sentence: {motion}",
        "Motion: {motion} Caption:",
        "How would you describe {motion}",
        "Put this motion into words: {motion}",
        "Please describe what the body does in {motion}",
        "What movement does this sequence show? {motion}",
        "Write one sentence about the action in {motion}",
        "{motion} Describe it.",
        "Label this motion with a caption: {motion}",
        "Watch this and say what the person does: {motion}",
        "Provide a text description of the motion {motion}",
        "Which action does this motion show? {motion}",
        "Narrate the motion: {motion}",
        "Here is a motion: {motion} What is going on?",
        "Give this movement a caption: {motion}",
        "In plain words, what is this motion? {motion}",
        # held out
        "Say in a sentence what this person does: {motion}",
        "Write down what you see in {motion}",
        "What would a good caption for {motion} be?",
        "Motion in, words out: {motion}",
        "Can you tell what action this is? {motion}",
    ),
    "predict": (
        "Predict the motion that follows: {motion}",
        "Continue this motion: {motion}",
        "What happens next? {motion}",
        "Here is the beginning of a motion: {motion} Finish it.",
        "Complete the movement: {motion}",
        "Given the first part {motion} generate the rest.",
        "Extend this motion naturally: {motion}",
        "Carry on from here: {motion}",
        "The motion starts like this: {motion} How does it go on?",
        "Forecast the future motion after {motion}",
        "Keep the person moving after {motion}",
        "Motion so far: {motion} Continuation:",
        "Generate the remainder of the motion that begins with {motion}",
        "Show what the person does after {motion}",
        "Please continue the following movement: {motion}",
        "Finish the action that starts with {motion}",
        "Predict how this motion ends: {motion}",
        "Let the motion go on: {motion}",
        "Complete the sequence: {motion}",
        "Write the rest of this motion: {motion}",
        "Given this start, produce the next frames: {motion}",
        "Continue the animation from this point: {motion}",
        "What comes after this motion? {motion}",
        "This is only the beginning: {motion} Continue it.",
        "Extrapolate the movement: {motion}",
        # held out
        "Pick up where this motion stops: {motion}",
        "Follow on from {motion}",
        "Motion prefix: {motion} Please generate the continuation.",
        "How will the person keep moving after {motion}",
        "Resume this movement and finish it: {motion}",
    ),
    "inbetween": (
        "Fill in the middle of this motion: {motion}",
        "Complete the missing part: {motion}",
        "The start and the end are given; generate what lies between: {motion}",
        "In-between this motion: {motion}",
        "Connect the beginning and the end of {motion}",
        "Replace the masked tokens with motion: {motion}",
        "Generate the transition between the two parts of {motion}",
        "Fill the gap in this movement: {motion}",
        "Motion with a hole: {motion} Middle:",
        "What happens between the start and the end? {motion}",
        "Bridge the two motion segments: {motion}",
        "Reconstruct the masked middle: {motion}",
        "Create the missing frames of {motion}",
        "Join these pieces with a natural movement: {motion}",
        "Please fill in the blanks of this motion: {motion}",
        "Provide the middle section of {motion}",
        "Interpolate the missing movement: {motion}",
        "Here are the first and last parts: {motion} Fill the middle.",
        "Find the motion that links the start to the end: {motion}",
        "Complete this motion by generating its center: {motion}",
        "Infill the motion: {motion}",
        "Generate the part that is masked out: {motion}",
        "Repair the gap in this motion: {motion}",
        "The middle is missing from {motion} Generate it.",
        "Stitch the beginning and the end together: {motion}",
        # held out
        "What motion goes in the gap? {motion}",
        "Supply the missing middle piece of {motion}",
        "Given its start and end, complete the motion: {motion}",
        "Fill this masked motion: {motion}",
        "Make a smooth middle for {motion}",
    ),
    "paraphrase": (
        "Paraphrase: {caption}",
        "Say this in other words: {caption}",
        "Rewrite the caption: {caption}",
        "Describe the same motion differently: {caption}",
        "Give another caption for the same action: {caption}",
        "Rephrase this motion description: {caption}",
        "Write the sentence a new way: {caption}",
        "How else could you describe this? {caption}",
        "Reword: {caption}",
        "Caption: {caption} Another caption:",
        "Express the same movement with different words: {caption}",
        "Another way to say \"{caption}\" is",
        "Restate this description: {caption}",
        "Write an alternative caption: {caption}",
        "Use other words to describe: {caption}",
        "Give a paraphrase of the caption \"{caption}\"",
        "Reformulate the following: {caption}",
        "Describe this action again, in a new sentence: {caption}",
        "Offer a different description of: {caption}",
        "Rewrite so it means the same: {caption}",
        # held out
        "Put this caption differently: {caption}",
        "Find other words for: {caption}",
        "Same motion, new sentence: {caption}",
        "Could you rephrase \"{caption}\"?",
        "Change the wording but keep the meaning: {caption}",
    ),
}


def templates(family: str, split: str = "train") -> tuple[str, ...]:
    """The instructions of one family.

    Args:
        family: one of ``FAMILIES``.
        split: "train" (used for tuning), "held_out" (the last ``HELD_OUT_PER_FAMILY``, never trained on) or "all".
    Returns:
        the instruction strings, each with ``{name}`` placeholders.
    """
    if family not in TEMPLATES:
        raise ValueError(f"unknown task family {family!r}; choose one of {', '.join(FAMILIES)}.")
    every = TEMPLATES[family]
    parts = {"train": every[:-HELD_OUT_PER_FAMILY], "held_out": every[-HELD_OUT_PER_FAMILY:], "all": every}
    if split not in parts:
        raise ValueError(f"unknown template split {split!r}; choose train, held_out or all.")
    return parts[split]


def placeholders(template: str) -> set[str]:
    """The placeholder names used by a template, e.g. ``{"caption", "frames"}``."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def frames_to_seconds(frames: int, fps: float = 20.0) -> str:
    """A frame count as seconds with one decimal, e.g. 98 frames at 20 fps -> ``"4.9"``."""
    return f"{frames / fps:.1f}"


def tokens_to_frames(num_tokens: int, frames_per_token: int = 4) -> int:
    """Frames covered by ``num_tokens`` motion tokens (4 per token in every preset)."""
    return int(num_tokens) * frames_per_token


_HOLE_RE = re.compile(r"\{[^{}]*\}|<(?!motion_id_\d+>)[A-Za-z_][^<>]*>")  # a {name} or a <Name> left in a prompt


def fill(template: str, fps: float = 20.0, **values) -> str:
    """Fill every placeholder of a template.

    ``seconds`` is computed from ``frames`` when only ``frames`` is given (``frames / fps``).

    Args:
        template: an instruction with ``{name}`` placeholders.
        fps: frame rate, for seconds.
        values: ``caption``, ``motion`` (motion words), ``frames``; extra names are ignored.
    Returns:
        the prompt.
    Raises:
        ValueError: a placeholder has no value, or the prompt still holds a ``{...}`` / ``<...>`` hole.
    """
    if "frames" in values and "seconds" not in values:
        values["seconds"] = frames_to_seconds(int(values["frames"]), fps)
    missing = placeholders(template) - set(values)
    if missing:
        raise ValueError(f"the template {template!r} needs {sorted(missing)}; pass them to fill().")
    prompt = template.format(**{name: values[name] for name in placeholders(template)})
    # Look for holes in everything but the caption: a caption is the user's text, whatever it holds.
    without_caption = template.format(**{name: "" if name == "caption" else values[name] for name in placeholders(template)})
    hole = _HOLE_RE.search(without_caption)
    if hole:
        raise ValueError(f"the prompt still holds the placeholder {hole.group(0)!r}; fix the template {template!r}.")
    return prompt


def pick(family: str, rng: np.random.Generator, split: str = "train") -> str:
    """One instruction of ``family`` drawn uniformly from ``split``."""
    options = templates(family, split)
    return options[int(rng.integers(len(options)))]
