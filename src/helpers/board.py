"""The workshop board: run a co-production workshop in a browser, leave with its decision file.

:func:`write_board` writes ``workshop_board.html``: one self-contained page (no server,
no network) showing the state after the last recorded workshop — a card for every group
theme not yet placed and a pile for every integrated theme — on which a room merges,
renames, drops (with a rationale), defines, links, assigns and splits, sees each pile's
balance across participant groups live, and downloads ``workshop_N.yml`` in the shape of
``docs/workshop_files.md`` (with the ``based_on`` fingerprints of the themes it used).

Everything the browser needs is computed here from plain tables and embedded as JSON:
per-theme segment counts by participant group and by speaker, per-group totals, and
fingerprints. The browser adds counts and applies :mod:`helpers.balance`'s formula
(ported as ``assets/board/balance.js``), so a pile's balance on the board is the number
notebook 05 will compute. Cards take their colours, sizes and labels from the thematic
map's layout (:func:`helpers.maps.thematic_map_layout`), which the board also draws.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from importlib import resources
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from ._io import UserError, cell_flag, write_text_atomic
from ._io import cell_list as _split
from ._io import cell_text as _text
from .decisions import ATTRIBUTES, RELATIONS   # what notebook 05 accepts
from .identity import fingerprint
from .runs import repo_root
from .maps import cooccurrence_edges, thematic_map_layout, thematic_map_svg
from .study import Study, group_palette
from .workshop_files import load_workshops

#: Quotes shown on a card: three to five, enough to judge a theme by; group_themes.csv carries up to five.
MAX_QUOTES = 5
_INTEGRATED = re.compile(r"I\d{2,}")


class BoardError(UserError):
    """The tables cannot make a board; the message names the file and the fix."""


def _quote_segments(row: dict) -> list[str]:
    return _split(row.get("quote_segments"))


def next_workshop_number(study: Study) -> int:
    """One more than the highest ``workshop:`` number among the study's workshop files."""
    return max((w.number for w in load_workshops(list(study.workshops))), default=0) + 1


