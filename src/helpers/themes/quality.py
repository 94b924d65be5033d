"""How far to trust each group's themes (theme_quality.csv): consensus and stability,
coherence (gensim c_v and NPMI) beside LDA and k-means with the same number of themes, and
the notebook's side-by-side summary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._workers import stop_workers, submit
from .consensus import jobs_for, relabel_by_size
from .group_fit import theme_caveat
from .representation import describe
from .settings import NO_THEME, ThemeSettings, theme_id
from .tables import GroupThemes
from .words import make_vectorizer, speaker_keys


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
            note = theme_caveat(fit, t, share) if share > fit.settings.max_share else ""
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
