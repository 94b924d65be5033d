"""Tests for helpers.disclosure's rules and scan: the NHS check digit, candidate
identifying details in every turn, the allow-list, the export gate, and the figures
docs/disclosure_check.md reports. Masking is tests/test_masking.py.

Most tests write the tiny study of tests/disclosure_study.py into tmp_path.
"""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import ROOT
from disclosure_study import disclosures, matches
from helpers.disclosure import exports_allowed, find_disclosures, nhs_number_valid
from helpers.study import load_study
from helpers.transcripts import read_study_turns


# --------------------------------------------------------------------------- NHS numbers

@pytest.mark.parametrize("number", ["9434765919", "4010232137", "9876543210"])
def test_valid_nhs_numbers(number):
    assert nhs_number_valid(number)


@pytest.mark.parametrize("number", [
    "9434765918",     # wrong check digit
    "9434765910",
    "943476591",      # too short
    "94347659190",    # too long
    "943 476 5919",   # separators are the caller's job
    "94347a5919",
    "",
])
def test_invalid_nhs_numbers(number):
    assert not nhs_number_valid(number)


def test_nhs_number_whose_check_digit_would_be_ten_is_invalid():
    # find nine digits whose weighted sum leaves remainder 1 (check digit 10): no tenth digit is valid
    first9 = next(f"{n:09d}" for n in range(100000000, 100001000)
                  if sum(int(d) * w for d, w in zip(f"{n:09d}", range(10, 1, -1))) % 11 == 1)
    assert not any(nhs_number_valid(first9 + str(d)) for d in range(10))


# --------------------------------------------------------------------------- find_disclosures

def test_disclosure_table_columns(tmp_path):
    found, _, _ = disclosures(tmp_path)
    assert list(found.columns) == ["focus_group", "turn", "line", "speaker", "kind", "match", "context", "status"]


def test_flags_email_phone_and_nhs_number(tmp_path):
    found, _, _ = disclosures(tmp_path)
    assert matches(found, "email address") == ["helen.jones@example.org", "marg.r@example.com"]
    assert sorted(matches(found, "phone number")) == ["01632 960123", "07700 900111", "07700 900456"]
    assert matches(found, "NHS number") == ["943 476 5919"]


def test_flags_dates_of_birth(tmp_path):
    found, _, _ = disclosures(tmp_path)
    assert any("12 March 1948" in m for m in matches(found, "date of birth"))
    assert "03/04/1951" in matches(found, "date (possible date of birth)")


def test_flags_postcode_ward_and_configured_place(tmp_path):
    found, _, _ = disclosures(tmp_path)
    assert matches(found, "UK postcode") == ["LS1 4AB"]
    places = matches(found, "hospital or ward name")
    assert "Maple ward" in places
    assert "st elsewhere" in places           # configured place, found whatever the case, text as written


def test_flags_personal_names_that_are_not_pseudonyms(tmp_path):
    found, _, _ = disclosures(tmp_path)
    names = matches(found, "personal name")
    assert "Karen" in names
    assert "Dr Okafor" in names


def test_does_not_flag_speaker_pseudonyms(tmp_path):
    found, _, _ = disclosures(tmp_path)
    names = " ".join(matches(found, "personal name"))
    for pseudonym in ("Margaret", "Brian", "Ellie", "Kofi"):   # incl. a pseudonym from another focus group
        assert pseudonym not in names
    assert found[found["match"].str.contains("Margaret|Brian")].empty


def test_flags_facilitator_turns_too(tmp_path):
    """The export carries whole transcripts, so the facilitator's words are checked too."""
    found, _, _ = disclosures(tmp_path)
    facilitator = found[found["speaker"] == "Facilitator"]
    assert facilitator["turn"].tolist() and set(facilitator["turn"]) == {1}
    assert {"helen.jones@example.org", "07700 900111", "Sarah"} <= set(facilitator["match"])
    assert set(facilitator["status"]) == {"unresolved"}


def test_clean_turns_are_not_flagged(tmp_path):
    found, utterances, _ = disclosures(tmp_path)
    clean = utterances[utterances["text"].str.startswith("Nothing to report")]["turn"].iloc[0]
    assert found[(found["focus_group"] == "FG01") & (found["turn"] == clean)].empty
    assert found[found["focus_group"] == "FG02"].empty


