"""How the report writes what it shows: numbers and dates for table cells, lists in
words, participant groups by their labels, figures as data URIs at a readable width,
and themes by id and label."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pandas as pd

from .._io import cell_number
from .._io import cell_text as _text
from ..study import Study
from .run_files import WRITTEN_BY, RunFiles, _Missing

#: Smallest text a figure may show at the width the report gives it (points).
MIN_FIGURE_TEXT_PT = 9.0
#: The widest a figure is drawn in the report (CSS pixels; the page's content width).
MAX_FIGURE_WIDTH_PX = 1240


def fmt(value, kind: str = "num") -> str:
    """A number for a table cell: ``pct``, ``int``, ``dec`` (two decimals), ``sec`` or a
    plain number; text stays as it is, an empty cell is a dash."""
    v = cell_number(value)
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
        return {"px": img.size, "dpi": cell_number(dpi[0] if isinstance(dpi, tuple) else dpi),
                "min_font_pt": cell_number(img.info.get("min_font_pt"))}


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
