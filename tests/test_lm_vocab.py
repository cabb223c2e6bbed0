"""Motion words, their id arithmetic, and the text tokenizers (motiongpt_lite.lm.vocab / .tokenizer)."""
from __future__ import annotations

import io
import time

import pytest
import torch
from transformers import AutoTokenizer, T5Tokenizer

from motiongpt_lite.lm.tokenizer import add_motion_tokens, load_text_tokenizer, train_text_tokenizer
from motiongpt_lite.lm.vocab import MotionVocab, motion_token, motion_token_strings

CAPTIONS = [
    "a person walks forward slowly.", "a man jumps up and down twice", "someone waves with the right hand",
    "the person turns left and walks back", "a figure kicks with the left leg, then jumps",
    "A person raises both arms above the head!", "the man sits down on a chair (slowly)",
] * 10
UNSEEN = ["a woman dances to the left; 3 times", "someone kicks twice", "Walking backwards #2"]


@pytest.fixture(scope="module")
def trained() -> T5Tokenizer:
    return train_text_tokenizer(CAPTIONS, vocab_size=200, extra_ids=100)


# -- vocabulary arithmetic ----------------------------------------------------------------------
def test_id_arithmetic_of_markers_and_codes():
    vocab = MotionVocab(num_codes=512, offset=32100)
    assert (vocab.som_id, vocab.eom_id, vocab.mask_id, vocab.size, vocab.end) == (32612, 32613, 32614, 515, 32615)
    assert vocab.codes_to_ids([0, 7, 511]) == [32612, 32100, 32107, 32611, 32613]
    assert vocab.codes_to_ids(torch.tensor([3]), markers=False) == [32103]
    assert vocab.ids_to_codes([32100, 32611]) == [0, 511]
    assert vocab.is_code(torch.tensor([32099, 32100, 32611, 32612])).tolist() == [False, True, True, False]
    assert motion_token_strings(2) == ["<motion_id_0>", "<motion_id_1>", "<motion_id_2>", "<motion_id_3>", "<motion_id_4>"]


def test_codes_text_round_trip_and_strict_errors():
    vocab = MotionVocab(num_codes=16, offset=100)
    text = vocab.codes_to_text([5, 0, 15])
    assert text == "<motion_id_16><motion_id_5><motion_id_0><motion_id_15><motion_id_17>"
    assert vocab.text_to_codes("walk " + text) == [5, 0, 15]
    with pytest.raises(ValueError, match="outside \\[0, 16\\)"):
        vocab.codes_to_ids([16])
    with pytest.raises(ValueError, match="not motion codes"):
        vocab.ids_to_codes([vocab.som_id])
    with pytest.raises(ValueError, match="do not exist with 16 codes"):
        vocab.text_to_codes(motion_token(19))
    with pytest.raises(ValueError, match="must be 1D"):
        vocab.codes_to_ids(torch.zeros(2, 3, dtype=torch.long))


# -- the trained tokenizer ------------------------------------------------------------------------
def test_trained_tokenizer_has_t5_layout(trained):
    assert (trained.pad_token_id, trained.eos_token_id, trained.unk_token_id) == (0, 1, 2)
    assert trained.convert_tokens_to_ids("<extra_id_0>") == len(trained) - 1  # as in T5: sentinels count down
    assert trained.convert_tokens_to_ids("<extra_id_99>") == len(trained) - 100
    ids = trained("a man jumps").input_ids
    assert ids[-1] == 1 and trained.unk_token_id not in trained(UNSEEN[0] + " " + UNSEEN[2]).input_ids
    assert trained.decode(trained(UNSEEN[0]).input_ids, skip_special_tokens=True) == UNSEEN[0]


def test_trained_tokenizer_is_reproducible(trained):
    again = train_text_tokenizer(CAPTIONS, vocab_size=200, extra_ids=100)
    assert again.get_vocab() == trained.get_vocab()


def test_save_and_reload_keeps_full_vocabulary(trained, tmp_path):
    trained.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert len(reloaded) == len(trained) > 104 and reloaded.get_vocab() == trained.get_vocab()
    for text in CAPTIONS[:7] + UNSEEN:
        assert reloaded(text).input_ids == trained(text).input_ids


