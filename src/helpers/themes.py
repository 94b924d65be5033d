"""Independent thematic analysis per participant group (stage 4 of the process model).

In the study each participant group's data set was analysed on its own before the groups
met. Here each group's themes come from one procedure (:func:`theme_procedure`), run on
the whole group for the reported themes and on seeded resamples for their stability:

1. identical texts are fitted once; Ward's agglomerative clustering of the segment
   embeddings builds one tree, cut into k themes for every candidate k (2 … √(n/2), at
   most 12); segments left out of a fit join the theme with the nearest centroid;
2. R runs on seeded 90% resamples give, for each k, a co-assignment matrix (the share of
   runs in which two segments shared a theme) and the agreement of each run with the
   whole-group themes; k is chosen where that agreement is highest among the k whose
   largest theme holds at most 35% of the group;
3. each theme reports its consensus (mean co-assignment of its members) and is
   ``unstable`` below 0.5; a segment gets a second theme when it sat with that theme's
   members in at least 30% of runs;
4. class-based TF-IDF (BERTopic's weighting) and maximal marginal relevance give
   keywords; a theme's most distinctive two- or three-word phrase is its label. No
   embedding model is loaded: a word's vector is the mean of the segments it occurs in.

The whole-group fit has no random step, so the themes do not depend on the seed (only
the choice of k can, when two k are equally stable). A group's themes depend on that
group's segments only. What comes out are *candidate* themes (Braun & Clarke's
"searching for themes"): the workshops of stage 5 review, merge, name and define them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ._workers import stop_workers, submit
from .transcripts import BACKCHANNEL_WORDS
from .identity import fingerprint

#: Words of transcribed talk that say nothing about what a theme is about, by kind. Their
#: union (with scikit-learn's English stop words and the speakers' pseudonyms) is the one
#: stop list of keywords and labels; notebook 04 shows it.
TRANSCRIPT_STOP_LISTS: dict[str, frozenset[str]] = {
    "fillers and backchannels": frozenset("""
        um umm er erm uh ah oh mm mmm mhm hmm yeah yep yes no okay ok aye blah ooh eh huh
        like know mean just really actually basically literally well right cos anyway
        """.split()) | BACKCHANNEL_WORDS,
    "hedges and quantities": frozenset("""
        kind sort bit lot lots quite maybe probably definitely absolutely exactly guess
        little bits loads pretty fairly totally certainly obviously honestly generally
        """.split()),
    "evaluative words (how, not what)": frozenset("""
        good better best bad worse worst nice lovely fine great brilliant awful terrible funny
        daft silly weird odd strange liked like likes love loved hate hated amazing wonderful
        fantastic horrible dreadful okay alright interesting important different difficult hard
        easy big huge massive small real proper
        """.split()),
    "generic verbs and nouns of talk": frozenset("""
        thing things stuff got get gets getting go goes going gone went come comes coming came
        say says said saying tell told think thought feel felt want wanted need needed way
        does did do make makes made let lets day days time times people person years year
        put puts take takes took try tried look looked looking bring brought use used
        """.split()),
    "contractions and transcription marks": frozenset("""
        ve ll re don didn doesn isn wasn aren weren couldn wouldn shouldn ain gonna wanna gotta
        laughs laughter crosstalk inaudible pause sighs coughs overlapping
        """.split()),
}
TRANSCRIPT_STOP_WORDS = frozenset().union(*TRANSCRIPT_STOP_LISTS.values())


def stop_list_table() -> pd.DataFrame:
    """The transcript stop list by kind (what keywords and labels leave out)."""
    return pd.DataFrame([{"kind": kind, "words": ", ".join(sorted(words))} for kind, words in
                         TRANSCRIPT_STOP_LISTS.items()]).set_index("kind")


NO_THEME = -1
#: A group's tree is built on at most this many distinct texts (``consensus_max_segments``);
#: the rest join the theme with the nearest centroid. Focus-group studies stay far below it.
CLUSTER_MAX_SEGMENTS = 3000


@dataclass(frozen=True)
class ThemeSettings:
    """Knobs of the per-group procedure; :meth:`candidates` scales the number of themes
    tried to a group's size."""

    seed: int = 20200
    #: R, the seeded runs of the procedure behind each group's consensus
    n_runs: int = 10
    max_themes: int = 12
    #: a theme above this share of its group is avoided, or explained when unavoidable
    max_share: float = 0.35
    #: a theme whose members share it in fewer than this share of runs is ``unstable``
    unstable_below: float = 0.5
    #: a segment's second theme: one whose members it sat with in at least this share of runs
    secondary_min: float = 0.3
    #: share of a group's distinct texts each seeded run fits
    resample_fraction: float = 0.9
    #: the tree is built on at most this many distinct texts of a group (others join by centroid)
    consensus_max_segments: int = CLUSTER_MAX_SEGMENTS
    top_n_words: int = 10
    n_quotes: int = 5
    #: e.g. speaker pseudonyms: names say who spoke, not what the theme is about
    extra_stop_words: tuple[str, ...] = ()
    #: the sentence-transformers model that embeds words, labels and representative documents
    embedding_model: str = "default"
    #: a number of themes asked for (``n_themes`` of the group); None: the most stable is reported
    fixed_k: int | None = None

    def candidates(self, n_distinct: int) -> list[int]:
        """Numbers of themes tried for a group of ``n_distinct`` distinct texts:
        2 … round(sqrt(n / 2)), at most ``max_themes`` (a theme should hold a few
        segments: 200 segments give at most 10 themes, 50 give 5), and ``fixed_k``
        when one was asked for."""
        top = int(np.clip(round(math.sqrt(n_distinct / 2)), 2, self.max_themes))
        tried = set(range(2, min(top, n_distinct - 1) + 1))
        if self.fixed_k is not None and 2 <= self.fixed_k <= n_distinct - 1:
            tried.add(int(self.fixed_k))
        return sorted(tried)


