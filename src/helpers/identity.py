"""Identity: what a segment is, and what a workshop decision points at.

**Segments are named by their content.** A segment id is ``<focus group>-<speaker>-<hash>``
(``FG03-morag-1c9e20b4``): the focus group, a short slug of the speaker's label, and the
first 8 hex digits of the sha256 of focus group, speaker and text (plus, for the second and
later time the same speaker says the very same words in a focus group, which time it is).
Where the segment sits in the transcript is not part of its id, so unchanged talk keeps its
id when turns are added, removed, joined or split elsewhere; the order stays in the
``turn`` and ``window`` columns of ``segments.parquet``.

Ids written before November 2026 were positions (``FG03-t012-s1``: turn 12, window 1). A
snapshot holding them is still read: each old id is matched to the segment of the current
run that holds the text at that place in the transcript, and the match is logged
(:func:`translate_legacy_ids`).

**Themes are named by their members.** A theme id (``radiographers:T03``) is a handle for
one run of the analysis; the themes behind the ids change when the data, the seed or a
library change. A theme's **fingerprint** is derived from the ids of the segments it holds,
so it names the content a workshop saw, and two runs can be matched theme to theme by
member overlap.

**The number of themes the room saw is kept.** Once a workshop's snapshot records how many
themes a participant group had, reruns keep that number (:func:`n_themes_to_keep`); an
explicit ``n_themes`` setting moves on deliberately.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ._io import UserError

#: Characters of the sha256 kept: 8 hex digits tell apart ~4 billion member sets, and
#: stay short enough to read aloud and copy into a workshop file.
FINGERPRINT_LENGTH = 8
#: Hex digits of a segment's content hash (among a focus group's few hundred segments of
#: one speaker, a clash is a one-in-ten-million event, and it is refused, never hidden).
SEGMENT_HASH_LENGTH = 8
#: At most this many characters of the speaker's label in a segment id.
SPEAKER_SLUG_LENGTH = 16
#: A segment id written before ids were by content: ``FG03-t012-s1`` (turn 12, window 1).
LEGACY_SEGMENT_ID = re.compile(r"^(?P<focus_group>\S+)-t(?P<turn>\d+)-s(?P<window>\d+)$")
#: A segment id by content: ``FG03-morag-1c9e20b4``.
SEGMENT_ID = re.compile(r"^\S+-[a-z0-9-]+-[0-9a-f]{8}$")


# --------------------------------------------------------------------------- segments

def content_key(text: str) -> str:
    """The text as its id sees it: Unicode-normalised (NFC), whitespace collapsed; case and
    punctuation kept (a corrected word is a change of content)."""
    return " ".join(unicodedata.normalize("NFC", str(text)).split())


def speaker_slug(speaker: str) -> str:
    """``Dr Imogen Thwaite`` -> ``dr-imogen-thwait``: lower-case ASCII letters and digits,
    words joined by '-', at most 16 characters (``speaker`` when nothing is left)."""
    ascii_label = unicodedata.normalize("NFKD", str(speaker)).encode("ascii", "ignore").decode().lower()
    slug = "-".join(re.findall(r"[a-z0-9]+", ascii_label))[:SPEAKER_SLUG_LENGTH].strip("-")
    return slug or "speaker"


def segment_id(focus_group: str, speaker: str, text: str, occurrence: int = 0) -> str:
    """The id of a segment: focus group, speaker slug, and 8 hex digits of the sha256 of
    focus group, speaker label and text (``occurrence``: how many times this speaker said
    the same text earlier in the focus group; 0 the first time)."""
    content = "\n".join([str(focus_group), str(speaker), content_key(text)])
    if occurrence:
        content += f"\n#{int(occurrence)}"
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()[:SEGMENT_HASH_LENGTH]
    return f"{focus_group}-{speaker_slug(speaker)}-{digest}"


def check_unique_ids(segments: pd.DataFrame) -> None:
    """Refuse two different segments with one id (a hash clash: astronomically rare, but a
    silent merge of two segments would corrupt every theme that holds them)."""
    repeated = segments["segment_id"].duplicated(keep=False)
    if repeated.any():
        first = segments[repeated].iloc[0]
        raise UserError(f"Two segments of {first.focus_group} (turns "
                        f"{', '.join(str(t) for t in segments.loc[segments['segment_id'] == first.segment_id, 'turn'])}) "
                        f"have the same id {first.segment_id}; change one character of one of them in the "
                        "transcript (e.g. add a full stop) and rerun.")


def legacy_segment_ids(segments: pd.DataFrame) -> dict[str, str]:
    """Old position id (``FG03-t012-s1``) -> current content id, from each current segment's
    focus group, ``turn`` and ``window``: the segment now holding that place's text."""
    if not {"turn", "window"} <= set(segments.columns):
        return {}
    return {f"{fg}-t{int(turn):03d}-s{int(window)}": sid for sid, fg, turn, window in
            zip(segments["segment_id"], segments["focus_group"], segments["turn"], segments["window"])}


