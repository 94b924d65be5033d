"""Otter.ai text exports: a 'Name  0:03' heading above each turn's text."""

from __future__ import annotations

import re
from typing import Sequence

from ._common import _clock_to_seconds, _Source, _Turn
from .labels import _clean_speaker, _looks_like_name

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
