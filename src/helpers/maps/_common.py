"""Shared pieces of the stage-6 figures: palette constants, small text helpers and the
greedy label placement (the HTML pages and their SVG are :mod:`._html`).

Each figure has its own module (``thematic_map``, ``heatmap``, ``lineage``,
``segment_map``, ``dendrogram``); this one holds only what two or more of them use.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .._io import cell_list as _split
from .._io import cell_number
from .._io import cell_text as _text
from ..themes import quotes_of


#: Smallest font size (points, at the saved size) used anywhere in these figures.
MIN_FONT = 8
DARK = "#222222"
MID = "#555555"
GREY = "#8C8C8C"
LIGHT = "#BBBBBB"
NODE_FILL = "#F4F1EA"
DROPPED = "dropped"
#: Paul Tol's "muted" qualitative scheme: colours for the themes within one group.
TOL_MUTED = ("#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99",
             "#999933", "#AA4499")
HEATMAP_CMAP = "YlGnBu"  # ColorBrewer sequential, colour-blind safe and prints in grey
_HALO = [patheffects.withStroke(linewidth=3, foreground="white")]


# --------------------------------------------------------------------------- small helpers

def _figure(width: float, height: float, dpi: int = 100, **kwargs) -> Figure:
    fig = Figure(figsize=(width, height), dpi=dpi, facecolor="white", **kwargs)
    FigureCanvasAgg(fig)
    return fig


def _short(text: str, n: int) -> str:
    text = " ".join(_text(text).split())
    return text if len(text) <= n else text[: n - 1].rstrip(" /;,") + "…"


def _wrap(text: str, width: int, max_lines: int | None = None) -> str:
    lines = textwrap.wrap(" ".join(_text(text).split()), width=width, break_long_words=True,
                          break_on_hyphens=False) or [""]
    if max_lines and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _short(lines[-1] + " …", width)
        if not lines[-1].endswith("…"):
            lines[-1] = lines[-1].rstrip() + "…"
    return "\n".join(lines)


def _group_of(theme_id: str) -> str:
    return theme_id.split(":", 1)[0] if ":" in theme_id else ""


def _local_id(theme_id: str) -> str:
    return theme_id.split(":", 1)[1] if ":" in theme_id else theme_id


def _is_proposed(status) -> bool:
    return _text(status).lower() == "proposed"


def _column(df: pd.DataFrame | None, name: str) -> pd.Series:
    if df is None or name not in df.columns:
        return pd.Series([None] * (0 if df is None else len(df)), dtype=object)
    return df[name]


def _integrated_table(integrated: pd.DataFrame | None) -> pd.DataFrame:
    """The integrated themes with every column this module reads, sorted by id."""
    cols = ["theme_id", "label", "description", "status", "source_themes", "n_segments", "n_speakers",
            "balance", "flags", "workshop"]
    if integrated is None or integrated.empty or "theme_id" not in integrated.columns:
        return pd.DataFrame(columns=cols)
    out = integrated.copy()
    for c in cols:
        if c not in out.columns:
            out[c] = None
    out["theme_id"] = out["theme_id"].map(_text)
    out = out[out["theme_id"] != ""]
    return out.sort_values("theme_id", kind="stable").reset_index(drop=True)


def _group_theme_lookup(group_themes: pd.DataFrame | None) -> dict[str, dict]:
    if group_themes is None or group_themes.empty or "theme_id" not in group_themes.columns:
        return {}
    return {_text(r["theme_id"]): r for r in group_themes.to_dict("records")}


#: A part made by a workshop's ``split`` decision: ``<group theme id>.<n>``.
_SPLIT_PART = re.compile(r"^(?P<parent>.+)\.(?P<n>\d+)$")


def split_parent(theme_id: str) -> str:
    """The group theme a split part came from (``students:T05.1`` → ``students:T05``), else ""."""
    match = _SPLIT_PART.match(_text(theme_id))
    return match.group("parent") if match and ":" in match.group("parent") else ""


def with_split_parts(group_themes: pd.DataFrame, split_parts: pd.DataFrame | None) -> pd.DataFrame:
    """``group_themes`` plus one row per part a workshop made by splitting a theme
    (``split_themes.csv``): the part's own label, keywords and segments, its parent in
    ``parent`` and the parent's stability flags, so every figure names the parts."""
    if split_parts is None or split_parts.empty or "theme_id" not in split_parts.columns:
        return group_themes
    parents = _group_theme_lookup(group_themes)
    rows = []
    for part in split_parts.to_dict("records"):
        parent = parents.get(_text(part.get("parent")), {})
        n, n_parent = cell_number(part.get("n_segments"), 0.0), cell_number(parent.get("n_segments"), 0.0)
        rows.append({"participant_group": _text(part.get("participant_group")) or _text(parent.get("participant_group")),
                     "theme_id": _text(part.get("theme_id")), "label": _text(part.get("label")),
                     "keywords": _text(part.get("keywords")) or _text(parent.get("keywords")),
                     "n_segments": int(n),
                     "share_of_group": cell_number(parent.get("share_of_group"), 0.0) * n / n_parent if n_parent else None,
                     "unstable": parent.get("unstable"), "caveat": parent.get("caveat"),
                     "parent": _text(part.get("parent"))})
    return pd.concat([group_themes, pd.DataFrame(rows)], ignore_index=True)


