"""study.yml: what a researcher edits, and the one-sentence errors they get."""

import os
from pathlib import Path

import pytest

from helpers._io import UserError
from helpers.study import StudyError, load_study, main
from helpers.transcripts import read_study_turns

from conftest import ROOT


def test_bundled_study_has_the_design_of_the_real_one():
    study = load_study(ROOT / "data" / "study.yml")
    counts = {g: sum(f.participant_group == g for f in study.focus_groups) for g in study.group_ids}
    assert counts == {"radiographers": 5, "patients_carers": 3, "students": 3}
    assert len(study.workshops) == 3
    assert study.synthetic


def test_paths_are_relative_to_the_study_file(make_study):
    study = load_study(make_study())
    assert all(f.transcript.is_file() for f in study.focus_groups)
    assert study.inputs()[0] == study.path


@pytest.mark.parametrize("edit, key, words", [
    (("staff, transcript: FG01.txt", "staffx, transcript: FG01.txt"), "focus_groups[0].participant_group", "not one of"),
    (("transcript: FG02.txt", "transcript: missing.txt"), "focus_groups[1].transcript", "does not exist"),
    (("{id: FG02,", "{id: FG01,"), "focus_groups[1].id", "listed twice"),
    (("name: tiny", "name: my study"), "name", "folder name"),
])
def test_bad_study_names_key_and_file(make_study, edit, key, words):
    path = make_study()
    path.write_text(path.read_text().replace(*edit))
    with pytest.raises(StudyError) as err:
        load_study(path)
    message = str(err.value)
    assert str(path) in message and f"'{key}'" in message and words in message


def test_group_without_focus_group_is_an_error(make_study):
    path = make_study(groups_yaml="""
participant_groups:
  - {id: staff, label: Staff}
  - {id: carers, label: Carers}
focus_groups:
  - {id: FG01, participant_group: staff, transcript: FG01.txt, facilitators: [Facilitator], speakers: [Anna, Ben]}
""")
    with pytest.raises(StudyError, match="group 'carers' has no focus group"):
        load_study(path)


def test_invalid_yaml_names_the_line(make_study):
    path = make_study()
    path.write_text(path.read_text() + "  bad: [unclosed\n")
    with pytest.raises(StudyError, match=r"line \d+"):
        load_study(path)


def test_facilitator_label_must_occur_in_its_transcript(make_study):
    path = make_study()
    path.write_text(path.read_text().replace("transcript: FG02.txt, facilitators: [Facilitator]",
                                             "transcript: FG02.txt, facilitators: [Facilitatr]"))
    with pytest.raises(UserError) as err:
        read_study_turns(load_study(path))
    assert str(err.value).startswith(f"{path.parent / 'FG02.txt'}, line 1: the label 'Facilitator' ")
    assert "has 'Facilitatr' instead, a label that never speaks here" in str(err.value)


def test_turns_are_scoped_and_roles_assigned(make_study):
    u = read_study_turns(load_study(make_study()))
    assert list(u.columns) == ["focus_group", "participant_group", "speaker", "role", "speaker_type", "turn",
                               "line", "start_s", "text", "source", "format"]
    assert set(u.loc[u["speaker"] == "Facilitator", "role"]) == {"facilitator"}
    assert (u[u["speaker"] != "Facilitator"]["role"] == "participant").all()
    assert u.groupby("focus_group")["turn"].min().eq(1).all()


def test_check_and_name_commands(make_study, capsys):
    path = make_study()
    assert main(["check", str(path)]) == 0
    assert main(["name", str(path.parent / "nope.yml")]) == 1
    assert "no such study file" in capsys.readouterr().err


def test_design_table_lists_focus_groups_per_participant_group(make_study):
    from helpers.process_model import design_table

    table = design_table(load_study(make_study()))
    assert table.to_dict("records") == [{"participant group": "Staff", "focus groups": "FG01"},
                                        {"participant group": "Patients", "focus groups": "FG02"},
                                        {"participant group": "Students", "focus groups": "FG03"}]


