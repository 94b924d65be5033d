"""The study report: one self-contained HTML page built from the tables of a run.

:func:`read_run` reads the contract files under an output folder (docs/data_contracts.md)
into a :class:`RunFiles`; :func:`render_report` turns those tables into the page with
the Jinja2 templates under ``helpers/templates/report/`` (autoescape on, read with
``importlib.resources``). Every text shown comes from the tables it is given, so a
masking step can stand between the two. The page embeds every figure as a base64 data
URI and its CSS inline; it loads nothing from elsewhere and runs no script. It links only
to files of the same output folder (the interactive figures, the board, the packs).

What a reviewer reads first is the summary (the definition, the integrated themes with
their balance, flags and caveats, how far to trust the group themes, what is still open),
then the workshops (every decision in plain words with its reason). The reproducibility
section comes from ``run_manifest.json``: the Makefile's last step writes the manifest of
every other output, passes it to :func:`write_report`, and adds the report's own
checksum to the manifest afterwards (so the report never needs its own checksum).

A file that is missing or unreadable makes its section say so plainly; the report is
still built. The disclosure section gives counts only, never the matched strings.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd

from ._io import cell_flag
from ._io import cell_list as _split
from ._io import cell_text as _text
from ._io import write_text_atomic
from .study import Study, group_palette
from .themes import quotes_of

REPORT = "report.html"
MANIFEST = "run_manifest.json"
#: Smallest text a figure may show at the width the report gives it (points).
MIN_FIGURE_TEXT_PT = 9.0
#: The widest a figure is drawn in the report (CSS pixels; the page's content width).
MAX_FIGURE_WIDTH_PX = 1240

#: Which notebook writes each file (for "not available" messages).
WRITTEN_BY = {
    "talk_share.csv": "02_describe_groups", "figures/talk_share.png": "02_describe_groups",
    "group_themes.csv": "04_group_themes", "theme_quality.csv": "04_group_themes",
    "integrated_themes.csv": "05_coproduction_workshops", "theme_links.csv": "05_coproduction_workshops",
    "framework.csv": "05_coproduction_workshops", "definition.csv": "05_coproduction_workshops",
    "workshop_audit.csv": "05_coproduction_workshops", "split_themes.csv": "05_coproduction_workshops",
    "figures/thematic_map.png": "06_thematic_maps", "figures/theme_group_heatmap.png": "06_thematic_maps",
    "figures/theme_lineage.png": "06_thematic_maps", "disclosures.csv": "01_ingest_transcripts",
    "figures/process_model.png": "00_process_model",
}

SECTIONS = (
    ("summary", "Summary"),
    ("workshops", "Co-production workshops"),
    ("design", "Study design"),
    ("talk", "Who spoke"),
    ("themes", "Themes of each participant group"),
    ("quality", "Theme quality"),
    ("integrated", "Integrated themes"),
    ("maps", "Thematic maps"),
    ("definition", "Co-produced definition and framework"),
    ("agreement", "Agreement with human coding"),
    ("disclosure", "Disclosure status"),
    ("reproducibility", "Reproducibility"),
)

#: The tables the report reads, by the name the sections use.
TABLES = {
    "talk_share": "talk_share.csv", "talk_gaps": "talk_gaps.csv", "ingest_warnings": "ingest_warnings.csv",
    "group_themes": "group_themes.csv", "theme_quality": "theme_quality.csv",
    "integrated": "integrated_themes.csv", "links": "theme_links.csv", "audit": "workshop_audit.csv",
    "split_parts": "split_themes.csv", "framework": "framework.csv", "definition": "definition.csv",
    "disclosures": "disclosures.csv", "human_agreement": "human_agreement.csv",
    "human_disagreements": "human_disagreements.csv",
}

#: Figures of the maps section: (file, alt text, caption, its interactive page).
MAP_FIGURES = (
    ("figures/thematic_map.png", "Thematic map of the integrated themes",
     "Integrated themes (large circles, dashed while proposed), the participant groups' themes they came from "
     "(small circles, coloured by group; parts of a split theme carry the label the workshop gave them), links "
     "decided in workshops (arrows) and themes raised together in talk (grey, width ∝ weight).",
     "figures/thematic_map.html"),
    ("figures/theme_group_heatmap.png", "Heatmap of integrated themes by participant group",
     "Share of each participant group's segments in each integrated theme, with balance and flags.", ""),
    ("figures/theme_lineage.png", "Lineage from group themes to integrated themes",
     "How each group's themes became integrated themes (band width ∝ segments; a split theme flows through its "
     "parts); grey: dropped.", "figures/theme_lineage.html"),
)


class _Missing(Exception):
    """A file the section needs is not in the output folder."""


@dataclass
class RunFiles:
    """What the report shows, read from an output folder: the tables (a missing file is
    absent from ``tables``, an unreadable one is in ``unreadable`` with the reason), the
    figures that exist, the export status and the manifest (``None`` until a complete
    run wrote one)."""

    output_dir: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    export_status: str | None = None
    manifest: dict | None = None
    manifest_problem: str = ""
    files: set[str] = field(default_factory=set)

    def table(self, key: str) -> pd.DataFrame:
        """A table the section needs; :class:`_Missing` when the file is not there."""
        name = TABLES[key]
        if key in self.unreadable:
            raise ValueError(f"{name} could not be read: {self.unreadable[key]}")
        if key not in self.tables:
            raise _Missing(name)
        return self.tables[key]

    def optional(self, key: str) -> pd.DataFrame:
        """A table that may be absent: empty when it is."""
        return self.tables.get(key, pd.DataFrame())


def read_run(output_dir: Path) -> RunFiles:
    """Read every file the report shows from ``output_dir`` (see :class:`RunFiles`)."""
    out = Path(output_dir)
    run = RunFiles(out)
    for key, name in TABLES.items():
        path = out / name
        if not path.is_file():
            continue
        try:
            run.tables[key] = pd.read_csv(path, keep_default_na=False)
        except pd.errors.EmptyDataError:
            run.tables[key] = pd.DataFrame()
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            run.unreadable[key] = " ".join(str(exc).split())[:200]
    figures = out / "figures"
    if figures.is_dir():
        run.figures = {f"figures/{p.name}": p for p in sorted(figures.iterdir()) if p.suffix in (".png", ".svg")}
    for name in ("figures/thematic_map.html", "figures/theme_lineage.html", "workshop_board.html"):
        if (out / name).is_file():
            run.files.add(name)
    packs = out / "workshop_packs"
    if packs.is_dir():
        run.files |= {f"workshop_packs/{p.name}" for p in packs.glob("*.html")}
    status = out / "export_status.txt"
    if status.is_file():
        run.export_status = status.read_text(encoding="utf-8", errors="replace")
    manifest = out / MANIFEST
    if manifest.is_file():
        try:
            loaded = json.loads(manifest.read_text(encoding="utf-8"))
        except ValueError as exc:
            run.manifest_problem = f"{MANIFEST} could not be read: {exc}"
        else:
            if loaded.get("status", "complete") == "complete":
                run.manifest = loaded
    return run


# --------------------------------------------------------------------------- formatting

def _num(value):
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def fmt(value, kind: str = "num") -> str:
    """A number for a table cell: ``pct``, ``int``, ``dec`` (two decimals), ``sec`` or a
    plain number; text stays as it is, an empty cell is a dash."""
    v = _num(value)
    if v is None:
        return _text(value) or "–"
    if kind == "pct":
        return f"{v * 100:.0f}%"
    if kind == "int":
        return f"{v:,.0f}"
    if kind == "sec":
        return f"{v:,.1f}"
    if kind == "dec":
        return f"{v:.2f}"
    if float(v).is_integer() and abs(v) < 1e9:
        return f"{v:,.0f}"
    return f"{v:.2f}"


def _date(value) -> str:
    text = _text(value)
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return text
    return f"{day.day} {day:%B %Y}"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _and(items: list[str]) -> str:
    items = [i for i in items if i]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def _group_label(study: Study, group: str) -> str:
    return study.group_labels.get(group, group)


def _ordered_groups(study: Study, present) -> list[str]:
    present = [g for g in dict.fromkeys(_text(p) for p in present) if g]
    return [g for g in study.group_ids if g in present] + [g for g in present if g not in study.group_ids]


def _records(df: pd.DataFrame) -> list[dict]:
    return df.to_dict("records") if df is not None and not df.empty else []


def _png_info(path: Path) -> dict:
    """Pixel size, resolution and smallest text size (written by ``save_figure``) of a PNG."""
    from PIL import Image

    with Image.open(path) as img:  # the text chunks come before the pixels: nothing is decoded
        dpi = img.info.get("dpi")  # from the pHYs chunk
        return {"px": img.size, "dpi": _num(dpi[0] if isinstance(dpi, tuple) else dpi),
                "min_font_pt": _num(img.info.get("min_font_pt"))}


_MIME = {".png": "image/png", ".svg": "image/svg+xml"}


def _figure(run: RunFiles, name: str, alt: str, caption: str = "", interactive: str = "") -> dict:
    """A figure for the template: the image as a data URI and the width at which its
    smallest text is at least :data:`MIN_FIGURE_TEXT_PT` (its natural size when the
    figure does not say how small its text is)."""
    path = run.figures.get(name) or run.figures.get(str(Path(name).with_suffix(".svg")))
    if path is None:
        raise _Missing(name)
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    width = None
    if path.suffix == ".png":
        info = _png_info(path)
        dpi = info["dpi"] or 96.0
        width = info["px"][0] / dpi * 96.0  # its size at 100 %, in CSS pixels
        if info["min_font_pt"]:
            width *= max(1.0, MIN_FIGURE_TEXT_PT / info["min_font_pt"])
        width = round(min(width, MAX_FIGURE_WIDTH_PX))
    key = Path(name).stem.replace("_", "-")
    return {"missing": "", "file": f"figures/{path.name}", "id": f"fig-{key}", "src": f"data:{_MIME[path.suffix]};base64,{data}", "alt": alt, "caption": caption,
            "width": width, "interactive": interactive if interactive in run.files else ""}


def _figure_or_missing(run: RunFiles, *args, **kwargs) -> dict:
    try:
        return _figure(run, *args, **kwargs)
    except _Missing as exc:
        return {"missing": str(exc), "written_by": WRITTEN_BY.get(str(exc), "")}


# --------------------------------------------------------------------------- theme names

def _group_theme_rows(run: RunFiles) -> dict[str, dict]:
    """Every group theme by id, with the parts of split themes (labelled by the workshop)."""
    rows = {_text(r.get("theme_id")): r for r in _records(run.optional("group_themes"))}
    for part in _records(run.optional("split_parts")):
        parent = rows.get(_text(part.get("parent")), {})
        rows[_text(part.get("theme_id"))] = {**parent, **part, "split_from": _text(part.get("parent"))}
    return rows


def _integrated_labels(run: RunFiles) -> dict[str, str]:
    return {_text(r.get("theme_id")): _text(r.get("label")) for r in _records(run.optional("integrated"))}


def _named(theme_id: str, group_rows: dict, integrated: dict, label: str = "") -> str:
    """``radiographers:T04 ‘eye contact’`` or ``I04 ‘Touch and tone of voice’``."""
    label = label or integrated.get(theme_id) or _text(group_rows.get(theme_id, {}).get("label"))
    return f"{theme_id} ‘{label}’" if label else theme_id


# --------------------------------------------------------------------------- sections

def _trust(run: RunFiles, study: Study) -> dict:
    """One sentence each for stability, consensus and coherence against the baselines."""
    q = run.table("theme_quality")
    if q.empty or not {"participant_group", "scope", "model", "metric", "value"} <= set(q.columns):
        raise _Missing(TABLES["theme_quality"])
    q = q.assign(participant_group=q["participant_group"].map(_text), scope=q["scope"].map(_text),
                 model=q["model"].map(lambda v: _text(v).lower()), metric=q["metric"].map(_text))
    groups = _ordered_groups(study, q["participant_group"])

    def value(group, metric, model="consensus"):
        hit = q[(q["participant_group"] == group) & (q["scope"] == "group") & (q["model"] == model)
                & (q["metric"] == metric)]["value"]
        return _num(hit.iloc[0]) if len(hit) else None

    def per_group(metric, kind="dec"):
        parts = [f"{fmt(value(g, metric), kind)} ({_group_label(study, g).lower()})" for g in groups
                 if value(g, metric) is not None]
        return _and(parts)

    themes = _records(run.optional("group_themes"))
    unstable = [_text(t.get("theme_id")) for t in themes if cell_flag(t.get("unstable"))]
    sentences = []
    if any(value(g, "stability_ari_mean") is not None for g in groups):
        sentences.append(("Stability", f"seeded runs on resampled segments agree with the reported themes at an "
                          f"adjusted Rand index of {per_group('stability_ari_mean')} (0 = chance, 1 = identical)."))
    if any(value(g, "consensus_mean") is not None for g in groups):
        marked = (f"{len(unstable)} of {len(themes)} themes fall below 0.5 and are marked unstable"
                  + (" (listed under Theme quality)" if unstable else "")) if themes else ""
        sentences.append(("Consensus", f"two members of a theme were grouped together in a mean share of "
                          f"{per_group('consensus_mean')} of the runs; {marked or 'no per-theme values'}."))
    coherence, better = [], 0
    for g in groups:
        own, lda, km = (value(g, "coherence_npmi_mean", m) for m in ("consensus", "lda", "kmeans"))
        if own is None:
            continue
        coherence.append(f"{fmt(own, 'dec')} vs {fmt(lda, 'dec')} / {fmt(km, 'dec')} ({_group_label(study, g).lower()})")
        better += all(b is None or own >= b for b in (lda, km))
    if coherence:
        sentences.append(("Coherence", f"the themes match or beat both baselines in {better} of {len(coherence)} "
                          f"groups: their top words occur together at an NPMI (−1 to 1) of {_and(coherence)}, "
                          "against LDA / k-means given the same number of themes."))
    return {"sentences": sentences}


def _open_items(run: RunFiles, study: Study, integrated: list[dict]) -> dict:
    proposed = [r for r in integrated if _text(r.get("status")).lower() == "proposed"]
    numbers = [int(n) for n in (_text(r.get("workshop")).rsplit("_", 1)[-1] for r in _records(run.optional("audit")))
               if n.isdigit()]
    next_number = max(numbers, default=0) + 1
    pack = f"workshop_packs/workshop_{next_number}.html"
    unresolved = 0
    if "disclosures" in run.tables and "status" in run.tables["disclosures"].columns:
        unresolved = int((run.tables["disclosures"]["status"].map(_text).replace("", "unresolved")
                          == "unresolved").sum())
    return {"proposed": [{"id": _text(r.get("theme_id")), "label": _text(r.get("label"))} for r in proposed],
            "next": next_number, "pack": pack if pack in run.files else "",
            "board": "workshop_board.html" if "workshop_board.html" in run.files else "",
            "unresolved": unresolved}


def _integrated_rows(run: RunFiles, study: Study) -> tuple[list[dict], list[str]]:
    """The integrated themes with their shares, flags and inherited caveats."""
    it = run.table("integrated")
    if it.empty or "theme_id" not in it.columns:
        return [], []
    groups = _ordered_groups(study, [c[len("share_"):] for c in it.columns if str(c).startswith("share_")])
    rows = []
    for rec in _records(it):
        rows.append({"id": _text(rec.get("theme_id")), "label": _text(rec.get("label")),
                     "status": _text(rec.get("status")) or "agreed", "description": _text(rec.get("description")),
                     "proposed": _text(rec.get("status")).lower() == "proposed",
                     "n_segments": fmt(rec.get("n_segments"), "int"), "n_speakers": fmt(rec.get("n_speakers"), "int"),
                     "shares": [fmt(rec.get(f"share_{g}"), "pct") for g in groups],
                     "balance": fmt(rec.get("balance"), "dec"), "flags": _split(rec.get("flags")),
                     "caveats": _split(rec.get("caveats")), "sources": _split(rec.get("source_themes")),
                     "workshop": _text(rec.get("workshop"))})
    return rows, groups


_FLAG_KINDS = ((re.compile(r"^missing voice: (.+)$"), "no voice from", "group"),
               (re.compile(r"^dominated by (.+)$"), "dominated by", "group"),
               (re.compile(r"^rests on an unstable theme: (.+)$"), "unstable source", "theme"),
               (re.compile(r"^rests on a small group's theme: (.+)$"), "small-group source", "theme"))


def _short_flags(flags: list[str], caveats: list[str], study: Study) -> list[dict]:
    """Flags and caveats grouped by kind for the summary's one-line cells: groups as their
    colour chips (with their names for screen readers and copy), themes by local id."""
    palette = group_palette(study.group_ids)
    tokens: dict[str, dict] = {}
    for text in flags + caveats:
        for pattern, label, what in _FLAG_KINDS:
            hit = pattern.match(text)
            if hit:
                token = tokens.setdefault(label, {"label": label, "groups": [], "themes": [],
                                                  "caveat": what == "theme"})
                if what == "group":
                    token["groups"].append({"label": _group_label(study, hit.group(1)),
                                            "colour": palette.get(hit.group(1), "#BBBBBB")})
                else:
                    token["themes"].append(hit.group(1))
                break
        else:
            tokens.setdefault(text, {"label": text, "groups": [], "themes": [], "caveat": False})
    return list(tokens.values())


def _definition_text(run: RunFiles) -> dict:
    table = run.table("definition")
    rows = _records(table)
    definition = next((_text(r.get("text")) for r in rows if _text(r.get("part")) == "definition"), "")
    where = next((_text(r.get("workshop")) for r in rows if _text(r.get("part")) == "definition"), "")
    elements = [{"text": _text(r.get("text")), "theme": _text(r.get("theme_id")), "workshop": _text(r.get("workshop"))}
                for r in rows if _text(r.get("part")) == "element"]
    return {"text": definition, "workshop": where, "elements": elements}


def _summary(run: RunFiles, study: Study) -> dict:
    palette = group_palette(study.group_ids)
    ctx = {"definition": None, "themes": [], "groups": [], "trust": None, "problems": {}}

    def attempt(part: str, build):
        try:
            return build()
        except _Missing as exc:
            ctx["problems"][part] = _missing_text(str(exc))
        except ValueError as exc:
            ctx["problems"][part] = str(exc)
        return None

    ctx["definition"] = attempt("definition", lambda: _definition_text(run))
    themes = attempt("themes", lambda: _integrated_rows(run, study))
    if themes:
        ctx["themes"] = [{**t, "short_flags": _short_flags(t["flags"], t["caveats"], study)} for t in themes[0]]
        ctx["groups"] = [{"id": g, "label": _group_label(study, g), "colour": palette.get(g, "#BBBBBB")}
                         for g in themes[1]]
    ctx["trust"] = attempt("trust", lambda: _trust(run, study))
    ctx["open"] = _open_items(run, study, [{"theme_id": t["id"], "label": t["label"], "status": t["status"]}
                                           for t in ctx["themes"]])
    ctx["n_flagged"] = sum(1 for t in ctx["themes"] if t["flags"] or t["caveats"])
    return ctx


def _decision_sentence(row: dict, fields: dict, group_rows: dict, integrated: dict) -> str:
    """One audit row in plain words (ids from the audit, as applied to this run; labels
    and wording from the workshop file)."""
    action = _text(row.get("action"))
    inputs, outputs = _split(row.get("inputs")), _split(row.get("outputs"))
    name = lambda t, label="": _named(t, group_rows, integrated, label)  # noqa: E731
    if action == "merge":
        target = outputs[0] if outputs else ""
        return f"Merged {_and([name(t) for t in inputs])} into {name(target, _text(fields.get('label')))}."
    if action == "rename":
        label = _text(fields.get("label")) or integrated.get(inputs[0] if inputs else "", "")
        return f"Renamed {inputs[0] if inputs else ''} to ‘{label}’."
    if action == "split":
        parts = [name(p) for p in outputs]
        return f"Split {name(inputs[0] if inputs else '')} into {_and(parts)}."
    if action == "drop":
        return (f"Dropped {name(inputs[0] if inputs else '')}: its segments go into no integrated theme.")
    if action == "define":
        theme = inputs[0] if inputs else ""
        text = f"Described {name(theme)}: “{_text(fields.get('description'))}”"
        elements = fields.get("elements") or fields.get("definition_elements") or []
        elements = [elements] if isinstance(elements, str) else list(elements)
        if elements:
            text += "; added to the definition: " + _and([f"“{e}”" for e in elements])
        return text + "."
    if action == "link":
        relation = outputs[0] if outputs else _text(fields.get("relation"))
        return f"Linked {name(inputs[0])} to {name(inputs[1])}: {relation}." if len(inputs) == 2 else \
            f"Linked {_and(inputs)}: {relation}."
    if action == "assign":
        attribute = outputs[0] if outputs else _text(fields.get("attribute"))
        behaviours = [str(b) for b in fields.get("behaviours") or []]
        text = f"Placed {name(inputs[0] if inputs else '')} under the attribute ‘{attribute}’"
        return text + (f", shown by: {'; '.join(behaviours)}." if behaviours else ".")
    return f"{action.capitalize()} {_and(inputs)}" + (f" → {_and(outputs)}" if outputs else "") + "."


def _workshop_files(study: Study) -> tuple[dict, str]:
    """The study's workshop files by name (``workshop_1``), or a sentence saying why not."""
    from .workshop_files import WorkshopError, load_workshops

    try:
        return {w.name: w for w in load_workshops(list(study.workshops))}, ""
    except (WorkshopError, OSError) as exc:
        return {}, str(exc)


