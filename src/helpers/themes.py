"""Independent thematic analysis per participant group (stage 4 of the process model).

In the study each participant group's data set was analysed on its own before the groups
met; here each group gets its own BERTopic model. BERTopic is a pipeline of swappable
steps — embed, reduce, cluster, represent — and this module keeps that shape: every step
is built by one small function from :class:`ThemeSettings`, scaled to the size of the
group, so a group of 150 segments and one of 5,000 both get sensible themes.

What comes out are *candidate* themes (Braun & Clarke's "searching for themes"): the
workshops of stage 5 review, merge, name and define them.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ._workers import n_workers, stop_workers, submit
from .embeddings import BACKCHANNEL_WORDS

#: Words that say nothing about a theme in transcribed talk: fillers, hedges, annotation
#: words, and generic verbs. Added to scikit-learn's English stop words.
TRANSCRIPT_STOP_WORDS = frozenset("""
um umm er erm uh ah oh mm mmm mhm hmm yeah yep yes no okay ok like know mean just really
actually basically literally kind sort bit lot lots thing things stuff got get gets getting
go goes going gone went come comes coming came say says said saying tell told think thought
feel felt want wanted need needed way ve ll re don didn doesn isn wasn aren weren couldn
wouldn shouldn ain gonna wanna gotta laughs laughter crosstalk inaudible pause sighs coughs
overlapping right well quite maybe probably definitely absolutely exactly yeah mean guess
does did do make makes made let lets day days time times people person years year
""".split()) | BACKCHANNEL_WORDS

OUTLIER = -1
logging.getLogger("BERTopic").setLevel(logging.ERROR)


@dataclass(frozen=True)
class ThemeSettings:
    """Knobs of the per-group theme model; :meth:`scaled` fits them to a group's size."""

    seed: int = 20200
    n_neighbors: int = 15
    n_components: int = 5
    min_cluster_size: int = 10
    min_samples: int = 3
    max_themes: int = 12
    top_n_words: int = 10
    min_df: int = 2
    #: below this many segments density clustering is unreliable: use agglomerative
    min_segments_for_density: int = 40
    n_quotes: int = 5
    #: e.g. speaker pseudonyms: names say who spoke, not what the theme is about
    extra_stop_words: tuple[str, ...] = ()

    def scaled(self, n_segments: int) -> "ThemeSettings":
        """Settings for a group of ``n_segments``: neighbourhoods and minimum theme size
        grow with the data (about 1/40 of the segments, 6–150), so themes stay a
        similar share of the talk whatever the corpus size. Neighbourhoods stop growing
        at 30: UMAP's cost grows with them, and 30 neighbours already give large
        groups a smooth manifold."""
        n = max(n_segments, 2)
        return replace(
            self,
            n_neighbors=int(np.clip(round(math.sqrt(n)), 5, 30)),
            min_cluster_size=int(np.clip(round(n / 40), 6, 150)),
            min_samples=int(np.clip(round(n / 150), 2, 25)),
            min_df=1 if n < 200 else 2,
        )


# --------------------------------------------------------------------------- the steps

def make_reducer(settings: ThemeSettings, n_segments: int):
    from ._numba import cache_compiled_umap

    cache_compiled_umap()  # compile UMAP once per machine, not once per process
    from umap import UMAP

    return UMAP(n_neighbors=min(settings.n_neighbors, max(n_segments - 1, 2)),
                n_components=min(settings.n_components, max(n_segments - 2, 1)),
                min_dist=0.0, metric="cosine", random_state=settings.seed, n_jobs=1, low_memory=True)


def make_density_clusterer(settings: ThemeSettings):
    from hdbscan import HDBSCAN

    return HDBSCAN(min_cluster_size=settings.min_cluster_size, min_samples=settings.min_samples,
                   metric="euclidean", cluster_selection_method="eom", prediction_data=True)


def n_fallback_clusters(n_segments: int) -> int:
    """How many themes to ask of agglomerative clustering on a small group."""
    return int(np.clip(round(math.sqrt(n_segments / 2)), 2, 8))