def run_seed(seed: int, run: int, n_themes: int = 0) -> int:
    """The seed of run ``run`` at ``n_themes`` themes, derived from the one seed (and
    not from the group or its neighbours, so groups are independent)."""
    return int(np.random.SeedSequence([int(seed), int(run), int(n_themes)]).generate_state(1)[0])


# --------------------------------------------------------------------------- the procedure

def distinct_texts(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(first, inverse, counts)``: the row of each distinct text's first occurrence,
    the distinct text of every row, and how often each occurs. Texts are the same when
    they differ only in case and spacing. A transcript pasted in thousands of times is
    fitted once per distinct text."""
    index: dict[str, int] = {}
    first, inverse = [], np.empty(len(texts), dtype=int)
    for row, text in enumerate(texts):
        key = " ".join(str(text).split()).lower()
        if key not in index:
            index[key] = len(first)
            first.append(row)
        inverse[row] = index[key]
    counts = np.bincount(inverse, minlength=len(first)) if len(texts) else np.zeros(0, dtype=int)
    return np.array(first, dtype=int), inverse, counts


def fit_rows(texts: list[str], max_rows: int) -> np.ndarray:
    """Rows a group's tree is built on: one per distinct text, and for groups with more
    than ``max_rows`` distinct texts the ``max_rows`` whose text hashes come first (a
    fixed choice that depends on the texts only, not on their order or the seed)."""
    import hashlib

    first, _, _ = distinct_texts(texts)
    if len(first) <= max_rows:
        return first
    digests = [hashlib.sha256(str(texts[r]).encode("utf-8")).hexdigest() for r in first]
    return np.sort(first[np.argsort(digests, kind="stable")[:max_rows]])


def theme_procedure(embeddings: np.ndarray, texts: list[str], settings: ThemeSettings,
                    seed: int | None = None) -> np.ndarray:
    """The procedure: labels of every segment for each candidate number of themes (rows
    in the order of ``settings.candidates``).

    Ward's agglomerative clustering of the embeddings of the group's distinct texts
    (without ``seed``: all of them, the reported themes; with ``seed``: a seeded
    ``resample_fraction`` of them, a stability run), cut at every candidate k. Segments
    not in the fit join the theme whose centroid is most similar (cosine); repeats of a
    text get its label. No other step is random, so the whole-group fit is the same for
    every seed.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    first, inverse, _ = distinct_texts(texts)
    rows = fit_rows(texts, settings.consensus_max_segments)
    if seed is not None:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(rows, size=max(int(round(settings.resample_fraction * len(rows))), 3), replace=False))
    x = np.asarray(embeddings, dtype=np.float64)
    x = x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-12)
    tree = linkage(x[rows], "ward")
    distinct = x[first]
    position = {int(r): i for i, r in enumerate(first)}
    fitted = np.array([position[int(r)] for r in rows])
    ks = settings.candidates(len(first))
    out = np.zeros((len(ks), len(texts)), dtype=np.int16)
    for i, k in enumerate(ks):
        cut = fcluster(tree, k, "maxclust").astype(int) - 1
        centroids = np.vstack([x[rows][cut == c].mean(axis=0) for c in range(int(cut.max()) + 1)])
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True) + 1e-12
        labels = np.argmax(distinct @ centroids.T, axis=1)
        labels[fitted] = cut
        out[i] = labels[inverse]
    return out


def coassignment(label_runs: np.ndarray) -> np.ndarray:
    """The share of runs in which two rows share a theme (``label_runs``: runs × rows)."""
    n = label_runs.shape[1]
    total = np.zeros((n, n), dtype=np.float32)
    for labels in label_runs:
        onehot = np.zeros((n, int(labels.max()) + 1), dtype=np.float32)
        onehot[np.arange(n), labels] = 1
        total += onehot @ onehot.T
    return total / len(label_runs)


def pac(matrix: np.ndarray, low: float = 0.1, high: float = 0.9) -> float:
    """Proportion of ambiguous clustering (Şenbabaoğlu et al. 2014): the share of pairs
    whose co-assignment lies strictly between ``low`` and ``high``; 0 = every run agrees."""
    upper = matrix[np.triu_indices(len(matrix), 1)]
    return float(np.mean((upper > low) & (upper < high))) if len(upper) else 0.0