def _attendees(value, study: Study) -> str:
    """Who attended, by role (participant group), never by name."""
    if isinstance(value, dict):
        parts = [f"{n} {_group_label(study, str(g)).lower()}" for g, n in value.items() if _num(n)]
        return _and(parts)
    if isinstance(value, (list, tuple)):
        return f"{len(value)} people (names are not shown)"
    return _text(value)


def _masked(run: RunFiles, text: str) -> str:
    """``text`` with the run's unreviewed identifying details masked (as the tables are)."""
    if "disclosures" not in run.tables or run.tables["disclosures"].empty:
        return text
    from .disclosure import mask_identifying

    return mask_identifying(text, run.tables["disclosures"])


def _workshops(run: RunFiles, study: Study) -> dict:
    audit = run.table("audit")
    files, problem = _workshop_files(study)
    group_rows, integrated = _group_theme_rows(run), _integrated_labels(run)
    rows = _records(audit)
    names = list(dict.fromkeys([*sorted(files, key=lambda n: files[n].number), *(_text(r.get("workshop")) for r in rows)]))
    workshops = []
    for name in names:
        w = files.get(name)
        decisions, checked, notes = [], set(), []
        for r in rows:
            if _text(r.get("workshop")) != name:
                continue
            index = int(_num(r.get("index")) or 0)
            fields = w.decisions[index - 1] if w and 0 < index <= len(w.decisions) else {}
            fields = fields if isinstance(fields, dict) else {}
            for note in (n.strip() for n in _text(r.get("check")).split(";")):
                if note.startswith("checked"):
                    checked.add(note)
                elif note and note not in notes:
                    notes.append(note)
            decisions.append({"index": index, "action": _text(r.get("action")),
                              # the wording comes partly from the workshop file, which the tables'
                              # masking never saw: unreviewed identifying details are masked here
                              "text": _masked(run, _decision_sentence(r, fields, group_rows, integrated)),
                              "reason": _text(r.get("rationale"))})
        workshops.append({
            "name": name, "number": w.number if w else name.rsplit("_", 1)[-1],
            "title": _masked(run, w.title) if w else "", "date": _date(w.date) if w else "",
            "attendees": _attendees(w.attendees, study) if w else "",
            "illustrative": bool(w and w.illustrative), "decisions": decisions,
            "n_checked": len(checked), "notes": notes,
            "carried": [n for n in notes if n.startswith("carried over")],
            "unchecked": [n for n in notes if n.startswith("unchecked")],
        })
    return {"workshops": workshops, "problem": problem}


