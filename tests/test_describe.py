"""Tests for helpers.describe: the Gini coefficient, who spoke how much, and the figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers.describe import add_word_counts, gini, plot_talk_share, speaker_share, talk_gaps, talk_share  # noqa: E402

# (focus_group, participant_group, speaker, role, text); words are counted without annotations
TURNS = [
    ("FG01", "radiographers", "Interviewer", "facilitator", "So how was it for you"),      # 6
    ("FG01", "radiographers", "Ruth", "participant", "It was busy [laughs] really busy"),  # 5
    ("FG01", "radiographers", "Dev", "participant", "Same here"),                                # 2
    ("FG01", "radiographers", "Ruth", "participant", "We ran late (pause) all afternoon"),       # 5
    ("FG02", "patients_carers", "Facilitator", "facilitator", "Tell me more"),                   # 3
    ("FG02", "patients_carers", "Margaret", "participant", "They knew my name"),                 # 4
    ("FG02", "patients_carers", "Stan", "participant", "And they explained everything [inaudible]"),  # 4
    ("FG03", "radiographers", "Interviewer", "facilitator", "Go on"),                            # 2
    ("FG03", "radiographers", "Ruth", "participant", "I think the targets matter less than people"),  # 8
]


@pytest.fixture
def utterances() -> pd.DataFrame:
    rows = []
    turn = {}
    for fg, pg, speaker, role, text in TURNS:
        turn[fg] = turn.get(fg, 0) + 1
        rows.append({"focus_group": fg, "participant_group": pg, "speaker": speaker, "role": role,
                     "speaker_type": "", "turn": turn[fg], "line": turn[fg], "start_s": np.nan, "text": text,
                     "source": f"{fg}.txt", "format": "plain"})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- gini

def test_gini_is_zero_for_equal_values():
    assert gini([5, 5, 5, 5]) == 0.0


def test_gini_known_values():
    assert gini([0, 0, 0, 10]) == pytest.approx(0.75)
    assert gini([1, 2, 3, 4]) == pytest.approx(0.25)
    assert gini([0, 10]) == pytest.approx(0.5)


def test_gini_is_scale_invariant_and_order_free():
    assert gini([3, 1, 7]) == pytest.approx(gini([70, 10, 30]))


def test_gini_of_nothing_is_zero():
    assert gini([]) == 0.0
    assert gini([0, 0, 0]) == 0.0


def test_gini_accepts_a_series():
    assert gini(pd.Series([0, 0, 0, 10])) == pytest.approx(0.75)


# --------------------------------------------------------------------------- word counts

def test_annotations_are_not_counted_as_words(utterances):
    counted = add_word_counts(utterances)["words"].tolist()
    assert counted == [6, 5, 2, 5, 3, 4, 4, 2, 8]
    assert "words" not in utterances.columns            # the input is not modified


# --------------------------------------------------------------------------- speaker_share

def test_speaker_share_one_row_per_speaker_per_focus_group(utterances):
    s = speaker_share(utterances)
    assert list(s.columns) == ["focus_group", "participant_group", "speaker", "role", "turns", "words",
                               "share_of_words", "share_of_participant_words"]
    assert len(s) == 8                                  # Ruth in FG01 and in FG03 are two rows
    fg01 = s[s["focus_group"] == "FG01"].set_index("speaker")
    assert fg01.loc["Ruth", "turns"] == 2 and fg01.loc["Ruth", "words"] == 10
    assert fg01.loc["Dev", "turns"] == 1 and fg01.loc["Dev", "words"] == 2
    assert fg01.loc["Ruth", "share_of_words"] == pytest.approx(round(10 / 18, 4))
    assert fg01.loc["Interviewer", "share_of_words"] == pytest.approx(round(6 / 18, 4))
    assert fg01.loc["Ruth", "share_of_participant_words"] == pytest.approx(round(10 / 12, 4))
    assert np.isnan(fg01.loc["Interviewer", "share_of_participant_words"])
    for _, g in s.groupby("focus_group"):
        assert g["share_of_words"].sum() == pytest.approx(1.0, abs=1e-3)


def test_speaker_share_orders_facilitator_first_then_participants_by_words(utterances):
    s = speaker_share(utterances)
    assert list(zip(s["focus_group"], s["speaker"])) == [
        ("FG01", "Interviewer"), ("FG01", "Ruth"), ("FG01", "Dev"),
        ("FG02", "Facilitator"), ("FG02", "Margaret"), ("FG02", "Stan"),
        ("FG03", "Interviewer"), ("FG03", "Ruth")]


# --------------------------------------------------------------------------- talk_share

def _row(t: pd.DataFrame, level: str, ident: str) -> pd.Series:
    rows = t[(t["level"] == level) & (t["id"] == ident)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_talk_share_columns_and_rows(utterances):
    t = talk_share(utterances)
    assert list(t.columns) == ["level", "id", "participant_group", "n_focus_groups", "n_participants", "turns",
                               "participant_turns", "words", "participant_words", "facilitator_share_of_words",
                               "gini_participant_words", "turns_per_participant", "top_speaker_share"]
    assert list(zip(t["level"], t["id"])) == [
        ("focus_group", "FG01"), ("focus_group", "FG02"), ("focus_group", "FG03"),
        ("participant_group", "radiographers"), ("participant_group", "patients_carers"),
        ("study", "all")]


def test_talk_share_per_focus_group(utterances):
    t = talk_share(utterances)
    fg01 = _row(t, "focus_group", "FG01")
    assert fg01.participant_group == "radiographers"
    assert fg01.n_participants == 2
    assert (fg01.turns, fg01.participant_turns) == (4, 3)
    assert (fg01.words, fg01.participant_words) == (18, 12)
    assert fg01.facilitator_share_of_words == pytest.approx(round(6 / 18, 4))
    assert fg01.turns_per_participant == pytest.approx(1.5)
    assert fg01.top_speaker_share == pytest.approx(round(10 / 12, 4))
    assert fg01.gini_participant_words == pytest.approx(round(gini([10, 2]), 4))
    fg02 = _row(t, "focus_group", "FG02")
    assert fg02.gini_participant_words == 0.0                # Margaret and Stan said 4 words each
    assert fg02.top_speaker_share == pytest.approx(0.5)
    assert fg02.facilitator_share_of_words == pytest.approx(round(3 / 11, 4))


def test_talk_share_per_participant_group_counts_people_per_focus_group(utterances):
    t = talk_share(utterances)
    rad = _row(t, "participant_group", "radiographers")
    assert rad.n_focus_groups == 2
    assert rad.n_participants == 3                         # Ruth (FG01), Dev, Ruth (FG03)
    assert rad.participant_turns == 4
    assert rad.turns_per_participant == pytest.approx(round(4 / 3, 2))
    assert (rad.words, rad.participant_words) == (28, 20)
    assert rad.facilitator_share_of_words == pytest.approx(round(8 / 28, 4))
    assert rad.gini_participant_words == pytest.approx(round(gini([10, 2, 8]), 4))
    assert rad.top_speaker_share == pytest.approx(round(10 / 20, 4))
    pat = _row(t, "participant_group", "patients_carers")
    assert (pat.n_focus_groups, pat.n_participants, pat.participant_words) == (1, 2, 8)


def test_talk_share_study_row(utterances):
    study = _row(talk_share(utterances), "study", "all")
    assert study.participant_group == "all"
    assert (study.n_focus_groups, study.n_participants) == (3, 5)
    assert (study.words, study.participant_words) == (39, 28)
    assert study.facilitator_share_of_words == pytest.approx(round(11 / 39, 4))


def test_focus_group_without_facilitator_talk(utterances):
    only_participants = utterances[utterances["role"] == "participant"]
    t = talk_share(only_participants)
    assert _row(t, "focus_group", "FG01").facilitator_share_of_words == 0.0


# --------------------------------------------------------------------------- figure

def test_plot_talk_share_has_one_bar_row_per_focus_group(utterances):
    speakers = speaker_share(utterances)
    labels = {"radiographers": "Therapeutic radiographers", "patients_carers": "Patients and carers"}
    palette = {"radiographers": "#4477AA", "patients_carers": "#EE6677"}
    fig = plot_talk_share(speakers, labels, palette)
    try:
        ax = fig.axes[0]
        assert [t.get_text() for t in ax.get_yticklabels()] == ["FG01", "FG02", "FG03"]
        bars = [p for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle)]
        rows: dict[float, float] = {}
        for b in bars:
            centre = round(b.get_y() + b.get_height() / 2, 6)
            rows[centre] = rows.get(centre, 0.0) + b.get_width()
        assert sorted(rows) == [0.0, 1.0, 2.0]
        for total in rows.values():                          # participants + facilitator fill the bar
            assert total == pytest.approx(1.0, abs=1e-3)
        # FG01: Ruth, Dev and the facilitator: three blocks in that row
        assert sum(1 for b in bars if round(b.get_y() + b.get_height() / 2, 6) == 0.0) == 3
        texts = [t.get_text() for t in ax.texts]
        assert "2 people · Gini 0.33" in texts
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == ["Therapeutic radiographers", "Patients and carers", "Facilitator"]
    finally:
        plt.close(fig)


# --------------------------------------------------------------------------- talk gaps

def test_talk_gaps_say_which_groups_have_no_participant_talk(utterances):
    assert talk_gaps(utterances).empty
    silent = utterances.copy()
    # FG02 (the only patients_carers group) keeps only its facilitator; FG03 too.
    silent = silent[~((silent["focus_group"].isin(["FG02", "FG03"])) & (silent["role"] == "participant"))]
    gaps = talk_gaps(silent.reset_index(drop=True))
    assert gaps.to_dict("records") == [
        {"level": "focus_group", "id": "FG02", "participant_group": "patients_carers",
         "note": "FG02: no participant talk (1 facilitator turn); adds nothing to the themes"},
        {"level": "focus_group", "id": "FG03", "participant_group": "radiographers",
         "note": "FG03: no participant talk (1 facilitator turn); adds nothing to the themes"},
        {"level": "participant_group", "id": "patients_carers", "participant_group": "patients_carers",
         "note": "patients_carers: no participant talk; no themes"},
    ]
    # talk_share still describes the silent group rather than failing on it
    summary = talk_share(silent.reset_index(drop=True))
    assert summary.set_index("id").loc["patients_carers", "n_participants"] == 0
