"""Disclosure check: likely identifying details in every turn, before any analysis.

Pseudonymised transcripts still leak: a participant names a nurse, a ward, a date of birth.
This check lists *candidates* for a person to review; it cannot prove a transcript is
safe. Reviewed items that are not identifying go in ``disclosure.allow`` in study.yml.
While unresolved items remain and ``disclosure.refuse_exports_with_disclosures`` is true
(the default), the export stage writes no export.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

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
siobhan ciaran saoirse padraig sean eoin oisin caoimhe grainne roisin orla mairead dermot seamus
gwilym dafydd ieuan llinos angharad eluned gruffydd emyr aled carys delyth nia sioned
ewan eilidh catriona mhairi lachlan ruaridh alasdair kenneth
tomasz piotr krzysztof katarzyna agnieszka malgorzata magdalena wojciech marek pawel zofia
jakub kasia ania marta ewa joanna
rajesh ravi sanjay sunita deepak arjun pooja neha rahul vikram harpreet gurpreet jaswinder
manpreet simran anil sunil shabana nasreen farah ayesha usman kamran
adaeze chidi ngozi emeka oluwaseun funmilayo kwame kofi ama
zoe zoey chloe noemi
""".split())

#: Given names that are also everyday words ("Mark my words", "Grace period"): not
#: reported on their own at the start of a sentence, nor as the first word of a
#: lower-case full name.
GIVEN_NAME_WORDS = frozenset("""
mark grace rose bill jack holly ruby amber lily eve will dawn faith hope joy ray pat sue frank art carol
jean june may summer autumn sky penny heather hazel daisy poppy ivy olive jade crystal iris violet robin
dean lee kim sandy rob don nick guy drew gene kit bob
""".split())

#: Common surnames of Britain, Ireland and the families who live there, for lower-case
#: full names ("sarah jones"): the second word must look like a surname, because a
#: given name is followed by everyday words far more often ("grace said").
COMMON_SURNAMES = frozenset("""
smith jones williams taylor brown davies evans wilson thomas roberts johnson lewis walker robinson
thompson watson jackson wright harris cooper morgan hughes edwards clarke clark harrison scott morris
turner carter phillips mitchell adams campbell anderson allen bailey parker miller davis murphy bennett
richardson robertson reynolds lloyd ellis richards wilkinson graham stewart reid murray powell holmes
rogers stevens walsh thomson matthews kennedy saunders pearce harvey hudson gibson pearson jenkins
griffiths rees pritchard pryce parry llewellyn llywelyn bowen howells vaughan prosser probert bevan
gwynne morgans jenkin meredith
kelly byrne ryan doyle mccarthy gallagher lynch quinn mclaughlin carroll connolly daly dunne brennan
burke farrell fitzgerald maguire nolan flynn callaghan duffy boyle healy sweeney kavanagh mcgrath
moran brady casey foley fitzpatrick mcdonnell mcmahon donnelly donovan flanagan mullan sheehan whelan
higgins cullen keane maher mckenna hogan magee mcnamara mcdonald hurley dalaigh sullivan neill reilly
connor brien donnell doherty leary shea mahony
macdonald mackenzie macleod mackay maclean macgregor macintyre mcintosh fraser cameron sinclair munro
ferguson paterson henderson mcallister mckay
nowak kowalski kowalska wisniewski wisniewska wojcik kowalczyk kaminski kaminska lewandowski lewandowska
zielinski szymanski wozniak dabrowski kozlowski jankowski mazur kwiatkowski krawczyk piotrowski
grabowski pawlowski michalski
patel khan singh kaur ahmed ali hussain begum rahman shah sharma kumar gupta mistry chauhan akhtar
iqbal malik mahmood choudhury chowdhury das bose raman iyer nair reddy rao desai joshi mehta bhatt
okonkwo okafor adeyemi mensah owusu
muller schmidt schneider fischer weber meyer wagner becker hoffmann
""".split())

#: Everyday words that are also surnames: a lower-case one on its own is the word.
_SURNAME_WORDS = frozenset("""
brown green white black young king hill wood rose bell cook baker hunt power price ward hall fox gray
grey long short little rich strong wise young moss marsh ford banks field fields bush lamb page parsons
""".split())