def _design(run: RunFiles, study: Study) -> dict:
    palette = group_palette(study.group_ids)
    groups = [{"label": g.label, "id": g.id, "colour": palette[g.id],
               "fgs": [fg.id for fg in study.focus_groups if fg.participant_group == g.id]}
              for g in study.participant_groups]
    fgs = [{"id": fg.id, "group": _group_label(study, fg.participant_group), "transcript": Path(fg.transcript).name,
            "facilitators": ", ".join(fg.facilitators), "date": fg.date or ""} for fg in study.focus_groups]
    figure = (_figure(run, "figures/process_model.png", "The co-production process model",
                      "The co-production process model: each stage is one notebook and one set of files.")
              if "figures/process_model.png" in run.figures else None)
    return {"groups": groups, "focus_groups": fgs, "n_workshops": len(study.workshops), "figure": figure}


def _notes(run: RunFiles, key: str, column: str) -> list[str]:
    table = run.optional(key)
    return [n for n in table[column].map(_text) if n] if column in table.columns else []


def _talk(run: RunFiles, study: Study) -> dict:
    ctx = {"rows": None, "missing": "", "figure": _figure_or_missing(
        run, "figures/talk_share.png", "Share of words per participant in each focus group",
        "Each block is one participant's share of the words, largest first; grey is the facilitator."),
        "gaps": _notes(run, "talk_gaps", "note"), "warnings": _notes(run, "ingest_warnings", "message")}
    try:
        ts = run.table("talk_share")
    except _Missing as exc:
        ctx["missing"] = str(exc)
        return ctx
    order = {"study": 0, "participant_group": 1, "focus_group": 2}
    names = {"participant_group": "group", "focus_group": "focus group"}
    rows = sorted(_records(ts), key=lambda r: order.get(_text(r.get("level")), 3))
    ctx["rows"] = [{"level": names.get(_text(r.get("level")), _text(r.get("level"))), "id": _text(r.get("id")),
                    "group": "all" if _text(r.get("participant_group")) == "all"
                    else _group_label(study, _text(r.get("participant_group"))),
                    "cells": [fmt(r.get("n_focus_groups"), "int"), fmt(r.get("n_participants"), "int"),
                              fmt(r.get("participant_turns"), "int"), fmt(r.get("participant_words"), "int"),
                              fmt(r.get("facilitator_share_of_words"), "pct"),
                              fmt(r.get("gini_participant_words"), "dec"), fmt(r.get("top_speaker_share"), "pct")]}
                   for r in rows]
    return ctx


