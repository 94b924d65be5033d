"""Transcriber annotations ([laughs], [inaudible 00:12:01], (pause)): kept in the turns,
stripped for word counts and embeddings."""

from __future__ import annotations

import re

from ._common import _CLOCK, _normalise

_STAGE_DIRECTIONS = (
    r"laugh(?:s|ter|ing)?|cross-?talk|inaudible|pauses?|long pause|sigh(?:s|ing)?"
    r"|cough(?:s|ing)?|overlapping(?: speech)?"
)
ANNOTATION_RE = re.compile(
    r"\[[^\[\]\n]*\]"                                                # any [annotation]
    rf"|\(\s*(?:{_STAGE_DIRECTIONS})(?:[\s,:-]*{_CLOCK})?\s*\)",    # (laughs), (pause 0:12)
    re.IGNORECASE,
)


def strip_annotations(text: str) -> str:
    """Remove transcriber annotations ([laughs], [inaudible 00:12:01], (pause)) from text.

    ``read_transcript`` keeps annotations because they are part of the record (laughter
    and crosstalk matter to a qualitative reader); use this for word counts or embeddings.
    """
    text = _normalise(ANNOTATION_RE.sub(" ", text))
    text = re.sub(r"\s+([,.;:!?)\]])", r"\1", text)     # "yes [laughs] ." -> "yes."
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)  # "so, [pause], and" -> "so, and"
    text = re.sub(r"([(\[])\s+", r"\1", text)
    return re.sub(r"^[,;:]\s*", "", text).strip()
