"""Plain "Speaker: text" lines and typed blocks (a 'Speaker:' line above the text)."""

from __future__ import annotations

from ._common import _Source, _Turn
from .labels import _is_header_label, _parse_label


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
