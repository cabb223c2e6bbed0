"""The shared training machinery: schedule, resumable batch order, atomic checkpoints, exact resume."""
from __future__ import annotations

import argparse
import math
from itertools import islice

import pytest
import torch
from torch import nn

from motiongpt_lite.checkpoints import load_checkpoint, load_model_weights, save_checkpoint
from motiongpt_lite.config import TrainConfig
from motiongpt_lite.training import batch_stream, fit, make_optimizer, make_scheduler


class Toy(nn.Module):
    """A small regression model with dropout, so that resuming must restore the random state."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x)


class Points(torch.utils.data.Dataset):
    """40 fixed (x, y) pairs; ``set_epoch`` adds epoch-dependent noise so the epoch matters."""

    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.x, self.y = torch.randn(40, 4, generator=g), torch.randn(40, 1, generator=g)
        self.epoch, self.epochs_seen = 0, []

    def set_epoch(self, epoch):
        self.epoch = epoch
        self.epochs_seen.append(epoch)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i] + 0.01 * self.epoch, self.y[i]


def toy_step(model, batch):
    x, y = batch
    loss = nn.functional.mse_loss(model(x), y)
    return loss, {"mse": loss.detach()}


TOY_TRAINING = TrainConfig(steps=12, batch_size=8, lr=1e-2, warmup_steps=3, log_every=4, min_lr_ratio=0.0,
                           checkpoint_every=0)


def run_toy(tmp_path, **kwargs):
    torch.manual_seed(0)
    model = Toy()
    kwargs = {"seed": 3, "checkpoint_path": tmp_path / "ckpt.safetensors", "progress": False,
              "extra": {"config": {"a": 1}}, **kwargs}
    history = fit(model, Points(), toy_step, TOY_TRAINING, **kwargs)
    return model, history


def test_schedule_warmup_then_cosine():
    opt = make_optimizer(nn.Linear(2, 2), lr=1.0)
    sched = make_scheduler(opt, warmup_steps=4, total_steps=14, decay="cosine", min_lr_ratio=0.1)
    lrs = []
    for _ in range(14):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    for step in range(4, 14):
        expected = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - 4) / 10))
        assert lrs[step] == pytest.approx(expected)
    with pytest.raises(ValueError, match="decay"):
        make_scheduler(opt, 1, 10, decay="step")


def test_batch_stream_resumes_and_shards():
    data = Points()
    full = list(islice(batch_stream(data, 8, seed=1), 12))  # 5 batches per epoch: crosses two epoch ends
    later = list(islice(batch_stream(data, 8, seed=1, start_step=7), 5))
    for a, b in zip(full[7:], later):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # two processes split each global batch of 8 into disjoint halves of 4
    p0 = next(batch_stream(data, 4, seed=1, num_processes=2, process_index=0))[1]
    p1 = next(batch_stream(data, 4, seed=1, num_processes=2, process_index=1))[1]
    torch.testing.assert_close(torch.cat([p0, p1]).sort(0).values, full[0][1].sort(0).values, rtol=0, atol=0)
    with pytest.raises(ValueError, match="fewer than one batch"):
        next(batch_stream(data, 64, seed=1))


def test_checkpoint_roundtrip_is_atomic_and_handles_tied_weights(tmp_path):
    model = nn.Sequential(nn.Embedding(5, 3), nn.Linear(3, 5, bias=False))
    model[1].weight = model[0].weight  # tied, as T5's embeddings
    opt = make_optimizer(model, lr=0.1)
    sched = make_scheduler(opt, 2, 10)
    model(torch.tensor([1, 2])).sum().backward()
    opt.step()
    sched.step()
    path = save_checkpoint(tmp_path / "c.safetensors", model, opt, sched, step=1, extra={"note": "x"})
    assert [p.name for p in tmp_path.iterdir()] == ["c.safetensors"]  # no temporary file left behind
    fresh = nn.Sequential(nn.Embedding(5, 3), nn.Linear(3, 5, bias=False))
    fresh[1].weight = fresh[0].weight
    opt2 = make_optimizer(fresh, lr=0.1)
    sched2 = make_scheduler(opt2, 2, 10)
    step, extra = load_checkpoint(path, fresh, opt2, sched2)
    assert (step, extra) == (1, {"note": "x"})
    torch.testing.assert_close(fresh.state_dict(), model.state_dict(), rtol=0, atol=0)
    torch.testing.assert_close(opt2.state_dict()["state"], opt.state_dict()["state"], rtol=0, atol=0)
    assert sched2.get_last_lr() == sched.get_last_lr()
    with pytest.raises(FileNotFoundError, match="train first"):
        load_model_weights(tmp_path / "missing.safetensors", fresh)


def test_resume_reproduces_the_uninterrupted_run(tmp_path):
    straight, history = run_toy(tmp_path / "a")
    _, first = run_toy(tmp_path / "b", stop_after=6)  # "interrupted" after 6 of 12 steps
    assert first[-1]["step"] == 4
    resumed, history_b = run_toy(tmp_path / "b")
    torch.testing.assert_close(resumed.state_dict(), straight.state_dict(), rtol=0, atol=0)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "elapsed_s"} for r in rows]  # noqa: E731
    assert strip(history_b) == strip(history)
    assert [r["step"] for r in history] == [4, 8, 12]
    reloaded = Toy()
    load_model_weights(tmp_path / "b" / "ckpt.safetensors", reloaded)
    torch.testing.assert_close(reloaded.state_dict(), straight.state_dict(), rtol=0, atol=0)


def test_resume_refuses_other_settings(tmp_path):
    run_toy(tmp_path, stop_after=2)
    with pytest.raises(ValueError, match="other settings"):
        run_toy(tmp_path, extra={"config": {"a": 2}})


@pytest.mark.parametrize("stop_after", [0, -5, 2.5, True])
def test_stop_after_that_would_train_nothing_is_refused_before_any_work(tmp_path, stop_after):
    """Issue 18.6: ``train_vq(stop_after=0)`` from Python reported success and wrote no checkpoint."""
    with pytest.raises(ValueError, match=f"stop_after={stop_after!r} must be a whole number of steps of at least 1"):
        run_toy(tmp_path, stop_after=stop_after)
    assert not (tmp_path / "ckpt.safetensors").exists()


def test_a_folder_that_cannot_be_written_is_refused_before_the_first_step(tmp_path, monkeypatch):
    """Issue 18.6: training into a read-only checkpoint folder failed at the first save, after the work."""
    import motiongpt_lite.training as training

    steps = []
    monkeypatch.setattr(training.os, "access", lambda path, mode: False)  # as a non-root user sees a 0555 folder
    with pytest.raises(PermissionError, match=r"cannot be written and 12 training steps are left.*MOTIONGPT_LITE_CHECKPOINTS"):
        fit(Toy(), Points(), lambda m, b: steps.append(1) or toy_step(m, b), TOY_TRAINING,
            checkpoint_path=tmp_path / "ckpt.safetensors", progress=False)
    assert steps == []


def test_a_finished_checkpoint_in_a_read_only_folder_loads_without_training(tmp_path, monkeypatch):
    import motiongpt_lite.training as training

    model, history = run_toy(tmp_path)
    monkeypatch.setattr(training.os, "access", lambda path, mode: False)
    again, history_again = run_toy(tmp_path)  # every step done: nothing to write, so no refusal
    torch.testing.assert_close(again.state_dict(), model.state_dict(), rtol=0, atol=0)
    assert history_again == history


def test_two_processes_never_train_into_one_checkpoint_folder(tmp_path, lock_holder):
    """Issue 18.10 from Python (a notebook beside the main job): fit holds its checkpoint folder's lock."""
    from motiongpt_lite.runtime import RunFolderBusy, run_folder_lock

    holder = lock_holder(tmp_path)
    with pytest.raises(RunFolderBusy, match=f"pid {holder.pid}"):
        run_toy(tmp_path)
    assert not (tmp_path / "ckpt.safetensors").exists()
    holder.kill()
    holder.wait()
    with run_folder_lock(tmp_path):  # re-entrant: a command holding its folder may train into it
        run_toy(tmp_path)
    assert (tmp_path / "ckpt.safetensors").exists()