def _themes(run: RunFiles, study: Study) -> dict:
    gt = run.table("group_themes")
    if gt.empty or "theme_id" not in gt.columns:
        return {"groups": [], "empty": "group_themes.csv has no themes."}
    palette = group_palette(study.group_ids)
    parts_of = {}
    for part in _records(run.optional("split_parts")):
        parts_of.setdefault(_text(part.get("parent")), []).append(
            f"{_text(part.get('theme_id'))} ‘{_text(part.get('label'))}’ ({fmt(part.get('n_segments'), 'int')} "
            "segments)")
    groups = []
    for g in _ordered_groups(study, gt.get("participant_group", pd.Series(dtype=str))):
        themes = []
        for rec in _records(gt[gt["participant_group"].map(_text) == g]):
            meta = (f"{fmt(rec.get('n_segments'), 'int')} segments · {fmt(rec.get('n_speakers'), 'int')} speakers · "
                    f"{fmt(rec.get('n_focus_groups'), 'int')} focus groups · {fmt(rec.get('share_of_group'), 'pct')} "
                    "of the group's segments")
            if _text(rec.get("fingerprint")):
                meta += f" · fingerprint {_text(rec.get('fingerprint'))}"
            tid = _text(rec.get("theme_id"))
            themes.append({"id": tid, "label": _text(rec.get("label")), "meta": meta,
                           "unstable": cell_flag(rec.get("unstable")), "caveat": _text(rec.get("caveat")),
                           "keywords": _text(rec.get("keywords")), "quotes": quotes_of(rec)[:3],
                           "parts": parts_of.get(tid, [])})
        groups.append({"label": _group_label(study, g), "colour": palette.get(g, "#BBBBBB"), "themes": themes})
    return {"groups": groups, "empty": ""}


