"""Tests of the REFI-QDA export (helpers.qda_export, qda_codebook, qda_layout) and of human
coding read back in (helpers.human_codes, helpers.agreement).

The synthetic study below (two focus groups, nine turns, eleven segments, two integrated
themes of two group themes each plus one group theme left out) carries curly quotes, em
dashes and emoji outside the Basic Multilingual Plane *before* coded spans, so any
position counted in bytes or UTF-16 units instead of code points shows up as a wrong
slice. The hand-coded fixtures in fixtures/refi/ are made by fixtures/refi/make_fixtures.py
from this same study; expected metrics are worked out by hand in the comments.
"""

from __future__ import annotations

import importlib.util
import random
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from helpers.agreement import compare_with_themes, disagreements
from helpers.human_codes import map_codes_to_segments, read_human_codes_csv, read_human_codes_qdpx
from helpers.qda_codebook import export_codebook
from helpers.qda_export import ExportIdentity, ExportTables, export_qdpx, project_code_tree
from helpers.qda_layout import plain_text_layout

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "refi"
SHARED_SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "refi-qda"
P = "{urn:QDA-XML:project:1.0}"
C = "{urn:QDA-XML:codebook:1.0}"

# --------------------------------------------------------------------------------------
# the synthetic study
# --------------------------------------------------------------------------------------

STUDY_NAME = "refi-test"
STUDY_TITLE = "REFI test study (synthetic)"
GROUP_LABELS = {"radiographers": "Therapeutic radiographers",
                "patients_carers": "Patients and carers"}

TURNS = [
    # focus_group, participant_group, speaker, role, speaker_type, text
    ("FG01", "radiographers", "Facilitator", "facilitator", "",
     "What does compassion look like on a busy treatment day?"),
    ("FG01", "radiographers", "Gwen", "participant", "radiographer",
     "It’s the small things — learning someone’s name 😊 before they’re on the couch. "
     "You explain each step. You check they’re warm enough."),
    ("FG01", "radiographers", "Lewis", "participant", "radiographer",
     "Honestly the machines run late and that’s when it slips. We rush “positioning” and "
     "forget the person. Then we apologise 🙏 and try again."),
    ("FG01", "radiographers", "Facilitator", "facilitator", "", "And the team — does it help?"),
    ("FG01", "radiographers", "Gwen", "participant", "radiographer",
     "The team carries you. When we debrief, the pressure eases."),
    ("FG02", "patients_carers", "Moderator", "facilitator", "",
     "Tell me about your first appointment."),
    ("FG02", "patients_carers", "Brenda", "participant", "patient",
     "They called me by my name 💛 and held my hand. I felt like a person, not a number."),
    ("FG02", "patients_carers", "Alan", "participant", "carer",
     "Waiting was the worst — nobody said why the machine was down. A quick word would have helped."),
    ("FG02", "patients_carers", "Brenda", "participant", "patient",
     "The “tattoo” talk scared me 😬 at first."),
]
SOURCES = {"FG01": "transcripts/FG01_radiographers.vtt", "FG02": "transcripts/FG02_patients_carers.txt"}

SEGMENTS = [
    # focus_group, turn, k, sentence(s) (a substring of the turn text), group theme, integrated
    ("FG01", 2, 1, "It’s the small things — learning someone’s name 😊 before they’re on the couch.",
     "radiographers:T01", "I01"),
    ("FG01", 2, 2, "You explain each step. You check they’re warm enough.", "radiographers:T01", "I01"),
    ("FG01", 3, 1, "Honestly the machines run late and that’s when it slips.", "radiographers:T02", "I02"),
    ("FG01", 3, 2, "We rush “positioning” and forget the person.", "radiographers:T01", "I01"),
    ("FG01", 3, 3, "Then we apologise 🙏 and try again.", "radiographers:T02", "I02"),
    ("FG01", 5, 1, "The team carries you. When we debrief, the pressure eases.", "radiographers:T03", ""),
    ("FG02", 2, 1, "They called me by my name 💛 and held my hand.", "patients_carers:T01", "I01"),
    ("FG02", 2, 2, "I felt like a person, not a number.", "patients_carers:T01", "I01"),
    ("FG02", 3, 1, "Waiting was the worst — nobody said why the machine was down.", "patients_carers:T02", "I02"),
    ("FG02", 3, 2, "A quick word would have helped.", "patients_carers:T02", "I02"),
    ("FG02", 4, 1, "The “tattoo” talk scared me 😬 at first.", "patients_carers:T02", "I02"),
]