def _theme_row(lookup: dict[str, dict], theme_id: str) -> dict:
    """A group theme's row; for a split part not in the table, one named after its parent
    (``<parent label> (part 2)``), so no part is ever shown without a label."""
    if theme_id in lookup:
        return lookup[theme_id]
    parent = split_parent(theme_id)
    if parent:
        row = dict(lookup.get(parent, {}))
        number = theme_id.rsplit(".", 1)[1]
        row.update({"theme_id": theme_id, "parent": parent, "n_segments": None,
                    "label": f"{_text(row.get('label')) or parent} (part {number})",
                    "participant_group": _text(row.get("participant_group")) or _group_of(theme_id)})
        for k in [c for c in row if str(c).startswith("quote_")]:
            row[k] = ""  # the parent's quotes may belong to the other part
        return row
    return {}


def _quotes_of(row: dict | None) -> list[str]:
    return quotes_of(row) if row else []


def _segment_counts(segment_themes: pd.DataFrame | None) -> Counter:
    if segment_themes is None or segment_themes.empty or "group_theme" not in segment_themes.columns:
        return Counter()
    return Counter(_text(v) for v in segment_themes["group_theme"])


def collect_quotes(integrated: pd.DataFrame, group_themes: pd.DataFrame, per_source: int = 2) -> dict[str, list[str]]:
    """Pseudonymised quotes for every theme, from the quote columns of ``group_themes.csv``.

    Group themes get their own quotes; an integrated theme gets the first ``per_source``
    quotes of each of its source themes (so every voice it rests on is heard).
    """
    lookup = _group_theme_lookup(group_themes)
    quotes = {tid: _quotes_of(row) for tid, row in lookup.items()}
    for row in _integrated_table(integrated).itertuples(index=False):
        quotes[row.theme_id] = [q for src in _split(row.source_themes) for q in _quotes_of(lookup.get(src))[:per_source]]
    return quotes


# --------------------------------------------------------------------------- label placement

@dataclass
class _Label:
    """A text artist (``ha``/``va`` centre, data coordinates) waiting for a free spot."""

    text: object
    pref: tuple[float, float]                 # preferred centre, display pixels
    anchor: tuple[float, float] | None = None  # where a leader line starts (display pixels)
    anchor_radius: float = 0.0                # the leader starts this far from the anchor
    ignore: tuple[int, ...] = ()              # soft obstacles (circles) the label may cover
    leader_colour: str = GREY


def _spiral(step: float, rmax: float) -> np.ndarray:
    """Offsets from a preferred point, nearest first (rings of ``step`` pixels)."""
    pts = [(0.0, 0.0)]
    r = step
    while r <= rmax:
        n = int(min(max(8, math.ceil(2 * math.pi * r / step)), 96))
        ang = np.arange(n) * 2 * math.pi / n
        pts.extend(zip(r * np.cos(ang), r * np.sin(ang)))
        r += step
    return np.asarray(pts)


def _box_of(artist, renderer) -> list[float]:
    bb = artist.get_window_extent(renderer)
    return [bb.x0, bb.y0, bb.x1, bb.y1]