def board_data(study: Study, group_themes: pd.DataFrame, assignments: pd.DataFrame, segments: pd.DataFrame,
               integrated: pd.DataFrame, audit: pd.DataFrame, segment_themes: pd.DataFrame | None = None,
               workshop: int | None = None, layout=None) -> dict:
    """The JSON the board page starts from (see the module docstring). ``layout``: the
    thematic map's layout, for the cards' colours (built here when not given)."""
    for name, table, needed in (("group_themes.csv", group_themes, {"participant_group", "theme_id", "label"}),
                                ("theme_assignments.parquet", assignments, {"segment_id", "theme_id"}),
                                ("segments.parquet", segments, {"segment_id", "participant_group", "focus_group",
                                                                "speaker"}),
                                ("integrated_themes.csv", integrated, {"theme_id", "label", "status",
                                                                       "source_themes"})):
        missing = sorted(needed - set(table.columns))
        if missing:
            raise BoardError(f"{name} has no column {missing[0]!r}; rerun the notebook that writes it "
                             "(04 for group themes, 03 for segments, 05 for integrated themes).")
    group_ids = list(study.group_ids)
    palette = group_palette(group_ids)
    speaker_of = {s: f"{fg}/{sp}" for s, fg, sp in zip(segments["segment_id"], segments["focus_group"],
                                                       segments["speaker"])}
    group_of_segment = dict(zip(segments["segment_id"], segments["participant_group"]))
    speaker_ids = {key: k for k, key in enumerate(sorted(set(speaker_of.values())))}  # counts only, no names

    # members of every theme: group themes after earlier splits come from segment_themes
    members: dict[str, list[str]] = {}
    if segment_themes is not None and "group_theme" in segment_themes.columns:
        for sid, tid in zip(segment_themes["segment_id"], segment_themes["group_theme"]):
            if _text(tid):
                members.setdefault(_text(tid), []).append(sid)
        for sid, tid in zip(segment_themes["segment_id"], segment_themes["integrated_theme"]):
            if _text(tid):
                members.setdefault(_text(tid), []).append(sid)
    base_members: dict[str, list[str]] = {}
    for sid, tid in zip(assignments["segment_id"], assignments["theme_id"]):
        base_members.setdefault(_text(tid), []).append(sid)
    for tid, sids in base_members.items():
        members.setdefault(tid, sids)

    def tallies(sids):
        by_group = Counter(group_of_segment.get(s, "") for s in sids)
        by_speaker = Counter(speaker_ids[speaker_of[s]] for s in sids if s in speaker_of)
        return ({g: int(by_group.get(g, 0)) for g in group_ids if by_group.get(g)},
                {str(k): int(v) for k, v in sorted(by_speaker.items())})

    if layout is None:
        layout = thematic_map_layout(integrated, group_themes, segment_themes, None, None, palette,
                                     study.group_labels)
    nodes = {n.id: n for n in layout.nodes}

    cards: dict[str, dict] = {}
    for row in group_themes.to_dict("records"):
        tid = _text(row["theme_id"])
        group = _text(row["participant_group"])
        sids = members.get(tid, [])
        counts, speakers = tallies(sids)
        quotes = [_text(row.get(f"quote_{k}")) for k in range(1, MAX_QUOTES + 1)]
        segs = _quote_segments(row)
        card_quotes = [{"text": q, "segment": segs[k] if k < len(segs) else ""} for k, q in enumerate(quotes) if q]
        node = nodes.get(tid)
        cards[tid] = {
            "id": tid, "kind": "group", "group": group, "label": _text(row["label"]),
            "keywords": _split(row.get("keywords"))[:8], "n": len(sids) or int(float(_text(row.get("n_segments"))
                                                                                  or 0)),
            "quotes": card_quotes,
            "fingerprint": _text(row.get("fingerprint")) or (fingerprint(base_members[tid]) if tid in base_members
                                                             else fingerprint(sids)),
            "unstable": cell_flag(row.get("unstable")), "consensus": _text(row.get("consensus")),
            "caveat": _text(row.get("caveat")), "counts": counts, "speakers": speakers,
            "colour": node.colour if node else palette.get(group, "#BBBBBB"),
        }
    agreed, proposed = [], []
    for row in integrated.to_dict("records"):
        tid = _text(row["theme_id"])
        sources = _split(row["source_themes"])
        sids = members.get(tid) or [s for src in sources for s in members.get(src, [])]
        counts, speakers = tallies(sids)
        status = _text(row.get("status")) or "agreed"
        cards[tid] = {
            "id": tid, "kind": "integrated", "status": status, "label": _text(row["label"]),
            "description": _text(row.get("description")), "sources": sources, "n": len(sids),
            "fingerprint": fingerprint(sids), "counts": counts, "speakers": speakers,
            "workshop": _text(row.get("workshop")),
        }
        (proposed if status == "proposed" else agreed).append(tid)
    placed = {s for t in agreed for s in cards[t]["sources"]}
    dropped = sorted({t for t in (_text(x) for x in _split_audit(audit, "drop")) if t in cards})
    split_parents = {t.rsplit(".", 1)[0] for t in cards if "." in t.split(":", 1)[-1]}
    unplaced = [t for t, c in cards.items() if c["kind"] == "group" and t not in placed and t not in dropped
                and t not in split_parents]
    totals = Counter(group_of_segment.values())
    number = workshop if workshop is not None else next_workshop_number(study)
    return {
        "study": {"name": study.name, "title": study.title},
        "workshop": number,
        "groups": [{"id": g, "label": study.group_labels.get(g, g), "colour": palette[g]} for g in group_ids],
        "totals": {g: int(totals.get(g, 0)) for g in group_ids},
        "attributes": list(ATTRIBUTES), "relations": list(RELATIONS),
        "cards": cards, "agreed": sorted(agreed), "proposed": sorted(proposed), "unplaced": sorted(unplaced),
        "dropped": dropped,
        # every integrated id used so far, retired ones too: a merge without 'into' takes
        # the lowest free number, as notebook 05 does (Integration.next_id)
        "taken": sorted(set(agreed) | {t for col in ("inputs", "outputs") for t in _audit_ids(audit, col)}),
        "illustrative": bool(study.synthetic),
        "files": workshop_file_places(study, number),
    }


