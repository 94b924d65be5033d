"""Tests of helpers.agreement: human codes against the themes, per code and participant
group, with Cohen's κ, Gwet's AC1, F1 and a k-means baseline (values worked by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_qda_export import FIXTURES, synthetic_inputs

from helpers import report
from helpers.agreement import AGREEMENT_COLUMNS, agreement_by_code, binary_agreement, compare_human_coding, \
    write_agreement
from helpers.human_codes import map_codes_to_segments, read_human_codes_qdpx

KM, D, FS = "Compassion/Knowing me", "Compassion/Delays", "Feeling scared"


def test_binary_agreement_by_hand():
    # 10 items; people say yes to 0, 1, 9; the model to 0, 9
    human = np.zeros(10, bool)
    human[[0, 1, 9]] = True
    model = np.zeros(10, bool)
    model[[0, 9]] = True
    got = binary_agreement(human, model)
    # po = 9/10; kappa: pe = .3*.2 + .7*.8 = .62 -> .28/.38; AC1: pi = .25, pe = .375 -> .525/.625
    assert got["precision"] == 1.0 and got["recall"] == pytest.approx(2 / 3) and got["f1"] == pytest.approx(0.8)
    assert got["cohen_kappa"] == pytest.approx(14 / 19) and got["gwet_ac1"] == pytest.approx(0.84)


def test_kappa_collapses_for_a_rare_code_where_ac1_does_not():
    # 20 items, each rater says yes once, never to the same item: they agree on 18 of 20
    human, model = np.zeros(20, bool), np.zeros(20, bool)
    human[0], model[1] = True, True
    got = binary_agreement(human, model)
    assert got["cohen_kappa"] == pytest.approx((0.9 - 0.905) / 0.095)      # below zero
    assert got["gwet_ac1"] == pytest.approx((0.9 - 0.095) / 0.905)        # 0.89
    # both raters saying no to everything: kappa is undefined, not a number pretending
    assert binary_agreement(np.zeros(5, bool), np.zeros(5, bool))["cohen_kappa"] is None


@pytest.fixture()
def study():
    return synthetic_inputs()


@pytest.fixture()
def mapped(study):
    human = read_human_codes_qdpx(FIXTURES / "human_coded.qdpx")
    return map_codes_to_segments(human, study["segments"], study["utterances"])


def _embeddings(study) -> np.ndarray:
    """Two tight pairs in FG01's coded segments, so k-means (k = 2) splits them by turn."""
    places = {"FG01-t002-s1": (0, 0), "FG01-t002-s2": (0, 0.1), "FG01-t003-s1": (5, 5), "FG01-t003-s2": (5, 5.1),
              "FG02-t002-s1": (0, 9), "FG02-t002-s2": (0.1, 9), "FG02-t003-s1": (9, 0), "FG02-t004-s1": (9, 0.1)}
    return np.array([places.get(sid, (20 + i, -20)) for i, sid in enumerate(study["segments"]["segment_id"])], float)


def test_each_code_meets_its_own_groups_themes_on_coded_segments_only(study, mapped):
    table = agreement_by_code(mapped, study["segments"], study["segment_themes"], _embeddings(study), seed=3)
    assert list(table.columns) == AGREEMENT_COLUMNS
    rows = {(r.participant_group, r.code): r for r in table.itertuples()}
    assert list(rows) == [("radiographers", KM), ("radiographers", D), ("patients_carers", KM),
                          ("patients_carers", D), ("patients_carers", FS)]
    assert set(table["n_segments"]) == {4}        # each group's 4 coded segments, not its 6 or 5
    # radiographers: KM on t002-s1, s2, t003-s2 is exactly T01
    km = rows[("radiographers", KM)]
    assert (km.theme, km.n_theme, km.f1, km.cohen_kappa, km.gwet_ac1) == ("radiographers:T01", 3, 1.0, 1.0, 1.0)
    # D on t003-s1, s2 vs T02 = {t003-s1}: F1 2/3; po 3/4, kappa .5, AC1 = .28125/.53125 = 9/17
    d = rows[("radiographers", D)]
    assert d.theme == "radiographers:T02" and (d.precision, d.recall) == (1.0, 0.5)
    assert (d.f1, d.cohen_kappa, d.gwet_ac1) == pytest.approx((2 / 3, 0.5, 9 / 17))
    # patients and carers: D is held against their T02 only, never the radiographers' T02
    assert rows[("patients_carers", D)].theme == "patients_carers:T02"
    assert rows[("patients_carers", FS)].f1 == pytest.approx(2 / 3)
    # k-means baseline: clusters {t002-s1, s2} and {t003-s1, s2}; KM's best is the first, F1 4/5
    assert km.kmeans_k == 2 and km.kmeans_f1 == pytest.approx(0.8)


def test_without_embeddings_there_is_no_baseline(study, mapped):
    table = agreement_by_code(mapped, study["segments"], study["segment_themes"])
    assert table["kmeans_f1"].isna().all() and table["f1"].notna().all()


def _with_a_laugh(study) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Brenda laughs inside FG02-t002-s1: the transcript keeps the mark, the segment's
    ``text`` (annotations removed) does not, and the later segment of the turn moves on."""
    laugh = " [laughs]"
    utterances, segments = study["utterances"].copy(), study["segments"].copy()
    row = (utterances["focus_group"] == "FG02") & (utterances["turn"] == 2)
    utterances.loc[row, "text"] = utterances.loc[row, "text"].str.replace("name 💛", "name 💛" + laugh)
    first, second = segments["segment_id"] == "FG02-t002-s1", segments["segment_id"] == "FG02-t002-s2"
    segments.loc[first, "char_end"] += len(laugh)
    segments.loc[second, ["char_start", "char_end"]] += len(laugh)
    return utterances, segments


def test_agreement_reaches_the_report_with_coded_quotes(study, tmp_path):
    utterances, segments = _with_a_laugh(study)
    got = compare_human_coding(FIXTURES / "human_codes.csv", segments, utterances, study["segment_themes"],
                               _embeddings(study), seed=3)
    assert set(got.per_code["code"]) == {D, "Team"}
    written = write_agreement(tmp_path, got)
    assert [p.name for p in written] == ["human_agreement.csv", "human_disagreements.csv"]
    section = report.section_html(tmp_path, "agreement")
    assert "Gwet&#x27;s AC1" in section or "Gwet's AC1" in section
    assert "k-means F1" in section and "Team" in section
    # no coding this time: the tables of the earlier run go, and the report says how to compare
    none = compare_human_coding("", segments, utterances, study["segment_themes"])
    assert write_agreement(tmp_path, none) == [] and not (tmp_path / "human_agreement.csv").exists()
    assert "set <code>human_codes</code> in notebook 07" in report.section_html(tmp_path, "agreement")


def test_disagreement_quotes_are_the_coded_text(study, mapped):
    from helpers.agreement import disagreements

    utterances, segments = _with_a_laugh(study)
    table = disagreements(mapped, study["segment_themes"], segments, utterances=utterances)
    quote = table.set_index("segment_id").loc["FG02-t002-s1", "quote"]
    assert quote == "They called me by my name 💛 [laughs] and held my hand."     # as the coders saw it
    assert segments.set_index("segment_id").loc["FG02-t002-s1", "text"] == "They called me by my name 💛 and held my hand."