def make_vectorizer(settings: ThemeSettings, n_docs: int):
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    stop = sorted(ENGLISH_STOP_WORDS | TRANSCRIPT_STOP_WORDS | set(settings.extra_stop_words))
    return CountVectorizer(stop_words=stop, ngram_range=(1, 2), min_df=min(settings.min_df, max(n_docs, 1)),
                           token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")


def make_representation(settings: ThemeSettings):
    """Keywords: c-TF-IDF candidates re-ranked for diversity (maximal marginal relevance).

    KeyBERTInspired was tried first; on short spoken segments it favours words close to
    every theme ("patients", "good"), so the labels said little."""
    from bertopic.representation import MaximalMarginalRelevance

    return MaximalMarginalRelevance(diversity=0.3, top_n_words=settings.top_n_words)


def make_ctfidf():
    from bertopic.vectorizers import ClassTfidfTransformer

    # Damp words frequent in every theme of the group (e.g. "patients").
    return ClassTfidfTransformer(reduce_frequent_words=True)


# --------------------------------------------------------------------------- one group

@dataclass
class GroupFit:
    """The result of one participant group's theme model."""

    group: str
    method: str
    topics: np.ndarray            # topic per segment after outlier reassignment (0..k-1)
    raw_topics: np.ndarray        # before reassignment (-1 = outlier)
    keywords: dict[int, list[str]]
    hierarchy: pd.DataFrame
    outlier_share: float
    settings: ThemeSettings
    notes: list[str] = field(default_factory=list)


def _relabel_by_size(topics: np.ndarray) -> tuple[np.ndarray, dict[int, int]]:
    """Renumber topics 0..k-1 by decreasing size (ties by first appearance): stable ids."""
    real = [t for t in topics if t != OUTLIER]
    order = sorted(set(real), key=lambda t: (-real.count(t), real.index(t)))
    mapping = {old: new for new, old in enumerate(order)}
    mapping[OUTLIER] = OUTLIER
    return np.array([mapping[t] for t in topics]), mapping


def nearest_centroid(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Give each outlier (-1) the theme whose centroid is most similar (cosine)."""
    labels = labels.copy()
    real = sorted(set(labels) - {OUTLIER})
    if not real or OUTLIER not in labels:
        return labels
    centroids = np.vstack([embeddings[labels == t].mean(axis=0) for t in real])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True) + 1e-12
    out = labels == OUTLIER
    labels[out] = np.array(real)[np.argmax(embeddings[out] @ centroids.T, axis=1)]
    return labels


def cluster_labels(embeddings: np.ndarray, settings: ThemeSettings) -> tuple[np.ndarray, str]:
    """The clustering steps alone (reduce + cluster), as used by stability refits."""
    n = len(embeddings)
    if n < 4:
        return np.zeros(n, dtype=int), "single theme (fewer than 4 segments)"
    if n >= settings.min_segments_for_density:
        reduced = make_reducer(settings, n).fit_transform(embeddings)
        labels = make_density_clusterer(settings).fit(reduced).labels_
        if len(set(labels) - {OUTLIER}) >= 2:
            return labels.astype(int), "bertopic (umap + hdbscan)"
    from sklearn.cluster import AgglomerativeClustering

    k = n_fallback_clusters(n)
    labels = AgglomerativeClustering(n_clusters=k, metric="cosine", linkage="average").fit(embeddings).labels_
    return labels.astype(int), f"agglomerative (k={k})"


def fit_group(docs: list[str], embeddings: np.ndarray, group: str, settings: ThemeSettings,
              backend=None) -> GroupFit:
    """Fit one participant group's theme model; falls back to agglomerative clustering on
    groups too small for density clustering, or when density clustering finds < 2 themes."""
    from bertopic import BERTopic
    from bertopic.dimensionality import BaseDimensionalityReduction
    from sklearn.cluster import AgglomerativeClustering

    n = len(docs)
    settings = settings.scaled(n)
    notes: list[str] = []
    if n < 4:
        topics = np.zeros(n, dtype=int)
        words = _ctfidf_words(docs, topics, settings)
        return GroupFit(group, "single theme (fewer than 4 segments)", topics, topics.copy(), words,
                        pd.DataFrame(), 0.0, settings, ["too few segments to cluster"])

    def build(umap_model, cluster_model):
        return BERTopic(embedding_model=backend, umap_model=umap_model, hdbscan_model=cluster_model,
                        vectorizer_model=make_vectorizer(settings, n), representation_model=make_representation(settings),
                        ctfidf_model=make_ctfidf(), top_n_words=settings.top_n_words, calculate_probabilities=False, verbose=False)

    raw = None
    if n >= settings.min_segments_for_density:
        model = build(make_reducer(settings, n), make_density_clusterer(settings))
        raw = np.array(model.fit_transform(docs, embeddings)[0])
        if len(set(raw) - {OUTLIER}) < 2:
            notes.append("density clustering found fewer than two themes; fell back to agglomerative clustering")
            raw = None
        method = "bertopic (umap + hdbscan)"
    else:
        notes.append(f"{n} segments is too few for density clustering; used agglomerative clustering")
    if raw is None:
        k = n_fallback_clusters(n)
        model = build(BaseDimensionalityReduction(), AgglomerativeClustering(n_clusters=k, metric="cosine", linkage="average"))
        raw = np.array(model.fit_transform(docs, embeddings)[0])
        method = f"bertopic (agglomerative, k={k})"

    outlier_share = float(np.mean(raw == OUTLIER))
    topics = raw
    if outlier_share > 0:
        topics = np.array(model.reduce_outliers(docs, list(raw), strategy="embeddings", embeddings=embeddings))
        model.update_topics(docs, topics=list(topics), vectorizer_model=make_vectorizer(settings, n),
                            ctfidf_model=make_ctfidf(), representation_model=make_representation(settings), top_n_words=settings.top_n_words)
    if len(set(topics)) > settings.max_themes:
        model.reduce_topics(docs, nr_topics=settings.max_themes)
        topics = np.array(model.topics_)
        notes.append(f"reduced to {settings.max_themes} themes")

    hierarchy = merge_tree(model) if len(set(topics)) >= 3 else pd.DataFrame()
    keywords = {t: [w for w, _ in (model.get_topic(t) or []) if w][: settings.top_n_words] for t in set(topics)}
    relabelled, mapping = _relabel_by_size(topics)
    keywords = {mapping[t]: words for t, words in keywords.items() if t != OUTLIER}
    hierarchy = _relabel_hierarchy(hierarchy, mapping, group)
    return GroupFit(group, method, relabelled, raw, keywords, hierarchy, outlier_share, settings, notes)


def merge_tree(model) -> pd.DataFrame:
    """How a fitted model's themes merge: BERTopic's topic hierarchy (Ward linkage of one
    minus the cosine similarity of the themes' c-TF-IDF rows, merges in the order and
    with the ids of ``hierarchical_topics``), without naming every merge.

    ``hierarchical_topics`` also extracts keywords for each merged node, a cost that
    grows with the corpus (minutes per group at 30,000 segments); nothing here uses
    those names. Tied merge distances are nudged apart deterministically (BERTopic
    adds unseeded noise), so reruns give the same tree.
    """
    from scipy.cluster import hierarchy as sch
    from scipy.spatial.distance import squareform
    from sklearn.metrics.pairwise import cosine_similarity

    rows = model.c_tf_idf_[model._outliers:]
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


def _relabel_hierarchy(hierarchy: pd.DataFrame, mapping: dict[int, int], group: str) -> pd.DataFrame:
    """BERTopic's merge tree with our theme ids at the leaves."""
    if hierarchy.empty:
        return pd.DataFrame(columns=["participant_group", "parent", "left", "right", "distance", "leaves"])

    def name(node) -> str:
        node = int(node)
        return theme_id(group, mapping[node]) if node in mapping and node != OUTLIER else f"{group}:N{node:03d}"

    rows = []
    for r in hierarchy.sort_values("Distance").itertuples(index=False):
        rows.append({"participant_group": group, "parent": name(r.Parent_ID), "left": name(r.Child_Left_ID),
                     "right": name(r.Child_Right_ID), "distance": float(r.Distance),
                     "leaves": ";".join(theme_id(group, mapping[int(t)]) for t in sorted(r.Topics) if int(t) in mapping)})
    return pd.DataFrame(rows)


def _ctfidf_words(docs: list[str], topics: np.ndarray, settings: ThemeSettings) -> dict[int, list[str]]:
    """Most frequent content words per topic (for groups too small for a model)."""
    vec = make_vectorizer(replace(settings, min_df=1), len(docs))
    try:
        counts = vec.fit_transform(docs)
    except ValueError:  # nothing but stop words
        return {int(t): [] for t in set(topics)}
    vocab = np.array(vec.get_feature_names_out())
    out = {}
    for t in sorted(set(topics)):
        freq = np.asarray(counts[topics == t].sum(axis=0)).ravel()
        order = np.argsort(-freq, kind="stable")[: settings.top_n_words]
        out[int(t)] = [str(w) for w in vocab[order][freq[order] > 0]]
    return out


def theme_id(group: str, index: int) -> str:
    return f"{group}:T{index + 1:02d}"


# --------------------------------------------------------------------------- 2-D positions

def project_2d(x: np.ndarray, seed: int, method: str = "auto") -> tuple[np.ndarray, str]:
    """2-D positions of embeddings for a segment map, and the method's name.

    UMAP (cosine, ``random_state=seed``) for 10 or more points when umap is installed,
    else PCA with signs fixed so the picture does not flip between runs."""
    n = len(x)
    if n == 0:
        return np.zeros((0, 2)), "PCA"
    if method in ("auto", "umap") and n >= 10:
        try:
            import umap  # noqa: F401

            from ._numba import cache_compiled_umap
            cache_compiled_umap()
        except ImportError:
            if method == "umap":
                raise
        else:
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reducer = umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), min_dist=0.15, metric="cosine",
                                    random_state=seed, n_jobs=1)
                return np.asarray(reducer.fit_transform(x), dtype=float), "UMAP"
    centred = x - x.mean(axis=0)
    if n == 1 or not np.any(centred):
        return np.zeros((n, 2)), "PCA"
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    coords = u[:, :2] * s[:2]
    signs = np.sign(vt[:2][np.arange(min(2, len(vt))), np.argmax(np.abs(vt[:2]), axis=1)])
    coords = coords * np.where(signs == 0, 1, signs)
    if coords.shape[1] < 2:
        coords = np.column_stack([coords, np.zeros(n)])
    return coords, "PCA"