_QUALITY_COLS = (
    ("n_themes", "consensus", "themes", "int"),
    ("largest_share", "consensus", "largest theme", "pct"),
    ("consensus_mean", "consensus", "mean consensus", "dec"),
    ("stability_ari_mean", "consensus", "stability (ARI, resampled runs)", "dec"),
    ("coherence_cv_mean", "consensus", "c_v", "dec"),
    ("coherence_cv_mean", "lda", "c_v, LDA", "dec"),
    ("coherence_cv_mean", "kmeans", "c_v, k-means", "dec"),
    ("coherence_npmi_mean", "consensus", "NPMI", "dec"),
    ("coherence_npmi_mean", "lda", "NPMI, LDA", "dec"),
    ("coherence_npmi_mean", "kmeans", "NPMI, k-means", "dec"),
)


def _quality(run: RunFiles, study: Study) -> dict:
    q = run.table("theme_quality")
    if q.empty or not {"participant_group", "scope", "model", "metric", "value"} <= set(q.columns):
        return {"empty": "theme_quality.csv has no rows in the expected columns."}
    q = q.assign(participant_group=q["participant_group"].map(_text), scope=q["scope"].map(_text),
                 model=q["model"].map(lambda v: _text(v).lower()), metric=q["metric"].map(_text))
    group_rows = q[q["scope"] == "group"]
    rows = []
    for g in _ordered_groups(study, q["participant_group"]):
        sub = group_rows[group_rows["participant_group"] == g]
        cells = []
        for metric, model, _title, kind in _QUALITY_COLS:
            hit = sub[(sub["metric"] == metric) & (sub["model"] == model)]["value"]
            cells.append(fmt(hit.iloc[0] if len(hit) else None, kind))
        rows.append({"group": _group_label(study, g), "cells": cells})
    per_theme = []
    theme_rows = q[(q["scope"] != "group") & q["metric"].isin(["consensus", "coherence_npmi"])]
    if not theme_rows.empty:
        rank = {g: k for k, g in enumerate(_ordered_groups(study, theme_rows["participant_group"]))}
        wide = theme_rows.pivot_table(index=["participant_group", "scope"], columns="metric", values="value",
                                      aggfunc="first").reset_index()
        wide = wide.assign(_r=wide["participant_group"].map(rank)).sort_values(["_r", "scope"], kind="stable")
        for rec in _records(wide):
            consensus = _num(rec.get("consensus"))
            per_theme.append({"group": _group_label(study, rec["participant_group"]), "theme": rec["scope"],
                              "consensus": fmt(consensus, "dec"), "npmi": fmt(rec.get("coherence_npmi"), "dec"),
                              "note": "unstable: check before naming" if consensus is not None and consensus < 0.5
                              else ""})
    return {"empty": "", "headings": [c[2] for c in _QUALITY_COLS], "rows": rows, "per_theme": per_theme}