def _audit_ids(audit: pd.DataFrame | None, column: str) -> list[str]:
    """The integrated theme ids in one column of workshop_audit.csv."""
    if audit is None or audit.empty or column not in audit.columns:
        return []
    return [t for cell in audit[column] for t in _split(cell) if _INTEGRATED.fullmatch(t)]


def _split_audit(audit: pd.DataFrame | None, action: str) -> list[str]:
    """The inputs of every ``action`` row of workshop_audit.csv."""
    if audit is None or audit.empty or not {"action", "inputs"} <= set(audit.columns):
        return []
    return [t for a, inputs in zip(audit["action"], audit["inputs"]) if _text(a) == action for t in _split(inputs)]


def workshop_file_places(study: Study, number: int) -> dict[str, str]:
    """Where the downloaded file and its snapshot go, in the study's own terms: the folder
    its workshop files live in (the folder of the last one listed, else ``workshops/``
    beside study.yml, so ``data/private/workshops/`` for a study in ``data/private/``), the
    study file to list it in and the entry to write there."""
    folder = study.workshops[-1].parent if study.workshops else study.root / "workshops"
    root = repo_root()

    def shown(path: Path) -> str:
        path = Path(os.path.abspath(path))
        return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()

    name = f"workshop_{number}"
    return {"yaml": f"{name}.yml", "snapshot": f"{name}.snapshot.csv", "snapshot_from": "workshop_packs/",
            "folder": shown(folder).rstrip("/") + "/", "study": shown(study.path),
            "entry": Path(os.path.relpath(os.path.abspath(folder / f"{name}.yml"),
                                          os.path.abspath(study.root))).as_posix()}


def _asset(*parts: str) -> str:
    return resources.files("helpers").joinpath(*parts).read_text(encoding="utf-8")


def board_scripts() -> str:
    """The page's JavaScript: js-yaml (vendored, MIT), the balance formula, the workshop
    file reader and writer, and the board itself, in that order."""
    js_yaml = _asset("assets", "vendor", "js-yaml", "js-yaml.umd.min.js")
    js_yaml = re.sub(r"\n//# sourceMappingURL=\S*\s*$", "\n", js_yaml)   # the map is not shipped
    parts = [js_yaml, *(_asset("assets", "board", name) for name in ("balance.js", "workshop_yaml.js", "board.js"))]
    script = "\n".join(parts)
    if re.search(r"</script|<!--", script, re.I):   # would end the inline <script> early
        raise BoardError("a board script contains '</script' or '<!--'; it cannot be inlined into the page.")
    return script


def board_html(data: dict, map_svg: str, banner: str = "") -> str:
    """The page (templates/board.html.j2, autoescaped): header form, piles, proposals,
    unplaced cards, the map, decisions so far. ``map_svg`` is markup the map helper built
    (it escapes its own text); ``banner`` is a warning shown above everything."""
    env = Environment(loader=PackageLoader("helpers", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      keep_trailing_newline=True)
    return env.get_template("board.html.j2").render(
        data=data, files=data["files"], banner=banner, map_svg=Markup(map_svg), css=Markup(_asset("assets", "board", "board.css")),
        scripts=Markup(board_scripts()))


def write_board(path: str | Path, study: Study, group_themes: pd.DataFrame, assignments: pd.DataFrame,
                segments: pd.DataFrame, integrated: pd.DataFrame, audit: pd.DataFrame,
                segment_themes: pd.DataFrame | None = None, links: pd.DataFrame | None = None,
                workshop: int | None = None, banner: str = "") -> Path:
    """Write ``workshop_board.html`` (atomically) and return its path. ``banner``: a
    warning to show above the board (e.g. while disclosures are unresolved)."""
    palette = group_palette(study.group_ids)
    cooc = (cooccurrence_edges(segment_themes, segments) if segment_themes is not None
            and "integrated_theme" in segment_themes.columns else None)
    layout = thematic_map_layout(integrated, group_themes, segment_themes, links, cooc, palette, study.group_labels)
    data = board_data(study, group_themes, assignments, segments, integrated, audit, segment_themes, workshop, layout)
    tips = {n.id: f"{n.id} · {n.label.splitlines()[-1] if n.kind == 'main' else n.label}".replace("\n", " ")
            for n in layout.nodes}
    return write_text_atomic(path, board_html(data, thematic_map_svg(layout, tips, interactive=False), banner))
