"""Tests of helpers.transcripts.plain: "Speaker: text" lines and typed blocks.
"""

from __future__ import annotations

import pytest

from helpers.transcripts import read_transcript

from transcripts_support import DECLARED, MISREAD, NAN, read, starts


def test_plain_speaker_text_lines():
    df = read("plain.txt")
    assert df["speaker"].tolist() == [
        "Rachel (facilitator)", "Speaker 3", "Tom", "Anna-Marie O'Neil",
        "Rachel (facilitator)", "Anna-Marie O'Neil", "Dr. J. Patel", "Tom",
    ]
    # The title, "Date:" and "Duration:" lines above the first turn are skipped.
    assert df["line"].tolist() == [5, 7, 9, 11, 12, 13, 14, 16]
    assert starts(df) == pytest.approx([NAN, NAN, NAN, 310.0, 362.0, NAN, NAN, 435.0],
                                       nan_ok=True)
    # A continuation line joins the turn.
    assert df.loc[0, "text"] == ("Thanks for coming, everyone. Could we start by going round "
                                 "and saying who we are?")
    # "The thing is: ..." is a sentence, not a speaker called "The thing is".
    assert df.loc[1, "text"] == (
        "I'm a band six, I've been in the department about ten years. The thing is: nobody "
        "told me what compassion would look like on a busy list.")
    # Two consecutive "Tom:" lines are one turn.
    assert df.loc[2, "text"] == "Yeah, same [laughs]. It was a lot, honestly."
    # A colon inside the text (10:15) is left alone; annotations are kept.
    assert df.loc[3, "text"] == "I think, um, knowing people's names. Not \"the 10:15 prostate\"."
    assert df.loc[6, "text"] == ("Remembering the little things [inaudible 00:06:30]. "
                                 "Honestly: it's the rota that kills you.")


def test_typed_blocks():
    df = read("typed.txt")
    assert df["speaker"].tolist() == ["Facilitator", "Margaret", "Dev Sharma", "Dr. A. Okafor",
                                      "Facilitator"]
    assert df["line"].tolist() == [4, 7, 13, 16, 22]
    assert df["start_s"].isna().all()
    # Blank lines inside a block are fine; "Note: ..." inside a block is text, not a label.
    assert df.loc[1, "text"] == ("I'm Margaret. I had radiotherapy for breast cancer last year, "
                                 "five weeks on the machine. Note: I still have the tattoos.")
    assert df.loc[2, "text"] == "I'm Dev, I drove my dad in every day: he had the mask."
    assert df.loc[3, "text"] == ("[laughs] I'm not a real doctor, it's a nickname. "
                                 "Everyone calls me that.")


@pytest.mark.parametrize("declared", [None, DECLARED], ids=["from the file", "declared"])
def test_inline_labels_in_a_typed_transcript_start_turns(declared):
    df = read_transcript(MISREAD / "typed_inline.txt", declared)
    assert df.attrs["format"] == "typed"
    assert df["speaker"].tolist() == ["Interviewer", "Morag", "Jude", "Interviewer", "Jude", "Morag"]
    assert df["line"].tolist() == [3, 6, 9, 10, 13, 15]
    # 'Note:' names nobody who speaks, so it stays in Morag's text.
    assert df.loc[1, "text"] == "The waiting room was always cold. Note: the heating was fixed later."
