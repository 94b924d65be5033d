"""Shared fixtures: paths of the repository and a writer of small studies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def make_study(tmp_path):
    """Write a small study (three groups, `Name: text` transcripts) and return its path."""

    def _make(extra: str = "", transcripts: dict | None = None, groups_yaml: str | None = None) -> Path:
        transcripts = transcripts or {
            "FG01.txt": "Facilitator: What does compassion mean to you?\nAnna: Taking time to explain the machine.\n"
                        "Ben: Remembering my name every morning.\n",
            "FG02.txt": "Facilitator: Tell me about the mask.\nCath: I was terrified of it, honestly.\n",
            "FG03.txt": "Facilitator: Where did you learn it?\nDev: From my educator on placement.\n",
        }
        for name, text in transcripts.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        body = groups_yaml or """
participant_groups:
  - {id: staff, label: Staff}
  - {id: patients, label: Patients}
  - {id: students, label: Students}
focus_groups:
  - {id: FG01, participant_group: staff, transcript: FG01.txt, facilitators: [Facilitator],
     speakers: [Anna, Ben]}
  - {id: FG02, participant_group: patients, transcript: FG02.txt, facilitators: [Facilitator],
     speakers: [Cath]}
  - {id: FG03, participant_group: students, transcript: FG03.txt, facilitators: [Facilitator],
     speakers: [Dev]}
"""
        path = tmp_path / "study.yml"
        path.write_text("name: tiny\ntitle: Tiny study\n" + body + extra, encoding="utf-8")
        return path

    return _make
