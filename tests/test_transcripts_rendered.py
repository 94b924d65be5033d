"""Every bundled transcript, written out again in each supported format with the quirks
real exports have mixed in, reads back as the same turns (speaker, text).

The quirks are the ones a review once found misread (issue 23): labels in another case,
without a space after the colon or with a full-width colon; inline labels in a typed
transcript; two speakers in one caption; a cue number with no blank line above it; a
spreadsheet split over sheets with a notes sheet between; turns separated by line breaks
inside one Word paragraph; Mac Roman and Windows-1252 files. Each quirk is applied to
some turns only (by position), so the same file also holds the plain forms.
"""

from __future__ import annotations

import re
from pathlib import Path

import docx
import openpyxl
import pytest

from helpers.study import load_study
from helpers.transcripts import DeclaredSpeakers, read_transcript

from conftest import ROOT

STUDY = load_study(ROOT / "data" / "study.yml")


def declared(fg) -> DeclaredSpeakers:
    return DeclaredSpeakers(fg.facilitators, tuple(fg.speaker_types), fg.speakers_listed, f"focus group {fg.id}")


def originals() -> list[tuple[str, DeclaredSpeakers, list[tuple[str, str]]]]:
    found = []
    for fg in STUDY.focus_groups:
        table = read_transcript(fg.transcript, declared(fg))
        found.append((fg.id, declared(fg), list(zip(table["speaker"], table["text"]))))
    return found


ORIGINALS = originals()


def label(speaker: str, index: int, wide: bool = True) -> str:
    """The label of turn ``index`` as a careless export writes it, now and then (the
    full-width colon only where the encoding has it)."""
    if index % 7 == 3:
        return f"{speaker.lower()}: "
    if index % 7 == 5:
        return f"{speaker}:"           # no space after the colon
    if index % 7 == 6 and wide:
        return f"{speaker}\uff1a"      # full-width colon
    return f"{speaker}: "


