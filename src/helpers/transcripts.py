"""Read focus-group transcripts, whatever their format, into one tidy table of turns.

Transcripts arrive the way transcribers and meeting tools deliver them: Word documents,
Teams or Zoom captions, Otter.ai exports, spreadsheets, or plain text typed by hand in one
of several layouts. ``read_transcript(path)`` recognises the layout from the file's
content (not just its extension) and returns one row per speaker turn with the columns
``speaker``, ``text``, ``turn``, ``line`` and ``start_s``. Anything it cannot read raises
``TranscriptError``, whose one-sentence message names the file, the line, what is wrong
and how to fix it, so a researcher can repair the file without reading this code.

Supported layouts, in the order they are checked (see ``SUPPORTED_FORMATS``):

- ``docx``   Word: ``Speaker: text`` paragraphs (or lines, split by Shift+Enter), bold speaker
  names, or a two-column table.
- ``xlsx``   Excel, every sheet with ``speaker`` and ``text`` columns (optional ``start``), in order.
- ``csv``/``tsv``  the same columns in a comma, semicolon or tab separated file.
- ``webvtt`` Teams (``<v Name>text</v>``) or Zoom (``Name: text``) captions, read with
  webvtt-py.
- ``srt``    subtitles with ``Name: text`` payloads, cue numbers optional (any file with
  timing lines and no WEBVTT header), read with the ``srt`` package.
- ``otter``  Otter.ai text export (``Name  0:03`` headings above the text).
- ``typed``  a ``Name:`` line on its own above the turn's text.
- ``plain``  ``Name: text`` lines, with unlabelled lines continuing the turn.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import html
import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from ._io import UserError

__all__ = [
    "ANNOTATION_RE",
    "COLUMNS",
    "INGEST_WARNING_COLUMNS",
    "SUPPORTED_FORMATS",
    "WARNING_COLUMNS",
    "DeclaredSpeakers",
    "Ingested",
    "TranscriptError",
    "detect_format",
    "ingest_study",
    "read_study_turns",
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
    return TranscriptError(_sentence(source, problem, fix, line, unit))


def _sentence(source: str, problem: str, fix: str, line: int | None = None,
              unit: str = "line") -> str:
    """The one-sentence message: '<file>, line <n>: <problem>; <fix>.'"""
    where = source if line is None else f"{source}, {unit} {line}"
    return f"{where}: {problem}; {fix}."


#: Columns of the warnings ``read_transcript`` leaves in ``df.attrs['warnings']`` (and
#: ``ingest_study`` collects for the whole study, with the focus group first).
WARNING_COLUMNS = ("source", "line", "kind", "message")


def _warning(source: "_Source", kind: str, problem: str, fix: str, line: int | None = None,
             unit: str = "line") -> None:
    """Record something read faithfully but worth a person's look (not an error)."""
    source.warnings.append({"source": source.label, "line": line, "kind": kind,
                            "message": _sentence(source.label, problem, fix, line, unit)})


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
# except a colon inside a leading or trailing timestamp. A full-width colon (U+FF1A, as
# East Asian keyboards type it) is a colon too, and needs no space after it.
_LABEL_LINE_RE = re.compile(
    rf"""^\s*
    (?:[\[(]?(?P<lead_time>{_CLOCK})[\])]?\s+)?    # [00:01:23] Name: ...
    (?P<label>[^:\uff1a]+?)
    (?:\s*[\[(](?P<tail_time>{_CLOCK})[\])])?      # Name (00:01:23): ...
    \s*(?::(?:\s+(?P<rest>.*?))?|\uff1a\s*(?P<wide_rest>.*?))\s*$""",
    re.VERBOSE | re.DOTALL,
)
# A label written loosely: any case, no space after the colon ("jude:A lovely"). Read as a
# label only when it names a speaker already known (declared in study.yml, or written the
# usual way elsewhere in the file), so "so:right" or "Note:" in a sentence stay text.
_LOOSE_LABEL_RE = re.compile(r"^\s*(?P<label>[^:\uff1a]{1,60}?)\s*[:\uff1a]\s*(?P<rest>.*?)\s*$",
                             re.DOTALL)


@dataclass(frozen=True)
class _Label:
    speaker: str
    rest: str  # the text after the colon; '' for a label on a line of its own
    start_s: float = math.nan


def _parse_label(line: str, known: "_Known | None" = None) -> _Label | None:
    """Split 'Name: text' into its parts, or return None when the line has no label.

    With ``known`` (the speakers of this transcript), a label that matches one of them
    whatever its case, or has no space after its colon, is read as that speaker, spelt
    as declared; the variant spelling is remembered for a warning."""
    match = _LABEL_LINE_RE.match(line)
    if match and _looks_like_name(match["label"]):
        clock = match["lead_time"] or match["tail_time"]
        start = _clock_to_seconds(clock) if clock else math.nan
        speaker = _clean_speaker(match["label"])
        rest = match["rest"] or match["wide_rest"] or ""
        return _Label(known.spelling(speaker) if known else speaker, rest, start)
    loose = _LOOSE_LABEL_RE.match(line) if known else None
    if loose and known.spelling(_clean_speaker(loose["label"]), strict=True):
        return _Label(known.spelling(_clean_speaker(loose["label"])), loose["rest"])
    return None


