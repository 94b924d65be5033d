"""The study's ingest: every focus group's transcript read against study.yml into one
table of turns (``utterances.parquet``) and one of warnings (``ingest_warnings.csv``)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ._common import WARNING_COLUMNS, _sentence
from .reading import read_transcript
from .speakers import DeclaredSpeakers
from .talk import is_backchannel

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
    from ..study import FACILITATOR, PARTICIPANT, StudyError

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
