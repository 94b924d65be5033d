"""Tests of helpers.transcripts.speakers: labels held to the speakers study.yml declares.
"""

from __future__ import annotations

import pytest

from helpers.transcripts import DeclaredSpeakers, TranscriptError, read_transcript

from transcripts_support import DECLARED, assert_message, warnings_of, write


def test_mistyped_facilitator_label_stops_with_did_you_mean(tmp_path):
    path = write(tmp_path, "t.txt", "Interviewer: Hello.\nMorag: Hi.\nInterviwer: And you?\nJude: Me too.\n"
                 "Interviwer: Thanks.\n")
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path, DECLARED)
    assert str(caught.value) == (
        f"{path}, line 3: the label 'Interviwer' (also line 5) is not declared in focus group FG03 of "
        "study.yml (did you mean 'Interviewer'?); correct the label in the transcript, or declare it in "
        "study.yml if it is another person.")


def test_word_colon_continuation_is_text_not_a_speaker(tmp_path):
    path = write(tmp_path, "t.txt", "Interviewer: Tell me.\nMorag: It was hard.\n"
                 "Radiotherapy: it is a lonely place.\nJude: Yes.\n")
    df = read_transcript(path, DECLARED)
    assert df["speaker"].tolist() == ["Interviewer", "Morag", "Jude"]
    assert df.loc[1, "text"] == "It was hard. Radiotherapy: it is a lonely place."
    found = warnings_of(df, "label")
    assert [w["line"] for w in found] == [3] and "read as part of Morag's turn" in found[0]["message"]


def test_undeclared_speaker_who_recurs_stops_the_run(tmp_path):
    path = write(tmp_path, "t.txt", "Interviewer: Tell me.\nPriya: One.\nMorag: Two.\nPriya: Three.\n")
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path, DECLARED)
    assert_message(caught.value, path, "line 2", "'Priya' speaks here but is not declared",
                   "add the label under the focus group's speakers")


def test_undeclared_voice_tag_stops_the_run(tmp_path):
    path = write(tmp_path, "c.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Interviewer>Hi.</v>\n\n"
                 "00:00:03.000 --> 00:00:04.000\n<v Stranger>Hello.</v>\n")
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path, DECLARED)
    assert_message(caught.value, path, "line 7", "'Stranger' speaks here but is not declared")


def test_unlisted_speakers_are_read_but_a_mistyped_facilitator_still_stops(tmp_path):
    unlisted = DeclaredSpeakers(("Interviewer",), (), False, "focus group FG03 of study.yml")
    path = write(tmp_path, "t.txt", "Interviewer: Tell me.\nPriya: One.\nMorag: Two.\n")
    assert read_transcript(path, unlisted)["speaker"].tolist() == ["Interviewer", "Priya", "Morag"]
    path = write(tmp_path, "u.txt", "Interviewer: Tell me.\nPriya: One.\nInterviwer: Two?\n")
    with pytest.raises(TranscriptError, match="did you mean 'Interviewer'"):
        read_transcript(path, unlisted)


def test_capitalised_declared_label_is_read_as_the_declared_speaker(tmp_path):
    path = write(tmp_path, "t.txt", "Interviewer: Hello.\nMorag: Hi.\nINTERVIEWER: And you?\nJude: Me too.\n")
    df = read_transcript(path, DECLARED)
    assert df["speaker"].tolist() == ["Interviewer", "Morag", "Interviewer", "Jude"]
    assert [w["line"] for w in warnings_of(df, "label")] == [3]
