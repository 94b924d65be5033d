"""Theme identity: what a workshop decision points at.

A theme id (``radiographers:T03``) is a handle for one run of the analysis; the themes
behind the ids change when the data, the seed or a library change. A theme's
**fingerprint** is derived from the segments it holds, so it names the content a
workshop saw. Segment ids (``FG03-t012-s0``) are stable while a transcript's turns are
unchanged, so two runs can be matched theme to theme by member overlap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

#: Characters of the sha256 kept: 8 hex digits tell apart ~4 billion member sets, and
#: stay short enough to read aloud and copy into a workshop file.
FINGERPRINT_LENGTH = 8


def fingerprint(segment_ids: Iterable[str]) -> str:
    """The fingerprint of a theme: the first 8 hex digits of the sha256 of its sorted,
    newline-joined member segment ids. Order and duplicates do not matter."""
    members = "\n".join(sorted({str(s) for s in segment_ids}))
    return hashlib.sha256(members.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    """Member overlap of two themes: |A ∩ B| / |A ∪ B| (0 when both are empty)."""
    a, b = set(a), set(b)
    union = a | b
    return len(a & b) / len(union) if union else 0.0
