"""The rules of the disclosure check: what in one turn looks like an identifying detail.

:func:`_candidates` yields every candidate in a turn with its kind and position: email
addresses, UK phone and NHS numbers (the check digit must hold), dates and dates of
birth, postcodes, street addresses, hospital and ward names, and personal names (after a
title, runs of capitalised words, full names in lower case, common given names). The
word lists it reads are in :mod:`.words`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .words import (_ACCENTED_WORDS, _MEASURE_WORDS, _SURNAME_WORDS, COMMON_CAPITALISED, COMMON_GIVEN_NAMES,
                    COMMON_SURNAMES, GIVEN_NAME_WORDS, NAME_PARTICLES, PLACEHOLDERS, POSTCODE_AREAS, fold)

# Letters of the Latin alphabets with their accents ("Siân", "Zoë", "Dálaigh", "Wójcik"),
# taken from the Unicode data so no letter is forgotten by hand.
_LATIN = [chr(c) for c in range(0x00C0, 0x0250)]
_UP = "A-Z" + "".join(ch for ch in _LATIN if ch.isupper())
_LO = "a-z" + "".join(ch for ch in _LATIN if ch.islower())
# One capitalised name: "Siân", "Mary-Jane", "O'Neill", "McDonald", "MacLeod"; an
# apostrophe followed by a lower-case letter ("Karen's") ends the name.
_NAME_WORD = rf"(?:[{_UP}]['’])?[{_UP}][{_LO}]+(?:[{_UP}][{_LO}]+)?(?:-[{_UP}]?[{_LO}]+(?:[{_UP}][{_LO}]+)?)*"
_PARTICLE = "(?:" + "|".join(sorted(NAME_PARTICLES, key=len, reverse=True)) + ")"
# Between capitalised names: the Irish particles with their capital, the others in lower
# case ("Mac" is part of the name itself: "MacLeod", "Mac Giolla").
_PARTICLE_CS = "(?:Ó|Ní|Nic|Mhic|Uí|Ua|ap|ab|de|da|di|du|del|della|der|den|van|von|le|la|bin|binti|ibn|al|el)"
_TITLES = "Dr|Doctor|Mr|Mrs|Ms|Miss|Mx|Sister|Nurse|Professor|Prof"
_TITLE_NAME = re.compile(
    rf"\b(?:{_TITLES})\.?\s+({_NAME_WORD})(?:((?:\s+{_PARTICLE_CS}){{0,2}}\s+{_NAME_WORD}))?")
_CAPITALISED = re.compile(rf"(?<![\w-])([{_UP}][{_LO}]{{2,}})(?![\w-])")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
# A UK number as people say or type it: +44 (0)20 7946 0958, 07700 900123, (0161) 496 0123,
# 0113-496-0000. The shape is loose; the digits must then make a UK number (see _uk_phone).
_PHONE = re.compile(r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|\(?0)\d{2,4}\)?(?:[\s-]?\d){6,8}(?![\d-])")
_TEN_DIGITS = re.compile(r"(?<!\d)(\d{3})[\s-]?(\d{3})[\s-]?(\d{4})(?!\d)")
_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](19\d{2}|20[01]\d)\b")
_BORN = re.compile(r"\b(?:born(?: on| in)?|DOB|date of birth(?: is)?)\s*:?\s*((?:\d{1,2}(?:st|nd|rd|th)?\s+\w+\s+)?(?:19|20)\d{2})", re.IGNORECASE)
_POSTCODE = re.compile(r"\b([A-Z]{1,2})(\d[A-Z\d]?)\s*(\d[ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE)
_STREET_SUFFIXES = ("Road|Rd|Street|St|Avenue|Ave|Lane|Close|Drive|Crescent|Way|Grove|Terrace|Place"
                    "|Gardens|Court|Row|Walk|Square|Mews|Hill|Rise|Parade|Boulevard|View")
# "14 Acacia Road", "221b Baker Street", "flat 2, 48 Victoria Avenue"; any case, but the
# words between the number and the suffix must not be everyday words ("5 minutes down
# the road" is not an address).
_STREET = re.compile(rf"\b(\d{{1,4}}[a-z]?,?\s+((?:[A-Za-z][a-z'’-]+\s+){{1,3}})(?:{_STREET_SUFFIXES}))\b",
                     re.IGNORECASE)
# Welsh and Gaelic street names put the street word first: "42 Heol y Llan", "3 Ffordd Las".
_STREET_FIRST = re.compile(
    r"\b(\d{1,4}[a-z]?,?\s+(?:Heol|Ffordd|Stryd|Lôn|Rhodfa|Sràid)(?:\s+[^\W\d_][\w'’-]*){1,3})", re.IGNORECASE)
_PLACE = re.compile(r"\b((?:[A-Z][a-z]+\s){1,3}(?:Ward|ward|Unit|Hospital|Infirmary|Centre|Clinic))\b")
# Two or three capitalised words in a row (name particles may sit between them): a
# candidate full name once everyday words are trimmed from either end ("So Adaeze Okonkwo
# said" -> "Adaeze Okonkwo").
_CAPITALISED_RUN = re.compile(
    rf"(?<![\w'’-]){_NAME_WORD}(?:(?:[ \t]+{_PARTICLE_CS}){{0,2}}[ \t]+{_NAME_WORD}){{1,2}}(?![\w'’-])")
# A full name in lower case: two or three words, name particles between them.
_LOWER_WORD = rf"[{_LO}](?:[{_LO}'’]*[{_LO}])?(?:-[{_LO}]+)*"
# Looked for at every word (a zero-width match) so "told sarah jones" is not lost to "told sarah".
_LOWER_RUN = re.compile(
    rf"(?<![\w'’-])(?=({_LOWER_WORD})((?:[ \t]+{_PARTICLE}){{0,2}})[ \t]+({_LOWER_WORD})(?![\w'’-]))",
    re.IGNORECASE)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;…]['’\"”)]*\s+|[\"“(]\s*)$")


def _uk_phone(text: str) -> bool:
    """Whether the digits of a phone-shaped match make a UK number (national form
    0 + 10 digits, starting 01, 02, 03, 07 or 08)."""
    digits = re.sub(r"\D", "", text)
    if digits.startswith("44"):
        digits = "0" + digits[2:].removeprefix("0")
    return len(digits) == 11 and digits[:2] in {"01", "02", "03", "07", "08"}


def _trim_everyday(address: str) -> str:
    """A street-first address without the everyday words that followed it ("3 Ffordd Las
    and" -> "3 Ffordd Las")."""
    words = address.split()
    while len(words) > 3 and words[-1].lower() in COMMON_CAPITALISED:
        words.pop()
    return " ".join(words)


def _postcode(match: re.Match) -> bool:
    return match.group(1).upper() in POSTCODE_AREAS


def _street(match: re.Match) -> bool:
    words = match.group(2).lower().split()
    return not any(word in COMMON_CAPITALISED or word in _MEASURE_WORDS for word in words)



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
    for m in _STREET_FIRST.finditer(text):
        yield "street address", _trim_everyday(m.group(1)), m.start()
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
        named = [re.sub(r"['’]s$", "", w) for w in " ".join(g for g in m.groups() if g).split()
                 if w.lower() not in NAME_PARTICLES]  # "Mr Whoever's"
        if any(fold(w) not in pseudonyms and w.lower() not in PLACEHOLDERS for w in named):
            yield "personal name", m.group(0), m.start()
    for m in _CAPITALISED_RUN.finditer(text):
        full = _full_name(m, pseudonyms)
        if full is not None:
            yield "personal name", *full
    for m in _LOWER_RUN.finditer(text):
        full = _lower_case_name(m, pseudonyms)
        if full is not None:
            yield "personal name", full, m.start()
    for m in _CAPITALISED.finditer(text):
        word = fold(m.group(1))
        if word not in COMMON_GIVEN_NAMES or word in pseudonyms:
            continue
        if word in GIVEN_NAME_WORDS and _SENTENCE_START.search(text[:m.start()]):
            continue  # "Mark my words."
        yield "personal name", m.group(1), m.start()



def _looks_like_surname(word: str) -> bool:
    """Whether a lower-case word after a given name is a surname rather than an everyday
    word: a common surname, a surname's shape (o'neill, mcdonald, kowalski, -wicz) or a
    word with accents that English words seldom carry."""
    folded = fold(word)
    if folded in COMMON_CAPITALISED or folded in _SURNAME_WORDS:
        return False
    if folded in COMMON_SURNAMES or all(part in COMMON_SURNAMES for part in folded.split("-")):
        return True
    if re.match(r"(?:o['’][a-z]{2,}|mc[a-z]{3,}|mac[a-z]{4,}|fitz[a-z]{3,})$", folded):
        return True
    if re.search(r"[a-z]{3,}(?:ski|ska|wicz|czyk|czak)$", folded):
        return True
    return folded != word.lower() and folded not in _ACCENTED_WORDS



def _lower_case_name(match: re.Match, pseudonyms: set[str]) -> str | None:
    """A full name in lower case ("sian llewellyn", "mary-jane o'neill"): a given name that
    is not also an everyday word, then a surname (see :func:`_looks_like_surname`). Names
    written with capitals are left to the capitalised-run rule."""
    given, particles, surname = match.group(1), match.group(2), match.group(3)
    if given[:1].isupper() and surname[:1].isupper():
        return None
    parts = fold(given).split("-")
    if not all(p in COMMON_GIVEN_NAMES and p not in GIVEN_NAME_WORDS for p in parts):
        return None
    if fold(given) in pseudonyms and fold(surname) in pseudonyms:
        return None
    if not (_looks_like_surname(surname) or (particles.strip() and fold(surname) not in COMMON_CAPITALISED)):
        return None
    return match.string[match.start(1):match.end(3)]


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
    if words[-1][0] in _STREET_SUFFIXES.split("|") or all(fold(w) in pseudonyms for w, _ in words):
        return None
    start = words[0][1]
    return match.string[start:words[-1][1] + len(words[-1][0])], start


def _unique(candidates: Iterable[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """The candidates of one turn, each matched text once (the first kind found wins),
    without a one-word name that is part of a longer name reported there ("Adaeze" of
    "Adaeze Okonkwo")."""
    kept, seen = [], set()
    for kind, match, pos in candidates:
        if match not in seen:
            seen.add(match)
            kept.append((kind, match, pos))
    longer = [(pos, pos + len(match)) for kind, match, pos in kept if kind == "personal name" and " " in match]
    return [(kind, match, pos) for kind, match, pos in kept
            if not (kind == "personal name" and " " not in match
                    and any(a <= pos and pos + len(match) <= b for a, b in longer))]


_TITLE_WORDS = frozenset(t.lower() for t in _TITLES.split("|"))


def _surname_of(name: str) -> str | None:
    """The surname of a reported full name ("Dr Siân Llewellyn" -> "Llewellyn"), or None
    for a name of one word without a title ("Karen")."""
    words = [re.sub(r"['’]s$", "", w.rstrip(".")) for w in name.split()]
    titled = bool(words) and words[0].lower() in _TITLE_WORDS
    words = [w for w in words if w.lower() not in _TITLE_WORDS and w.lower() not in NAME_PARTICLES]
    if not words or (len(words) < 2 and not titled) or len(words[-1]) < 2:
        return None
    return words[-1]


def _surnames_alone(text: str, surnames: Iterable[str], names: list[tuple[int, int]]):
    """Each surname of ``surnames`` said in ``text`` outside the names already reported
    there: with a capital always, in lower case when it is not also an everyday word."""
    for surname in sorted(surnames):
        for m in re.finditer(rf"(?<![\w'’-]){re.escape(surname)}(?![\w-])", text, re.IGNORECASE):
            if any(a <= m.start() < b for a, b in names):
                continue
            if m.group(0)[:1].islower() and not _looks_like_surname(m.group(0)):
                continue
            yield m.group(0), m.start()
