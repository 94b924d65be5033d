"""The bundled (illustrative) workshop decisions bring together themes that are about
their labels.

Each bundled decision file pins the group themes it merges by fingerprint and keeps
their members in its snapshot, so the check needs no run: for every integrated theme,
the planted theme its label stands for (data/README.md) must be the one most voiced by
the segments of the group themes merged into it, according to data/synthetic_key.csv.
Notebook 05 guarantees a run applies each decision to those members, or to a successor
holding more than half of them.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from conftest import ROOT
from helpers.identity import fingerprint
from helpers.study import load_study
from helpers.workshop_files import load_workshops, read_snapshot

#: What each bundled integrated theme's label stands for, in the key's planted themes.
PLANTED = {
    "I01": "T03",   # Dignity and privacy during set-up
    "I02": "T11",   # Fear of the mask and of being alone in the room
    "I03": "T02",   # Waiting, delays and breakdowns (explaining, honesty about delays)
    "I04": "T04",   # Touch and tone of voice
    "I05": "T05",   # Time pressure and the list
    "I06": "T08",   # Carers are part of the care
    "I07": "T01",   # Being known as a person
    "I08": "T07",   # Learning compassion from role models
    "I09": "T06",   # Emotional labour and looking after each other
}


@pytest.fixture(scope="module")
def workshops():
    return load_workshops(list(load_study(ROOT / "data" / "study.yml").workshops))


@pytest.fixture(scope="module")
def place_of():
    """Segment id -> (focus group, turn): segment ids name content, so where a segment sits
    comes from reading the transcripts (stage 01) and cutting the segments (stage 03)."""
    from helpers.embeddings import make_segments
    from helpers.transcripts import read_study_turns

    segments = make_segments(read_study_turns(load_study(ROOT / "data" / "study.yml")))
    return {sid: (fg, int(turn)) for sid, fg, turn in zip(segments["segment_id"], segments["focus_group"],
                                                             segments["turn"])}


@pytest.fixture(scope="module")
def voiced():
    """(focus group, turn) -> the planted themes that turn voices."""
    key = pd.read_csv(ROOT / "data" / "synthetic_key.csv")
    return {(r.focus_group, int(r.turn)): set(str(r.themes).split(";")) for r in key.itertuples()}


def merges(workshops):
    """Integrated theme id -> the group themes merged into it, with the workshop that pinned them."""
    found = {}
    for w in workshops:
        for d in w.decisions:
            if d.get("action") == "merge" and d.get("into"):
                found.setdefault(d["into"], []).extend((w, t) for t in d["themes"] if ":" in t)
    return found


def test_every_bundled_merge_is_pinned_with_its_members(workshops):
    for w in workshops:
        snapshot = read_snapshot(w.snapshot) if w.snapshot else {}
        for d in w.decisions:
            for t in (d.get("themes") or [d.get("theme")]):
                if t and re.fullmatch(r"\w+:T\d+", str(t)):
                    assert t in w.based_on, f"{w.path.name}: {t} is not pinned in based_on"
                    assert fingerprint(snapshot[t]) == w.based_on[t], f"{w.path.name}: snapshot of {t} differs"


@pytest.mark.parametrize("integrated, planted", sorted(PLANTED.items()))
def test_each_bundled_integrated_theme_is_mostly_about_its_label(workshops, voiced, place_of, integrated, planted):
    sources = merges(workshops)[integrated]
    counts: dict[str, int] = {}
    for workshop, theme in sources:
        for segment in read_snapshot(workshop.snapshot)[theme]:
            for voiced_theme in voiced.get(place_of[segment], set()) - {"none"}:
                counts[voiced_theme] = counts.get(voiced_theme, 0) + 1
    top = max(counts, key=counts.get)
    assert top == planted, f"{integrated} should be about {planted} but its segments mostly voice {top}: {counts}"
