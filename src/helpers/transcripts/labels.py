"""Speaker labels: which text before a colon is a name, header lines above the first
turn, and splitting 'Name: text' (with an optional clock time) into its parts."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ._common import _CLOCK, _clock_to_seconds, _Known, _normalise


def _clean_speaker(label: str) -> str:
    label = _normalise(label)
    if label.endswith(":"):
        label = label[:-1].rstrip()
    return label


# A label may hold letters, digits, spaces, brackets, hyphens, apostrophes, full stops and
# a few symbols seen in meeting tools ("Sam (she/her)", "Speaker #2"); it starts with a
# letter. Sentence punctuation (, ; ? ! ") never appears in a name, so it rules a label out.
_NAME_CHARS_RE = re.compile(r"^[^\W\d_][\w .'’()\[\]/&#-]*$")
_BRACKETED_RE = re.compile(r"[(\[][^)\]]*[)\]]")

# Words that give away a sentence rather than a name ("The thing is: nobody told me").
# Words inside brackets are not checked: "Carer (his wife)" is a fine label.
_SENTENCE_WORDS = frozenset("""
    i me my mine we us our you your he him his she her they them their it its this that
    these those there here is are was were be been being am do does did done have has had
    not no yes so but if then than what when where why how which thing things just really
    well because like think thought know knew said say says mean meant get got go went
""".split())
# A one-word "label" that is really a discourse marker ("Honestly: it was awful").
_DISCOURSE_WORDS = frozenset("""
    so well and but yeah yes no oh um er erm like anyway basically honestly actually also
    then now okay ok right sorry
""".split())


def _looks_like_name(label: str) -> bool:
    """True when the text before a colon reads as a speaker name, not part of a sentence."""
    label = label.strip()
    if not label or len(label) > 60 or label[0].islower() or not _NAME_CHARS_RE.match(label):
        return False
    words = label.split()
    if len(words) > 6:
        return False
    # Full stops belong to initials and short titles only ("J. Smith", "Dr. Patel").
    if any(word.endswith(".") and len(word.strip("().")) > 3 for word in words):
        return False
    bare = [word.strip("().'’").lower() for word in _BRACKETED_RE.sub(" ", label).split()]
    if len(bare) == 1:
        return bare[0] not in _DISCOURSE_WORDS
    return not any(word in _SENTENCE_WORDS for word in bare)


# Header lines above the first turn ("Date: 3 May", "Duration: 45 minutes", "Focus group 3:")
# look like labels but are metadata; they are skipped until the first real speaker.
_HEADER_LABEL_RE = re.compile(
    r"^(?:date|time|duration|length|location|venue|place|title|transcript(?:ion)?|recording"
    r"|audio(?: file)?|file(?:name)?|participants|attendees|present|transcribed by"
    r"|transcriber|session|focus group|group|study|project|keywords|summary|notes?"
    r"|subject|topic)(?:\s*(?:no\.?|#)?\s*[\w-]*\d[\w-]*)?$",
    re.IGNORECASE,
)


def _is_header_label(speaker: str) -> bool:
    return bool(_HEADER_LABEL_RE.match(speaker))


# "Name: text", "[00:01:23] Name: text", "Name (00:01:23): text", "Name:" (label only).
# The label is everything up to the first colon that is followed by a space or the end,
# except a colon inside a leading or trailing timestamp. A full-width colon (U+FF1A, as
# East Asian keyboards type it) is a colon too, and needs no space after it.
_LABEL_LINE_RE = re.compile(
    rf"""^\s*
    (?:[\[(]?(?P<lead_time>{_CLOCK})[\])]?\s+)?    # [00:01:23] Name: ...
    (?P<label>[^:\uff1a]+?)
    (?:\s*[\[(](?P<tail_time>{_CLOCK})[\])])?      # Name (00:01:23): ...
    \s*(?::(?:\s+(?P<rest>.*?))?|\uff1a\s*(?P<wide_rest>.*?))\s*$""",
    re.VERBOSE | re.DOTALL,
)
# A label written loosely: any case, no space after the colon ("jude:A lovely"). Read as a
# label only when it names a speaker already known (declared in study.yml, or written the
# usual way elsewhere in the file), so "so:right" or "Note:" in a sentence stay text.
_LOOSE_LABEL_RE = re.compile(r"^\s*(?P<label>[^:\uff1a]{1,60}?)\s*[:\uff1a]\s*(?P<rest>.*?)\s*$",
                             re.DOTALL)


@dataclass(frozen=True)
class _Label:
    speaker: str
    rest: str  # the text after the colon; '' for a label on a line of its own
    start_s: float = math.nan


def _parse_label(line: str, known: "_Known | None" = None) -> _Label | None:
    """Split 'Name: text' into its parts, or return None when the line has no label.

    With ``known`` (the speakers of this transcript), a label that matches one of them
    whatever its case, or has no space after its colon, is read as that speaker, spelt
    as declared; the variant spelling is remembered for a warning."""
    match = _LABEL_LINE_RE.match(line)
    if match and _looks_like_name(match["label"]):
        clock = match["lead_time"] or match["tail_time"]
        start = _clock_to_seconds(clock) if clock else math.nan
        speaker = _clean_speaker(match["label"])
        rest = match["rest"] or match["wide_rest"] or ""
        return _Label(known.spelling(speaker) if known else speaker, rest, start)
    loose = _LOOSE_LABEL_RE.match(line) if known else None
    if loose and known.spelling(_clean_speaker(loose["label"]), strict=True):
        return _Label(known.spelling(_clean_speaker(loose["label"])), loose["rest"])
    return None
