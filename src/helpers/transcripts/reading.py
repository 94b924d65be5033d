"""Reading one transcript: each format's parser, the checks, and the tidy table of turns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ._common import COLUMNS, TranscriptError, _error, _normalise, _Source, _Turn, _unrecognised
from .captions import _parse_srt, _parse_webvtt
from .checks import _check_repeated_turns, _check_repetition, _check_turn_length
from .loading import _load
from .otter import _parse_otter
from .plain import _parse_plain, _parse_typed
from .speakers import DeclaredSpeakers, _check_labels, _warn_variant_labels
from .spreadsheets import _parse_delimited, _parse_xlsx
from .word_documents import _parse_docx

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
