"""Shared fixtures: paths of the repository, a writer of small studies, and the README's
run of the small fixture study that the reproducibility and exploration tests share."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

SMALL_STUDY = ROOT / "tests" / "fixtures" / "small_study" / "study.yml"
GUARD = ROOT / "tests" / "no_network"


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


def guarded_env(log) -> dict:
    """The environment of a user's shell, with tests/no_network's guard in every Python
    process started from it (it refuses, and logs to ``log``, any connection off this machine)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "COMPENDIUM_STUDY", "COMPENDIUM_OUTPUT_DIR")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(GUARD), env.get("PYTHONPATH", "")) if p)
    env["NETWORK_GUARD_LOG"] = str(log)
    return env


def working_tree_entries() -> set[str]:
    """Every path git sees in the working tree that is new, changed or ignored."""
    status = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    return {line[3:] for line in status.splitlines()}


@pytest.fixture(scope="session")
def readme_run(tmp_path_factory) -> dict:
    """One `make all` of the small fixture study made the README's way: from the repository
    root, a relative STUDY, OUTPUT_DIR left to its default (outputs/small-fixture), from an
    empty output folder, under the network guard. Shared by the tests that read a finished
    run without changing its results (a full run costs half a minute or more)."""
    log = tmp_path_factory.mktemp("readme_run") / "network_attempts.log"
    out = ROOT / "outputs" / "small-fixture"
    shutil.rmtree(out, ignore_errors=True)
    before = working_tree_entries()
    run = subprocess.run(["make", "--no-print-directory", "all", f"STUDY={SMALL_STUDY.relative_to(ROOT)}"],
                         cwd=ROOT, env=guarded_env(log), capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return {"out": out, "run": run, "log": log, "new_entries": working_tree_entries() - before}
