"""Tests of helpers.transcripts.word_documents: bold labels, 'Name: text' paragraphs and
lines, two-column tables, and damaged or incomplete documents.
"""

from __future__ import annotations

import zipfile

import docx
import pytest

from helpers.transcripts import TranscriptError, read_transcript

from transcripts_support import MISREAD, NAN, assert_message, pairs, read, starts


def test_docx_bold_labels():
    df = read("bold_labels.docx")
    assert df["speaker"].tolist() == ["Rachel", "Margaret", "Dev", "Rachel"]
    # Paragraph numbers count every body paragraph, including the heading and blanks.
    assert df["line"].tolist() == [4, 5, 6, 9]
    assert df["start_s"].isna().all()
    assert df.loc[1, "text"] == "I had the mask for my throat."  # colon in the next run
    # Bold name without colon, a continuation paragraph, then a repeated label: one turn.
    assert df.loc[2, "text"] == ("I drove her in every day. It was forty minutes each way "
                                 "[laughs]. Parking was awful.")
    assert df.loc[3, "text"] == "Thank you."


def test_docx_plain_text_labels():
    df = read("plain_labels.docx")
    assert df["speaker"].tolist() == ["Facilitator", "P1", "P2", "P1"]
    assert df["line"].tolist() == [2, 3, 5, 7]
    assert starts(df) == pytest.approx([NAN, NAN, 600.0, NAN], nan_ok=True)
    assert df.loc[1, "text"] == "The waiting room. Honestly: it's grim."


def test_docx_two_column_table():
    df = read("table.docx")
    assert df["speaker"].tolist() == ["Facilitator", "Ann", "Bob"]
    # Table row numbers, counting the skipped header row.
    assert df["line"].tolist() == [2, 3, 6]
    assert df.loc[1, "text"] == ("Hello, I'm Ann. I look after my husband. "
                                 "He's in the waiting room now [laughs].")


def test_docx_label_without_text(tmp_path):
    document = docx.Document()
    document.add_paragraph("Ann: Hello.")
    document.add_paragraph("Bob:")
    document.add_paragraph("Ann: Anyone?")
    path = tmp_path / "gap.docx"
    document.save(path)
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, "paragraph 2", "'Bob' has no text")


def test_damaged_word_document(tmp_path):
    path = tmp_path / "broken.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "not xml at all")
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, None, "cannot be opened as a Word document",
                   "save it again")


def test_docx_line_breaks_split_turns_where_a_label_starts_the_line():
    df = read_transcript(MISREAD / "line_breaks.docx")
    assert pairs(df) == [("Facilitator", "What stays with you?"),
                         ("Ann", "The kindness of the team. It mattered more than I expected."),
                         ("Bob", "Same for me."), ("Facilitator", "Anything else?"), ("Ann", "The parking.")]
    assert df["line"].tolist() == [2, 2, 2, 3, 3]        # the paragraph each line is in
