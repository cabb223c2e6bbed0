"""Checkers for the exercises of notebooks 04-05 (see :mod:`motiongpt_lite.exercises`)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from motiongpt_lite.exercises.common import correct as _correct

__all__ = ["check_exercise_4_1", "check_exercise_4_2", "check_exercise_4_3", "check_exercise_5_1", "check_exercise_5_2",
           "check_exercise_5_3", "motion_word_mass"]


# --- notebook 04 ---

def _prefixes(vocab, rng: np.random.Generator, count: int = 60) -> list[list[int]]:
    """Decoder prefixes (decoder start 0 first) that visit every state of a motion span, hand-picked then random."""
    som, eom, mask = vocab.som_id, vocab.eom_id, vocab.mask_id
    code, text = vocab.offset + 1, 5
    picked = [[0], [0, som], [0, som, code], [0, som, code, eom], [0, text, som], [0, text, som, code, code],
              [0, som, code, eom, text], [0, som, code, eom, som], [0, som, code, eom, som, code], [0, mask],
              [0, text, text], [0, som, eom]]
    words = [som, eom, mask, text, 1, vocab.offset, vocab.offset + vocab.num_codes - 1]
    for _ in range(count):
        picked.append([0] + [int(words[k]) for k in rng.integers(len(words), size=int(rng.integers(1, 9)))])
    return picked


def check_exercise_4_1(allowed_next: Callable, vocab, vocab_size: int) -> None:
    """Exercise 4.1: ``allowed_next(prefix, vocab, vocab_size) -> (vocab_size,) bool``, the constrained-decoding
    rule for one sequence, against :class:`~motiongpt_lite.lm.model.MotionSpanLogitsProcessor` (free text around
    motion spans: ``motion_only=False``, at least one code per span, no upper limit)."""
    import torch

    from motiongpt_lite.lm.model import MotionSpanLogitsProcessor

    rule = MotionSpanLogitsProcessor(vocab)
    codes = slice(vocab.offset, vocab.offset + vocab.num_codes)
    for prefix in _prefixes(vocab, np.random.default_rng(0)):
        want = torch.isfinite(rule(torch.tensor([prefix]), torch.zeros(1, vocab_size)))[0]  # (V,)
        got = torch.as_tensor(allowed_next(list(prefix), vocab, vocab_size))
        assert got.shape == (vocab_size,), f"allowed_next should return {vocab_size} booleans, got shape {tuple(got.shape)}."
        got = got.bool()
        if torch.equal(got, want):
            continue
        inside = [t for t in prefix if t in (vocab.som_id, vocab.eom_id)][-1:] == [vocab.som_id]
        where = f"after {prefix}"
        if inside:
            assert got[vocab.eom_id] == want[vocab.eom_id], (
                f"{where}: inside a span the end marker is allowed only once the span holds at least one code.")
            assert not (got & ~want).any(), (f"{where} we are inside a motion span: only codes and the end marker "
                                             "may come next (no text, no eos, no second start marker).")
            raise AssertionError(f"{where} we are inside a motion span: every code may come next.")
        assert not got[codes].any(), f"{where} we are outside a motion span: a code may not float in text."
        assert not got[vocab.eom_id] and not got[vocab.mask_id], (
            f"{where}: outside a span the end marker closes nothing, and the mask marker is only ever read, never "
            "written.")
        assert got[vocab.som_id], f"{where}: outside a span a new motion may start (the start marker)."
        raise AssertionError(f"{where} we are outside a motion span: every text token (and eos) may come next.")
    _correct("4.1")


def check_exercise_4_2(grow_normal: Callable, text_model, num_old: int, new_size: int) -> None:
    """Exercise 4.2: random-normal new rows, old logits unchanged, head still untied, right scale."""
    import copy

    import torch

    from motiongpt_lite.lm.surgery import embeddings_tied

    g = torch.Generator().manual_seed(0)
    source = torch.randint(3, num_old, (2, 7), generator=g)
    target = torch.randint(3, num_old, (2, 4), generator=g)
    with torch.no_grad():
        before = text_model(input_ids=source, decoder_input_ids=target).logits
        model = grow_normal(copy.deepcopy(text_model), num_old, new_size, torch.Generator().manual_seed(1))
        after = model(input_ids=source, decoder_input_ids=target).logits
    assert after.shape[-1] == new_size, f"the merged model gives {after.shape[-1]} logits, not {new_size}."
    assert (after[..., :num_old] - before).abs().max() < 1e-5, "old logits moved: copy the old rows unchanged."
    assert embeddings_tied(model) == embeddings_tied(text_model), "the head's layout (tied or untied) changed."
    for name, old, new in (("input embeddings", text_model.get_input_embeddings().weight,
                            model.get_input_embeddings().weight),
                           ("output head", text_model.get_output_embeddings().weight, model.get_output_embeddings().weight)):
        ratio = (new[num_old:].std() / old[:num_old].std()).item()
        assert 0.8 < ratio < 1.25, f"new rows of the {name} have {ratio:.2f} times the old rows' spread; scale by old.std()."
        assert new[num_old:].std(0).mean() > 0, f"new rows of the {name} are all equal: draw them at random."
    _correct("4.2")


def motion_word_mass(text_model, num_old: int, num_codes: int, source, target) -> float:
    """P(any motion word) at the last decoder step right after a mean-initialised merge of ``num_codes`` codes
    (and the 3 markers), for one input (``source`` (1, S), ``target`` (1, L) of old words only)."""
    import copy

    import torch

    from motiongpt_lite.lm.surgery import merge_vocabulary

    model = merge_vocabulary(copy.deepcopy(text_model), num_old, num_old + num_codes + 3, init="mean")
    with torch.no_grad():
        p = model(input_ids=source, decoder_input_ids=target).logits[0, -1].double().softmax(-1)
    return p[num_old:].sum().item()


def check_exercise_4_3(mass_after_growth: Callable, text_model, num_old: int, num_codes: int, source, target) -> None:
    """Exercise 4.3: ``mass_after_growth(p, n_before, n_after)`` predicts the probability mass on the motion words
    when their number goes from ``n_before`` to ``n_after`` (mean init), from the mass ``p`` measured before.

    The checker merges K, 4K and 16K codes (each with the 3 markers) into the same model and compares the
    prediction made from the K merge with what the bigger merges measure (0.2% relative: the rule is exact).
    """
    measured = {k: motion_word_mass(text_model, num_old, k, source, target) for k in (num_codes, 4 * num_codes,
                                                                                     16 * num_codes)}
    p, n = measured[num_codes], num_codes + 3
    for k in (4 * num_codes, 16 * num_codes):
        got = mass_after_growth(p, n, k + 3)
        assert isinstance(got, (int, float)) and not isinstance(got, bool), (
            f"mass_after_growth returned {got!r}; return the predicted mass as a float.")
        assert 0.0 <= float(got) <= 1.0, f"{got} is not a probability; the mass on motion words lies in [0, 1]."
        assert abs(float(got) - measured[k]) <= 0.002 * measured[k], (
            f"you predict {float(got):.4f} for {k + 3} motion words; merging them measures {measured[k]:.4f} "
            f"(and {p:.4f} for {n}). Every new word has the same logit a: write the mass as n e^a / (Z + n e^a), "
            "and take e^a / Z from the mass you measured before growing, markers included.")
    _correct("4.3")


# --- notebook 05 ---

def check_exercise_5_1(train_step: Callable, model, examples: list[dict], pad_id: int) -> None:
    """Exercise 5.1: ``train_step(model, optimizer, examples, pad_id) -> loss``, one optimiser step by hand,
    against the package's ``collate_examples`` + ``pretrain_step`` on a copy of the model (dropout off)."""
    import copy

    import torch

    from motiongpt_lite.lm.pretrain import pretrain_step
    from motiongpt_lite.lm.tasks import IGNORE, collate_examples

    theirs, ours = copy.deepcopy(model).eval(), copy.deepcopy(model).eval()  # eval: no dropout, both runs equal
    got = train_step(theirs, torch.optim.SGD(theirs.parameters(), lr=0.5), examples, pad_id)
    batch = collate_examples(examples, pad_id)
    with torch.no_grad():  # the loss of the classic mistake, labels padded with pad_id (before ours is stepped)
        as_pad = batch["labels"].masked_fill(batch["labels"] == IGNORE, pad_id)
        padded_loss = ours(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=as_pad).loss.item()
    optimizer = torch.optim.SGD(ours.parameters(), lr=0.5)
    loss, _ = pretrain_step(ours, batch)
    loss.backward()
    optimizer.step()
    want = loss.item()
    assert isinstance(got, (int, float)), f"train_step returned {got!r}; return the loss as a float (loss.item())."
    close = lambda a, b: abs(a - b) <= 1e-4 * abs(b)  # noqa: E731
    assert not (close(got, padded_loss) and not close(padded_loss, want)), (
        "your loss counts the padded labels: pad the labels with -100, which the loss ignores, not with pad_id.")
    assert close(got, want), (
        f"your loss {got} differs from the package's {want:.5f}; pad inputs with pad_id, labels with -100, "
        "and pass attention_mask (1 on real tokens) and labels= to the model.")
    moved = [(a - b).abs().max().item() for a, b in zip(theirs.parameters(), model.parameters())]
    assert max(moved) > 0, "the weights did not change: call loss.backward() and optimizer.step()."
    for (name, a), b in zip(theirs.named_parameters(), ours.parameters()):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6), (
            f"after your step {name} differs from the package's: backward the mean loss once, then optimizer.step().")
    assert all(p.grad is None or not p.grad.any() for p in theirs.parameters()), (
        "clear the gradients after the step (optimizer.zero_grad()), or the next step adds to them.")
    _correct("5.1")


