"""Embedding surgery (motiongpt_lite.lm.surgery): merging keeps every old logit, tied or untied, and
round-trips through save_pretrained; plain resize_token_embeddings does not (the transformers 5.x trap)."""
from __future__ import annotations

import pytest
import torch
from transformers import T5ForConditionalGeneration

from motiongpt_lite.config import LMConfig
from motiongpt_lite.lm.model import build_t5
from motiongpt_lite.lm.surgery import (INIT_STRATEGIES, embeddings_tied, merge_vocabulary, new_rows,
                                       quiet_untied_load_warning)

NUM_OLD, NUM_NEW = 120, 120 + 35  # a 120-word text vocabulary plus K + 3 = 35 motion words
# flan-t5 in miniature: gated-GELU, own output head (no d_model**-0.5 rescaling); and T5 v1.0: relu, tied
FLAN_LIKE = LMConfig(model="config", d_model=32, d_ff=64, d_kv=8, num_layers=2, num_heads=4,
                     feed_forward_proj="gated-gelu", tie_embeddings=False, dropout=0.0)
T5_V1 = LMConfig(model="config", d_model=32, d_ff=64, d_kv=8, num_layers=2, num_heads=4,
                 feed_forward_proj="relu", tie_embeddings=True, dropout=0.0)


def _saved_and_loaded(lm: LMConfig, folder) -> T5ForConditionalGeneration:
    """Build a tiny T5, save it, and load it back as a checkpoint would be (from_pretrained)."""
    build_t5(lm, NUM_OLD, seed=0).save_pretrained(folder)
    quiet_untied_load_warning()
    return T5ForConditionalGeneration.from_pretrained(folder).eval()


@pytest.fixture(params=["untied", "tied"])
def checkpoint(request, tmp_path) -> tuple[str, T5ForConditionalGeneration]:
    lm = FLAN_LIKE if request.param == "untied" else T5_V1
    return request.param, _saved_and_loaded(lm, tmp_path / request.param)


def _logits(model, vocab_size: int = NUM_OLD) -> torch.Tensor:
    """Logits of fixed old-vocabulary inputs: (2, 6, vocab) for 2 sources of 9 tokens, 6 decoder steps."""
    g = torch.Generator().manual_seed(7)
    source = torch.randint(2, vocab_size, (2, 9), generator=g)
    target = torch.cat([torch.zeros(2, 1, dtype=torch.long), torch.randint(2, vocab_size, (2, 5), generator=g)], 1)
    with torch.no_grad():
        return model(input_ids=source, attention_mask=torch.ones_like(source), decoder_input_ids=target).logits


def test_checkpoints_are_what_they_claim(checkpoint):
    kind, model = checkpoint
    assert embeddings_tied(model) == (kind == "tied")
    assert model.config.scale_decoder_outputs == (kind == "tied")  # flan-t5 does not rescale before its head
    assert model.config.decoder_start_token_id == 0 and model.config.eos_token_id == 1


@pytest.mark.parametrize("init", INIT_STRATEGIES)
def test_merge_keeps_every_old_logit_and_layout(checkpoint, init):
    kind, model = checkpoint
    before = _logits(model)
    merge_vocabulary(model, NUM_OLD, NUM_NEW, init=init, seed=3)
    after = _logits(model)
    assert after.shape[-1] == NUM_NEW and model.config.vocab_size == NUM_NEW
    torch.testing.assert_close(after[..., :NUM_OLD], before, atol=1e-5, rtol=0)
    assert embeddings_tied(model) == (kind == "tied")
    assert model.encoder.embed_tokens.weight is model.shared.weight is model.decoder.embed_tokens.weight


def test_merge_round_trips_through_save_pretrained(checkpoint, tmp_path):
    kind, model = checkpoint
    merge_vocabulary(model, NUM_OLD, NUM_NEW, init="mean_noise", seed=1)
    model.save_pretrained(tmp_path / "merged")
    loaded = T5ForConditionalGeneration.from_pretrained(tmp_path / "merged").eval()
    assert embeddings_tied(loaded) == (kind == "tied")
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    assert torch.equal(_logits(loaded, NUM_NEW), _logits(model, NUM_NEW))


