"""Checkers for the exercises of notebooks 04-05 (see :mod:`motiongpt_lite.exercises`)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from motiongpt_lite.exercises.common import compare_paired, per_example_loss
from motiongpt_lite.exercises.common import correct as _correct

__all__ = ["check_exercise_4_1", "check_exercise_4_2", "check_exercise_4_3", "check_exercise_5_1", "check_exercise_5_2", "check_exercise_5_3"]


# --- notebook 04 ---

def check_exercise_4_1(code_of: Callable, vocab) -> None:
    """Exercise 4.1: ``code_of(token_id)`` -> code index, "start" / "end" / "mask", or None."""
    K, offset = vocab.num_codes, vocab.offset
    cases = {offset: 0, offset + K - 1: K - 1, offset + K: "start", offset + K + 1: "end", offset + K + 2: "mask",
             offset - 1: None, 0: None, 1: None, offset + K + 3: None, -5: None}
    for token_id, expected in cases.items():
        got = code_of(token_id)
        assert got == expected, (f"code_of({token_id}) gave {got!r}; remember that the motion words start at "
                                 f"vocab.offset = {offset} and that the markers follow the {K} codes.")
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


def check_exercise_4_3(prediction: str, text_model, num_old: int, num_codes: int, source, target) -> None:
    """Exercise 4.3: probability mass on motion words after a mean-initialised merge, K versus 4K codes."""
    import copy

    import torch

    from motiongpt_lite.lm.surgery import merge_vocabulary

    def mass(k: int) -> float:
        model = merge_vocabulary(copy.deepcopy(text_model), num_old, num_old + k + 3, init="mean")
        with torch.no_grad():
            p = model(input_ids=source, decoder_input_ids=target).logits[0, -1].softmax(-1)
        return p[num_old:].sum().item()

    small, large = mass(num_codes), mass(4 * num_codes)
    ratio = large / small
    measured = "same" if 0.9 < ratio < 1.1 else "larger" if ratio > 1 else "smaller"
    assert str(prediction).strip().lower() == measured, (
        f"prediction {prediction!r} is not what happens (mass on motion words: K={num_codes}: {small:.4f}, "
        f"4K={4 * num_codes}: {large:.4f}); every new word gets the same logit a -- how does "
        "n e^a / (Z + n e^a) change with n?")
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


def check_exercise_5_2(length_prompt: Callable) -> None:
    """Exercise 5.2: the text-to-motion prompt states the length in frames (tokens x frames per token)."""
    from motiongpt_lite.lm.tasks import PROMPTS

    for codes, rate in (([1, 2, 3], 4), (list(range(49)), 4), ([5] * 10, 8)):
        want = PROMPTS["text_to_motion_frames"].format(caption="a man jumps.", frames=len(codes) * rate)
        got = length_prompt("a man jumps.", np.array(codes), rate)
        assert got == want, (f"for {len(codes)} tokens of {rate} frames the prompt should name the frames the tokens "
                             f"cover, not the number of tokens; got {got!r}.")
    _correct("5.2")


def check_exercise_5_3(prediction: str, knob_lm, reference_lm, items: list, cfg) -> None:
    """Exercise 5.3: without motion-writing tasks, the text-to-motion loss on held-out pairs is higher.

    Higher, lower or about the same is decided per pair, paired across the two models, within the noise
    of the sample (:func:`~motiongpt_lite.exercises.common.compare_paired`), not by a fixed ratio.
    """
    from motiongpt_lite.lm.tasks import TASKS, collate_examples, make_example

    def t2m_losses(lm) -> np.ndarray:
        rng = np.random.default_rng(0)
        examples = [make_example("text_to_motion", item, lm.tokenizer, lm.vocab, cfg, rng) for item in items]
        batch = collate_examples([{"input_ids": s, "labels": t, "task": TASKS.index("text_to_motion")}
                                  for s, t in examples])
        return per_example_loss(lm.model, batch)  # (n,) one loss per held-out pair

    assert len(items) >= 2, "pass at least two held-out text-motion pairs."
    knob, reference = t2m_losses(knob_lm), t2m_losses(reference_lm)
    measured = compare_paired(knob, reference)
    assert str(prediction).strip().lower() == measured, (
        f"prediction {prediction!r} is not what happened (held-out text->motion loss without motion tasks "
        f"{knob.mean():.2f}, with them {reference.mean():.2f}); which task would ever make the output head score a "
        "motion code as the next token?")
    _correct("5.3")
