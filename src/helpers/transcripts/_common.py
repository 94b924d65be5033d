"""What every part of reading a transcript shares: the supported formats and the tidy
columns, the one-sentence error and the warnings, whitespace, clock times, and the file
being read (``_Source``) with the turns found in it (``_Turn``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .._io import UserError

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


def _normalise(text: str) -> str:
    """Collapse every run of whitespace (spaces, tabs, newlines, NBSP) to one space."""
    return " ".join(text.split())


# M:SS, MM:SS, H:MM:SS or HH:MM:SS, optionally with milliseconds after '.' or ','.
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_CLOCK_RE = re.compile(r"^\d+:\d{2}(?::\d{2})?(?:[.,]\d+)?$")


def _clock_to_seconds(clock: str) -> float:
    """'1:02:15' -> 3735.0; two parts are read as minutes:seconds, as captions use them."""
    seconds = 0.0
    for part in clock.strip().replace(",", ".").split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def _excerpt(text: str, width: int = 60) -> str:
    text = _normalise(text)
    return text if len(text) <= width else text[:width - 1] + "…"


def _brief(exc: Exception) -> str:
    """The first sentence of a library's exception message, so ours stays one sentence."""
    return str(exc).split(". ")[0].rstrip(".") or type(exc).__name__


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


def _unrecognised(source: _Source) -> TranscriptError:
    return _error(source.label, "no speaker turns could be recognised",
                  f"put the transcript in one of the supported layouts: {_SUPPORTED_LAYOUTS}")