def _cut(matrix: np.ndarray, k: int) -> np.ndarray:
    """Average-linkage clusters of 1 − co-assignment, cut into ``k`` (0-based labels)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    distance = 1.0 - matrix.astype(np.float64)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(np.clip(squareform(distance, checks=False), 0, None), "average")
    return fcluster(tree, k, "maxclust").astype(int) - 1


def relabel_by_size(labels: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Renumber labels 0..k-1 by decreasing (weighted) size, ties by first row: ids that
    do not depend on the clusterer's numbering."""
    weights = np.ones(len(labels)) if weights is None else weights
    present = [t for t in dict.fromkeys(labels.tolist()) if t != NO_THEME]
    size = {t: float(weights[labels == t].sum()) for t in present}
    order = sorted(present, key=lambda t: (-size[t], present.index(t)))
    mapping = {old: new for new, old in enumerate(order)}
    return np.array([mapping.get(t, NO_THEME) for t in labels.tolist()], dtype=int)


@dataclass
class Consensus:
    """A group's themes with their consensus over R resampled runs, at each candidate k."""

    candidates: list[int]
    stability: dict[int, float]         # mean ARI of the runs with the whole-group themes, by k
    pac: dict[int, float]               # proportion of ambiguous pairs, by k
    largest_share: dict[int, float]     # share of the group in the largest theme, by k
    k: int                              # the number of themes reported
    rows: np.ndarray                    # group rows the co-assignment matrix is built on
    matrix: np.ndarray                  # co-assignment at k (rows × rows)
    labels: np.ndarray                  # the reported theme of each of ``rows``
    run_labels: np.ndarray              # the runs at k, on every group row (runs × n)
    note: str = ""                      # why a theme over the size limit remains, when one does
    chosen_k: int = 0                   # the procedure's own choice (differs from k when n_themes asked)


def consensus_themes(reference: np.ndarray, runs: list[np.ndarray], texts: list[str],
                     settings: ThemeSettings) -> Consensus:
    """Choose k and measure consensus, from the whole-group fit (``reference``) and the
    seeded runs of :func:`theme_procedure` (each candidates × rows).

    For every candidate k: the co-assignment matrix over the runs, its PAC, and the
    stability of the whole-group themes (mean adjusted Rand index of each run with them).
    The k reported is the most stable (to two decimals; ties: fewer themes) among those
    whose largest theme holds at most ``max_share`` of the group; when no k qualifies, the
    most stable overall, and ``note`` says the group's talk is homogeneous.
    """
    from sklearn.metrics import adjusted_rand_score

    rows = fit_rows(texts, settings.consensus_max_segments)
    ks = settings.candidates(len(distinct_texts(texts)[2]))
    stacked = np.stack(runs)  # runs × candidates × n
    stability, scores, shares = {}, {}, {}
    for i, k in enumerate(ks):
        stability[k] = round(float(np.mean([adjusted_rand_score(reference[i], run[i]) for run in stacked])), 6)
        scores[k] = round(pac(coassignment(stacked[:, i, rows])), 6)
        shares[k] = float(np.bincount(reference[i]).max() / reference.shape[1])
    own = replace(settings, fixed_k=None).candidates(len(distinct_texts(texts)[2]))
    allowed = [k for k in own if shares[k] <= settings.max_share]

    def most_stable(options):
        return min(options, key=lambda k: (-round(stability[k], 2), k))

    note = ""
    if allowed:
        chosen = most_stable(allowed)
    else:
        chosen = most_stable(own)
        note = (f"the group's talk is homogeneous: no number of themes from {own[0]} to {own[-1]} gave themes "
                f"each under {settings.max_share:.0%} of the group; the most stable ({chosen} themes) is reported")
    k = chosen
    if settings.fixed_k is not None and settings.fixed_k != chosen:
        k = int(settings.fixed_k)
        note = (f"{k} themes fixed (kept from a workshop or set by n_themes; stability {stability[k]:.2f}, "
                f"largest theme {shares[k]:.0%}); the data alone would choose {chosen} (stability "
                f"{stability[chosen]:.2f}, largest theme {shares[chosen]:.0%})")
    i = ks.index(k)
    return Consensus(ks, stability, scores, shares, k, rows, coassignment(stacked[:, i, rows]),
                     reference[i][rows].astype(int), stacked[:, i, :], note, chosen)


