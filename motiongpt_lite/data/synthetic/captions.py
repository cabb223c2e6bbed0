"""Captions for the embedded dataset: three differently worded descriptions per motion, a small
lexicon-based part-of-speech tagger for HumanML3D's ``caption#tokens#start#end`` lines, and the
left/right word swap of mirrored copies (introduced in notebook 00).

HumanML3D's captions were written by people and tagged by spaCy: tokens are ``lemma/POS`` with
Universal POS tags (``a/DET man/NOUN kick/VERB ...``), punctuation dropped. Ours come from templates
with synonyms, varied word order, subjects ("a person", "someone", "the man", "a woman", ...) and
optional details (speed, count, angle), so that a model has to learn the meaning and not one string.
"""
from __future__ import annotations

import re

import numpy as np

__all__ = ["describe", "tag", "caption_line", "mirror_caption", "ACTION_WORDS", "CAPTIONS_PER_MOTION"]

CAPTIONS_PER_MOTION = 3
# Lemmas of which at least one appears in every caption of a segment of each action.
ACTION_WORDS = {
    "walk": {"walk", "step", "stroll", "shuffle"}, "jog": {"jog"}, "run": {"run", "sprint"},
    "turn": {"turn", "rotate"}, "circle": {"circle"}, "jump": {"jump", "leap"}, "hop": {"hop"},
    "wave": {"wave"}, "raise_arms": {"raise", "lift", "hold"}, "clap": {"clap", "applaud"},
    "kick": {"kick"}, "punch": {"punch", "jab"}, "squat": {"squat"}, "bow": {"bow"}, "stand": {"stand", "stay", "wait"},
}
_SUBJECTS = (("a person", "their"), ("someone", "their"), ("the man", "his"), ("a woman", "her"), ("a man", "his"),
             ("the person", "their"), ("the woman", "her"), ("a human", "their"))
_NUMBER = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}
_SWAP = {"left": "right", "right": "left", "clockwise": "counterclockwise", "counterclockwise": "clockwise"}


# ----------------------------------------------------------------------------- phrases

def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _times(rng: np.random.Generator, count: int) -> str:
    """' once', ' twice', ' three times', ' 3 times' (with the leading space)."""
    if count == 1:
        return _pick(rng, [" once", " one time"])
    if count == 2:
        return _pick(rng, [" twice", " two times"])
    return f" {_pick(rng, [_NUMBER[count], str(count)])} times"


def _number(rng: np.random.Generator, count: int) -> str:
    return _pick(rng, [_NUMBER[count], _NUMBER[count], str(count)])


def _maybe(rng: np.random.Generator, text: str, p: float = 0.6) -> str:
    """``text`` with probability ``p``, else nothing: details are sometimes left out."""
    return text if rng.random() < p else ""


def _walk(s: dict, rng, pos: str) -> str:
    n = s["count"]
    speed_end = {"slow": [" slowly", " at a slow pace", " leisurely"], "normal": [" at a normal pace", " at a steady pace", " casually"],
                 "fast": [" quickly", " fast", " briskly", " at a fast pace"]}[s["speed"]]
    speed_front = {"slow": "slowly ", "normal": "", "fast": "quickly "}[s["speed"]]
    step_adj = {"slow": "slow ", "normal": "", "fast": "quick "}[s["speed"]]
    steps = f" for {_number(rng, n)} steps"
    if s["direction"] in ("left", "right"):
        way = _pick(rng, [f"to the {s['direction']}", f"sideways to the {s['direction']}", f"to {pos} {s['direction']}",
                          f"sideways to {pos} {s['direction']}"])
        return _pick(rng, [
            f"walks {way}{_maybe(rng, _pick(rng, speed_end))}",
            f"{speed_front}side steps {way}",
            f"takes {_number(rng, n)} {step_adj}steps {way}",
            f"shuffles {way}{_maybe(rng, steps)}",
            f"steps {way}{_times(rng, n)}",
        ])
    way = _pick(rng, {"forward": ["forward", "forwards", "straight ahead", "ahead"], "backward": ["backward", "backwards"]}[s["direction"]])
    return _pick(rng, [
        f"walks {way}{_maybe(rng, _pick(rng, speed_end))}",
        f"{speed_front}walks {way}{_maybe(rng, steps)}",
        f"takes {_number(rng, n)} {step_adj}steps {way}",
        f"walks {way} {_number(rng, n)} steps{_maybe(rng, _pick(rng, speed_end))}",
        {"slow": f"strolls {way}", "normal": f"steps {way}{_maybe(rng, ' at a normal pace')}", "fast": f"walks briskly {way}"}[s["speed"]],
    ])


