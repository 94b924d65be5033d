"""The procedure behind a group's themes and their consensus (steps 1–3 of
:mod:`helpers.themes`): Ward's tree on the group's distinct texts cut at every candidate k,
the seeded resampled runs, the choice of k where the runs agree most with the whole-group
themes, and each theme's consensus and each segment's second theme."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .._workers import submit
from .settings import NO_THEME, ThemeSettings, run_seed


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
    from .._io import UserError

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