def check_exercise_5_2(corrupt: Callable, sentences: list[list[int]], sentinel_ids: list[int],
                       noise_density: float, mean_span_length: float) -> None:
    """Exercise 5.2: ``corrupt(ids, sentinel_ids, noise_density, mean_span_length, rng) -> (source, target)``,
    T5 span corruption written by hand, against :func:`~motiongpt_lite.lm.tasks.span_corrupt` with the same rng.

    Before the exact comparison the checker tests the properties any span corruption must have, so that its
    hint names what is wrong: the sentinels of the input are ``sentinel_ids[0], [1], ...`` in order, one per
    span; the target holds the same sentinels, each followed by the tokens it hides; putting the spans back
    gives the sentence; no eos is added.
    """
    from motiongpt_lite.lm.tasks import span_corrupt

    sentinel_set = set(sentinel_ids)
    cases = [(ids, seed) for ids in sentences for seed in range(8)]
    cases += [(list(range(1000, 1002)), 0), (list(range(1000, 1060)), 3)]  # the shortest sentence, and a long one
    for ids, seed in cases:
        got = corrupt(list(ids), list(sentinel_ids), noise_density, mean_span_length, np.random.default_rng(seed))
        assert isinstance(got, tuple) and len(got) == 2, "corrupt should return a pair (source, target) of id lists."
        source, target = [int(t) for t in got[0]], [int(t) for t in got[1]]
        marks = [t for t in source if t in sentinel_set]
        assert marks, "the input holds no sentinel: replace every cut span by one sentinel id."
        assert marks == list(sentinel_ids[:len(marks)]), (
            "the input's sentinels are not sentinel_ids[0], sentinel_ids[1], ... in order: number the spans "
            "from the start of the sentence, one sentinel per span (not per token).")
        assert [t for t in target if t in sentinel_set] == marks, (
            "the target should hold the input's sentinels, in the same order, each followed by the tokens it hides.")
        assert target[:1] == marks[:1], "the target starts with the first span's sentinel."
        spans, span = {}, None
        for t in target:
            if t in sentinel_set:
                span = spans.setdefault(t, [])
            else:
                span.append(t)
        assert all(spans.values()), "a sentinel in the target hides no token: every span is at least one token long."
        rebuilt = [t for s in source for t in (spans[s] if s in sentinel_set else [s])]
        assert rebuilt == list(ids), (
            "putting each span back in place of its sentinel does not give the sentence: the kept tokens stay in "
            "the input, the cut ones go to the target, all in their order, and no eos is added.")
        assert all(not (a in sentinel_set and b in sentinel_set) for a, b in zip(source, source[1:])), (
            "two sentinels side by side in the input: two spans must be separated by at least one kept token.")
        want = span_corrupt(list(ids), list(sentinel_ids), noise_density, mean_span_length, np.random.default_rng(seed))
        assert (source, target) == (list(want[0]), list(want[1])), (
            f"a valid corruption, but not the one T5 would draw with this generator (seed {seed}, {len(ids)} tokens): "
            "draw the mask with noise_mask (or random_spans_noise_mask) first, with the rng you were given, and "
            "draw nothing else from it.")
    _correct("5.2")


