"""Themes per participant group, the procedure: candidates, choice of k, consensus, runs,
stable ids, fallbacks (helpers.themes.consensus and .group_fit)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import normalized_mutual_info_score

from helpers import themes as T
from helpers._io import UserError
from helpers._workers import stop_workers
from helpers.themes import consensus

from theme_groups import WORDS, three_theme_group


def test_numbers_of_themes_tried_grow_with_the_group():
    settings = T.ThemeSettings()
    assert settings.candidates(50) == [2, 3, 4, 5]
    assert settings.candidates(200)[-1] == 10 and settings.candidates(5000)[-1] == 12
    assert settings.candidates(5) == [2]


def test_tiny_group_is_one_theme_and_says_so():
    seg, emb = three_theme_group(1)
    result = T.analyse_groups(seg, emb, ["staff"])
    assert result.themes["theme_id"].tolist() == ["staff:T01"]
    assert "not clustered" in result.themes["caveat"].iloc[0]
    assert result.assignments["secondary_theme_id"].tolist() == ["", "", ""]


def test_small_group_carries_a_caveat():
    seg, emb = three_theme_group(10)
    themes = T.analyse_groups(seg, emb, ["staff"]).themes
    assert themes["caveat"].str.contains("small group (30 segments)", regex=False).all()


def test_clear_themes_are_recovered_with_full_consensus_whatever_the_seed():
    seg, emb = three_theme_group(40)
    first = T.analyse_groups(seg, emb, ["staff"], T.ThemeSettings(seed=7))
    other = T.analyse_groups(seg, emb, ["staff"], T.ThemeSettings(seed=8))
    truth = np.repeat([0, 1, 2], 40)
    assert normalized_mutual_info_score(truth, first.assignments["theme_id"]) > 0.95
    pd.testing.assert_frame_equal(first.assignments, other.assignments)
    assert first.themes["theme_id"].tolist() == ["staff:T01", "staff:T02", "staff:T03"]
    assert first.themes["consensus"].min() > 0.9 and not first.themes["unstable"].any()
    assert first.themes["n_segments"].is_monotonic_decreasing


def test_one_procedure_gives_the_reference_and_the_runs():
    """The reported themes are the procedure without a seed; runs are the same procedure on resamples."""
    seg, emb = three_theme_group(40)
    settings = T.ThemeSettings(seed=3, n_runs=4)
    texts = seg["text"].tolist()
    reference = T.theme_procedure(emb, texts, settings)
    k_row = settings.candidates(len(T.distinct_texts(texts)[2])).index(3)
    result = T.analyse_groups(seg, emb, ["staff"], settings)
    assert normalized_mutual_info_score(reference[k_row], result.assignments["theme_id"]) == pytest.approx(1.0)
    run = T.theme_procedure(emb, texts, settings, seed=T.run_seed(3, 0))
    assert run.shape == reference.shape
    assert np.array_equal(run, T.theme_procedure(emb, texts, settings, seed=T.run_seed(3, 0)))


def test_a_mega_theme_is_avoided_when_a_finer_division_is_available():
    """Two tight themes of 10% each and one broad cloud of 80%: k is raised until no theme holds over 35%."""
    rng = np.random.default_rng(4)
    centres = rng.normal(size=(12, 384))
    vecs = [centres[0] + 0.2 * rng.normal(size=384) for _ in range(20)]
    vecs += [centres[1] + 0.2 * rng.normal(size=384) for _ in range(20)]
    vecs += [centres[2 + i % 10] * 0.5 + rng.normal(size=384) for i in range(160)]
    emb = np.vstack([v / np.linalg.norm(v) for v in vecs]).astype(np.float32)
    seg = pd.DataFrame({"segment_id": [f"FG01-t{i:03d}-s1" for i in range(200)], "focus_group": "FG01",
                        "participant_group": "staff", "speaker": [f"P{i % 5}" for i in range(200)], "turn": range(200),
                        "n_words": 20, "text": [f"segment number {i} about things" for i in range(200)]})
    result = T.analyse_groups(seg, emb, ["staff"], T.ThemeSettings(seed=1))
    assert result.themes["share_of_group"].max() <= 0.35
    fit = result.fits["staff"]
    assert fit.consensus.largest_share[fit.consensus.k] <= 0.35
    # The notebook's table of the choice: one row per candidate k, the chosen one marked.
    choice = T.choice_of_k(result.fits)
    assert choice["k"].tolist() == fit.consensus.candidates
    assert choice.loc[choice["chosen"], "k"].tolist() == [fit.consensus.k]
    assert (choice.loc[choice["chosen"], "largest_share"] <= 0.35).all()


def test_homogeneous_talk_is_explained_not_hidden():
    settings = T.ThemeSettings(max_share=0.05)  # no k can satisfy this
    seg, emb = three_theme_group(40)
    result = T.analyse_groups(seg, emb, ["staff"], settings)
    assert "homogeneous" in result.fits["staff"].consensus.note
    assert result.themes["caveat"].str.contains("homogeneous").any()
    quality = T.theme_quality(seg, emb, result, seed=1, n_jobs=1)
    notes = quality.loc[quality["metric"] == "share_of_group", "note"]
    assert notes.str.contains("homogeneous").any()


def test_repeated_texts_are_fitted_once_and_share_a_theme():
    seg, emb = three_theme_group(20)
    copies = pd.concat([seg] * 30, ignore_index=True)
    copies["segment_id"] = [f"FG01-t{i:05d}-s1" for i in range(len(copies))]
    result = T.analyse_groups(copies, np.vstack([emb] * 30), ["staff"])
    assert any("repeated texts fitted once" in n for n in result.fits["staff"].notes)
    per_text = result.assignments.assign(text=copies["text"]).groupby("text")["theme_id"].nunique()
    assert (per_text == 1).all()


def test_second_theme_where_a_segment_sits_with_two_themes():
    primary = np.array([0, 0, 1, 1])
    with_theme = np.array([[0.9, 0.1], [0.6, 0.45], [0.3, 0.8], [0.0, 1.0]])
    assert T.second_themes(primary, with_theme, 0.3).tolist() == [T.NO_THEME, 1, 0, T.NO_THEME]


def test_other_groups_themes_do_not_move_when_one_group_changes():
    seg_a, emb_a = three_theme_group(40, group="staff")
    seg_b, emb_b = three_theme_group(30, seed=1, group="students")
    seg_b["segment_id"] = seg_b["segment_id"].str.replace("FG0", "FG1")
    both = pd.concat([seg_a, seg_b], ignore_index=True)
    before = T.analyse_groups(both, np.vstack([emb_a, emb_b]), ["staff", "students"], T.ThemeSettings(seed=2))
    edited = both.copy()
    edited.loc[0, "text"] = "something else entirely said here"
    emb_edit = np.vstack([emb_a, emb_b]).copy()
    emb_edit[0] = -emb_edit[0]
    after = T.analyse_groups(edited, emb_edit, ["staff", "students"], T.ThemeSettings(seed=2))
    for table in ("themes", "assignments"):
        b, a = getattr(before, table), getattr(after, table)
        pd.testing.assert_frame_equal(b[b["participant_group"] == "students"].reset_index(drop=True),
                                      a[a["participant_group"] == "students"].reset_index(drop=True))


def test_themes_do_not_move_with_float_noise():
    seg, emb = three_theme_group(40)
    noisy = emb + np.random.default_rng(0).normal(scale=1e-6, size=emb.shape).astype(np.float32)
    a = T.analyse_groups(seg, emb, ["staff"]).assignments
    b = T.analyse_groups(seg, noisy, ["staff"]).assignments
    pd.testing.assert_frame_equal(a, b)


def test_runs_are_the_same_in_one_process_or_several(monkeypatch):
    monkeypatch.setattr(consensus, "PARALLEL_MIN_SEGMENTS", 0)  # use workers even for this small group
    seg, emb = three_theme_group(40)
    settings = T.ThemeSettings(seed=5, n_runs=3)
    serial = T.ConsensusRuns(seg, emb, ["staff"], settings, n_jobs=1).runs("staff")
    parallel = T.ConsensusRuns(seg, emb, ["staff"], settings, n_jobs=2)
    assert parallel.n_jobs == 2
    for a, b in zip(serial, parallel.runs("staff")):
        assert np.array_equal(a, b)
    stop_workers()


def test_small_studies_run_in_this_process():
    seg, emb = three_theme_group(40)
    assert T.ConsensusRuns(seg, emb, ["staff"], T.ThemeSettings(n_runs=2), n_jobs=2).n_jobs == 1


def test_a_massively_repeated_transcript_is_fitted_on_its_distinct_texts():
    """34,000 segments holding 94 distinct texts (a transcript pasted over and over):
    the procedure fits 94 rows, and says so."""
    rng = np.random.default_rng(9)
    centres = rng.normal(size=(4, 384))
    distinct = np.vstack([centres[i % 4] + 0.4 * rng.normal(size=384) for i in range(94)])
    distinct = (distinct / np.linalg.norm(distinct, axis=1, keepdims=True)).astype(np.float32)
    pick = np.arange(34_000) % 94
    seg = pd.DataFrame({"segment_id": [f"FG01-t{i:05d}-s1" for i in range(34_000)], "focus_group": "FG01",
                        "participant_group": "staff", "speaker": "P1", "turn": range(34_000), "n_words": 20,
                        "text": [f"distinct remark number {j} about the {WORDS[j % 3].split()[j % 6]}" for j in pick]})
    texts = seg["text"].tolist()
    first, inverse, counts = T.distinct_texts(texts)
    assert len(first) == 94 and counts.sum() == 34_000
    result = T.analyse_groups(seg, distinct[pick], ["staff"], T.ThemeSettings(seed=1, n_runs=10))
    assert any("33906 repeated texts fitted once each" in n for n in result.fits["staff"].notes)
    assert result.fits["staff"].consensus.matrix.shape == (94, 94)
    per_text = result.assignments.assign(text=texts).groupby("text")["theme_id"].nunique()
    assert (per_text == 1).all()


def test_asking_for_a_number_of_themes_changes_that_group_only():
    seg_a, emb_a = three_theme_group(40, group="staff")
    seg_b, emb_b = three_theme_group(30, seed=1, group="students")
    seg_b["segment_id"] = seg_b["segment_id"].str.replace("FG0", "FG1")
    seg, emb = pd.concat([seg_a, seg_b], ignore_index=True), np.vstack([emb_a, emb_b])
    settings = T.ThemeSettings(seed=2, n_runs=4)
    before = T.analyse_groups(seg, emb, ["staff", "students"], settings)
    runs = T.ConsensusRuns(seg, emb, ["staff", "students"], settings, n_themes={"staff": 6})
    after = T.analyse_groups(seg, emb, ["staff", "students"], settings, runs=runs, n_themes={"staff": 6})
    assert (after.themes["participant_group"] == "staff").sum() == 6
    assert (before.themes["participant_group"] == "staff").sum() == 3
    for table in ("themes", "assignments"):
        b, a = getattr(before, table), getattr(after, table)
        pd.testing.assert_frame_equal(b[b["participant_group"] == "students"].reset_index(drop=True),
                                      a[a["participant_group"] == "students"].reset_index(drop=True))
    choice = T.choice_of_k(after.fits)
    staff = choice[choice["participant_group"] == "staff"]
    assert staff.loc[staff["chosen"], "k"].tolist() == [6] and staff.loc[staff["data_choice"], "k"].tolist() == [3]
    assert "6 themes, fixed (the most stable of 2–" in after.fits["staff"].method
    assert "would be 3" in after.fits["staff"].method
    with pytest.raises(UserError, match="n_themes names the participant group 'nurses'"):
        T.analyse_groups(seg, emb, ["staff", "students"], settings, n_themes={"nurses": 4})
    with pytest.raises(UserError, match="n_themes: staff: 1 is not a number of themes"):
        T.ConsensusRuns(seg, emb, ["staff", "students"], settings, n_themes={"staff": 1})


def test_merge_tree_joins_the_two_most_similar_themes_first():
    weights = np.array([[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.0, 0.0, 1.0]])
    tree = T.relabel_hierarchy(T.merge_tree(weights), {0: 0, 1: 1, 2: 2}, "g")
    first = tree.iloc[0]
    assert {first["left"], first["right"]} == {"g:T01", "g:T02"}
    assert tree.iloc[-1]["leaves"] == "g:T01;g:T02;g:T03"