def with_each_theme(consensus: Consensus, embeddings: np.ndarray, texts: list[str]) -> np.ndarray:
    """Each group row's mean co-assignment with the members of every theme (rows ×
    themes). Rows outside the matrix (repeats, or groups over ``consensus_max_segments``
    distinct texts) take the values of their own text, or else of their most similar
    segment in the matrix (cosine)."""
    first, inverse, _ = distinct_texts(texts)
    k = int(consensus.labels.max()) + 1
    onehot = np.zeros((len(consensus.rows), k), dtype=np.float32)
    onehot[np.arange(len(consensus.rows)), consensus.labels] = 1
    with_theme = (consensus.matrix @ onehot) / np.maximum(onehot.sum(axis=0), 1)
    source = np.full(len(first), -1)
    source[np.searchsorted(first, consensus.rows)] = np.arange(len(consensus.rows))
    missing = np.flatnonzero(source < 0)
    if len(missing):
        reference = np.asarray(embeddings[consensus.rows], dtype=np.float32)
        for start in range(0, len(missing), 2048):
            chunk = missing[start:start + 2048]
            similarity = np.asarray(embeddings[first[chunk]], dtype=np.float32) @ reference.T
            source[chunk] = np.argmax(similarity, axis=1)
    return with_theme[source[inverse]]


def second_themes(primary: np.ndarray, with_theme: np.ndarray, minimum: float) -> np.ndarray:
    """A second theme per row: the other theme whose members the row sat with most often,
    when that is at least ``minimum`` of the runs; else :data:`NO_THEME`."""
    if with_theme.shape[1] < 2:
        return np.full(len(primary), NO_THEME)
    others = with_theme.copy()
    others[np.arange(len(primary)), primary] = -1
    best = np.argmax(others, axis=1)
    return np.where(others[np.arange(len(primary)), best] >= minimum, best, NO_THEME)


def choice_of_k(fits: dict) -> pd.DataFrame:
    """How k was chosen in each group (one row per group and candidate k): the stability
    of the whole-group themes, the largest theme's share, whether the procedure chose it,
    and whether it is reported (the k asked for by ``n_themes``, else the chosen one).
    Groups too small to cluster have no candidates and no rows."""
    rows = [{"participant_group": g, "k": k, "stability_ari": fit.consensus.stability[k],
             "largest_share": round(fit.consensus.largest_share[k], 3), "chosen": k == fit.consensus.k,
             "data_choice": k == fit.consensus.chosen_k}
            for g, fit in fits.items() if fit.consensus is not None for k in fit.consensus.candidates]
    return pd.DataFrame(rows, columns=["participant_group", "k", "stability_ari", "largest_share", "chosen",
                                       "data_choice"])


def theme_consensus(consensus: Consensus) -> dict[int, float]:
    """Each consensus theme's mean co-assignment over pairs of its members (1 for one member)."""
    out = {}
    for t in range(int(consensus.labels.max()) + 1):
        members = np.flatnonzero(consensus.labels == t)
        block = consensus.matrix[np.ix_(members, members)]
        pairs = len(members) * (len(members) - 1)
        out[t] = float((block.sum() - np.trace(block)) / pairs) if pairs else 1.0
    return out


#: Below this many segments in all, runs and baselines are computed in this process: the
#: bundled study's 30 runs take 0.6 s, less than starting worker processes costs.
PARALLEL_MIN_SEGMENTS = 5000


def jobs_for(n_segments: int, n_jobs: int | None) -> int | None:
    """Worker processes for ``n_segments`` of work: one (this process) for small studies."""
    return 1 if n_segments < PARALLEL_MIN_SEGMENTS else n_jobs


def checked_n_themes(n_themes: Mapping[str, int] | None, segments: pd.DataFrame, groups) -> dict[str, int]:
    """``n_themes`` (group id → number of themes asked for) checked against the study: a
    known group, and a whole number from 2 to one less than the group's distinct segments."""
    from ._io import UserError

    asked = dict(n_themes or {})
    in_group = segments["participant_group"].to_numpy()
    for group, k in asked.items():
        if group not in list(groups):
            raise UserError(f"n_themes names the participant group {group!r}, which the study does not have "
                            f"(its groups: {', '.join(groups)}); correct the key under analysis: n_themes in study.yml.")
        n_distinct = len(distinct_texts(segments.loc[in_group == group, "text"].astype(str).tolist())[2])
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= int(k) <= n_distinct - 1:
            raise UserError(f"n_themes: {group}: {k!r} is not a number of themes this group can have (a whole number "
                            f"from 2 to {n_distinct - 1}, one less than its {n_distinct} distinct segments); change it "
                            "under analysis: n_themes in study.yml.")
    return {g: int(k) for g, k in asked.items()}


