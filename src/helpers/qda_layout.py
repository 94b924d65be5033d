"""The plain text of a REFI-QDA source and positions in it, shared by export and import.

Each focus group becomes one plain-text source with one line per turn,
``"<speaker>: <text>\\n"``, facilitator turns included, in turn order
(:func:`plain_text_layout`). The turn's ``text`` is written as transcribed, so
transcription marks such as ``[laughs]`` stay in the text a QDA user reads and codes.

Positions (``startPosition``/``endPosition``) are zero-based, end-exclusive offsets
counted in **Unicode code points** (Python ``str`` indices) into the UTF-8 text, written
without a byte-order mark and with ``"\\n"`` line endings. The REFI-QDA 1.0 schema types
positions only as integers; code points are what QualCoder's importer assumes (it slices
the decoded text, ``fulltext[pos0:pos1]``). Software built on UTF-16 strings may count a
character outside the Basic Multilingual Plane as two; :mod:`helpers.human_codes` reads
such files with ``positions="utf16"``.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Mapping

import pandas as pd

from ._io import UserError

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
#: Namespace of every GUID the export writes (uuid5 of a fixed name; never change it, or
#: re-exports stop matching codes already imported into QDA software).
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:compassion-coproduction-compendium:refi")

_XML_ILLEGAL = re.compile("[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")
_ID_SPLIT = re.compile(r"[;,|\s]+")


def guid(study_name: str, *key: object) -> str:
    """A stable GUID for one thing of one study (same study and key, same GUID)."""
    return str(uuid.uuid5(GUID_NAMESPACE, "|".join([str(study_name), *map(str, key)])))


def clean(value: object) -> str:
    """Cell -> text: NaN/None -> "", integral floats without ".0"."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def xml_text(value: object) -> str:
    """Text safe inside XML 1.0 (characters XML forbids are dropped)."""
    return _XML_ILLEGAL.sub("", clean(value))


def require(df: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise UserError(
            f"{name} is missing column(s) {', '.join(missing)}; pass the table as described "
            f"in docs/data_contracts.md.")


def split_ids(value: object) -> list[str]:
    """``"a; b,c"`` -> ``["a", "b", "c"]``."""
    return [t for t in _ID_SPLIT.split(clean(value)) if t]


def group_labels(labels) -> dict[str, str]:
    """Mapping id -> label, or study.yml's list of {id, label} -> dict (order kept)."""
    if labels is None:
        return {}
    if isinstance(labels, Mapping):
        return {str(k): str(v) for k, v in labels.items()}
    out: dict[str, str] = {}
    for item in labels:
        if isinstance(item, Mapping):
            out[str(item["id"])] = str(item.get("label", item["id"]))
        else:
            key, label = item
            out[str(key)] = str(label)
    return out


def sorted_utterances(utterances: pd.DataFrame) -> pd.DataFrame:
    require(utterances, ["focus_group", "speaker", "turn", "text"], "utterances")
    out = utterances.copy()
    out["focus_group"] = out["focus_group"].map(clean)
    out["turn"] = out["turn"].astype(int)
    return out.sort_values(["focus_group", "turn"], kind="mergesort").reset_index(drop=True)


def plain_text_layout(utterances: pd.DataFrame) -> tuple[dict[str, str], dict[tuple[str, int], int]]:
    """Lay each focus group's turns out as the plain text of one REFI-QDA source.

    Returns ``(texts_by_focus_group, turn_offsets)``: ``texts_by_focus_group[fg]`` is the
    whole transcript, one ``"<speaker>: <text>\\n"`` line per turn in turn order
    (facilitator turns included); ``turn_offsets[(fg, turn)]`` is the code-point offset
    where that turn's ``text`` starts in it, so a span ``[a, b)`` of the turn text is
    ``[offset + a, offset + b)`` of the source.
    """
    utts = sorted_utterances(utterances)
    texts: dict[str, str] = {}
    offsets: dict[tuple[str, int], int] = {}
    for fg, rows in utts.groupby("focus_group", sort=True):
        parts: list[str] = []
        pos = 0
        for speaker, turn, text in zip(rows["speaker"], rows["turn"], rows["text"]):
            key = (str(fg), int(turn))
            if key in offsets:
                raise UserError(
                    f"utterances has turn {key[1]} of {key[0]} twice; rebuild utterances.parquet "
                    f"with notebook 01.")
            prefix = f"{clean(speaker)}: "
            offsets[key] = pos + len(prefix)
            line = f"{prefix}{clean(text)}\n"
            parts.append(line)
            pos += len(line)
        texts[str(fg)] = "".join(parts)
    return texts, offsets


def segment_spans(segments: pd.DataFrame, utterances: pd.DataFrame,
                  offsets: dict[tuple[str, int], int] | None = None) -> pd.DataFrame:
    """Segments sorted, with ``start``/``end`` in their focus group's plain text."""
    require(segments, ["segment_id", "focus_group", "speaker", "turn", "char_start", "char_end"],
            "segments")
    if offsets is None:
        _, offsets = plain_text_layout(utterances)
    turn_len = {(fg, int(t)): len(clean(x)) for fg, t, x in
                zip(utterances["focus_group"].map(clean), utterances["turn"], utterances["text"])}
    segs = segments.copy()
    segs["focus_group"] = segs["focus_group"].map(clean)
    segs["segment_id"] = segs["segment_id"].map(clean)
    segs["turn"] = segs["turn"].astype(int)
    segs["char_start"] = segs["char_start"].astype(int)
    segs["char_end"] = segs["char_end"].astype(int)
    segs = segs.sort_values(["focus_group", "turn", "char_start", "segment_id"],
                            kind="mergesort").reset_index(drop=True)
    starts, ends = [], []
    for sid, fg, turn, a, b in zip(segs["segment_id"], segs["focus_group"], segs["turn"],
                                   segs["char_start"], segs["char_end"]):
        key = (fg, turn)
        if key not in offsets:
            raise UserError(
                f"segment {sid} points at turn {turn} of {fg}, which is not in utterances; "
                f"rebuild segments from the same utterances (notebook 03).")
        if not 0 <= a <= b <= turn_len[key]:
            raise UserError(
                f"segment {sid} spans characters {a}-{b} but turn {turn} of {fg} has "
                f"{turn_len[key]}; rebuild segments from the same utterances (notebook 03).")
        starts.append(offsets[key] + a)
        ends.append(offsets[key] + b)
    segs["start"] = starts
    segs["end"] = ends
    return segs


def coded_text(segments: pd.DataFrame, utterances: pd.DataFrame) -> dict[str, str]:
    """segment_id -> the text a QDA user sees coded: the turn's text over the segment's
    span, as transcribed (transcription marks kept, unlike ``segments.text``)."""
    require(segments, ["segment_id", "focus_group", "turn", "char_start", "char_end"], "segments")
    turn_text = {(fg, int(t)): clean(x) for fg, t, x in
                 zip(utterances["focus_group"].map(clean), utterances["turn"], utterances["text"])}
    return {clean(sid): turn_text.get((clean(fg), int(t)), "")[int(a):int(b)]
            for sid, fg, t, a, b in zip(segments["segment_id"], segments["focus_group"], segments["turn"],
                                        segments["char_start"], segments["char_end"])}
