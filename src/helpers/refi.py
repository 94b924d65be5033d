"""Hand-off to QDA software (REFI-QDA) and comparison with human coding.

Stage 07 of the process model. The compendium's themes leave the pipeline in the open
REFI-QDA exchange format, so researchers can check, recode and extend them in QualCoder,
NVivo, ATLAS.ti or MAXQDA; human codes made there come back in and are compared with the
themes segment by segment.

Export
    :func:`export_qdpx` writes a REFI-QDA *project* (``.qdpx``: a zip holding
    ``project.qde`` and ``sources/<guid>.txt``) and :func:`export_codebook` a REFI-QDA
    *codebook* (``.qdc``) with the same code tree: integrated themes are parent codes,
    the participant groups' themes their children; group themes that no integrated
    theme took up sit under a non-codable parent "Not integrated".

Plain-text layout
    Each focus group becomes one plain-text source with one line per turn,
    ``"<speaker>: <text>\\n"``, facilitator turns included, in turn order
    (:func:`plain_text_layout`; the import side uses the same layout).

Positions
    ``startPosition``/``endPosition`` are zero-based, end-exclusive offsets counted in
    **Unicode code points** (Python ``str`` indices) into the UTF-8 plain text, which is
    written without a byte-order mark and with ``"\\n"`` line endings, so an emoji outside
    the Basic Multilingual Plane counts as one position and no CR/LF question arises.
    The REFI-QDA 1.0 schema only types positions as ``xsd:integer``; code points are what
    QualCoder's REFI-QDA importer assumes (``refi.py``, ``load_codings_for_text``:
    ``seltext = fulltext[pos0:pos1]`` on the decoded text). Software built on UTF-16
    strings may count such a character as two: :func:`read_human_codes_qdpx` accepts
    ``positions="utf16"`` for files from such software.

Determinism
    Every GUID is a UUID5 of :data:`GUID_NAMESPACE` and stable keys (study name, focus
    group, segment id, theme id), dates are fixed (``created``), rows are sorted before
    writing, and zip members carry the timestamp 1980-01-01 in a fixed order, so the same
    inputs give byte-identical files.

Human coding back in
    :func:`read_human_codes_qdpx`, :func:`read_human_codes_csv`,
    :func:`map_codes_to_segments`, :func:`compare_with_themes`, :func:`disagreements`.
"""

from __future__ import annotations

import bisect
import csv
import math
import re
import uuid
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from lxml import etree

from ._io import UserError, atomic_path

__all__ = [
    "GUID_NAMESPACE",
    "PROJECT_NS",
    "CODEBOOK_NS",
    "PIPELINE_USER",
    "plain_text_layout",
    "export_qdpx",
    "export_codebook",
    "read_human_codes_qdpx",
    "read_human_codes_csv",
    "map_codes_to_segments",
    "compare_with_themes",
    "disagreements",
]

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
#: Namespace of every GUID this module writes (uuid5 of a fixed name; never change it,
#: or re-exports stop matching codes already imported into QDA software).
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:compassion-coproduction-compendium:refi")
PIPELINE_USER = "compendium pipeline"
ORIGIN = "compassion co-production compendium (helpers.refi)"
DEFAULT_CREATED = "1980-01-01T00:00:00Z"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# Okabe-Ito, colour-blind safe; one per participant group in study order.
_GROUP_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00",
                  "#F0E442", "#999999")
_INTEGRATED_COLOUR = "#4D4D4D"
_NOT_INTEGRATED = "Not integrated"
_NO_THEME = "(no theme)"
_XML_ILLEGAL = re.compile("[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")
_ID_SPLIT = re.compile(r"[;,|\s]+")


# --------------------------------------------------------------------------------------
# small shared pieces
# --------------------------------------------------------------------------------------

def _guid(study_name: str, *key: object) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, "|".join([str(study_name), *map(str, key)])))


def _clean(value: object) -> str:
    """Cell -> text: NaN/None -> "", integral floats without ".0"."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _xml_text(value: object) -> str:
    return _XML_ILLEGAL.sub("", _clean(value))


def _require(df: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise UserError(
            f"{name} is missing column(s) {', '.join(missing)}; pass the table as described "
            f"in docs/data_contracts.md.")


def _group_labels(group_labels) -> dict[str, str]:
    """Mapping id -> label, or study.yml's list of {id, label} -> dict (order kept)."""
    if group_labels is None:
        return {}
    if isinstance(group_labels, Mapping):
        return {str(k): str(v) for k, v in group_labels.items()}
    out: dict[str, str] = {}
    for item in group_labels:
        if isinstance(item, Mapping):
            out[str(item["id"])] = str(item.get("label", item["id"]))
        else:
            key, label = item
            out[str(key)] = str(label)
    return out


def _split_ids(value: object) -> list[str]:
    return [t for t in _ID_SPLIT.split(_clean(value)) if t]


def _sorted_utterances(utterances: pd.DataFrame) -> pd.DataFrame:
    _require(utterances, ["focus_group", "speaker", "turn", "text"], "utterances")
    out = utterances.copy()
    out["focus_group"] = out["focus_group"].map(_clean)
    out["turn"] = out["turn"].astype(int)
    return out.sort_values(["focus_group", "turn"], kind="mergesort").reset_index(drop=True)


# --------------------------------------------------------------------------------------
# plain-text layout shared by export and import
# --------------------------------------------------------------------------------------

def plain_text_layout(utterances: pd.DataFrame) -> tuple[dict[str, str], dict[tuple[str, int], int]]:
    """Lay each focus group's turns out as the plain text of one REFI-QDA source.

    Returns ``(texts_by_focus_group, turn_offsets)``: ``texts_by_focus_group[fg]`` is the
    whole transcript, one ``"<speaker>: <text>\\n"`` line per turn in turn order
    (facilitator turns included); ``turn_offsets[(fg, turn)]`` is the code-point offset
    where that turn's ``text`` starts in it, so a span ``[a, b)`` of the turn text is
    ``[offset + a, offset + b)`` of the source.
    """
    utts = _sorted_utterances(utterances)
    texts: dict[str, str] = {}
    offsets: dict[tuple[str, int], int] = {}
    for fg, rows in utts.groupby("focus_group", sort=True):
        parts: list[str] = []
        pos = 0
        for speaker, turn, text in zip(rows["speaker"], rows["turn"], rows["text"]):
            key = (str(fg), int(turn))
            if key in offsets:
                raise UserError(
                    f"utterances has turn {key[1]} of {key[0]} twice; rebuild utterances.parquet "
                    f"with notebook 01.")
            prefix = f"{_clean(speaker)}: "
            offsets[key] = pos + len(prefix)
            line = f"{prefix}{_clean(text)}\n"
            parts.append(line)
            pos += len(line)
        texts[str(fg)] = "".join(parts)
    return texts, offsets