class ConsensusRuns:
    """The R seeded runs of every group, started at once.

    Runs need only a group's embeddings and texts, so notebook 04 starts them first and
    collects them when it builds the themes: in worker processes for studies of
    :data:`PARALLEL_MIN_SEGMENTS` segments or more, else in this process when collected.
    Each run has its own seed, so the result does not depend on where it ran."""

    def __init__(self, segments: pd.DataFrame, embeddings: np.ndarray, groups, settings: ThemeSettings,
                 n_jobs: int | None = None, n_themes: Mapping[str, int] | None = None):
        self.settings, self.n_jobs = settings, jobs_for(len(segments), n_jobs)
        self.futures: dict[str, list] = {}
        in_group = segments["participant_group"].to_numpy()
        asked = checked_n_themes(n_themes, segments, groups)
        for group in groups:
            mask = in_group == group
            texts = segments.loc[mask, "text"].astype(str).tolist()
            if len(distinct_texts(texts)[2]) < 4:
                continue
            emb = np.ascontiguousarray(embeddings[mask])
            group_settings = replace(settings, fixed_k=asked.get(group))
            self.futures[group] = [submit(theme_procedure, emb, texts, group_settings, run_seed(settings.seed, r),
                                          n_jobs=self.n_jobs) for r in range(settings.n_runs)]

    def runs(self, group: str) -> list[np.ndarray] | None:
        return [f.result() for f in self.futures[group]] if group in self.futures else None


# --------------------------------------------------------------------------- representation

