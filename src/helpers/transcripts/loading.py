"""Loading a transcript file: that it exists, is not empty and is not a binary file it
cannot be, then which format it is (from its content, not its extension)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Sequence

from ._common import _error, _Source, _unrecognised
from .captions import _LOOSE_TIMING_RE
from .encodings import _decode
from .labels import _is_header_label, _parse_label
from .otter import _otter_headings
from .spreadsheets import _delimited_format

_KNOWN_BINARY = (
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an old-style Word .doc or Excel .xls file"),
    (b"{\\rtf", "an RTF document"),
)


def _load(path: str | Path) -> _Source:
    label = str(path)
    file = Path(path)
    if not file.exists():
        raise _error(label, "the file does not exist",
                     f"check the spelling and that the path is relative to {Path.cwd()}")
    if file.is_dir():
        raise _error(label, "this is a folder, not a file", "give the path of one transcript")
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise _error(label, f"the file cannot be read ({exc.strerror})",
                     "check its permissions") from exc
    if not raw:
        raise _error(label, "the file is empty", "export the transcript again")
    if raw.startswith(b"PK\x03\x04"):
        return _Source(label, file, _zip_format(label, file))
    for magic, kind in _KNOWN_BINARY:
        if raw.startswith(magic):
            raise _error(label, f"the file is {kind}, which cannot be read as a transcript",
                         "save it as .docx, .txt or .csv and read that file instead")
    source = _Source(label, file, "")
    text = _decode(source, raw).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise _error(label, "the file contains only blank space",
                     "export the transcript again")
    source.text = text
    source.format = _detect_text_format(source)
    return source


def _zip_format(label: str, file: Path) -> str:
    """.docx and .xlsx are zip archives; the parts inside tell which one this is."""
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise _error(label, "the file starts like a zip archive (.docx/.xlsx) but is damaged",
                     "open it in Word or Excel and save it again") from exc
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    raise _error(label, "the file is a binary zip archive but not a Word .docx or Excel .xlsx "
                 "document", "export the transcript as .docx, .txt, .vtt or .csv")


def _detect_text_format(source: _Source) -> str:
    """Recognise a text layout from its content, most specific evidence first."""
    lines = source.lines
    content = [line.strip() for line in lines if line.strip()]
    delimited = _delimited_format(source, content[0])
    if delimited:
        return delimited
    if content[0].startswith("WEBVTT"):
        return "webvtt"
    # Subtitles are recognised by their timing lines, not their cue numbers, which some
    # tools leave out.
    if any(_LOOSE_TIMING_RE.match(line) for line in content):
        return "srt"
    label_only, inline = _count_labels(lines)
    headings = len(_otter_headings(lines))
    # Otter text can contain the odd "Name: text" line, and a plain transcript almost
    # never has "Name  0:03" lines, so Otter wins whenever its headings are as common.
    if headings and headings >= label_only + inline:
        return "otter"
    if label_only + inline == 0:
        raise _unrecognised(source)
    # Typed blocks put every label on its own line; plain text mostly puts text after it.
    return "typed" if label_only > inline else "plain"


def _count_labels(lines: Sequence[str]) -> tuple[int, int]:
    """How many lines are a label on its own ('Tom:') and how many a label plus text."""
    label_only = inline = 0
    for line in lines:
        label = _parse_label(line)
        if label is None or _is_header_label(label.speaker):
            continue
        if label.rest:
            inline += 1
        else:
            label_only += 1
    return label_only, inline
