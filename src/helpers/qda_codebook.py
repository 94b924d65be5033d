"""The code tree researchers get in their QDA software, and the codebook files.

Integrated themes are parent codes; the participant groups' themes that make them up are
their children; group themes that no integrated theme took up sit under a non-codable
parent "Not integrated". The same tree goes into the project (``.qdpx``, see
:mod:`helpers.qda_export`), the REFI-QDA codebook (``codebook.qdc``) and a Taguette
codebook (``codebook.csv``, Taguette imports codebooks as CSV only).

What makes the tree arrive intact, learnt from the importers themselves:

* QualCoder keeps code names unique (a second code with the same name is dropped and its
  codings lose their code), and so does Taguette (a repeated tag is not imported): names
  are made unique here.
* QualCoder 3.8.2 mangles a ``Code`` holding anything but ``Description`` and child
  ``Code`` elements (each Code-level ``NoteRef`` becomes a nameless code). The workshop
  decisions about a code therefore go into its description, which every tool shows.
* Names read in a code tree: the readable label first, the theme id in brackets; the
  keywords and provenance go into the description.
* Colours: one per participant group for its themes (the figures' colours), a distinct
  one per integrated theme.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from lxml import etree

from ._io import atomic_path, cell_flag
from .qda_layout import CODEBOOK_NS, clean, group_labels, guid, require, split_ids, xml_text

__all__ = ["Code", "CodeTree", "build_code_tree", "export_codebook", "export_taguette_codebook",
           "readable_label", "ORIGIN"]

ORIGIN = "compassion co-production compendium (helpers.qda_export)"
NOT_INTEGRATED = "Not integrated"
# Okabe-Ito, colour-blind safe: participant groups when the caller gives no palette.
GROUP_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442", "#999999")
# Integrated themes: Paul Tol's and Okabe-Ito's qualitative colours, picked so that
# QualCoder's nearest-colour matching (it maps every imported colour onto its own palette)
# still gives each one its own colour, apart from those of the figures' group colours.
INTEGRATED_COLOURS = ("#332288", "#44AA99", "#999933", "#DDCC77", "#CC6677", "#882255", "#77AADD", "#EE8866",
                      "#FFAABB", "#99DDFF", "#BBCC33", "#AAAA00", "#E69F00", "#009E73", "#F0E442", "#D55E00")
NEUTRAL_COLOUR = "#BBBBBB"


@dataclass
class Code:
    guid: str
    name: str
    description: str
    color: str
    codable: bool = True
    theme_id: str = ""
    participant_group: str = ""
    children: list["Code"] = field(default_factory=list)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class CodeTree:
    parents: list[Code]
    child: dict[tuple[str, str], Code]          # (integrated theme | "", group theme) -> code
    integrated: dict[str, Code]
    children_of_group: dict[str, list[Code]]    # group theme -> its codes (one per parent)
    groups: dict[str, str]                      # participant group id -> label, colour order

    def codes(self):
        for parent in self.parents:
            yield from parent.walk()

    def codes_for(self, group_theme: str, integrated_theme: str) -> list[Code]:
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

    def codes_naming(self, theme_id: str) -> list[Code]:
        """The codes of a theme id (an integrated theme, or every copy of a group theme)."""
        own = [self.integrated[theme_id]] if theme_id in self.integrated else []
        return own + self.children_of_group.get(theme_id, [])


def readable_label(label: object) -> str:
    """A label as a phrase: keyword labels ``"gown / door"`` read ``"gown, door"``."""
    text = " ".join(clean(label).split())
    return ", ".join(part.strip() for part in text.split(" / ") if part.strip()) or "(no label)"


def _short_theme_id(theme_id: str) -> str:
    return theme_id.split(":", 1)[1] if ":" in theme_id else theme_id


def _group_colours(groups: Mapping[str, str], palette: Mapping[str, str] | None) -> dict[str, str]:
    return {pg: (palette or {}).get(pg) or GROUP_COLOURS[i % len(GROUP_COLOURS)] for i, pg in enumerate(groups)}


def _integrated_colours(theme_ids: list[str], taken: set[str]) -> dict[str, str]:
    free = [c for c in INTEGRATED_COLOURS if c.upper() not in {t.upper() for t in taken}] or list(INTEGRATED_COLOURS)
    return {tid: free[i % len(free)] for i, tid in enumerate(theme_ids)}


def _optional(row: Mapping, column: str) -> str:
    return clean(row.get(column, "")) if hasattr(row, "get") else ""


def _sentences(row: Mapping, templates: tuple[tuple[str, str], ...]) -> list[str]:
    """One sentence per optional column that has a value (``{}`` takes the value)."""
    return [template.format(_optional(row, column)) for column, template in templates if _optional(row, column)]


# Columns of group_themes.csv worth reading beside a code's name; the newer ones
# (consensus, caveat, fingerprint) are used when the theme stage writes them.
_GROUP_THEME_SENTENCES = (("keywords", "Keywords: {}."), ("n_segments", "{} segments."),
                          ("consensus", "Consensus across refits: {}."), ("caveat", "Caveat: {}"),
                          ("fingerprint", "Fingerprint {}."))
_INTEGRATED_SENTENCES = (("status", "Status: {}."), ("source_themes", "Made of the group themes {}."),
                         ("flags", "Flags: {}."))


def _group_theme_description(row: Mapping, group_label: str) -> str:
    """What a researcher needs beside the name: provenance, keywords, stability notes."""
    tid = clean(row["theme_id"])
    parts = [f"{readable_label(row['label'])}. Theme {_short_theme_id(tid)} of {group_label} ({tid})."]
    parts += _sentences(row, _GROUP_THEME_SENTENCES)
    if cell_flag(row.get("unstable")):
        parts.append("Unstable: it did not come back in most refits.")
    return " ".join(parts)


def _integrated_description(row: Mapping) -> str:
    parts = [_optional(row, "description") or readable_label(row["label"])]
    return " ".join(parts + _sentences(row, _INTEGRATED_SENTENCES))


def _unique_names(codes) -> None:
    """Give a repeated name a number in brackets, so no tool drops the code."""
    seen: dict[str, int] = {}
    for code in codes:
        base = code.name
        if base in seen:
            seen[base] += 1
            code.name = f"{base} [{seen[base]}]"
        seen.setdefault(code.name, 1)


def _members(integrated: pd.DataFrame, known: set[str], segment_themes: pd.DataFrame | None) -> dict[str, list[str]]:
    """Integrated theme -> its group themes, from source_themes and from the segments."""
    members = {row["theme_id"]: [g for g in split_ids(row.get("source_themes", "")) if g in known]
               for _, row in integrated.iterrows()}
    if segment_themes is not None and {"group_theme", "integrated_theme"} <= set(segment_themes.columns):
        pairs = {(clean(i), clean(g)) for g, i in zip(segment_themes["group_theme"], segment_themes["integrated_theme"])}
        for i, g in sorted(pairs):
            if i in members and g in known and g not in members[i]:
                members[i].append(g)
    return members


def build_code_tree(study_name: str, group_themes: pd.DataFrame, integrated_themes: pd.DataFrame | None,
                    segment_themes: pd.DataFrame | None, labels, palette: Mapping[str, str] | None = None) -> CodeTree:
    """The export's code tree; GUIDs depend only on the study name and theme ids."""
    require(group_themes, ["participant_group", "theme_id", "label"], "group_themes")
    groups = group_labels(labels)
    for pg in sorted({clean(x) for x in group_themes["participant_group"]} - set(groups)):
        groups[pg] = pg
    colour = _group_colours(groups, palette)
    order = {pg: i for i, pg in enumerate(groups)}

    gt = group_themes.assign(participant_group=group_themes["participant_group"].map(clean),
                             theme_id=group_themes["theme_id"].map(clean))
    gt = gt.assign(_order=gt["participant_group"].map(order)).sort_values(["_order", "theme_id"], kind="mergesort")
    info = {row["theme_id"]: row for _, row in gt.iterrows()}

    it = integrated_themes if integrated_themes is not None else pd.DataFrame(columns=["theme_id", "label"])
    require(it, ["theme_id", "label"], "integrated_themes")
    it = it.assign(theme_id=it["theme_id"].map(clean)).sort_values("theme_id", kind="mergesort")
    members = _members(it, set(info), segment_themes)
    integrated_colour = _integrated_colours(list(it["theme_id"]), set(colour.values()))

    def child_code(parent_key: str, gid: str) -> Code:
        row = info[gid]
        pg = row["participant_group"]
        name = f"{readable_label(row['label'])} ({groups.get(pg, pg)} {_short_theme_id(gid)})"
        return Code(guid(study_name, "code", parent_key, gid), name, _group_theme_description(row, groups.get(pg, pg)),
                    colour.get(pg, NEUTRAL_COLOUR), True, gid, pg)

    tree = CodeTree([], {}, {}, {g: [] for g in info}, groups)
    for _, row in it.iterrows():
        iid = row["theme_id"]
        parent = Code(guid(study_name, "code", iid), f"{readable_label(row['label'])} ({iid})",
                      _integrated_description(row), integrated_colour[iid], True, iid)
        for gid in sorted(members[iid], key=lambda g: (order.get(info[g]["participant_group"], 0), g)):
            code = child_code(iid, gid)
            parent.children.append(code)
            tree.child[(iid, gid)] = code
            tree.children_of_group[gid].append(code)
        tree.parents.append(parent)
        tree.integrated[iid] = parent
    leftovers = [g for g in info if not tree.children_of_group[g]]
    if leftovers:
        parent = Code(guid(study_name, "code", "not-integrated"), NOT_INTEGRATED,
                      "Themes of the participant groups that no integrated theme took up.", NEUTRAL_COLOUR, False)
        for gid in leftovers:
            code = child_code("", gid)
            parent.children.append(code)
            tree.child[("", gid)] = code
            tree.children_of_group[gid].append(code)
        tree.parents.append(parent)
    _unique_names(tree.codes())
    return tree


