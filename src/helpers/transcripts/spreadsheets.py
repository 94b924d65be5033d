"""Spreadsheets: XLSX workbooks (openpyxl, imported only when one is read) and CSV/TSV
files, each with 'speaker' and 'text' columns and an optional 'start'."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from typing import Iterable, Sequence

from ._common import _CLOCK_RE, _brief, _clock_to_seconds, _error, _Source, _Turn, _warning
from .labels import _clean_speaker

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