def test_auto_precision_is_bf16_where_the_gpu_has_it_fp16_on_a_t4_and_float32_off_cuda(monkeypatch):
    from motiongpt_lite.training import resolve_precision

    assert resolve_precision("auto", torch.device("cpu")) == "no" and resolve_precision("auto", torch.device("mps")) == "no"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)  # a T4 or V100
    assert resolve_precision("auto", torch.device("cuda")) == "fp16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # an A100 or H100
    assert resolve_precision("auto", torch.device("cuda")) == "bf16"
    assert resolve_precision("fp16", torch.device("cuda")) == "fp16" and resolve_precision("no", torch.device("cuda")) == "no"


def test_under_a_launcher_only_rank_0_holds_the_commands_run_folder(tmp_path, lock_holder, monkeypatch):
    """`accelerate launch -m motiongpt_lite pretrain`: the ranks are one run, so rank 1 must not wait for rank 0's lock."""
    from motiongpt_lite.cli import _locked
    from motiongpt_lite.runtime import RunFolderBusy

    monkeypatch.setenv("MOTIONGPT_LITE_CHECKPOINTS", str(tmp_path))
    ran = []
    command = _locked(lambda args: ran.append(args.preset))
    holder = lock_holder(tmp_path / "tiny")  # as rank 0 holds it during the run
    monkeypatch.setenv("RANK", "1")
    command(argparse.Namespace(preset="tiny"))
    assert ran == ["tiny"]
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(RunFolderBusy, match=f"pid {holder.pid}"):
        command(argparse.Namespace(preset="tiny"))
    assert ran == ["tiny"]
