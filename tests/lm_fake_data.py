"""A small HumanML3D-layout folder with motion tokens that follow the captions, for the language-model
tests; run as a script it is the worker of the distributed training test (every stage):

    accelerate launch --multi_gpu --num_processes 2 tests/lm_fake_data.py DATA_DIR OUT_DIR
"""
from __future__ import annotations

import dataclasses
import hashlib
import sys
from pathlib import Path

import numpy as np

ACTIONS = {"walks forward": [1, 2, 3], "jumps up": [5, 6], "waves a hand": [8, 9, 10, 11], "turns around": [12, 13]}
NUM_CODES = 16


def make_fake_dataset(root: str | Path, num_motions: int = 48, seed: int = 0) -> Path:
    """Random features, three captions per motion naming one of four actions, and tokens repeating the
    action's pattern (``tokens/<id>.npy``, ceil(T / 4) of them). One extra caption covers only part
    of motion 0 (``start#end`` in seconds). Returns the folder."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    for sub in ("new_joint_vecs", "texts", "tokens"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    names = list(ACTIONS)
    ids = []
    for i in range(num_motions):
        clip_id, action = f"{i:06d}", names[i % len(names)]
        frames = int(rng.integers(60, 120))
        np.save(root / "new_joint_vecs" / f"{clip_id}.npy", rng.normal(size=(frames, 263)).astype(np.float32))
        lines = [f"{who} {action}.#x/X#0.0#0.0" for who in ("a person", "a man", "someone")]
        if i == 0:
            lines.append("a person starts walking.#x/X#0.4#2.6")  # frames 8..52 at 20 fps
        (root / "texts" / f"{clip_id}.txt").write_text("\n".join(lines))
        pattern = ACTIONS[action]
        tokens = np.array([pattern[k % len(pattern)] for k in range(-(-frames // 4))], dtype=np.int64)
        np.save(root / "tokens" / f"{clip_id}.npy", tokens)
        ids.append(clip_id)
    (root / "train.txt").write_text("\n".join(ids))
    np.save(root / "Mean.npy", np.zeros(263, np.float32))
    np.save(root / "Std.npy", np.ones(263, np.float32))
    return root


def fake_preset(steps: int = 40, batch_size: int = 8, **lm_changes):
    """The tiny preset with a 16-code codebook and a short pretraining."""
    from motiongpt_lite.config import get_preset, with_training

    preset = get_preset("tiny")
    lm = dataclasses.replace(with_training(preset.lm, steps=steps, batch_size=batch_size, warmup_steps=2, log_every=2),
                             **lm_changes)
    return preset.with_overrides(vq=dataclasses.replace(preset.vq, num_codes=NUM_CODES), lm=lm)


def distributed_preset():
    """:func:`fake_preset` with every training stage cut to 4 steps of 4 (the distributed test's worker)."""
    from motiongpt_lite.config import with_training

    preset = fake_preset(steps=4, batch_size=4)
    four = dict(steps=4, batch_size=4, warmup_steps=1, log_every=2, checkpoint_every=0)
    return preset.with_overrides(vq=with_training(preset.vq, **four), instruct=with_training(preset.instruct, **four),
                                 eval=with_training(preset.eval, **four))


def state_digest(model) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode() + tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _distributed_worker(data_dir: str, out_dir: str) -> None:
    """Every training stage a few steps (VQ-VAE, pretraining, instruction tuning, the evaluator), then this rank's
    parameter digest of each, and what the process group is, to ``OUT_DIR/rank<i>.json``."""
    import json

    import torch
    from accelerate import PartialState

    from motiongpt_lite.eval.evaluator import train_evaluator
    from motiongpt_lite.lm.instruct import instruct
    from motiongpt_lite.lm.pretrain import pretrain
    from motiongpt_lite.vq.train import train_vq

    preset, data, out = distributed_preset(), Path(data_dir), Path(out_dir)
    tokens = data / "tokens"
    digests = {"vq": state_digest(train_vq(preset, data_dir=data, out_dir=out / "vq", resume=False, progress=False).tokenizer.vq)}
    state = PartialState()  # after the stages' Accelerator(cpu=True) made the process group, not before
    state.wait_for_everyone()
    digests["pretrain"] = state_digest(pretrain(preset, data_dir=data, tokens_dir=tokens, out_dir=out / "pre", resume=False,
                                           progress=False).lm.model)
    state.wait_for_everyone()  # the main process has written the pretrained model instruct starts from
    digests["instruct"] = state_digest(instruct(preset, data_dir=data, tokens_dir=tokens, pretrained_dir=out / "pre",
                                           out_dir=out / "ins", resume=False, progress=False).lm.model)
    state.wait_for_everyone()
    digests["evaluator"] = state_digest(train_evaluator(preset, data_dir=data, out_dir=out / "evaluator", resume=False,
                                                   progress=False))
    (out / f"rank{state.process_index}.json").write_text(json.dumps(
        {"world": state.num_processes, "backend": state.backend, "initialised": torch.distributed.is_initialized(),
         "digests": digests}))


if __name__ == "__main__":
    _distributed_worker(sys.argv[1], sys.argv[2])
