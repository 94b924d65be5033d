"""Tests for helpers.disclosure: the NHS check digit, candidate identifying details in
participant turns, the allow-list and the export gate.

Each test writes a tiny study (study.yml plus `Name: text` transcripts) into tmp_path and
reads it with helpers.study.load_study and helpers.transcripts.read_study_turns.
"""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from helpers.disclosure import exports_allowed, find_disclosures, nhs_number_valid
from helpers.study import load_study
from helpers.transcripts import read_study_turns

FG01 = """\
Facilitator: Welcome. You can email me at helen.jones@example.org or ring 07700 900111, and Sarah takes notes.
Margaret: Thank you. Brian and I came together on the bus.
Brian: Margaret is right, and Nurse Margaret is just my joke for her.
Margaret: My email is marg.r@example.com if you want the leaflet.
Brian: Ring me on 07700 900456 any time, or the house on 01632 960123.
Margaret: They kept asking for my NHS number, 943 476 5919, every single visit.
Brian: I was born on 12 March 1948, so I am no spring chicken.
Margaret: And my DOB is 03/04/1951 if anyone asks.
Brian: We live near LS1 4AB, handy for the bus.
Margaret: They put me on Maple ward for a week after that.
Brian: The staff at st elsewhere were lovely to us.
Margaret: The nurse, Karen, was so kind to me.
Brian: Dr Okafor explained it all very clearly.
Margaret: Nothing to report here, just a nice chat about the weather.
"""

FG02 = """\
Lecturer: What did you notice on placement?
Ellie: Mostly the waiting, honestly, and the paperwork.
Kofi: I agree with Ellie, and Margaret in the other group said the same.
"""


def make_study(tmp_path, fg01: str = FG01, allow=(), places=("St Elsewhere",), refuse=True):
    (tmp_path / "FG01.txt").write_text(fg01, encoding="utf-8")
    (tmp_path / "FG02.txt").write_text(FG02, encoding="utf-8")
    allow_yaml = "[" + ", ".join(f'"{a}"' for a in allow) + "]"
    places_yaml = "[" + ", ".join(f'"{p}"' for p in places) + "]"
    (tmp_path / "study.yml").write_text(textwrap.dedent(f"""\
        name: tiny
        participant_groups:
          - id: patients_carers
            label: Patients and carers
          - id: students
            label: Students
        focus_groups:
          - id: FG01
            participant_group: patients_carers
            transcript: FG01.txt
            facilitators: [Facilitator]
            speakers: [Margaret, Brian]
          - id: FG02
            participant_group: students
            transcript: FG02.txt
            facilitators: [Lecturer]
            speakers: [Ellie, Kofi]
        disclosure:
          allow: {allow_yaml}
          places: {places_yaml}
          refuse_exports_with_disclosures: {"true" if refuse else "false"}
        """), encoding="utf-8")
    return load_study(tmp_path / "study.yml")


def disclosures(tmp_path, **kwargs) -> tuple[pd.DataFrame, pd.DataFrame, object]:
    study = make_study(tmp_path, **kwargs)
    utterances = read_study_turns(study)
    return find_disclosures(utterances, study), utterances, study


def matches(found: pd.DataFrame, kind: str) -> list[str]:
    return found.loc[found["kind"] == kind, "match"].tolist()


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
    assert matches(found, "email address") == ["marg.r@example.com"]
    assert sorted(matches(found, "phone number")) == ["01632 960123", "07700 900456"]
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


def test_does_not_flag_facilitator_turns(tmp_path):
    found, utterances, _ = disclosures(tmp_path)
    assert set(found["speaker"]) <= {"Margaret", "Brian", "Ellie", "Kofi"}
    assert 1 not in found.loc[found["focus_group"] == "FG01", "turn"].tolist()   # turn 1 is the facilitator's
    assert "helen.jones@example.org" not in found["match"].tolist()
    assert "07700 900111" not in found["match"].tolist()
    assert "Sarah" not in found["match"].tolist()


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