#: Words that stand in for a name ("Mr Whoever") and identify nobody.
PLACEHOLDERS = frozenset({"whoever", "something", "someone", "somebody", "soandso", "so", "x", "blah"})

# Letters of the Latin alphabets with their accents ("Siân", "Zoë", "Dálaigh", "Wójcik"),
# taken from the Unicode data so no letter is forgotten by hand.
_LATIN = [chr(c) for c in range(0x00C0, 0x0250)]
_UP = "A-Z" + "".join(ch for ch in _LATIN if ch.isupper())
_LO = "a-z" + "".join(ch for ch in _LATIN if ch.islower())
# One capitalised name: "Siân", "Mary-Jane", "O'Neill", "McDonald", "MacLeod"; an
# apostrophe followed by a lower-case letter ("Karen's") ends the name.
_NAME_WORD = rf"(?:[{_UP}]['’])?[{_UP}][{_LO}]+(?:[{_UP}][{_LO}]+)?(?:-[{_UP}]?[{_LO}]+(?:[{_UP}][{_LO}]+)?)*"
# Words inside a full name written in lower case or without a capital ("Ciarán Ó Dálaigh",
# "Maria de la Cruz", "Imran bin Yusuf").
NAME_PARTICLES = frozenset("ó ní nic mac mhic uí ua ap ab de da di du del della der den van von le la bin binti ibn "
                           "al el".split())
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


def fold(word: str) -> str:
    """``word`` in lower case without its accents ("Siân" -> "sian"), for the word lists."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


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


#: English words written with accents; not surnames.
_ACCENTED_WORDS = frozenset(
    "cafe naive fiance fiancee role resume deja cliche facade creme soiree protege decor".split())


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


# --------------------------------------------------------------------------- masking

#: What stands in a shown file for each kind of unresolved detail.
MASKS = {
    "NHS number": "[NHS number]", "phone number": "[phone number]", "UK postcode": "[postcode]",
    "street address": "[address]", "personal name": "[name]", "email address": "[email address]",
    "date (possible date of birth)": "[date]", "date of birth": "[date of birth]",
    "hospital or ward name": "[place]",
}


def unresolved(disclosures: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``disclosures`` that nobody has reviewed and allowed yet."""
    if disclosures is None or disclosures.empty:
        return pd.DataFrame(columns=["kind", "match"])
    return disclosures[disclosures["status"].astype(str) == "unresolved"]


def _flexible(literal: str) -> str:
    """A pattern for ``literal`` that tolerates other spacing, and for a number other
    separators ("943 476 5919" also finds "943-476-5919" and "9434765919")."""
    if sum(c.isdigit() for c in literal) >= 7 and re.fullmatch(r"[\d\s().+-]+", literal):
        return r"[\s().+-]*".join(re.escape(c) for c in literal if c.isdigit() or c == "+")
    return r"\s+".join(re.escape(w) for w in literal.split())


def _identifying_parts(kind: str, match: str) -> list[str]:
    """Pieces of a reported detail that identify on their own, masked wherever they occur:
    each word of a name (keywords are single words), the street's name, the two halves of
    a postcode."""
    if kind == "personal name":
        words = [re.sub(r"['’]s$", "", w.rstrip(".")) for w in match.split()]
        words = [w for w in words if w.lower() not in _TITLE_WORDS and w.lower() not in NAME_PARTICLES]
        parts = set(words) | {p for w in words for p in re.split(r"[-'’]", w)}
        return sorted(p for p in parts if len(p) >= 3 and fold(p) not in COMMON_CAPITALISED)
    if kind == "street address":
        words = match.replace(",", " ").split()[1:]
        named = [w for w in words if w.lower() not in {x.lower() for x in _STREET_SUFFIXES.split("|")}]
        return sorted({" ".join(words)} | {w for w in named if len(w) >= 3 and w.lower() not in COMMON_CAPITALISED})
    if kind == "UK postcode":
        return [p for p in match.split() if len(p) >= 3]
    return []


