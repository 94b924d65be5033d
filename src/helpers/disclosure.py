"""Disclosure check: likely identifying details in every turn, before any analysis.

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

_TITLE_NAME = re.compile(
    r"\b(?:Dr|Doctor|Mr|Mrs|Ms|Miss|Mx|Sister|Nurse|Professor|Prof)\.?\s+"
    r"([A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?)(?:\s+([A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?))?")
_CAPITALISED = re.compile(r"\b([A-Z][a-z]{2,})\b")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
# A UK number as people say or type it: +44 (0)20 7946 0958, 07700 900123, (0161) 496 0123,
# 0113-496-0000. The shape is loose; the digits must then make a UK number (see _uk_phone).
_PHONE = re.compile(r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|\(?0)\d{2,4}\)?(?:[\s-]?\d){6,8}(?![\d-])")
_TEN_DIGITS = re.compile(r"(?<!\d)(\d{3})[\s-]?(\d{3})[\s-]?(\d{4})(?!\d)")
_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](19\d{2}|20[01]\d)\b")
_BORN = re.compile(r"\b(?:born(?: on| in)?|DOB|date of birth(?: is)?)\s*:?\s*((?:\d{1,2}(?:st|nd|rd|th)?\s+\w+\s+)?(?:19|20)\d{2})", re.IGNORECASE)
# Every UK postcode area (the letters before the first digit), so that a lower-case
# postcode ("sw1a 1aa") is found without flagging every letter-digit jumble.
POSTCODE_AREAS = frozenset("""
AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY
E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE
LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK
SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WE WF WN WR WS WV YO ZE
""".split())
_POSTCODE = re.compile(r"\b([A-Z]{1,2})(\d[A-Z\d]?)\s*(\d[ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE)
_STREET_SUFFIXES = ("Road|Rd|Street|St|Avenue|Ave|Lane|Close|Drive|Crescent|Way|Grove|Terrace|Place"
                    "|Gardens|Court|Row|Walk|Square|Mews|Hill|Rise|Parade|Boulevard|View")
# "14 Acacia Road", "221b Baker Street", "flat 2, 48 Victoria Avenue"; any case, but the
# words between the number and the suffix must not be everyday words ("5 minutes down
# the road" is not an address).
_STREET = re.compile(rf"\b(\d{{1,4}}[a-z]?,?\s+((?:[A-Za-z][a-z'’-]+\s+){{1,3}})(?:{_STREET_SUFFIXES}))\b",
                     re.IGNORECASE)
_PLACE = re.compile(r"\b((?:[A-Z][a-z]+\s){1,3}(?:Ward|ward|Unit|Hospital|Infirmary|Centre|Clinic))\b")
_NAME_WORD = r"[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?"
# Two or three capitalised words in a row: a candidate full name once everyday words are
# trimmed from either end ("So Adaeze Okonkwo said" -> "Adaeze Okonkwo").
_CAPITALISED_RUN = re.compile(rf"(?<![\w'’-]){_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{1,2}}(?![\w'’-])")

#: Capitalised words that are not names: sentence openers, function words, calendar words
#: and the vocabulary of radiotherapy services. A run of capitalised words is trimmed of
#: these; what remains (two words or more) is reported as a possible full name. Measured
#: on the planted-identifier file and the bundled study (docs/disclosure_check.md).
COMMON_CAPITALISED = frozenset("""
a about after again all also although an and another any anyway are as at back be because
been before being both but by can could did do does doing don done down each even ever
every for from had has have he her here hers him his how however i if in into is it its
just let like many may maybe me might more most much must my no nobody none nor not now of
off oh ok okay on once one only or other our out over own please quite really right same
says see she should since so some someone something sometimes still such than thank
thanks that the their them then there these they this those though through to too under
until up us very was we well were what whatever when where whether which while who whoever
why will with within without would yeah yes yet you your um er erm ah hmm mm aye sorry
whereas unless less least besides meanwhile perhaps otherwise instead
mr mrs ms miss mx dr prof professor
honestly actually basically obviously definitely literally apparently exactly absolutely
lovely good great fine sure alright bless poor dear god gosh christ jesus lord goodness
first second third last next new old little big young
monday tuesday wednesday thursday friday saturday sunday january february march april may
june july august september october november december christmas easter spring summer autumn
winter weekend morning afternoon evening night today tomorrow yesterday
mum mam mom dad nan nana gran granny grandad grandma grandpa auntie uncle
nhs gp a&e macmillan maggie maggies marie curie cancer research radiotherapy chemo chemotherapy
oncology oncologist consultant registrar radiographer radiographers nurse nurses doctor doctors
sister matron ward unit clinic hospital department team trust centre health care service
ct mri pet scan linac machine mask couch gown review clinic planning treatment
english welsh scottish irish british england wales scotland ireland uk london
facebook google teams zoom whatsapp youtube bbc itv
""".split())


def _uk_phone(text: str) -> bool:
    """Whether the digits of a phone-shaped match make a UK number (national form
    0 + 10 digits, starting 01, 02, 03, 07 or 08)."""
    digits = re.sub(r"\D", "", text)
    if digits.startswith("44"):
        digits = "0" + digits[2:].removeprefix("0")
    return len(digits) == 11 and digits[:2] in {"01", "02", "03", "07", "08"}


def _postcode(match: re.Match) -> bool:
    return match.group(1).upper() in POSTCODE_AREAS


def _street(match: re.Match) -> bool:
    words = match.group(2).lower().split()
    return not any(word in COMMON_CAPITALISED or word in _MEASURE_WORDS for word in words)


#: Words that follow a number without naming a street ("20 minutes up the road").
_MEASURE_WORDS = frozenset("""
minutes minute mins hours hour seconds days day weeks week months month years year miles mile
yards metres doors houses times sessions fractions goes people patients of
""".split())


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
        if _uk_phone(m.group(0)):
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
        if _postcode(m):
            yield "UK postcode", m.group(0), m.start()
    for m in _STREET.finditer(text):
        if _street(m):
            yield "street address", m.group(1), m.start()
    lowered = text.lower()
    for place in places:
        start = lowered.find(place.lower())
        if start >= 0:
            yield "hospital or ward name", text[start:start + len(place)], start
    for m in _PLACE.finditer(text):
        named = m.group(1).split()[:-1]
        if all(w.lower() in COMMON_CAPITALISED for w in named):
            continue  # "The ward", "Oncology Unit": no name in it
        if not any(p.lower() in m.group(1).lower() for p in places):
            yield "hospital or ward name", m.group(1), m.start()
    for m in _TITLE_NAME.finditer(text):
        named = [re.sub(r"['’]s$", "", w) for w in m.groups() if w]  # "Mr Whoever's"
        if any(w.lower() not in pseudonyms and w.lower() not in PLACEHOLDERS for w in named):
            yield "personal name", m.group(0), m.start()
    for m in _CAPITALISED_RUN.finditer(text):
        full = _full_name(m, pseudonyms)
        if full is not None:
            yield "personal name", *full
    for m in _CAPITALISED.finditer(text):
        word = m.group(1)
        if word.lower() in COMMON_GIVEN_NAMES and word.lower() not in pseudonyms:
            yield "personal name", word, m.start()


def _full_name(match: re.Match, pseudonyms: set[str]) -> tuple[str, int] | None:
    """A run of capitalised words trimmed of everyday words at either end; a possible
    full name when two or more words remain and they are not all the study's pseudonyms."""
    words = [(w.group(0), match.start() + w.start()) for w in re.finditer(r"\S+", match.group(0))]
    while words and words[0][0].lower() in COMMON_CAPITALISED:
        words.pop(0)
    while words and words[-1][0].lower() in COMMON_CAPITALISED:
        words.pop()
    if len(words) < 2 or any(w.lower() in COMMON_CAPITALISED for w, _ in words):
        return None
    if words[-1][0] in _STREET_SUFFIXES.split("|") or all(w.lower() in pseudonyms for w, _ in words):
        return None
    start = words[0][1]
    return match.string[start:words[-1][1] + len(words[-1][0])], start


def find_disclosures(utterances: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Candidate identifying details in every turn, each marked allowed or unresolved.

    Facilitators' turns are checked as well as participants': the export carries whole
    transcripts, so every word in them leaves the machine. Speaker pseudonyms (every word
    of every speaker label in the study) are not reported. An item is ``allowed`` when its
    text matches an entry of ``disclosure.allow``.
    """
    pseudonyms = {w.lower() for s in utterances["speaker"].unique() for w in re.findall(r"[A-Za-z]+", s)}
    allow = {a.lower() for a in study.disclosure.allow}
    rows, seen = [], set()
    for u in utterances.itertuples(index=False):
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
