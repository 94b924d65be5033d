"""Themes per participant group, how far to trust them: coherence, baselines, the summary
(helpers.themes.quality)."""

import numpy as np
import pandas as pd

from helpers import themes as T

from theme_groups import three_theme_group


def test_coherence_uses_gensim_and_ranks_cooccurring_words_higher():
    texts = [["mask", "face", "tight"], ["mask", "face"], ["gown", "door"], ["gown", "door", "cold"]] * 5
    scores = T.coherence({0: ["mask", "face"], 1: ["mask", "door"], 2: ["absent", "mask"]}, texts, "c_npmi")
    assert scores[0] > scores[1]
    assert np.isnan(scores[2])


def test_topic_tokens_split_phrases_and_keep_known_words():
    assert T.topic_tokens(["eye contact", "mask", "eye"], {"eye", "contact", "mask"}) == ["eye", "contact", "mask"]


def test_quality_table_has_consensus_coherence_and_both_baselines():
    seg, emb = three_theme_group(40)
    result = T.analyse_groups(seg, emb, ["staff"], T.ThemeSettings(n_runs=4))
    q = T.theme_quality(seg, emb, result, seed=1, n_jobs=1)
    assert list(q.columns) == ["participant_group", "scope", "model", "metric", "value", "note"]
    group = q[q["scope"] == "group"].set_index(["model", "metric"])["value"]
    assert group[("consensus", "n_runs")] == 4
    assert group[("consensus", "stability_ari_mean")] > 0.8
    for model in ("consensus", "lda", "kmeans"):
        assert {"coherence_cv_mean", "coherence_npmi_mean", "largest_share"} <= set(group[model].index)
    assert set(q.loc[q["scope"] != "group", "scope"]) == set(result.themes["theme_id"])


def test_quality_summary_says_why_a_cell_is_empty():
    quality = pd.DataFrame([
        {"participant_group": "g", "scope": "group", "model": m, "metric": metric, "value": v, "note": ""}
        for m, metric, v in [("consensus", "n_themes", 3), ("lda", "n_themes", 3), ("kmeans", "n_themes", 3),
                             ("consensus", "consensus_mean", 0.61), ("consensus", "coherence_cv_mean", float("nan")),
                             ("lda", "coherence_cv_mean", 0.4), ("kmeans", "coherence_cv_mean", 0.5)]])
    table = T.quality_summary(quality, metrics=("n_themes", "consensus_mean", "coherence_cv_mean"))
    assert not table.isna().any().any()
    assert table.loc[("g", "consensus_mean"), "k-means"] == "n/a: k-means has no consensus"
    assert table.loc[("g", "coherence_cv_mean"), "the compendium"] == "n/a: fewer than two keywords in the talk"
    assert table.loc[("g", "n_themes"), "LDA"] == 3
