"""Disclosure check: likely identifying details in participant turns, before any analysis.

Pseudonymised transcripts still leak: a participant names a nurse, a ward, a date of birth.
This check lists *candidates* for a person to review; it cannot prove a transcript is
safe. Reviewed items that are not identifying go in ``disclosure.allow`` in study.yml.
While unresolved items remain and ``disclosure.refuse_exports_with_disclosures`` is true
(the default), the export stage writes no export.
"""

from __future__ import annotations

import re

import pandas as pd

from .study import Study

# Common British given names: a name that is not one of the group's pseudonyms is worth a look.
COMMON_GIVEN_NAMES = frozenset("""
aaron abdul abigail adam adrian aisha alan albert alex alexander alfie alice alison amanda amber amelia amy
andrea andrew angela anita ann anna anne annette anthony arthur ashley audrey barbara barry beatrice
ben benjamin bernard beth betty beverley bill billy brenda brian bridget callum carl carol caroline carolyn
catherine charlie charlotte chloe chris christine christopher claire clare colin connor craig daniel danny
darren david dean debbie deborah denise dennis derek diane donna doreen dorothy douglas edward eileen
elaine eleanor elizabeth ella ellie emily emma eric ethan eve fatima fiona frances gail gary gemma
geoffrey george georgia gillian gordon grace graham hannah harry hayley heather helen henry holly ian imran
irene isabel isla jack jackie jacob james jamie jane janet janice jason jean jennifer jenny jessica jill joan
joanne john jonathan joseph josh joshua joyce judith julie karen kate katie kathleen keith kelly kevin
kieran kim laura lauren leah lee leo lesley lewis lily linda lisa liam louise lucy lynn mandy margaret maria
marie mark martin mary matthew maureen megan melanie michael michelle mohammed muhammad natalie neil nicola
nicholas nigel noah norman oliver olivia pamela patricia patrick paul pauline peter philip rachel rebecca
richard robert roger rose ruby russell ruth ryan sally samantha samuel sandra sarah scott sharon sheila
shirley simon sophie stephen steven stuart susan suzanne sylvia teresa thomas tim timothy tina tom tony
tracey tracy trevor valerie vanessa victoria vincent wendy william yvonne zoe
philippa janine jeanette josephine lorna marion moira morag nina pippa rhian siân sian bethan ffion cerys
gareth dylan rhys owen huw iain hamish fraser alistair duncan euan shona kirsty ailsa niamh aoife ciaran
sinead declan priya anjali aisha zara omar tariq yusuf hassan bilal amir nadia sana
""".split())

#: Words that stand in for a name ("Mr Whoever") and identify nobody.
PLACEHOLDERS = frozenset({"whoever", "something", "someone", "somebody", "soandso", "so", "x", "blah"})

_TITLE_NAME = re.compile(r"\b(?:Dr|Doctor|Mr|Mrs|Ms|Miss|Sister|Nurse|Professor|Prof)\.?\s+([A-Z][a-z]+(?:-[A-Z][a-z]+)?)")
_CAPITALISED = re.compile(r"\b([A-Z][a-z]{2,})\b")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_PHONE = re.compile(r"(?<!\d)(?:(?:\+44\s?7|07)\d{3}\s?\d{3}\s?\d{3}"       # mobiles 07xxx xxx xxx
                    r"|(?:\+44\s?|0)1\d{2,3}\s?\d{3}\s?\d{3,4}"          # 01xx(x) areas
                    r"|(?:\+44\s?|0)2\d\s?\d{4}\s?\d{4})(?!\d)")       # 02x xxxx xxxx (London etc.)
_TEN_DIGITS = re.compile(r"(?<!\d)(\d{3})[\s-]?(\d{3})[\s-]?(\d{4})(?!\d)")
_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](19\d{2}|20[01]\d)\b")
_BORN = re.compile(r"\b(?:born(?: on| in)?|DOB|date of birth(?: is)?)\s*:?\s*((?:\d{1,2}(?:st|nd|rd|th)?\s+\w+\s+)?(?:19|20)\d{2})", re.IGNORECASE)
_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})\b")
_PLACE = re.compile(r"\b((?:[A-Z][a-z]+\s){1,3}(?:Ward|ward|Unit|Hospital|Infirmary|Centre|Clinic))\b")


def nhs_number_valid(digits: str) -> bool:
    """The NHS number check digit (Modulus 11): weights 10..2 on the first nine digits."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _candidates(text: str, pseudonyms: set[str], places: tuple[str, ...]):
    for m in _EMAIL.finditer(text):
        yield "email address", m.group(0), m.start()
    for m in _PHONE.finditer(text):
        yield "phone number", m.group(0), m.start()
    for m in _TEN_DIGITS.finditer(text):
        digits = "".join(m.groups())
        if nhs_number_valid(digits):
            yield "NHS number", m.group(0), m.start()
    for m in _DATE.finditer(text):
        yield "date (possible date of birth)", m.group(0), m.start()
    for m in _BORN.finditer(text):
        yield "date of birth", m.group(0), m.start()
    for m in _POSTCODE.finditer(text):
        yield "UK postcode", m.group(1), m.start()
    lowered = text.lower()
    for place in places:
        start = lowered.find(place.lower())
        if start >= 0:
            yield "hospital or ward name", text[start:start + len(place)], start
    for m in _PLACE.finditer(text):
        if not any(p.lower() in m.group(1).lower() for p in places):
            yield "hospital or ward name", m.group(1), m.start()
    for m in _TITLE_NAME.finditer(text):
        if m.group(1).lower() not in pseudonyms and m.group(1).lower() not in PLACEHOLDERS:
            yield "personal name", m.group(0), m.start()
    for m in _CAPITALISED.finditer(text):
        word = m.group(1)
        if word.lower() in COMMON_GIVEN_NAMES and word.lower() not in pseudonyms:
            yield "personal name", word, m.start()


def find_disclosures(utterances: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Candidate identifying details in participant turns, each marked allowed or unresolved.

    Speaker pseudonyms (every word of every speaker label in the study) are not reported.
    An item is ``allowed`` when its text matches an entry of ``disclosure.allow``.
    """
    pseudonyms = {w.lower() for s in utterances["speaker"].unique() for w in re.findall(r"[A-Za-z]+", s)}
    allow = {a.lower() for a in study.disclosure.allow}
    rows, seen = [], set()
    for u in utterances[utterances["role"] == "participant"].itertuples(index=False):
        for kind, match, pos in _candidates(u.text, pseudonyms, study.disclosure.places):
            key = (u.focus_group, u.turn, match)
            if key in seen:
                continue
            seen.add(key)
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
