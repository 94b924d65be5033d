"""Tests of helpers.transcripts.labels: which text before a colon is a speaker label, and
labels written loosely (another case, no space, a full-width colon).
"""

from __future__ import annotations

import pytest

from helpers.transcripts import read_transcript

from transcripts_support import DECLARED, MISREAD, pairs, warnings_of, write


@pytest.mark.parametrize("trap", [
    "The thing is: nobody told me",
    "What I said was: no",
    "Honestly: it was awful",
    "so yeah: whatever",
    "Two things, really: time and money",
    "Was it fine? Yes: mostly",
    "It was ok. Then: chaos",
    "My mum always said: be kind",
])
def test_sentences_with_a_colon_are_not_labels(tmp_path, trap):
    df = read_transcript(write(tmp_path, "t.txt", f"Tom: Right.\n{trap}\nAnn: Yes.\n"))
    assert df["speaker"].tolist() == ["Tom", "Ann"]
    assert df.loc[0, "text"] == f"Right. {trap}"


@pytest.mark.parametrize("label", [
    "Speaker 3", "Rachel (facilitator)", "Dr. J. Patel", "Mary-Jane O’Connor", "P1",
    "Sam (she/her)", "FACILITATOR", "Carer (his wife)",
])
def test_name_like_labels_are_accepted(tmp_path, label):
    df = read_transcript(write(tmp_path, "t.txt", f"Tom: Right.\n{label}: Yes.\n"))
    assert df["speaker"].tolist() == ["Tom", label]


def test_whitespace_and_label_normalisation(tmp_path):
    path = write(tmp_path, "t.txt",
                 "  Tom :   lots\tof \u00a0 space  \n\n   and more  \nAnn:\nhello\n")
    df = read_transcript(path)
    assert df["speaker"].tolist() == ["Tom", "Ann"]
    assert df["text"].tolist() == ["lots of space and more", "hello"]


@pytest.mark.parametrize("declared", [None, DECLARED], ids=["from the file", "declared"])
def test_label_in_another_case_without_space_or_with_full_width_colon_starts_a_turn(declared):
    df = read_transcript(MISREAD / "label_variants.txt", declared)
    assert df["speaker"].tolist() == ["Interviewer", "Jude", "Morag", "Jude", "Morag", "Jude", "Morag", "Jude"]
    assert df["line"].tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    assert df["text"].tolist()[3::2] == ["And they warmed the gel, which nobody had told me about.",
                                         "A lovely touch, that, I still think about it.",
                                         "They asked about my dog every single morning."]
    found = warnings_of(df, "label")
    assert [w["line"] for w in found] == [4] and "'jude' was read as 'Jude'" in found[0]["message"]


def test_loose_labels_only_for_known_speakers(tmp_path):
    # 'so:' and 'Note:right' name nobody in the file, so they stay text.
    df = read_transcript(write(tmp_path, "t.txt", "Ann: Hello there.\nso:right, anyway\nNote:right\nBob: Hi.\n"))
    assert pairs(df) == [("Ann", "Hello there. so:right, anyway Note:right"), ("Bob", "Hi.")]
