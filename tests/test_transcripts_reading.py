"""Tests of helpers.transcripts.reading: the tidy table of turns, the same for every format,
and every error message one sentence naming the file, the line and the fix.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers.transcripts import SUPPORTED_FORMATS, TranscriptError, detect_format, read_transcript

from transcripts_support import BAD, FIXTURES, assert_message, read


def test_columns_dtypes_and_format_attribute():
    df = read("plain.txt")
    assert list(df.columns) == ["speaker", "text", "turn", "line", "start_s"]
    assert df["turn"].dtype == "int64"
    assert df["line"].dtype == "int64"
    assert df["start_s"].dtype == "float64"
    assert all(isinstance(value, str) for value in df["speaker"])
    assert all(isinstance(value, str) for value in df["text"])
    assert df.attrs["format"] == "plain"


ALL_GOOD = [
    ("plain.txt", "plain"),
    ("typed.txt", "typed"),
    ("otter.txt", "otter"),
    ("teams.vtt", "webvtt"),
    ("zoom.vtt", "webvtt"),
    ("subs.srt", "srt"),
    ("utf8_bom.txt", "plain"),
    ("utf16.txt", "plain"),
    ("utf16_be.txt", "plain"),
    ("cp1252_crlf.txt", "plain"),
    ("mac_cr.txt", "plain"),
    ("bold_labels.docx", "docx"),
    ("plain_labels.docx", "docx"),
    ("table.docx", "docx"),
    ("interview.xlsx", "xlsx"),
    ("mixed_case.csv", "csv"),
    ("semicolon.csv", "csv"),
    ("interview.tsv", "tsv"),
]


@pytest.mark.parametrize(("name", "fmt"), ALL_GOOD)
def test_detect_format(name, fmt):
    assert fmt in SUPPORTED_FORMATS
    assert detect_format(FIXTURES / name) == fmt
    assert read(name).attrs["format"] == fmt


@pytest.mark.parametrize(("name", "fmt"), ALL_GOOD)
def test_turns_are_numbered_and_never_repeat_a_speaker(name, fmt):
    df = read(name)
    assert df["turn"].tolist() == list(range(1, len(df) + 1))
    assert (df["speaker"] != df["speaker"].shift()).all()
    assert df["line"].is_monotonic_increasing
    assert all(text == " ".join(text.split()) and text for text in df["text"])


@pytest.mark.parametrize(("name", "line", "fragments"), [
    ("empty.txt", None, ["empty"]),
    ("whitespace.txt", None, ["blank"]),
    ("binary.bin", None, ["binary"]),
    ("unknown.zip", None, ["zip", ".docx"]),
    ("prose.txt", None, ["no speaker turns", "Otter.ai", "WebVTT", "SRT", "CSV/TSV/XLSX"]),
    ("plain_no_text.txt", "line 2", ["the speaker label 'Tom' has no text",
                                     "add what Tom said or delete the line"]),
    ("typed_no_text.txt", "line 4", ["'Tom' has no text"]),
    ("otter_no_text.txt", "line 7", ["'Tom' has no text", "heading"]),
    ("vtt_no_text.vtt", "line 7", ["cue for 'Tom' has no text"]),
    ("bad_timing.vtt", "line 8", ["00:00:03,000 --> 00:00:04,000", "00:00:01.000 -->"]),
    ("bad_timing.srt", "line 6", ["00:00:03 --> 00:00:04", "00:00:01,000 -->"]),
    ("no_columns.csv", "line 1", ["'Who', 'What', 'When'", "'speaker'", "'text'"]),
    ("no_columns.xlsx", "row 1", ["'Who', 'What'", "'speaker'"]),
])
def test_malformed_fixtures_raise(name, line, fragments):
    path = BAD / name
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, line, *fragments)


def test_reading_plain_text_imports_no_format_library():
    # A fresh interpreter: the other tests here import python-docx and openpyxl themselves.
    code = ("import sys; from helpers.transcripts import read_transcript; "
            f"read_transcript({str(FIXTURES / 'plain.txt')!r}); "
            "print(sorted({'docx', 'openpyxl', 'webvtt', 'srt', 'charset_normalizer'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