def synthetic_inputs() -> dict:
    """The keyword arguments of export_qdpx for the synthetic study (without ``path``)."""
    rows, turn_no = [], {}
    for fg, pg, speaker, role, stype, text in TURNS:
        turn_no[fg] = turn_no.get(fg, 0) + 1
        rows.append({"focus_group": fg, "participant_group": pg, "speaker": speaker, "role": role,
                     "speaker_type": stype, "turn": turn_no[fg], "line": 2 * turn_no[fg],
                     "start_s": float("nan"), "text": text, "source": SOURCES[fg],
                     "format": "webvtt" if fg == "FG01" else "plain"})
    utterances = pd.DataFrame(rows)
    text_of = {(r["focus_group"], r["turn"]): r for r in rows}
    segs, themes = [], []
    for fg, turn, k, sentence, gt, it in SEGMENTS:
        row = text_of[(fg, turn)]
        start = row["text"].index(sentence)
        sid = f"{fg}-t{turn:03d}-s{k}"
        segs.append({"segment_id": sid, "focus_group": fg, "participant_group": row["participant_group"],
                     "speaker": row["speaker"], "turn": turn, "char_start": start,
                     "char_end": start + len(sentence), "n_words": len(sentence.split()),
                     "text": sentence})
        themes.append({"segment_id": sid, "participant_group": row["participant_group"],
                       "group_theme": gt, "integrated_theme": it})
    group_themes = pd.DataFrame([
        ("radiographers", "radiographers:T01", "Knowing the person", "name; explain; warm", 3),
        ("radiographers", "radiographers:T02", "Time pressure", "late; rush; apologise", 2),
        ("radiographers", "radiographers:T03", "Team support", "team; debrief", 1),
        ("patients_carers", "patients_carers:T01", "Being seen as a person", "name; hand; person", 2),
        ("patients_carers", "patients_carers:T02", "Being kept informed", "waiting; word; tattoo", 3),
    ], columns=["participant_group", "theme_id", "label", "keywords", "n_segments"])
    group_themes["quote_1"] = "“…” (Gwen, FG01)"
    integrated = pd.DataFrame([
        ("I01", "Seeing the person", "Being known by name & treated as a person.", "agreed",
         "radiographers:T01; patients_carers:T01", 5),
        ("I02", "Time and information", "Pressure of time <and> keeping people informed.", "proposed",
         "radiographers:T02;patients_carers:T02", 5),
    ], columns=["theme_id", "label", "description", "status", "source_themes", "n_segments"])
    audit = pd.DataFrame([
        (1, 1, "merge", "radiographers:T01; patients_carers:T01", "I01",
         "Both groups describe being known by name."),
        (1, 2, "drop", "radiographers:T03", "", "Team support is about staff, not patients."),
        (2, 1, "confirm", "", "", "The lay partners approved the whole map."),
    ], columns=["workshop", "index", "action", "inputs", "outputs", "rationale"])
    return {"study_name": STUDY_NAME, "study_title": STUDY_TITLE, "utterances": utterances,
            "segments": pd.DataFrame(segs), "segment_themes": pd.DataFrame(themes),
            "group_themes": group_themes, "integrated_themes": integrated, "audit": audit,
            "group_labels": GROUP_LABELS}


def split(inputs: dict, **identity) -> tuple[ExportTables, ExportIdentity]:
    """The synthetic study as the export's two arguments (identity fields overridable)."""
    tables = ExportTables(inputs["utterances"], inputs["segments"], inputs["segment_themes"], inputs["group_themes"],
                          inputs["integrated_themes"], inputs["audit"], inputs.get("assignments"))
    fields = {"study_name": inputs["study_name"], "study_title": inputs["study_title"],
              "group_labels": inputs["group_labels"], **identity}
    return tables, ExportIdentity(**fields)


@pytest.fixture()
def inputs():
    return synthetic_inputs()


@pytest.fixture()
def exported(tmp_path, inputs):
    return export_qdpx(tmp_path / "export" / "study.qdpx", *split(inputs))


# The code tree's names: a readable label, then the theme id in brackets.
I01, I02 = "Seeing the person (I01)", "Time and information (I02)"
R1, R2, R3 = ("Knowing the person (Therapeutic radiographers T01)", "Time pressure (Therapeutic radiographers T02)",
              "Team support (Therapeutic radiographers T03)")
P1, P2 = "Being seen as a person (Patients and carers T01)", "Being kept informed (Patients and carers T02)"
CASES = ["Alan (FG02)", "Brenda (FG02)", "Gwen (FG01)", "Lewis (FG01)"]


def _schema(name: str) -> etree.XMLSchema:
    for folder in (FIXTURES / "schemas", SHARED_SCHEMAS):
        if (folder / name).exists():
            return etree.XMLSchema(etree.parse(str(folder / name)))
    pytest.fail(f"{name} not found in {FIXTURES / 'schemas'} or {SHARED_SCHEMAS}")


def _project(path: Path):
    with zipfile.ZipFile(path) as zf:
        return etree.fromstring(zf.read("project.qde"))


def _source_texts(path: Path, root) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return {src.get("name"): zf.read("sources/" + src.get("plainTextPath")[len("internal://"):])
                .decode("utf-8") for src in root.iter(P + "TextSource")}


def _span(inputs, segment_id: str) -> str:
    seg = inputs["segments"].set_index("segment_id").loc[segment_id]
    utt = inputs["utterances"].set_index(["focus_group", "turn"]).loc[(seg["focus_group"], seg["turn"])]
    return utt["text"][seg["char_start"]:seg["char_end"]]