# --------------------------------------------------------------------------- speakers and paths (issue 19)

def test_speakers_are_required_or_explicitly_unlisted(make_study):
    path = make_study()
    path.write_text(path.read_text().replace(",\n     speakers: [Cath]", ""))
    with pytest.raises(StudyError) as err:
        load_study(path)
    assert "'focus_groups[1].speakers': is missing" in str(err.value) and "speakers: unlisted" in str(err.value)
    path.write_text(path.read_text().replace("transcript: FG02.txt, facilitators: [Facilitator]",
                                             "transcript: FG02.txt, facilitators: [Facilitator], speakers: unlisted"))
    study = load_study(path)
    assert [fg.speakers_listed for fg in study.focus_groups] == [True, False, True]


def test_unlisted_speakers_are_listed_as_a_warning(make_study):
    from helpers.transcripts import ingest_study

    path = make_study()
    path.write_text(path.read_text().replace("speakers: [Anna, Ben]", "speakers: unlisted"))
    ingested = ingest_study(load_study(path))
    rows = ingested.warnings[ingested.warnings["kind"] == "label"]
    assert rows["focus_group"].tolist() == ["FG01"]
    assert "these 2 labels were read as participants without a check: Anna, Ben" in rows["message"].iloc[0]


def test_mistyped_facilitator_in_a_study_names_file_and_line(make_study):
    path = make_study(transcripts={
        "FG01.txt": "Facilitator: Hi.\nAnna: One.\nFacilitatr: Two?\nBen: Three.\n",
        "FG02.txt": "Facilitator: Hi.\nCath: One.\n", "FG03.txt": "Facilitator: Hi.\nDev: One.\n"})
    with pytest.raises(UserError) as err:
        read_study_turns(load_study(path))
    assert str(err.value).startswith(f"{path.parent / 'FG01.txt'}, line 3: the label 'Facilitatr' is not declared "
                                     "in focus group FG01")
    assert "did you mean 'Facilitator'?" in str(err.value)


def test_focus_group_with_only_facilitator_talk_is_warned(make_study):
    from helpers.transcripts import ingest_study

    path = make_study(transcripts={
        "FG01.txt": "Facilitator: Hi.\nAnna: Taking time to explain.\n", "FG02.txt": "Facilitator: Hello? Anyone?\n",
        "FG03.txt": "Facilitator: Hi.\nDev: From my educator on placement.\n",
        "FG04.txt": "Facilitator: Hi.\nEve: The mask, mostly, and the waiting.\n"})
    path.write_text(path.read_text() + "  - {id: FG04, participant_group: patients, transcript: FG04.txt, "
                    "facilitators: [Facilitator], speakers: [Eve]}\n")
    warnings = ingest_study(load_study(path)).warnings
    row = warnings[warnings["kind"] == "no participant talk"]
    assert row["focus_group"].tolist() == ["FG02"] and "FG02 has no participant talk" in row["message"].iloc[0]


@pytest.mark.parametrize("key, value", [("transcript: FG02.txt", "transcript: ../../../../etc/passwd"),
                                        ("transcript: FG02.txt", "transcript: /etc/passwd")])
def test_transcript_outside_the_study_folder_is_refused_unless_allowed(make_study, key, value):
    path = make_study()
    path.write_text(path.read_text().replace(key, value))
    with pytest.raises(StudyError) as err:
        load_study(path)
    message = str(err.value)
    assert message.startswith(f"{path}, key 'focus_groups[1].transcript': ")
    assert "leads outside the study's folder" in message and "allow_paths_outside_study: true" in message
    assert message.count(". ") == 0
    path.write_text(path.read_text() + "allow_paths_outside_study: true\n")
    assert load_study(path).focus_groups[1].transcript == Path(path.parent / value.split(": ")[1])


