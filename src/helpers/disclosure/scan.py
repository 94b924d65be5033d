"""The disclosure check over a study's turns, and the gate it puts on the exports."""

from __future__ import annotations

import re

import pandas as pd

from ..study import Study
from .rules import _candidates, _surname_of, _surnames_alone, _unique
from .words import fold


def find_disclosures(utterances: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Candidate identifying details in every turn, each marked allowed or unresolved.

    Facilitators' turns are checked as well as participants': the export carries whole
    transcripts, so every word in them leaves the machine. Speaker pseudonyms (every word
    of every speaker label in the study) are not reported. An item is ``allowed`` when its
    text matches an entry of ``disclosure.allow``.
    """
    pseudonyms = {fold(w) for s in utterances["speaker"].unique() for w in re.findall(r"[^\W\d_]+", str(s))}
    allow = {a.lower() for a in study.disclosure.allow}
    turns = list(utterances.itertuples(index=False))
    found = [_unique(_candidates(u.text, pseudonyms, study.disclosure.places)) for u in turns]
    # A surname said on its own ("Llewellyn rang") identifies once its full name has been
    # said anywhere in the same transcript (unless a reviewer allowed that name).
    surnames: dict[str, dict[str, str]] = {}
    for u, items in zip(turns, found):
        for kind, match, _ in items:
            surname = _surname_of(match) if kind == "personal name" and match.lower() not in allow else None
            if surname and fold(surname) not in pseudonyms:
                surnames.setdefault(u.focus_group, {}).setdefault(surname.lower(), surname)
    rows = []
    for u, items in zip(turns, found):
        names = [(pos, pos + len(match)) for kind, match, pos in items if kind == "personal name"]
        items = _unique(items + [("personal name", match, pos) for match, pos in
                                 _surnames_alone(u.text, surnames.get(u.focus_group, {}).values(), names)])
        for kind, match, pos in items:
            context = u.text[max(0, pos - 40): pos + len(match) + 40].strip()
            rows.append({
                "focus_group": u.focus_group, "turn": int(u.turn), "line": int(u.line), "speaker": u.speaker,
                "kind": kind, "match": match, "context": f"…{context}…",
                "status": "allowed" if match.lower() in allow else "unresolved",
            })
    return pd.DataFrame(rows, columns=["focus_group", "turn", "line", "speaker", "kind", "match", "context", "status"])


def exports_allowed(disclosures: pd.DataFrame, study: Study) -> tuple[bool, str]:
    """Whether the export stage may write exports, and the sentence that says why (not)."""
    unresolved = int((disclosures["status"] == "unresolved").sum()) if len(disclosures) else 0
    if unresolved and study.disclosure.refuse_exports_with_disclosures:
        return False, (f"{unresolved} possible identifying detail(s) in disclosures.csv are unresolved; "
                       f"review them, then add the safe ones to disclosure.allow in {study.path} "
                       "(or edit the transcript) and rerun.")
    if unresolved:
        return True, (f"{unresolved} possible identifying detail(s) remain unresolved, but "
                      "disclosure.refuse_exports_with_disclosures is false, so exports are written.")
    return True, "No unresolved identifying details."