def _integrated(run: RunFiles, study: Study) -> dict:
    rows, groups = _integrated_rows(run, study)
    if not rows:
        return {"rows": [], "empty": "integrated_themes.csv has no themes."}
    links = [{"source": _text(r.get("source")), "relation": _text(r.get("relation")), "target": _text(r.get("target")),
              "workshop": _text(r.get("workshop"))} for r in _records(run.optional("links"))]
    return {"rows": rows, "groups": [_group_label(study, g) for g in groups], "empty": "", "links": links,
            "n_proposed": sum(r["proposed"] for r in rows)}


def _maps(run: RunFiles, study: Study) -> dict:
    figures = [_figure_or_missing(run, name, alt, caption, interactive)
               for name, alt, caption, interactive in MAP_FIGURES]
    kinds = (("segments", "segments mapped by meaning", "Segment map"),
             ("hierarchy", "how the themes group together", "Theme hierarchy"))
    per_group = []
    for g in study.group_ids:
        found = [_figure(run, f"figures/{prefix}_{g}.png", f"{alt}: {_group_label(study, g)}",
                         f"{_group_label(study, g)}: {caption}.")
                 for prefix, caption, alt in kinds if f"figures/{prefix}_{g}.png" in run.figures]
        if found:
            per_group.append({"label": _group_label(study, g), "figures": found})
    return {"figures": figures, "per_group": per_group}


