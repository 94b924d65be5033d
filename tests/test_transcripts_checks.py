"""Tests of helpers.transcripts.checks: turns pasted twice, a turn repeated on the next line,
massive repetition, and a transcript whose line breaks were lost.
"""

from __future__ import annotations

import pytest

from helpers.transcripts import TranscriptError, read_transcript

from transcripts_support import MISREAD, assert_message, pairs, read, warnings_of, write


def test_massive_repetition_is_warned_with_the_counts(tmp_path):
    # Short replies in no repeating order (a block repeated word for word stops the run:
    # see test_transcript_pasted_twice_stops_naming_both_copies).
    import random

    chooser, speakers, lines = random.Random(0), ["Ann", "Bob", "Cat"], []
    for i in range(80):
        speaker = chooser.choice([s for s in speakers if not lines or not lines[-1].startswith(s)])
        lines.append(f"{speaker}: {chooser.choice(['Yeah.', 'Mm.', 'Right.'])}")
    df = read_transcript(write(tmp_path, "dup.txt", "\n".join(lines) + "\n"))
    found = warnings_of(df, "repetition")
    assert len(found) == 1 and "80 turns hold only 3 distinct texts" in found[0]["message"]
    assert not warnings_of(read("plain.txt"), "repetition")


def test_transcript_pasted_twice_stops_naming_both_copies():
    path = MISREAD / "pasted_twice.txt"
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, "line 7", "6 turns from line 7 to 12", "from line 1", "pasted twice",
                   "delete the repeated turns")


def test_long_transcript_pasted_twice_with_its_seam_merged_stops(tmp_path):
    # 93 distinct turns pasted twice; the copy's first speaker is the original's last,
    # so the seam merges (185 turns, 94 distinct texts: under the repetition warning's bar).
    speakers = ["Ann", "Bob", "Cat"]
    lines = [f"{speakers[i % 3]}: Point {i} about the mask, the waiting room and the staff who cared." for i in range(93)]
    lines[-1] = "Ann: " + lines[-1].split(": ", 1)[1]
    path = write(tmp_path, "twice.txt", "\n".join(lines + lines) + "\n")
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, "line 94", "pasted twice", "from line 1")


def test_turn_repeated_on_the_next_line_stops():
    path = MISREAD / "repeated_line.txt"
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, "line 3", "Morag's turn here repeats", "line 2", "delete the copy")


def test_short_replies_may_repeat(tmp_path):
    df = read_transcript(write(tmp_path, "t.txt", "Ann: Yes. Yes.\nAnn: Yes. Yes.\nBob: No.\nAnn: Mm.\nBob: No.\n"
                               "Ann: Mm.\nBob: No.\n"))
    assert pairs(df)[0] == ("Ann", "Yes. Yes. Yes. Yes.") and len(df) == 6


def test_a_line_of_megabytes_stops_instead_of_becoming_one_turn(tmp_path):
    sentence = "Ann: I felt cared for. Bob: So did I, mostly. "
    path = write(tmp_path, "one_line.txt", sentence * (2_000_000 // len(sentence)) + "\n")
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, "line 1", "'Ann'", "characters", "line breaks", "one line per turn")
