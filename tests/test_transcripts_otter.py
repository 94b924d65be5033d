"""Tests of helpers.transcripts.otter: Otter.ai text exports.
"""

from __future__ import annotations

from transcripts_support import read, starts


def test_otter_export():
    df = read("otter.txt")
    assert df["speaker"].tolist() == ["Rachel", "Speaker 2", "Priya", "Speaker 2", "Rachel"]
    assert df["line"].tolist() == [10, 13, 17, 23, 26]
    # M:SS, MM:SS and H:MM:SS; the last heading has one space (allowed: Rachel is listed
    # under SPEAKERS).
    assert starts(df) == [4.0, 9.0, 15.0, 768.0, 3735.0]
    assert df.loc[1, "text"] == "Um, hi. I'm a band five, I started last year."
    assert df.loc[2, "text"] == ("[crosstalk] Sorry, go on. No, I mean, the list was running "
                                 "late again.")
    # The "Transcribed by https://otter.ai" footer is not part of the last turn.
    assert df.loc[4, "text"] == "Anything else before we stop?"
