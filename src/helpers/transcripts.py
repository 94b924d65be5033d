"""Read focus-group transcripts, whatever their format, into one tidy table of turns.

Transcripts arrive the way transcribers and meeting tools deliver them: Word documents,
Teams or Zoom captions, Otter.ai exports, spreadsheets, or plain text typed by hand in one
of several layouts. ``read_transcript(path)`` recognises the layout from the file's
content (not just its extension) and returns one row per speaker turn with the columns
``speaker``, ``text``, ``turn``, ``line`` and ``start_s``. Anything it cannot read raises
``TranscriptError``, whose one-sentence message names the file, the line, what is wrong
and how to fix it, so a researcher can repair the file without reading this code.

Supported layouts, in the order they are checked (see ``SUPPORTED_FORMATS``):

- ``docx``   Word: ``Speaker: text`` paragraphs, bold speaker names, or a two-column table.
- ``xlsx``   Excel, first sheet, with ``speaker`` and ``text`` columns (optional ``start``).
- ``csv``/``tsv``  the same columns in a comma, semicolon or tab separated file.
- ``webvtt`` Teams (``<v Name>text</v>``) or Zoom (``Name: text``) captions.
- ``srt``    subtitles with ``Name: text`` payloads.
- ``otter``  Otter.ai text export (``Name  0:03`` headings above the text).
- ``typed``  a ``Name:`` line on its own above the turn's text.
- ``plain``  ``Name: text`` lines, with unlabelled lines continuing the turn.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import html
import io
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from ._io import UserError

__all__ = [
    "ANNOTATION_RE",
    "COLUMNS",
    "SUPPORTED_FORMATS",
    "TranscriptError",
    "detect_format",
    "read_transcript",
    "strip_annotations",
]

SUPPORTED_FORMATS = ("docx", "xlsx", "csv", "tsv", "webvtt", "srt", "otter", "typed", "plain")
COLUMNS = ("speaker", "text", "turn", "line", "start_s")

# Named in every "cannot recognise" message so the reader knows what to convert to.
_SUPPORTED_LAYOUTS = (
    "Speaker: text lines, typed blocks (a 'Speaker:' line above the text), Otter.ai, "
    "WebVTT, SRT, .docx, CSV/TSV/XLSX"
)


class TranscriptError(UserError):
    """A transcript cannot be read; the message names the file, the line and the fix.

    A :class:`UserError` (and so a ``ValueError``): notebooks show it as its one sentence.
    """


def _error(source: str, problem: str, fix: str, line: int | None = None,
           unit: str = "line") -> TranscriptError:
    """Build the one-sentence message: '<file>, line <n>: <problem>; <fix>.'"""
    where = source if line is None else f"{source}, {unit} {line}"
    return TranscriptError(f"{where}: {problem}; {fix}.")


# --------------------------------------------------------------------------------------
# Small shared pieces: whitespace, clock times, speaker labels
# --------------------------------------------------------------------------------------

def _normalise(text: str) -> str:
    """Collapse every run of whitespace (spaces, tabs, newlines, NBSP) to one space."""
    return " ".join(text.split())


def _clean_speaker(label: str) -> str:
    label = _normalise(label)
    if label.endswith(":"):
        label = label[:-1].rstrip()
    return label


# M:SS, MM:SS, H:MM:SS or HH:MM:SS, optionally with milliseconds after '.' or ','.
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_CLOCK_RE = re.compile(r"^\d+:\d{2}(?::\d{2})?(?:[.,]\d+)?$")


def _clock_to_seconds(clock: str) -> float:
    """'1:02:15' -> 3735.0; two parts are read as minutes:seconds, as captions use them."""
    seconds = 0.0
    for part in clock.strip().replace(",", ".").split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


# A label may hold letters, digits, spaces, brackets, hyphens, apostrophes, full stops and
# a few symbols seen in meeting tools ("Sam (she/her)", "Speaker #2"); it starts with a
# letter. Sentence punctuation (, ; ? ! ") never appears in a name, so it rules a label out.
_NAME_CHARS_RE = re.compile(r"^[^\W\d_][\w .'’()\[\]/&#-]*$")
_BRACKETED_RE = re.compile(r"[(\[][^)\]]*[)\]]")

# Words that give away a sentence rather than a name ("The thing is: nobody told me").
# Words inside brackets are not checked: "Carer (his wife)" is a fine label.
_SENTENCE_WORDS = frozenset("""
    i me my mine we us our you your he him his she her they them their it its this that
    these those there here is are was were be been being am do does did done have has had
    not no yes so but if then than what when where why how which thing things just really
    well because like think thought know knew said say says mean meant get got go went
