"""One participant group's themes: the procedure's k cut from the whole-group tree, a
workshop's themes kept, second themes and uncertain places, the themes put into words, and
how they merge (the hierarchy BERTopic's ``hierarchical_topics`` builds)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .consensus import (Consensus, consensus_themes, distinct_texts, relabel_by_size, second_themes, theme_consensus,
                        theme_procedure, with_each_theme)
from .representation import describe
from .settings import NO_THEME, ThemeSettings, run_seed, theme_id

#: Below this many segments a group's themes are a starting point for reading, not a finding.
SMALL_GROUP = 100


@dataclass
class GroupFit:
    """The result of one participant group's procedure."""

    group: str
    method: str
    topics: np.ndarray            # primary theme per segment (0..k-1, by size)
    secondary: np.ndarray         # second theme per segment, or NO_THEME
    uncertain: np.ndarray         # bool: sat with its own theme's members in under half the runs
    keywords: dict[int, list[str]]
    labels: dict[int, str]
    consensus_by_theme: dict[int, float]
    hierarchy: pd.DataFrame
    settings: ThemeSettings
    consensus: Consensus | None = None
    notes: list[str] = field(default_factory=list)
    caveat: str = ""
    model: object | None = None   # the group's fitted BERTopic model (helpers.themes.bertopic_model)


def anchored_topics(topics: np.ndarray, anchors: list[str]) -> tuple[np.ndarray, int, int]:
    """Themes a workshop saw, kept: ``(topics, kept, joined)``.

    ``anchors`` names, per segment, the workshop theme the segment was in when the room saw
    it ("" for segments it did not see: new or corrected talk, or themes it did not pin).
    Every anchored segment keeps its workshop theme. Every other segment joins the workshop
    theme that holds most of the anchored members of its own theme in this fit, so new talk
    goes where this run's clustering puts its neighbours; a theme of this fit with no
    anchored member stays a theme of its own (talk the workshop did not see, e.g. from a new
    focus group). Labels are numbered by size afterwards."""
    names = sorted({a for a in anchors if a})
    index = {a: i for i, a in enumerate(names)}
    out = np.array([index.get(a, -1) for a in anchors], dtype=int)
    anchored = out >= 0
    joined = 0
    for t in np.unique(topics[~anchored]):
        members = ~anchored & (topics == t)
        seen = out[anchored & (topics == t)]
        if len(seen):
            out[members] = int(np.bincount(seen).argmax())  # ties: the first workshop theme by name
            joined += int(members.sum())
        else:
            out[members] = len(index) + int(t)               # a theme of this fit the workshop did not see
    return relabel_by_size(out), int(anchored.sum()), joined


def fit_group(docs: list[str], embeddings: np.ndarray, group: str, settings: ThemeSettings,
              runs: list[np.ndarray] | None = None, speakers: list[str] | None = None,
              anchors: list[str] | None = None) -> GroupFit:
    """One participant group's consensus themes (``runs``: the group's runs of
    :func:`theme_procedure`, computed here when not given; ``speakers``: who said each
    segment, for the keywords' rule of two voices; ``anchors``: per segment, the workshop
    theme it was in, kept by :func:`anchored_topics`)."""
    n = len(docs)
    n_distinct = len(distinct_texts(docs)[2])
    caveat = (f"a small group ({n} segments): its themes are a starting point for reading, not a finding"
              if n < SMALL_GROUP else "")
    if n_distinct < 4:
        topics = np.zeros(n, dtype=int)
        words = describe(docs, embeddings, topics, speakers, settings)
        return GroupFit(group, "single theme (fewer than 4 distinct segments)", topics, np.full(n, NO_THEME),
                        np.zeros(n, dtype=bool), words.keywords, words.labels, {0: 1.0},
                        relabel_hierarchy(pd.DataFrame(), {}, group), settings, None,
                        ["too few segments to cluster"], f"only {n_distinct} distinct segments: one theme, not clustered",
                        words.model)
    if runs is None:
        runs = [theme_procedure(embeddings, docs, settings, run_seed(settings.seed, r)) for r in range(settings.n_runs)]
    reference = theme_procedure(embeddings, docs, settings)
    consensus = consensus_themes(reference, runs, docs, settings)
    topics = relabel_by_size(reference[consensus.candidates.index(consensus.k)].astype(int))
    anchor_note = ""
    if anchors is not None and any(anchors):
        topics, kept, joined = anchored_topics(topics, anchors)
        anchor_note = (f"the themes the workshop saw are kept: {kept} segments it saw keep their theme, {joined} "
                       "others joined the workshop theme holding most of their neighbours in this fit")
    consensus.labels = topics[consensus.rows]
    with_theme = with_each_theme(consensus, embeddings, docs)
    secondary = second_themes(topics, with_theme, settings.secondary_min)
    uncertain = with_theme[np.arange(n), topics] < 0.5
    words = describe(docs, embeddings, topics, speakers, settings)
    k = int(topics.max()) + 1  # a workshop's kept themes plus any of talk it did not see
    own = replace(settings, fixed_k=None).candidates(n_distinct)
    chosen = (f"{k} themes, fixed (the most stable of {own[0]}–{own[-1]} would be {consensus.chosen_k}"
              if consensus.chosen_k != consensus.k else f"{k} themes (the most stable of {own[0]}–{own[-1]}")
    method = (f"Ward clustering of the embeddings, {chosen} over {settings.n_runs} resampled runs); keywords and "
              "labels by a BERTopic model of the themes (c-TF-IDF, KeyBERTInspired, MMR)")
    notes = [f"{n - n_distinct} repeated texts fitted once each"] if n_distinct < n else []
    if consensus.note:
        notes.append(consensus.note)
    if anchor_note:
        notes.append(anchor_note)
    hierarchy = relabel_hierarchy(merge_tree(words.weights) if k >= 3 else pd.DataFrame(), {t: t for t in range(k)},
                                   group)
    return GroupFit(group, method, topics, secondary, uncertain, words.keywords, words.labels,
                    theme_consensus(consensus), hierarchy, settings, consensus, notes, caveat, words.model)