def _definition(run: RunFiles, study: Study) -> dict:
    ctx = {"definition": None, "definition_missing": "", "framework": None, "framework_missing": ""}
    try:
        ctx["definition"] = _definition_text(run)
    except _Missing as exc:
        ctx["definition_missing"] = str(exc)
    try:
        fw = run.table("framework")
    except _Missing as exc:
        ctx["framework_missing"] = str(exc)
        return ctx
    quote_cols = [c for c in fw.columns if str(c).startswith("quote_")]
    ctx["framework"] = [{"behaviour": _text(r.get("behaviour")), "theme": _text(r.get("theme_id")),
                         "label": _text(r.get("label")), "attribute": _text(r.get("attribute")),
                         "description": _text(r.get("description")),
                         "quotes": [{"group": _group_label(study, c[len("quote_"):]), "text": _text(r.get(c))}
                                    for c in quote_cols if _text(r.get(c))]} for r in _records(fw)]
    return ctx


_AGREEMENT_COLS = [
    ("participant_group", "group", "text"), ("code", "human code", "text"), ("n_human", "segments coded", "int"),
    ("theme", "best-matching theme", "text"), ("f1", "F1", "dec"), ("cohen_kappa", "Cohen's κ", "dec"),
    ("gwet_ac1", "Gwet's AC1", "dec"), ("kmeans_f1", "k-means F1", "dec"), ("kmeans_kappa", "k-means κ", "dec"),
    ("kmeans_ac1", "k-means AC1", "dec"),
]
_DISAGREEMENT_COLS = [("segment_id", "segment"), ("speaker", "speaker"), ("human_codes", "human codes"),
                      ("model_theme", "model theme"), ("quote", "quote")]


def _agreement(run: RunFiles, study: Study) -> dict:
    """Human codes against the themes, beside the k-means baseline (notebook 07 writes the
    tables only when human coding was given)."""
    if "human_agreement" not in run.tables:
        return {"rows": None}
    table = run.tables["human_agreement"]
    rows = [[fmt(r.get(c), k) if k != "text" else _text(r.get(c)) for c, _t, k in _AGREEMENT_COLS]
            for r in _records(table)]
    disagreements = [[_text(r.get(c)) for c, _t in _DISAGREEMENT_COLS]
                     for r in _records(run.optional("human_disagreements"))]
    return {"headings": [t for _c, t, _k in _AGREEMENT_COLS], "rows": rows,
            "numeric": [k != "text" for _c, _t, k in _AGREEMENT_COLS],
            "dis_headings": [t for _c, t in _DISAGREEMENT_COLS], "disagreements": disagreements}


def _disclosure(run: RunFiles, study: Study) -> dict:
    ctx = {"missing": "", "export_status": run.export_status}
    try:
        d = run.table("disclosures")
    except _Missing as exc:
        ctx["missing"] = str(exc)
        return ctx
    status = (d["status"] if "status" in d.columns else pd.Series([""] * len(d))).map(lambda v: _text(v) or "unresolved")
    kinds = d.assign(status=status, kind=(d["kind"] if "kind" in d.columns else pd.Series(["?"] * len(d))).map(_text))

    def counts(by: str) -> list[dict]:
        if kinds.empty or by not in kinds.columns:
            return []
        table = kinds.groupby([by, "status"]).size().unstack(fill_value=0)
        return [{"name": k, "allowed": int(r.get("allowed", 0)), "unresolved": int(r.get("unresolved", 0))}
                for k, r in table.iterrows()]
    ctx.update({"n": len(d), "unresolved": int((status == "unresolved").sum()), "by_kind": counts("kind"),
                "by_focus_group": counts("focus_group")})
    return ctx