def _load_make_fixtures():
    spec = importlib.util.spec_from_file_location("refi_make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------------------
# layout and export
# --------------------------------------------------------------------------------------

def test_plain_text_layout_is_one_speaker_line_per_turn(inputs):
    texts, offsets = plain_text_layout(inputs["utterances"])
    assert sorted(texts) == ["FG01", "FG02"]
    lines = texts["FG01"].split("\n")
    assert lines[0] == "Facilitator: What does compassion look like on a busy treatment day?"
    assert lines[3] == "Facilitator: And the team — does it help?"
    assert texts["FG01"].endswith("pressure eases.\n") and len(lines) == 6
    for row in inputs["utterances"].itertuples():
        start = offsets[(row.focus_group, row.turn)]
        assert texts[row.focus_group][start:start + len(row.text)] == row.text
        assert texts[row.focus_group][:start].endswith(f"{row.speaker}: ")
    # The independent re-implementation in make_fixtures.py agrees.
    assert _load_make_fixtures().layout(inputs["utterances"]) == texts


def test_export_validates_against_project_xsd(exported):
    schema = _schema("Project.xsd")
    root = _project(exported)
    assert schema.validate(etree.ElementTree(root)), schema.error_log
    with zipfile.ZipFile(exported) as zf:
        names = zf.namelist()
    assert names[0] == "project.qde" and names[1:] == sorted(names[1:])
    assert all(n.startswith("sources/") and n.endswith(".txt") for n in names[1:])
    # 2 transcripts + 3 workshop notes, every internal path present in the zip
    paths = [el.get("plainTextPath") for el in root.iter(P + "TextSource", P + "Note")]
    assert sorted("sources/" + p[len("internal://"):] for p in paths) == names[1:]
    assert len(names) == 6


def _tree(el, ns):
    return [(c.get("guid"), c.get("name"), c.get("isCodable"), c.get("color"),
             c.findtext(ns + "Description"), _tree(c, ns)) for c in el.findall(ns + "Code")]


def test_codebook_validates_and_has_the_project_code_tree(tmp_path, inputs, exported):
    tree, _ = project_code_tree(*split(inputs))
    path = export_codebook(tmp_path / "codebook.qdc", tree, STUDY_NAME)
    schema = _schema("Codebook.xsd")
    doc = etree.parse(str(path))
    assert schema.validate(doc), schema.error_log

    codebook_tree = _tree(doc.getroot().find(C + "Codes"), C)
    case_guids = {case.get("guid") for case in _project(exported).iter(P + "Case")}
    project_tree = [c for c in _tree(_project(exported).find(f"{P}CodeBook/{P}Codes"), P) if c[0] not in case_guids]
    assert codebook_tree == project_tree
    names = [(name, [child[1] for child in children]) for _, name, *_, children in codebook_tree]
    assert names == [(I01, [R1, P1]), (I02, [R2, P2]), ("Not integrated", [R3])]
    i01 = codebook_tree[0]
    assert i01[2] == "true" and codebook_tree[2][2] == "false"
    assert i01[4].startswith("Being known by name & treated as a person. Status: agreed. Made of the group themes")
    child = i01[5][0]
    assert child[3] == "#E69F00" and i01[5][1][3] == "#56B4E9"       # colour per group
    assert child[4].startswith("Knowing the person. Theme T01 of Therapeutic radiographers (radiographers:T01). "
                               "Keywords: name; explain; warm. 3 segments.")
    sets = doc.getroot().findall(f"{C}Sets/{C}Set")
    assert [s.get("name") for s in sets] == list(GROUP_LABELS.values())
    assert len(sets[0].findall(C + "MemberCode")) == 3


def test_code_names_read_well_and_colours_tell_themes_apart(inputs, exported):
    codes = [c for c in _project(exported).iter(P + "Code")]
    names = [c.get("name") for c in codes]
    assert len(names) == len(set(names))                             # QualCoder and Taguette drop repeats
    assert not any(" / " in n or ":" in n for n in names)
    parents = [c for c in _project(exported).find(f"{P}CodeBook/{P}Codes") if c.get("name") in (I01, I02)]
    colours = {c.get("color") for c in parents}
    assert len(colours) == 2 and not colours & {"#E69F00", "#56B4E9"}   # one each, not a group's colour


def test_a_group_theme_under_two_integrated_themes_keeps_every_name_unique(inputs, tmp_path):
    integrated = inputs["integrated_themes"].copy()
    integrated.loc[1, "source_themes"] = "radiographers:T02; patients_carers:T02; radiographers:T01"
    root = _project(export_qdpx(tmp_path / "twice.qdpx", *split({**inputs, "integrated_themes": integrated})))
    names = [c.get("name") for c in root.iter(P + "Code")]
    assert names.count(R1) == 1 and f"{R1} [2]" in names


def test_selections_index_segment_spans_in_code_points(inputs, exported):
    root = _project(exported)
    texts = _source_texts(exported, root)
    assert texts == plain_text_layout(inputs["utterances"])[0]
    selections = {sel.get("name"): (src.get("name"), int(sel.get("startPosition")),
                                    int(sel.get("endPosition")))
                  for src in root.iter(P + "TextSource") for sel in src.iter(P + "PlainTextSelection")
                  if "turn" not in sel.get("name")}
    assert sorted(selections) == sorted(inputs["segments"]["segment_id"])
    for sid, (fg, start, end) in selections.items():
        assert texts[fg][start:end] == _span(inputs, sid)
    # The test bites: emoji before these spans make UTF-16 (and UTF-8) offsets differ.
    fg, start, _ = selections["FG01-t003-s3"]
    before = texts[fg][:start]
    assert len(before.encode("utf-16-le")) // 2 == start + 1       # 😊 is two UTF-16 units
    assert len(before.encode("utf-8")) > start + 10                  # ’ — “ ” 😊 are multi-byte
    assert texts[fg][start:].startswith("Then we apologise 🙏")


def test_round_trip_with_pyrefiqda(tmp_path, inputs, exported):
    pyrefiqda = pytest.importorskip("pyrefiqda")
    extract = tmp_path / "extracted"
    project = pyrefiqda.RefiProject.load(exported, extract_dir=str(extract))
    assert project.name == STUDY_NAME
    assert [u.name for u in project.users.user] == ["compendium pipeline"]
    codes = {}

    def walk(items, parent):
        for code in items:
            codes[code.guid] = (code.name, parent)
            walk(code.code, code.name)

    walk(project.code_book.codes.code, None)
    cases = {case.guid: case for case in project.cases.case}
    assert sorted((name, parent) for guid, (name, parent) in codes.items() if guid not in cases) == sorted([
        (I01, None), (I02, None), ("Not integrated", None), (R1, I01), (P1, I01), (R2, I02), (P2, I02),
        (R3, "Not integrated")])
    themes = inputs["segment_themes"].set_index("segment_id")
    seen = set()
    for source in project.sources.text_source:
        text = pyrefiqda.RefiProject.resolve_source_path(source.plain_text_path, extract).read_text(encoding="utf-8")
        for sel in source.plain_text_selection:
            coded = [codes[c.code_ref.target_guid] for c in sel.coding]
            if sel.coding[0].code_ref.target_guid in cases:
                continue                                           # a turn held by its case
            assert text[sel.start_position:sel.end_position] == _span(inputs, sel.name)
            integrated = themes.loc[sel.name, "integrated_theme"]
            assert coded[0][1] == (coded[1][0] if integrated else "Not integrated")
            assert len(coded) == (2 if integrated else 1)
            seen.add(sel.name)
    assert seen == set(inputs["segments"]["segment_id"])
    variables = {v.guid: v.name for v in project.variables.variable}
    brenda = next(c for c in cases.values() if c.name == "Brenda (FG02)")
    values = {variables[v.variable_ref.target_guid]: v.text_value for v in brenda.variable_value}
    assert values == {"participant_group": "patients_carers", "role": "participant", "focus_group": "FG02",
                      "speaker_type": "patient"}
    assert len(brenda.selection_ref) == 2 and len(brenda.source_ref) == 1
    notes = project.notes.note
    assert [n.description for n in notes][0] == \
        "workshop 1, decision 1: merge — Both groups describe being known by name."
    for note in notes:
        local = pyrefiqda.RefiProject.resolve_source_path(note.plain_text_path, extract)
        assert local.read_text(encoding="utf-8") == note.description


def test_cases_carry_their_turns_the_way_qualcoder_reads_them(inputs, exported):
    """QualCoder links text to a case through codings of a code sharing the case's GUID."""
    root = _project(exported)
    texts = _source_texts(exported, root)
    code_guids = {c.get("guid") for c in root.iter(P + "Code")}
    coded = {}
    for src in root.iter(P + "TextSource"):
        for sel in src.iter(P + "PlainTextSelection"):
            for ref in sel.iter(P + "CodeRef"):
                coded.setdefault(ref.get("targetGUID"), []).append(
                    (sel.get("guid"), texts[src.get("name")][int(sel.get("startPosition")):int(sel.get("endPosition"))]))
    cases = {case.get("name"): case for case in root.iter(P + "Case")}
    assert sorted(cases) == CASES
    for name, case in cases.items():
        assert case.get("guid") in code_guids
        assert [r.get("targetGUID") for r in case.findall(P + "CodeRef")] == [case.get("guid")]
        held = coded[case.get("guid")]
        assert [r.get("targetGUID") for r in case.findall(P + "SelectionRef")] == [g for g, _ in held]
        speaker, fg = name[:-7], name[-5:-1]
        turns = inputs["utterances"].query("speaker == @speaker and focus_group == @fg")["text"].tolist()
        assert [text for _, text in held] == turns


def test_no_code_holds_a_note_and_decisions_are_in_the_descriptions(exported):
    """A Code-level NoteRef makes QualCoder 3.8.2 import nameless codes."""
    root = _project(exported)
    assert not [code for code in root.iter(P + "Code") if code.find(P + "NoteRef") is not None]
    for code in root.iter(P + "Code"):
        assert set(child.tag for child in code) <= {P + "Description", P + "Code"}
    described = {code.get("name"): code.findtext(P + "Description") for code in root.iter(P + "Code")}
    merge = "Workshop 1, decision 1 (merge): Both groups describe being known by name."
    assert all(merge in described[n] for n in (I01, R1, P1)) and merge not in described[I02]
    assert "Workshop 1, decision 2 (drop): Team support is about staff" in described[R3]
    notes = [n.get("guid") for n in root.iter(P + "Note")]
    assert [r.get("targetGUID") for r in root.findall(P + "NoteRef")] == notes and len(notes) == 3


def test_uncertain_segments_and_secondary_themes_are_coded(inputs, tmp_path):
    assignments = pd.DataFrame({"segment_id": inputs["segments"]["segment_id"], "uncertain": False,
                                "secondary_theme_id": ""})
    assignments.loc[assignments["segment_id"] == "FG01-t003-s1", "uncertain"] = True
    assignments.loc[assignments["segment_id"] == "FG01-t003-s2", "secondary_theme_id"] = "radiographers:T02"
    path = export_qdpx(tmp_path / "extra.qdpx", *split({**inputs, "assignments": assignments}))
    root = _project(path)
    assert _schema("Project.xsd").validate(etree.ElementTree(root))
    name_of = {c.get("guid"): c.get("name") for c in root.iter(P + "Code")}
    codes_of = {}
    for sel in root.iter(P + "PlainTextSelection"):
        codes_of[sel.get("name")] = ([name_of[r.get("targetGUID")] for r in sel.iter(P + "CodeRef")],
                                     sel.findtext(P + "Description"))
    assert codes_of["FG01-t003-s1"][0] == [R2, I02, "Uncertain place in theme"]
    assert codes_of["FG01-t003-s2"] == ([R1, I01], None)
    assert codes_of["FG01-t003-s2 secondary"] == (
        [R2], "Secondary theme of segment FG01-t003-s2; its main theme is radiographers:T01.")
    assert sum("Uncertain place in theme" in codes for codes, _ in codes_of.values()) == 1
    # today's theme_assignments (no secondary_theme_id column) export too, without the code when no place is uncertain
    plain = export_qdpx(tmp_path / "plain.qdpx", *split({**inputs, "assignments": assignments[["segment_id", "uncertain"]]
                                                             .assign(uncertain=False)}))
    assert "Uncertain place in theme" not in {c.get("name") for c in _project(plain).iter(P + "Code")}


def test_export_is_dated_and_signed_by_the_run(inputs, tmp_path):
    path = export_qdpx(tmp_path / "dated.qdpx", *split(inputs, created="2026-04-15T00:00:00Z",
                                                       user_name="refi-test pipeline, seed 7"))
    root = _project(path)
    dates = {el.get("creationDateTime") for el in root.iter() if el.get("creationDateTime")}
    assert dates == {"2026-04-15T00:00:00Z"}
    assert [u.get("name") for u in root.iter(P + "User")] == ["refi-test pipeline, seed 7"]
    # QualCoder cannot import a source without a date: an undated study gets the marker date
    undated = _project(export_qdpx(tmp_path / "undated.qdpx", *split(inputs)))
    assert undated.find(f"{P}Sources/{P}TextSource").get("creationDateTime") == "2000-01-01T00:00:00Z"


def test_export_date_is_the_latest_workshop_else_focus_group_date(tmp_path):
    from helpers.qda_export import export_date
    from helpers.study import Disclosure, FocusGroup, Study

    (tmp_path / "w1.yml").write_text("workshop: 1\ndate: 2026-03-04\n", encoding="utf-8")
    (tmp_path / "w2.yml").write_text("workshop: 2\ndate: 2026-04-15\n", encoding="utf-8")
    fgs = (FocusGroup("FG01", "a", tmp_path / "x.txt", (), {}, "2025-11-02"),)

    def study(workshops):
        return Study(tmp_path / "study.yml", "s", "t", (), fgs, workshops, Disclosure())

    assert export_date(study((tmp_path / "w2.yml", tmp_path / "w1.yml"))) == "2026-04-15T00:00:00Z"
    assert export_date(study(())) == "2025-11-02T00:00:00Z"
    (tmp_path / "bad.yml").write_text("date: soon\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.yml, key 'date': 'soon' is not a date"):
        export_date(study((tmp_path / "bad.yml",)))


def test_taguette_codebook_lists_every_codable_code(inputs, tmp_path):
    import csv

    from helpers.qda_codebook import export_taguette_codebook

    tree, _ = project_code_tree(*split(inputs))
    path = export_taguette_codebook(tmp_path / "codebook.csv", tree)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["tag", "description"]
    assert [r[0] for r in rows[1:]] == [I01, R1, P1, I02, R2, P2, R3]
    assert rows[2][1].startswith(f"Under '{I01}'. Knowing the person.")


def test_export_is_deterministic(tmp_path, inputs):
    first = export_qdpx(tmp_path / "a.qdpx", *split(inputs))
    second = export_qdpx(tmp_path / "b.qdpx", *split(inputs))
    assert first.read_bytes() == second.read_bytes()
    shuffled = dict(inputs)
    rng = random.Random(7)
    for key in ("utterances", "segments", "segment_themes", "group_themes", "integrated_themes"):
        frame = inputs[key]
        shuffled[key] = frame.iloc[rng.sample(range(len(frame)), len(frame))].reset_index(drop=True)
    third = export_qdpx(tmp_path / "c.qdpx", *split(shuffled))
    assert third.read_bytes() == first.read_bytes()
    other = export_qdpx(tmp_path / "d.qdpx", *split({**inputs, "study_name": "another-study"}))
    assert _project(other).find(f"{P}Users/{P}User").get("guid") != \
        _project(first).find(f"{P}Users/{P}User").get("guid")
    assert not list(tmp_path.glob(".*.part"))                      # nothing half-written left


def test_bad_segment_offsets_stop_the_export(tmp_path, inputs):
    segments = inputs["segments"].copy()
    segments.loc[0, "char_end"] = 10_000
    with pytest.raises(ValueError, match=r"FG01-t002-s1 .*rebuild segments"):
        export_qdpx(tmp_path / "bad.qdpx", *split({**inputs, "segments": segments}))
    assert not (tmp_path / "bad.qdpx").exists()


# --------------------------------------------------------------------------------------
# human coding back in: the hand-coded fixtures
# --------------------------------------------------------------------------------------

def test_fixtures_are_up_to_date_and_schemas_are_the_shared_ones(tmp_path):
    made = _load_make_fixtures().build(tmp_path)
    for path in made:
        assert path.read_bytes() == (FIXTURES / path.name).read_bytes(), \
            f"{path.name} is stale; run python tests/fixtures/refi/make_fixtures.py"
    for name in ("Project.xsd", "Codebook.xsd"):
        assert (FIXTURES / "schemas" / name).exists()
        if (SHARED_SCHEMAS / name).exists():
            assert (FIXTURES / "schemas" / name).read_bytes() == (SHARED_SCHEMAS / name).read_bytes()


def test_hand_coded_qdpx_is_valid_and_reads_back():
    path = FIXTURES / "human_coded.qdpx"
    schema = _schema("Project.xsd")
    assert schema.validate(etree.ElementTree(_project(path))), schema.error_log
    human = read_human_codes_qdpx(path)
    assert list(human.columns) == ["source_name", "start", "end", "code", "coder", "text"]
    assert list(zip(human["source_name"], human["code"], human["coder"], human["text"])) == [
        ("FG01", "Compassion/Knowing me", "coder_a", TURNS[1][5]),
        ("FG01", "Compassion/Delays", "coder_a",
         "Honestly the machines run late and that’s when it slips. We rush"),
        ("FG01", "Compassion/Knowing me", "coder_b", "We rush “positioning” and forget the person."),
        ("FG01", "Compassion/Delays", "coder_b", "We rush “positioning” and forget the person."),
        ("FG02_patients_carers.txt", "Compassion/Knowing me", "coder_a",
         "They called me by my name 💛 and held my hand. I felt like a person"),
        ("FG02_patients_carers.txt", "Compassion/Delays", "coder_a",
         "Waiting was the worst — nobody said why the machine was down."),
        ("FG02_patients_carers.txt", "Feeling scared", "coder_a", "The “tattoo” talk scared me 😬"),
    ]   # the annotation without a Coding is skipped; the BOM QualCoder writes is not counted


# Hand-worked expectations for the .qdpx fixture. KM = Compassion/Knowing me,
# D = Compassion/Delays, FS = Feeling scared. "We rush" covers 7 of the 45 code points of
# FG01-t003-s2 (< half: no code); "I felt like a person" covers 20 of 35 of FG02-t002-s2.
QDPX_MAPPED = [
    ("FG01-t002-s1", "Compassion/Knowing me"),
    ("FG01-t002-s2", "Compassion/Knowing me"),
    ("FG01-t003-s1", "Compassion/Delays"),
    ("FG01-t003-s2", "Compassion/Knowing me"),
    ("FG01-t003-s2", "Compassion/Delays"),
    ("FG02-t002-s1", "Compassion/Knowing me"),
    ("FG02-t002-s2", "Compassion/Knowing me"),
    ("FG02-t003-s1", "Compassion/Delays"),
    ("FG02-t004-s1", "Feeling scared"),
]


@pytest.fixture()
def qdpx_mapped(inputs):
    human = read_human_codes_qdpx(FIXTURES / "human_coded.qdpx")
    return map_codes_to_segments(human, inputs["segments"], inputs["utterances"])


def test_qdpx_codes_map_to_segments_by_half_overlap(qdpx_mapped):
    assert list(qdpx_mapped.itertuples(index=False, name=None)) == QDPX_MAPPED


def test_qdpx_codes_against_group_themes(inputs, qdpx_mapped):
    per_code, summary = compare_with_themes(qdpx_mapped, inputs["segment_themes"], "group_theme")
    # 8 coded segments. Their group themes: R1 = radiographers:T01 {t002-s1, t002-s2, t003-s2},
    # R2 = {FG01-t003-s1}, P1 = {FG02-t002-s1, s2}, P2 = {FG02-t003-s1, FG02-t004-s1}.
    # KM (5 segs) vs R1: 3 shared -> P 3/3, R 3/5, F1 .75 (vs P1: P 1, R .4, F1 .571)
    # D (3 segs) vs R2: 1 shared -> P 1/1, R 1/3, F1 .5 (vs P2: F1 .4, vs R1: F1 .333)
    # FS (1 seg) vs P2: 1 shared -> P 1/2, R 1, F1 2/3
    expected = [("Compassion/Knowing me", "radiographers:T01", 1.0, 0.6, 0.75, 5, 3),
                ("Compassion/Delays", "radiographers:T02", 1.0, 1 / 3, 0.5, 3, 1),
                ("Feeling scared", "patients_carers:T02", 0.5, 1.0, 2 / 3, 1, 2)]
    assert list(per_code.columns) == ["code", "best_theme", "precision", "recall", "f1",
                                      "n_human", "n_theme"]
    for row, exp in zip(per_code.itertuples(index=False, name=None), expected, strict=True):
        assert row[:2] == exp[:2] and row[5:] == exp[5:]
        assert row[2:5] == pytest.approx(exp[2:5])
    assert summary["n_segments"] == 8 and summary["n_codes"] == 3
    # first codes KM KM D KM KM KM D FS vs themes R1 R1 R2 R1 P1 P1 P2 P2:
    # sum C(n_ij,2) = 3+1 = 4, rows 10+1+0 = 11, cols 3+0+1+1 = 5, C(8,2) = 28
    # ARI = (4 - 55/28) / (8 - 55/28) = 57/169
    assert summary["adjusted_rand"] == pytest.approx(57 / 169)
    # best themes R1, R2, P2 are distinct: kappa over R1 R1 R2 R1 R1 R1 R2 P2 vs the themes
    # R1 R1 R2 R1 P1 P1 P2 P2: po = 5/8; margins R1 5|3, R2 2|1, P1 0|2, P2 1|2,
    # pe = (15 + 2 + 0 + 2)/64 = 19/64 -> kappa = (40 - 19)/(64 - 19) = 7/15
    assert summary["one_to_one"] is True
    assert summary["cohen_kappa"] == pytest.approx(7 / 15)


def test_qdpx_codes_against_integrated_themes(inputs, qdpx_mapped):
    per_code, summary = compare_with_themes(qdpx_mapped, inputs["segment_themes"], "integrated_theme")
    # I01 = {FG01-t002-s1, s2, FG01-t003-s2, FG02-t002-s1, s2}, I02 = {FG01-t003-s1,
    # FG02-t003-s1, FG02-t004-s1}. KM = I01 exactly; D shares 2 of 3 with I02; FS 1 of 3.
    expected = [("Compassion/Knowing me", "I01", 1.0, 1.0, 1.0, 5, 5),
                ("Compassion/Delays", "I02", 2 / 3, 2 / 3, 2 / 3, 3, 3),
                ("Feeling scared", "I02", 1 / 3, 1.0, 0.5, 1, 3)]
    for row, exp in zip(per_code.itertuples(index=False, name=None), expected, strict=True):
        assert row[:2] == exp[:2] and row[5:] == exp[5:]
        assert row[2:5] == pytest.approx(exp[2:5])
    # contingency KM:I01 5, D:I02 2, FS:I02 1 -> index 11, rows 11, cols 10+3 = 13
    # ARI = (11 - 143/28) / (12 - 143/28) = 165/193; D and FS share I02: no kappa
    assert summary["adjusted_rand"] == pytest.approx(165 / 193)
    assert summary["one_to_one"] is False and summary["cohen_kappa"] is None


def test_disagreements_quote_the_segments_that_part_ways(inputs, qdpx_mapped):
    table = disagreements(qdpx_mapped, inputs["segment_themes"], inputs["segments"])
    assert list(table.columns) == ["segment_id", "focus_group", "speaker", "human_codes",
                                   "human_best_theme", "model_theme", "quote"]
    assert list(table["segment_id"]) == ["FG02-t002-s1", "FG02-t002-s2", "FG02-t003-s1"]
    first = table.iloc[0]
    assert (first["speaker"], first["focus_group"]) == ("Brenda", "FG02")
    assert first["human_best_theme"] == "radiographers:T01"
    assert first["model_theme"] == "patients_carers:T01"
    assert first["quote"] == "They called me by my name 💛 and held my hand."
    assert len(disagreements(qdpx_mapped, inputs["segment_themes"], inputs["segments"], n=2)) == 2
    assert disagreements(qdpx_mapped, inputs["segment_themes"], inputs["segments"],
                         level="integrated_theme").empty


def test_csv_codes_by_turn_and_position(inputs):
    human = read_human_codes_csv(FIXTURES / "human_codes.csv")
    assert list(human.columns) == ["source", "start", "end", "turn", "code", "coder"]
    assert list(human["turn"].astype("object").where(human["turn"].notna(), None)) == [3, 5, None]
    texts, _ = plain_text_layout(inputs["utterances"])
    row = human.iloc[2]
    assert texts["FG01"][row["start"]:row["end"]] == "Then we apologise 🙏 and try again."
    mapped = map_codes_to_segments(human, inputs["segments"], inputs["utterances"])
    assert list(mapped.itertuples(index=False, name=None)) == [
        ("FG01-t003-s3", "Compassion/Delays"),     # by position
        ("FG01-t005-s1", "Team"),                  # by turn, source named by transcript file
        ("FG02-t003-s1", "Compassion/Delays"),     # by turn: both segments of the turn
        ("FG02-t003-s2", "Compassion/Delays"),
    ]
    per_code, summary = compare_with_themes(mapped, inputs["segment_themes"])
    # Delays (3 segs) vs patients_carers:T02 (2 of the 4 coded segments): P 1, R 2/3, F1 .8
    # Team (1 seg) vs radiographers:T03 (1): P 1, R 1, F1 1
    assert list(per_code["best_theme"]) == ["patients_carers:T02", "radiographers:T03"]
    assert list(per_code["precision"]) == pytest.approx([1.0, 1.0])
    assert list(per_code["recall"]) == pytest.approx([2 / 3, 1.0])
    assert list(per_code["f1"]) == pytest.approx([0.8, 1.0])
    # first codes D T D D vs R2 R3 P2 P2: ARI = (1 - 3/6) / (2 - 3/6) = 1/3;
    # kappa: P2 R3 P2 P2 vs R2 R3 P2 P2, po = 3/4, pe = (3*2 + 1*1)/16 -> 5/9
    assert summary["adjusted_rand"] == pytest.approx(1 / 3)
    assert summary["cohen_kappa"] == pytest.approx(5 / 9)


def test_half_overlap_is_the_threshold(inputs):
    texts, offsets = plain_text_layout(inputs["utterances"])
    seg = inputs["segments"].set_index("segment_id").loc["FG01-t003-s2"]
    start = offsets[("FG01", 3)] + seg["char_start"]
    length = seg["char_end"] - seg["char_start"]             # 45 code points
    half = -(-length // 2)                                   # 23 >= 22.5, 22 < 22.5
    human = pd.DataFrame({"source": ["FG01", "FG01"], "start": [start, start],
                          "end": [start + half, start + half - 1], "code": ["yes", "no"]})
    mapped = map_codes_to_segments(human, inputs["segments"], inputs["utterances"])
    assert list(mapped.itertuples(index=False, name=None)) == [("FG01-t003-s2", "yes")]


def test_own_export_read_back_as_human_codes_matches_every_theme(inputs, exported):
    human = read_human_codes_qdpx(exported)
    assert set(human["coder"]) == {"compendium pipeline"}
    assert len(human) == 11 + 10 and human["text"].map(bool).all()   # 11 child + 10 parent codings
    mapped = map_codes_to_segments(human, inputs["segments"], inputs["utterances"])
    per_code, summary = compare_with_themes(mapped, inputs["segment_themes"], "group_theme")
    # case codings are the cases' text, not codes: only the theme codes come back
    assert not set(human["code"]) & set(CASES)
    children = per_code[per_code["code"].str.contains("/")]
    assert len(children) == 5
    assert (children["f1"] == 1.0).all()
    tree, _ = project_code_tree(*split(inputs))
    child_of = {theme: codes[0].name for theme, codes in tree.children_of_group.items()}
    assert all(code.split("/")[1] == child_of[best] for code, best in zip(children["code"], children["best_theme"]))
    assert summary["n_segments"] == 11


def test_csv_errors_name_file_line_and_fix(tmp_path, inputs):
    missing = tmp_path / "missing.csv"
    missing.write_text("source,code\nFG01,Care\n", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        read_human_codes_csv(missing)
    message = str(err.value)
    assert "missing.csv, line 1" in message and "start and end, or turn" in message
    assert message.count(".") <= 2 and "\n" not in message
    bad = tmp_path / "bad.csv"
    bad.write_text("Source,Start,End,Code\nFG01,1,5,Care\nFG01,abc,9,Care\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.csv, line 3: start 'abc'"):
        read_human_codes_csv(bad)
    unknown = pd.DataFrame({"source": ["FG99"], "turn": [1], "code": ["x"]})
    with pytest.raises(ValueError, match=r"'FG99', which matches no focus group \(FG01, FG02\)"):
        map_codes_to_segments(unknown, inputs["segments"], inputs["utterances"])


def _tiny_qdpx(path: Path, text: bytes, start: int, end: int, origin: str) -> Path:
    code, source, user = ("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222",
                          "33333333-3333-3333-3333-333333333333")
    xml = (f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" '
           f'name="tiny" origin="{origin}"><Users><User guid="{user}" name="ann"/></Users>'
           f'<CodeBook><Codes><Code guid="{code}" name="word" isCodable="true"/></Codes></CodeBook>'
           f'<Sources><TextSource guid="{source}" name="FG01" plainTextPath="internal://{source}.txt">'
           f'<PlainTextSelection guid="44444444-4444-4444-4444-444444444444" startPosition="{start}" '
           f'endPosition="{end}" creatingUser="{user}"><Coding guid="55555555-5555-5555-5555-555555555555">'
           f'<CodeRef targetGUID="{code.upper()}"/></Coding></PlainTextSelection></TextSource></Sources>'
           f'</Project>')
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", xml)
        zf.writestr(f"Sources/{source}.txt", text)
    return path


def test_crlf_and_utf16_positions_are_converted(tmp_path):
    raw = "Ann: hi 😊 there\r\nBob: the word\r\n"
    lf = raw.replace("\r\n", "\n")
    target = lf.index("word")
    two = raw.index("word")                                       # NVivo: CR and LF both count
    nvivo = read_human_codes_qdpx(_tiny_qdpx(tmp_path / "n.qdpx", raw.encode(), two, two + 4, "NVivo 14"))
    assert (nvivo.at[0, "start"], nvivo.at[0, "text"], nvivo.at[0, "coder"]) == (target, "word", "ann")
    atlas = read_human_codes_qdpx(_tiny_qdpx(tmp_path / "a.qdpx", raw.encode("utf-8-sig"), target,
                                             target + 4, "ATLAS.ti 23"))
    assert (atlas.at[0, "start"], atlas.at[0, "text"]) == (target, "word")
    units = len(lf[:target].encode("utf-16-le")) // 2             # 😊 is two UTF-16 units
    assert units == target + 1
    qt = read_human_codes_qdpx(_tiny_qdpx(tmp_path / "q.qdpx", lf.encode(), units, units + 4, "Qt app"),
                               positions="utf16")
    assert (qt.at[0, "start"], qt.at[0, "end"], qt.at[0, "text"]) == (target, target + 4, "word")


def test_not_a_project_is_one_clear_sentence(tmp_path):
    junk = tmp_path / "junk.qdpx"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"junk\.qdpx is not a REFI-QDA project .*export the project"):
        read_human_codes_qdpx(junk)
    empty = tmp_path / "empty.qdpx"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "x")
    with pytest.raises(ValueError, match=r"holds no \.qde project file"):
        read_human_codes_qdpx(empty)


# --------------------------------------------------------------------------- the notebook's two steps

def _study_for(inputs, root, refuse=True, allow=()):
    from helpers.study import Disclosure, FocusGroup, ParticipantGroup, Study

    groups = tuple(ParticipantGroup(g, label) for g, label in inputs["group_labels"].items())
    fgs = tuple(FocusGroup(fg, pg, root / f"{fg}.txt", ("Facilitator",), {}, None)
                for fg, pg in inputs["utterances"][["focus_group", "participant_group"]].drop_duplicates().values)
    return Study(path=root / "study.yml", name=inputs["study_name"], title=inputs["study_title"],
                 participant_groups=groups, focus_groups=fgs, workshops=(),
                 disclosure=Disclosure(allow=tuple(allow), refuse_exports_with_disclosures=refuse))


def _write(tmp_path, study, inputs, disclosures):
    from helpers.qda_export import write_exports

    return write_exports(tmp_path, study, split(inputs)[0], disclosures, seed=20200)


def test_write_exports_refuses_and_clears_while_disclosures_are_unresolved(tmp_path, inputs):
    disclosures = pd.DataFrame([{"focus_group": "FG01", "turn": 2, "line": 4, "speaker": "Gwen",
                                 "kind": "personal name", "match": "Maureen", "context": "…", "status": "unresolved"}])
    study = _study_for(inputs, tmp_path)
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "old.qdpx").write_bytes(b"stale")
    status = _write(tmp_path, study, inputs, disclosures)
    assert status.startswith("No export written: 1 possible identifying detail")
    assert not any((tmp_path / "export").iterdir())
    assert (tmp_path / "export_status.txt").read_text().strip() == status