@dataclass
class LegacyTranslation:
    """Old-style ids of a snapshot matched to this run's segments."""

    members: dict[str, set[str]]   # theme id -> current segment ids (ids that matched nothing left as they were)
    matched: int
    total: int
    note: str                      # empty when the snapshot held no old-style ids


def translate_legacy_ids(snapshot: Mapping[str, set[str]], segments: pd.DataFrame | None,
                         source: str | Path, current: Iterable[str] = ()) -> LegacyTranslation:
    """A snapshot's members with old position ids replaced by the content ids of the
    segments now at those places (the text at turn t, window s of the current transcript).
    Ids of this run (``current``, and those in ``segments``) pass through unchanged. The note
    says how many matched and how to write the snapshot anew (``make rebase-workshops``)."""
    known = set(current) | (set(segments["segment_id"]) if segments is not None else set())
    old = {s for ids in snapshot.values() for s in ids if LEGACY_SEGMENT_ID.match(str(s)) and s not in known}
    if not old:
        return LegacyTranslation({t: set(ids) for t, ids in snapshot.items()}, 0, 0, "")
    table = legacy_segment_ids(segments) if segments is not None else {}
    members = {t: {table.get(s, s) if s in old else s for s in ids} for t, ids in snapshot.items()}
    matched = sum(1 for s in old if s in table)
    note = (f"{Path(source).name} holds position ids written before segment ids were by content "
            f"(e.g. {min(old)}); {matched} of {len(old)} were matched by the text now at that turn and window "
            "of the transcript; run `make rebase-workshops` to write the snapshot with content ids")
    return LegacyTranslation(members, matched, len(old), note)


# --------------------------------------------------------------------------- themes

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


def change_summary(seen: set[str], now: set[str]) -> str:
    """How much of a theme changed, in words: members kept, left and joined."""
    kept = len(seen & now)
    return (f"{kept} of its {len(seen)} segments kept, {len(seen - now)} left, {len(now - seen)} joined "
            f"({1 - jaccard(seen, now):.0%} changed)")


# --------------------------------------------------------------------------- number of themes

@dataclass(frozen=True)
class KeptNumber:
    """The number of themes a group is fitted with, and why."""

    group: str
    k: int
    source: str        # "workshop_2.snapshot.csv" or "n_themes setting"
    explicit: bool     # True when an explicit n_themes setting gave it


def snapshot_n_themes(path: Path) -> dict[str, int]:
    """Participant group -> the number of themes it had when the workshop saw it, from a
    snapshot's ``n_themes`` column (empty for snapshots written before it existed)."""
    table = pd.read_csv(path, dtype=str)
    if "n_themes" not in table.columns or table.empty:
        return {}
    groups = table["theme_id"].str.split(":").str[0]
    out = {}
    for group, values in table.assign(_group=groups).groupby("_group")["n_themes"]:
        numbers = {int(v) for v in values.dropna() if str(v).strip().isdigit()}
        if len(numbers) > 1:
            raise UserError(f"{path}: the column n_themes gives {group} more than one number of themes "
                            f"({', '.join(map(str, sorted(numbers)))}); write the one the workshop saw on every row "
                            "of that group (or run `make rebase-workshops`).")
        if numbers:
            out[str(group)] = numbers.pop()
    return out