def _outputs_digest(outputs: list[dict]) -> str:
    """One sha256 over every output's path and sha256 (sorted), to compare two runs at a glance."""
    lines = "".join(f"{o.get('path')}  {o.get('sha256')}\n" for o in sorted(outputs, key=lambda o: str(o.get("path"))))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def _reproducibility(run: RunFiles, study: Study, manifest: dict | None) -> dict:
    """What the manifest says, without what changes from run to run (timings, the output
    folder's path), so two runs of the same inputs give the same report."""
    manifest = manifest if manifest is not None else run.manifest
    if manifest is None:
        if run.manifest_problem:
            raise ValueError(run.manifest_problem)
        return {"manifest": None}
    outputs = [o for o in manifest.get("outputs") or [] if o.get("path") != REPORT]
    by_folder: dict[str, int] = {}
    for o in outputs:
        folder = str(o.get("path")).split("/", 1)[0] if "/" in str(o.get("path")) else "(top level)"
        by_folder[folder] = by_folder.get(folder, 0) + 1
    inputs = [{"path": _text(i.get("path")), "sha": _text(i.get("sha256"))[:12], "bytes": fmt(i.get("bytes"), "int")}
              for i in manifest.get("inputs") or []]
    params = manifest.get("parameters") or {}
    common: dict = {}
    for values in params.values():
        for k, v in (values or {}).items():
            common.setdefault(k, set()).add(json.dumps(v, sort_keys=True))
    shared = {k: json.loads(next(iter(v))) for k, v in common.items()
              if len(v) == 1 and k not in ("study", "output_dir") and all(k in (p or {}) for p in params.values())}
    own = [{"notebook": Path(nb).stem, "given": ", ".join(f"{k}={v}" for k, v in (values or {}).items()
                                                           if k not in ("study", "output_dir") and k not in shared)}
           for nb, values in params.items()]
    settings = manifest.get("settings") or manifest.get("analysis") or {}
    env = manifest.get("environment") or {}
    try:
        study_path = str(Path(study.path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        study_path = next((i["path"] for i in inputs if i["path"].endswith((".yml", ".yaml"))), str(study.path))
    return {"manifest": True, "inputs": inputs, "n_outputs": len(outputs), "digest": _outputs_digest(outputs),
            "by_folder": sorted(by_folder.items()), "shared": sorted(shared.items()),
            "own": [o for o in own if o["given"]],
            "settings": sorted((str(k), json.dumps(v) if isinstance(v, (dict, list)) else str(v))
                               for k, v in settings.items()),
            "python": _text(env.get("python")), "platform": _text(env.get("platform")),
            "packages": sorted((env.get("packages") or {}).items()), "study_path": study_path,
            "listed_report": any(o.get("path") == REPORT for o in manifest.get("outputs") or [])}


_BUILDERS = {"summary": _summary, "workshops": _workshops, "design": _design, "talk": _talk, "themes": _themes,
             "quality": _quality, "integrated": _integrated, "maps": _maps, "definition": _definition,
             "agreement": _agreement, "disclosure": _disclosure}


def _missing_text(name: str) -> str:
    who = WRITTEN_BY.get(name)
    return f"Not available: {name} was not found in the output folder." + (
        f" It is written by notebook {who}." if who else "")


def _section(key: str, title: str, run: RunFiles, study: Study, manifest: dict | None) -> dict:
    section = {"key": key, "title": title, "missing": "", "error": "", "data": None}
    try:
        section["data"] = (_reproducibility(run, study, manifest) if key == "reproducibility"
                           else _BUILDERS[key](run, study))
    except _Missing as exc:
        section["missing"] = _missing_text(str(exc))
    except Exception as exc:  # a report must never crash on one bad file
        section["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    return section


# --------------------------------------------------------------------------- rendering

def _template_source(name: str):
    path = resources.files(__package__).joinpath("templates", "report", *name.split("/"))
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8"), None, lambda: True


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FunctionLoader(_template_source), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.globals.update(fmt=fmt, written_by=WRITTEN_BY)
    return env


def render_report(run: RunFiles, study: Study, manifest: dict | None = None) -> str:
    """The whole report as one HTML string, from the tables in ``run`` (see the module
    docstring); ``manifest`` is the run's manifest when the caller has it (the Makefile's
    last step), else the one in the output folder if a complete run wrote it."""
    sections = [_section(key, title, run, study, manifest) for key, title in SECTIONS]
    return _environment().get_template("report.html.j2").render(
        study=study, sections=sections, toc=SECTIONS, css=_template_source("report.css")[0])


def build_report(output_dir: Path, study: Study, manifest: dict | None = None) -> str:
    """The report of the run in ``output_dir`` (:func:`read_run`, then :func:`render_report`)."""
    return render_report(read_run(output_dir), study, manifest)


def section_html(output_dir: Path, key: str, study: Study | None = None) -> str:
    """One section of the report as HTML (``study`` may be None for sections that need
    only the output folder, such as ``agreement``)."""
    title = dict(SECTIONS)[key]
    section = _section(key, title, read_run(output_dir), study, None)
    return _environment().get_template("section.html.j2").render(section=section, study=study)


def write_report(output_dir: Path, study: Study, manifest: dict | None = None) -> Path:
    """Write ``report.html`` into ``output_dir`` atomically; return its path."""
    out = Path(output_dir)
    return write_text_atomic(out / REPORT, build_report(out, study, manifest))
