"""How themes are put into words, shared by the consensus themes and their BERTopic model:
the vectorizer that counts a theme's words, who said each segment (a keyword must be said by
two speakers), and the rule that no kept term repeats a word of an earlier one."""

from __future__ import annotations

import pandas as pd

from .settings import ThemeSettings
from .stop_words import stop_words_of

#: a keyword (and a label) must have been said by this many of the theme's speakers
MIN_SPEAKERS = 2


def make_vectorizer(settings: ThemeSettings, n_docs: int, ngram_range=(1, 2)):
    """The ``CountVectorizer`` of keywords: words of two letters or more, the group's stop
    list (:func:`~helpers.themes.stop_words.stop_words_of`) left out."""
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(stop_words=sorted(stop_words_of(settings)), ngram_range=ngram_range, min_df=1,
                           token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")


def distinct_words(order, vocabulary, limit: int) -> list[int]:
    """The first ``limit`` terms of ``order`` (indices into ``vocabulary``) that share no
    word with an earlier one kept and repeat no word themselves: after "car park", neither
    "park" nor "car park cried"; never "quicker quicker"."""
    kept, used = [], set()
    for j in order:
        words = str(vocabulary[j]).split()
        if len(set(words)) < len(words) or used.intersection(words):
            continue
        kept.append(int(j))
        used.update(words)
        if len(kept) == limit:
            break
    return kept


def speaker_keys(segments: pd.DataFrame) -> list[str]:
    """Who said each segment: focus group and speaker (the same label in two focus groups
    is two people)."""
    return (segments["focus_group"].astype(str) + "/" + segments["speaker"].astype(str)).tolist()