def test_write_exports_uses_the_figures_colours_and_names_the_run(tmp_path, inputs):
    from helpers.study import group_palette

    study = _study_for(inputs, tmp_path)
    status = _write(tmp_path, study, inputs, pd.DataFrame(columns=["status"]))
    assert status.startswith(f"Exported {inputs['study_name']}.qdpx, codebook.qdc and codebook.csv (Taguette).")
    qdc = etree.parse(str(tmp_path / "export" / "codebook.qdc"))
    group_codes = [c for c in qdc.iter(C + "Code") if c.getparent().get("name") in (I01, I02, "Not integrated")]
    assert {c.get("color") for c in group_codes} == set(group_palette(study.group_ids).values())
    project = _project(tmp_path / "export" / f"{STUDY_NAME}.qdpx")
    assert [u.get("name") for u in project.iter(P + "User")] == [f"{STUDY_NAME} pipeline, seed 20200"]


def test_compare_human_coding_reads_csv_and_says_when_there_is_none(inputs):
    from helpers.agreement import compare_human_coding

    none = compare_human_coding("", inputs["segments"], inputs["utterances"], inputs["segment_themes"])
    assert "No human coding given" in none.message and none.per_code.empty
    got = compare_human_coding(FIXTURES / "human_codes.csv", inputs["segments"], inputs["utterances"],
                               inputs["segment_themes"], level="group_theme")
    assert set(got.per_code["code"]) == {"Compassion/Delays", "Team"}
    assert got.summary["n_segments"].iloc[0] == 4 and "human_codes.csv" in got.message


def test_notes_read_well_whether_the_audit_numbers_or_names_workshops(inputs, tmp_path):
    audit = inputs["audit"].assign(workshop=["workshop_1", "workshop_1", "workshop_2"])
    root = _project(export_qdpx(tmp_path / "named.qdpx", *split({**inputs, "audit": audit})))
    assert [n.get("name") for n in root.iter(P + "Note")] == [
        "Workshop 1, decision 1: merge", "Workshop 1, decision 2: drop", "Workshop 2, decision 1: confirm"]
    numbered = _project(export_qdpx(tmp_path / "numbered.qdpx", *split(inputs)))
    assert [n.get("name") for n in numbered.iter(P + "Note")] == [n.get("name") for n in root.iter(P + "Note")]