def _cover_cost(cand: np.ndarray, hw: float, hh: float, circles: np.ndarray, penalty: float) -> np.ndarray:
    """Per candidate centre: ``penalty`` for each soft circle its box would cover."""
    if not len(circles):
        return np.zeros(len(cand))
    nx = np.clip(circles[None, :, 0], cand[:, None, 0] - hw, cand[:, None, 0] + hw)
    ny = np.clip(circles[None, :, 1], cand[:, None, 1] - hh, cand[:, None, 1] + hh)
    covers = np.hypot(nx - circles[None, :, 0], ny - circles[None, :, 1]) < circles[None, :, 2]
    return covers.sum(axis=1) * penalty


def _cheapest_free_spot(cand: np.ndarray, dist: np.ndarray, hw: float, hh: float, bounds, placed: list,
                        circles: np.ndarray, penalty: float, chunk: int = 1024) -> int | None:
    """Index of the cheapest candidate whose box is inside ``bounds`` and meets no placed
    box (cost: distance from the preferred point plus circle penalties; ties go to the
    nearer candidate), or None when no candidate is free.

    Candidates come nearest first and cost is at least distance, so the search stops at
    the first chunk farther away than the best cost found: the same answer as scoring
    every candidate, without scoring thousands of far-away ones.
    """
    bx0, by0, bx1, by1 = bounds
    boxes = np.asarray(placed, dtype=float).reshape(-1, 4)
    best, best_cost = None, np.inf
    for start in range(0, len(cand), chunk):
        if dist[start] > best_cost + 1e-6:  # (the tolerance keeps float ties exact)
            break
        c = cand[start:start + chunk]
        ok = (c[:, 0] - hw >= bx0) & (c[:, 0] + hw <= bx1) & (c[:, 1] - hh >= by0) & (c[:, 1] + hh <= by1)
        if len(boxes):
            hit = ((c[:, None, 0] - hw < boxes[None, :, 2]) & (c[:, None, 0] + hw > boxes[None, :, 0])
                   & (c[:, None, 1] - hh < boxes[None, :, 3]) & (c[:, None, 1] + hh > boxes[None, :, 1]))
            ok &= ~hit.any(axis=1)
        if not ok.any():
            continue
        cost = np.where(ok, dist[start:start + chunk] + _cover_cost(c, hw, hh, circles, penalty), np.inf)
        i = int(np.argmin(cost))
        if cost[i] < best_cost:
            best, best_cost = start + i, float(cost[i])
    return best


@dataclass(frozen=True)
class Placement:
    """Where :func:`_place_labels` put one label: its padded box (display pixels, y up) and,
    when it moved away from its anchor, the leader line (data coordinates) to draw."""

    label: _Label
    box: tuple[float, float, float, float]
    leader: tuple[tuple[float, float], tuple[float, float]] | None
    xy: tuple[float, float]    # the text's position (data coordinates)
    fontsize: float            # points, after any shrinking