def halves(text: str) -> tuple[str, str] | None:
    """The text split at a sentence end, where the second part cannot be read as a label."""
    cut = text.find(". ", len(text) // 3)
    if cut < 0:
        return None
    first, second = text[:cut + 1], text[cut + 2:]
    return None if ":" in second[:60] or not second else (first, second)


def clock(seconds: float, sep: str) -> str:
    return f"{int(seconds) // 3600:02d}:{int(seconds) % 3600 // 60:02d}:{int(seconds) % 60:02d}{sep}000"


def as_plain(turns, wide: bool = True) -> str:
    lines = ["Focus group transcript", "Date: 3 May 2024", ""]
    for index, (speaker, text) in enumerate(turns):
        split = halves(text) if index % 4 == 1 else None
        lines += [label(speaker, index, wide) + split[0], split[1]] if split else [label(speaker, index, wide) + text]
    return "\n".join(lines) + "\n"


def as_typed(turns) -> str:
    lines = ["Focus group transcript – typed by hand", ""]
    for index, (speaker, text) in enumerate(turns):
        if index % 5 == 2 and index > 0:           # now and then typed inline
            lines += [f"{speaker}: {text}"]
        else:
            lines += [f"{speaker}:", text, ""]
    return "\n".join(lines) + "\n"


def caption_payloads(turns) -> list[str]:
    """One cue per turn, except every sixth cue holds two speakers (two lines)."""
    payloads, index = [], 0
    while index < len(turns):
        speaker, text = turns[index]
        if index % 6 == 4 and index + 1 < len(turns):
            following = turns[index + 1]
            payloads.append(f"{speaker}: {text}\n{following[0]}: {following[1]}")
            index += 2
        else:
            payloads.append(f"{speaker}: {text}")
            index += 1
    return payloads


def as_srt(turns) -> str:
    blocks = [f"{n}\n{clock(2 * n, ',')} --> {clock(2 * n + 1, ',')}\n{payload}"
              for n, payload in enumerate(caption_payloads(turns), start=1)]
    return "\n\n".join(blocks) + "\n"


def as_vtt(turns) -> str:
    out = "WEBVTT\n"
    for n, payload in enumerate(caption_payloads(turns), start=1):
        gap = "\n" if n % 10 == 0 else "\n\n"      # the blank line missing before every tenth cue
        out += f"{gap}{n}\n{clock(2 * n, '.')} --> {clock(2 * n + 1, '.')}\n{payload}"
    return out + "\n"


def as_xlsx(turns, path: Path) -> None:
    workbook = openpyxl.Workbook()
    middle = len(turns) // 2
    first = workbook.active
    first.title = "Part 1"
    first.append(("Speaker", "Text"))
    for speaker, text in turns[:middle]:
        first.append((speaker, text))
    workbook.create_sheet("Notes").append(("Coder notes", "check FG names"))
    second = workbook.create_sheet("Part 2")
    second.append(("speaker", "text"))
    for speaker, text in turns[middle:]:
        second.append((speaker, text))
    workbook.save(path)


def as_docx(turns, path: Path) -> None:
    """Three turns to a paragraph, separated by line breaks (Shift+Enter); every other
    paragraph has bold labels."""
    document = docx.Document()
    document.add_paragraph("Focus group transcript")
    for start in range(0, len(turns), 3):
        paragraph = document.add_paragraph()
        group = turns[start:start + 3]
        for offset, (speaker, text) in enumerate(group):
            if (start // 3) % 2:
                paragraph.add_run(f"{speaker}:").bold = True
                run = paragraph.add_run(f" {text}")
            else:
                run = paragraph.add_run(f"{speaker}: {text}")
            if offset < len(group) - 1:
                run.add_break()
    document.save(path)


def encodable(turns, encoding: str) -> bool:
    try:
        "".join(s + t for s, t in turns).encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


#: format -> (file name, function writing the turns as text)
TEXT_FORMATS = {"plain": ("t.txt", as_plain), "typed": ("t.txt", as_typed), "srt": ("t.srt", as_srt),
                "webvtt": ("t.vtt", as_vtt)}
#: format -> (file name, function writing the turns to a path)
OFFICE_FORMATS = {"xlsx": ("t.xlsx", as_xlsx), "docx": ("t.docx", as_docx)}


def render(turns, fmt: str, folder: Path) -> Path | None:
    """The turns written as ``fmt``; None where the format cannot hold them."""
    if fmt in TEXT_FORMATS:
        name, write = TEXT_FORMATS[fmt]
        (folder / name).write_text(write(turns), encoding="utf-8")
    elif fmt in OFFICE_FORMATS:
        name, write = OFFICE_FORMATS[fmt]
        write(turns, folder / name)
    else:  # a legacy encoding of the plain layout
        if not encodable(turns, fmt):
            return None
        name = "t.txt"
        (folder / name).write_bytes(as_plain(turns, wide=False).encode(fmt))
    return folder / name


FORMATS = ["plain", "typed", "srt", "webvtt", "xlsx", "docx", "mac_roman", "cp1252"]
LEGACY = ("mac_roman", "cp1252")


def accented(name: str) -> str:
    """A speaker name with a circumflex or acute accent, as Welsh and Irish names have
    ('Siân'), so that every file in a legacy encoding holds a few accented letters."""
    return name.replace("a", "â", 1) if "a" in name else name.replace("e", "é", 1)


def with_accented_names(speakers: DeclaredSpeakers, turns):
    return (DeclaredSpeakers(tuple(map(accented, speakers.facilitators)), tuple(map(accented, speakers.participants)),
                             speakers.listed, speakers.where),
            [(accented(speaker), text) for speaker, text in turns])


@pytest.mark.parametrize("fmt", FORMATS)
def test_bundled_transcripts_rendered_with_quirks_read_back_the_same(tmp_path, fmt):
    compared = 0
    for fg_id, speakers, turns in ORIGINALS:
        if fmt in LEGACY:
            speakers, turns = with_accented_names(speakers, turns)
        path = render(turns, fmt, tmp_path)
        if path is None:
            continue
        read = read_transcript(path, speakers)
        assert list(zip(read["speaker"], read["text"])) == turns, f"{fg_id} as {fmt}"
        assert not [w for w in read.attrs["warnings"] if w["kind"] not in ("label", "encoding", "sheets")]
        compared += len(turns)
    assert compared == sum(len(t) for _, _, t in ORIGINALS)   # every focus group fits every format
    print(f"{fmt}: {compared} turns read back equal")
