"""Do a group's labels and keywords point at their themes? The table ``make validity``
reports (benchmarks/validity.py); it embeds with the project's model, so importing this
module imports BERTopic."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from .bertopic_model import encoder
from .labels import nearest_theme, theme_centres
from .stop_words import stop_words_of, with_speaker_stop_words
from .words import MIN_SPEAKERS, make_vectorizer, speaker_keys


def word_checks(themes: pd.DataFrame, assignments: pd.DataFrame, segments: pd.DataFrame, embeddings: np.ndarray,
                settings) -> pd.DataFrame:
    """Do a group's labels and keywords point at their themes? One row per group:

    * ``label_to_theme``: the share of its themes whose label, embedded with the project's
      model, is nearest to that theme's centre among the group's theme centres;
    * ``keywords_to_theme``: the same for the keyword list (the keywords joined);
    * ``duplicate_labels``: labels given to two themes of the group;
    * ``filler_keywords``: keywords holding a word of the stop lists;
    * ``keywords_one_voice``: keywords of a theme with two or more speakers said by fewer
      than two of them (said: among the terms the keyword vectorizer reads in a segment).

    ``settings``: the :class:`helpers.themes.ThemeSettings` the themes were made with."""
    embed = encoder(settings.embedding_model).embed
    merged = assignments.merge(segments[["segment_id", "text", "focus_group", "speaker"]], on="segment_id")
    position = {s: i for i, s in enumerate(segments["segment_id"])}
    rows = []
    for group, own in themes.groupby("participant_group", sort=False):
        own = own.reset_index(drop=True)
        members = merged[merged["participant_group"] == group]
        ids = own["theme_id"].tolist()
        topics = members["theme_id"].map({t: i for i, t in enumerate(ids)}).to_numpy()
        centres = theme_centres(embeddings[[position[s] for s in members["segment_id"]]], topics)
        labels = own["label"].fillna("").astype(str).tolist()
        keywords = [[w for w in str(k).split("; ") if w] for k in own["keywords"].fillna("")]
        label_hits = nearest_theme(labels, centres, embed) == np.arange(len(ids))
        keyword_hits = nearest_theme([", ".join(k) for k in keywords], centres, embed) == np.arange(len(ids))
        filler, one_voice = [], []
        who = np.array(speaker_keys(members))
        group_settings = with_speaker_stop_words(members, settings)
        analyzer = make_vectorizer(group_settings, len(members)).build_analyzer()
        stop_words = stop_words_of(group_settings)
        for t, words in enumerate(keywords):
            terms = [set(analyzer(str(x))) for x in members["text"][topics == t]]
            voices = who[topics == t]
            for word in words:
                if stop_words.intersection(word.split()):
                    filler.append(f"{ids[t]}: {word}")
                said = {v for v, said_terms in zip(voices, terms) if word in said_terms}
                if len(set(voices)) >= MIN_SPEAKERS and len(said) < MIN_SPEAKERS:
                    one_voice.append(f"{ids[t]}: {word}")
        counts = Counter(labels)
        rows.append({"participant_group": group, "themes": len(ids),
                     "label_to_theme": float(np.mean(label_hits)) if len(ids) else float("nan"),
                     "keywords_to_theme": float(np.mean(keyword_hits)) if len(ids) else float("nan"),
                     "labels_off_theme": "; ".join(f"{ids[t]}: {labels[t]}" for t in np.flatnonzero(~label_hits)),
                     "duplicate_labels": "; ".join(sorted(label for label, c in counts.items() if c > 1)),
                     "filler_keywords": "; ".join(filler), "keywords_one_voice": "; ".join(one_voice)})
    return pd.DataFrame(rows)
