"""Themes per participant group, the stage's tables: contract columns, quotes, and the
themes of the bundled study, an edited transcript and the stress corpus (helpers.themes.tables)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import normalized_mutual_info_score

from helpers import themes as T

from conftest import ROOT
from theme_groups import three_theme_group


def test_group_themes_and_assignments_have_the_contract_columns():
    from helpers.identity import fingerprint

    seg, emb = three_theme_group(40)
    result = T.analyse_groups(seg, emb, ["staff"])
    assert list(result.themes.columns[:13]) == ["participant_group", "theme_id", "label", "keywords", "fingerprint",
                                                "n_segments", "n_speakers", "n_focus_groups", "share_of_group",
                                                "consensus", "unstable", "method", "caveat"]
    assert list(result.assignments.columns) == ["segment_id", "participant_group", "theme_id", "secondary_theme_id",
                                                "uncertain"]
    for row in result.themes.itertuples():
        members = result.assignments.loc[result.assignments["theme_id"] == row.theme_id, "segment_id"]
        assert row.fingerprint == fingerprint(members)
        assert 0 <= row.consensus <= 1 and row.unstable == (row.consensus < 0.5)


def test_quotes_spread_over_speakers():
    seg, emb = three_theme_group(40)
    quotes = T.pick_quotes(seg.iloc[:40], emb[:40], 4)
    assert quotes["speaker"].nunique() == 4


def test_quotes_of_reads_quote_columns_in_order():
    row = {"quote_2": "b", "quote_10": "j", "quote_1": " a ", "quote_3": float("nan"), "label": "x"}
    assert T.quotes_of(row) == ["a", "b", "j"]


@pytest.mark.slow
def test_bundled_study_themes_recover_planted_structure(tmp_path):
    """On the synthetic study, each group's themes agree with the planted themes of
    data/synthetic_key.csv clearly more than chance: NMI above every one of 20 shuffles."""
    from helpers import embeddings as E
    from helpers.study import load_study
    from helpers.transcripts import read_study_turns

    study = load_study(ROOT / "data" / "study.yml")
    seg = E.make_segments(read_study_turns(study))
    emb = E.EmbeddingCache(tmp_path).embed(seg["text"].tolist(), groups=seg["participant_group"].tolist())
    result = T.analyse_groups(seg, emb, study.group_ids, T.ThemeSettings(seed=20200))
    key = pd.read_csv(ROOT / "data" / "synthetic_key.csv")
    key["planted"] = key["themes"].str.split(";").str[0]
    merged = seg.merge(result.assignments, on=["segment_id", "participant_group"]).merge(
        key[["focus_group", "turn", "planted"]], on=["focus_group", "turn"])
    merged = merged[merged["planted"] != "none"]
    rng = np.random.default_rng(0)
    for group, rows in merged.groupby("participant_group"):
        observed = normalized_mutual_info_score(rows["planted"], rows["theme_id"])
        shuffled = [normalized_mutual_info_score(rows["planted"], rng.permutation(rows["theme_id"].to_numpy()))
                    for _ in range(20)]
        assert observed > max(shuffled) and observed >= 0.15, (group, observed, max(shuffled))
    assert result.themes.groupby("participant_group")["share_of_group"].max().max() <= 0.35


@pytest.mark.slow
def test_editing_one_groups_transcript_leaves_the_other_groups_themes_unchanged(tmp_path):
    """The issue's case: one word changed in one radiographers' transcript, everything
    from a cold cache both times; the other groups' embeddings are bit-identical and their
    themes (members, ids, fingerprints) unchanged."""
    import shutil

    from helpers import embeddings as E
    from helpers.study import load_study
    from helpers.transcripts import read_study_turns

    def themes_of(folder):
        study = load_study(folder / "study.yml")
        seg = E.make_segments(read_study_turns(study))
        emb = E.EmbeddingCache(folder / "cache").embed(seg["text"].tolist(), groups=seg["participant_group"].tolist())
        return seg, emb, T.analyse_groups(seg, emb, study.group_ids, T.ThemeSettings(seed=11))

    before_dir, after_dir = tmp_path / "before", tmp_path / "after"
    shutil.copytree(ROOT / "tests" / "fixtures" / "small_study", before_dir)
    shutil.copytree(ROOT / "tests" / "fixtures" / "small_study", after_dir)
    transcript = after_dir / "FG03_radiographers.txt"
    text = transcript.read_text(encoding="utf-8")
    assert "I'm a dinosaur." in text
    transcript.write_text(text.replace("I'm a dinosaur.", "I am a dinosaur.", 1), encoding="utf-8")
    seg_b, emb_b, before = themes_of(before_dir)
    seg_a, emb_a, after = themes_of(after_dir)
    assert not seg_b["text"].equals(seg_a["text"])  # the edit reached the radiographers' segments
    for group in ("patients_carers", "students"):
        rows_b = (seg_b["participant_group"] == group).to_numpy()
        rows_a = (seg_a["participant_group"] == group).to_numpy()
        assert np.array_equal(emb_b[rows_b], emb_a[rows_a])
        for table in ("themes", "assignments"):
            b, a = getattr(before, table), getattr(after, table)
            pd.testing.assert_frame_equal(b[b["participant_group"] == group].reset_index(drop=True),
                                          a[a["participant_group"] == group].reset_index(drop=True))


@pytest.mark.slow
def test_stress_corpus_of_long_interviews_gives_usable_themes(tmp_path):
    """Over 1,000 segments of long interviews on one broad subject (tests/fixtures/stress_corpus.py):
    no theme over 35% of the group unless its caveat explains why, and consensus reported."""
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
    import stress_corpus

    from helpers import embeddings as E
    from helpers.study import load_study
    from helpers.transcripts import read_study_turns

    study = load_study(stress_corpus.write_study(tmp_path / "stress"))
    seg = E.make_segments(read_study_turns(study))
    assert (seg["participant_group"] == "researchers").sum() >= 1000
    emb = E.EmbeddingCache(tmp_path / "cache").embed(seg["text"].tolist(), groups=seg["participant_group"].tolist())
    themes = T.analyse_groups(seg, emb, study.group_ids, T.ThemeSettings(seed=20200)).themes
    assert len(themes) >= 4
    over = themes[themes["share_of_group"] > 0.35]
    assert over["caveat"].str.contains("homogeneous").all()
    assert themes["consensus"].between(0, 1).all() and themes["label"].str.len().gt(0).all()