def test_untied_merge_grows_each_matrix_from_its_own_rows(tmp_path):
    model = _saved_and_loaded(FLAN_LIKE, tmp_path)
    old_in, old_head = model.shared.weight[:NUM_OLD].clone(), model.lm_head.weight[:NUM_OLD].clone()
    merge_vocabulary(model, NUM_OLD, NUM_NEW, init="mean")
    torch.testing.assert_close(model.shared.weight[NUM_OLD:], old_in.mean(0).expand(35, -1))
    torch.testing.assert_close(model.lm_head.weight[NUM_OLD:], old_head.mean(0).expand(35, -1))
    model.tie_weights(recompute_mapping=False)  # what transformers does internally: must not re-tie our head
    assert not embeddings_tied(model)


def test_merge_reinitialises_unused_padding_rows(tmp_path):
    """flan-t5 has more rows (32128) than tokens (32100): rows past the text vocabulary become motion rows."""
    model = _saved_and_loaded(FLAN_LIKE, tmp_path)  # 120 rows; pretend only 100 are real tokens
    merge_vocabulary(model, 100, 130, init="mean")
    assert torch.equal(model.shared.weight[100:], model.shared.weight[100:101].expand(30, -1))


def test_plain_resize_token_embeddings_changes_old_logits_of_untied_t5(tmp_path):
    """The trap (transformers 5.x): resize re-ties lm_head to the input embeddings."""
    model = _saved_and_loaded(FLAN_LIKE, tmp_path)
    before = _logits(model)
    model.resize_token_embeddings(NUM_NEW, mean_resizing=False)
    assert embeddings_tied(model)  # the trained head is gone
    assert (_logits(model)[..., :NUM_OLD] - before).abs().max() > 0.1


def test_plain_resize_keeps_old_logits_of_tied_t5(tmp_path):
    """On a tied T5 resize is harmless: the trap is specific to untied checkpoints such as flan-t5."""
    model = _saved_and_loaded(T5_V1, tmp_path)
    before = _logits(model)
    model.resize_token_embeddings(NUM_NEW, mean_resizing=False)
    torch.testing.assert_close(_logits(model)[..., :NUM_OLD], before, atol=1e-5, rtol=0)


def test_new_rows_strategies():
    g = torch.Generator().manual_seed(0)
    old = torch.randn(500, 16, generator=g) * 2 + 1
    assert torch.equal(new_rows(old, 3, "mean"), old.mean(0).expand(3, -1))
    normal = new_rows(old, 4000, "normal", generator=torch.Generator().manual_seed(1))
    assert abs(normal.std() / old.std() - 1) < 0.05 and normal.mean().abs() < 0.05
    noisy = new_rows(old, 4000, "mean_noise", noise=0.1, generator=torch.Generator().manual_seed(1))
    assert ((noisy - old.mean(0)).std() / old.std() - 0.1).abs() < 0.01
    cov = new_rows(old, 4000, "mean_cov", generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(cov.mean(0), old.mean(0), atol=0.15, rtol=0)
    torch.testing.assert_close(torch.cov(cov.T), torch.cov(old.T), atol=0.4, rtol=0)
    again = new_rows(old, 4000, "mean_cov", generator=torch.Generator().manual_seed(1))
    assert torch.equal(cov, again)


def test_bad_arguments_raise_before_any_change(tmp_path):
    model = _saved_and_loaded(FLAN_LIKE, tmp_path)
    with pytest.raises(ValueError, match="unknown init 'zeros'"):
        new_rows(model.shared.weight, 2, "zeros")
    with pytest.raises(ValueError, match="num_old=200"):
        merge_vocabulary(model, 200, 300)
    assert model.shared.num_embeddings == NUM_OLD