def make_vectorizer(settings: ThemeSettings, n_docs: int, ngram_range=(1, 2)):
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    stop = sorted(ENGLISH_STOP_WORDS | TRANSCRIPT_STOP_WORDS | set(settings.extra_stop_words))
    return CountVectorizer(stop_words=stop, ngram_range=ngram_range, min_df=1,
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


def readable_label(phrase: str, keywords: list[str]) -> str:
    """The label shown: the chosen phrase, else the first keywords that do not repeat
    each other."""
    return phrase or label_from_keywords(keywords)


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
    manual mode on them (:mod:`helpers.theme_model`): c-TF-IDF, KeyBERTInspired, words said
    by two or more of a theme's speakers, maximal marginal relevance. Each label is the
    candidate phrase of the theme's talk nearest its own centre relative to the group's
    other themes, distinct within the group. ``speakers``: who said each segment (each
    segment its own speaker when not given)."""
    from . import theme_model as M

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
        candidates = M.candidate_phrases(docs, topics, speakers, stop_words_of(settings))
        chosen = M.choose_labels(candidates, M.theme_centres(embeddings, topics), model.embedding_model.embed)
        labels = {t: readable_label(chosen.get(t, ""), keywords[t]) for t in range(k)}
        model.set_topic_labels({t: labels[t] for t in range(k)})
    return Description(model, keywords, labels, np.asarray(model.c_tf_idf_.todense()))


# --------------------------------------------------------------------------- one group

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
    model: object | None = None   # the group's fitted BERTopic model (helpers.theme_model)


def theme_id(group: str, index: int) -> str:
    return f"{group}:T{index + 1:02d}"


def stop_words_of(settings: ThemeSettings) -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS | TRANSCRIPT_STOP_WORDS | set(settings.extra_stop_words))


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
                        _relabel_hierarchy(pd.DataFrame(), {}, group), settings, None,
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
    hierarchy = _relabel_hierarchy(merge_tree(words.weights) if k >= 3 else pd.DataFrame(), {t: t for t in range(k)},
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


def _relabel_hierarchy(hierarchy: pd.DataFrame, mapping: dict[int, int], group: str) -> pd.DataFrame:
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

    Computed in notebook 04 (which has the embeddings loaded), so the maps notebook only
    draws."""
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
    """A provisional label: the first keywords that share no word with an earlier one
    (the rule of :func:`distinct_words`, so "quicker everybody" never follows "everybody quicker")."""
    picked = [keywords[i] for i in distinct_words(range(len(keywords)), keywords, n)]
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
        """What each group's procedure had to do or say (repeats, homogeneous talk)."""
        return pd.DataFrame([{"participant_group": g, "note": n} for g, fit in self.fits.items() for n in fit.notes],
                            columns=["participant_group", "note"])


THEME_COLUMNS = ["participant_group", "theme_id", "label", "keywords", "fingerprint", "n_segments", "n_speakers",
                 "n_focus_groups", "share_of_group", "consensus", "unstable", "method", "caveat"]
ASSIGNMENT_COLUMNS = ["segment_id", "participant_group", "theme_id", "secondary_theme_id", "uncertain"]


def speaker_keys(segments: pd.DataFrame) -> list[str]:
    """Who said each segment: focus group and speaker (the same label in two focus groups
    is two people)."""
    return (segments["focus_group"].astype(str) + "/" + segments["speaker"].astype(str)).tolist()


def save_models(result: GroupThemes, folder) -> None:
    """Save each group's BERTopic model under ``folder/<group>/`` (see
    :func:`helpers.theme_model.save_models`); load one with ``BERTopic.load``."""
    from . import theme_model as M

    models = {g: fit.model for g, fit in result.fits.items() if fit.model is not None}
    settings = next(iter(result.fits.values())).settings if result.fits else ThemeSettings()
    M.save_models(models, folder, settings.embedding_model)


def with_speaker_stop_words(segments: pd.DataFrame, settings: ThemeSettings) -> ThemeSettings:
    """Pseudonyms say who spoke, not what about: keep them out of keywords and labels."""
    names = {w.lower() for s in segments["speaker"].unique() for w in re.findall(r"[A-Za-z]+", str(s))}
    return replace(settings, extra_stop_words=tuple(sorted(set(settings.extra_stop_words) | names)))


def _theme_caveat(fit: GroupFit, t: int, share: float) -> str:
    parts = [fit.caveat] if fit.caveat else []
    if share > fit.settings.max_share and fit.consensus is not None and fit.consensus.note:
        parts.append(f"holds {share:.0%} of the group: {fit.consensus.note}")
    if fit.consensus_by_theme.get(t, 1.0) < fit.settings.unstable_below:
        parts.append(f"unstable: its members shared a theme in {fit.consensus_by_theme[t]:.0%} of runs "
                     f"(below {fit.settings.unstable_below:.0%}); read its quotes before naming it")
    return "; ".join(parts)


def analyse_groups(segments: pd.DataFrame, embeddings: np.ndarray, groups: list[str],
                   settings: ThemeSettings = ThemeSettings(), runs: ConsensusRuns | None = None,
                   n_themes: Mapping[str, int] | None = None,
                   anchors: Mapping[str, str] | None = None) -> GroupThemes:
    """Consensus themes per participant group, each from that group's segments only
    (``runs``: started with :class:`ConsensusRuns`, else run here; ``n_themes``: group id →
    a number of themes to report instead of the most stable (e.g. the number a workshop saw),
    as the runs were started with; ``anchors``: segment id → the workshop theme it was in,
    kept, see :func:`anchored_topics`).
    Each group's fitted BERTopic model is ``fits[group].model``; its representative
    documents are the theme's quotes."""
    asked = checked_n_themes(n_themes, segments, groups)
    theme_rows, assign_rows, hierarchies, fits = [], [], [], {}
    for group in groups:
        mask = (segments["participant_group"] == group).to_numpy()
        seg = segments[mask].reset_index(drop=True)
        emb = embeddings[mask]
        if seg.empty:
            continue
        group_settings = replace(with_speaker_stop_words(seg, settings), fixed_k=asked.get(group))  # this group only
        fit = fit_group(seg["text"].astype(str).tolist(), emb, group, group_settings,
                        runs=runs.runs(group) if runs is not None else None, speakers=speaker_keys(seg),
                        anchors=[anchors.get(str(s), "") for s in seg["segment_id"]] if anchors else None)
        fits[group] = fit
        hierarchies.append(fit.hierarchy)
        representative = {}
        for t in sorted(set(fit.topics.tolist())):
            idx = np.flatnonzero(fit.topics == t)
            members = seg.iloc[idx]
            quotes = pick_quotes(members, emb[idx], settings.n_quotes)
            representative[t] = quotes["text"].astype(str).tolist()
            share = len(members) / len(seg)
            row = {
                "participant_group": group,
                "theme_id": theme_id(group, t),
                "label": fit.labels.get(t, ""),
                "keywords": "; ".join(fit.keywords.get(t, [])),
                "fingerprint": fingerprint(members["segment_id"]),
                "n_segments": int(len(members)),
                "n_speakers": int(members[["focus_group", "speaker"]].drop_duplicates().shape[0]),
                "n_focus_groups": int(members["focus_group"].nunique()),
                "share_of_group": round(share, 4),
                "consensus": round(fit.consensus_by_theme.get(t, 1.0), 4),
                "unstable": bool(fit.consensus_by_theme.get(t, 1.0) < fit.settings.unstable_below),
                "method": fit.method,
                "caveat": _theme_caveat(fit, t, share),
            }
            for k in range(settings.n_quotes):
                row[f"quote_{k + 1}"] = format_quote(quotes.iloc[k]) if k < len(quotes) else ""
            row["quote_segments"] = ";".join(quotes["segment_id"])
            theme_rows.append(row)
        if fit.model is not None:
            fit.model.representative_docs_ = representative  # the quotes group_themes.csv shows
        assign_rows.append(pd.DataFrame({
            "segment_id": seg["segment_id"],
            "participant_group": group,
            "theme_id": [theme_id(group, t) for t in fit.topics],
            "secondary_theme_id": [theme_id(group, t) if t != NO_THEME else "" for t in fit.secondary],
            "uncertain": fit.uncertain.astype(bool),
        }))
    quote_columns = [f"quote_{k + 1}" for k in range(settings.n_quotes)] + ["quote_segments"]
    themes = pd.DataFrame(theme_rows, columns=THEME_COLUMNS + quote_columns)
    assignments = (pd.concat(assign_rows, ignore_index=True) if assign_rows
                   else pd.DataFrame(columns=ASSIGNMENT_COLUMNS))[ASSIGNMENT_COLUMNS]
    hierarchy = pd.concat([h for h in hierarchies if not h.empty], ignore_index=True) if any(
        not h.empty for h in hierarchies) else _relabel_hierarchy(pd.DataFrame(), {}, "")
    return GroupThemes(themes, assignments, hierarchy, fits)


# --------------------------------------------------------------------------- quality

def coherence_tokens(docs: list[str], settings: ThemeSettings) -> list[list[str]]:
    """Word tokens of each text, as the keyword vectorizer sees them (stop words out)."""
    analyzer = make_vectorizer(settings, len(docs), ngram_range=(1, 1)).build_analyzer()
    return [analyzer(d) for d in docs]


def topic_tokens(words: list[str], vocabulary, n: int = 10) -> list[str]:
    """A theme's words as coherence tokens: two-word keywords split into their words,
    repeats and words absent from the texts dropped, the first ``n`` kept."""
    out: list[str] = []
    for word in words:
        for token in str(word).split():
            if token in vocabulary and token not in out:
                out.append(token)
    return out[:n]


def coherence(topics: dict[int, list[str]], texts: list[list[str]], measure: str) -> dict[int, float]:
    """Per-theme coherence by gensim's ``CoherenceModel`` (``"c_v"`` or ``"c_npmi"``),
    with its sliding windows over ``texts`` (the group's own turns); NaN for a theme with
    fewer than two of its words in the texts."""
    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel

    dictionary = Dictionary(texts)
    vocabulary = set(dictionary.token2id)
    usable = {t: topic_tokens(w, vocabulary) for t, w in topics.items()}
    scored = {t: w for t, w in usable.items() if len(w) >= 2}
    out = {t: float("nan") for t in topics}
    if scored:
        model = CoherenceModel(topics=list(scored.values()), texts=texts, dictionary=dictionary, coherence=measure,
                               topn=10, processes=1)
        for t, value in zip(scored, model.get_coherence_per_topic()):
            out[t] = float(value)
    return out


def lda_baseline(docs: list[str], n_themes: int, seed: int, settings: ThemeSettings):
    """LDA (scikit-learn) with the same number of themes, on the same segments: the
    theme of each segment (its largest share) and each theme's top words."""
    from sklearn.decomposition import LatentDirichletAllocation

    vec = make_vectorizer(settings, len(docs))
    counts = vec.fit_transform(docs)
    lda = LatentDirichletAllocation(n_components=max(n_themes, 1), random_state=seed % 2**31, learning_method="batch")
    doc_topic = lda.fit_transform(counts)
    vocab = np.array(vec.get_feature_names_out())
    words = {t: list(vocab[np.argsort(-lda.components_[t], kind="stable")[: settings.top_n_words]])
             for t in range(lda.n_components)}
    return doc_topic.argmax(axis=1), words


def kmeans_baseline(embeddings: np.ndarray, n_themes: int, seed: int) -> np.ndarray:
    """Plain k-means (10 starts, seeded) on the same embeddings, the same number of themes."""
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=max(n_themes, 1), n_init=10, random_state=seed % 2**31).fit(
        np.asarray(embeddings, dtype=np.float64)).labels_