def test_rows_locate_the_turn_line_and_context(tmp_path):
    found, utterances, _ = disclosures(tmp_path)
    row = found[found["match"] == "Karen"].iloc[0]
    turn = utterances[(utterances["focus_group"] == "FG01") & (utterances["turn"] == row["turn"])].iloc[0]
    assert row["speaker"] == "Margaret" == turn["speaker"]
    assert row["line"] == turn["line"] == 12
    assert "Karen" in row["context"] and row["context"].startswith("…")
    assert row["status"] == "unresolved"


def test_allow_list_marks_items_allowed(tmp_path):
    found, _, _ = disclosures(tmp_path, allow=("karen", "Maple ward"))
    status = dict(zip(found["match"], found["status"]))
    assert status["Karen"] == "allowed"        # case-insensitive
    assert status["Maple ward"] == "allowed"
    assert status["Dr Okafor"] == "unresolved"
    assert status["943 476 5919"] == "unresolved"


# --------------------------------------------------------------------------- export gate

def test_exports_refused_while_unresolved(tmp_path):
    found, _, study = disclosures(tmp_path)
    ok, why = exports_allowed(found, study)
    assert ok is False
    n = int((found["status"] == "unresolved").sum())
    assert n > 0 and why.startswith(f"{n} possible identifying")
    assert str(study.path) in why and "study.yml" in why
    assert "disclosure.allow" in why


def test_exports_allowed_when_refusal_is_switched_off(tmp_path):
    found, _, study = disclosures(tmp_path, refuse=False)
    assert study.disclosure.refuse_exports_with_disclosures is False
    ok, why = exports_allowed(found, study)
    assert ok is True
    assert "refuse_exports_with_disclosures is false" in why


def test_exports_allowed_when_everything_is_resolved(tmp_path):
    found, _, study = disclosures(tmp_path)
    resolved = found.assign(status="allowed")
    assert exports_allowed(resolved, study) == (True, "No unresolved identifying details.")
    assert exports_allowed(found.iloc[0:0], study)[0] is True


def test_allow_listing_every_item_unlocks_exports(tmp_path):
    found, _, _ = disclosures(tmp_path)
    allow = tuple(found["match"])
    found2, _, study2 = disclosures(tmp_path, allow=allow)
    assert set(found2["status"]) == {"allowed"}
    assert exports_allowed(found2, study2)[0] is True


# --------------------------------------------------------------------------- known gaps

GAPS = """\
Facilitator: Anything else?
Margaret: Ring the ward on 020 7946 0958 or my daughter on 0161 496 0123.
Brian: I was born in 1948, the year the NHS started.
"""


def test_flags_london_and_city_phone_numbers(tmp_path):
    found, _, _ = disclosures(tmp_path, fg01=GAPS)
    assert sorted(matches(found, "phone number")) == ["0161 496 0123", "020 7946 0958"]


def test_flags_year_of_birth_said_as_born_in(tmp_path):
    found, _, _ = disclosures(tmp_path, fg01=GAPS)
    assert any("1948" in m for m in matches(found, "date of birth"))


# --------------------------------------------------------------------------- measured on planted identifiers

PLANTED = ROOT / "tests" / "fixtures" / "disclosure"
FIGURES_DOC = ROOT / "docs" / "disclosure_check.md"
#: The invented details data/README.md says were planted in the bundled study on purpose.
BUNDLED_PLANTS = {"philippa", "rowan ward", "maureen", "heron ward", "gemma", "bluebell ward", "janine",
                  "larch ward", "suzanne"}


def _overlaps(found_match: str, planted_text: str) -> bool:
    a, b = found_match.lower(), planted_text.lower()
    return a in b or b in a


