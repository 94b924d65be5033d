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
    path = write(tmp_path, "u.txt", "Interviewer: Tell me.\nPriya: One.\nInterviwer: Two?\n")
    with pytest.raises(TranscriptError, match="did you mean 'Interviewer'"):
        read_transcript(path, unlisted)


# --------------------------------------------------------------------------------------
# Transcripts once quietly misread (issue 23): each read as written, or one sentence
# --------------------------------------------------------------------------------------

MISREAD = FIXTURES / "misread"


def pairs(df: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(df["speaker"], df["text"]))


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


def test_capitalised_declared_label_is_read_as_the_declared_speaker(tmp_path):
    path = write(tmp_path, "t.txt", "Interviewer: Hello.\nMorag: Hi.\nINTERVIEWER: And you?\nJude: Me too.\n")
    df = read_transcript(path, DECLARED)
    assert df["speaker"].tolist() == ["Interviewer", "Morag", "Interviewer", "Jude"]
    assert [w["line"] for w in warnings_of(df, "label")] == [3]


@pytest.mark.parametrize("declared", [None, DECLARED], ids=["from the file", "declared"])
def test_inline_labels_in_a_typed_transcript_start_turns(declared):
    df = read_transcript(MISREAD / "typed_inline.txt", declared)
    assert df.attrs["format"] == "typed"
    assert df["speaker"].tolist() == ["Interviewer", "Morag", "Jude", "Interviewer", "Jude", "Morag"]
    assert df["line"].tolist() == [3, 6, 9, 10, 13, 15]
    # 'Note:' names nobody who speaks, so it stays in Morag's text.
    assert df.loc[1, "text"] == "The waiting room was always cold. Note: the heating was fixed later."


def test_srt_cue_with_two_speakers_gives_two_turns():
    df = read_transcript(MISREAD / "srt_two_speakers.srt")
    assert pairs(df) == [("Facilitator", "What stays with you from placement?"),
                         ("Marcus", "The first day on the unit, honestly."),
                         ("Saskia", "Same, the noise of the machine."),
                         ("Marcus", "Yeah, that noise.")]
    assert df["line"].tolist() == [3, 7, 8, 12]
    assert starts(df) == [1.0, 3.5, 3.5, 7.5]


def test_vtt_cue_number_without_a_blank_line_above_is_not_text():
    df = read_transcript(MISREAD / "vtt_cue_numbers.vtt")
    assert pairs(df) == [("Ann", "Sorry, I think I've gone on mute."), ("Bob", "We can hear you now."),
                         ("Ann", "Good, thanks, so the mask."), ("Bob", "The mask was the hardest part."),
                         ("Ann", "For me too.")]
    assert df["line"].tolist() == [5, 8, 12, 15, 18]
    assert starts(df) == [30.0, 32.5, 35.5, 40.0, 43.0]


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


def test_docx_line_breaks_split_turns_where_a_label_starts_the_line():
    df = read_transcript(MISREAD / "line_breaks.docx")
    assert pairs(df) == [("Facilitator", "What stays with you?"),
                         ("Ann", "The kindness of the team. It mattered more than I expected."),
                         ("Bob", "Same for me."), ("Facilitator", "Anything else?"), ("Ann", "The parking.")]
    assert df["line"].tolist() == [2, 2, 2, 3, 3]        # the paragraph each line is in


def test_mac_roman_with_a_few_accented_letters_is_read_as_mac_roman():
    df = read_transcript(MISREAD / "mac_roman.txt")
    assert pairs(df) == [("Ann", "The café downstairs was lovely."), ("Siân", "A naïve question, maybe, but why?")]
    assert "Mac Roman" in warnings_of(df, "encoding")[0]["message"]


def test_windows_1252_with_curly_quotes_stays_windows_1252(tmp_path):
    path = tmp_path / "w.txt"
    path.write_bytes("Ann: It’s “fine” – honestly, Siân.\nBob: Don’t worry… it’s naïve.\n".encode("cp1252"))
    assert read_transcript(path)["text"].tolist() == ["It’s “fine” – honestly, Siân.", "Don’t worry… it’s naïve."]


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