def test_transcript_in_a_subfolder_is_fine(make_study):
    path = make_study()
    (path.parent / "private").mkdir()
    (path.parent / "FG02.txt").rename(path.parent / "private" / "FG02.txt")
    path.write_text(path.read_text().replace("transcript: FG02.txt", "transcript: private/../private/FG02.txt"))
    assert load_study(path).focus_groups[1].transcript.is_file()


def test_bundled_and_fixture_studies_pass_the_label_check():
    from helpers.transcripts import ingest_study

    for study_file in (ROOT / "data" / "study.yml", ROOT / "tests" / "fixtures" / "small_study" / "study.yml"):
        ingested = ingest_study(load_study(study_file))
        assert len(ingested.utterances) and set(ingested.utterances["role"]) == {"facilitator", "participant"}


def test_ingest_warnings_name_transcripts_relative_to_the_study(make_study):
    from helpers.transcripts import INGEST_WARNING_COLUMNS, ingest_study

    path = make_study()
    (path.parent / "FG03.txt").write_bytes("Facilitator: Où?\nDev: The café on the unit, mostly.\n".encode("cp1252"))
    warnings = ingest_study(load_study(path)).warnings
    assert list(warnings.columns) == INGEST_WARNING_COLUMNS
    row = warnings.iloc[0]
    assert (row["focus_group"], row["source"], row["kind"]) == ("FG03", "FG03.txt", "encoding")
    assert row["message"].startswith("FG03.txt: the file is not UTF-8") and str(path.parent) not in row["message"]


# --------------------------------------------------------------------------- inputs accepted without a word (issue 23)

def test_places_and_allow_written_as_one_name_are_one_name(make_study):
    path = make_study(extra="disclosure:\n  places: Rowan ward\n  allow: Sister Jo\n")
    disclosure = load_study(path).disclosure
    assert disclosure.places == ("Rowan ward",) and disclosure.allow == ("Sister Jo",)


def test_places_that_are_not_names_are_refused(make_study):
    path = make_study(extra="disclosure:\n  places: {Rowan: ward}\n")
    with pytest.raises(StudyError) as err:
        load_study(path)
    assert str(err.value).startswith(f"{path}, key 'disclosure.places': should be a list of names")


def test_transcript_linked_from_outside_the_study_folder_is_refused_unless_allowed(make_study, tmp_path_factory):
    path = make_study()
    outside = tmp_path_factory.mktemp("elsewhere") / "FG02.txt"
    outside.write_text("Facilitator: Tell me about the mask.\nCath: I was terrified of it.\n", encoding="utf-8")
    (path.parent / "FG02.txt").unlink()
    (path.parent / "FG02.txt").symlink_to(outside)
    with pytest.raises(StudyError) as err:
        load_study(path)
    message = str(err.value)
    assert message.startswith(f"{path}, key 'focus_groups[1].transcript': 'FG02.txt' is a link to {outside}")
    assert "allow_paths_outside_study: true" in message and message.count(". ") == 0
    path.write_text(path.read_text() + "allow_paths_outside_study: true\n")
    assert load_study(path).focus_groups[1].transcript.resolve() == outside


@pytest.mark.parametrize("speakers, key, words", [
    ("{Cath: patient, Dora: 3}", "focus_groups[1].speakers.Dora", "the type 3 is a int"),
    ("{Cath: patient, Dora: true}", "focus_groups[1].speakers.Dora", "the type True is a bool"),
    ("{Cath: patient, Dora: }", "focus_groups[1].speakers.Dora", "has no type while other speakers"),
    ("{Cath: patient, 3: carer}", "focus_groups[1].speakers", "reads as 3 (int)"),
    ("[Cath, yes]", "focus_groups[1].speakers", "reads as True (bool)"),
])
def test_speaker_labels_and_types_yaml_reads_as_other_things_are_refused(make_study, speakers, key, words):
    path = make_study()
    path.write_text(path.read_text().replace("speakers: [Cath]", f"speakers: {speakers}"))
    with pytest.raises(StudyError) as err:
        load_study(path)
    message = str(err.value)
    assert message.startswith(f"{path}, key '{key}': ") and words in message and message.count(". ") == 0