def _jog(s: dict, rng, pos: str) -> str:
    steps = f" for {_number(rng, s['count'])} steps"
    return _pick(rng, [f"jogs forward{_maybe(rng, steps)}", "jogs straight ahead", "goes for a short jog forward",
                       "runs forward at a jogging pace", "jogs ahead"])


def _run(s: dict, rng, pos: str) -> str:
    steps = f" for {_number(rng, s['count'])} steps"
    return _pick(rng, ["runs forward", "runs ahead quickly", "sprints forward", f"runs straight ahead{_maybe(rng, steps)}",
                       "breaks into a run forward"])


def _turn(s: dict, rng, pos: str) -> str:
    d = s["direction"]
    sense = "counterclockwise" if d == "left" else "clockwise"
    if s["degrees"] == 90:
        amount = _pick(rng, ["ninety degrees", "90 degrees"])
        return _pick(rng, [f"turns {d}", f"turns to {pos} {d}", f"turns {amount} to the {d}", f"makes a quarter turn to the {d}",
                           f"rotates {amount} to the {d}{_maybe(rng, f', {sense}', 0.4)}", f"turns {d} by {amount}"])
    return _pick(rng, [f"turns around to the {d}", f"turns around over {pos} {d} shoulder", f"makes a half turn to the {d}",
                       f"turns {d} 180 degrees", f"turns all the way around to the {d}{_maybe(rng, f', {sense}', 0.4)}",
                       f"turns around {sense}, to the {d}"])


def _circle(s: dict, rng, pos: str) -> str:
    d = s["direction"]
    side = "left" if d == "counterclockwise" else "right"
    return _pick(rng, [f"walks in a {d} circle", f"walks around in a circle {d}", f"circles {d}", f"walks a full circle in a {d} direction",
                       f"walks in a circle, turning to the {side}, {d}", f"walks {d} in a circle"])


def _jump(s: dict, rng, pos: str) -> str:
    n = s["count"]
    if s["direction"] == "in_place":
        return _pick(rng, [f"jumps in place{_maybe(rng, _times(rng, n))}", f"jumps up and down{_times(rng, n)}",
                           f"does {_number(rng, n)} {'jump' if n == 1 else 'jumps'} on the spot", f"jumps straight up{_times(rng, n)}",
                           f"jumps on the spot{_times(rng, n)}"])
    return _pick(rng, [f"jumps forward{_maybe(rng, _times(rng, n))}", f"leaps forward{_times(rng, n)}",
                       f"does {_number(rng, n)} forward {'jump' if n == 1 else 'jumps'}", f"jumps ahead with both feet{_times(rng, n)}"])


def _hop(s: dict, rng, pos: str) -> str:
    d, n = s["side"], s["count"]
    limb = _pick(rng, ["leg", "foot"])
    return _pick(rng, [f"hops on {pos} {d} {limb}{_maybe(rng, _times(rng, n))}", f"hops on the {d} {limb}{_times(rng, n)}",
                       f"stands on the {d} {limb} and hops{_maybe(rng, _times(rng, n))}",
                       f"balances on {pos} {d} {limb} and hops {_number(rng, n)} times" if n > 1 else f"balances on {pos} {d} {limb} and hops once",
                       f"hops{_times(rng, n)} on one {limb}, the {d} one"])


def _wave(s: dict, rng, pos: str) -> str:
    n = s["count"]
    if s["side"] == "both":
        return _pick(rng, ["waves with both hands", f"waves both arms{_maybe(rng, _times(rng, n))}", "raises both hands and waves",
                           f"waves both hands above {pos} head{_maybe(rng, _times(rng, n))}"])
    d = s["side"]
    return _pick(rng, [f"waves with {pos} {d} hand{_maybe(rng, _times(rng, n))}", f"waves {pos} {d} hand{_times(rng, n)}",
                       f"raises the {d} hand and waves{_maybe(rng, _times(rng, n))}", f"waves hello with the {d} hand",
                       f"lifts {pos} {d} arm and waves {pos} hand back and forth{_maybe(rng, _times(rng, n))}"])


def _raise_arms(s: dict, rng, pos: str) -> str:
    both = s["side"] == "both"
    arm = _pick(rng, ["both arms", f"{pos} arms", "both hands"]) if both else _pick(rng, [f"{pos} {s['side']} arm", f"the {s['side']} arm"])
    target = _pick(rng, {"overhead": [f"above {pos} head", "overhead", f"over {pos} head", "up high"],
                         "forward": ["forward", f"in front of {pos} body", "straight out in front", "to shoulder height in front"],
                         "sideways": ["out to the sides", "sideways", "to the sides"] if both else
                                     ["out to the side", "sideways", "to the side"]}[s["target"]])
    them = "them" if both else "it"
    return _pick(rng, [f"raises {arm} {target}", f"lifts {arm} {target}", f"raises {arm} {target} and lowers {them} again",
                       f"holds {arm} {target} for a moment", f"lifts {arm} {target} and brings {them} back down"])