#: A segment map shows at most this many segments of a group (a fixed random sample):
#: more points only overplot, and the projection's cost grows with them.
MAP_MAX_SEGMENTS = 5000


def segment_map(segments: pd.DataFrame, embeddings: np.ndarray, groups, seed: int,
                method: str = "auto", max_segments: int = MAP_MAX_SEGMENTS) -> pd.DataFrame:
    """segment_map.parquet: 2-D positions of a group's segments (all of them, or a fixed
    random sample of ``max_segments`` in larger groups), in segments.parquet order.

    Computed in notebook 04, beside the theme models that already loaded UMAP, so the
    maps notebook only draws."""
    parts = []
    rng = np.random.default_rng(seed)
    for group in groups:
        rows = np.flatnonzero((segments["participant_group"] == group).to_numpy())
        if len(rows) > max_segments:
            rows = np.sort(rng.choice(rows, size=max_segments, replace=False))
        xy, used = project_2d(np.asarray(embeddings[rows], dtype=float), seed, method)
        parts.append(pd.DataFrame({"segment_id": segments["segment_id"].to_numpy()[rows],
                                   "participant_group": group, "x": xy[:, 0], "y": xy[:, 1], "projection": used}))
    columns = ["segment_id", "participant_group", "x", "y", "projection"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


# --------------------------------------------------------------------------- quotes and tables

def pick_quotes(members: pd.DataFrame, member_embeddings: np.ndarray, n_quotes: int = 5) -> pd.DataFrame:
    """Representative quotes: closest to the theme's centroid, spread over speakers.

    Prefers segments of 12–70 words (long enough to mean something, short enough to read
    on a card) and takes no second quote from a speaker until every speaker has one.
    """
    if members.empty:
        return members
    centroid = member_embeddings.mean(axis=0)
    centroid /= np.linalg.norm(centroid) + 1e-12
    scores = member_embeddings @ centroid
    readable = members["n_words"].between(12, 70).to_numpy()
    ranked = members.assign(_score=scores + 0.5 * readable).sort_values(["_score", "segment_id"], ascending=[False, True])
    chosen, used = [], set()
    speakers = set(zip(ranked["focus_group"], ranked["speaker"]))
    for row in ranked.itertuples():
        who = (row.focus_group, row.speaker)
        if who in used and len(used) < len(speakers):
            continue
        chosen.append(row.Index)
        used.add(who)
        if len(chosen) >= n_quotes:
            break
    if len(chosen) < min(n_quotes, len(ranked)):
        rest = [i for i in ranked.index if i not in chosen]
        chosen += rest[: min(n_quotes, len(ranked)) - len(chosen)]
    return members.loc[chosen]


def quotes_of(row) -> list[str]:
    """The non-empty ``quote_1``, ``quote_2``, … cells of a group_themes.csv row, in order."""
    from ._io import cell_text

    keys = sorted((k for k in row.keys() if str(k).startswith("quote_") and str(k)[6:].isdigit()),
                  key=lambda k: int(str(k)[6:]))
    return [cell_text(row[k]) for k in keys if cell_text(row[k])]


def format_quote(row) -> str:
    return f"“{row.text}” ({row.speaker}, {row.focus_group})"


def label_from_keywords(keywords: list[str], n: int = 3) -> str:
    """A provisional label: the first keywords that do not repeat each other."""
    picked: list[str] = []
    for word in keywords:
        if any(word in p or p in word for p in picked):
            continue
        picked.append(word)
        if len(picked) == n:
            break
    return " / ".join(picked) if picked else "(no distinctive words)"


@dataclass
class GroupThemes:
    """The stage's three tables."""

    themes: pd.DataFrame        # group_themes.csv
    assignments: pd.DataFrame   # theme_assignments.parquet
    hierarchy: pd.DataFrame     # theme_hierarchy.csv
    fits: dict[str, GroupFit]

    @property
    def notes(self) -> pd.DataFrame:
        """What each group's model had to do differently (fallbacks, reductions)."""
        return pd.DataFrame([{"participant_group": g, "note": n} for g, fit in self.fits.items() for n in fit.notes],
                            columns=["participant_group", "note"])


def with_speaker_stop_words(segments: pd.DataFrame, settings: ThemeSettings) -> ThemeSettings:
    """Pseudonyms say who spoke, not what about: keep them out of keywords and labels."""
    names = {w.lower() for s in segments["speaker"].unique() for w in re.findall(r"[A-Za-z]+", str(s))}
    return replace(settings, extra_stop_words=tuple(sorted(set(settings.extra_stop_words) | names)))


def analyse_groups(segments: pd.DataFrame, embeddings: np.ndarray, groups: list[str],
                   settings: ThemeSettings = ThemeSettings(), backend=None) -> GroupThemes:
    """One theme model per participant group, fitted on that group's segments only."""
    theme_rows, assign_rows, hierarchies, fits = [], [], [], {}
    settings = with_speaker_stop_words(segments, settings)
    for group in groups:
        mask = (segments["participant_group"] == group).to_numpy()
        seg = segments[mask].reset_index(drop=True)
        emb = embeddings[mask]
        if seg.empty:
            continue
        fit = fit_group(seg["text"].tolist(), emb, group, settings, backend=backend)
        fits[group] = fit
        hierarchies.append(fit.hierarchy)
        for t in sorted(set(fit.topics)):
            idx = np.flatnonzero(fit.topics == t)
            members = seg.iloc[idx]
            quotes = pick_quotes(members, emb[idx], settings.n_quotes)
            row = {
                "participant_group": group,
                "theme_id": theme_id(group, t),
                "label": label_from_keywords(fit.keywords.get(t, [])),
                "keywords": "; ".join(fit.keywords.get(t, [])),
                "n_segments": int(len(members)),
                "n_speakers": int(members[["focus_group", "speaker"]].drop_duplicates().shape[0]),
                "n_focus_groups": int(members["focus_group"].nunique()),
                "share_of_group": round(len(members) / len(seg), 4),
                "method": fit.method,
                "outlier_share_before_reassignment": round(fit.outlier_share, 4),
            }
            for k in range(settings.n_quotes):
                row[f"quote_{k + 1}"] = format_quote(quotes.iloc[k]) if k < len(quotes) else ""
            row["quote_segments"] = ";".join(quotes["segment_id"])
            theme_rows.append(row)
        assign_rows.append(pd.DataFrame({
            "segment_id": seg["segment_id"],
            "participant_group": group,
            "theme_id": [theme_id(group, t) for t in fit.topics],
            "was_outlier": fit.raw_topics == OUTLIER,
        }))
    themes = pd.DataFrame(theme_rows)
    assignments = pd.concat(assign_rows, ignore_index=True) if assign_rows else pd.DataFrame(
        columns=["segment_id", "participant_group", "theme_id", "was_outlier"])
    hierarchy = pd.concat([h for h in hierarchies if not h.empty], ignore_index=True) if any(
        not h.empty for h in hierarchies) else _relabel_hierarchy(pd.DataFrame(), {}, "")
    return GroupThemes(themes, assignments, hierarchy, fits)


# --------------------------------------------------------------------------- quality

def tokenize_for_coherence(docs: list[str]) -> list[set[str]]:
    analyzer = make_vectorizer(ThemeSettings(min_df=1), len(docs)).build_analyzer()
    return [set(analyzer(d)) for d in docs]


def npmi_coherence(top_words: list[str], doc_tokens: list[set[str]]) -> float:
    """Mean normalised PMI of word pairs, from document co-occurrence (range -1..1).

    Words that never occur in the documents are skipped; NaN when fewer than two remain.
    """
    n_docs = len(doc_tokens)
    words = [w for w in top_words if any(w in d for d in doc_tokens)]
    if len(words) < 2 or n_docs == 0:
        return float("nan")
    occurs = {w: np.array([w in d for d in doc_tokens]) for w in words}
    scores = []
    eps = 1e-12
    for i in range(len(words)):
        for j in range(i + 1, len(words)):
            p_i, p_j = occurs[words[i]].mean(), occurs[words[j]].mean()
            p_ij = (occurs[words[i]] & occurs[words[j]]).mean()
            if p_ij == 0:
                scores.append(-1.0)
                continue
            pmi = math.log(p_ij / (p_i * p_j + eps))
            scores.append(pmi / (-math.log(p_ij) + eps) if p_ij < 1 else 1.0)
    return float(np.mean(scores))


def best_match_jaccard(reference: np.ndarray, other: np.ndarray) -> dict[int, float]:
    """For each reference theme, the best Jaccard overlap with any theme of another fit."""
    out = {}
    for t in sorted(set(reference)):
        a = set(np.flatnonzero(reference == t))
        best = 0.0
        for u in set(other):
            b = set(np.flatnonzero(other == u))
            best = max(best, len(a & b) / len(a | b))
        out[int(t)] = best
    return out


def lda_baseline(docs: list[str], n_themes: int, seed: int, settings: ThemeSettings):
    """LDA (scikit-learn) with the same number of themes, on the same segments."""
    from sklearn.decomposition import LatentDirichletAllocation

    vec = make_vectorizer(replace(settings, min_df=1), len(docs))
    counts = vec.fit_transform(docs)
    lda = LatentDirichletAllocation(n_components=max(n_themes, 1), random_state=seed, learning_method="batch")
    doc_topic = lda.fit_transform(counts)
    vocab = np.array(vec.get_feature_names_out())
    words = {t: list(vocab[np.argsort(-lda.components_[t], kind="stable")[: settings.top_n_words]])
             for t in range(lda.n_components)}
    return doc_topic.argmax(axis=1), words


#: Stability refits and the LDA baseline look at most this many segments of a group (a
#: fixed random sample, refitted with settings scaled to the sample): enough to estimate
#: agreement, and it keeps ten refits of a 30,000-segment group to a few minutes.
#: Groups of a focus-group study are far smaller and are used whole.
QUALITY_MAX_SEGMENTS = 2000


@dataclass(frozen=True)
class Refit:
    """One stability refit: which rows of the group it sees and with which seed."""

    kind: str          # "seed" (all sampled rows, another seed) or "bootstrap" (a resample)
    seed: int
    rows: np.ndarray   # row numbers within the group, sorted, unique


def stability_plan(n_docs: int, seed: int, rng: np.random.Generator, n_seeds: int = 5, n_bootstrap: int = 5,
                   max_segments: int = QUALITY_MAX_SEGMENTS) -> tuple[np.ndarray, list[Refit]]:
    """The rows quality is measured on, and the refits: ``n_seeds`` with other seeds on
    those rows, ``n_bootstrap`` on resamples of them (drawn with replacement, compared
    on the rows drawn)."""
    base = np.arange(n_docs)
    if n_docs > max_segments:
        base = np.sort(rng.choice(n_docs, size=max_segments, replace=False))
    refits = [Refit("seed", seed + i + 1, base) for i in range(n_seeds)]
    refits += [Refit("bootstrap", seed + 101 + i, np.unique(rng.choice(base, size=len(base), replace=True)))
               for i in range(n_bootstrap)]
    return base, refits


def _refit_labels(embeddings: np.ndarray, settings: ThemeSettings) -> np.ndarray:
    labels, _ = cluster_labels(embeddings, settings)
    return nearest_centroid(embeddings, labels)


class StabilityRefits:
    """The stability refits of every group, started at once in worker processes.

    A refit needs only the group's embeddings and model settings, not the reference fit,
    so notebook 04 starts them *before* fitting the reference models and the spare cores
    work while the main process fits. :func:`theme_quality` collects them (or starts them
    itself when not given). Each refit has its own seed, so results do not depend on how
    many processes ran them.
    """

    def __init__(self, segments: pd.DataFrame, embeddings: np.ndarray, settings_by_group: dict[str, ThemeSettings],
                 seed: int, n_seeds: int = 5, n_bootstrap: int = 5, n_jobs: int | None = None,
                 max_segments: int = QUALITY_MAX_SEGMENTS):
        self.seed, self.n_seeds, self.n_jobs = seed, n_seeds, n_jobs
        self.settings = dict(settings_by_group)
        self.plans: dict[str, tuple[np.ndarray, list[Refit], list]] = {}
        rng = np.random.default_rng(seed)
        groups = segments["participant_group"].to_numpy()
        for group, settings in self.settings.items():
            emb = embeddings[groups == group]
            base, refits = stability_plan(len(emb), seed, rng, n_seeds, n_bootstrap, max_segments)
            if len(base) < len(emb):  # a sample: refit it as the procedure would fit data of its size
                settings = settings.scaled(len(base))
            futures = [submit(_refit_labels, emb[r.rows], replace(settings, seed=r.seed), n_jobs=n_jobs)
                       for r in refits]
            self.plans[group] = (base, refits, futures)

    @classmethod
    def start(cls, segments: pd.DataFrame, embeddings: np.ndarray, groups, settings: ThemeSettings, seed: int,
              **options) -> "StabilityRefits":
        """Refits for the models :func:`analyse_groups` will fit with ``settings``."""
        settings = with_speaker_stop_words(segments, settings)
        sizes = segments["participant_group"].value_counts()
        by_group = {g: settings.scaled(int(sizes[g])) for g in groups if sizes.get(g, 0) > 0}
        return cls(segments, embeddings, by_group, seed, **options)

    @property
    def threads_alongside(self) -> int | None:
        """Threads for other work in this process while the refits run: one when worker
        processes fill the cores (more would only contend with them), else no limit."""
        return 1 if n_workers(self.n_jobs) > 1 else None

    def labels(self, group: str) -> tuple[np.ndarray, list[Refit], list[np.ndarray]]:
        base, refits, futures = self.plans[group]
        return base, refits, [f.result() for f in futures]


def theme_quality(segments: pd.DataFrame, embeddings: np.ndarray, result: GroupThemes, seed: int,
                  n_seeds: int = 5, n_bootstrap: int = 5, n_jobs: int | None = None,
                  max_segments: int = QUALITY_MAX_SEGMENTS, refits: StabilityRefits | None = None) -> pd.DataFrame:
    """How far to trust each group's themes: stability, coherence, and an LDA baseline.

    Stability refits the clustering steps with ``n_seeds`` other seeds and on
    ``n_bootstrap`` resamples (see :func:`stability_plan`) and reports adjusted Rand
    index and NMI against the reference fit, plus each theme's mean best-match Jaccard.
    Coherence is NPMI of each theme's top words on that group's segments. The LDA
    baseline gets the same number of themes and the same metrics. Refits and LDA fits
    are independent, so they run in ``n_jobs`` processes (default: every core);
    ``refits`` are ones already started with :meth:`StabilityRefits.start`.
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    settings = {g: fit.settings for g, fit in result.fits.items()}
    if refits is None:
        refits = StabilityRefits(segments, embeddings, settings, seed, n_seeds, n_bootstrap, n_jobs, max_segments)
    elif refits.settings != settings or refits.seed != seed:
        raise ValueError("The stability refits were started with other settings or another seed than the theme "
                         "models; start them with the same ThemeSettings and seed as analyse_groups.")
    n_seeds = refits.n_seeds
    groups = segments["participant_group"].to_numpy()
    lda_runs = {}
    for group, fit in result.fits.items():
        base = refits.plans[group][0]
        docs = segments.loc[groups == group, "text"].tolist()
        base_docs = [docs[i] for i in base]
        lda_runs[group] = [submit(lda_baseline, base_docs, len(set(fit.topics)), seed + i, fit.settings,
                                  n_jobs=refits.n_jobs) for i in range(n_seeds + 1)]

    rows = []

    def add(group, scope, model, metric, value):
        rows.append({"participant_group": group, "scope": scope, "model": model, "metric": metric,
                     "value": round(float(value), 4) if value == value else float("nan")})

    for group, fit in result.fits.items():
        base, plan, labels_by_refit = refits.labels(group)
        docs = segments.loc[groups == group, "text"].tolist()
        ref = fit.topics
        k = len(set(ref))
        tokens = tokenize_for_coherence(docs)
        aris, nmis, jacc = [], [], {t: [] for t in set(ref)}
        for r, labels in zip(plan, labels_by_refit):
            aris.append(adjusted_rand_score(ref[r.rows], labels))
            nmis.append(normalized_mutual_info_score(ref[r.rows], labels))
            for t, j in best_match_jaccard(ref[r.rows], labels).items():
                jacc[t].append(j)
        add(group, "group", "bertopic", "n_themes", k)
        add(group, "group", "bertopic", "outlier_share_before_reassignment", fit.outlier_share)
        add(group, "group", "bertopic", "stability_ari_mean", np.mean(aris))
        add(group, "group", "bertopic", "stability_ari_sd", np.std(aris))
        add(group, "group", "bertopic", "stability_nmi_mean", np.mean(nmis))
        add(group, "group", "bertopic", "n_refits", len(plan))
        add(group, "group", "bertopic", "quality_sample_segments", len(base))
        coh = {t: npmi_coherence(fit.keywords.get(t, []), tokens) for t in sorted(set(ref))}
        add(group, "group", "bertopic", "coherence_npmi_mean", np.nanmean(list(coh.values())) if coh else float("nan"))
        for t in sorted(set(ref)):
            add(group, theme_id(group, t), "bertopic", "stability_jaccard", np.mean(jacc[t]) if jacc[t] else float("nan"))
            add(group, theme_id(group, t), "bertopic", "coherence_npmi", coh[t])

        # Baseline: LDA with the same number of themes, on the same rows.
        (lda_labels, lda_words), *others = [f.result() for f in lda_runs[group]]
        lda_coh = [npmi_coherence(w, tokens) for w in lda_words.values()]
        add(group, "group", "lda", "n_themes", k)
        add(group, "group", "lda", "coherence_npmi_mean", np.nanmean(lda_coh))
        add(group, "group", "lda", "stability_ari_mean",
            np.mean([adjusted_rand_score(lda_labels, other) for other, _ in others]) if others else float("nan"))
        add(group, "group", "lda", "agreement_ari_with_bertopic", adjusted_rand_score(ref[base], lda_labels))
    stop_workers()  # every refit is collected: free the workers' memory
    return pd.DataFrame(rows)