def n_themes_to_keep(workshops, explicit: Mapping[str, int] | None = None,
                     group_ids: Iterable[str] | None = None) -> dict[str, KeptNumber]:
    """Per participant group, the number of themes to fit: an explicit ``n_themes``
    setting wins; otherwise the number the latest workshop (in study order) whose snapshot
    records it saw. Groups with neither are left out (the data choose)."""
    kept: dict[str, KeptNumber] = {}
    for w in workshops:
        if w.snapshot is None or not Path(w.snapshot).is_file():
            continue
        for group, k in snapshot_n_themes(Path(w.snapshot)).items():
            if any(t.split(":")[0] == group for t in w.based_on):
                kept[group] = KeptNumber(group, k, Path(w.snapshot).name, False)
    known = set(group_ids) if group_ids is not None else None
    for group, k in (explicit or {}).items():
        if known is not None and str(group) not in known:
            raise UserError(f"n_themes names the participant group '{group}', which the study does not have; use "
                            f"one of: {', '.join(sorted(known))}.")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise UserError(f"n_themes: {group}: {k!r} is not a number of themes; write a whole number of at "
                            "least 1 (e.g. 'radiographers: 8').")
        kept[str(group)] = KeptNumber(str(group), int(k), "n_themes setting", True)
    return kept


def k_table(choice: pd.DataFrame, kept: Mapping[str, KeptNumber],
            group_themes: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per participant group: the number of themes reported, where it came from,
    the number the data alone would choose now, the stability of each, and a sentence
    (``choice``: :func:`helpers.themes.choice_of_k`, with its ``data_choice`` column;
    ``group_themes``: this run's themes, to count a theme of talk the workshop never saw)."""
    counts = group_themes["participant_group"].value_counts().to_dict() if group_themes is not None else {}
    rows = []
    for group, table in choice.groupby("participant_group", sort=False):
        stability = dict(zip(table["k"], table["stability_ari"]))
        reported = int(table.loc[table["chosen"], "k"].iloc[0])
        data_k = int(table.loc[table["data_choice"], "k"].iloc[0])
        why = kept.get(group)
        if why is None:
            source, note = "the data", f"{group}: the data chose {data_k} themes (stability {stability[data_k]:.2f})"
        elif why.explicit:
            source = why.source
            note = (f"{group}: n_themes sets {reported}; the data would choose {data_k} "
                    f"(stability {stability[data_k]:.2f} vs {stability[reported]:.2f})")
        else:
            source = why.source
            same = "the data choose the same" if data_k == reported else (
                f"the data would now choose {data_k} (stability {stability[data_k]:.2f} vs {stability[reported]:.2f})")
            note = (f"{group}: the workshop saw {reported} ({why.source}); {same}; kept {reported}"
                    + (f", and {counts[group] - reported} more of talk the workshop did not see"
                       if counts.get(group, reported) > reported else "")
                    + ("" if data_k == reported else
                       f". To move on, set `analysis: n_themes: {{{group}: {data_k}}}` in study.yml, rerun, then "
                       "`make rebase-workshops`"))
        rows.append({"participant_group": group, "n_themes": counts.get(group, reported), "source": source,
                     "stability": stability[reported], "data_choice": data_k,
                     "data_choice_stability": stability[data_k], "note": note})
    return pd.DataFrame(rows, columns=["participant_group", "n_themes", "source", "stability", "data_choice",
                                       "data_choice_stability", "note"])


def numbers_of_themes(kept: Mapping[str, KeptNumber]) -> dict[str, int]:
    """The ``n_themes`` mapping theme fitting takes: group -> fixed number of themes."""
    return {group: why.k for group, why in kept.items()}


def kept_numbers_table(kept: Mapping[str, KeptNumber]) -> pd.DataFrame:
    """The groups whose number of themes is fixed this run, and by what."""
    return pd.DataFrame([{"participant_group": g, "n_themes": why.k, "source": why.source} for g, why in
                         sorted(kept.items())], columns=["participant_group", "n_themes", "source"])
