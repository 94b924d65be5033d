"""Captions: WebVTT (Teams voice tags, Zoom 'Name: text') read with webvtt-py, and SRT
subtitles read with the ``srt`` package; both imported only when a caption file is read."""

from __future__ import annotations

import html
import re
from typing import Iterable, Sequence

from ._common import _brief, _error, _excerpt, _Source, _Turn, _warning
from .labels import _clean_speaker, _parse_label

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
