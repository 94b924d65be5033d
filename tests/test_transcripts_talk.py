"""Tests of helpers.transcripts.talk: the talk-word rule shared by ingest, segments, word
counts and the keyword stop list."""

from __future__ import annotations

import pytest

from helpers import embeddings
from helpers.transcripts import BACKCHANNEL_WORDS, count_words, is_backchannel


def test_words_keep_their_apostrophes_and_split_at_punctuation():
    assert count_words("It's the 10:15 list, isn’t it?") == 7
    assert count_words("— … !") == 0


@pytest.mark.parametrize("text", [
    "Yeah.",
    "Radiotherapy hurts.",                       # fewer than three words: nothing to analyse
    "Yeah [inaudible 00:12:01] mm (laughs)",     # annotations are not words
    "Yeah, yeah, I know, right, exactly.",
])
def test_backchannels(text):
    assert is_backchannel(text)


@pytest.mark.parametrize("text", ["The mask hurt.", "Yeah, the mask, honestly."])
def test_talk_with_content_is_not_a_backchannel(text):
    assert not is_backchannel(text)


def test_segments_use_the_same_rule():
    assert embeddings.is_backchannel is is_backchannel
    assert {"yeah", "mm", "exactly"} <= BACKCHANNEL_WORDS