@dataclass
class _Known:
    """The speaker labels of one transcript, to recognise them when written loosely."""
    by_fold: dict[str, str] = field(default_factory=dict)   # casefolded label -> spelling
    variants: dict[str, str] = field(default_factory=dict)  # loose spelling -> spelling

    def spelling(self, label: str, strict: bool = False) -> str | None:
        """The known spelling of ``label`` (remembering a variant); with ``strict``, None
        for an unknown label, else the label as written."""
        canonical = self.by_fold.get(label.casefold())
        if canonical is None:
            return None if strict else label
        if canonical != label:
            self.variants.setdefault(label, canonical)
        return canonical


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
    warnings: list = field(default_factory=list)
    # The speakers of this transcript (declared in study.yml, then as the parser finds
    # them), so a label written loosely ('jude:', 'Jude:A', 'Jude：') is still a label.
    known: _Known = field(default_factory=_Known)

    def learn(self, labels: Iterable[str]) -> None:
        for label in labels:  # labels declared in study.yml were learnt first and win
            self.known.by_fold.setdefault(label.casefold(), label)

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
    # True when the speaker came from 'Name:' at the start of a line of text (not a voice
    # tag, heading, bold run or speaker column), so it may be a sentence after all.
    text_label: bool = False


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


def _decode(source: _Source, raw: bytes) -> str:
    """BOM first, then UTF-8; a file with no UTF-8 in it is read in the legacy encoding
    charset-normalizer finds, and a UTF-8 file with a few lines in another encoding keeps
    UTF-8 for every good line and repairs only the bad ones, each reported by number."""
    label = source.label
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
    lines = raw.split(b"\n")
    bad = [number for number, line in enumerate(lines, start=1) if not _is_utf8(line)]
    utf8_elsewhere = any(not line.isascii() and _is_utf8(line) for line in lines)
    if not utf8_elsewhere:
        # No line uses UTF-8's multi-byte letters: the whole file is in one legacy
        # encoding, as Word's "plain text" and older transcription tools write it.
        encoding = _legacy_encoding(raw)
        _warning(source, "encoding", f"the file is not UTF-8, so it was read as {_CODEC_NAMES[encoding]}",
                 "check its accented letters and quotation marks, and save it as UTF-8 to be sure")
        return _decode_legacy(raw, encoding)
    encoding = _legacy_encoding(b"\n".join(lines[number - 1] for number in bad))
    for number in bad:
        repaired = _decode_legacy(lines[number - 1], encoding)
        lines[number - 1] = repaired.encode("utf-8")
        _warning(source, "encoding",
                 f"this line is not UTF-8 like the rest of the file, so it was read as "
                 f"{_CODEC_NAMES[encoding]} ('{_excerpt(repaired)}')",
                 "check it, and save the file as UTF-8", number)
    return b"\n".join(lines).decode("utf-8")


# Transcripts are English-language (with Welsh, Irish and other Western names): the
# candidates are the encodings Windows and old Macs write such text in. Letting the
# detector consider every code page makes it guess Central European or DOS pages for
# short English texts.
_CODEC_NAMES = {"cp1252": "Windows-1252", "mac_roman": "Mac Roman"}


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _legacy_encoding(data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(_CODEC_NAMES)).best()
    guess = best.encoding if best is not None and best.encoding in _CODEC_NAMES else "cp1252"
    # With only a few accented letters the detector has little to go on and often says
    # Windows-1252 for a Mac Roman file ("cafŽ na•ve Si‰n"). The two encodings put letters
    # and symbols on the same bytes the other way round, so the reading with fewer
    # characters that cannot stand where they stand is the right one.
    oddities = {encoding: _misplaced_characters(_decode_legacy(data, encoding)) for encoding in _CODEC_NAMES}
    fewest = min(oddities.values())
    return guess if oddities[guess] == fewest else min(oddities, key=oddities.get)


def _misplaced_characters(text: str) -> int:
    """How many non-ASCII characters sit where English text (with Welsh, Irish and other
    Western names) never puts them: a symbol inside a word ('na•ve'), a capital letter
    after a small one ('cafŽ', 'donÕt'), a letter standing alone between spaces ('ñ' for
    a dash), or a small accented letter opening a word after a space ('ìfine' for a quote).
    """
    count = 0
    for index, char in enumerate(text):
        if char.isascii():
            continue
        before = text[index - 1] if index else " "
        after = text[index + 1] if index + 1 < len(text) else " "
        if char.isalpha():
            count += (before.isalpha() and before.islower() and char.isupper()) \
                or (before.isspace() and after.isspace()) \
                or (before.isspace() and char.islower() and after.isalpha())
        elif char not in "’‘":
            count += before.isalpha() and after.isalpha()
    return count


