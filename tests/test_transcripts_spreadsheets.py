"""Tests of helpers.transcripts.spreadsheets: XLSX (every sheet with the columns), CSV and
TSV, header synonyms and start times.
"""

from __future__ import annotations

import pytest

from helpers.transcripts import TranscriptError, read_transcript

from transcripts_support import MISREAD, assert_message, pairs, read, starts, warnings_of, write


def test_xlsx_first_sheet_with_start_column():
    df = read("interview.xlsx")
    assert df["speaker"].tolist() == ["Facilitator", "Lucy", "Omar", "Facilitator"]
    assert df["line"].tolist() == [2, 3, 5, 7]
    # Seconds, "00:00:05.5", an Excel time cell (00:01:05) and "1:10" (MM:SS).
    assert starts(df) == [0.0, 5.5, 65.0, 70.0]
    assert df.loc[1, "text"] == "I had the mask, and it was tight."


def test_csv_with_mixed_case_headers_and_quoted_newline():
    df = read("mixed_case.csv")
    assert df["speaker"].tolist() == ["Facilitator", "Lucy", "Facilitator"]
    # Lucy's first record spans lines 3-4, so the last row starts on line 6.
    assert df["line"].tolist() == [2, 3, 6]
    assert starts(df) == [0.0, 5.5, 80.0]
    assert df.loc[0, "text"] == "Welcome, everyone."
    assert df.loc[1, "text"] == "I had the mask, and it was tight. Then it got easier."


def test_tsv_with_synonym_headers():
    df = read("interview.tsv")
    assert df["speaker"].tolist() == ["Facilitator", "Kofi", "Facilitator"]
    assert df["line"].tolist() == [2, 3, 6]
    assert starts(df) == [1.5, 4.0, 30.0]
    assert df.loc[1, "text"] == "Scary [pause] but fine. Honestly fine."


def test_semicolon_separated_csv():
    df = read("semicolon.csv")
    assert df["speaker"].tolist() == ["Amy", "Ben"]
    assert df["text"].tolist() == ["Hello; hi.", "Hiya."]


def test_csv_bad_start_time(tmp_path):
    path = write(tmp_path, "t.csv", "speaker,start,text\nAnn,soon,Hello.\n")
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, "line 2", "'soon'", "HH:MM:SS")


def test_xlsx_reads_every_sheet_with_the_columns_in_order_and_names_the_others():
    df = read_transcript(MISREAD / "split_sheets.xlsx")
    assert pairs(df) == [("Facilitator", "Welcome, everyone."), ("Lucy", "The mask was tight."),
                         ("Omar", "Same here."), ("Facilitator", "Thank you.")]
    assert df["line"].tolist() == [2, 3, 2, 3]           # the row within its sheet
    found = warnings_of(df, "sheets")
    assert len(found) == 1 and "'Notes' (columns 'who', 'what')" in found[0]["message"]


def test_xlsx_with_a_notes_sheet_first_reads_the_transcript_sheet():
    df = read_transcript(MISREAD / "notes_first.xlsx")
    assert pairs(df) == [("Facilitator", "Welcome."), ("Lucy", "Hello.")]
    assert "'Notes'" in warnings_of(df, "sheets")[0]["message"]


def test_xlsx_error_rows_name_their_sheet(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.title = "Part 1"
    workbook.active.append(("speaker", "start", "text"))
    workbook.active.append(("Ann", 1, "Hi."))
    second = workbook.create_sheet("Part 2")
    second.append(("speaker", "start", "text"))
    second.append(("Bob", "soon", "Hello."))
    path = tmp_path / "parts.xlsx"
    workbook.save(path)
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, "sheet 'Part 2' row 2", "'soon'")


def test_xlsx_where_no_sheet_has_the_columns_names_every_sheet(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(("who", "what"))
    workbook.create_sheet("Codes").append(("code", "meaning"))
    path = tmp_path / "none.xlsx"
    workbook.save(path)
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, None, "'Notes' (columns 'who', 'what')", "'Codes'", "'speaker'")