def _sentencepiece_model(tmp_path) -> str:
    sentencepiece = pytest.importorskip("sentencepiece")
    buffer = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(CAPTIONS), model_writer=buffer, vocab_size=60, model_type="unigram", pad_id=0,
        eos_id=1, unk_id=2, bos_id=-1, normalization_rule_name="identity", hard_vocab_limit=False, minloglevel=2)
    path = tmp_path / "spiece.model"
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_vocab_file_trap_and_vocab_list_route_agree_with_sentencepiece(tmp_path):
    """transformers 5.x ignores vocab_file; a (piece, score) list reproduces sentencepiece exactly."""
    import sentencepiece

    model_file = _sentencepiece_model(tmp_path)
    processor = sentencepiece.SentencePieceProcessor(model_file=model_file)
    assert len(T5Tokenizer(vocab_file=model_file)) == 104  # the trap: 4 tokens + 100 sentinels, the model ignored
    pieces = [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())]
    ours = T5Tokenizer(vocab=pieces, extra_ids=0)
    for text in sorted(set(CAPTIONS)) + ["someone kicks twice", "a man walks back slowly"]:
        assert ours(text, add_special_tokens=False).input_ids == processor.encode(text)


# -- load_text_tokenizer ---------------------------------------------------------------------------
def test_offline_hub_name_falls_back_fast_and_says_why(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    tokenizer, message = load_text_tokenizer("google/flan-t5-small", captions=CAPTIONS, vocab_size=200)
    assert time.perf_counter() - start < 5  # no network retries
    assert "HF_HUB_OFFLINE=1" in message and "trained on 70 captions" in message
    assert tokenizer.get_vocab() == train_text_tokenizer(CAPTIONS, 200).get_vocab()


def test_no_captions_and_no_pretrained_raises(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match="no captions were given"):
        load_text_tokenizer("google/flan-t5-small")


def test_cache_dir_reloads_same_captions_and_retrains_on_new_ones(tmp_path):
    first, message = load_text_tokenizer("trained", CAPTIONS, cache_dir=tmp_path, vocab_size=200)
    assert "trained on" in message and "preset asks" in message
    again, message = load_text_tokenizer("trained", CAPTIONS, cache_dir=tmp_path, vocab_size=200)
    assert "reloaded from" in message and again.get_vocab() == first.get_vocab()
    _, message = load_text_tokenizer("trained", CAPTIONS + ["a new caption"], cache_dir=tmp_path, vocab_size=200)
    assert "trained on 71 captions" in message


def test_folder_is_used_as_pretrained_tokenizer(trained, tmp_path):
    trained.save_pretrained(tmp_path)
    tokenizer, message = load_text_tokenizer(str(tmp_path))
    assert message.startswith("text tokenizer: pretrained") and str(tmp_path) in message
    assert tokenizer.get_vocab() == trained.get_vocab()


# -- motion words in the tokenizer --------------------------------------------------------------
def test_add_motion_tokens_appends_consecutive_ids(trained, tmp_path):
    tokenizer = train_text_tokenizer(CAPTIONS, vocab_size=200)
    num_text = len(tokenizer)
    vocab = add_motion_tokens(tokenizer, num_codes=8)
    assert vocab == MotionVocab(8, num_text) and len(tokenizer) == vocab.end == num_text + 11
    assert add_motion_tokens(tokenizer, 8) == vocab and len(tokenizer) == vocab.end  # idempotent

    prompt = "Generate text: " + vocab.codes_to_text([3, 3, 7]) + " thanks"
    ids = tokenizer(prompt).input_ids
    assert ids[-1] == 1
    motion = [i for i in ids if i >= vocab.offset]
    assert motion == vocab.codes_to_ids([3, 3, 7])  # each word is one token, no spaces needed
    assert "<motion_id_8><motion_id_3>" in tokenizer.decode(ids, skip_special_tokens=True)

    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert MotionVocab.from_tokenizer(reloaded, 8) == vocab and reloaded(prompt).input_ids == ids


def test_from_tokenizer_without_motion_words_raises(trained):
    with pytest.raises(ValueError, match="add_motion_tokens"):
        MotionVocab.from_tokenizer(trained, 8)
