"""Speaker labels held to what study.yml declares for the focus group: a mistyped label
stops the run with a suggestion, an undeclared 'Word:' in a sentence stays text."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable

from ._common import _error, _Source, _Turn, _warning
from .labels import _clean_speaker


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
