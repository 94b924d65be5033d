"""A theme's label: the candidate phrases of its talk, the one that points at its own theme
rather than the group's others, and the fallback made of its keywords."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from .words import MIN_SPEAKERS, distinct_words

#: candidate label phrases per theme that are embedded (the most frequent-and-distinctive)
N_CANDIDATE_PHRASES = 40

_TOKEN = re.compile(r"[a-z][a-z’']*[a-z]|[a-z]")


def candidate_phrases(docs: list[str], topics: np.ndarray, speakers: list[str], stop_words: frozenset[str],
                      limit: int = N_CANDIDATE_PHRASES) -> dict[int, list[str]]:
    """Each theme's candidate labels: phrases of one to three words of its talk that start
    and end on a content word of three letters or more (``"the waiting room"`` gives
    ``"waiting room"``; ``"remembered my name"`` stays; ``"i'm not"`` does not count), said
    in at least two of its segments by at least two of its speakers (all of them when it has
    fewer). The ``limit`` most frequent-and-distinctive are kept: frequency in the theme
    times log(1 + mean phrase count per theme / count in the group), c-TF-IDF over phrases.
    Repeated texts are read once; ties go to the alphabetically first."""
    count: dict[int, Counter] = {}
    segments_with: dict[int, Counter] = {}
    voices: dict[tuple[int, str], set] = {}
    seen = set()
    for doc, topic, who in zip(docs, np.asarray(topics).tolist(), speakers):
        key = (" ".join(str(doc).lower().split()), topic)
        if key in seen:
            continue
        seen.add(key)
        tokens = _TOKEN.findall(str(doc).lower().replace("’", "'"))
        here = set()
        for n in (1, 2, 3):
            for i in range(len(tokens) - n + 1):
                gram = tokens[i:i + n]
                if len(set(gram)) < n or any(w in stop_words or "'" in w or len(w) < 3 for w in (gram[0], gram[-1])):
                    continue
                here.add(" ".join(gram))
        count.setdefault(topic, Counter()).update(here)
        segments_with.setdefault(topic, Counter()).update(here)
        for phrase in here:
            voices.setdefault((topic, phrase), set()).add(str(who))
    total: Counter = Counter()
    for c in count.values():
        total.update(c)
    mean_per_theme = sum(total.values()) / max(len(count), 1)
    out = {}
    for topic in sorted(set(np.asarray(topics).tolist())):
        c = count.get(topic, Counter())
        n_voices = len({str(w) for w, t in zip(speakers, np.asarray(topics).tolist()) if t == topic})
        needed = min(MIN_SPEAKERS, n_voices)
        size = max(sum(c.values()), 1)
        scored = sorted((-(c[p] / size) * np.log(1 + mean_per_theme / total[p]), p) for p in c
                        if segments_with[topic][p] >= 2 and len(voices[(topic, p)]) >= needed)
        out[topic] = [p for _, p in scored[:limit]]
    return out


def theme_centres(embeddings: np.ndarray, topics: np.ndarray) -> np.ndarray:
    """Each theme's centre: the normalised mean of its members' (normalised) embeddings."""
    x = np.asarray(embeddings, dtype=np.float64)
    x = x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-12)
    k = int(np.max(topics)) + 1
    centres = np.vstack([x[topics == t].mean(axis=0) for t in range(k)])
    return centres / (np.linalg.norm(centres, axis=1, keepdims=True) + 1e-12)


def margins(vectors: np.ndarray, centres: np.ndarray, topic: int) -> np.ndarray:
    """How much closer each vector is to theme ``topic``'s centre than to the nearest other
    theme's centre (cosine; above 0: nearest to its own theme)."""
    similarity = np.asarray(vectors, dtype=np.float64) @ centres.T
    own = similarity[:, topic]
    if centres.shape[0] < 2:
        return own
    others = np.delete(similarity, topic, axis=1).max(axis=1)
    return own - others


def choose_labels(candidates: dict[int, list[str]], centres: np.ndarray, embed) -> dict[int, str]:
    """Each theme's label: of its candidate phrases, the one closest to its own centre
    relative to the group's other themes (:func:`margins`), sharing no word with a label
    already given in the group (themes are labelled largest first); "" when none is left.
    ``embed``: texts → normalised vectors (the project's model)."""
    labels, used = {}, set()
    for topic in sorted(candidates):
        phrases = [p for p in candidates[topic] if not used.intersection(p.split())]
        if not phrases:
            labels[topic] = ""
            continue
        score = margins(embed(phrases), centres, topic)
        best = phrases[int(np.argmax(score))]  # ties: the earlier, more distinctive phrase
        labels[topic] = best
        used.update(best.split())
    return labels


def nearest_theme(texts: list[str], centres: np.ndarray, embed) -> np.ndarray:
    """The theme whose centre is nearest to each text (embedded with ``embed``)."""
    if not texts:
        return np.zeros(0, dtype=int)
    return np.argmax(np.asarray(embed(texts), dtype=np.float64) @ centres.T, axis=1)


def label_from_keywords(keywords: list[str], n: int = 3) -> str:
    """A provisional label: the first keywords that share no word with an earlier one
    (the rule of :func:`distinct_words`, so "quicker everybody" never follows "everybody quicker")."""
    picked = [keywords[i] for i in distinct_words(range(len(keywords)), keywords, n)]
    return " / ".join(picked) if picked else "(no distinctive words)"


def readable_label(phrase: str, keywords: list[str]) -> str:
    """The label shown: the chosen phrase, else the first keywords that do not repeat
    each other."""
    return phrase or label_from_keywords(keywords)
