"""Word documents (.docx): 'Speaker: text' paragraphs or lines, bold speaker names, or a
two-column table; python-docx is imported only when a Word document is read."""

from __future__ import annotations

import re
from typing import Sequence

from ._common import _brief, _error, _Known, _Source, _Turn
from .labels import _clean_speaker, _is_header_label, _Label, _looks_like_name, _parse_label

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
