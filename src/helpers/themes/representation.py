"""A group's themes in words (step 4 of :mod:`helpers.themes`): the keywords of a BERTopic
model fitted in manual mode on the consensus themes, and a label per theme.

Importing this module does not import BERTopic (and with it torch): :func:`describe` does,
when it first fits themes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .labels import candidate_phrases, choose_labels, readable_label, theme_centres
from .settings import ThemeSettings
from .stop_words import stop_words_of
from .words import make_vectorizer


@dataclass
class Description:
    """A group's themes in words: the fitted BERTopic model (None when the talk holds no
    word outside the stop lists), keywords and labels per theme, and the themes' c-TF-IDF
    rows (themes × words, for the merge tree)."""

    model: object | None
    keywords: dict[int, list[str]]
    labels: dict[int, str]
    weights: np.ndarray


def describe(docs: list[str], embeddings: np.ndarray, topics: np.ndarray, speakers: list[str] | None,
             settings: ThemeSettings, with_labels: bool = True) -> Description:
    """Keywords and labels of themes ``topics`` (0..k-1) by a BERTopic model fitted in
    manual mode on them (:mod:`helpers.themes.bertopic_model`): c-TF-IDF, KeyBERTInspired, words said
    by two or more of a theme's speakers, maximal marginal relevance. Each label is the
    candidate phrase of the theme's talk nearest its own centre relative to the group's
    other themes, distinct within the group. ``speakers``: who said each segment (each
    segment its own speaker when not given)."""
    from . import bertopic_model as M

    k = int(np.max(topics)) + 1 if len(topics) else 0
    speakers = [str(s) for s in speakers] if speakers is not None else [str(i) for i in range(len(docs))]
    try:
        model = M.build_model(docs, embeddings, topics, speakers, make_vectorizer(settings, len(docs)), settings.seed,
                              settings.top_n_words, settings.embedding_model)
    except ValueError as exc:  # nothing but stop words: no vocabulary to describe the themes by
        if "empty vocabulary" not in str(exc):
            raise
        return Description(None, {t: [] for t in range(k)}, {t: readable_label("", []) for t in range(k)},
                           np.zeros((k, 0)))
    keywords = M.keywords_of(model)
    keywords = {t: keywords.get(t, []) for t in range(k)}
    labels = {t: readable_label("", keywords[t]) for t in range(k)}
    if with_labels:
        candidates = candidate_phrases(docs, topics, speakers, stop_words_of(settings))
        chosen = choose_labels(candidates, theme_centres(embeddings, topics), model.embedding_model.embed)
        labels = {t: readable_label(chosen.get(t, ""), keywords[t]) for t in range(k)}
        model.set_topic_labels({t: labels[t] for t in range(k)})
    return Description(model, keywords, labels, np.asarray(model.c_tf_idf_.todense()))
