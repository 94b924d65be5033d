"""A tiny study for the disclosure tests (tests/test_disclosure.py, tests/test_masking.py):
two focus groups whose turns carry one identifying detail of each kind the check reports,
written into tmp_path and read with helpers.study.load_study and
helpers.transcripts.read_study_turns.
"""

from __future__ import annotations

import textwrap

import pandas as pd

from helpers.disclosure import find_disclosures
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