def _clap(s: dict, rng, pos: str) -> str:
    n = s["count"]
    return _pick(rng, [f"claps {pos} hands{_maybe(rng, _times(rng, n))}", f"claps{_times(rng, n)}", f"claps {_number(rng, n)} times",
                       "applauds", f"claps {pos} hands together in front of {pos} chest"])


def _kick(s: dict, rng, pos: str) -> str:
    d = s["side"]
    limb = _pick(rng, ["leg", "foot"])
    return _pick(rng, [f"kicks with {pos} {d} {limb}", f"kicks forward with the {d} {limb}", f"does a {d} kick",
                       f"lifts {pos} {d} leg and kicks forward", f"performs a front kick with {pos} {d} {limb}",
                       f"kicks {pos} {d} leg out in front"])


def _punch(s: dict, rng, pos: str) -> str:
    d, n = s["side"], s["count"]
    return _pick(rng, [f"punches with {pos} {d} hand{_maybe(rng, _times(rng, n))}",
                       f"throws {'a' if n == 1 else _number(rng, n)} {d} {'punch' if n == 1 else 'punches'}",
                       f"punches forward with the {d} fist{_times(rng, n)}", f"jabs with {pos} {d} hand{_maybe(rng, _times(rng, n))}",
                       f"raises {pos} fists and punches with the {d} one{_maybe(rng, _times(rng, n))}"])


def _squat(s: dict, rng, pos: str) -> str:
    n = s["count"]
    squats = "squat" if n == 1 else "squats"
    return _pick(rng, [f"squats down and stands back up{_maybe(rng, _times(rng, n))}", f"does {_number(rng, n)} {squats}",
                       f"squats{_times(rng, n)}", f"bends {pos} knees into a squat and rises again{_maybe(rng, _times(rng, n))}",
                       f"performs {_number(rng, n)} {squats}"])


def _bow(s: dict, rng, pos: str) -> str:
    return _pick(rng, ["bows", "bows forward", "takes a bow", "bends forward at the waist in a bow", "bows politely and straightens up",
                       "bows and stands up straight again"])


def _stand(s: dict, rng, pos: str) -> str:
    return _pick(rng, ["stands still", "stands in place", "stands still without moving much", "stays still", "waits in place",
                       "is standing still", "stands quietly in one place"])


_PHRASES = {"walk": _walk, "jog": _jog, "run": _run, "turn": _turn, "circle": _circle, "jump": _jump, "hop": _hop, "wave": _wave,
            "raise_arms": _raise_arms, "clap": _clap, "kick": _kick, "punch": _punch, "squat": _squat, "bow": _bow, "stand": _stand}


def describe(labels: dict, rng: np.random.Generator, num_captions: int = CAPTIONS_PER_MOTION) -> list[str]:
    """Differently worded captions of a motion from its structured labels.

    Args:
        labels: ``{"segments": [...]}`` as returned by ``generate_motion`` (one or two segments).
        rng: the random generator choosing subjects, templates and synonyms.
        num_captions: how many distinct captions to write.
    Returns:
        ``num_captions`` distinct lower-case sentences ending with a full stop.
    """
    captions: list[str] = []
    while len(captions) < num_captions:
        subject, pos = _SUBJECTS[int(rng.integers(len(_SUBJECTS)))]
        phrases = [_PHRASES[segment["action"]](segment, rng, pos) for segment in labels["segments"]]
        if len(phrases) == 1:
            text = f"{subject} {phrases[0]}."
        else:
            text = _pick(rng, [f"{subject} {phrases[0]}, then {phrases[1]}.", f"{subject} {phrases[0]} and then {phrases[1]}.",
                               f"{subject} first {phrases[0]}, then {phrases[1]}.", f"{subject} {phrases[0]} and afterwards {phrases[1]}."])
        if text not in captions:
            captions.append(text)
    return captions


# ----------------------------------------------------------------------------- tagging