def measure_planted() -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Per kind (found, planted) on the planted-identifier file, and the detections that
    match no planted identifier (false positives)."""
    study = load_study(PLANTED / "study.yml")
    found = find_disclosures(read_study_turns(study), study)
    planted = pd.read_csv(PLANTED / "planted.csv")
    recall: dict[str, tuple[int, int]] = {}
    for kind, items in planted.groupby("kind", sort=True):
        hits = sum(any(_overlaps(m, p.text) for m in found.loc[(found["line"] == p.line) & (found["kind"] == kind),
                                                                  "match"]) for p in items.itertuples())
        recall[kind] = (hits, len(items))
    false = [f"{r.match} (line {r.line})" for r in found.itertuples()
             if not any(_overlaps(r.match, p.text) for p in planted[planted["line"] == r.line].itertuples())]
    return recall, false


def measure_bundled() -> tuple[int, list[str]]:
    """Candidates on the bundled study, and those that are not its deliberate plants."""
    study = load_study(ROOT / "data" / "study.yml")
    found = find_disclosures(read_study_turns(study), study)
    return len(found), sorted({m for m in found["match"] if m.lower() not in BUNDLED_PLANTS})


def _doc_row(label: str) -> list[str]:
    rows = [line for line in FIGURES_DOC.read_text(encoding="utf-8").splitlines() if line.startswith(f"| {label} |")]
    assert len(rows) == 1, f"docs/disclosure_check.md has no single row for {label}"
    return [cell.strip() for cell in rows[0].strip("|").split("|")][1:]


def test_planted_identifiers_are_all_found_and_the_documented_figures_hold():
    recall, false = measure_planted()
    assert set(recall) == {"NHS number", "phone number", "UK postcode", "street address", "personal name"}
    for kind, (hits, planted) in recall.items():
        assert _doc_row(kind) == [str(planted), str(hits), f"{hits / planted:.0%}"]
        assert hits == planted, f"missed a planted {kind}"
    assert _doc_row("false positives in the planted file") == [str(len(false)), "; ".join(false)]
    assert false == ["Star Trek (line 15)"]   # the decoy line; "twenty minutes down the road" is not an address


def test_false_positives_on_the_bundled_study_are_documented_and_allowed():
    total, extra = measure_bundled()
    assert _doc_row("candidates in the bundled study") == [str(total), ""]
    assert _doc_row("false positives in the bundled study") == [str(len(extra)), "; ".join(extra)]
    study = load_study(ROOT / "data" / "study.yml")
    found = find_disclosures(read_study_turns(study), study)
    assert exports_allowed(found, study)[0], "the bundled study must export: review and allow its candidates"


def test_facilitator_disclosure_blocks_the_export(tmp_path):
    """The reviewer's case: identifying details appended to an Interviewer line."""
    text = (PLANTED / "FG01_planted.txt").read_text(encoding="utf-8").splitlines()[0]
    found, _, study = disclosures(tmp_path, fg01=text.replace("Interviewer:", "Facilitator:") + "\nMargaret: Yes, that is what I remember.\n")
    flagged = found[found["speaker"] == "Facilitator"]
    assert {"943 476 5919", "07700 900123", "LS6 2QT"} <= set(flagged["match"])
    assert any("Margaret Thompson" in m for m in flagged["match"])
    assert exports_allowed(found, study)[0] is False


@pytest.mark.parametrize(("text", "kind", "expected"), [
    ("We live at sw1a 1aa now.", "UK postcode", ["sw1a 1aa"]),
    ("Post it to m1 1ae please.", "UK postcode", ["m1 1ae"]),
    ("It was 14 Acacia Road.", "street address", ["14 Acacia Road"]),
    ("It was five minutes down the road, 20 minutes up the road.", "street address", []),
    ("Adaeze Okonkwo sat with me.", "personal name", ["Adaeze Okonkwo"]),
    ("On Monday in March the NHS Trust said so.", "personal name", []),
    ("Ring +44 7700 900123 or 0113-496-0000.", "phone number", ["+44 7700 900123", "0113-496-0000"]),
    ("It was 12 345 678 people.", "phone number", []),
])
def test_patterns(tmp_path, text, kind, expected):
    found, _, _ = disclosures(tmp_path, fg01=f"Facilitator: Go on.\nMargaret: {text}\n")
    assert matches(found, kind) == expected


# --------------------------------------------------------------------------- names beyond plain ASCII