def _mask_pattern(disclosures: pd.DataFrame) -> tuple[re.Pattern, list[str]] | None:
    """One pattern that finds every unresolved detail (longest first) and the mask of
    each of its alternatives, or None when nothing is unresolved."""
    pending = unresolved(disclosures)
    if pending.empty:
        return None
    literals: dict[str, str] = {}
    for kind, match in zip(pending["kind"].astype(str), pending["match"].astype(str)):
        mask = MASKS.get(kind, "[identifying detail]")
        for literal in [match.strip(), *_identifying_parts(kind, match)]:
            if literal:
                literals.setdefault(literal.lower(), mask)
    ordered = sorted(literals, key=len, reverse=True)
    alternatives = [rf"(?<![\w])(?:{_flexible(lit)})(?![\w])" if lit[:1].isalnum() and lit[-1:].isalnum()
                    else _flexible(lit) for lit in ordered]
    pattern = re.compile("|".join(f"({a})" for a in alternatives), re.IGNORECASE)
    return pattern, [literals[lit] for lit in ordered]


def mask_identifying(data, disclosures: pd.DataFrame):
    """``data`` (a text, a Series or a table) with every unresolved detail of
    ``disclosures`` replaced by its mask (``[name]``, ``[NHS number]``, ``[phone number]``,
    ``[postcode]``, ``[address]`` …), in every text cell of every column.

    This is the one step that stands between the analysis and everything shown to people
    (report, workshop packs and board, interactive maps, shared tables): the notebooks
    apply it to the tables before they are written or rendered. The analysis itself
    (segments, embeddings, themes, ids) keeps the transcripts' words. With nothing
    unresolved ``data`` itself is returned, so a reviewed study's files stay byte-identical.
    """
    compiled = _mask_pattern(disclosures)
    if compiled is None:
        return data
    pattern, masks = compiled

    def mask_text(value):
        if not isinstance(value, str):
            return value
        return pattern.sub(lambda m: masks[m.lastindex - 1], value)

    if isinstance(data, str):
        return mask_text(data)
    if isinstance(data, pd.Series):
        return data.map(mask_text) if data.dtype == object else data
    if isinstance(data, pd.DataFrame):
        masked = data.copy()
        for column in masked.columns:
            if masked[column].dtype == object or pd.api.types.is_string_dtype(masked[column]):
                masked[column] = masked[column].map(mask_text)
        return masked
    raise TypeError(f"mask_identifying takes a text, a Series or a DataFrame, not {type(data).__name__}")


def masking_notice(disclosures: pd.DataFrame) -> str:
    """The warning a page shown to people carries while details are unresolved ("" when
    none are)."""
    pending = unresolved(disclosures)
    if pending.empty:
        return ""
    masks = sorted({MASKS.get(k, "[identifying detail]") for k in pending["kind"].astype(str)})
    return (f"{len(pending)} possible identifying detail(s) found in the transcripts are not yet reviewed "
            f"(see disclosures.csv). They are masked on this page as {', '.join(masks)}. Review them before "
            "this page is shared or shown.")


def run_summary(output_dir) -> str:
    """The one line a finished run ends with while details are unresolved: how many,
    what was masked and whether the QDA export was withheld ("" when none are)."""
    from pathlib import Path

    output_dir = Path(output_dir)
    path = output_dir / "disclosures.csv"
    if not path.is_file():
        return ""
    pending = unresolved(pd.read_csv(path, keep_default_na=False, dtype=str))
    if pending.empty:
        return ""
    masks = ", ".join(sorted({MASKS.get(k, "[identifying detail]") for k in pending["kind"]}))
    status = output_dir / "export_status.txt"
    exported = status.is_file() and status.read_text(encoding="utf-8").startswith("Exported")
    export = ("the QDA export was written unmasked (disclosure.refuse_exports_with_disclosures is false)"
              if exported else "the QDA export is withheld")
    return (f"⚠ {len(pending)} possible identifying detail(s) in {path} are unresolved: masked as {masks} in the "
            f"report, workshop packs, board, maps and shared tables; {export}. Review them and list the safe ones "
            "under disclosure.allow in study.yml (or edit the transcript), then rerun.")


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] != ["status"] or len(sys.argv) != 3:
        print("usage: python -m helpers.disclosure status OUTPUT_DIR", file=sys.stderr)
        sys.exit(2)
    line = run_summary(sys.argv[2])
    if line:
        print(line)