def group_turns(segments: pd.DataFrame) -> list[str]:
    """The group's turns (its segments joined per focus group and turn): the texts
    coherence windows slide over."""
    return segments.groupby(["focus_group", "turn"], sort=True)["text"].apply(" ".join).tolist()


def theme_quality(segments: pd.DataFrame, embeddings: np.ndarray, result: GroupThemes, seed: int,
                  n_jobs: int | None = None) -> pd.DataFrame:
    """How far to trust each group's themes: consensus and stability, coherence (c_v and
    NPMI, gensim) beside LDA and k-means with the same number of themes, theme sizes.

    Rows: ``participant_group, scope (group or theme id), model (consensus = the compendium's themes, lda, kmeans),
    metric, value, note``; ``note`` explains a theme over the size limit."""
    from sklearn.metrics import adjusted_rand_score

    groups = segments["participant_group"].to_numpy()
    n_jobs = jobs_for(len(segments), n_jobs)
    baselines = {}
    for group, fit in result.fits.items():
        docs = segments.loc[groups == group, "text"].astype(str).tolist()
        k = len(set(fit.topics.tolist()))
        baselines[group] = (submit(lda_baseline, docs, k, seed, fit.settings, n_jobs=n_jobs),
                            submit(kmeans_baseline, embeddings[groups == group], k, seed, n_jobs=n_jobs))
    rows = []

    def add(group, scope, model, metric, value, note=""):
        value = float(value)
        rows.append({"participant_group": group, "scope": scope, "model": model, "metric": metric,
                     "value": round(value, 4) if value == value else float("nan"), "note": note})

    for group, fit in result.fits.items():
        seg = segments[groups == group].reset_index(drop=True)
        docs, emb = seg["text"].astype(str).tolist(), embeddings[groups == group]
        k = len(set(fit.topics.tolist()))
        texts = coherence_tokens(group_turns(seg), fit.settings)
        add(group, "group", "consensus", "n_themes", k)
        add(group, "group", "consensus", "n_segments", len(seg))
        add(group, "group", "consensus", "largest_share", np.bincount(fit.topics).max() / len(seg),
            fit.consensus.note if fit.consensus is not None else "")
        add(group, "group", "consensus", "uncertain_share", fit.uncertain.mean())
        add(group, "group", "consensus", "secondary_share", np.mean(fit.secondary != NO_THEME))
        if fit.consensus is not None:
            c = fit.consensus
            add(group, "group", "consensus", "n_runs", len(c.run_labels))
            add(group, "group", "consensus", "consensus_mean", np.mean(list(fit.consensus_by_theme.values())))
            add(group, "group", "consensus", "stability_ari_mean", c.stability[c.k])
            for kk in c.candidates:
                add(group, "group", "consensus", f"pac_k{kk:02d}", c.pac[kk])
                add(group, "group", "consensus", f"stability_ari_k{kk:02d}", c.stability[kk])
        coh = {m: coherence(fit.keywords, texts, m) for m in ("c_v", "c_npmi")}
        add(group, "group", "consensus", "coherence_cv_mean", np.nanmean(list(coh["c_v"].values())))
        add(group, "group", "consensus", "coherence_npmi_mean", np.nanmean(list(coh["c_npmi"].values())))
        for t in sorted(fit.keywords):
            tid, share = theme_id(group, t), float(np.mean(fit.topics == t))
            note = _theme_caveat(fit, t, share) if share > fit.settings.max_share else ""
            add(group, tid, "consensus", "share_of_group", share, note)
            add(group, tid, "consensus", "consensus", fit.consensus_by_theme.get(t, 1.0))
            if fit.consensus is not None:
                add(group, tid, "consensus", "stability_jaccard",
                    np.mean([best_match_jaccard(fit.topics == t, r) for r in fit.consensus.run_labels]))
            add(group, tid, "consensus", "coherence_cv", coh["c_v"][t])
            add(group, tid, "consensus", "coherence_npmi", coh["c_npmi"][t])
        lda_future, kmeans_future = baselines[group]
        lda_labels, lda_words = lda_future.result()
        km_labels = relabel_by_size(np.asarray(kmeans_future.result()))
        km_words = (describe(docs, emb, km_labels, speaker_keys(seg), fit.settings, with_labels=False).keywords
                    if k > 1 else fit.keywords)
        for model, labels, words in (("lda", lda_labels, lda_words), ("kmeans", km_labels, km_words)):
            add(group, "group", model, "n_themes", k)
            add(group, "group", model, "largest_share", np.bincount(labels).max() / len(seg))
            add(group, "group", model, "coherence_cv_mean", np.nanmean(list(coherence(words, texts, "c_v").values())))
            add(group, "group", model, "coherence_npmi_mean",
                np.nanmean(list(coherence(words, texts, "c_npmi").values())))
            add(group, "group", model, "agreement_ari_with_consensus", adjusted_rand_score(fit.topics, labels))
    stop_workers()  # every run is collected: free the workers' memory
    return pd.DataFrame(rows, columns=["participant_group", "scope", "model", "metric", "value", "note"])