REFERENCE_PLACEHOLDERS = ("<Caption_Placeholder>", "<Frame_Placeholder>", "<Second_Placeholder>")


def _reference_fill(template: str, item, fps: float) -> str:
    """The reference's filling: its pretraining dataset hands the language model the number of *tokens* as the
    motion's length, and the filling treats it as frames (seconds = floor(length / fps), one decimal)."""
    import math

    length = len(item.code_idx)
    return (template.replace("<Caption_Placeholder>", item.captions[0]).replace("<Frame_Placeholder>", str(length))
            .replace("<Second_Placeholder>", "%.1f" % math.floor(length / fps)))


def check_exercise_5_3(reference_fill: Callable, fixed_fill: Callable, predicted_ratio: float, items: list,
                       templates: list[str], fps: float) -> None:
    """Exercise 5.3: the reference's length bug reproduced (``reference_fill``), fixed (``fixed_fill``) and its size
    predicted (``predicted_ratio``: frames a reference prompt states / frames the motion has, mean over ``items``).

    ``fixed_fill`` must agree with the package's :func:`~motiongpt_lite.lm.templates.fill` (frames = the clip's
    ``motion_len``, seconds = frames / fps with one decimal); a clip whose length is not a whole number of tokens
    is added so that "4 x tokens" does not pass for the real length.
    """
    from motiongpt_lite.lm.tasks import MotionText
    from motiongpt_lite.lm.templates import fill

    assert items, "pass the training motions (items)."
    odd = MotionText(np.arange(25) % 7, ["a man jumps."], 97)  # 97 frames: 25 tokens, 3 frames short of 100
    for template in templates:
        assert all(p in template for p in REFERENCE_PLACEHOLDERS), (
            f"template {template!r} should use all three of the reference's placeholders {REFERENCE_PLACEHOLDERS}.")
        ours = template
        for placeholder, name in zip(REFERENCE_PLACEHOLDERS, ("{caption}", "{frames}", "{seconds}")):
            ours = ours.replace(placeholder, name)
        for item in list(items[:8]) + [odd]:
            got, want = reference_fill(template, item, fps), _reference_fill(template, item, fps)
            assert got == want, (
                f"reference_fill gave {got!r}; the reference puts the length its dataset gives it, the number of "
                "tokens, where the template says frames, and its seconds are that number / fps, rounded down, "
                "written with one decimal.")
            got, want = fixed_fill(template, item, fps), fill(ours, fps=fps, caption=item.captions[0],
                                                              frames=item.motion_len)
            assert got == want, (
                f"fixed_fill gave {got!r} for a clip of {item.motion_len} frames ({len(item.code_idx)} tokens); "
                "state the frames the clip really has (motion_len, not a multiple of the tokens) and seconds = "
                "frames / fps with one decimal, not rounded down.")
    measured = float(np.mean([len(item.code_idx) / item.motion_len for item in items]))
    assert isinstance(predicted_ratio, (int, float)) and not isinstance(predicted_ratio, bool), (
        f"predicted_ratio is {predicted_ratio!r}; write a number.")
    assert abs(float(predicted_ratio) - measured) <= 0.02, (
        f"you predicted that a reference prompt states {float(predicted_ratio):.3f} x the real frames; how many frames "
        "does one token cover, and which of the two numbers does the reference write?")
    _correct("5.3")