def _segment_spans(segments: pd.DataFrame, utterances: pd.DataFrame,
                   offsets: dict[tuple[str, int], int] | None = None) -> pd.DataFrame:
    """Segments sorted, with ``start``/``end`` in their focus group's plain text."""
    _require(segments, ["segment_id", "focus_group", "speaker", "turn", "char_start", "char_end"],
             "segments")
    if offsets is None:
        _, offsets = plain_text_layout(utterances)
    turn_len = {(fg, int(t)): len(_clean(x)) for fg, t, x in
                zip(utterances["focus_group"].map(_clean), utterances["turn"], utterances["text"])}
    segs = segments.copy()
    segs["focus_group"] = segs["focus_group"].map(_clean)
    segs["segment_id"] = segs["segment_id"].map(_clean)
    segs["turn"] = segs["turn"].astype(int)
    segs["char_start"] = segs["char_start"].astype(int)
    segs["char_end"] = segs["char_end"].astype(int)
    segs = segs.sort_values(["focus_group", "turn", "char_start", "segment_id"],
                            kind="mergesort").reset_index(drop=True)
    starts, ends = [], []
    for sid, fg, turn, a, b in zip(segs["segment_id"], segs["focus_group"], segs["turn"],
                                   segs["char_start"], segs["char_end"]):
        key = (fg, turn)
        if key not in offsets:
            raise UserError(
                f"segment {sid} points at turn {turn} of {fg}, which is not in utterances; "
                f"rebuild segments from the same utterances (notebook 03).")
        if not 0 <= a <= b <= turn_len[key]:
            raise UserError(
                f"segment {sid} spans characters {a}-{b} but turn {turn} of {fg} has "
                f"{turn_len[key]}; rebuild segments from the same utterances (notebook 03).")
        starts.append(offsets[key] + a)
        ends.append(offsets[key] + b)
    segs["start"] = starts
    segs["end"] = ends
    return segs


# --------------------------------------------------------------------------------------
# the code tree (shared by .qdpx and .qdc)
# --------------------------------------------------------------------------------------

class _Code:
    __slots__ = ("guid", "name", "description", "color", "codable", "children", "theme_id",
                 "participant_group")

    def __init__(self, guid, name, description, color, codable, theme_id, participant_group=""):
        self.guid = guid
        self.name = name
        self.description = description
        self.color = color
        self.codable = codable
        self.children: list[_Code] = []
        self.theme_id = theme_id
        self.participant_group = participant_group


class _CodeTree:
    def __init__(self, parents, child, parent_of_integrated, children_of_group, groups):
        self.parents: list[_Code] = parents
        self.child: dict[tuple[str, str], _Code] = child            # (integrated|"", group theme)
        self.integrated: dict[str, _Code] = parent_of_integrated
        self.children_of_group: dict[str, list[_Code]] = children_of_group
        self.groups: dict[str, str] = groups                          # id -> label, colour order

    def codes_for(self, group_theme: str, integrated_theme: str) -> list[_Code]:
        """Codes a segment with these themes carries: its group-theme child, then its parent."""
        out = []
        child = self.child.get((integrated_theme, group_theme)) if integrated_theme else None
        if child is None and self.children_of_group.get(group_theme):
            child = self.children_of_group[group_theme][0]
        if child is not None:
            out.append(child)
        if integrated_theme in self.integrated:
            out.append(self.integrated[integrated_theme])
        return out


def _code_tree(study_name: str, group_themes: pd.DataFrame, integrated_themes: pd.DataFrame | None,
               segment_themes: pd.DataFrame | None, group_labels, palette: Mapping[str, str] | None = None) -> _CodeTree:
    _require(group_themes, ["participant_group", "theme_id", "label"], "group_themes")
    labels = _group_labels(group_labels)
    groups = dict(labels)
    for pg in sorted({_clean(x) for x in group_themes["participant_group"]} - set(groups)):
        groups[pg] = pg
    # The caller's palette (the figures' colours) when given, so codes match the maps.
    colour = {pg: (palette or {}).get(pg) or _GROUP_COLOURS[i % len(_GROUP_COLOURS)] for i, pg in enumerate(groups)}
    order = {pg: i for i, pg in enumerate(groups)}

    gt = group_themes.copy()
    gt["participant_group"] = gt["participant_group"].map(_clean)
    gt["theme_id"] = gt["theme_id"].map(_clean)
    gt["_order"] = gt["participant_group"].map(order)
    gt = gt.sort_values(["_order", "theme_id"], kind="mergesort")
    info = {row["theme_id"]: row for _, row in gt.iterrows()}
    group_ids = list(info)

    it = integrated_themes if integrated_themes is not None else pd.DataFrame(
        columns=["theme_id", "label", "description", "status", "source_themes"])
    _require(it, ["theme_id", "label"], "integrated_themes")
    it = it.assign(theme_id=it["theme_id"].map(_clean)).sort_values("theme_id", kind="mergesort")

    members: dict[str, list[str]] = {}
    for _, row in it.iterrows():
        members[row["theme_id"]] = [g for g in _split_ids(row.get("source_themes", ""))
                                    if g in info]
    if segment_themes is not None and {"group_theme", "integrated_theme"} <= set(segment_themes.columns):
        pairs = {(_clean(i), _clean(g)) for g, i in
                 zip(segment_themes["group_theme"], segment_themes["integrated_theme"])}
        for i, g in sorted(pairs):
            if i in members and g in info and g not in members[i]:
                members[i].append(g)

    def child_code(parent_key: str, gid: str) -> _Code:
        row = info[gid]
        pg = row["participant_group"]
        label = _clean(row["label"])
        desc = label
        keywords = _clean(row.get("keywords", ""))
        if keywords:
            desc += f". Keywords: {keywords}"
        desc += f". Theme of {groups.get(pg, pg)} ({gid})."
        return _Code(_guid(study_name, "code", parent_key, gid), f"{gid} {label}".strip(),
                     desc, colour.get(pg, _GROUP_COLOURS[-1]), True, gid, pg)

    parents: list[_Code] = []
    child: dict[tuple[str, str], _Code] = {}
    integrated: dict[str, _Code] = {}
    children_of_group: dict[str, list[_Code]] = {g: [] for g in group_ids}
    for _, row in it.iterrows():
        iid = row["theme_id"]
        label = _clean(row["label"])
        desc = _clean(row.get("description", "")) or label
        status = _clean(row.get("status", ""))
        if status:
            desc += f" (status: {status})"
        parent = _Code(_guid(study_name, "code", iid), f"{iid} {label}".strip(), desc,
                       _INTEGRATED_COLOUR, True, iid)
        for gid in sorted(members[iid], key=lambda g: (order.get(info[g]["participant_group"], 0), g)):
            code = child_code(iid, gid)
            parent.children.append(code)
            child[(iid, gid)] = code
            children_of_group[gid].append(code)
        parents.append(parent)
        integrated[iid] = parent
    leftovers = [g for g in group_ids if not children_of_group[g]]
    if leftovers:
        parent = _Code(_guid(study_name, "code", "not-integrated"), _NOT_INTEGRATED,
                       "Themes of the participant groups that no integrated theme took up.",
                       _INTEGRATED_COLOUR, False, "")
        for gid in leftovers:
            code = child_code("", gid)
            parent.children.append(code)
            child[("", gid)] = code
            children_of_group[gid].append(code)
        parents.append(parent)
    return _CodeTree(parents, child, integrated, children_of_group, groups)


