"""Tests for helpers.transcripts: every supported layout, encoding and error message.

Fixtures live in tests/fixtures/transcripts/ (bad inputs under bad/). The .docx, .xlsx
and byte-exact text fixtures are built by make_binary_fixtures.py in that folder.
"""

from __future__ import annotations

import math
import shutil
import zipfile
from pathlib import Path

import docx
import pandas as pd
import pytest

from helpers.transcripts import (
    ANNOTATION_RE,
    SUPPORTED_FORMATS,
    TranscriptError,
    detect_format,
    read_transcript,
    strip_annotations,
)

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts"
BAD = FIXTURES / "bad"
NAN = math.nan


def read(name: str) -> pd.DataFrame:
    return read_transcript(FIXTURES / name)


def starts(df: pd.DataFrame) -> list[float]:
    """start_s as a list, with NaN kept comparable through pytest.approx(nan_ok=True)."""
    return df["start_s"].tolist()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------
# The table's shape
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Plain, typed and Otter text
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Captions
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Encodings and line ends
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Word documents
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Spreadsheets
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Errors: each message names the file, the line where there is one, and the fix
# --------------------------------------------------------------------------------------

def assert_message(error: TranscriptError, path: Path, line: str | None, *fragments: str):
    message = str(error)
    assert message.startswith(str(path))
    if line:
        assert f"{path}, {line}:" in message
    for fragment in fragments:
        assert fragment in message
    # One sentence: a single full stop at the end.
    assert message.endswith(".") and ". " not in message


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


def test_error_is_a_value_error():
    assert issubclass(TranscriptError, ValueError)


def test_old_word_doc_is_refused(tmp_path):
    path = tmp_path / "FG01.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64))
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, None, ".doc", "save it as .docx")


def test_first_caption_without_speaker(tmp_path):
    path = write(tmp_path, "c.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello.\n")
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, "line 4", "no speaker", "<v Name>")


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


def test_csv_bad_start_time(tmp_path):
    path = write(tmp_path, "t.csv", "speaker,start,text\nAnn,soon,Hello.\n")
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, "line 2", "'soon'", "HH:MM:SS")


def test_damaged_word_document(tmp_path):
    path = tmp_path / "broken.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "not xml at all")
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)
    assert_message(caught.value, path, None, "cannot be opened as a Word document",
                   "save it again")


# --------------------------------------------------------------------------------------
# Annotations
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Yeah, same [laughs].", "Yeah, same."),
    ("[crosstalk] Sorry, go on.", "Sorry, go on."),
    ("It was [inaudible 00:12:01] on the machine.", "It was on the machine."),
    ("So, [pause], anyway", "So, anyway"),
    ("Oh god (Laughter) yes", "Oh god yes"),
    ("Right (sighs) ok (coughs)", "Right ok"),
    ("We were (overlapping) talking", "We were talking"),
    ("(inaudible 0:12:01) fine", "fine"),
    ("My (late) husband", "My (late) husband"),  # not a stage direction: kept
    ("No annotations here.", "No annotations here."),
])
def test_strip_annotations(text, expected):
    assert strip_annotations(text) == expected


def test_annotation_pattern_finds_each_annotation():
    found = [m.group(0) for m in ANNOTATION_RE.finditer(
        "[laughs] a (pause) b [inaudible 00:12:01] c (LAUGHS) d (the mask)")]
    assert found == ["[laughs]", "(pause)", "[inaudible 00:12:01]", "(LAUGHS)"]


# --------------------------------------------------------------------------------------
# Faithful reading of traps a reviewer found (issue 19)
# --------------------------------------------------------------------------------------

def warnings_of(df: pd.DataFrame, kind: str) -> list[dict]:
    return [w for w in df.attrs["warnings"] if w["kind"] == kind]


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


def test_massive_repetition_is_warned_with_the_counts(tmp_path):
    body = "".join(f"Ann: Point {i % 3}.\nBob: Yes {i % 2}.\n" for i in range(40))
    df = read_transcript(write(tmp_path, "dup.txt", body))
    found = warnings_of(df, "repetition")
    assert len(found) == 1 and "80 turns hold only 5 distinct texts" in found[0]["message"]
    assert not warnings_of(read("plain.txt"), "repetition")


# --------------------------------------------------------------------------------------
# Labels checked against study.yml
# --------------------------------------------------------------------------------------

from helpers.transcripts import DeclaredSpeakers  # noqa: E402

DECLARED = DeclaredSpeakers(("Interviewer",), ("Morag", "Jude"), True, "focus group FG03 of study.yml")


def test_mistyped_facilitator_label_stops_with_did_you_mean(tmp_path):
    path = write(tmp_path, "t.txt", "Interviewer: Hello.\nMorag: Hi.\nInterviwer: And you?\nJude: Me too.\n"
                 "Interviwer: Thanks.\n")
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path, DECLARED)
    assert str(caught.value) == (
        f"{path}, line 3: the label 'Interviwer' (also line 5) is not declared in focus group FG03 of "
        "study.yml (did you mean 'Interviewer'?); correct the label in the transcript, or declare it in "
        "study.yml if it is another person.")


def test_word_colon_continuation_is_text_not_a_speaker(tmp_path):
    path = write(tmp_path, "t.txt", "Interviewer: Tell me.\nMorag: It was hard.\n"
                 "Radiotherapy: it is a lonely place.\nJude: Yes.\n")
    df = read_transcript(path, DECLARED)
    assert df["speaker"].tolist() == ["Interviewer", "Morag", "Jude"]
    assert df.loc[1, "text"] == "It was hard. Radiotherapy: it is a lonely place."
    found = warnings_of(df, "label")
    assert [w["line"] for w in found] == [3] and "read as part of Morag's turn" in found[0]["message"]


def test_undeclared_speaker_who_recurs_stops_the_run(tmp_path):
    path = write(tmp_path, "t.txt", "Interviewer: Tell me.\nPriya: One.\nMorag: Two.\nPriya: Three.\n")
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path, DECLARED)
    assert_message(caught.value, path, "line 2", "'Priya' speaks here but is not declared",
                   "add the label under the focus group's speakers")


def test_undeclared_voice_tag_stops_the_run(tmp_path):
    path = write(tmp_path, "c.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Interviewer>Hi.</v>\n\n"
                 "00:00:03.000 --> 00:00:04.000\n<v Stranger>Hello.</v>\n")
    with pytest.raises(TranscriptError) as caught:
        read_transcript(path, DECLARED)
    assert_message(caught.value, path, "line 7", "'Stranger' speaks here but is not declared")


def test_unlisted_speakers_are_read_but_a_mistyped_facilitator_still_stops(tmp_path):
    unlisted = DeclaredSpeakers(("Interviewer",), (), False, "focus group FG03 of study.yml")
    path = write(tmp_path, "t.txt", "Interviewer: Tell me.\nPriya: One.\nMorag: Two.\n")
    assert read_transcript(path, unlisted)["speaker"].tolist() == ["Interviewer", "Priya", "Morag"]
    path = write(tmp_path, "u.txt", "Interviewer: Tell me.\nPriya: One.\nINTERVIEWER: Two?\n")
    with pytest.raises(TranscriptError, match="did you mean 'Interviewer'"):
        read_transcript(path, unlisted)