def merge_tree(weights: np.ndarray) -> pd.DataFrame:
    """How a group's themes merge: Ward linkage of one minus the cosine similarity of the
    themes' c-TF-IDF rows (``weights``), the hierarchy BERTopic's ``hierarchical_topics``
    builds, with its node ids (merge i is node k + i). Tied merge distances are nudged
    apart deterministically, so reruns give the same tree.
    """
    from scipy.cluster import hierarchy as sch
    from scipy.spatial.distance import squareform
    from sklearn.metrics.pairwise import cosine_similarity

    rows = np.asarray(weights)
    if rows.shape[1] == 0:  # talk of nothing but stop words: no words to compare themes by
        return pd.DataFrame()
    distances = 1 - cosine_similarity(rows)
    np.fill_diagonal(distances, 0)
    linkage = sch.linkage(np.clip(squareform(distances, checks=False), 0, None), "ward", optimal_ordering=True)
    for i in range(1, len(linkage)):
        if linkage[i, 2] <= linkage[i - 1, 2]:
            linkage[i, 2] = np.nextafter(linkage[i - 1, 2], np.inf)
    n = rows.shape[0]
    records = []
    for index, (left, right, distance, _) in enumerate(linkage):
        clusters = sch.fcluster(linkage, t=distance, criterion="distance")
        leaf = int(left)
        while leaf >= n:  # follow the left branch down to one of the merged themes
            leaf = int(linkage[leaf - n][0])
        members = [t for t, c in enumerate(clusters) if c == clusters[leaf]]
        records.append({"Parent_ID": index + n, "Child_Left_ID": int(left), "Child_Right_ID": int(right),
                        "Distance": float(distance), "Topics": members})
    return pd.DataFrame(records).sort_values("Parent_ID", ascending=False)


def relabel_hierarchy(hierarchy: pd.DataFrame, mapping: dict[int, int], group: str) -> pd.DataFrame:
    """The merge tree with theme ids at the leaves (``mapping``: leaf node → theme index)."""
    if hierarchy.empty:
        return pd.DataFrame(columns=["participant_group", "parent", "left", "right", "distance", "leaves"])

    def name(node) -> str:
        node = int(node)
        return theme_id(group, mapping[node]) if node in mapping and node != NO_THEME else f"{group}:N{node:03d}"

    rows = []
    for r in hierarchy.sort_values("Distance").itertuples(index=False):
        rows.append({"participant_group": group, "parent": name(r.Parent_ID), "left": name(r.Child_Left_ID),
                     "right": name(r.Child_Right_ID), "distance": float(r.Distance),
                     "leaves": ";".join(theme_id(group, mapping[int(t)]) for t in sorted(r.Topics) if int(t) in mapping)})
    return pd.DataFrame(rows)


def theme_caveat(fit: GroupFit, t: int, share: float) -> str:
    """What a reader must know about theme ``t`` (``share``: its share of the group): a small
    group, a theme over the size limit and why, an unstable theme."""
    parts = [fit.caveat] if fit.caveat else []
    if share > fit.settings.max_share and fit.consensus is not None and fit.consensus.note:
        parts.append(f"holds {share:.0%} of the group: {fit.consensus.note}")
    if fit.consensus_by_theme.get(t, 1.0) < fit.settings.unstable_below:
        parts.append(f"unstable: its members shared a theme in {fit.consensus_by_theme[t]:.0%} of runs "
                     f"(below {fit.settings.unstable_below:.0%}); read its quotes before naming it")
    return "; ".join(parts)