def _add_codes(parent_el, codes: list[_Code], ns: str, notes_for: Mapping[str, list[str]] | None):
    """Code elements in schema order: Description, NoteRef* (project only), Code*."""
    for code in codes:
        el = etree.SubElement(parent_el, ns + "Code", guid=code.guid, name=_xml_text(code.name),
                              isCodable="true" if code.codable else "false", color=code.color)
        etree.SubElement(el, ns + "Description").text = _xml_text(code.description)
        if notes_for is not None:
            for note_guid in notes_for.get(code.guid, []):
                etree.SubElement(el, ns + "NoteRef", targetGUID=note_guid)
        _add_codes(el, code.children, ns, notes_for)


def _serialise(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --------------------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------------------

def export_codebook(path, *, study_name: str, group_themes: pd.DataFrame,
                    integrated_themes: pd.DataFrame | None, group_labels,
                    segment_themes: pd.DataFrame | None = None, palette: Mapping[str, str] | None = None) -> Path:
    """Write a REFI-QDA codebook (``codebook.qdc``, Codebook.xsd) with the export's code tree.

    Codes carry the same GUIDs as in :func:`export_qdpx` for the same ``study_name``, and
    one Set per participant group lists that group's theme codes. Written atomically.
    """
    tree = _code_tree(study_name, group_themes, integrated_themes, segment_themes, group_labels, palette)
    C = f"{{{CODEBOOK_NS}}}"
    root = etree.Element(C + "CodeBook", nsmap={None: CODEBOOK_NS}, origin=ORIGIN)
    _add_codes(etree.SubElement(root, C + "Codes"), tree.parents, C, None)
    sets = [(pg, label, [c for g, cs in tree.children_of_group.items() for c in cs
                         if c.participant_group == pg]) for pg, label in tree.groups.items()]
    sets = [s for s in sets if s[2]]
    if sets:
        sets_el = etree.SubElement(root, C + "Sets")
        for pg, label, codes in sets:
            set_el = etree.SubElement(sets_el, C + "Set", guid=_guid(study_name, "set", pg),
                                      name=_xml_text(label))
            etree.SubElement(set_el, C + "Description").text = _xml_text(
                f"Themes of the participant group {label} ({pg}).")
            for code in codes:
                etree.SubElement(set_el, C + "MemberCode", guid=code.guid)
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(_serialise(root))
    return path


def export_qdpx(path, *, study_name: str, study_title: str, utterances: pd.DataFrame,
                segments: pd.DataFrame, segment_themes: pd.DataFrame, group_themes: pd.DataFrame,
                integrated_themes: pd.DataFrame | None, audit: pd.DataFrame | None, group_labels,
                created: str = DEFAULT_CREATED, palette: Mapping[str, str] | None = None) -> Path:
    """Write the study as a REFI-QDA project (``.qdpx``, Project.xsd) for QDA software.

    Contents: one User (``"compendium pipeline"``); the code tree (integrated themes as
    parents, group themes as children, colours per participant group); Variables
    ``participant_group``, ``role``, ``focus_group`` (and ``speaker_type`` when the
    utterances have one); one Case per participant, named ``"Speaker (FG03)"``, with its
    variable values, a SourceRef to its transcript and SelectionRefs to its segments; one
    TextSource per focus group whose text (:func:`plain_text_layout`) is stored as
    ``sources/<guid>.txt`` and referenced as ``internal://<guid>.txt``; one
    PlainTextSelection per themed segment (named by its ``segment_id``) whose positions
    are the segment's span in that text, counted in Unicode code points, end exclusive,
    with a Coding to its group-theme code and a second Coding to its integrated-theme
    code; one Note per workshop decision (``"workshop N, decision i: action — rationale"``,
    also stored as ``sources/<guid>.txt``), referenced from the codes it names in its
    inputs/outputs (from the project when it names none); one Set per participant group
    (its theme codes and transcripts).

    Deterministic (UUID5 GUIDs, fixed ``created`` date and zip timestamps, sorted rows)
    and atomic. Segments without any theme get no selection. Returns ``path``.
    """
    _require(segment_themes, ["segment_id", "group_theme", "integrated_theme"], "segment_themes")
    utts = _sorted_utterances(utterances)
    texts, offsets = plain_text_layout(utts)
    segs = _segment_spans(segments, utts, offsets)
    tree = _code_tree(study_name, group_themes, integrated_themes, segment_themes, group_labels, palette)
    labels = tree.groups

    user = _guid(study_name, "user", PIPELINE_USER)
    P = f"{{{PROJECT_NS}}}"
    root = etree.Element(P + "Project", nsmap={None: PROJECT_NS}, name=_xml_text(study_name),
                         origin=ORIGIN, creatingUserGUID=user, creationDateTime=created)
    users = etree.SubElement(root, P + "Users")
    etree.SubElement(users, P + "User", guid=user, name=PIPELINE_USER)

    # notes first (codes point at them), written further down
    notes: list[tuple[str, str, str]] = []             # guid, name, text
    notes_for: dict[str, list[str]] = {}
    project_notes: list[str] = []
    if audit is not None and len(audit):
        _require(audit, ["workshop", "index", "action"], "workshop_audit")
        for _, row in audit.iterrows():
            w, i, action = _clean(row["workshop"]), _clean(row["index"]), _clean(row["action"])
            rationale = _clean(row.get("rationale", ""))
            guid = _guid(study_name, "note", w, i)
            text = f"workshop {w}, decision {i}: {action}" + (f" — {rationale}" if rationale else "")
            notes.append((guid, f"Workshop {w}, decision {i}: {action}", text))
            touched: list[str] = []
            for token in _split_ids(row.get("inputs", "")) + _split_ids(row.get("outputs", "")):
                targets = ([tree.integrated[token]] if token in tree.integrated else []) + \
                    tree.children_of_group.get(token, [])
                for code in targets:
                    if code.guid not in touched:
                        touched.append(code.guid)
            for code_guid in touched:
                notes_for.setdefault(code_guid, []).append(guid)
            if not touched:
                project_notes.append(guid)

    codebook = etree.SubElement(root, P + "CodeBook")
    _add_codes(etree.SubElement(codebook, P + "Codes"), tree.parents, P, notes_for)

    # variables
    has_type = "speaker_type" in utts.columns and utts["speaker_type"].map(_clean).ne("").any()
    var_names = ["participant_group", "role", "focus_group"] + (["speaker_type"] if has_type else [])
    var_desc = {"participant_group": "The independent data set (participant group) of the focus group.",
                "role": "participant or facilitator.",
                "focus_group": "The focus group (transcript) the person spoke in.",
                "speaker_type": "Who the participant is (from study.yml speakers)."}
    variables = etree.SubElement(root, P + "Variables")
    var_guid = {}
    for name in var_names:
        var_guid[name] = _guid(study_name, "variable", name)
        var = etree.SubElement(variables, P + "Variable", guid=var_guid[name], name=name,
                               typeOfVariable="Text")
        etree.SubElement(var, P + "Description").text = var_desc[name]

    # selections per segment
    themes = segment_themes.assign(segment_id=segment_themes["segment_id"].map(_clean))
    theme_of = {sid: (_clean(g), _clean(i)) for sid, g, i in
                zip(themes["segment_id"], themes["group_theme"], themes["integrated_theme"])}
    source_guid = {fg: _guid(study_name, "source", fg) for fg in texts}
    selections: dict[str, list[tuple[int, int, str, str, list[_Code]]]] = {fg: [] for fg in texts}
    selections_of: dict[tuple[str, str], list[str]] = {}
    for sid, fg, speaker, a, b in zip(segs["segment_id"], segs["focus_group"], segs["speaker"],
                                      segs["start"], segs["end"]):
        codes = tree.codes_for(*theme_of.get(sid, ("", "")))
        if not codes:
            continue
        sel_guid = _guid(study_name, "selection", sid)
        selections[fg].append((int(a), int(b), sid, sel_guid, codes))
        selections_of.setdefault((fg, _clean(speaker)), []).append(sel_guid)

    # cases: one per participant, scoped to the focus group
    cases = etree.SubElement(root, P + "Cases")
    participants = utts[utts.get("role", pd.Series("participant", index=utts.index))
                        .map(_clean).eq("participant")]
    seen = set()
    for _, row in participants.iterrows():
        fg, speaker = row["focus_group"], _clean(row["speaker"])
        if (fg, speaker) in seen:
            continue
        seen.add((fg, speaker))
        pg = _clean(row.get("participant_group", ""))
        case = etree.SubElement(cases, P + "Case", guid=_guid(study_name, "case", fg, speaker),
                                name=_xml_text(f"{speaker} ({fg})"))
        etree.SubElement(case, P + "Description").text = _xml_text(
            f"Participant in focus group {fg} ({labels.get(pg, pg)}); pseudonym as transcribed.")
        values = {"participant_group": pg, "role": "participant", "focus_group": fg,
                  "speaker_type": _clean(row.get("speaker_type", ""))}
        for name in var_names:
            if not values[name]:
                continue
            vv = etree.SubElement(case, P + "VariableValue")
            etree.SubElement(vv, P + "VariableRef", targetGUID=var_guid[name])
            etree.SubElement(vv, P + "TextValue").text = _xml_text(values[name])
        etree.SubElement(case, P + "SourceRef", targetGUID=source_guid[fg])
        for sel_guid in selections_of.get((fg, speaker), []):
            etree.SubElement(case, P + "SelectionRef", targetGUID=sel_guid)
    if not len(cases):
        root.remove(cases)

    # sources
    members: list[tuple[str, bytes]] = []
    sources = etree.SubElement(root, P + "Sources")
    group_of_fg = {}
    if "participant_group" in utts.columns:
        group_of_fg = dict(zip(utts["focus_group"], utts["participant_group"].map(_clean)))
    file_of_fg = {}
    if "source" in utts.columns:
        file_of_fg = dict(zip(utts["focus_group"], utts["source"].map(_clean)))
    for fg, text in texts.items():
        guid = source_guid[fg]
        src = etree.SubElement(sources, P + "TextSource", guid=guid, name=_xml_text(fg),
                               plainTextPath=f"internal://{guid}.txt", creatingUser=user,
                               creationDateTime=created)
        pg = group_of_fg.get(fg, "")
        desc = f"Focus group {fg}"
        if pg:
            desc += f" ({labels.get(pg, pg)})"
        if file_of_fg.get(fg):
            desc += f", transcript {file_of_fg[fg]}"
        desc += ". One line per turn: 'Speaker: text'. Speakers are pseudonyms."
        etree.SubElement(src, P + "Description").text = _xml_text(desc)
        for a, b, sid, sel_guid, codes in sorted(selections[fg], key=lambda s: (s[0], s[1], s[2])):
            sel = etree.SubElement(src, P + "PlainTextSelection", guid=sel_guid, name=_xml_text(sid),
                                   startPosition=str(a), endPosition=str(b), creatingUser=user,
                                   creationDateTime=created)
            for code in codes:
                coding = etree.SubElement(sel, P + "Coding",
                                          guid=_guid(study_name, "coding", sid, code.guid),
                                          creatingUser=user, creationDateTime=created)
                etree.SubElement(coding, P + "CodeRef", targetGUID=code.guid)
        members.append((f"sources/{guid}.txt", text.encode("utf-8")))

    if notes:
        notes_el = etree.SubElement(root, P + "Notes")
        for guid, name, text in notes:
            note = etree.SubElement(notes_el, P + "Note", guid=guid, name=_xml_text(name),
                                    plainTextPath=f"internal://{guid}.txt", creatingUser=user,
                                    creationDateTime=created)
            etree.SubElement(note, P + "Description").text = _xml_text(text)
            members.append((f"sources/{guid}.txt", text.encode("utf-8")))

    sets = []
    for pg, label in labels.items():
        codes = [c for cs in tree.children_of_group.values() for c in cs if c.participant_group == pg]
        fgs = [fg for fg in texts if group_of_fg.get(fg) == pg]
        if codes or fgs:
            sets.append((pg, label, codes, fgs))
    if sets:
        sets_el = etree.SubElement(root, P + "Sets")
        for pg, label, codes, fgs in sets:
            set_el = etree.SubElement(sets_el, P + "Set", guid=_guid(study_name, "set", pg),
                                      name=_xml_text(label))
            etree.SubElement(set_el, P + "Description").text = _xml_text(
                f"Participant group {label} ({pg}): its theme codes and transcripts.")
            for code in codes:
                etree.SubElement(set_el, P + "MemberCode", targetGUID=code.guid)
            for fg in fgs:
                etree.SubElement(set_el, P + "MemberSource", targetGUID=source_guid[fg])

    etree.SubElement(root, P + "Description").text = _xml_text(
        f"{study_title}. Exported from the study '{study_name}' by the compendium pipeline. "
        f"Each focus group is one plain-text source with one 'Speaker: text' line per turn; "
        f"selection positions count Unicode code points from 0, end exclusive. Codes: "
        f"integrated themes with the participant groups' themes beneath them. Speakers are "
        f"pseudonyms.")
    for guid in project_notes:
        etree.SubElement(root, P + "NoteRef", targetGUID=guid)

    members.sort(key=lambda m: m[0])
    members.insert(0, ("project.qde", _serialise(root)))
    path = Path(path)
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w") as zf:
            for name, data in members:
                info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3
                info.external_attr = 0o644 << 16
                zf.writestr(info, data, compresslevel=9)
    return path


# --------------------------------------------------------------------------------------
# human coding in
# --------------------------------------------------------------------------------------

_HUMAN_COLUMNS = ["source_name", "start", "end", "code", "coder", "text"]


def _norm_guid(value: str | None) -> str:
    return (value or "").strip().strip("{}").lower()


def _zip_member(zf: zipfile.ZipFile, internal: str) -> str | None:
    """The zip member an ``internal://name`` path points at (``sources/`` or ``Sources/``)."""
    name = internal[len("internal://"):].lstrip("/")
    by_lower = {n.lower(): n for n in zf.namelist()}
    for candidate in (f"sources/{name}", name):
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    for n in zf.namelist():
        if n.lower().endswith("/" + name.lower()):
            return n
    return None


def _utf16_to_codepoints(text: str):
    units = [0]
    for ch in text:
        units.append(units[-1] + (2 if ord(ch) > 0xFFFF else 1))

    def convert(pos: int) -> int:
        return bisect.bisect_right(units, pos) - 1
    return convert


def read_human_codes_qdpx(path, *, crlf: str = "auto", positions: str = "codepoints") -> pd.DataFrame:
    """Read the codings of text selections from a REFI-QDA project (``.qdpx``).

    Works on projects written by QualCoder, NVivo, ATLAS.ti or MAXQDA (namespace
    ``urn:QDA-XML:project:1.0``): every ``Coding`` inside a ``PlainTextSelection`` of a
    ``TextSource`` becomes one row. Columns: ``source_name`` (the TextSource name),
    ``start``, ``end`` (code points in the source text with ``"\\n"`` line endings, end
    exclusive), ``code`` (the code's path in the code tree, ``"Parent/Child"``),
    ``coder`` (the coding's or selection's user name, else ""), and ``text`` (the selected
    text, or None when the source text is not inside the file).

    The source text is read from ``PlainTextContent`` or the ``internal://`` file
    (UTF-8, a leading byte-order mark dropped). When it has Windows line endings, ``crlf``
    says how the software counted them: ``"two"`` (CR and LF each a position, as NVivo),
    ``"one"`` (CR LF as one, as ATLAS.ti and MAXQDA) or ``"auto"`` (``"one"`` when the
    project's ``origin`` names ATLAS.ti or MAXQDA, else ``"two"``); positions are returned
    for the text with ``"\\n"`` endings either way. ``positions="utf16"`` reads positions
    counted in UTF-16 code units. Selections without a Coding (annotations) and codings
    of cases are skipped.
    """
    if crlf not in ("auto", "one", "two"):
        raise ValueError(f"crlf must be 'auto', 'one' or 'two', not {crlf!r}")
    if positions not in ("codepoints", "utf16"):
        raise ValueError(f"positions must be 'codepoints' or 'utf16', not {positions!r}")
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise UserError(f"{path} is not a REFI-QDA project ({err}); export the project from your "
                        f"QDA software as a REFI-QDA Project (.qdpx).") from err
    with zf:
        qde = sorted((n for n in zf.namelist() if n.lower().endswith(".qde")),
                     key=lambda n: (n.count("/"), n != "project.qde", n))
        if not qde:
            raise UserError(f"{path} holds no .qde project file; export the project from your QDA "
                            f"software as a REFI-QDA Project (.qdpx).")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        try:
            root = etree.fromstring(zf.read(qde[0]), parser)
        except etree.XMLSyntaxError as err:
            raise UserError(f"{path}: {qde[0]} is not well-formed XML ({err}); export the project "
                            f"again from your QDA software.") from err
        ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
        if not ns.startswith("urn:QDA-XML:project:"):
            raise UserError(f"{path}: {qde[0]} is not a REFI-QDA project (root {root.tag}); export "
                            f"the project from your QDA software as a REFI-QDA Project (.qdpx).")

        def q(tag: str) -> str:
            return f"{{{ns}}}{tag}"

        users = {_norm_guid(u.get("guid")): u.get("name") or "" for u in root.iter(q("User"))}
        codes: dict[str, str] = {}

        def walk(el, prefix: str) -> None:
            for code in el.findall(q("Code")):
                name = (code.get("name") or "").strip()
                full = f"{prefix}/{name}" if prefix else name
                codes[_norm_guid(code.get("guid"))] = full
                walk(code, full)

        for codes_el in root.iterfind(f"{q('CodeBook')}/{q('Codes')}"):
            walk(codes_el, "")
        origin = root.get("origin") or ""
        mode = crlf
        if mode == "auto":
            mode = "one" if re.search(r"atlas|maxqda", origin, re.I) else "two"

        rows = []
        for src in root.iter(q("TextSource")):
            name = src.get("name") or _norm_guid(src.get("guid"))
            raw = None
            content = src.find(q("PlainTextContent"))
            if content is not None and content.text is not None:
                raw = content.text
            elif (src.get("plainTextPath") or "").startswith("internal://"):
                member = _zip_member(zf, src.get("plainTextPath"))
                if member is not None:
                    raw = zf.read(member).decode("utf-8-sig", errors="replace")
            text = None
            convert = None
            if raw is not None:
                text = raw.replace("\r\n", "\n").replace("\r", "\n")
                base = raw if mode == "two" else raw.replace("\r\n", "\n")
                utf16 = _utf16_to_codepoints(base) if positions == "utf16" else None
                crs = [i for i in range(len(base) - 1) if base[i] == "\r" and base[i + 1] == "\n"] \
                    if mode == "two" else []

                def convert(pos, utf16=utf16, crs=crs):
                    if utf16 is not None:
                        pos = utf16(pos)
                    return pos - bisect.bisect_left(crs, pos)
            for sel in src.findall(q("PlainTextSelection")):
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
                if start > end:
                    start, end = end, start
                if convert is not None:
                    start, end = convert(start), convert(end)
                sel_user = sel.get("creatingUser") or sel.get("modifyingUser")
                for coding in sel.findall(q("Coding")):
                    ref = coding.find(q("CodeRef"))
                    code = codes.get(_norm_guid(ref.get("targetGUID") if ref is not None else ""))
                    if code is None:
                        continue
                    coder = users.get(_norm_guid(coding.get("creatingUser") or sel_user), "")
                    rows.append((name, start, end, code, coder,
                                 text[start:end] if text is not None else None))
    out = pd.DataFrame(rows, columns=_HUMAN_COLUMNS)
    return out.astype({"start": "int64", "end": "int64"})


_SOURCE_COLUMNS = ("source", "source_name", "focus_group", "transcript")


def read_human_codes_csv(path) -> pd.DataFrame:
    """Read human codes from a CSV: one row per coded passage or turn.

    Header (case-insensitive): ``source`` (focus-group id, e.g. ``FG01``, or transcript
    file name), ``code``, and either ``start`` and ``end`` (zero-based, end-exclusive
    character positions, in code points, in the exported plain text of that source) or
    ``turn`` (the whole turn carries the code); optional ``coder``. Returns columns
    ``source, start, end, turn, code, coder`` (positions and turn as nullable integers).
    A missing column or a bad row raises a ValueError naming the file, the line and the fix.
    """
    path = Path(path)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise UserError(f"{path}, line 1: the file is empty; add the header "
                            f"'source,start,end,code' (or 'source,turn,code') and one row per "
                            f"coded passage.") from None
        cols = [h.strip().lower() for h in header]
        index: dict[str, int] = {}
        for i, c in enumerate(cols):
            index.setdefault(c, i)
        source_col = next((c for c in _SOURCE_COLUMNS if c in index), None)
        has_pos = "start" in index and "end" in index
        missing = ([] if source_col else ["source"]) + ([] if "code" in index else ["code"]) + \
            ([] if has_pos or "turn" in index else ["start and end, or turn"])
        if missing:
            raise UserError(
                f"{path}, line 1: missing column(s) {', '.join(missing)}; the header must name "
                f"source, code and either start and end (character positions in the exported "
                f"plain text) or turn.")

        def integer(value: str, what: str, line: int, minimum: int) -> int:
            try:
                number = float(value)
                if not number.is_integer() or number < minimum:
                    raise ValueError
            except ValueError:
                raise UserError(f"{path}, line {line}: {what} {value!r} is not a whole number of at "
                                f"least {minimum}; correct it or delete the row.") from None
            return int(number)

        rows = []
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue

            def get(col: str) -> str:
                i = index.get(col)
                return row[i].strip() if i is not None and i < len(row) else ""

            source, code = get(source_col), get("code")
            if not source or not code:
                raise UserError(f"{path}, line {line}: the {'source' if not source else 'code'} is "
                                f"empty; fill it in or delete the row.")
            start_s, end_s, turn_s = get("start"), get("end"), get("turn")
            start = end = turn = None
            if start_s or end_s:
                if not (start_s and end_s):
                    raise UserError(f"{path}, line {line}: give both start and end (or leave both "
                                    f"empty and give turn).")
                start = integer(start_s, "start", line, 0)
                end = integer(end_s, "end", line, 0)
                if end <= start:
                    raise UserError(f"{path}, line {line}: end ({end}) is not after start ({start}); "
                                    f"swap or correct them.")
            elif turn_s:
                turn = integer(turn_s, "turn", line, 1)
            else:
                raise UserError(f"{path}, line {line}: the row has neither start and end nor turn; "
                                f"give the character positions or the turn number.")
            rows.append((source, start, end, turn, code, get("coder")))
    out = pd.DataFrame(rows, columns=["source", "start", "end", "turn", "code", "coder"])
    return out.astype({"start": "Int64", "end": "Int64", "turn": "Int64"})


def _source_resolver(utterances: pd.DataFrame):
    fgs = sorted({_clean(x) for x in utterances["focus_group"]})
    lookup: dict[str, str] = {fg.lower(): fg for fg in fgs}
    if "source" in utterances.columns:
        for fg, src in zip(utterances["focus_group"].map(_clean), utterances["source"].map(_clean)):
            if src:
                name = Path(src.replace("\\", "/")).name
                for key in (src, name, Path(name).stem):
                    lookup.setdefault(key.lower(), fg)

    def resolve(source: object) -> str:
        name = _clean(source).strip()
        candidates = [name, Path(name.replace("\\", "/")).name]
        candidates.append(Path(candidates[-1]).stem)
        for c in candidates:
            if c.lower() in lookup:
                return lookup[c.lower()]
        hits = [fg for fg in fgs if re.search(rf"(?<![A-Za-z0-9]){re.escape(fg)}(?![0-9])", name, re.I)]
        if len(hits) == 1:
            return hits[0]
        raise UserError(f"human codes name the source {name!r}, which matches no focus group "
                        f"({', '.join(fgs)}); use the focus-group id or the transcript file name.")
    return resolve


def map_codes_to_segments(human: pd.DataFrame, segments: pd.DataFrame, utterances: pd.DataFrame,
                          *, min_overlap: float = 0.5) -> pd.DataFrame:
    """Attach human codes to analysis segments; returns ``DataFrame[segment_id, code]``.

    ``human`` comes from :func:`read_human_codes_qdpx` (``source_name``, ``start``,
    ``end``) or :func:`read_human_codes_csv` (``source``, ``start``/``end`` or ``turn``).
    Sources resolve to focus groups by id or transcript file name. A positional code goes
    to every segment of that focus group whose span it overlaps by at least
    ``min_overlap`` (half) of the segment's length, positions being those of
    :func:`plain_text_layout`; a turn-level code goes to every segment of the turn. Rows
    are ordered by segment (focus group, turn, position), and within a segment by the
    order the codes first appear in ``human``; duplicates are dropped.
    """
    src_col = "source_name" if "source_name" in human.columns else "source"
    _require(human, [src_col, "code"], "human codes")
    utts = _sorted_utterances(utterances)
    segs = _segment_spans(segments, utts)
    resolve = _source_resolver(utts)
    by_fg = {fg: rows for fg, rows in segs.groupby("focus_group", sort=False)}
    code_order: dict[str, int] = {}
    pairs: set[tuple[int, str]] = set()
    has_pos = "start" in human.columns and "end" in human.columns
    has_turn = "turn" in human.columns
    for _, row in human.iterrows():
        code = _clean(row["code"])
        if not code:
            continue
        code_order.setdefault(code, len(code_order))
        fg = resolve(row[src_col])
        rows = by_fg.get(fg)
        if rows is None:
            continue
        if has_pos and _clean(row["start"]) != "" and _clean(row["end"]) != "":
            a, b = int(row["start"]), int(row["end"])
            overlap = (rows["end"].clip(upper=b) - rows["start"].clip(lower=a)).clip(lower=0)
            length = rows["end"] - rows["start"]
            hit = rows.index[(length > 0) & (overlap >= min_overlap * length)]
        elif has_turn and _clean(row["turn"]) != "":
            hit = rows.index[rows["turn"] == int(row["turn"])]
        else:
            raise UserError(f"a human code ({code!r} in {_clean(row[src_col])}) has neither start "
                            f"and end nor turn; give the character positions or the turn.")
        pairs.update((int(i), code) for i in hit)
    ordered = sorted(pairs, key=lambda p: (p[0], code_order[p[1]]))
    return pd.DataFrame([(segs.at[i, "segment_id"], code) for i, code in ordered],
                        columns=["segment_id", "code"])


def _theme_lookup(segment_themes: pd.DataFrame, level: str) -> dict[str, str]:
    if level not in ("group_theme", "integrated_theme"):
        raise ValueError(f"level must be 'group_theme' or 'integrated_theme', not {level!r}")
    _require(segment_themes, ["segment_id", level], "segment_themes")
    return {_clean(s): _clean(t) for s, t in zip(segment_themes["segment_id"], segment_themes[level])}


def _codes_by_segment(mapped: pd.DataFrame) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for sid, code in zip(mapped["segment_id"].map(_clean), mapped["code"].map(_clean)):
        codes = out.setdefault(sid, [])
        if code not in codes:
            codes.append(code)
    return out


def compare_with_themes(mapped: pd.DataFrame, segment_themes: pd.DataFrame,
                        level: str = "group_theme") -> tuple[pd.DataFrame, dict]:
    """Compare human codes with the themes, over the segments humans coded.

    Every count is taken over the segments that carry at least one human code (what the
    coders saw and coded), so an uncoded transcript does not lower precision. For each
    code, ``best_theme`` is the theme (at ``level``) with the highest F1 against it
    (ties: more shared segments, then theme id); ``precision`` = shared / ``n_theme``
    (segments of the theme among the coded ones), ``recall`` = shared / ``n_human``
    (segments with the code). A code sharing no segment with any theme has an empty
    ``best_theme`` and zeros.

    The summary holds ``level``, ``n_segments``, ``n_codes``; ``adjusted_rand``
    (sklearn) between each segment's first code and its theme (segments without a theme
    count as one group "(no theme)"); ``one_to_one`` (every code has a best theme and no
    two codes share one) and, only then, ``cohen_kappa`` between the best theme of each
    segment's first code and its theme (None otherwise or when undefined).
    """
    from sklearn.metrics import adjusted_rand_score, cohen_kappa_score

    theme_of = _theme_lookup(segment_themes, level)
    codes_of = _codes_by_segment(mapped)
    universe = list(codes_of)
    code_segments: dict[str, set[str]] = {}
    for sid, codes in codes_of.items():
        for code in codes:
            code_segments.setdefault(code, set()).add(sid)
    theme_segments: dict[str, set[str]] = {}
    for sid in universe:
        theme = theme_of.get(sid, "")
        if theme:
            theme_segments.setdefault(theme, set()).add(sid)

    rows = []
    best: dict[str, str] = {}
    for code, h in code_segments.items():
        candidates = []
        for theme, t in theme_segments.items():
            shared = len(h & t)
            if shared:
                p, r = shared / len(t), shared / len(h)
                candidates.append((-(2 * p * r / (p + r)), -shared, theme, p, r, len(t)))
        if candidates:
            f1, _, theme, p, r, n_theme = min(candidates)
            rows.append((code, theme, p, r, -f1, len(h), n_theme))
            best[code] = theme
        else:
            rows.append((code, "", 0.0, 0.0, 0.0, len(h), 0))
            best[code] = ""
    per_code = pd.DataFrame(rows, columns=["code", "best_theme", "precision", "recall", "f1",
                                           "n_human", "n_theme"])

    first = [codes_of[sid][0] for sid in universe]
    model = [theme_of.get(sid, "") or _NO_THEME for sid in universe]
    chosen = [b for b in best.values()]
    one_to_one = bool(chosen) and all(chosen) and len(set(chosen)) == len(chosen)
    kappa = None
    if one_to_one and universe:
        value = float(cohen_kappa_score([best[c] for c in first], model))
        kappa = None if math.isnan(value) else value
    summary = {
        "level": level,
        "n_segments": len(universe),
        "n_codes": len(code_segments),
        "adjusted_rand": float(adjusted_rand_score(first, model)) if universe else None,
        "one_to_one": one_to_one,
        "cohen_kappa": kappa,
    }
    return per_code, summary


def disagreements(mapped: pd.DataFrame, segment_themes: pd.DataFrame, segments: pd.DataFrame,
                  n: int = 10, level: str = "group_theme") -> pd.DataFrame:
    """Segments where the human coding and the model part ways, with the quote.

    A segment disagrees when none of its human codes has the segment's own theme as its
    best-matching theme (see :func:`compare_with_themes`). Returns at most ``n`` rows, in
    transcript order: ``segment_id, focus_group, speaker, human_codes, human_best_theme,
    model_theme, quote`` (codes and their best themes ``"; "``-joined; ``quote`` is the
    segment text, annotations removed; speakers are the pseudonyms of the transcripts).
    """
    per_code, _ = compare_with_themes(mapped, segment_themes, level)
    best = dict(zip(per_code["code"], per_code["best_theme"]))
    theme_of = _theme_lookup(segment_themes, level)
    codes_of = _codes_by_segment(mapped)
    _require(segments, ["segment_id", "focus_group", "speaker", "turn", "char_start"], "segments")
    segs = segments.assign(segment_id=segments["segment_id"].map(_clean))
    segs = segs.sort_values(["focus_group", "turn", "char_start", "segment_id"], kind="mergesort")
    rows = []
    for _, seg in segs.iterrows():
        codes = codes_of.get(seg["segment_id"])
        if not codes:
            continue
        theme = theme_of.get(seg["segment_id"], "")
        if theme and any(best.get(c) == theme for c in codes):
            continue
        rows.append((seg["segment_id"], _clean(seg["focus_group"]), _clean(seg["speaker"]),
                     "; ".join(codes), "; ".join(best.get(c, "") for c in codes),
                     theme, _clean(seg.get("text", ""))))
        if len(rows) >= n:
            break
    return pd.DataFrame(rows, columns=["segment_id", "focus_group", "speaker", "human_codes",
                                       "human_best_theme", "model_theme", "quote"])


# --------------------------------------------------------------------------- the notebook's two steps

def write_exports(output_dir: Path, study, *, utterances: pd.DataFrame, segments: pd.DataFrame,
                  segment_themes: pd.DataFrame, group_themes: pd.DataFrame, integrated_themes: pd.DataFrame,
                  audit: pd.DataFrame, disclosures: pd.DataFrame) -> str:
    """Write ``export/<study>.qdpx`` and ``export/codebook.qdc`` unless the disclosure
    check forbids it; record the outcome in ``export_status.txt`` and return it.

    When exports are refused, exports left by an earlier run are removed, so nothing in
    ``export/`` can quote transcripts that now have unresolved identifying details.
    """
    from ._io import write_text_atomic
    from .disclosure import exports_allowed
    from .study import group_palette

    output_dir = Path(output_dir)
    export_dir = output_dir / "export"
    allowed, reason = exports_allowed(disclosures, study)
    if allowed:
        palette = group_palette(study.group_ids)
        qdpx = export_qdpx(export_dir / f"{study.name}.qdpx", study_name=study.name, study_title=study.title,
                           utterances=utterances, segments=segments, segment_themes=segment_themes,
                           group_themes=group_themes, integrated_themes=integrated_themes, audit=audit,
                           group_labels=study.group_labels, palette=palette)
        qdc = export_codebook(export_dir / "codebook.qdc", study_name=study.name, group_themes=group_themes,
                              integrated_themes=integrated_themes, segment_themes=segment_themes,
                              group_labels=study.group_labels, palette=palette)
        status = f"Exported {qdpx.name} and {qdc.name}. {reason}"
    else:
        for stale in export_dir.glob("*"):
            stale.unlink()
        status = "No export written: " + reason
    write_text_atomic(output_dir / "export_status.txt", status + "\n")
    return status


@dataclass
class HumanComparison:
    """Human coding against the model's themes (empty tables when there is no coding)."""

    message: str
    per_code: pd.DataFrame
    summary: pd.DataFrame
    disagreements: pd.DataFrame


def compare_human_coding(path, segments: pd.DataFrame, utterances: pd.DataFrame, segment_themes: pd.DataFrame,
                         level: str = "integrated_theme") -> HumanComparison:
    """Read codes applied by people (``.qdpx`` or ``.csv``), map them onto segments and
    compare them with the model's themes at ``level``. An empty ``path`` compares nothing."""
    if not str(path or "").strip():
        empty = pd.DataFrame()
        return HumanComparison("No human coding given (parameter human_codes); nothing to compare.",
                               empty, empty, empty)
    path = Path(path)
    human = read_human_codes_qdpx(path) if path.suffix.lower() == ".qdpx" else read_human_codes_csv(path)
    mapped = map_codes_to_segments(human, segments, utterances)
    per_code, summary = compare_with_themes(mapped, segment_themes, level=level)
    return HumanComparison(
        f"{len(human)} human codings from {path.name} cover {summary['n_segments']} segments.",
        per_code, pd.DataFrame([summary]), disagreements(mapped, segment_themes, segments, level=level))