def _place_labels(fig: Figure, ax, labels: list[_Label], circles=(), hard=(), bounds=None,
                  circle_penalty_pt: float = 45.0, min_fontsize: float = MIN_FONT) -> list[Placement]:
    """Greedy label placement in display coordinates; returns where each label went.

    For each label in turn (callers pass the most important first) the nearest candidate
    centre to its preferred point is chosen whose box (text plus a small pad) lies inside
    ``bounds`` (default: the axes) and meets no box already placed nor any ``hard`` box.
    Covering a soft obstacle (a node circle ``(x, y, r)``) costs as much as moving the label
    ``circle_penalty_pt`` points. When no spot is free the font shrinks, down to
    ``min_fontsize``. A label that moved far from its anchor gets a leader line in its
    placement (the caller draws it: :func:`_draw_leaders`).
    """
    renderer = fig.canvas.get_renderer()
    px = fig.dpi / 72.0
    if bounds is None:
        bb = ax.get_window_extent(renderer)
        bounds = (bb.x0, bb.y0, bb.x1, bb.y1)
    placed = [list(map(float, b)) for b in hard]
    circ = np.asarray(circles, dtype=float).reshape(-1, 3)
    offsets = _spiral(2.5 * px, 0.75 * math.hypot(bounds[2] - bounds[0], bounds[3] - bounds[1]))
    dist = np.hypot(offsets[:, 0], offsets[:, 1])
    inverse = ax.transData.inverted()
    used = []
    for lab in labels:
        text = lab.text
        if not text.get_text():
            continue
        pref = np.asarray(lab.pref, dtype=float)
        text.set_position(tuple(inverse.transform(pref)))
        while True:
            box = _box_of(text, renderer)
            pad = (text.get_fontsize() * 0.3 + 1.0) * px if text.get_bbox_patch() is not None else 2.0 * px
            centre_shift = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]) - pref
            hw, hh = (box[2] - box[0]) / 2 + pad, (box[3] - box[1]) / 2 + pad
            cand = pref + offsets
            ignore = set(lab.ignore)
            soft = circ[[i for i in range(len(circ)) if i not in ignore]] if len(circ) else circ
            best = _cheapest_free_spot(cand, dist, hw, hh, bounds, placed, soft, circle_penalty_pt * px)
            if best is not None or text.get_fontsize() - 0.5 < min_fontsize:
                break
            text.set_fontsize(max(min_fontsize, text.get_fontsize() - 0.5))
        if best is None:  # nowhere free even at the smallest font: least bad spot inside the bounds
            best = int(np.argmin(dist + _cover_cost(cand, hw, hh, soft, circle_penalty_pt * px)))
        centre = cand[best]
        text.set_position(tuple(inverse.transform(centre - centre_shift)))
        box = [centre[0] - hw, centre[1] - hh, centre[0] + hw, centre[1] + hh]
        placed.append(box)
        leader = None
        if lab.anchor is not None:
            anchor = np.asarray(lab.anchor, dtype=float)
            near = np.array([np.clip(anchor[0], box[0], box[2]), np.clip(anchor[1], box[1], box[3])])
            gap = np.hypot(*(near - anchor))
            if gap > lab.anchor_radius + 4 * px:
                start = anchor + (near - anchor) / gap * lab.anchor_radius
                leader = (tuple(map(float, inverse.transform(start))), tuple(map(float, inverse.transform(near))))
        used.append(Placement(lab, tuple(map(float, box)), leader,
                              tuple(map(float, text.get_position())), float(text.get_fontsize())))
    return used


def _draw_leaders(ax, placements: list[Placement]) -> None:
    """Thin lines from moved labels back to what they name."""
    for p in placements:
        if p.leader is not None:
            (x1, y1), (x2, y2) = p.leader
            ax.add_line(Line2D([x1, x2], [y1, y2], color=p.label.leader_colour, lw=0.7,
                               zorder=p.label.text.get_zorder() - 0.5))


def _display(ax, xy) -> tuple[float, float]:
    x, y = ax.transData.transform(xy)
    return float(x), float(y)


def _fit_limits(ax, xs, ys, margin: float) -> None:
    """Set equal-scale limits covering the points, filling the axes box."""
    fig = ax.figure
    bb = ax.get_position()
    w_in, h_in = bb.width * fig.get_figwidth(), bb.height * fig.get_figheight()
    x0, x1 = min(xs) - margin, max(xs) + margin
    y0, y1 = min(ys) - margin, max(ys) + margin
    w, h = x1 - x0, y1 - y0
    if w / h < w_in / h_in:
        extra = (h * w_in / h_in - w) / 2
        x0, x1 = x0 - extra, x1 + extra
    else:
        extra = (w * h_in / w_in - h) / 2
        y0, y1 = y0 - extra, y1 + extra
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


def _legend_strip(fig: Figure, handles, labels, ncol: int, fontsize: float = 9.0):
    """A legend along the bottom of the figure; returns (legend, its top as a figure fraction)."""
    legend = fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.005), ncol=ncol,
                        frameon=False, fontsize=fontsize, handlelength=2.2, columnspacing=1.6,
                        borderaxespad=0.2)
    top = legend.get_window_extent(fig.canvas.get_renderer()).y1 / fig.bbox.height
    return legend, top


def _title(fig: Figure, title: str, subtitle: str = ""):
    """A bold title (and a grey subtitle) at the top; returns the bottom as a figure fraction."""
    renderer = fig.canvas.get_renderer()
    t = fig.text(0.5, 0.99, title, ha="center", va="top", fontsize=13, fontweight="bold", color=DARK)
    bottom = t.get_window_extent(renderer).y0
    if subtitle:
        s = fig.text(0.5, bottom / fig.bbox.height - 0.004, subtitle, ha="center", va="top", fontsize=9.5, color=MID)
        bottom = s.get_window_extent(renderer).y0
    return bottom / fig.bbox.height - 0.01