def best_match_jaccard(members: np.ndarray, other: np.ndarray) -> float:
    """The best Jaccard overlap of a theme (boolean mask of rows) with any theme of another partition."""
    best = 0.0
    for u in np.unique(other):
        b = other == u
        best = max(best, float((members & b).sum() / (members | b).sum()))
    return best


# --------------------------------------------------------------------------- notebook tables

#: why a measure has no value for a model (the quality summary says so instead of NaN)
NOT_APPLICABLE = {
    "stability_ari_mean": "n/a: {model} is fitted once, not resampled",
    "consensus_mean": "n/a: {model} has no consensus",
    "coherence_cv_mean": "n/a: fewer than two keywords in the talk",
    "coherence_npmi_mean": "n/a: fewer than two keywords in the talk",
}
MODEL_NAMES = {"consensus": "the compendium", "lda": "LDA", "kmeans": "k-means"}


def quality_summary(quality: pd.DataFrame,
                    metrics=("n_themes", "largest_share", "stability_ari_mean", "consensus_mean", "coherence_cv_mean",
                             "coherence_npmi_mean")) -> pd.DataFrame:
    """The group rows of theme_quality.csv side by side (group and measure × model), every
    cell a value or a sentence saying why the measure does not apply."""
    rows = quality[(quality["scope"] == "group") & quality["metric"].isin(metrics)]
    table = rows.pivot_table(index=["participant_group", "metric"], columns="model", values="value", sort=False,
                             dropna=False)
    groups = list(dict.fromkeys(rows["participant_group"]))
    table = table.reindex(pd.MultiIndex.from_product([groups, list(metrics)], names=["participant_group", "metric"]))
    table = table.reindex(columns=[m for m in MODEL_NAMES if m in table.columns]).astype(object)
    for (group, metric), values in table.iterrows():
        for model, value in values.items():
            if value is None or value != value:
                why = NOT_APPLICABLE.get(metric, "n/a: not measured")
                table.loc[(group, metric), model] = why.format(model=MODEL_NAMES[model])
            elif metric == "n_themes":
                table.loc[(group, metric), model] = int(value)
            else:
                table.loc[(group, metric), model] = round(float(value), 3)
    return table.rename(columns=MODEL_NAMES)