def _decode_legacy(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        # The five bytes cp1252 leaves undefined; Latin-1 maps every byte, so never fails.
        return data.decode("latin-1")


def _excerpt(text: str, width: int = 60) -> str:
    text = _normalise(text)
    return text if len(text) <= width else text[:width - 1] + "…"


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
    # First the labels written the usual way: 'Name: text' (plain) or 'Name:' on its own
    # line (typed). In a typed transcript an inline 'Name: text' then starts a turn only
    # for one of those speakers (or a declared one), so 'Note: ...' stays text.
    labels = [_parse_label(line) for line in source.lines]
    source.learn(label.speaker for label in labels if label is not None
                 and not _is_header_label(label.speaker) and not (label_only and label.rest))
    turns: list[_Turn] = []
    for number, line in enumerate(source.lines, start=1):
        label = _parse_label(line, source.known)
        starts_turn = (label is not None
                       and not (label_only and label.rest and not source.known.spelling(label.speaker, strict=True))
                       and not (not turns and _is_header_label(label.speaker)))
        if starts_turn:
            turns.append(_Turn(label.speaker, [label.rest], number, label.start_s,
                               text_label=True))
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
# Anything shaped like a timing line, valid or not: format detection and error messages.
_LOOSE_TIMING_RE = re.compile(r"^\s*\d[\d:.,]*\s*-+>\s*\d")
_VTT_SKIPPED_BLOCK_RE = re.compile(r"^(?:NOTE|STYLE|REGION)(?:\s|$)")
# Formatting that carries no words: <c.yellow>, <i>, </v>, <00:00:01.000>, <font>, {\an8}.
_CUE_MARKUP_RE = re.compile(
    r"</?(?:v|c|i|b|u|ruby|rt|lang|font)\b[^>]*>|<\d[\d:.]*>|\{\\[^}]*\}", re.IGNORECASE)

_VTT_TIMING_FIX = ("write it as '00:00:01.000 --> 00:00:04.000' (full stop before the "
                   "milliseconds) with a blank line before each cue")
_SRT_TIMING_FIX = "write it as '00:00:01,000 --> 00:00:04,000' under the subtitle number"


def _timing_lines(source: _Source, pattern: re.Pattern, kind: str, fix: str) -> list[int]:
    """0-based indexes of the cue timing lines, in order; a line that is shaped like a
    timing line (or holds '-->') but is not a valid one is an error at that line.

    A timing line always starts a cue, wherever it stands: a missing blank line before it
    must not turn it, and the cue under it, into the previous speaker's text.
    """
    found = []
    for index, line in enumerate(source.lines):
        stripped = line.strip()
        if "-->" not in stripped and not _LOOSE_TIMING_RE.match(stripped):
            continue
        if not pattern.match(stripped):
            raise _error(source.label, f"'{stripped}' is not a valid {kind} timing line", fix,
                         index + 1)
        found.append(index)
    return found


def _vtt_blocks_without_timing(source: _Source) -> None:
    """webvtt-py skips a block that is not a cue, a NOTE, STYLE or REGION; such a block is
    text the transcript would silently lose, so it stops the run at its first line."""
    block: list[tuple[int, str]] = []
    blocks = []
    for index, line in enumerate(source.lines):
        # As in WebVTT: a blank line ends a block, and so does a timing line that cannot
        # belong to the current block (its first line, or its second after an identifier).
        if not line.strip() or ("-->" in line and block and (len(block) > 1 or "-->" in block[0][1])):
            if block:
                blocks.append(block)
            block = [] if not line.strip() else [(index, line)]
        else:
            block.append((index, line))
    if block:
        blocks.append(block)
    for block in blocks[1:]:  # block 0 is the WEBVTT header
        first_index, first = block[0]
        if _VTT_SKIPPED_BLOCK_RE.match(first) or any("-->" in line for _, line in block[:2]):
            continue
        raise _error(source.label, f"the text '{_excerpt(first)}' is not inside a cue (no "
                     "timing line above it)", "put a timing line such as '00:00:01.000 --> "
                     "00:00:04.000' above it, or a blank line between it and the cue it "
                     "belongs to if it is a cue identifier", first_index + 1)


def _separate_cue_numbers(lines: Sequence[str]) -> str:
    """The text for webvtt-py with a blank line put back above each cue number that sits
    straight under the previous cue's text ('…gone on mute.' / '30' / '00:01:02.000 -->'),
    so the number is read as the cue's identifier, not as words of the cue above. (Only
    the text handed to the parser changes; line numbers come from the file as it is.)"""
    out: list[str] = []
    for index, line in enumerate(lines):
        if (line.strip().isdigit() and index + 1 < len(lines) and "-->" in lines[index + 1]
                and out and out[-1].strip()):
            out.append("")
        out.append(line)
    return "\n".join(out)


def _parse_webvtt(source: _Source) -> list[_Turn]:
    """Cues read by webvtt-py (the maintained WebVTT parser); speakers from its voice
    spans, or a 'Name:' label in the cue text."""
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    timings = _timing_lines(source, _VTT_TIMING_RE, "WebVTT cue", _VTT_TIMING_FIX)
    _vtt_blocks_without_timing(source)
    try:
        captions = webvtt.from_string(_separate_cue_numbers(source.lines)).captions
    except (MalformedCaptionError, MalformedFileError) as exc:
        raise _error(source.label, f"the file cannot be read as WebVTT ({_brief(exc)})",
                     "export the captions again, or save them as .srt") from exc
    cues = [(caption.raw_text, caption.start_time.in_milliseconds() / 1000,
             caption.end_time.in_milliseconds() / 1000) for caption in captions]
    return _caption_turns(source, cues, timings, "cue")


def _parse_srt(source: _Source) -> list[_Turn]:
    """Subtitles read by the ``srt`` package (cue numbers optional, a missing blank line
    tolerated); speakers from a 'Name:' label in the subtitle text."""
    import srt

    timings = _timing_lines(source, _SRT_TIMING_RE, "SRT", _SRT_TIMING_FIX)
    try:
        subtitles = list(srt.parse(source.text))
    except srt.SRTParseError as exc:
        line = source.text.count("\n", 0, exc.expected_start) + 1
        raise _error(source.label, f"'{_excerpt(exc.unmatched_content)}' is not part of a "
                     "subtitle", "delete it, or put a timing line such as '00:00:01,000 --> "
                     "00:00:04,000' above it", line) from exc
    cues = [(subtitle.content, subtitle.start.total_seconds(), subtitle.end.total_seconds())
            for subtitle in subtitles]
    return _caption_turns(source, cues, timings, "subtitle")


def _caption_turns(source: _Source, cues: list[tuple[str, float, float]],
                   timings: list[int], kind: str) -> list[_Turn]:
    """Turns from the parser's cues; the n-th cue sits under the n-th timing line, which
    gives each turn its line number. Times that run backwards or overlap are read as
    they are (the file's order is kept) and reported, naming the cue."""
    if len(cues) != len(timings):
        raise _error(source.label, f"the file has {len(timings)} timing lines but "
                     f"{len(cues)} {kind}s could be read", f"check that every {kind} has a "
                     "timing line and a blank line before it")
    source.learn(_cue_speakers(cue[0] for cue in cues))
    turns: list[_Turn] = []
    previous: tuple[int, float, float] | None = None
    for (payload, start, end), timing in zip(cues, timings):
        line = timing + 1
        _check_cue_times(source, kind, line, start, end, previous)
        previous = (line, start, end)
        _add_cue(source, turns, payload.replace("\r", ""), line + 1, start)
    return turns


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{round((seconds - whole) * 1000):03d}"


def _check_cue_times(source: _Source, kind: str, line: int, start: float, end: float,
                     previous: tuple[int, float, float] | None) -> None:
    fix = "check the timestamps against the recording (the turns keep the file's order)"
    if end < start:
        _warning(source, "timestamps", f"the {kind} ends ({_clock(end)}) before it starts "
                 f"({_clock(start)})", fix, line)
    if previous is None:
        return
    before_line, before_start, before_end = previous
    if start < before_start:
        _warning(source, "timestamps", f"the {kind} starts at {_clock(start)}, earlier than "
                 f"the {kind} above it (line {before_line}, {_clock(before_start)})", fix, line)
    elif start < before_end:
        _warning(source, "timestamps", f"the {kind} starts at {_clock(start)}, before the "
                 f"{kind} above it (line {before_line}) ends at {_clock(before_end)}", fix, line)


def _cue_speakers(payloads: Iterable[str]) -> list[str]:
    """The speakers cues name the usual way: voice tags, or 'Name: ' opening the cue."""
    found = []
    for payload in payloads:
        for speaker, text, _ in _cue_voices(payload):
            label = _parse_label(_CUE_MARKUP_RE.sub("", text).split("\n")[0]) if speaker is None else None
            if speaker is not None or label is not None:
                found.append(_clean_speaker(speaker) if speaker is not None else label.speaker)
    return found


def _add_cue(source: _Source, turns: list[_Turn], payload: str, line: int,
             start: float) -> None:
    """Turn one cue's payload into turns: voice tags first, else a 'Name:' label at the
    start of any of its lines (one cue may hold two speakers, 'Marcus: …' then
    'Saskia: …'), else the cue continues the previous speaker (Zoom omits a repeated
    name)."""
    for speaker, text, offset in _cue_voices(payload):
        text = html.unescape(_CUE_MARKUP_RE.sub("", text))
        if speaker is not None:
            turns.append(_Turn(source.known.spelling(_clean_speaker(speaker)), [text], line + offset, start))
            continue
        for index, text_line in enumerate(text.split("\n")):
            label = _parse_label(text_line, source.known)
            if label is not None:
                turns.append(_Turn(label.speaker, [label.rest], line + offset + index, start,
                                   text_label=True))
            elif turns:
                turns[-1].parts.append(text_line)
            elif text_line.strip():
                raise _error(source.label, "the first cue has no speaker",
                             "start its text with 'Name: ' or a <v Name> voice tag",
                             line + offset + index)


def _cue_voices(payload: str) -> list[tuple[str | None, str, int]]:
    """Split a payload at <v Name> voice spans (webvtt-py's pattern for them) into
    (speaker or None, text, line offset); one cue may hold several voices."""
    from webvtt.models import Caption

    matches = list(Caption.VOICE_SPAN_PATTERN.finditer(payload))
    if not matches:
        return [(None, payload, 0)] if payload.strip() else []
    pieces: list[tuple[str | None, str, int]] = []
    before = payload[:matches[0].start()]
    if _CUE_MARKUP_RE.sub("", before).strip():
        pieces.append((None, before, 0))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(payload)
        pieces.append((match.group(1), payload[match.end():end],
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
    paragraphs = _docx_paragraph_turns(source, document)
    table = _docx_table_turns(source, document)
    # A transcript laid out as a table may still have a labelled line or two above it
    # ("Facilitator: Rachel"); the table wins when it holds more turns.
    return table if len(table) > len(paragraphs) else paragraphs


def _docx_paragraph_turns(source: _Source, document) -> list[_Turn]:
    # A paragraph may hold several lines (Shift+Enter in Word): each line that opens with
    # a speaker label starts a turn, as a paragraph would.
    lines = [(number, fragments) for number, paragraph in enumerate(document.paragraphs, start=1)
             for fragments in _docx_lines(paragraph)]
    labels = [_docx_bold_label(fragments) or _parse_label("".join(text for text, _ in fragments))
              for _, fragments in lines]
    source.learn(label.speaker for label in labels if label is not None and not _is_header_label(label.speaker))
    turns: list[_Turn] = []
    for number, fragments in lines:
        text = "".join(text for text, _ in fragments)
        bold = _docx_bold_label(fragments, source.known)
        label = bold or _parse_label(text, source.known)
        if label is not None and not (not turns and _is_header_label(label.speaker)):
            turns.append(_Turn(label.speaker, [label.rest], number, label.start_s,
                               unit="paragraph", text_label=bold is None))
        elif turns and text.strip():
            turns[-1].parts.append(text)
        # Paragraphs before the first label (title, "Duration: ...") are skipped.
    return turns


def _is_bold(run) -> bool:
    if run.bold is not None:
        return bool(run.bold)
    return bool(run.style is not None and run.style.font.bold)


def _docx_lines(paragraph) -> list[list[tuple[str, bool]]]:
    """The paragraph's lines (split at its line breaks), each as (text, bold) pieces in
    order; a hyperlink's text is a piece that is not bold."""
    lines: list[list[tuple[str, bool]]] = [[]]
    for item in paragraph.iter_inner_content():
        runs = item.runs if hasattr(item, "runs") else [item]   # a Hyperlink holds runs
        for run in runs:
            bold = _is_bold(run) and not hasattr(item, "runs")
            for index, piece in enumerate(run.text.split("\n")):
                if index:
                    lines.append([])
                if piece:
                    lines[-1].append((piece, bold))
    return lines


def _docx_bold_label(fragments: Sequence[tuple[str, bool]], known: _Known | None = None) -> _Label | None:
    """A line that opens with a bold speaker name: '**Tom:** text', '**Tom**: text' or
    '**Tom** text'. A wholly bold line without a colon is a heading, not a label."""
    index = 0
    while index < len(fragments) and not fragments[index][0].strip():
        index += 1
    first_bold = index
    while index < len(fragments) and fragments[index][1]:
        index += 1
    name = "".join(text for text, _ in fragments[first_bold:index]).strip()
    if not name:
        return None
    rest = "".join(text for text, _ in fragments[index:])
    if name.endswith(":") or name.endswith("\uff1a"):
        name = name[:-1]
    elif rest.lstrip()[:1] in (":", "\uff1a"):
        rest = rest.lstrip()[1:]
    elif not rest.strip():
        return None
    if not _looks_like_name(name):
        name = known.spelling(_clean_speaker(name), strict=True) if known else None
        if name is None:
            return None
    return _Label(known.spelling(_clean_speaker(name)) if known else _clean_speaker(name), rest.strip())


def _docx_table_turns(source: _Source, document) -> list[_Turn]:
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
                turns.append(_Turn(source.known.spelling(speaker), [text], row_number, unit="table row"))
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
    if len(header_line) > 10_000:  # not a header row (and over the csv module's field limit)
        return None
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
        sheets = [(sheet.title, [(cells[0].row, [cell.value for cell in cells])
                                 for cells in sheet.iter_rows(min_row=1)])
                  for sheet in workbook.worksheets]
    finally:
        workbook.close()
    if len(sheets) == 1:
        return _rows_to_turns(source, sheets[0][1], unit="row")
    # A transcript split over sheets ("Part 1", "Part 2") is read sheet by sheet, in the
    # workbook's order; a sheet whose header has no speaker and text columns (notes, a
    # code list) is left out and named.
    turns: list[_Turn] = []
    skipped: list[str] = []
    read = 0
    for title, rows in sheets:
        header = next((row for _, row in rows if any(str(v or "").strip() for v in row)), None)
        if header is None:
            continue
        speaker, text, _ = _column_positions(header)
        if speaker is None or text is None:
            found = ", ".join(f"'{cell}'" for cell in header if str(cell or "").strip())
            skipped.append(f"'{title}' (columns {found})")
            continue
        turns += _rows_to_turns(source, rows, unit=f"sheet '{title}' row")
        read += 1
    if not read and skipped:
        raise _error(source.label, f"no sheet has a header row with a 'speaker' and a 'text' column "
                     f"(sheets {'; '.join(skipped)})", "name the columns 'speaker' and 'text' (or "
                     "'name' and 'transcript'/'utterance') on the sheets that hold the transcript")
    if skipped:
        _warning(source, "sheets", f"the sheet{'s' * (len(skipped) > 1)} {'; '.join(skipped)} "
                 f"{'have' if len(skipped) > 1 else 'has'} no speaker and text columns, so "
                 f"{'they were' if len(skipped) > 1 else 'it was'} not read as transcript",
                 "if a sheet holds turns, name its columns 'speaker' and 'text'")
    return turns


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
            turns.append(_Turn(source.known.spelling(speaker), [text], number, start, unit=unit))
        elif not text.strip():
            continue
        elif turns:
            turns[-1].parts.append(text)  # a blank speaker cell continues the turn
        else:
            raise _error(source.label, "the first row of text has no speaker",
                         "fill in the speaker cell", number, unit)
    return turns


def _column_positions(header: Sequence) -> tuple[int | None, int | None, int | None]:
    """Where the speaker, text and start columns are in a header row (None if absent)."""
    keys = [_column_key(cell) for cell in header]

    def position(names: frozenset) -> int | None:
        return next((index for index, key in enumerate(keys) if key in names), None)

    return position(_SPEAKER_COLUMNS), position(_TEXT_COLUMNS), position(_START_COLUMNS)


def _find_columns(source: _Source, header: Sequence, number: int,
                  unit: str) -> tuple[int, int, int | None]:
    speaker, text, start = _column_positions(header)
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


def read_transcript(path: str | Path, declared: "DeclaredSpeakers | None" = None) -> pd.DataFrame:
    """Read one transcript into a table with one row per speaker turn.

    Columns: ``speaker``, ``text`` (whitespace-normalised, annotations kept), ``turn``
    (1-based), ``line`` (1-based line, paragraph or row where the turn starts) and
    ``start_s`` (seconds, NaN when the format has no times). Consecutive turns by the
    same speaker are merged. ``df.attrs['format']`` names the detected layout and
    ``df.attrs['warnings']`` lists what was read faithfully but deserves a look (a
    repaired line, timestamps out of order, massive repetition), as dicts with
    ``WARNING_COLUMNS``. With ``declared``, every label is checked against the focus
    group's speakers and facilitators in study.yml (see :func:`_check_labels`).
    Raises ``TranscriptError`` with a message naming the file and line to fix.
    """
    source = _load(path)
    if declared is not None:
        source.learn((*declared.facilitators, *declared.participants))
    turns = _PARSERS[source.format](source)
    _warn_variant_labels(source, declared)
    _check_turn_length(source, turns)
    if declared is not None:
        turns = _check_labels(source, turns, declared)
    _check_repeated_turns(source, turns)
    table = _tidy(source, turns)
    _check_repetition(source, table)
    table.attrs["format"] = source.format
    table.attrs["source"] = source.label
    table.attrs["warnings"] = list(source.warnings)
    return table


@dataclass(frozen=True)
class DeclaredSpeakers:
    """What study.yml declares about one focus group's speaker labels."""
    facilitators: tuple[str, ...]
    participants: tuple[str, ...]
    listed: bool = True        # False for ``speakers: unlisted``
    where: str = "study.yml"   # names the focus group in messages


def _closest(label: str, candidates: Iterable[str]) -> str | None:
    """The declared label a mistyped one most likely means ('Interviwer' -> 'Interviewer')."""
    by_lower = {candidate.lower(): candidate for candidate in candidates}
    match = difflib.get_close_matches(label.lower(), list(by_lower), n=1, cutoff=0.75)
    return by_lower[match[0]] if match else None


def _check_labels(source: _Source, turns: list[_Turn], declared: DeclaredSpeakers) -> list[_Turn]:
    """Hold every speaker label to the focus group's declaration in study.yml.

    - A declared label is read as it is.
    - A label close to a declared one ('Interviwer', 'INTERVIEWER') stops the run with a
      suggestion: read as a new person, a facilitator's questions would become data.
    - With the speakers listed, a 'Word:' that opens a single line of text and is not
      declared ("Radiotherapy: it is a lonely place") is part of the sentence: it joins
      the turn it is in, and a warning names the line. Any other undeclared label (a
      voice tag, a bold name, a speaker column, or a 'Name:' that recurs) is a speaker
      missing from study.yml, and stops the run.
    - With ``speakers: unlisted``, undeclared labels are read as participants; the study
      lists them as a warning (see :func:`ingest_study`).
    """
    known = (*declared.facilitators, *declared.participants)
    counts: dict[str, int] = {}
    for turn in turns:
        counts[turn.speaker] = counts.get(turn.speaker, 0) + 1
    kept: list[_Turn] = []
    for turn in turns:
        if turn.speaker in known:
            kept.append(turn)
            continue
        close = _closest(turn.speaker, known if declared.listed else declared.facilitators)
        if close is not None:
            lines = [str(t.line) for t in turns if t.speaker == turn.speaker]
            more = (f" (also {turn.unit}{'s' * (len(lines) > 2)} {', '.join(lines[1:6])}"
                    f"{'…' if len(lines) > 6 else ''})") if len(lines) > 1 else ""
            if close not in counts:  # the declared spelling is never used: study.yml is off
                raise _error(source.label, f"the label '{turn.speaker}'{more} is not declared in "
                             f"{declared.where}, which has '{close}' instead, a label that never "
                             "speaks here", "make the two spellings the same (in study.yml or "
                             "in the transcript)", turn.line, turn.unit)
            raise _error(source.label, f"the label '{turn.speaker}'{more} is not declared in "
                         f"{declared.where} (did you mean '{close}'?)", "correct the label in "
                         "the transcript, or declare it in study.yml if it is another person",
                         turn.line, turn.unit)
        if not declared.listed:
            kept.append(turn)
            continue
        if turn.text_label and counts[turn.speaker] == 1 and kept:
            kept[-1].parts.append(f"{turn.speaker}: " + " ".join(turn.parts))
            _warning(source, "label", f"'{turn.speaker}:' opens this line but is not a declared "
                     f"speaker in {declared.where}, so the line was read as part of "
                     f"{kept[-1].speaker}'s turn", f"if {turn.speaker} is a person, add the "
                     "label under the focus group's speakers in study.yml", turn.line, turn.unit)
            continue
        names = ", ".join(f"'{label}'" for label in known) or "none"
        raise _error(source.label, f"'{turn.speaker}' speaks here but is not declared in "
                     f"{declared.where} (declared: {names})", "add the label under the focus "
                     "group's speakers (or facilitators) in study.yml, or correct it in the "
                     "transcript", turn.line, turn.unit)
    return kept


def _warn_variant_labels(source: _Source, declared: "DeclaredSpeakers | None") -> None:
    """One warning per label read as a speaker spelt otherwise ('jude', 'JUDE')."""
    where = f" in {declared.where}" if declared is not None else " elsewhere in the file"
    for written, canonical in source.known.variants.items():
        line = next((number for number, text in enumerate(source.lines, start=1)
                     if _clean_speaker(text.split(":")[0].split("\uff1a")[0]) == written), None)
        _warning(source, "label", f"the label '{written}' was read as '{canonical}', the speaker spelt "
                 f"that way{where}", f"if '{written}' is another person, give them a label of their own",
                 line)


#: Longer than any one person speaks without interruption in a focus group (about 3,000
#: words, twenty minutes): a turn this long is a transcript whose line breaks were lost.
_MAX_TURN_CHARACTERS = 20_000


def _check_turn_length(source: _Source, turns: list[_Turn]) -> None:
    for turn in turns:
        size = sum(len(part) for part in turn.parts)
        if size > _MAX_TURN_CHARACTERS:
            raise _error(source.label, f"the turn of '{turn.speaker}' that starts here holds {size:,} "
                         f"characters (more than {_MAX_TURN_CHARACTERS:,}, about twenty minutes of speech), "
                         "so the line breaks between turns were probably lost", "export the transcript "
                         "again with one line per turn, or put each 'Name:' on a new line",
                         turn.line, turn.unit)


#: A run of this many consecutive turns, with this many words, repeated word for word is a
#: paste done twice or a looping export, never a conversation.
_REPEATED_RUN_TURNS = 3
_REPEATED_RUN_WORDS = 30
#: One person saying the same thing twice in a row, word for word, this long is a copy.
_REPEATED_TURN_WORDS = 5


def _check_repeated_turns(source: _Source, turns: list[_Turn]) -> None:
    """Stop on a block of turns repeated word for word (the transcript, or part of it,
    pasted twice) and on a turn whose text is the same as the turn above by the same
    speaker (one line copied twice); both would double what the analysis counts."""
    keys = [(turn.speaker, _normalise(" ".join(turn.parts))) for turn in turns]
    for index in range(1, len(keys)):
        if keys[index] == keys[index - 1] and len(keys[index][1].split()) >= _REPEATED_TURN_WORDS:
            turn, above = turns[index], turns[index - 1]
            raise _error(source.label, f"{turn.speaker}'s turn here repeats, word for word, their turn "
                         f"just above ({above.unit} {above.line}: '{_excerpt(keys[index][1])}')",
                         "delete the copy", turn.line, turn.unit)
    # For each earlier turn equal to this one: how many turns in a row, ending here,
    # equal the turns ending there.
    positions: dict[tuple[str, str], list[int]] = {}
    runs: dict[int, int] = {}
    for index, key in enumerate(keys):
        current = {before: runs.get(before - 1, 0) + 1 for before in positions.get(key, [])}
        for before, length in current.items():
            start, offset = index - length + 1, index - before
            if length < _REPEATED_RUN_TURNS or start <= before:   # too short, or overlapping
                continue
            end = index
            while end + 1 < len(keys) and end + 1 - offset < start and keys[end + 1] == keys[end + 1 - offset]:
                end += 1
            if sum(len(keys[k][1].split()) for k in range(start, end + 1)) >= _REPEATED_RUN_WORDS:
                first, copy, last = turns[start - offset], turns[start], turns[end]
                raise _error(source.label, f"the {end - start + 1} turns from {copy.unit} {copy.line} to "
                             f"{last.line} repeat, word for word, the turns from {first.unit} {first.line} "
                             "(the transcript, or part of it, was pasted twice)", "delete the repeated turns",
                             copy.line, copy.unit)
        positions.setdefault(key, []).append(index)
        runs = current


# A transcript where half the turns repeat an earlier one is almost always a duplicated
# export (a paste done twice, a caption file that loops), not a conversation; below this
# many turns, short agreement tokens ("Yeah.") repeat naturally.
_REPETITION_MIN_TURNS = 50
_REPETITION_MAX_DISTINCT_SHARE = 0.5


def _check_repetition(source: _Source, table: pd.DataFrame) -> None:
    turns, distinct = len(table), table["text"].nunique()
    if turns >= _REPETITION_MIN_TURNS and distinct <= _REPETITION_MAX_DISTINCT_SHARE * turns:
        _warning(source, "repetition", f"{turns:,} turns hold only {distinct:,} distinct texts "
                 f"({1 - distinct / turns:.0%} of the turns repeat an earlier one)",
                 "check that the export was not duplicated or looped before analysing it "
                 "(every repeat is analysed as a separate turn)")


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
#: Columns of ``ingest_warnings.csv``.
INGEST_WARNING_COLUMNS = ["focus_group", *WARNING_COLUMNS]


@dataclass
class Ingested:
    """The study's turns (``utterances.parquet``) and what was read but needs a look."""
    utterances: pd.DataFrame
    warnings: pd.DataFrame


def read_study_turns(study) -> pd.DataFrame:
    """Every focus group of a study as one tidy table of speaker turns (utterances.parquet)."""
    return ingest_study(study).utterances


def ingest_study(study) -> Ingested:
    """Read every focus group of a study, checking its labels against study.yml.

    Speakers are scoped to their focus group; a speaker listed under ``facilitators`` gets
    role ``facilitator`` (their questions are not data), everyone else ``participant``.
    A facilitator label that never occurs in its transcript is almost always a typo that
    would silently turn the facilitator into a participant, so it stops the run, as does
    an undeclared label (see :func:`_check_labels`). Warnings (repaired lines, timestamps
    out of order, labels read as text, unlisted speakers, massive repetition, a focus
    group where no participant speaks) are returned beside the turns.
    """
    from .study import FACILITATOR, PARTICIPANT, StudyError

    frames, warnings = [], []
    for fg in study.focus_groups:
        declared = DeclaredSpeakers(fg.facilitators, tuple(fg.speaker_types), fg.speakers_listed,
                                    f"focus group {fg.id} of {study.path}")
        turns = read_transcript(fg.transcript, declared)
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
        relative = str(fg.transcript.relative_to(study.root)) if fg.transcript.is_relative_to(study.root) \
            else str(fg.transcript)
        turns["source"] = relative
        turns["format"] = turns.attrs.get("format", "")
        # Named as in utterances (relative to study.yml), so the file is the same on any machine.
        found = [dict(w, focus_group=fg.id, source=relative,
                      message=w["message"].replace(w["source"], relative, 1))
                 for w in turns.attrs.get("warnings", [])]
        found += _study_level_warnings(fg, turns, relative, PARTICIPANT)
        warnings += found
        frames.append(turns)
    out = pd.concat(frames, ignore_index=True)[UTTERANCE_COLUMNS]
    out.attrs = {}
    _check_every_group_has_talk(study, out, PARTICIPANT, StudyError)
    table = pd.DataFrame(warnings, columns=INGEST_WARNING_COLUMNS).astype({"line": "Int64"})
    return Ingested(out, table)


def _check_every_group_has_talk(study, utterances: pd.DataFrame, participant: str, error) -> None:
    """A participant group is a data set of its own: with no participant talk to analyse
    (every turn a facilitator's, or only 'Yeah.' and 'Mm.') it cannot have themes, and the
    integration could not represent it, so the run stops here rather than downstream."""
    from .embeddings import is_backchannel

    for index, group in enumerate(study.participant_groups):
        talk = utterances[(utterances["participant_group"] == group.id) & (utterances["role"] == participant)]
        if not any(not is_backchannel(text) for text in talk["text"]):
            fgs = ", ".join(fg.id for fg in study.focus_groups if fg.participant_group == group.id)
            raise error(f"{study.path}, key 'participant_groups[{index}]': group '{group.id}' has no participant "
                        f"talk to analyse (its focus groups {fgs} hold only facilitators' turns"
                        f"{' and short replies such as Yeah or Mm' if len(talk) else ''}); check their "
                        "'facilitators' and 'speakers' in study.yml, or remove the group.")


def _study_level_warnings(fg, turns: pd.DataFrame, label: str, participant: str) -> list[dict]:
    found = []

    def add(kind: str, problem: str, fix: str) -> None:
        found.append({"focus_group": fg.id, "source": label, "line": None, "kind": kind,
                      "message": _sentence(label, problem, fix)})

    participants = list(dict.fromkeys(turns.loc[turns["role"] == participant, "speaker"]))
    if not fg.speakers_listed and participants:
        add("label", f"focus group {fg.id} says 'speakers: unlisted', so these "
            f"{len(participants)} labels were read as participants without a check: "
            f"{', '.join(participants)}", "list them under its speakers in study.yml once you "
            "have checked them, so that a mistyped label stops the run")
    if not participants:
        add("no participant talk", f"focus group {fg.id} has no participant talk (every turn "
            "is a facilitator's), so it adds nothing to the themes", "check its facilitators "
            "in study.yml, or remove the focus group")
    return found
