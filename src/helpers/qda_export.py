"""Stage 07: the study as a REFI-QDA project for QDA software (``.qdpx``).

Researchers take the themes into the QDA tool they already use (QualCoder, NVivo,
ATLAS.ti, MAXQDA) to check, recode and extend them. The project holds:

* one plain-text source per focus group (:func:`helpers.qda_layout.plain_text_layout`);
* the code tree of :mod:`helpers.qda_codebook`; each themed segment is one coded
  selection carrying its group-theme code and its integrated-theme code, exact to the
  character; a segment's secondary theme (``secondary_theme_id`` of
  ``theme_assignments.parquet``, when it names one) is a second selection of the same span,
  with a description saying so; segments whose place in their theme is uncertain (``uncertain``)
  also carry the code "Uncertain place in theme", so a user can filter them in or out;
* one case per participant with their group, role and focus group as variables. The case
  holds its person's turns twice over: as ``SelectionRef`` (the standard's reference)
  and as codings of a code that shares the case's GUID, which is what QualCoder reads
  (its importer turns such codings into case text and removes the code);
* one note per workshop decision (QualCoder makes them journals); the decision is also
  written into the description of every code it touched, because a Code-level
  ``NoteRef`` breaks QualCoder 3.8.2.

Deterministic: GUIDs are UUID5 of stable keys, rows are sorted, zip members carry a fixed
timestamp, and the only date written is the one given (the study's latest workshop or
focus-group date), so the same inputs give the same bytes. QualCoder cannot import a
source without a date, so a study that records none is dated :data:`UNDATED`, and the
export status says so.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import yaml
from lxml import etree

from ._io import UserError, atomic_path
from .qda_codebook import (
    NEUTRAL_COLOUR,
    ORIGIN,
    Code,
    CodeTree,
    add_code_elements,
    build_code_tree,
    export_codebook,
    export_taguette_codebook,
    serialise,
)
from .qda_layout import PROJECT_NS, clean, guid, plain_text_layout, require, segment_spans, sorted_utterances, \
    split_ids, xml_text

__all__ = ["ExportTables", "ExportIdentity", "export_qdpx", "project_code_tree", "export_date", "write_exports",
           "UNCERTAIN_CODE_NAME", "UNDATED"]

P = f"{{{PROJECT_NS}}}"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)   # zip's earliest date: member times are not the export's date
UNCERTAIN_CODE_NAME = "Uncertain place in theme"
#: The date of an export whose study records no date (QualCoder needs one on every source).
UNDATED = "2000-01-01T00:00:00Z"
UNCERTAIN_COLOUR = "#777777"
_VARIABLE_DESCRIPTIONS = {
    "participant_group": "The independent data set (participant group) of the focus group.",
    "role": "participant or facilitator.",
    "focus_group": "The focus group (transcript) the person spoke in.",
    "speaker_type": "Who the participant is (from study.yml speakers).",
}


@dataclass
class ExportTables:
    """The files of earlier stages the export reads (see docs/data_contracts.md)."""

    utterances: pd.DataFrame
    segments: pd.DataFrame
    segment_themes: pd.DataFrame
    group_themes: pd.DataFrame
    integrated_themes: pd.DataFrame | None = None
    audit: pd.DataFrame | None = None
    #: theme_assignments.parquet: uncertain and secondary_theme_id (empty when none)
    assignments: pd.DataFrame | None = None


@dataclass
class ExportIdentity:
    """Who and what the export says it is."""

    study_name: str
    study_title: str
    group_labels: Mapping | list = field(default_factory=dict)
    palette: Mapping[str, str] | None = None
    #: xsd:dateTime of every dated element (see :func:`export_date`)
    created: str = UNDATED
    user_name: str = "compendium pipeline"


class _Selection(NamedTuple):
    focus_group: str
    start: int
    end: int
    name: str
    guid: str
    codes: list
    description: str = ""


class _Case(NamedTuple):
    code: Code
    focus_group: str
    speaker: str
    values: dict
    selections: list


# --------------------------------------------------------------------------- dates and user

def _date_of(value, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise UserError(f"{where}: {value!r} is not a date like 2026-03-04; correct it or remove the key.") from None


def export_date(study) -> str | None:
    """The export's date: the latest workshop date, else the latest focus-group date
    (``date:`` keys of the workshop files and study.yml), as ``YYYY-MM-DDT00:00:00Z``;
    None when the study records no date."""
    dates = [_date_of(fg.date, f"{study.path}, focus group {fg.id}, key 'date'")
             for fg in study.focus_groups if fg.date]
    workshop_dates = []
    for path in study.workshops:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if isinstance(data, dict) and data.get("date"):
            workshop_dates.append(_date_of(data["date"], f"{path}, key 'date'"))
    chosen = max(workshop_dates or dates, default=None)
    return f"{chosen.isoformat()}T00:00:00Z" if chosen else None


def _dated(created: str, **attrs) -> dict:
    return {**attrs, "creationDateTime": created}


# --------------------------------------------------------------------------- code tree, notes

def _workshop_name(workshop: str) -> str:
    """``"1"`` or ``"workshop_1"`` -> ``"Workshop 1"``."""
    name = workshop.replace("_", " ").strip()
    if not name.lower().startswith("workshop"):
        name = f"workshop {name}"
    return name[0].upper() + name[1:]


def _decision_notes(audit: pd.DataFrame | None, tree: CodeTree, study_name: str) -> list[tuple[str, str, str]]:
    """One note (guid, name, text) per workshop decision; each decision is also appended to
    the description of the codes it names."""
    if audit is None or not len(audit):
        return []
    require(audit, ["workshop", "index", "action"], "workshop_audit")
    notes = []
    for _, row in audit.iterrows():
        w, i, action = clean(row["workshop"]), clean(row["index"]), clean(row["action"])
        rationale = clean(row.get("rationale", ""))
        workshop = _workshop_name(w)
        text = f"{workshop.lower()}, decision {i}: {action}" + (f" — {rationale}" if rationale else "")
        notes.append((guid(study_name, "note", w, i), f"{workshop}, decision {i}: {action}", text))
        touched: list[Code] = []
        for token in split_ids(row.get("inputs", "")) + split_ids(row.get("outputs", "")):
            touched += [c for c in tree.codes_naming(token) if c not in touched]
        for code in touched:
            code.description += f" {workshop}, decision {i} ({action})" + (f": {rationale}" if rationale else ".")
    return notes


def project_code_tree(tables: ExportTables, identity: ExportIdentity) -> tuple[CodeTree, list[tuple[str, str, str]]]:
    """The code tree with the workshop decisions in its descriptions, and the decision notes."""
    tree = build_code_tree(identity.study_name, tables.group_themes, tables.integrated_themes, tables.segment_themes,
                           identity.group_labels, identity.palette)
    return tree, _decision_notes(tables.audit, tree, identity.study_name)


def _uncertain_code(study_name: str) -> Code:
    return Code(guid(study_name, "code", "uncertain-place-in-theme"), UNCERTAIN_CODE_NAME,
                "Segments that sat with the other members of their theme in fewer than half of the resampled "
                "clusterings, so their place in that theme is uncertain (uncertain in theme_assignments.parquet). "
                "They also carry that theme's code: filter by this code to look at them or leave them out.",
                UNCERTAIN_COLOUR)


# --------------------------------------------------------------------------- selections

def _assignment_columns(assignments: pd.DataFrame | None) -> tuple[set[str], dict[str, str]]:
    """(segments whose place is uncertain, segment -> secondary group theme), empty when unknown."""
    if assignments is None or "segment_id" not in assignments.columns:
        return set(), {}
    ids = assignments["segment_id"].map(clean)
    uncertain = set()
    if "uncertain" in assignments.columns:
        uncertain = set(ids[assignments["uncertain"].fillna(False).astype(bool)])
    secondary = {}
    if "secondary_theme_id" in assignments.columns:
        secondary = {s: clean(t) for s, t in zip(ids, assignments["secondary_theme_id"]) if clean(t)}
    return uncertain, secondary


def _theme_selections(segs: pd.DataFrame, tables: ExportTables, tree: CodeTree, study_name: str,
                      uncertain_code: Code) -> list[_Selection]:
    require(tables.segment_themes, ["segment_id", "group_theme", "integrated_theme"], "segment_themes")
    themes = tables.segment_themes
    theme_of = {clean(s): (clean(g), clean(i)) for s, g, i in
                zip(themes["segment_id"], themes["group_theme"], themes["integrated_theme"])}
    uncertain, secondary = _assignment_columns(tables.assignments)
    out = []
    for sid, fg, a, b in zip(segs["segment_id"], segs["focus_group"], segs["start"], segs["end"]):
        group_theme, integrated = theme_of.get(sid, ("", ""))
        codes = tree.codes_for(group_theme, integrated)
        if not codes:
            continue
        sel_guid = guid(study_name, "selection", sid)
        out.append(_Selection(fg, int(a), int(b), sid, sel_guid, codes + ([uncertain_code] if sid in uncertain else [])))
        other = secondary.get(sid, "")
        if other and other != group_theme and tree.children_of_group.get(other):
            out.append(_Selection(fg, int(a), int(b), f"{sid} secondary", guid(study_name, "selection", sid, "secondary"),
                                  [tree.children_of_group[other][0]],
                                  f"Secondary theme of segment {sid}; its main theme is {group_theme}."))
    return out


def _participant_cases(utts: pd.DataFrame, offsets: dict, study_name: str, labels: Mapping[str, str]) -> list[_Case]:
    """One case per participant of a focus group, holding a selection per turn."""
    role = utts["role"].map(clean) if "role" in utts.columns else pd.Series("participant", index=utts.index)
    cases: dict[tuple[str, str], _Case] = {}
    for _, row in utts[role.eq("participant")].iterrows():
        fg, speaker = row["focus_group"], clean(row["speaker"])
        if (fg, speaker) not in cases:
            pg = clean(row.get("participant_group", ""))
            code = Code(guid(study_name, "case", fg, speaker), f"{speaker} ({fg})",
                        f"Participant in focus group {fg} ({labels.get(pg, pg)}); pseudonym as transcribed.",
                        NEUTRAL_COLOUR)
            values = {"participant_group": pg, "role": "participant", "focus_group": fg,
                      "speaker_type": clean(row.get("speaker_type", ""))}
            cases[(fg, speaker)] = _Case(code, fg, speaker, values, [])
        case = cases[(fg, speaker)]
        start = offsets[(fg, int(row["turn"]))]
        case.selections.append(_Selection(fg, start, start + len(clean(row["text"])), f"{speaker}, turn {row['turn']}",
                                          guid(study_name, "case-selection", fg, row["turn"]), [case.code]))
    return list(cases.values())


# --------------------------------------------------------------------------- the parts of project.qde

def _add_users(root, user_guid: str, user_name: str) -> None:
    etree.SubElement(etree.SubElement(root, P + "Users"), P + "User", guid=user_guid, name=xml_text(user_name))


def _add_codebook(root, codes: list[Code]) -> None:
    add_code_elements(etree.SubElement(etree.SubElement(root, P + "CodeBook"), P + "Codes"), codes, P)


def _add_variables(root, names: list[str], study_name: str) -> dict[str, str]:
    variables = etree.SubElement(root, P + "Variables")
    guids = {}
    for name in names:
        guids[name] = guid(study_name, "variable", name)
        var = etree.SubElement(variables, P + "Variable", guid=guids[name], name=name, typeOfVariable="Text")
        etree.SubElement(var, P + "Description").text = _VARIABLE_DESCRIPTIONS[name]
    return guids


def _add_cases(root, cases: list[_Case], var_guid: dict[str, str], source_guid: dict[str, str]) -> None:
    if not cases:
        return
    cases_el = etree.SubElement(root, P + "Cases")
    for case in cases:
        el = etree.SubElement(cases_el, P + "Case", guid=case.code.guid, name=xml_text(case.code.name))
        etree.SubElement(el, P + "Description").text = xml_text(case.code.description)
        etree.SubElement(el, P + "CodeRef", targetGUID=case.code.guid)
        for name, variable in var_guid.items():
            if case.values.get(name):
                vv = etree.SubElement(el, P + "VariableValue")
                etree.SubElement(vv, P + "VariableRef", targetGUID=variable)
                etree.SubElement(vv, P + "TextValue").text = xml_text(case.values[name])
        etree.SubElement(el, P + "SourceRef", targetGUID=source_guid[case.focus_group])
        for sel in case.selections:
            etree.SubElement(el, P + "SelectionRef", targetGUID=sel.guid)


def _source_description(fg: str, utts: pd.DataFrame, labels: Mapping[str, str]) -> str:
    rows = utts[utts["focus_group"] == fg]
    pg = clean(rows["participant_group"].iloc[0]) if "participant_group" in rows.columns else ""
    transcript = clean(rows["source"].iloc[0]) if "source" in rows.columns else ""
    return (f"Focus group {fg}" + (f" ({labels.get(pg, pg)})" if pg else "")
            + (f", transcript {transcript}" if transcript else "")
            + ". One line per turn: 'Speaker: text', as transcribed (transcription marks kept). "
              "Speakers are pseudonyms.")


def _add_sources(root, texts: dict[str, str], selections: list[_Selection], source_guid: dict[str, str],
                 descriptions: dict[str, str], user: str, created: str, study_name: str) -> list[tuple[str, bytes]]:
    sources = etree.SubElement(root, P + "Sources")
    members = []
    for fg, text in texts.items():
        src_guid = source_guid[fg]
        src = etree.SubElement(sources, P + "TextSource", _dated(created, guid=src_guid, name=xml_text(fg),
                                                                  plainTextPath=f"internal://{src_guid}.txt",
                                                                  creatingUser=user))
        etree.SubElement(src, P + "Description").text = xml_text(descriptions[fg])
        for sel in sorted((s for s in selections if s.focus_group == fg), key=lambda s: (s.start, s.end, s.name)):
            sel_el = etree.SubElement(src, P + "PlainTextSelection", _dated(
                created, guid=sel.guid, name=xml_text(sel.name), startPosition=str(sel.start),
                endPosition=str(sel.end), creatingUser=user))
            if sel.description:
                etree.SubElement(sel_el, P + "Description").text = xml_text(sel.description)
            for code in sel.codes:
                coding = etree.SubElement(sel_el, P + "Coding", _dated(
                    created, guid=guid(study_name, "coding", sel.guid, code.guid), creatingUser=user))
                etree.SubElement(coding, P + "CodeRef", targetGUID=code.guid)
        members.append((f"sources/{src_guid}.txt", text.encode("utf-8")))
    return members


def _add_notes(root, notes: list[tuple[str, str, str]], user: str, created: str) -> list[tuple[str, bytes]]:
    if not notes:
        return []
    notes_el = etree.SubElement(root, P + "Notes")
    members = []
    for note_guid, name, text in notes:
        note = etree.SubElement(notes_el, P + "Note", _dated(created, guid=note_guid, name=xml_text(name),
                                                              plainTextPath=f"internal://{note_guid}.txt",
                                                              creatingUser=user))
        etree.SubElement(note, P + "Description").text = xml_text(text)
        members.append((f"sources/{note_guid}.txt", text.encode("utf-8")))
    return members


def _add_sets(root, tree: CodeTree, group_of_fg: dict[str, str], source_guid: dict[str, str], study_name: str) -> None:
    sets = []
    for pg, label in tree.groups.items():
        codes = [c for c in tree.codes() if c.participant_group == pg]
        fgs = [fg for fg in source_guid if group_of_fg.get(fg) == pg]
        if codes or fgs:
            sets.append((pg, label, codes, fgs))
    if not sets:
        return
    sets_el = etree.SubElement(root, P + "Sets")
    for pg, label, codes, fgs in sets:
        set_el = etree.SubElement(sets_el, P + "Set", guid=guid(study_name, "set", pg), name=xml_text(label))
        etree.SubElement(set_el, P + "Description").text = xml_text(
            f"Participant group {label} ({pg}): its theme codes and transcripts.")
        for code in codes:
            etree.SubElement(set_el, P + "MemberCode", targetGUID=code.guid)
        for fg in fgs:
            etree.SubElement(set_el, P + "MemberSource", targetGUID=source_guid[fg])


def _project_description(identity: ExportIdentity) -> str:
    return (f"{identity.study_title}. Exported from the study '{identity.study_name}' by {identity.user_name}. "
            "Each focus group is one plain-text source with one 'Speaker: text' line per turn, as transcribed; "
            "selection positions count Unicode code points from 0, end exclusive. Codes: integrated themes with "
            "the participant groups' themes beneath them; workshop decisions are in the code descriptions and the "
            "notes. Participants are cases holding their turns. Speakers are pseudonyms.")


def _write_zip(path: Path, project: bytes, members: list[tuple[str, bytes]]) -> None:
    ordered = [("project.qde", project)] + sorted(members, key=lambda m: m[0])
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w") as zf:
            for name, data in ordered:
                info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3
                info.external_attr = 0o644 << 16
                zf.writestr(info, data, compresslevel=9)


def export_qdpx(path, tables: ExportTables, identity: ExportIdentity) -> Path:
    """Write the study as a REFI-QDA project (``.qdpx``: ``project.qde`` and
    ``sources/<guid>.txt``), valid against Project.xsd; see the module notes for what it
    holds. Segments without any theme get no selection. Written atomically; returns ``path``."""
    name = identity.study_name
    utts = sorted_utterances(tables.utterances)
    texts, offsets = plain_text_layout(utts)
    segs = segment_spans(tables.segments, utts, offsets)
    tree, notes = project_code_tree(tables, identity)
    labels = tree.groups
    uncertain_code = _uncertain_code(name)
    selections = _theme_selections(segs, tables, tree, name, uncertain_code)
    cases = _participant_cases(utts, offsets, name, labels)
    extra_codes = [uncertain_code] if any(uncertain_code in s.codes for s in selections) else []

    user = guid(name, "user", identity.user_name)
    root = etree.Element(P + "Project", _dated(identity.created, name=xml_text(name), origin=ORIGIN,
                                               creatingUserGUID=user), nsmap={None: PROJECT_NS})
    _add_users(root, user, identity.user_name)
    _add_codebook(root, tree.parents + extra_codes + [c.code for c in cases])
    has_type = "speaker_type" in utts.columns and utts["speaker_type"].map(clean).ne("").any()
    var_guid = _add_variables(root, ["participant_group", "role", "focus_group"] + (["speaker_type"] if has_type else []),
                              name)
    source_guid = {fg: guid(name, "source", fg) for fg in texts}
    _add_cases(root, cases, var_guid, source_guid)
    descriptions = {fg: _source_description(fg, utts, labels) for fg in texts}
    members = _add_sources(root, texts, selections + [s for c in cases for s in c.selections], source_guid,
                           descriptions, user, identity.created, name)
    members += _add_notes(root, notes, user, identity.created)
    group_of_fg = dict(zip(utts["focus_group"], utts["participant_group"].map(clean))) \
        if "participant_group" in utts.columns else {}
    _add_sets(root, tree, group_of_fg, source_guid, name)
    etree.SubElement(root, P + "Description").text = xml_text(_project_description(identity))
    for note_guid, _, _ in notes:
        etree.SubElement(root, P + "NoteRef", targetGUID=note_guid)
    path = Path(path)
    _write_zip(path, serialise(root), members)
    return path


# --------------------------------------------------------------------------- the notebook's step

def write_exports(output_dir: Path, study, tables: ExportTables, disclosures: pd.DataFrame, seed: int) -> str:
    """Write ``export/<study>.qdpx``, ``export/codebook.qdc`` and ``export/codebook.csv``
    (Taguette) unless the disclosure check forbids it; record the outcome in
    ``export_status.txt`` and return it.

    The export is dated by :func:`export_date` and its user says which run made it (study
    name and seed). When exports are refused, exports left by an earlier run are removed,
    so nothing in ``export/`` can quote transcripts that now have unresolved identifying
    details.
    """
    from ._io import write_text_atomic
    from .disclosure import exports_allowed
    from .study import group_palette

    output_dir = Path(output_dir)
    export_dir = output_dir / "export"
    allowed, reason = exports_allowed(disclosures, study)
    if allowed:
        created = export_date(study)
        identity = ExportIdentity(study.name, study.title, study.group_labels, group_palette(study.group_ids),
                                  created or UNDATED, f"{study.name} pipeline, seed {seed}")
        qdpx = export_qdpx(export_dir / f"{study.name}.qdpx", tables, identity)
        tree, _ = project_code_tree(tables, identity)
        qdc = export_codebook(export_dir / "codebook.qdc", tree, study.name)
        taguette = export_taguette_codebook(export_dir / "codebook.csv", tree)
        status = f"Exported {qdpx.name}, {qdc.name} and {taguette.name} (Taguette). {reason}"
        if not created:
            status += (f" The study records no date, so the export is dated {UNDATED[:10]}; add 'date:' to the "
                       f"workshop files or focus groups of study.yml to date it by the study.")
    else:
        for stale in export_dir.glob("*"):
            stale.unlink()
        status = "No export written: " + reason
    write_text_atomic(output_dir / "export_status.txt", status + "\n")
    return status