def test_speakers_without_any_type_are_fine(make_study):
    path = make_study()
    path.write_text(path.read_text().replace("speakers: [Cath]", "speakers: {Cath: , Dora: }"))
    assert load_study(path).focus_groups[1].speaker_types == {"Cath": "", "Dora": ""}


def test_participant_group_with_no_participant_talk_stops_the_run(make_study):
    from helpers.transcripts import ingest_study

    path = make_study(transcripts={
        "FG01.txt": "Facilitator: Hi.\nAnna: Taking time to explain the machine.\n",
        "FG02.txt": "Facilitator: Hello? Anyone?\nCath: Yeah.\nFacilitator: Anything at all?\nCath: Mm.\n",
        "FG03.txt": "Facilitator: Hi.\nDev: From my educator on placement.\n"})
    with pytest.raises(StudyError) as err:
        ingest_study(load_study(path))
    message = str(err.value)
    assert message.startswith(f"{path}, key 'participant_groups[1]': group 'patients' has no participant talk")
    assert "FG02" in message and "Yeah" in message and message.count(". ") == 0


# --------------------------------------------------------------------------- unclear messages and tracebacks (issue 23)

@pytest.mark.parametrize("old, new, key", [
    ("focus_groups:", "focus_groups: []\nfocus_groups:", "focus_groups"),
    ("transcript: FG02.txt,", "transcript: FG02.txt,\n     transcript: FG03.txt,", "transcript"),
])
def test_a_key_given_twice_is_refused_naming_the_line(make_study, old, new, key):
    path = make_study()
    path.write_text(path.read_text().replace(old, new))
    first = next(number for number, line in enumerate(path.read_text().splitlines(), start=1) if old in line)
    with pytest.raises(StudyError) as err:
        load_study(path)
    assert str(err.value).startswith(f"{path}, line {first + 1}: '{key}:' is given twice in the same block (first "
                                     f"on line {first}), and YAML would silently keep only the second")


def test_study_file_in_windows_1252_names_the_line(make_study):
    path = make_study()
    path.write_bytes(path.read_text().replace("title: Tiny study", "title: Tiny study – café").encode("cp1252"))
    with pytest.raises(StudyError) as err:
        load_study(path)
    assert str(err.value).startswith(f"{path}, line 2: the study file is not UTF-8 (byte 0x96")
    assert "save it as UTF-8" in str(err.value)
    assert main(["check", str(path)]) == 1


#: The environment for a make started by a test: not the one `make test` passes down.
MAKE_ENV = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}


def test_deleted_input_changes_its_stage_key_instead_of_failing(make_study):
    """A transcript (or snapshot) deleted after study.yml named it gives its stage a new
    key (that stage reruns and says what is missing), not a traceback in the session."""
    from helpers import runs

    study = load_study(make_study())
    before = runs.stage_keys(study, runs.resolve_settings(study))["01_ingest_transcripts"]["inputs"]
    (study.path.parent / "FG02.txt").unlink()
    after = runs.stage_keys(study, runs.resolve_settings(study))["01_ingest_transcripts"]["inputs"]
    [name] = [k for k in before if k.endswith("FG02.txt")]
    assert len(before[name]) == 64 and after[name] == "missing"


def test_make_refuses_a_study_path_with_a_space_saying_so(tmp_path):
    import shutil
    import subprocess

    folder = tmp_path / "my study"
    folder.mkdir()
    (folder / "study.yml").write_text("name: spaced\n", encoding="utf-8")
    done = subprocess.run([shutil.which("make"), "-n", "-C", str(ROOT), "all", f"STUDY={folder / 'study.yml'}"],
                          capture_output=True, text=True, env=MAKE_ENV)
    assert done.returncode != 0
    assert "Make splits paths at spaces" in done.stderr and "'name:'" not in done.stderr
