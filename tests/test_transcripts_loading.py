"""Tests of helpers.transcripts.loading: a missing, folder or foreign file is refused in one
sentence, and the format comes from the content, not the extension.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers.transcripts import TranscriptError, detect_format, read_transcript

from transcripts_support import FIXTURES, assert_message, read


@pytest.mark.parametrize(("name", "fmt", "new_name"), [
    ("teams.vtt", "webvtt", "teams.txt"),
    ("subs.srt", "srt", "subs.txt"),
    ("mixed_case.csv", "csv", "export.txt"),
    ("bold_labels.docx", "docx", "transcript.bin"),
    ("interview.xlsx", "xlsx", "transcript.dat"),
    ("otter.txt", "otter", "otter.vtt"),
])
def test_format_comes_from_content_not_extension(tmp_path, name, fmt, new_name):
    copy = tmp_path / new_name
    shutil.copy(FIXTURES / name, copy)
    assert detect_format(copy) == fmt
    assert read_transcript(copy)["speaker"].tolist() == read(name)["speaker"].tolist()


def test_missing_file_and_folder(tmp_path):
    missing = tmp_path / "FG99.txt"
    with pytest.raises(TranscriptError) as caught:
        read_transcript(missing)
    assert_message(caught.value, missing, None, "does not exist")
    with pytest.raises(TranscriptError) as caught:
        detect_format(tmp_path)
    assert_message(caught.value, tmp_path, None, "folder")


def test_path_is_named_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("FG03.txt").write_text("Rachel: Hi.\nTom:\n", encoding="utf-8")
    with pytest.raises(TranscriptError) as caught:
        read_transcript("FG03.txt")
    assert str(caught.value) == ("FG03.txt, line 2: the speaker label 'Tom' has no text; "
                                 "add what Tom said or delete the line.")


def test_old_word_doc_is_refused(tmp_path):
    path = tmp_path / "FG01.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64))
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, None, ".doc", "save it as .docx")
