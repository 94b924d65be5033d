"""Tests of helpers.transcripts.encodings: byte-order marks, UTF-16, line ends, and the legacy
encodings of a whole file or of a few lines in a UTF-8 file.
"""

from __future__ import annotations

import pytest

from helpers.transcripts import read_transcript

from transcripts_support import MISREAD, pairs, read, warnings_of


@pytest.mark.parametrize(("name", "speakers", "texts"), [
    ("utf8_bom.txt", ["Zoë", "Rhiannon"],
     ["The café downstairs was a lifesaver.", "Même chose – same."]),
    ("utf16.txt", ["Siân", "Gareth"],
     ["It’s the mask I remember.", "Mm, “the cage”, my wife called it."]),
    ("utf16_be.txt", ["Siân", "Gareth"],
     ["It’s the mask I remember.", "Mm, “the cage”, my wife called it."]),
    ("cp1252_crlf.txt", ["Rachel", "Tom"],
     ["It’s “fine” – honestly.", "Don’t worry… about it."]),
    ("mac_cr.txt", ["Ann", "Bob"], ["One.", "Two and three."]),
])
def test_encodings_and_line_ends(name, speakers, texts):
    df = read(name)
    assert df["speaker"].tolist() == speakers
    assert df["text"].tolist() == texts
    assert df["line"].tolist() == [1, 2]


def test_utf16_without_bom(tmp_path):
    path = tmp_path / "nobom.txt"
    path.write_bytes("Ann: Hi.\nBob: Bye.\n".encode("utf-16-le"))
    assert read_transcript(path)["speaker"].tolist() == ["Ann", "Bob"]


def test_one_latin1_line_in_a_utf8_file_is_repaired_and_reported(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes("Ann: Zoë said it’s fine.\n".encode("utf-8") + "Bob: It’s café time.\n".encode("cp1252")
                     + "Ann: Naïve, perhaps.\n".encode("utf-8"))
    df = read_transcript(path)
    assert df["text"].tolist() == ["Zoë said it’s fine.", "It’s café time.", "Naïve, perhaps."]
    found = warnings_of(df, "encoding")
    assert [w["line"] for w in found] == [2]
    assert found[0]["message"].startswith(f"{path}, line 2: this line is not UTF-8")
    assert "Windows-1252" in found[0]["message"] and "save the file as UTF-8" in found[0]["message"]


def test_mac_roman_with_a_few_accented_letters_is_read_as_mac_roman():
    df = read_transcript(MISREAD / "mac_roman.txt")
    assert pairs(df) == [("Ann", "The café downstairs was lovely."), ("Siân", "A naïve question, maybe, but why?")]
    assert "Mac Roman" in warnings_of(df, "encoding")[0]["message"]


def test_windows_1252_with_curly_quotes_stays_windows_1252(tmp_path):
    path = tmp_path / "w.txt"
    path.write_bytes("Ann: It’s “fine” – honestly, Siân.\nBob: Don’t worry… it’s naïve.\n".encode("cp1252"))
    assert read_transcript(path)["text"].tolist() == ["It’s “fine” – honestly, Siân.", "Don’t worry… it’s naïve."]