@pytest.mark.parametrize(("text", "expected"), [
    ("Ciarán Ó Dálaigh did the set-up.", "Ciarán Ó Dálaigh"),
    ("Same with Zoë Müller on the other machine.", "Zoë Müller"),
    ("Ask Dr Siân Llewellyn about it.", "Dr Siân Llewellyn"),
    ("Mary-Jane O'Neill on reception sorted it.", "Mary-Jane O'Neill"),
    ("Rhodri Prys-Jones found me a wheelchair.", "Rhodri Prys-Jones"),
    ("i think it was agnieszka wójcik who phoned.", "agnieszka wójcik"),
    ("then siân llewellyn rang me back", "siân llewellyn"),
    ("we told seamus mcgrath in the office", "seamus mcgrath"),
])
def test_names_with_accents_hyphens_and_in_lower_case_are_found_whole(tmp_path, text, expected):
    for role in ("Facilitator", "Margaret"):
        found, _, _ = disclosures(tmp_path, fg01=f"Facilitator: Go on.\n{role}: {text}\n"
                                                  "Margaret: The waiting room is what I remember.\n")
        names = matches(found, "personal name")
        assert expected in names, (role, names)
        assert not any(n != expected and expected.startswith(n) and len(n) < 6 for n in names)  # not "Dr Si"


def test_a_surname_alone_is_found_after_its_full_name_in_the_same_transcript(tmp_path):
    text = ("Facilitator: Dr Siân Llewellyn sends her apologies.\n"
            "Margaret: Llewellyn was lovely to me.\n"
            "Brian: agnieszka wójcik rang about the mask.\n"
            "Margaret: Yes, wójcik did, and Llewellyn's letter came.\n")
    found, _, _ = disclosures(tmp_path, fg01=text)
    alone = found[found["match"].isin(["Llewellyn", "wójcik"])]
    assert sorted(zip(alone["line"], alone["match"])) == [(2, "Llewellyn"), (4, "Llewellyn"), (4, "wójcik")]


def test_a_surname_alone_is_not_reported_when_its_full_name_was_allowed(tmp_path):
    text = "Facilitator: Adaeze Okonkwo sat with me.\nMargaret: Okonkwo was kind.\n"
    found, _, _ = disclosures(tmp_path, fg01=text, allow=("Adaeze Okonkwo",))
    assert "Okonkwo" not in matches(found, "personal name")


@pytest.mark.parametrize("text", [
    "Mark my words, it was hard.", "Will you be long, I'd ask.", "Grace periods for parking were a complaint.",
    "It was grace said at dinner, mark you.", "Honestly the Macmillan Nurses were great.",
    "Radiotherapy Department staff are angels.", "i told sarah properly what happened.",
])
def test_everyday_sentences_are_not_names(tmp_path, text):
    found, _, _ = disclosures(tmp_path, fg01=f"Facilitator: Go on.\nMargaret: {text}\n")
    assert matches(found, "personal name") == []


# --------------------------------------------------------------------------- measured on the stress file

STRESS = ROOT / "tests" / "fixtures" / "disclosure_stress"


def measure_by_kind(folder) -> dict[str, tuple[int, int, list[str]]]:
    """Per kind: identifiers planted, found, and the detections of that kind that match no
    planted identifier on their line."""
    study = load_study(folder / "study.yml")
    found = find_disclosures(read_study_turns(study), study)
    planted = pd.read_csv(folder / "planted.csv")
    figures = {}
    for kind, items in planted.groupby("kind", sort=True):
        hits = sum(any(_overlaps(m, p.text) for m in found.loc[(found["line"] == p.line) & (found["kind"] == kind),
                                                                  "match"]) for p in items.itertuples())
        false = [f"{r.match} (line {r.line})" for r in found[found["kind"] == kind].itertuples()
                 if not any(_overlaps(r.match, p.text) for p in planted[planted["line"] == r.line].itertuples())]
        figures[kind] = (len(items), hits, false)
    return figures


def test_the_stress_file_figures_hold_as_documented():
    figures = measure_by_kind(STRESS)
    assert set(figures) == {"NHS number", "phone number", "UK postcode", "street address", "personal name"}
    for kind, (planted, hits, false) in figures.items():
        row = _doc_row(f"stress: {kind}")
        assert [row[0], *row[2:]] == [str(planted), str(hits), f"{hits / planted:.0%}", str(len(false))], kind
    assert figures["personal name"][2] == ["Grace (line 34)"]     # "Will and Grace"
    planted = pd.read_csv(STRESS / "planted.csv")
    assert {"Llewellyn", "O'Neill", "Wójcik", "Chaudhry"} <= set(planted["text"])   # surnames alone are planted
