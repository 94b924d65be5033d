"""Tests of helpers.transcripts.captions: Teams and Zoom WebVTT, SRT subtitles, and the
caption files once misread (missing blank lines, cue numbers, times out of order).
"""

from __future__ import annotations

import pytest

from helpers.transcripts import TranscriptError, read_transcript

from transcripts_support import MISREAD, assert_message, pairs, read, starts, warnings_of, write


def test_teams_webvtt_voice_tags():
    df = read("teams.vtt")
    assert df["speaker"].tolist() == ["Rachel Smith", "Chloe Evans", "Jordan O'Neill"]
    # NOTE and STYLE blocks are skipped; line is the cue payload's first line.
    assert df["line"].tolist() == [11, 19, 29]
    # start_s is the first cue of the merged turn; 01:02:03.500 is 3723.5 s.
    assert starts(df) == pytest.approx([2.14, 10.5, 3723.5])
    assert df.loc[0, "text"] == ("Hi everyone, thanks for joining. "
                                 "Shall we start with introductions?")
    # <v.loud>, a missing </v>, <i> and <c.yellow> are handled; [laughs] is kept.
    assert df.loc[1, "text"] == ("I'm Chloe, second year, on placement at the moment. "
                                 "[laughs] Sorry, yes.")
    assert df.loc[2, "text"] == "Same & me – honestly."


def test_zoom_webvtt_labels():
    df = read("zoom.vtt")
    assert df["speaker"].tolist() == ["Facilitator", "Sam O'Brien", "Facilitator"]
    assert df["line"].tolist() == [5, 9, 21]
    # The last cue uses MM:SS.mmm timing (10:05.000 = 605 s).
    assert starts(df) == [1.0, 4.0, 605.0]
    # Three cues, the last without a label, are one turn.
    assert df.loc[1, "text"] == ("Thanks. So, um, the mask was the worst bit. Honestly: "
                                 "terrifying at first. It got easier, though.")


def test_srt_subtitles():
    df = read("subs.srt")
    assert df["speaker"].tolist() == ["Facilitator", "Joan", "Facilitator"]
    assert df["line"].tolist() == [3, 7, 16]
    assert starts(df) == [1.0, 4.5, 70.0]
    assert df.loc[1, "text"] == "Being treated like a person, not a number. Definitely."


def test_webvtt_voices_in_one_cue(tmp_path):
    path = write(tmp_path, "c.vtt", "WEBVTT\n\n00:01.000 --> 00:02.000\n"
                 "<v Ann>Hi.</v>\n<v Bob>Hello.</v>\n")
    df = read_transcript(path)
    assert df["speaker"].tolist() == ["Ann", "Bob"]
    assert df["line"].tolist() == [4, 5]
    assert starts(df) == [1.0, 1.0]


def test_first_caption_without_speaker(tmp_path):
    path = write(tmp_path, "c.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello.\n")
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, "line 4", "no speaker", "<v Name>")


def test_srt_without_cue_numbers_is_srt(tmp_path):
    path = write(tmp_path, "t.txt", "00:00:04,428 --> 00:00:13,354\nFacilitator: Welcome.\n\n"
                 "00:00:14,000 --> 00:00:16,000\nJoan: Thanks.\n\n"
                 "00:00:16,500 --> 00:00:18,000\nFacilitator: Go on.\n")
    df = read_transcript(path)
    assert df.attrs["format"] == "srt"
    assert df["speaker"].tolist() == ["Facilitator", "Joan", "Facilitator"]
    assert not df["text"].str.contains("-->").any()
    assert df["line"].tolist() == [2, 5, 8]
    assert starts(df) == pytest.approx([4.428, 14.0, 16.5])


def test_vtt_with_a_blank_line_missing_keeps_the_next_cue_apart(tmp_path):
    path = write(tmp_path, "c.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ann>Hello there.</v>\n"
                 "00:00:03.000 --> 00:00:04.000\n<v Bob>Hi Ann.</v>\n")
    df = read_transcript(path)
    assert df["speaker"].tolist() == ["Ann", "Bob"]
    assert df["text"].tolist() == ["Hello there.", "Hi Ann."]
    assert df["line"].tolist() == [4, 6]
    assert starts(df) == [1.0, 3.0]


def test_srt_with_a_blank_line_missing_keeps_the_next_cue_apart(tmp_path):
    path = write(tmp_path, "s.srt", "1\n00:00:01,000 --> 00:00:02,000\nAnn: Hello.\n"
                 "2\n00:00:03,000 --> 00:00:04,000\nBob: Hi.\n")
    df = read_transcript(path)
    assert df["speaker"].tolist() == ["Ann", "Bob"]
    assert df["text"].tolist() == ["Hello.", "Hi."]


def test_vtt_text_outside_any_cue_is_an_error(tmp_path):
    path = write(tmp_path, "c.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ann>Hello.</v>\n\n"
                 "<v Bob>Lost words.</v>\n")
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, "line 6", "not inside a cue", "timing line")


def test_vtt_backwards_and_overlapping_times_are_warned_naming_the_cue(tmp_path):
    path = write(tmp_path, "c.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:05.000\n<v Ann>One.</v>\n\n"
                 "01:59:59.000 --> 02:00:01.000\n<v Bob>Two.</v>\n\n"
                 "00:00:06.000 --> 00:00:08.000\n<v Ann>Three.</v>\n\n"
                 "00:00:07.000 --> 00:00:09.000\n<v Bob>Four.</v>\n")
    df = read_transcript(path)
    assert df["text"].tolist() == ["One.", "Two.", "Three.", "Four."]   # the file's order is kept
    found = warnings_of(df, "timestamps")
    assert [w["line"] for w in found] == [9, 12]
    assert found[0]["message"].startswith(f"{path}, line 9: the cue starts at 00:00:06.000, earlier than the cue "
                                          "above it (line 6, 01:59:59.000)")
    assert "ends at 00:00:08.000" in found[1]["message"]


def test_srt_cue_with_two_speakers_gives_two_turns():
    df = read_transcript(MISREAD / "srt_two_speakers.srt")
    assert pairs(df) == [("Facilitator", "What stays with you from placement?"),
                         ("Marcus", "The first day on the unit, honestly."),
                         ("Saskia", "Same, the noise of the machine."),
                         ("Marcus", "Yeah, that noise.")]
    assert df["line"].tolist() == [3, 7, 8, 12]
    assert starts(df) == [1.0, 3.5, 3.5, 7.5]


def test_vtt_cue_number_without_a_blank_line_above_is_not_text():
    df = read_transcript(MISREAD / "vtt_cue_numbers.vtt")
    assert pairs(df) == [("Ann", "Sorry, I think I've gone on mute."), ("Bob", "We can hear you now."),
                         ("Ann", "Good, thanks, so the mask."), ("Bob", "The mask was the hardest part."),
                         ("Ann", "For me too.")]
    assert df["line"].tolist() == [5, 8, 12, 15, 18]
    assert starts(df) == [30.0, 32.5, 35.5, 40.0, 43.0]