_WORDS = {
    "DET": "a an the his her their its",
    "PRON": "someone he she they it them",
    "ADP": "in on to with at for of above over into from by without",
    "CCONJ": "and",
    "NUM": "one two three four five six seven eight nine ten ninety",
    "ADV": "forward forwards backward backwards slowly quickly briskly fast sideways then first again once twice up down "
           "still straight ahead back out casually leisurely afterwards clockwise counterclockwise overhead politely quietly "
           "together high around all much forth",
    "ADJ": "slow quick normal steady short full both left right quarter half",
    "NOUN": "person man woman human pace step arm hand leg foot head circle degree time place spot side direction jump kick "
            "punch squat bow knee waist body shoulder height moment fist chest run jog turn way front",
    "AUX": "is",
    "INTJ": "hello",
}
_VERBS = {"walks": "walk", "takes": "take", "steps": "step", "strolls": "stroll", "shuffles": "shuffle", "jogs": "jog",
          "runs": "run", "sprints": "sprint", "goes": "go", "breaks": "break", "turns": "turn", "rotates": "rotate",
          "makes": "make", "circles": "circle", "jumps": "jump", "leaps": "leap", "does": "do", "hops": "hop", "stands": "stand",
          "balances": "balance", "waves": "wave", "raises": "raise", "lifts": "lift", "lowers": "lower", "holds": "hold",
          "brings": "bring", "claps": "clap", "applauds": "applaud", "kicks": "kick", "performs": "perform", "throws": "throw",
          "punches": "punch", "jabs": "jab", "squats": "squat", "bends": "bend", "rises": "rise", "bows": "bow",
          "straightens": "straighten", "stays": "stay", "waits": "wait", "standing": "stand", "moving": "move", "turning": "turn",
          "jogging": "jog"}
_PLURALS = {"steps": "step", "arms": "arm", "hands": "hand", "degrees": "degree", "times": "time", "jumps": "jump", "punches": "punch",
            "squats": "squat", "knees": "knee", "sides": "side", "fists": "fist", "feet": "foot"}
_LEXICON = {word: (word, pos) for pos, words in _WORDS.items() for word in words.split()}
_SUBJECT_TAGS = {"NOUN", "PRON", "ADV", "CCONJ"}  # an ambiguous -s word after these is a verb ("the man jumps")


def tag(caption: str, strict: bool = False) -> str:
    """Part-of-speech tokens of a caption, HumanML3D style: ``lemma/POS`` separated by spaces.

    A lexicon does the work, plus three rules: an ``-s`` word that can be a verb or a plural noun
    is a verb right after a subject, an adverb or "and" ("the man jumps"), else a noun ("two jumps");
    "left"/"right" are adjectives before a noun, nouns after a determiner ("to the left"), else
    adverbs ("turns left"); "one" is a pronoun after an adjective ("the left one"), else a number.

    Args:
        caption: the sentence.
        strict: raise on a word the lexicon lacks instead of tagging it as a noun.
    Returns:
        e.g. ``"a/DET person/NOUN walk/VERB forward/ADV"``.
    Raises:
        ValueError: with ``strict``, a word that is not in the lexicon.
    """
    words = re.findall(r"[a-z0-9]+", caption.lower())
    tagged: list[tuple[str, str]] = []
    for i, word in enumerate(words):
        before = tagged[-1][1] if tagged else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        if word in _VERBS and (word not in _PLURALS or before in _SUBJECT_TAGS or not tagged):
            tagged.append((_VERBS[word], "VERB"))
        elif word in _PLURALS:
            tagged.append((_PLURALS[word], "NOUN"))
        elif word in ("left", "right"):
            is_noun_next = (after in _LEXICON and _LEXICON[after][1] == "NOUN") or after in _PLURALS or after == "one"
            tagged.append((word, "ADJ" if is_noun_next else "NOUN" if before == "DET" else "ADV"))
        elif word == "one" and before == "ADJ":
            tagged.append((word, "PRON"))
        elif word.isdigit():
            tagged.append((word, "NUM"))
        elif word in _LEXICON:
            tagged.append(_LEXICON[word])
        elif strict:
            raise ValueError(f"the caption word {word!r} is not in the tagger's lexicon; add it to captions._WORDS or _VERBS.")
        else:
            tagged.append((word, "NOUN"))
    return " ".join(f"{lemma}/{pos}" for lemma, pos in tagged)


def caption_line(caption: str) -> str:
    """One line of a ``texts/<id>.txt`` file: ``caption#tokens#0.0#0.0`` (the caption covers the whole motion)."""
    return f"{caption}#{tag(caption, strict=True)}#0.0#0.0"


def mirror_caption(caption: str) -> str:
    """The caption of the mirrored motion: left <-> right, clockwise <-> counterclockwise."""
    return re.sub(r"\b(left|right|clockwise|counterclockwise)\b", lambda m: _SWAP[m.group(1)], caption)