""".split())
# A one-word "label" that is really a discourse marker ("Honestly: it was awful").
_DISCOURSE_WORDS = frozenset("""
    so well and but yeah yes no oh um er erm like anyway basically honestly actually also
    then now okay ok right sorry
""".split())


def _looks_like_name(label: str) -> bool:
    """True when the text before a colon reads as a speaker name, not part of a sentence."""
    label = label.strip()
    if not label or len(label) > 60 or label[0].islower() or not _NAME_CHARS_RE.match(label):
        return False
    words = label.split()
    if len(words) > 6:
        return False
    # Full stops belong to initials and short titles only ("J. Smith", "Dr. Patel").
    if any(word.endswith(".") and len(word.strip("().")) > 3 for word in words):
        return False
    bare = [word.strip("().'’").lower() for word in _BRACKETED_RE.sub(" ", label).split()]
    if len(bare) == 1:
        return bare[0] not in _DISCOURSE_WORDS
    return not any(word in _SENTENCE_WORDS for word in bare)


# Header lines above the first turn ("Date: 3 May", "Duration: 45 minutes", "Focus group 3:")
# look like labels but are metadata; they are skipped until the first real speaker.
_HEADER_LABEL_RE = re.compile(
    r"^(?:date|time|duration|length|location|venue|place|title|transcript(?:ion)?|recording"
    r"|audio(?: file)?|file(?:name)?|participants|attendees|present|transcribed by"
    r"|transcriber|session|focus group|group|study|project|keywords|summary|notes?"
    r"|subject|topic)(?:\s*(?:no\.?|#)?\s*[\w-]*\d[\w-]*)?$",
    re.IGNORECASE,
)


def _is_header_label(speaker: str) -> bool:
    return bool(_HEADER_LABEL_RE.match(speaker))


# "Name: text", "[00:01:23] Name: text", "Name (00:01:23): text", "Name:" (label only).
# The label is everything up to the first colon that is followed by a space or the end,
# except a colon inside a leading or trailing timestamp.
_LABEL_LINE_RE = re.compile(
    rf"""^\s*
    (?:[\[(]?(?P<lead_time>{_CLOCK})[\])]?\s+)?    # [00:01:23] Name: ...
    (?P<label>[^:]+?)
    (?:\s*[\[(](?P<tail_time>{_CLOCK})[\])])?      # Name (00:01:23): ...
    \s*:(?:\s+(?P<rest>.*?))?\s*$""",
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class _Label:
    speaker: str
    rest: str  # the text after the colon; '' for a label on a line of its own
    start_s: float = math.nan


def _parse_label(line: str) -> _Label | None:
    """Split 'Name: text' into its parts, or return None when the line has no label."""
    match = _LABEL_LINE_RE.match(line)
    if not match or not _looks_like_name(match["label"]):
        return None
    clock = match["lead_time"] or match["tail_time"]
    start = _clock_to_seconds(clock) if clock else math.nan
    return _Label(_clean_speaker(match["label"]), match["rest"] or "", start)


# --------------------------------------------------------------------------------------
# Annotations
# --------------------------------------------------------------------------------------

_STAGE_DIRECTIONS = (
    r"laugh(?:s|ter|ing)?|cross-?talk|inaudible|pauses?|long pause|sigh(?:s|ing)?"
    r"|cough(?:s|ing)?|overlapping(?: speech)?"
)
ANNOTATION_RE = re.compile(
    r"\[[^\[\]\n]*\]"                                                # any [annotation]
    rf"|\(\s*(?:{_STAGE_DIRECTIONS})(?:[\s,:-]*{_CLOCK})?\s*\)",    # (laughs), (pause 0:12)
    re.IGNORECASE,
)


def strip_annotations(text: str) -> str:
    """Remove transcriber annotations ([laughs], [inaudible 00:12:01], (pause)) from text.

    ``read_transcript`` keeps annotations because they are part of the record (laughter
    and crosstalk matter to a qualitative reader); use this for word counts or embeddings.
    """
    text = _normalise(ANNOTATION_RE.sub(" ", text))
    text = re.sub(r"\s+([,.;:!?)\]])", r"\1", text)     # "yes [laughs] ." -> "yes."
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)  # "so, [pause], and" -> "so, and"
    text = re.sub(r"([(\[])\s+", r"\1", text)
    return re.sub(r"^[,;:]\s*", "", text).strip()


# --------------------------------------------------------------------------------------
# Loading a file: existence, emptiness, binary content, encodings, format detection
# --------------------------------------------------------------------------------------

@dataclass
class _Source:
    label: str            # the path exactly as the caller gave it, for messages
    path: Path
    format: str
    text: str = ""        # decoded text with '\n' line ends (text formats only)

    @property
    def lines(self) -> list[str]:
        # split('\n') rather than splitlines(): form feeds and other separators that
        # splitlines() honours would shift the line numbers away from an editor's.
        return self.text.split("\n")


@dataclass
class _Turn:
    speaker: str
    parts: list[str]
    line: int
    start_s: float = math.nan
    unit: str = "line"     # how `line` is counted, for messages: line, row, paragraph


_KNOWN_BINARY = (
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an old-style Word .doc or Excel .xls file"),
    (b"{\\rtf", "an RTF document"),
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
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
    text = _decode(label, raw).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise _error(label, "the file contains only blank space",
                     "export the transcript again")
    source = _Source(label, file, "", text)
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


def _decode(label: str, raw: bytes) -> str:
    """BOM first, then UTF-8, then Windows-1252 (what Word's 'plain text' usually is)."""
    for bom, codec, name in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError as exc:
                raise _error(label, f"the file starts with a {name} byte-order mark but is "
                             f"not valid {name}", "re-save it as UTF-8") from exc
            return _refuse_nul(label, text)
    bomless = _bomless_utf16(raw)
    if bomless:
        return _refuse_nul(label, bomless)
    if b"\x00" in raw:
        raise _binary(label)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        # The five bytes cp1252 leaves undefined; Latin-1 maps every byte, so never fails.
        return raw.decode("latin-1")


def _bomless_utf16(raw: bytes) -> str | None:
    """Some tools write UTF-16 without a BOM: mostly-ASCII text then has a NUL every
    other byte. Recognise that pattern so it is not mistaken for a binary file."""
    pairs = len(raw) // 2
    if len(raw) % 2 or pairs < 2:
        return None
    even_nuls, odd_nuls = raw[0::2].count(0), raw[1::2].count(0)
    codec = ("utf-16-le" if odd_nuls >= 0.9 * pairs and not even_nuls
             else "utf-16-be" if even_nuls >= 0.9 * pairs and not odd_nuls else None)
    if codec is None:
        return None
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        return None


def _refuse_nul(label: str, text: str) -> str:
    if "\x00" in text:  # e.g. UTF-32, or a binary file that happens to start like a BOM
        raise _binary(label)
    return text


def _brief(exc: Exception) -> str:
    """The first sentence of a library's exception message, so ours stays one sentence."""
    return str(exc).split(". ")[0].rstrip(".") or type(exc).__name__


def _binary(label: str) -> TranscriptError:
    return _error(label, "the file is binary (it contains NUL bytes), not a text transcript",
                  "export the transcript as .docx, .txt, .vtt or .csv and read that file")


def _unrecognised(source: _Source) -> TranscriptError:
    return _error(source.label, "no speaker turns could be recognised",
                  f"put the transcript in one of the supported layouts: {_SUPPORTED_LAYOUTS}")


def _detect_text_format(source: _Source) -> str:
    """Recognise a text layout from its content, most specific evidence first."""
    lines = source.lines
    content = [line.strip() for line in lines if line.strip()]
    delimited = _delimited_format(source, content[0])
    if delimited:
        return delimited
    if content[0].startswith("WEBVTT"):
        return "webvtt"
    if len(content) > 1 and content[0].isdigit() and "-->" in content[1]:
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


# --------------------------------------------------------------------------------------
# Plain "Speaker: text" lines and typed blocks
# --------------------------------------------------------------------------------------

def _parse_plain(source: _Source) -> list[_Turn]:
    """'Name: text' starts a turn; a line without a label continues the current one."""
    return _parse_labelled_lines(source, label_only=False)


def _parse_typed(source: _Source) -> list[_Turn]:
    """Only a 'Name:' line on its own starts a turn, so 'Note: ...' inside a turn's text
    is not mistaken for a new speaker."""
    return _parse_labelled_lines(source, label_only=True)


def _parse_labelled_lines(source: _Source, label_only: bool) -> list[_Turn]:
    turns: list[_Turn] = []
    for number, line in enumerate(source.lines, start=1):
        label = _parse_label(line)
        starts_turn = (label is not None and not (label_only and label.rest)
                       and not (not turns and _is_header_label(label.speaker)))
        if starts_turn:
            turns.append(_Turn(label.speaker, [label.rest], number, label.start_s))
        elif turns:
            turns[-1].parts.append(line)
        # Lines before the first turn are a title block (title, date, attendees): skipped.
    return turns


# --------------------------------------------------------------------------------------
# Otter.ai export
# --------------------------------------------------------------------------------------

_OTTER_TIME = r"(?P<time>\d{1,2}:\d{2}(?::\d{2})?)"
_OTTER_HEADING_RE = re.compile(r"^(?P<speaker>.+?)\s{2,}" + _OTTER_TIME + r"\s*$")
_OTTER_LOOSE_HEADING_RE = re.compile(r"^(?P<speaker>.+?)\s+" + _OTTER_TIME + r"\s*$")
_OTTER_FOOTER_RE = re.compile(r"^\s*Transcribed by https?://otter\.ai", re.IGNORECASE)


def _otter_listed_speakers(lines: Sequence[str]) -> set[str]:
    """Names on the line after the 'SPEAKERS' header of an Otter export, if any."""
    for index, line in enumerate(lines):
        if line.strip().upper() == "SPEAKERS":
            for names in lines[index + 1:]:
                if names.strip():
                    return {name.strip() for name in names.split(",") if name.strip()}
    return set()


def _otter_headings(lines: Sequence[str]) -> dict[int, tuple[str, float]]:
    """Map line index -> (speaker, seconds) for each 'Name  0:03' heading line.

    Otter puts two spaces between name and time; a single space is accepted only for a
    name listed under SPEAKERS, where it cannot be an ordinary sentence ending in a time.
    """
    listed = _otter_listed_speakers(lines)
    headings = {}
    for index, line in enumerate(lines):
        match = _OTTER_HEADING_RE.match(line)
        if match and _looks_like_name(match["speaker"]):
            headings[index] = (_clean_speaker(match["speaker"]), _clock_to_seconds(match["time"]))
            continue
        match = _OTTER_LOOSE_HEADING_RE.match(line) if listed else None
        if match and match["speaker"].strip() in listed:
            headings[index] = (_clean_speaker(match["speaker"]), _clock_to_seconds(match["time"]))
    return headings


def _parse_otter(source: _Source) -> list[_Turn]:
    lines = source.lines
    headings = _otter_headings(lines)
    turns: list[_Turn] = []
    for index, line in enumerate(lines):
        if index in headings:
            speaker, start = headings[index]
            turns.append(_Turn(speaker, [], index + 1, start))
        elif turns and not _OTTER_FOOTER_RE.match(line):
            turns[-1].parts.append(line)
        # Before the first heading: title, date, SUMMARY KEYWORDS, SPEAKERS: skipped.
    return turns


# --------------------------------------------------------------------------------------
# Captions: WebVTT and SRT
# --------------------------------------------------------------------------------------

_VTT_TIMING_RE = re.compile(
    r"^(?P<start>(?:\d+:)?\d{2}:\d{2}\.\d{3})\s+-->\s+(?:\d+:)?\d{2}:\d{2}\.\d{3}(?:\s+.*)?$")
_SRT_TIMING_RE = re.compile(
    r"^(?P<start>\d+:\d{2}:\d{2}[,.]\d{3})\s+-->\s+\d+:\d{2}:\d{2}[,.]\d{3}(?:\s+.*)?$")
_VTT_SKIPPED_BLOCK_RE = re.compile(r"^(?:NOTE|STYLE|REGION)(?:\s|$)")
_VOICE_RE = re.compile(r"<v(?:\.[^\s>]+)*\s+(?P<speaker>[^>]+)>")
# Formatting that carries no words: <c.yellow>, <i>, </v>, <00:00:01.000>, <font>, {\an8}.
_CUE_MARKUP_RE = re.compile(
    r"</?(?:v|c|i|b|u|ruby|rt|lang|font)\b[^>]*>|<\d[\d:.]*>|\{\\[^}]*\}", re.IGNORECASE)


def _blocks(lines: Sequence[str]) -> list[tuple[int, list[str]]]:
    """Runs of non-blank lines, each with the 1-based number of its first line."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            if not current:
                blocks.append((number, current))
            current.append(line)
        else:
            current = []
    return blocks


def _parse_webvtt(source: _Source) -> list[_Turn]:
    turns: list[_Turn] = []
    for first, block in _blocks(source.lines)[1:]:  # block 0 is the WEBVTT header
        if _VTT_SKIPPED_BLOCK_RE.match(block[0]):
            continue
        timing = _cue_timing_index(block)
        start = _cue_start(source, first, block, timing, _VTT_TIMING_RE, "WebVTT cue",
                           "write it as '00:00:01.000 --> 00:00:04.000' (full stop before "
                           "the milliseconds) with a blank line before each cue")
        _add_cue(source, turns, "\n".join(block[timing + 1:]), first + timing + 1, start)
    return turns


def _parse_srt(source: _Source) -> list[_Turn]:
    turns: list[_Turn] = []
    for first, block in _blocks(source.lines):
        timing = 1 if block[0].strip().isdigit() else 0  # the subtitle number is optional
        start = _cue_start(source, first, block, timing, _SRT_TIMING_RE, "SRT",
                           "write it as '00:00:01,000 --> 00:00:04,000' under the subtitle "
                           "number")
        _add_cue(source, turns, "\n".join(block[timing + 1:]), first + timing + 1, start)
    return turns


def _cue_start(source: _Source, first: int, block: Sequence[str], timing: int,
               pattern: re.Pattern, kind: str, fix: str) -> float:
    """Seconds at which the cue starts; a malformed timing line is an error at its line."""
    match = pattern.match(block[timing].strip()) if timing < len(block) else None
    if match is None:
        index = min(timing, len(block) - 1)
        raise _error(source.label, f"'{block[index].strip()}' is not a valid {kind} timing "
                     "line", fix, first + index)
    return _clock_to_seconds(match["start"])


def _cue_timing_index(block: Sequence[str]) -> int:
    """Index of the timing line: first line, or second when the cue has an id line.

    When neither has '-->', point at the line that looks like a (broken) timing line so
    the error message names the right line.
    """
    for index in (0, 1):
        if index < len(block) and "-->" in block[index]:
            return index
    return 0 if re.match(r"^\s*\d+:\d", block[0]) or len(block) == 1 else 1


def _add_cue(source: _Source, turns: list[_Turn], payload: str, line: int,
             start: float) -> None:
    """Turn one cue's payload into turns: voice tags first, else a 'Name:' label, else
    the cue continues the previous speaker (Zoom omits a repeated name)."""
    for speaker, text, offset in _cue_voices(payload):
        text = html.unescape(_CUE_MARKUP_RE.sub("", text))
        if speaker is None:
            label = _parse_label(text)
            if label is not None:
                speaker, text = label.speaker, label.rest
        if speaker is not None:
            turns.append(_Turn(_clean_speaker(speaker), [text], line + offset, start))
        elif turns:
            turns[-1].parts.append(text)
        elif text.strip():
            raise _error(source.label, "the first cue has no speaker",
                         "start its text with 'Name: ' or a <v Name> voice tag", line + offset)


def _cue_voices(payload: str) -> list[tuple[str | None, str, int]]:
    """Split a payload at <v Name> tags into (speaker or None, text, line offset)."""
    matches = list(_VOICE_RE.finditer(payload))
    if not matches:
        return [(None, payload, 0)] if payload.strip() else []
    pieces: list[tuple[str | None, str, int]] = []
    before = payload[:matches[0].start()]
    if _CUE_MARKUP_RE.sub("", before).strip():
        pieces.append((None, before, 0))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(payload)
        pieces.append((match["speaker"], payload[match.end():end],
                       payload.count("\n", 0, match.start())))
    return pieces


# --------------------------------------------------------------------------------------
# Word documents
# --------------------------------------------------------------------------------------

_TABLE_HEADER_RE = re.compile(
    r"^(?:speaker|name|participant|respondent)s?(?:\s+name)?\s*:?$", re.IGNORECASE)


def _parse_docx(source: _Source) -> list[_Turn]:
    import docx  # imported here so reading text formats does not pay for python-docx

    try:
        document = docx.Document(str(source.path))
    except Exception as exc:  # python-docx raises several unrelated types for bad files
        raise _error(source.label,
                     f"the file cannot be opened as a Word document ({_brief(exc)})",
                     "open it in Word and save it again as .docx") from exc
    paragraphs = _docx_paragraph_turns(document)
    table = _docx_table_turns(document)
    # A transcript laid out as a table may still have a labelled line or two above it
    # ("Facilitator: Rachel"); the table wins when it holds more turns.
    return table if len(table) > len(paragraphs) else paragraphs


def _docx_paragraph_turns(document) -> list[_Turn]:
    turns: list[_Turn] = []
    for number, paragraph in enumerate(document.paragraphs, start=1):
        text = paragraph.text
        label = _docx_bold_label(paragraph) or _parse_label(text)
        if label is not None and not (not turns and _is_header_label(label.speaker)):
            turns.append(_Turn(label.speaker, [label.rest], number, label.start_s,
                               unit="paragraph"))
        elif turns and text.strip():
            turns[-1].parts.append(text)
        # Paragraphs before the first label (title, "Duration: ...") are skipped.
    return turns


def _is_bold(run) -> bool:
    if run.bold is not None:
        return bool(run.bold)
    return bool(run.style is not None and run.style.font.bold)


def _docx_bold_label(paragraph) -> _Label | None:
    """A paragraph that opens with a bold speaker name: '**Tom:** text', '**Tom**: text'
    or '**Tom** text'. A wholly bold paragraph without a colon is a heading, not a label."""
    runs = paragraph.runs
    index = 0
    while index < len(runs) and not runs[index].text.strip():
        index += 1
    first_bold = index
    while index < len(runs) and _is_bold(runs[index]):
        index += 1
    name = "".join(run.text for run in runs[first_bold:index]).strip()
    if not name:
        return None
    prefix = "".join(run.text for run in runs[:index])
    full = paragraph.text
    # paragraph.text also includes hyperlinks, which .runs leaves out.
    rest = full[len(prefix):] if full.startswith(prefix) else "".join(
        run.text for run in runs[index:])
    if name.endswith(":"):
        name = name[:-1]
    elif rest.lstrip().startswith(":"):
        rest = rest.lstrip()[1:]
    elif not rest.strip():
        return None
    if not _looks_like_name(name):
        return None
    return _Label(_clean_speaker(name), rest.strip())


def _docx_table_turns(document) -> list[_Turn]:
    """Two-column tables (speaker | text); rows are numbered across all such tables."""
    turns: list[_Turn] = []
    row_number = 0
    for table in document.tables:
        if len(table.columns) != 2:
            continue
        for index, row in enumerate(table.rows):
            row_number += 1
            cells = row.cells
            speaker, text = cells[0].text, cells[1].text
            if index == 0 and _TABLE_HEADER_RE.match(speaker.strip()):
                continue
            speaker = _clean_speaker(speaker)
            if speaker:
                turns.append(_Turn(speaker, [text], row_number, unit="table row"))
            elif turns and text.strip():
                turns[-1].parts.append(text)  # an empty speaker cell continues the turn
    return turns


# --------------------------------------------------------------------------------------
# Spreadsheets: XLSX, CSV, TSV
# --------------------------------------------------------------------------------------

_SPEAKER_COLUMNS = frozenset({"speaker", "name", "participant", "speaker name"})
_TEXT_COLUMNS = frozenset({"text", "transcript", "utterance"})
_START_COLUMNS = frozenset({"start", "start s", "start time", "start seconds"})
_DELIMITERS = ("\t", ",", ";")


def _column_key(header: object) -> str:
    """'Start_Time ' -> 'start time', so headers match whatever their case and spacing."""
    return re.sub(r"[\s_]+", " ", str(header or "")).strip().strip("\"'").lower()


def _sniff_delimiter(header_line: str) -> str | None:
    """The delimiter that splits the header into a speaker and a text column, if any."""
    for delimiter in _DELIMITERS:
        keys = {_column_key(cell) for cell in next(csv.reader([header_line],
                                                               delimiter=delimiter))}
        if keys & _SPEAKER_COLUMNS and keys & _TEXT_COLUMNS:
            return delimiter
    return None


def _delimited_format(source: _Source, first_line: str) -> str | None:
    delimiter = _sniff_delimiter(first_line)
    if delimiter is None and source.path.suffix.lower() in (".csv", ".tsv"):
        # Trust the extension so a wrong header gets the "columns found" message.
        delimiter = _fallback_delimiter(source, first_line)
    if delimiter is None:
        return None
    return "tsv" if delimiter == "\t" else "csv"


def _fallback_delimiter(source: _Source, first_line: str) -> str:
    if source.path.suffix.lower() == ".tsv":
        return "\t"
    return max(_DELIMITERS, key=first_line.count)


def _parse_delimited(source: _Source) -> list[_Turn]:
    first_line = next(line for line in source.lines if line.strip())
    delimiter = _sniff_delimiter(first_line) or _fallback_delimiter(source, first_line)
    reader = csv.reader(io.StringIO(source.text), delimiter=delimiter)
    numbered_rows = []
    next_line = 1
    for row in reader:
        # A quoted field may span lines; the record starts where the previous one ended.
        numbered_rows.append((next_line, row))
        next_line = reader.line_num + 1
    return _rows_to_turns(source, numbered_rows, unit="line")


def _parse_xlsx(source: _Source) -> list[_Turn]:
    import openpyxl  # imported here so reading text formats does not pay for openpyxl

    try:
        # A file object, because openpyxl refuses paths whose extension is not .xlsx,
        # and the format was recognised from the content.
        workbook = openpyxl.load_workbook(io.BytesIO(source.path.read_bytes()),
                                          data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise _error(source.label,
                     f"the file cannot be opened as an Excel workbook ({_brief(exc)})",
                     "open it in Excel and save it again as .xlsx") from exc
    try:
        sheet = workbook.worksheets[0]
        numbered_rows = [(cells[0].row, [cell.value for cell in cells])
                         for cells in sheet.iter_rows(min_row=1)]
    finally:
        workbook.close()
    return _rows_to_turns(source, numbered_rows, unit="row")


def _rows_to_turns(source: _Source, numbered_rows: Iterable[tuple[int, list]],
                   unit: str) -> list[_Turn]:
    """Shared by CSV/TSV/XLSX: the first non-blank row is the header."""
    turns: list[_Turn] = []
    columns = None
    for number, row in numbered_rows:
        values = ["" if value is None else str(value) for value in row]
        if not any(value.strip() for value in values):
            continue
        if columns is None:
            columns = _find_columns(source, row, number, unit)
            continue
        speaker_col, text_col, start_col = columns
        speaker = _clean_speaker(values[speaker_col] if speaker_col < len(values) else "")
        text = values[text_col] if text_col < len(values) else ""
        start = math.nan
        if start_col is not None and start_col < len(row):
            start = _start_seconds(source, row[start_col], number, unit)
        if speaker:
            turns.append(_Turn(speaker, [text], number, start, unit=unit))
        elif not text.strip():
            continue
        elif turns:
            turns[-1].parts.append(text)  # a blank speaker cell continues the turn
        else:
            raise _error(source.label, "the first row of text has no speaker",
                         "fill in the speaker cell", number, unit)
    return turns


def _find_columns(source: _Source, header: Sequence, number: int,
                  unit: str) -> tuple[int, int, int | None]:
    keys = [_column_key(cell) for cell in header]

    def position(names: frozenset) -> int | None:
        return next((index for index, key in enumerate(keys) if key in names), None)

    speaker, text, start = position(_SPEAKER_COLUMNS), position(_TEXT_COLUMNS), \
        position(_START_COLUMNS)
    if speaker is None or text is None:
        missing = " and no ".join(f"'{name}' column" for name, col
                                  in (("speaker", speaker), ("text", text)) if col is None)
        found = ", ".join(f"'{cell}'" for cell in header if str(cell or "").strip())
        raise _error(source.label, f"the header row has no {missing} (columns found: "
                     f"{found})", "name the columns 'speaker' and 'text' (or 'name' and "
                     "'transcript'/'utterance'), with an optional 'start'", number, unit)
    return speaker, text, start


def _start_seconds(source: _Source, value: object, number: int, unit: str) -> float:
    """A start cell as seconds: a number, 'HH:MM:SS(.mmm)', 'MM:SS', or an Excel time."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (dt.time, dt.datetime)):  # Excel stores 00:01:23 as a time of day
        return (value.hour * 3600 + value.minute * 60 + value.second
                + value.microsecond / 1e6)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    if _CLOCK_RE.match(text):
        return _clock_to_seconds(text)
    raise _error(source.label, f"the start time '{text}' is neither seconds nor a clock time",
                 "write it as seconds (83.5) or as HH:MM:SS / MM:SS", number, unit)


# --------------------------------------------------------------------------------------
# Dispatcher and the tidy table
# --------------------------------------------------------------------------------------

_PARSERS = {
    "docx": _parse_docx,
    "xlsx": _parse_xlsx,
    "csv": _parse_delimited,
    "tsv": _parse_delimited,
    "webvtt": _parse_webvtt,
    "srt": _parse_srt,
    "otter": _parse_otter,
    "typed": _parse_typed,
    "plain": _parse_plain,
}

# How to repair a turn with no text, in the vocabulary of each format.
_EMPTY_TURN_FIX = {
    "plain": "add what {who} said or delete the line",
    "typed": "add what {who} said on the lines under the label or delete the label",
    "otter": "add what {who} said under the heading or delete the heading",
    "webvtt": "add what {who} said to the cue or delete the cue",
    "srt": "add what {who} said to the subtitle or delete the subtitle",
    "docx": "add what {who} said or delete the label",
    "xlsx": "fill in the text cell or delete the row",
    "csv": "fill in the text field or delete the row",
    "tsv": "fill in the text field or delete the row",
}


def detect_format(path: str | Path) -> str:
    """Name the layout of a transcript file, one of ``SUPPORTED_FORMATS``.

    Raises ``TranscriptError`` for a missing, empty, binary or unrecognisable file.
    """
    return _load(path).format


def read_transcript(path: str | Path) -> pd.DataFrame:
    """Read one transcript into a table with one row per speaker turn.

    Columns: ``speaker``, ``text`` (whitespace-normalised, annotations kept), ``turn``
    (1-based), ``line`` (1-based line, paragraph or row where the turn starts) and
    ``start_s`` (seconds, NaN when the format has no times). Consecutive turns by the
    same speaker are merged. ``df.attrs['format']`` names the detected layout.
    Raises ``TranscriptError`` with a message naming the file and line to fix.
    """
    source = _load(path)
    turns = _PARSERS[source.format](source)
    table = _tidy(source, turns)
    table.attrs["format"] = source.format
    table.attrs["source"] = source.label
    return table


def _tidy(source: _Source, turns: list[_Turn]) -> pd.DataFrame:
    if not turns:
        raise _unrecognised(source)
    rows: list[dict] = []
    for turn in turns:
        text = _normalise(" ".join(turn.parts))
        if not text:
            raise _empty_turn(source, turn)
        # Captions split one person's speech into many cues, and transcribers sometimes
        # repeat a label; one turn per change of speaker is what the analysis counts.
        if rows and rows[-1]["speaker"] == turn.speaker:
            rows[-1]["text"] += " " + text
        else:
            rows.append({"speaker": turn.speaker, "text": text, "line": turn.line,
                         "start_s": turn.start_s})
    table = pd.DataFrame(rows, columns=["speaker", "text", "line", "start_s"])
    table.insert(2, "turn", range(1, len(table) + 1))
    return table.astype({"turn": "int64", "line": "int64", "start_s": "float64"})[list(COLUMNS)]


def _empty_turn(source: _Source, turn: _Turn) -> TranscriptError:
    who = turn.speaker
    what = (f"the cue for '{who}' has no text" if source.format in ("webvtt", "srt")
            else f"the speaker label '{who}' has no text")
    return _error(source.label, what, _EMPTY_TURN_FIX[source.format].format(who=who),
                  turn.line, turn.unit)


# --------------------------------------------------------------------------- the study

UTTERANCE_COLUMNS = ["focus_group", "participant_group", "speaker", "role", "speaker_type", "turn", "line",
                     "start_s", "text", "source", "format"]


def read_study_turns(study) -> pd.DataFrame:
    """Every focus group of a study as one tidy table of speaker turns (utterances.parquet).

    Speakers are scoped to their focus group; a speaker listed under ``facilitators`` gets
    role ``facilitator`` (their questions are not data), everyone else ``participant``.
    A facilitator label that never occurs in its transcript is almost always a typo that
    would silently turn the facilitator into a participant, so it stops the run.
    """
    from .study import FACILITATOR, PARTICIPANT, StudyError

    frames = []
    for fg in study.focus_groups:
        turns = read_transcript(fg.transcript)
        speakers = set(turns["speaker"])
        for label in fg.facilitators:
            if label not in speakers:
                raise StudyError(
                    f"{study.path}, key 'focus_groups[{fg.id}].facilitators': '{label}' never speaks in "
                    f"{fg.transcript.name} (its speakers are {', '.join(sorted(speakers))}); "
                    "use the label exactly as it appears in the transcript.")
        turns.insert(0, "focus_group", fg.id)
        turns.insert(1, "participant_group", fg.participant_group)
        turns["role"] = [FACILITATOR if s in fg.facilitators else PARTICIPANT for s in turns["speaker"]]
        turns["speaker_type"] = [fg.speaker_types.get(s, "") for s in turns["speaker"]]
        turns["source"] = str(fg.transcript.relative_to(study.root)) if fg.transcript.is_relative_to(study.root) \
            else str(fg.transcript)
        turns["format"] = turns.attrs.get("format", "")
        frames.append(turns)
    out = pd.concat(frames, ignore_index=True)[UTTERANCE_COLUMNS]
    out.attrs = {}
    return out