def add_code_elements(parent_el, codes: list[Code], ns: str) -> None:
    """Code elements holding only a Description and child Codes (see the module notes)."""
    for code in codes:
        el = etree.SubElement(parent_el, ns + "Code", guid=code.guid, name=xml_text(code.name),
                              isCodable="true" if code.codable else "false", color=code.color)
        etree.SubElement(el, ns + "Description").text = xml_text(code.description)
        add_code_elements(el, code.children, ns)


def serialise(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def export_codebook(path, tree: CodeTree, study_name: str) -> Path:
    """Write a REFI-QDA codebook (``codebook.qdc``, Codebook.xsd) with the tree, one Set
    per participant group listing its theme codes. Written atomically."""
    C = f"{{{CODEBOOK_NS}}}"
    root = etree.Element(C + "CodeBook", nsmap={None: CODEBOOK_NS}, origin=ORIGIN)
    add_code_elements(etree.SubElement(root, C + "Codes"), tree.parents, C)
    sets = [(pg, label, [c for c in tree.codes() if c.participant_group == pg]) for pg, label in tree.groups.items()]
    sets = [s for s in sets if s[2]]
    if sets:
        sets_el = etree.SubElement(root, C + "Sets")
        for pg, label, codes in sets:
            set_el = etree.SubElement(sets_el, C + "Set", guid=guid(study_name, "set", pg), name=xml_text(label))
            etree.SubElement(set_el, C + "Description").text = xml_text(f"Themes of the participant group {label} ({pg}).")
            for code in codes:
                etree.SubElement(set_el, C + "MemberCode", guid=code.guid)
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(serialise(root))
    return path


#: Taguette's own codebook export starts with these columns; its importer reads ``tag``
#: (the name) and ``description`` and ignores the rest.
TAGUETTE_COLUMNS = ("tag", "description")


def export_taguette_codebook(path, tree: CodeTree) -> Path:
    """Write the codable codes as a Taguette codebook CSV (UTF-8, one row per code, the
    parent's name at the start of a child's description)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TAGUETTE_COLUMNS)

    def rows(codes: list[Code], parent: str) -> None:
        for code in codes:
            if code.codable:
                where = f"Under '{parent}'. " if parent else ""
                writer.writerow([code.name, where + code.description])
            rows(code.children, code.name)

    rows(tree.parents, "")
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
    return path
