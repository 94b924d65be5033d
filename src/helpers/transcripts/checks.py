"""Checks on the turns read, whatever the format: a turn too long to be one person's,
turns pasted twice, and a transcript where most turns repeat an earlier one."""

from __future__ import annotations

import pandas as pd

from ._common import _error, _excerpt, _normalise, _Source, _Turn, _warning


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
