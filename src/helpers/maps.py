"""Thematic maps (stage 6 of the process model).

After the co-production workshops, the integrated themes are shown as maps a reader can
check against the data: which group themes each integrated theme came from, which themes
speakers raise together, how evenly each participant group is represented, and how the
groups' own themes became (or did not become) integrated themes.

Every figure is a :class:`matplotlib.figure.Figure` that is not registered with pyplot
(so a notebook shows it once, where the cell returns it); :func:`save_figure` writes it
atomically and closes it. The HTML versions are single self-contained files: inline SVG,
inline CSS and a few lines of inline JavaScript, no external requests.

Layouts are deterministic (no random numbers, no networkx). Labels never overlap: every
figure with free-floating labels runs :func:`_place_labels`, a greedy search, in display
coordinates measured by the renderer, for the nearest free spot to each label's
preferred position (with a thin leader line when a label had to move away).
"""

from __future__ import annotations

import html
import json
import math
import textwrap
from collections import Counter
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import patches as mpatches
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.path import Path as MplPath

from ._io import atomic_path, save_figure  # noqa: F401  (save_figure is part of this module's API)
from ._io import cell_list as _split
from ._io import cell_text as _text
from ._io import html_text as _e
from .themes import project_2d as _project_2d
from .themes import quotes_of

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


def _num(value, default: float = 0.0) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(out) else out


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


# --------------------------------------------------------------------------- co-occurrence

def cooccurrence_edges(segment_themes: pd.DataFrame, segments: pd.DataFrame, window: int = 1,
                       min_count: int = 3) -> pd.DataFrame:
    """Pairs of integrated themes that speakers raise together.

    Two themes co-occur when they are raised in the same participant turn, or in turns at
    most ``window`` participant turns apart in the same focus group (turns are ranked
    among the participant turns present in ``segments``, so facilitator turns in between
    do not count). Each pair of turns counts once, however many segments it holds.

    ``weight`` is a Jaccard index over those turn pairs: the turn pairs where the two
    themes co-occur, divided by the turn pairs where either theme is raised. With
    ``window=0`` it is exactly the Jaccard index of the two themes' sets of turns.
    Segments whose ``integrated_theme`` is empty (dropped in a workshop) are ignored.
    Only pairs with ``count >= min_count`` are returned, strongest first.
    """
    empty = pd.DataFrame({"source": pd.Series(dtype=object), "target": pd.Series(dtype=object),
                          "count": pd.Series(dtype="int64"), "weight": pd.Series(dtype="float64")})
    if window < 0:
        raise ValueError(f"window must be 0 or more participant turns, not {window}.")
    needed_st = {"segment_id", "integrated_theme"}
    needed_seg = {"segment_id", "focus_group", "turn"}
    if (segment_themes is None or segments is None or segment_themes.empty or segments.empty
            or not needed_st <= set(segment_themes.columns) or not needed_seg <= set(segments.columns)):
        return empty
    st = segment_themes[["segment_id", "integrated_theme"]].copy()
    st["integrated_theme"] = st["integrated_theme"].map(_text)
    st = st[st["integrated_theme"] != ""]
    seg = segments[["segment_id", "focus_group", "turn"]]
    merged = st.merge(seg, on="segment_id", how="inner")
    if merged.empty:
        return empty

    together: Counter = Counter()   # turn pairs where a and b co-occur
    either: Counter = Counter()     # turn pairs where a theme is raised in either turn
    both: Counter = Counter()       # turn pairs where both themes are raised (either turn)
    for fg, rows in merged.groupby("focus_group", sort=True):
        turns = sorted(pd.unique(seg.loc[seg["focus_group"] == fg, "turn"]))
        by_turn = rows.groupby("turn")["integrated_theme"].agg(frozenset).to_dict()
        themes = [by_turn.get(t, frozenset()) for t in turns]
        for i, here in enumerate(themes):
            for d in range(window + 1):
                j = i + d
                if j >= len(themes):
                    break
                there = themes[j]
                union = here | there
                if not union:
                    continue
                for a in union:
                    either[a] += 1
                for pair in combinations(sorted(union), 2):
                    both[pair] += 1
                if d == 0:
                    pairs = set(combinations(sorted(here), 2))
                else:
                    pairs = {tuple(sorted((a, b))) for a in here for b in there if a != b}
                for pair in pairs:
                    together[pair] += 1
    rows = []
    for (a, b), count in together.items():
        if count < min_count:
            continue
        denominator = either[a] + either[b] - both[(a, b)]
        rows.append({"source": a, "target": b, "count": int(count),
                     "weight": round(count / denominator, 4) if denominator else 0.0})
    if not rows:
        return empty
    out = pd.DataFrame(rows).sort_values(["count", "source", "target"], ascending=[False, True, True], kind="stable")
    return out.reset_index(drop=True).astype({"count": "int64", "weight": "float64"})


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


def _place_labels(fig: Figure, ax, labels: list[_Label], circles=(), hard=(), bounds=None,
                  circle_penalty_pt: float = 45.0, min_fontsize: float = MIN_FONT) -> list[list[float]]:
    """Greedy label placement in display coordinates; returns the boxes used.

    For each label in turn (callers pass the most important first) the nearest candidate
    centre to its preferred point is chosen whose box (text plus a small pad) lies inside
    ``bounds`` (default: the axes) and meets no box already placed nor any ``hard`` box.
    Covering a soft obstacle (a node circle ``(x, y, r)``) costs as much as moving the label
    ``circle_penalty_pt`` points. When no spot is free the font shrinks, down to
    ``min_fontsize``. A label that moved far from its anchor gets a thin leader line.
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
        used.append(box)
        if lab.anchor is not None:
            anchor = np.asarray(lab.anchor, dtype=float)
            near = np.array([np.clip(anchor[0], box[0], box[2]), np.clip(anchor[1], box[1], box[3])])
            gap = np.hypot(*(near - anchor))
            if gap > lab.anchor_radius + 4 * px:
                start = anchor + (near - anchor) / gap * lab.anchor_radius
                xs, ys = zip(inverse.transform(start), inverse.transform(near))
                ax.add_line(Line2D(xs, ys, color=lab.leader_colour, lw=0.7, zorder=text.get_zorder() - 0.5))
    return used


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


# --------------------------------------------------------------------------- thematic map: layout

@dataclass
class _Node:
    id: str
    kind: str            # "main" or "satellite"
    x: float
    y: float
    r: float
    n: float
    label: str
    colour: str
    group: str = ""
    parent: str = ""
    proposed: bool = False


def _map_nodes(integrated: pd.DataFrame, group_themes: pd.DataFrame, segment_themes: pd.DataFrame,
               palette: dict[str, str]) -> list[_Node]:
    integ = _integrated_table(integrated)
    lookup = _group_theme_lookup(group_themes)
    seg_counts = _segment_counts(segment_themes)
    group_order = {g: i for i, g in enumerate(palette)}
    n_main = len(integ)
    sizes = [max(_num(v, 0.0), 1.0) for v in integ["n_segments"]]
    nmax = max(sizes, default=1.0)
    scale = max(1.0, n_main / 6)
    if n_main == 1:
        positions = [(0.0, 0.0)]
    elif n_main == 2:
        positions = [(-1.25, 0.0), (1.25, 0.0)]
    else:
        rx, ry = 1.65 * scale, 1.15 * scale
        positions = [(rx * math.cos(math.radians(90 - 360 * i / n_main)),
                      ry * math.sin(math.radians(90 - 360 * i / n_main))) for i in range(n_main)]

    sat_sizes = []
    for row in integ.itertuples(index=False):
        for src in _split(row.source_themes):
            sat_sizes.append(max(_num(lookup.get(src, {}).get("n_segments"), seg_counts.get(src, 1)), 1.0))
    smax = max(sat_sizes, default=1.0)

    nodes: list[_Node] = []
    for (x, y), size, row in zip(positions, sizes, integ.itertuples(index=False)):
        r = 0.2 + 0.15 * math.sqrt(size / nmax)
        label = f"{row.theme_id}\n{_wrap(row.label or row.theme_id, 19, 4 if n_main <= 8 else 3)}"
        nodes.append(_Node(row.theme_id, "main", x, y, r, size, label, NODE_FILL, proposed=_is_proposed(row.status)))
        sources = sorted(dict.fromkeys(_split(row.source_themes)),
                         key=lambda s: (group_order.get(_group_of(s), len(group_order)), s))
        k = len(sources)
        if not k:
            continue
        if n_main == 1:
            angles = [math.radians(90 - 360 * j / k) for j in range(k)]
        else:
            out = math.atan2(y, x) if (x or y) else math.pi / 2
            span = min(math.radians(200 if n_main == 2 else 130), math.radians(34) * (k - 1))
            angles = [out + (span * (j / (k - 1) - 0.5) if k > 1 else 0.0) for j in range(k)]
            angles = angles[::-1]  # clockwise, like the main circle
        for src, ang in zip(sources, angles):
            info = lookup.get(src, {})
            n = max(_num(info.get("n_segments"), seg_counts.get(src, 1)), 1.0)
            rs = 0.05 + 0.065 * math.sqrt(n / smax)
            d = r + 0.34 + rs
            group = _text(info.get("participant_group")) or _group_of(src)
            text = f"{_local_id(src)} {_text(info.get('label'))}".strip()
            nodes.append(_Node(src, "satellite", x + d * math.cos(ang), y + d * math.sin(ang), rs, n,
                               _wrap(_short(text, 40), 20, 2), palette.get(group, LIGHT), group, row.theme_id))
    return nodes


def _arc_midpoint(x1, y1, x2, y2, rad):
    """Midpoint of matplotlib's ``arc3`` curve between two points (and its control point)."""
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    dx, dy = x2 - x1, y2 - y1
    cx, cy = mx + rad * dy, my - rad * dx
    return (0.25 * x1 + 0.5 * cx + 0.25 * x2, 0.25 * y1 + 0.5 * cy + 0.25 * y2), (cx, cy)


def _edges(links, cooc, node_ids):
    link_rows = []
    if links is not None and not links.empty and {"source", "target"} <= set(links.columns):
        for r in links.to_dict("records"):
            a, b = _text(r.get("source")), _text(r.get("target"))
            if a in node_ids and b in node_ids and a != b:
                link_rows.append((a, b, _text(r.get("relation"))))
    cooc_rows = []
    if cooc is not None and not cooc.empty and {"source", "target"} <= set(cooc.columns):
        for r in cooc.to_dict("records"):
            a, b = _text(r.get("source")), _text(r.get("target"))
            if a in node_ids and b in node_ids and a != b:
                cooc_rows.append((a, b, _num(r.get("weight"), 0.0), int(_num(r.get("count"), 0))))
    return link_rows, cooc_rows


def _cooc_width(weight: float, wmax: float) -> float:
    """Line width (points) of a co-occurrence edge: proportional to weight, strongest 6 pt."""
    return max(0.6, 6.0 * weight / wmax) if wmax > 0 else 0.6


def _build_thematic_map(integrated, group_themes, segment_themes, links, cooc, palette, group_labels,
                        title=None):
    palette = dict(palette or {})
    group_labels = dict(group_labels or {})
    nodes = _map_nodes(integrated, group_themes, segment_themes, palette)
    by_id = {n.id: n for n in nodes}
    link_rows, cooc_rows = _edges(links, cooc, set(by_id))

    fig = _figure(12, 9)
    handles = [Line2D([], [], ls="", marker="o", ms=9, mfc=palette[g], mec="white", label=group_labels.get(g, g))
               for g in palette]
    handles += [
        mpatches.Patch(fc=NODE_FILL, ec=DARK, lw=1.6, label="integrated theme, agreed (size ∝ segments)"),
        mpatches.Patch(fc=NODE_FILL, ec=DARK, lw=1.6, ls="--", label="integrated theme, proposed"),
        Line2D([], [], color=DARK, lw=1.6, marker=">", ms=6, label="link decided in a workshop"),
        Line2D([], [], color=GREY, lw=3, alpha=0.7, label="raised together in talk (width ∝ weight)"),
    ]
    legend, legend_top = _legend_strip(fig, handles, [h.get_label() for h in handles], ncol=4)
    n_main = sum(n.kind == "main" for n in nodes)
    top = _title(fig, title or "Thematic map: integrated themes and the group themes they came from",
                 f"{n_main} integrated theme{'s' if n_main != 1 else ''}; satellites are the participant groups' own "
                 "themes, coloured by group")
    ax = fig.add_axes((0.01, legend_top + 0.01, 0.98, top - legend_top - 0.02))
    ax.set_axis_off()
    if nodes:
        _fit_limits(ax, [n.x for n in nodes], [n.y for n in nodes], margin=0.8)
    else:
        ax.set_xlim(-1, 1)
        ax.set_ylim(-1, 1)
        ax.text(0, 0, "No integrated themes to map yet.", ha="center", va="center", fontsize=12, color=MID)
    renderer = fig.canvas.get_renderer()
    px = fig.dpi / 72.0
    pt_per_unit = ax.transData.transform((1, 0))[0] - ax.transData.transform((0, 0))[0]
    pt_per_unit /= px

    # co-occurrence (under everything)
    wmax = max((w for *_, w, _c in cooc_rows), default=0.0)
    for a, b, w, _count in cooc_rows:
        na, nb = by_id[a], by_id[b]
        ax.add_line(Line2D([na.x, nb.x], [na.y, nb.y], color=GREY, alpha=0.55, lw=_cooc_width(w, wmax),
                           solid_capstyle="round", zorder=1, gid=f"cooc:{a}--{b}"))
    # spokes to satellites
    for n in nodes:
        if n.kind == "satellite" and n.parent in by_id:
            p = by_id[n.parent]
            ax.add_line(Line2D([p.x, n.x], [p.y, n.y], color=n.colour, lw=1.3, alpha=0.9, zorder=2))
    # nodes
    for n in nodes:
        if n.kind == "main":
            ax.add_patch(mpatches.Circle((n.x, n.y), n.r, fc=NODE_FILL, ec=DARK, lw=2.0,
                                         ls="--" if n.proposed else "-", zorder=4, gid=f"node:{n.id}"))
        else:
            ax.add_patch(mpatches.Circle((n.x, n.y), n.r, fc=n.colour, ec="white", lw=1.2, zorder=4,
                                         gid=f"node:{n.id}"))
    # links (directed, labelled)
    edge_labels = []
    for a, b, relation in link_rows:
        na, nb = by_id[a], by_id[b]
        rad = 0.18
        arrow = mpatches.FancyArrowPatch(
            (na.x, na.y), (nb.x, nb.y), arrowstyle="-|>", mutation_scale=16, connectionstyle=f"arc3,rad={rad}",
            shrinkA=na.r * pt_per_unit + 1, shrinkB=nb.r * pt_per_unit + 2, color=DARK, lw=1.6, zorder=3,
            gid=f"link:{a}->{b}")
        ax.add_patch(arrow)
        if relation:
            (mx, my), _ = _arc_midpoint(na.x, na.y, nb.x, nb.y, rad)
            t = ax.text(mx, my, _wrap(relation, 22, 2), ha="center", va="center", fontsize=8.5, style="italic",
                        color=DARK, zorder=6, gid=f"label:link:{a}->{b}",
                        bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.9))
            edge_labels.append(_Label(t, _display(ax, (mx, my))))

    circles = [(*_display(ax, (n.x, n.y)), n.r * pt_per_unit * px) for n in nodes]
    index = {n.id: i for i, n in enumerate(nodes)}
    main_labels, sat_labels = [], []
    for n in nodes:
        cx, cy = _display(ax, (n.x, n.y))
        rpx = n.r * pt_per_unit * px
        if n.kind == "main":
            t = ax.text(n.x, n.y, n.label, ha="center", va="center", fontsize=10 if n_main <= 8 else 9,
                        fontweight="bold", color=DARK,
                        zorder=7, linespacing=1.15, gid=f"label:{n.id}", path_effects=_HALO)
            main_labels.append(_Label(t, (cx, cy), anchor=(cx, cy), anchor_radius=rpx, ignore=(index[n.id],),
                                      leader_colour=DARK))
        else:
            p = by_id.get(n.parent, n)
            dx, dy = n.x - p.x, n.y - p.y
            norm = math.hypot(dx, dy) or 1.0
            ux, uy = dx / norm, dy / norm
            t = ax.text(n.x, n.y, n.label, ha="center", va="center", fontsize=8.5, color=DARK, zorder=6,
                        linespacing=1.1, gid=f"label:{n.id}", path_effects=_HALO)
            bb = t.get_window_extent(renderer)
            reach = rpx + 3 * px + abs(ux) * bb.width / 2 + abs(uy) * bb.height / 2
            sat_labels.append(_Label(t, (cx + ux * reach, cy + uy * reach), anchor=(cx, cy), anchor_radius=rpx,
                                     ignore=(), leader_colour=n.colour))
    hard = [_box_of(legend, renderer)]
    _place_labels(fig, ax, main_labels + edge_labels + sat_labels, circles=circles, hard=hard)
    fig._compendium_nodes = nodes  # for the HTML version
    fig._compendium_edges = (link_rows, cooc_rows)
    return fig, ax


def plot_thematic_map(integrated: pd.DataFrame, group_themes: pd.DataFrame, segment_themes: pd.DataFrame,
                      links: pd.DataFrame, cooc: pd.DataFrame, palette: dict[str, str],
                      group_labels: dict[str, str], title: str | None = None) -> Figure:
    """The thematic map: integrated themes, their source group themes, links and co-occurrence.

    Integrated themes sit on an ellipse in id order (size ∝ segments; dashed outline while
    ``proposed``); each one's source group themes are satellites coloured by participant
    group; workshop links (``theme_links.csv``) are labelled arrows; co-occurrence edges
    (:func:`cooccurrence_edges`) are grey lines, width ∝ weight. 12 × 9 inches.
    """
    fig, _ = _build_thematic_map(integrated, group_themes, segment_themes, links, cooc, palette, group_labels, title)
    return fig


# --------------------------------------------------------------------------- HTML helpers

_HTML_CSS = """
:root{--ink:#222;--mid:#555;--line:#ddd;--bg:#fff;--accent:#4477AA}
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg);line-height:1.45}
header{padding:1rem 1.5rem .5rem}
h1{font-size:1.35rem;margin:0 0 .25rem}
.sub{color:var(--mid);margin:0;font-size:.92rem}
main{display:flex;flex-wrap:wrap;gap:1rem;padding:0 1.5rem 1.5rem}
.chart{flex:3 1 36rem;min-width:20rem}
.chart svg{width:100%;height:auto;display:block;border:1px solid var(--line);border-radius:6px}
aside{flex:1 1 18rem;max-width:32rem;border:1px solid var(--line);border-radius:6px;padding:.9rem 1rem;font-size:.92rem;align-self:flex-start;position:sticky;top:.5rem;max-height:96vh;overflow:auto}
aside h2{font-size:1.05rem;margin:.1rem 0 .4rem}
aside .meta{color:var(--mid);font-size:.85rem;margin:.1rem 0 .5rem}
aside blockquote{margin:.4rem 0;padding:.3rem .6rem;border-left:3px solid var(--line);font-style:italic}
.bar{display:flex;align-items:center;gap:.4rem;margin:.15rem 0;font-size:.85rem}
.bar span.name{flex:0 0 9.5rem}
.bar span.track{flex:1;height:.7rem;background:#eee;border-radius:3px;overflow:hidden}
.bar span.fill{display:block;height:100%}
.flag{color:#8B1A1A;font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;font-size:.85rem;color:var(--mid);margin:.5rem 0 0}
.legend i{display:inline-block;width:.8rem;height:.8rem;border-radius:50%;margin-right:.35rem;vertical-align:-.1rem}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.node{cursor:pointer;outline:none}
.node:focus circle,.node.active circle{stroke:#000;stroke-width:3}
.edge{transition:opacity .15s}
svg.dim .edge:not(.active){opacity:.15}
.halo{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
@media print{aside{position:static;max-height:none}}
"""

_MAP_JS = """
(function(){
  var data = JSON.parse(document.getElementById('map-data').textContent);
  var panel = document.getElementById('panel');
  var svg = document.querySelector('.chart svg');
  function el(tag, text, cls){var e=document.createElement(tag); if(text!=null){e.textContent=text;} if(cls){e.className=cls;} return e;}
  function show(id){
    var d = data[id]; if(!d){return;}
    panel.replaceChildren();
    panel.appendChild(el('h2', d.title));
    panel.appendChild(el('p', d.meta, 'meta'));
    if(d.description){panel.appendChild(el('p', d.description));}
    if(d.keywords && d.keywords.length){var k=el('p'); k.appendChild(el('strong','Keywords: ')); k.appendChild(document.createTextNode(d.keywords.join(', '))); panel.appendChild(k);}
    if(d.shares && d.shares.length){
      panel.appendChild(el('h3','Share of each group\\u2019s segments'));
      d.shares.forEach(function(s){var row=el('div',null,'bar'); row.appendChild(el('span',s.label,'name'));
        var track=el('span',null,'track'); var fill=el('span',null,'fill'); fill.style.width=Math.min(100,s.pct*100/d.share_max)+'%'; fill.style.background=s.colour;
        track.appendChild(fill); row.appendChild(track); row.appendChild(el('span',s.text)); panel.appendChild(row);});
    }
    (d.flags||[]).forEach(function(f){panel.appendChild(el('p','\\u26a0 '+f,'flag'));});
    if(d.quotes && d.quotes.length){panel.appendChild(el('h3','Quotes (pseudonymised)'));
      d.quotes.forEach(function(q){panel.appendChild(el('blockquote',q));});}
    svg.classList.add('dim');
    document.querySelectorAll('.node, .edge').forEach(function(e){e.classList.remove('active');});
    document.querySelectorAll('[data-node="'+CSS.escape(id)+'"]').forEach(function(e){e.classList.add('active');});
    document.querySelectorAll('.edge').forEach(function(e){if(e.dataset.a===id||e.dataset.b===id){e.classList.add('active');}});
  }
  document.querySelectorAll('.node').forEach(function(g){
    ['mouseenter','focus','click'].forEach(function(ev){g.addEventListener(ev,function(){show(g.dataset.node);});});
    g.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){show(g.dataset.node);e.preventDefault();}});
  });
})();
"""


def _json_script(element_id: str, payload) -> str:
    """JSON inside a <script> element, safe against ``</script>`` and HTML parsing."""
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _page(title: str, subtitle: str, body: str, script: str = "") -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{_e(title)}</title>\n<style>{_HTML_CSS}</style>\n</head>\n<body>\n"
            f"<header><h1>{_e(title)}</h1><p class=\"sub\">{_e(subtitle)}</p></header>\n"
            f"{body}\n{script}\n</body>\n</html>\n")


def _svg_text(x, y, text: str, size_px: float, anchor="middle", weight="normal", style="normal",
              fill=DARK, cls="halo", valign="center") -> str:
    lines = text.split("\n")
    lh = size_px * 1.2
    if valign == "center":
        first = y - (len(lines) - 1) * lh / 2 + 0.35 * size_px
    else:
        first = y
    spans = "".join(f'<tspan x="{x:.1f}" y="{first + i * lh:.1f}">{html.escape(line)}</tspan>'
                    for i, line in enumerate(lines))
    return (f'<text text-anchor="{anchor}" font-size="{size_px:.1f}" font-weight="{weight}" font-style="{style}" '
            f'fill="{fill}" class="{cls}">{spans}</text>')


def _legend_html(palette, group_labels, extra=()) -> str:
    items = [f'<span><i style="background:{_e(c)}"></i>{_e(group_labels.get(g, g))}</span>' for g, c in palette.items()]
    items += [f"<span>{_e(x)}</span>" for x in extra]
    return f'<div class="legend">{"".join(items)}</div>'


# --------------------------------------------------------------------------- thematic map: HTML

def thematic_map_html(integrated: pd.DataFrame, group_themes: pd.DataFrame, segment_themes: pd.DataFrame,
                      links: pd.DataFrame, cooc: pd.DataFrame, palette: dict[str, str],
                      group_labels: dict[str, str], quotes_by_theme: dict[str, list[str]] | None = None,
                      title: str | None = None) -> str:
    """The thematic map as one self-contained interactive HTML page (inline SVG, no requests).

    Hovering, focusing (Tab) or clicking a node shows its label, keywords, group shares,
    flags and quotes (``quotes_by_theme``; default :func:`collect_quotes`; a group theme
    without an entry falls back to its own quote columns). The layout, including label
    positions, is the one of :func:`plot_thematic_map`.
    """
    palette = dict(palette or {})
    group_labels = dict(group_labels or {})
    quotes_by_theme = collect_quotes(integrated, group_themes) if quotes_by_theme is None else dict(quotes_by_theme)
    title = title or "Thematic map: integrated themes and the group themes they came from"
    fig, ax = _build_thematic_map(integrated, group_themes, segment_themes, links, cooc, palette, group_labels, title)
    try:
        nodes: list[_Node] = fig._compendium_nodes
        link_rows, cooc_rows = fig._compendium_edges
        fig_h = fig.bbox.height
        box = ax.get_window_extent(fig.canvas.get_renderer())
        px = fig.dpi / 72.0
        unit = ax.transData.transform((1, 0))[0] - ax.transData.transform((0, 0))[0]

        def xy(x, y):
            dx, dy = ax.transData.transform((x, y))
            return dx - box.x0, (fig_h - dy) - (fig_h - box.y1)

        by_id = {n.id: n for n in nodes}
        parts = [f'<svg viewBox="0 0 {box.width:.0f} {box.height:.0f}" '
                 f'role="img" aria-label="{_e(title)}">',
                 f'<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                 f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{DARK}"/></marker></defs>',
                 f'<rect width="{box.width:.0f}" height="{box.height:.0f}" fill="#fff"/>']
        wmax = max((w for *_, w, _c in cooc_rows), default=0.0)
        for a, b, w, count in cooc_rows:
            (x1, y1), (x2, y2) = xy(by_id[a].x, by_id[a].y), xy(by_id[b].x, by_id[b].y)
            parts.append(f'<g class="edge" data-a="{_e(a)}" data-b="{_e(b)}"><line x1="{x1:.1f}" y1="{y1:.1f}" '
                         f'x2="{x2:.1f}" y2="{y2:.1f}" stroke="{GREY}" stroke-opacity="0.55" stroke-linecap="round" '
                         f'stroke-width="{_cooc_width(w, wmax) * px:.1f}"><title>{_e(a)} and {_e(b)} raised together: '
                         f'{count} turn pairs, weight {w:.2f}</title></line></g>')
        for n in nodes:
            if n.kind == "satellite" and n.parent in by_id:
                (x1, y1), (x2, y2) = xy(by_id[n.parent].x, by_id[n.parent].y), xy(n.x, n.y)
                parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{_e(n.colour)}" '
                             'stroke-width="1.8"/>')
        for a, b, relation in link_rows:
            na, nb = by_id[a], by_id[b]
            p0, p2 = np.array(xy(na.x, na.y)), np.array(xy(nb.x, nb.y))
            # arc3 with rad=0.18 in display space (y flipped: the control point mirrors)
            mid = (p0 + p2) / 2
            d = p2 - p0
            ctrl = mid + 0.18 * np.array([-d[1], d[0]])
            s = p0 + (ctrl - p0) / (np.linalg.norm(ctrl - p0) or 1) * (na.r * unit + 1)
            e = p2 + (ctrl - p2) / (np.linalg.norm(ctrl - p2) or 1) * (nb.r * unit + 3)
            parts.append(f'<g class="edge" data-a="{_e(a)}" data-b="{_e(b)}"><path d="M{s[0]:.1f},{s[1]:.1f} '
                         f'Q{ctrl[0]:.1f},{ctrl[1]:.1f} {e[0]:.1f},{e[1]:.1f}" fill="none" stroke="{DARK}" '
                         f'stroke-width="2.2" marker-end="url(#arrow)"><title>{_e(a)} {_e(relation) or "→"} {_e(b)}'
                         '</title></path></g>')
        details = _node_details(integrated, group_themes, palette, group_labels, quotes_by_theme, nodes)
        for n in nodes:
            x, y = xy(n.x, n.y)
            r = n.r * unit
            if n.kind == "main":
                dash = ' stroke-dasharray="7 5"' if n.proposed else ""
                circle = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{NODE_FILL}" stroke="{DARK}" '
                          f'stroke-width="2.6"{dash}/>')
            else:
                circle = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{_e(n.colour)}" stroke="#fff" '
                          'stroke-width="1.5"/>')
            tip = details.get(n.id, {}).get("title", n.id)
            parts.append(f'<g class="node" data-node="{_e(n.id)}" tabindex="0" role="button" '
                         f'aria-label="{_e(tip)}"><title>{_e(tip)}</title>{circle}</g>')
        # labels at the positions the static map chose
        for text in ax.texts:
            gid = text.get_gid() or ""
            if not gid.startswith("label:"):
                continue
            dx, dy = text.get_transform().transform(text.get_position())
            x, y = dx - box.x0, (fig_h - dy) - (fig_h - box.y1)
            size = text.get_fontsize() * px
            weight = "bold" if str(text.get_fontweight()) in ("bold", "700") else "normal"
            style = "italic" if text.get_style() == "italic" else "normal"
            node_id = gid[len("label:"):]
            label_svg = _svg_text(x, y, text.get_text(), size, weight=weight, style=style)
            if node_id in by_id:
                parts.append(f'<g class="node" data-node="{_e(node_id)}" aria-hidden="true">{label_svg}</g>')
            else:
                parts.append(label_svg)
        for line in ax.lines:  # leader lines (co-occurrence and spokes were drawn above)
            if line.get_gid() or line.get_linewidth() > 1.0:
                continue
            (x1, y1), (x2, y2) = [xy(px_, py_) for px_, py_ in zip(*line.get_data())]
            parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                         f'stroke="{_e(line.get_color())}" stroke-width="1"/>')
        parts.append("</svg>")
        # crop the drawing to what is drawn (nodes and labels), with a small margin
        renderer = fig.canvas.get_renderer()
        boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text()]
        xs = [v for b in boxes for v in (b.x0, b.x1)]
        ys = [v for b in boxes for v in (b.y0, b.y1)]
        for n in nodes:
            cx, cy = ax.transData.transform((n.x, n.y))
            xs += [cx - n.r * unit, cx + n.r * unit]
            ys += [cy - n.r * unit, cy + n.r * unit]
        if xs:
            pad = 12
            x0, x1 = max(min(xs) - box.x0 - pad, 0), min(max(xs) - box.x0 + pad, box.width)
            y0, y1 = max(box.y1 - max(ys) - pad, 0), min(box.y1 - min(ys) + pad, box.height)
            parts[0] = parts[0].replace(f'viewBox="0 0 {box.width:.0f} {box.height:.0f}"',
                                        f'viewBox="{x0:.0f} {y0:.0f} {x1 - x0:.0f} {y1 - y0:.0f}"')
    finally:
        fig.clear()
    legend = _legend_html(palette, group_labels, ("dashed circle = proposed", "arrow = link decided in a workshop",
                                                  "grey line = raised together in talk"))
    body = (f'<main><div class="chart">{"".join(parts)}{legend}</div>'
            '<aside id="panel" aria-live="polite"><h2>Select a theme</h2><p class="meta">Hover over, click or '
            'tab to a circle to read its label, keywords, how much each group contributed, and quotes. '
            'Quotes are pseudonymised.</p></aside></main>')
    script = _json_script("map-data", details) + f"<script>{_MAP_JS}</script>"
    return _page(title, "Integrated themes (large circles) and the participant groups' themes they came from "
                        "(small circles). Self-contained: works offline.", body, script)


def _node_details(integrated, group_themes, palette, group_labels, quotes_by_theme, nodes) -> dict:
    integ = {r["theme_id"]: r for r in _integrated_table(integrated).to_dict("records")}
    lookup = _group_theme_lookup(group_themes)
    details = {}
    for n in nodes:
        if n.kind == "main":
            row = integ.get(n.id, {})
            words = Counter(w for src in _split(row.get("source_themes"))
                            for w in _split(lookup.get(src, {}).get("keywords")))
            shares = []
            for g in palette:
                v = row.get(f"share_{g}")
                if v is not None and _text(v) != "":
                    shares.append({"label": group_labels.get(g, g), "colour": palette[g], "pct": _num(v),
                                   "text": f"{_num(v) * 100:.0f}%"})
            status = _text(row.get("status")) or "agreed"
            balance = row.get("balance")
            meta = [f"{status}", f"{int(_num(row.get('n_segments')))} segments",
                    f"{int(_num(row.get('n_speakers')))} speakers"]
            if _text(balance):
                meta.append(f"balance {_num(balance):.2f}")
            details[n.id] = {
                "title": f"{n.id} · {_text(row.get('label'))}",
                "meta": " · ".join(meta) + (f" · sources: {', '.join(_split(row.get('source_themes')))}"),
                "description": _text(row.get("description")),
                "keywords": [w for w, _ in words.most_common(10)],
                "shares": shares,
                "share_max": max([s["pct"] for s in shares] + [1e-9]),
                "flags": _split(row.get("flags")),
                "quotes": list(quotes_by_theme.get(n.id) or [
                    q for src in _split(row.get("source_themes"))
                    for q in list(quotes_by_theme.get(src) or _quotes_of(lookup.get(src)))[:2]])[:8],
            }
        else:
            row = lookup.get(n.id, {})
            share = row.get("share_of_group")
            shares = ([{"label": group_labels.get(n.group, n.group), "colour": n.colour, "pct": _num(share),
                        "text": f"{_num(share) * 100:.0f}%"}] if _text(share) else [])
            details[n.id] = {
                "title": f"{n.id} · {_text(row.get('label'))}",
                "meta": f"{group_labels.get(n.group, n.group)} · {int(n.n)} segments · part of {n.parent}",
                "description": "",
                "keywords": _split(row.get("keywords"))[:10],
                "shares": shares,
                "share_max": 1.0,
                "flags": [],
                "quotes": list(quotes_by_theme.get(n.id) or _quotes_of(row))[:5],
            }
    return details


# --------------------------------------------------------------------------- heatmap

def _fmt_share(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if v == 0:
        return "0%"
    if v < 0.005:
        return "<1%"
    return f"{v * 100:.0f}%"


def plot_theme_group_heatmap(integrated: pd.DataFrame, group_ids: list[str], group_labels: dict[str, str],
                             title: str | None = None) -> Figure:
    """Integrated themes × participant groups: each cell the share of that group's segments.

    Rows are labelled with id and label (proposed themes in italics, marked "proposed");
    empty cells (a missing voice) are hatched. The right-hand column gives each theme's
    balance index and its flags, e.g. "⚠ missing voice: students".
    """
    from matplotlib import colormaps

    integ = _integrated_table(integrated)
    group_ids = list(group_ids)
    group_labels = dict(group_labels or {})
    n_rows, n_cols = max(len(integ), 1), max(len(group_ids), 1)
    notes = []
    for row in integ.itertuples(index=False):
        lines = [f"balance {max(_num(row.balance), 0.0):.2f}" if _text(row.balance) else "balance n/a"]
        if _is_proposed(row.status):
            lines.append("proposed (not yet agreed)")
        flags = [_wrap(f"⚠ {f}", 40) for f in _split(row.flags)]
        notes.append(("\n".join(lines), "\n".join(flags)))
    lines_per_row = max([sum(part.count("\n") + 1 for part in n if part) for n in notes] + [2])
    row_h = max(0.55, 0.17 * lines_per_row + 0.12)
    notes_w = 0.3 + 0.075 * max([len(line) for n in notes for part in n for line in part.split("\n")] + [18])
    fig = _figure(3.8 + 1.3 * n_cols + notes_w, 1.9 + row_h * n_rows, layout="constrained")
    fig.get_layout_engine().set(w_pad=0.08, h_pad=0.08)
    gs = fig.add_gridspec(1, 2, width_ratios=[1.3 * n_cols, notes_w])
    ax = fig.add_subplot(gs[0, 0])
    ax_notes = fig.add_subplot(gs[0, 1], sharey=ax)
    values = np.full((n_rows, n_cols), np.nan)
    for i, row in enumerate(integ.to_dict("records")):
        for j, g in enumerate(group_ids):
            if f"share_{g}" in row and _text(row[f"share_{g}"]) != "":
                values[i, j] = _num(row[f"share_{g}"])
    vmax = max(float(np.nanmax(values)) if np.isfinite(values).any() else 0.0, 0.01)
    cmap = colormaps[HEATMAP_CMAP]
    im = ax.imshow(np.nan_to_num(values, nan=0.0), cmap=cmap, vmin=0, vmax=vmax, aspect="auto")
    for i in range(len(integ)):
        for j in range(len(group_ids)):
            v = values[i, j]
            if not np.isfinite(v) or v == 0:
                ax.add_patch(mpatches.Rectangle((j - 0.5, i - 0.5), 1, 1, fc="#F2F2F2", ec="#C8C8C8", hatch="///",
                                                lw=0, zorder=2))
                colour = DARK
            else:
                r, g_, b, _ = cmap(v / vmax)
                colour = "white" if 0.299 * r + 0.587 * g_ + 0.114 * b < 0.5 else DARK
            ax.text(j, i, _fmt_share(v if np.isfinite(v) else None), ha="center", va="center", fontsize=10,
                    fontweight="bold", color=colour, zorder=3)
    ax.set_xticks(range(len(group_ids)), [_wrap(group_labels.get(g, g), 14) for g in group_ids], fontsize=9.5)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ticks = []
    for row in integ.itertuples(index=False):
        text = f"{row.theme_id} · {_wrap(row.label or '', 34, 2)}"
        ticks.append(text + (" (proposed)" if _is_proposed(row.status) else ""))
    ax.set_yticks(range(len(integ)), ticks, fontsize=9.5)
    for tick, row in zip(ax.get_yticklabels(), integ.itertuples(index=False)):
        if _is_proposed(row.status):
            tick.set_fontstyle("italic")
    ax.set_xticks(np.arange(-0.5, n_cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n_rows, 1), minor=True)
    ax.grid(which="minor", color="white", lw=2)
    ax.tick_params(which="minor", length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    if integ.empty:
        ax.text((n_cols - 1) / 2, 0, "No integrated themes yet.", ha="center", va="center", fontsize=11, color=MID)
    ax_notes.set_axis_off()
    ax_notes.set_xlim(0, 1)
    line_h = 9 * 1.25 / (row_h * 72)  # one line of 9 pt text, in rows
    for i, (plain, flags) in enumerate(notes):
        n_lines = plain.count("\n") + 1 + (flags.count("\n") + 1 if flags else 0)
        top = i - n_lines * line_h / 2
        ax_notes.text(0.02, top, plain, ha="left", va="top", fontsize=9, color=DARK, linespacing=1.25)
        if flags:
            ax_notes.text(0.02, top + (plain.count("\n") + 1) * line_h, flags, ha="left", va="top", fontsize=9,
                          color="#8B1A1A", fontweight="bold", linespacing=1.25)
    ax_notes.set_title("balance and flags", fontsize=9.5, loc="left", color=MID)
    cbar = fig.colorbar(im, ax=[ax], orientation="horizontal", fraction=0.6 / (1.9 + row_h * n_rows), pad=0.02,
                        aspect=35)
    cbar.set_label("share of that participant group's segments (hatched: none)", fontsize=9)
    cbar.ax.tick_params(labelsize=8.5)
    cbar.ax.xaxis.set_major_formatter(lambda x, _pos: f"{x * 100:.0f}%")
    fig.suptitle(title or "How evenly each integrated theme represents the participant groups",
                 fontsize=12.5, fontweight="bold", color=DARK)
    return fig


# --------------------------------------------------------------------------- lineage (alluvial)

@dataclass
class _Bar:
    id: str
    label: str
    colour: str
    n: float
    y0: float = 0.0   # bottom (layout units, 0..1, y up)
    y1: float = 0.0
    proposed: bool = False
    group: str = ""


def _lineage_flows(group_themes, integrated, segment_themes) -> Counter:
    """Segments flowing from each group theme to its integrated theme (or to ``dropped``)."""
    integ = _integrated_table(integrated)
    flows: Counter = Counter()
    seen = set()
    if (segment_themes is not None and not segment_themes.empty
            and {"group_theme", "integrated_theme"} <= set(segment_themes.columns)):
        for g, i in zip(segment_themes["group_theme"], segment_themes["integrated_theme"]):
            g = _text(g)
            if g:
                flows[(g, _text(i) or DROPPED)] += 1
                seen.add(g)
    lookup = _group_theme_lookup(group_themes)
    targets: dict[str, list[str]] = {}
    for row in integ.itertuples(index=False):
        for src in _split(row.source_themes):
            targets.setdefault(src, []).append(row.theme_id)
    for tid, row in lookup.items():
        if tid in seen:
            continue
        n = max(_num(row.get("n_segments"), 0.0), 0.0)
        if n <= 0:
            continue
        goes = targets.get(tid) or [DROPPED]
        for t in goes:
            flows[(tid, t)] += n / len(goes)
    return flows


def _lineage_layout(group_themes, integrated, segment_themes, palette, group_labels, gap=0.012, group_gap=0.035):
    integ = _integrated_table(integrated)
    lookup = _group_theme_lookup(group_themes)
    flows = _lineage_flows(group_themes, integrated, segment_themes)
    group_order = {g: i for i, g in enumerate(palette)}
    left_ids = sorted({g for g, _ in flows} | set(lookup),
                      key=lambda t: (group_order.get(_group_of(t) or _text(lookup.get(t, {}).get("participant_group")),
                                                     len(group_order)), t))
    right_ids = list(integ["theme_id"])
    if any(i == DROPPED for _, i in flows):
        right_ids.append(DROPPED)
    for _, i in flows:  # integrated themes named in segment_themes but absent from the table
        if i not in right_ids:
            right_ids.insert(len(right_ids) - (DROPPED in right_ids), i)
    out_n = Counter()
    in_n = Counter()
    for (g, i), n in flows.items():
        out_n[g] += n
        in_n[i] += n

    # order: right by barycentre of left positions, left within group by right position (two sweeps)
    rpos = {r: k for k, r in enumerate(right_ids)}
    for _ in range(2):
        def main_target(g):
            outs = [(n, rpos[i]) for (gg, i), n in flows.items() if gg == g]
            return min(outs, key=lambda t: (-t[0], t[1]))[1] if outs else len(rpos)
        left_ids.sort(key=lambda t: (group_order.get(_group_of(t), len(group_order)), main_target(t), t))
        lpos = {g: k for k, g in enumerate(left_ids)}
        def bary(i):
            ins = [(n, lpos[g]) for (g, ii), n in flows.items() if ii == i and g in lpos]
            total = sum(n for n, _ in ins)
            return sum(n * p for n, p in ins) / total if total else float(rpos[i])
        ordered = sorted((r for r in right_ids if r != DROPPED), key=lambda r: (bary(r), r))
        right_ids = ordered + ([DROPPED] if DROPPED in right_ids else [])
        rpos = {r: k for k, r in enumerate(right_ids)}

    integ_rows = {r["theme_id"]: r for r in integ.to_dict("records")}
    left = []
    for g in left_ids:
        row = lookup.get(g, {})
        group = _text(row.get("participant_group")) or _group_of(g)
        n = out_n.get(g, 0.0) or max(_num(row.get("n_segments")), 0.0)
        left.append(_Bar(g, f"{_local_id(g)} {_short(_text(row.get('label')) or g, 38)} ({n:.0f})", palette.get(group, LIGHT),
                         n, group=group))
    right = []
    for i in right_ids:
        if i == DROPPED:
            right.append(_Bar(i, f"dropped in the workshops ({in_n[i]:.0f})", LIGHT, in_n[i]))
            continue
        row = integ_rows.get(i, {})
        label = f"{i} {_text(row.get('label'))}".strip()
        proposed = _is_proposed(row.get("status"))
        right.append(_Bar(i, _wrap(label + (" (proposed)" if proposed else "") + f" ({in_n.get(i, 0):.0f})", 34, 3),
                          "#4D4D4D", in_n.get(i, 0.0), proposed=proposed))

    min_h = 0.006
    left_breaks = [k for k in range(1, len(left)) if left[k - 1].group != left[k].group]
    right_breaks = [k for k in range(1, len(right)) if right[k].id == DROPPED]

    def gaps(bars, breaks):
        return max(len(bars) - 1, 0) * gap + len(breaks) * (group_gap - gap)

    def span(bars, breaks, k):
        return gaps(bars, breaks) + sum(max(b.n * k, min_h) for b in bars)

    # one scale (height per segment) for both columns, so a band has the same width at both ends
    totals = [(sum(b.n for b in bars), bars, breaks) for bars, breaks in ((left, left_breaks), (right, right_breaks))]
    k = min([(1.0 - gaps(bars, breaks)) / total for total, bars, breaks in totals if total > 0] + [1.0])
    k = max(k, 1e-9)
    for _ in range(60):
        if all(span(bars, breaks, k) <= 1.0 + 1e-9 for _t, bars, breaks in totals):
            break
        k *= 0.97

    def stack(bars, breaks):
        y = 1.0 - (1.0 - span(bars, breaks, k)) / 2 if bars else 1.0  # centred vertically in 0..1
        for j, b in enumerate(bars):
            if j:
                y -= group_gap if j in breaks else gap
            h = max(b.n * k, min_h)
            b.y1, b.y0 = y, y - h
            y -= h
    stack(left, set(left_breaks))
    stack(right, set(right_breaks))

    lidx = {b.id: b for b in left}
    lpos = {b.id: k for k, b in enumerate(left)}
    rpos = {b.id: k for k, b in enumerate(right)}
    # band thickness per flow, stacked within nodes
    bands = []
    l_cursor = {b.id: b.y1 for b in left}
    r_cursor = {b.id: b.y1 for b in right}
    by_left = sorted(flows.items(), key=lambda kv: (lpos.get(kv[0][0], 0), rpos.get(kv[0][1], 0)))
    ends_left = {}
    for (g, i), n in by_left:
        h = n * k
        ends_left[(g, i)] = (l_cursor[g] - h, l_cursor[g])
        l_cursor[g] -= h
    by_right = sorted(flows.items(), key=lambda kv: (rpos.get(kv[0][1], 0), lpos.get(kv[0][0], 0)))
    for (g, i), n in by_right:
        h = n * k
        yl0, yl1 = ends_left[(g, i)]
        bands.append((g, i, n, yl0, yl1, r_cursor[i] - h, r_cursor[i], lidx[g].colour))
        r_cursor[i] -= h
    return left, right, bands


def _spread_1d(centres: list[float], heights: list[float], low: float, high: float, gap: float) -> list[float]:
    """Move label centres (y up) as little as possible so that none overlap, within [low, high]."""
    if not centres:
        return []
    order = sorted(range(len(centres)), key=lambda k: -centres[k])
    ys = [centres[k] for k in order]
    hs = [heights[k] for k in order]
    ys[0] = min(ys[0], high - hs[0] / 2)
    for k in range(1, len(ys)):
        ys[k] = min(ys[k], ys[k - 1] - (hs[k - 1] + hs[k]) / 2 - gap)
    if ys[-1] - hs[-1] / 2 < low:
        ys[-1] = low + hs[-1] / 2
        for k in range(len(ys) - 2, -1, -1):
            ys[k] = max(ys[k], ys[k + 1] + (hs[k + 1] + hs[k]) / 2 + gap)
    out = [0.0] * len(centres)
    for k, y in zip(order, ys):
        out[k] = y
    return out


def _band_path(x0, x1, yl0, yl1, yr0, yr1) -> MplPath:
    xm = (x0 + x1) / 2
    verts = [(x0, yl1), (xm, yl1), (xm, yr1), (x1, yr1), (x1, yr0), (xm, yr0), (xm, yl0), (x0, yl0), (x0, yl1)]
    codes = [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4, MplPath.LINETO,
             MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4, MplPath.CLOSEPOLY]
    return MplPath(verts, codes)


def plot_lineage(group_themes: pd.DataFrame, integrated: pd.DataFrame, segment_themes: pd.DataFrame,
                 palette: dict[str, str], group_labels: dict[str, str], title: str | None = None) -> Figure:
    """How the groups' themes became integrated themes: an alluvial diagram.

    Left: group themes, coloured by participant group. Right: integrated themes (dashed
    outline while proposed) and a grey "dropped" node for segments whose group theme was
    not carried into any integrated theme. Band width ∝ segments.
    """
    palette = dict(palette or {})
    group_labels = dict(group_labels or {})
    left, right, bands = _lineage_layout(group_themes, integrated, segment_themes, palette, group_labels)
    right_lines = sum(b.label.count("\n") + 1 for b in right)
    height = max(5.5, 0.3 * max(len(left), right_lines * 0.75) + 2.2)
    fig = _figure(12, height)
    handles = [mpatches.Patch(fc=palette[g], label=group_labels.get(g, g)) for g in palette]
    handles += [mpatches.Patch(fc="#4D4D4D", label="integrated theme"),
                mpatches.Patch(fc="white", ec="#4D4D4D", ls="--", lw=1.2, label="integrated theme, proposed"),
                mpatches.Patch(fc=LIGHT, label="dropped")]
    _legend, legend_top = _legend_strip(fig, handles, [h.get_label() for h in handles], ncol=min(len(handles), 4))
    top = _title(fig, title or "Lineage: from each group's themes to the integrated themes",
                 "band width ∝ number of segments")
    renderer = fig.canvas.get_renderer()
    ax = fig.add_axes((0.0, legend_top + 0.015, 1.0, top - legend_top - 0.06))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.01, 1.01)
    xl0, xl1, xr0, xr1 = 0.35, 0.365, 0.635, 0.65
    for g, i, _n, yl0, yl1, yr0, yr1, colour in bands:
        ax.add_patch(mpatches.PathPatch(_band_path(xl1, xr0, yl0, yl1, yr0, yr1), fc=colour, ec="none", alpha=0.45,
                                        zorder=1, gid=f"band:{g}->{i}"))
    for b in left:
        ax.add_patch(mpatches.Rectangle((xl0, b.y0), xl1 - xl0, b.y1 - b.y0, fc=b.colour, ec="none", zorder=2,
                                        gid=f"node:{b.id}"))
    for b in right:
        if b.proposed:
            ax.add_patch(mpatches.Rectangle((xr0, b.y0), xr1 - xr0, b.y1 - b.y0, fc="white", ec="#4D4D4D", ls="--",
                                            lw=1.2, zorder=2, gid=f"node:{b.id}"))
        else:
            ax.add_patch(mpatches.Rectangle((xr0, b.y0), xr1 - xr0, b.y1 - b.y0, fc=b.colour, ec="none", zorder=2,
                                            gid=f"node:{b.id}"))
    head_y = ax.transData.transform((0, 1.01))[1] + 4
    for x, text, ha in ((xl1, "group themes (stage 4)", "right"), (xr0, "integrated themes (stage 5)", "left")):
        hx = ax.transData.transform((x, 0))[0]
        fig.text(hx / fig.bbox.width, head_y / fig.bbox.height, text, ha=ha, va="bottom", fontsize=10,
                 fontweight="bold", color=MID)
    box = ax.get_window_extent(renderer)
    px = fig.dpi / 72.0
    inverse = ax.transData.inverted()
    for bars, x_node, x_text, ha in ((left, xl0, xl0 - 0.012, "right"), (right, xr1, xr1 + 0.012, "left")):
        texts = [ax.text(x_text, (b.y0 + b.y1) / 2, b.label, ha=ha, va="center", fontsize=9, color=DARK,
                         linespacing=1.1, gid=f"label:{b.id}", fontstyle="italic" if b.proposed else "normal")
                 for b in bars]
        heights = [t.get_window_extent(renderer).height for t in texts]
        centres = [ax.transData.transform((0, (b.y0 + b.y1) / 2))[1] for b in bars]
        ys = _spread_1d(centres, heights, box.y0 + 1, box.y1 - 1, 2.0 * px)
        for t, b, y, c in zip(texts, bars, ys, centres):
            t.set_y(inverse.transform((0, y))[1])
            if abs(y - c) > 1.5 * px:
                xm = x_text + (0.006 if ha == "right" else -0.006)
                ax.add_line(Line2D([x_node, xm], [(b.y0 + b.y1) / 2, inverse.transform((0, y))[1]], color=GREY, lw=0.6,
                                   zorder=1.5))
    return fig


def lineage_html(group_themes: pd.DataFrame, integrated: pd.DataFrame, segment_themes: pd.DataFrame,
                 palette: dict[str, str], group_labels: dict[str, str], title: str | None = None) -> str:
    """The lineage diagram as a self-contained HTML page (inline SVG, hover titles)."""
    palette = dict(palette or {})
    group_labels = dict(group_labels or {})
    title = title or "Lineage: from each group's themes to the integrated themes"
    left, right, bands = _lineage_layout(group_themes, integrated, segment_themes, palette, group_labels)
    lookup = _group_theme_lookup(group_themes)
    integ_rows = {r["theme_id"]: r for r in _integrated_table(integrated).to_dict("records")}
    width = 1100
    right_lines = sum(b.label.count("\n") + 1 for b in right)
    height = int(max(460, 28 * max(len(left), right_lines * 0.75) + 80))
    top, bottom = 40, height - 16
    xl0, xl1, xr0, xr1 = 385, 401, 699, 715

    def y(v):
        return top + (1.01 - v) / 1.02 * (bottom - top)

    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{_e(title)}">', '<rect width="100%" height="100%" fill="#fff"/>',
             f'<text x="{xl1}" y="22" text-anchor="end" font-size="14" font-weight="bold" fill="{MID}">'
             'group themes (stage 4)</text>',
             f'<text x="{xr0}" y="22" text-anchor="start" font-size="14" font-weight="bold" fill="{MID}">'
             'integrated themes (stage 5)</text>']
    names = {b.id: b.label.replace("\n", " ") for b in left + right}
    for g, i, n, yl0, yl1, yr0, yr1, colour in bands:
        xm = (xl1 + xr0) / 2
        d = (f"M{xl1},{y(yl1):.1f} C{xm},{y(yl1):.1f} {xm},{y(yr1):.1f} {xr0},{y(yr1):.1f} L{xr0},{y(yr0):.1f} "
             f"C{xm},{y(yr0):.1f} {xm},{y(yl0):.1f} {xl1},{y(yl0):.1f} Z")
        tip = f"{g} {_text(lookup.get(g, {}).get('label'))} → {i if i != DROPPED else 'dropped'}: {n:.0f} segments"
        parts.append(f'<path class="band" data-a="{_e(g)}" data-b="{_e(i)}" d="{d}" fill="{_e(colour)}" '
                     f'fill-opacity="0.45"><title>{_e(tip)}</title></path>')
    for b in left:
        group = group_labels.get(b.group, b.group)
        tip = f"{b.id} · {_text(lookup.get(b.id, {}).get('label'))} ({group}): {b.n:.0f} segments"
        parts.append(f'<rect class="bar" data-node="{_e(b.id)}" x="{xl0}" y="{y(b.y1):.1f}" width="{xl1 - xl0}" '
                     f'height="{max(y(b.y0) - y(b.y1), 1):.1f}" fill="{_e(b.colour)}"><title>{_e(tip)}</title></rect>')
    for b in right:
        if b.id == DROPPED:
            tip = f"dropped in the workshops: {b.n:.0f} segments"
        else:
            row = integ_rows.get(b.id, {})
            tip = f"{b.id} · {_text(row.get('label'))} ({_text(row.get('status')) or 'agreed'}): {b.n:.0f} segments"
        style = ('fill="#fff" stroke="#4D4D4D" stroke-dasharray="4 3" stroke-width="1.5"' if b.proposed
                 else f'fill="{_e(b.colour)}"')
        parts.append(f'<rect class="bar" data-node="{_e(b.id)}" x="{xr0}" y="{y(b.y1):.1f}" width="{xr1 - xr0}" '
                     f'height="{max(y(b.y0) - y(b.y1), 1):.1f}" {style}><title>{_e(tip)}</title></rect>')
    font = 12.5
    for bars, x_node, x_text, anchor in ((left, xl0, xl0 - 8, "end"), (right, xr1, xr1 + 8, "start")):
        centres = [-(y((b.y0 + b.y1) / 2)) for b in bars]  # y up for the spreading
        heights = [(b.label.count("\n") + 1) * font * 1.2 for b in bars]
        ys = _spread_1d(centres, heights, -(height - 4), -(top - 6), 3)
        for b, yy, c in zip(bars, ys, centres):
            yy = -yy
            if abs(yy + c) > 1.5:
                parts.append(f'<line x1="{x_node}" y1="{-c:.1f}" x2="{x_text + (4 if anchor == "end" else -4)}" '
                             f'y2="{yy:.1f}" stroke="{GREY}" stroke-width="0.8"/>')
            style = "italic" if b.proposed else "normal"
            parts.append(f'<g data-node="{_e(b.id)}" class="lab"><title>{_e(names[b.id])}</title>'
                         + _svg_text(x_text, yy, b.label, font, anchor=anchor, style=style) + "</g>")
    parts.append("</svg>")
    css = ("<style>.band{transition:fill-opacity .15s}.band:hover{fill-opacity:.85}"
           "svg.focus .band{fill-opacity:.12}svg.focus .band.on{fill-opacity:.8}</style>")
    js = ("<script>(function(){var s=document.querySelector('.chart svg');"
          "document.querySelectorAll('[data-node]').forEach(function(n){var id=n.getAttribute('data-node');"
          "n.addEventListener('mouseenter',function(){s.classList.add('focus');"
          "document.querySelectorAll('.band').forEach(function(b){if(b.dataset.a===id||b.dataset.b===id)"
          "{b.classList.add('on');}});});n.addEventListener('mouseleave',function(){s.classList.remove('focus');"
          "document.querySelectorAll('.band.on').forEach(function(b){b.classList.remove('on');});});});})();</script>")
    legend = _legend_html(palette, group_labels, ("dark bar = integrated theme", "dashed = proposed",
                                                  "grey = dropped"))
    body = f'{css}<main><div class="chart">{"".join(parts)}{legend}</div></main>'
    return _page(title, "Band width ∝ number of segments. Hover over a band or a bar for details. "
                        "Self-contained: works offline.", body, js)


# --------------------------------------------------------------------------- per-group figures

def theme_colours(theme_ids) -> dict[str, str]:
    """One colour per theme of a group (Paul Tol's muted scheme, in theme order)."""
    return {t: TOL_MUTED[k % len(TOL_MUTED)] for k, t in enumerate(sorted(theme_ids))}


def plot_segment_map(segments: pd.DataFrame, embeddings: np.ndarray | None, assignments: pd.DataFrame, group: str,
                     group_themes: pd.DataFrame, seed: int = 0, method: str = "auto",
                     group_label: str | None = None, coords: pd.DataFrame | None = None) -> Figure:
    """A 2-D map of one participant group's segments, coloured by group theme.

    Uses UMAP (cosine, ``random_state=seed``) when ``umap`` is importable and there are at
    least 10 segments, else PCA (``method`` forces "umap" or "pca"). Theme labels sit at
    the theme centroids without overlapping; hollow points were outliers reassigned to
    the nearest theme. ``embeddings`` are all rows of ``embeddings.npy`` (same order as
    ``segments``). ``coords`` (``segment_map.parquet`` from notebook 04) gives the 2-D
    positions already computed; then ``embeddings`` may be None.
    """
    if coords is not None:
        shown, xy, used, total = _coords_of(segments, coords, group)
        return _segment_map_figure(shown, assignments, group, group_themes, group_label, xy, used, total)
    embeddings = np.asarray(embeddings)
    if len(embeddings) != len(segments):
        raise ValueError(f"embeddings has {len(embeddings)} rows but segments has {len(segments)}; "
                         "pass embeddings.npy and segments.parquet from the same run.")
    if method not in ("auto", "umap", "pca"):
        raise ValueError(f"method must be 'auto', 'umap' or 'pca', not {method!r}.")
    emb = embeddings[(segments["participant_group"] == group).to_numpy()]
    xy, used = _project_2d(emb.astype(float), seed, method)
    return _segment_map_figure(segments, assignments, group, group_themes, group_label, xy, used)


def _coords_of(segments: pd.DataFrame, coords: pd.DataFrame, group: str) -> tuple[pd.DataFrame, np.ndarray, str, int]:
    """The segments of ``group`` that have a 2-D position (all, or notebook 04's sample
    in a large group), their positions in the same order, and the projection's name."""
    table = coords[coords["participant_group"] == group].set_index("segment_id")
    ids = segments.loc[segments["participant_group"] == group, "segment_id"]
    stale = table.index.difference(ids)
    if len(stale):
        raise ValueError(f"segment_map.parquet places segment {stale[0]}, which segments.parquet does not have; "
                         "rerun notebook 04 so the two match.")
    shown = segments[(segments["participant_group"] == group) & segments["segment_id"].isin(table.index)]
    rows = table.loc[shown["segment_id"]]
    used = str(rows["projection"].iloc[0]) if len(rows) else "PCA"
    return shown, rows[["x", "y"]].to_numpy(dtype=float), used, len(ids)


def _segment_map_figure(segments, assignments, group, group_themes, group_label, coords, used,
                        total: int | None = None) -> Figure:
    mask = (segments["participant_group"] == group).to_numpy()
    seg = segments.loc[mask, ["segment_id"]].reset_index(drop=True)
    if assignments is not None and not assignments.empty:
        a = assignments[["segment_id", "theme_id"] + (["was_outlier"] if "was_outlier" in assignments.columns else [])]
        seg = seg.merge(a, on="segment_id", how="left")
    if "theme_id" not in seg.columns:
        seg["theme_id"] = None
    if "was_outlier" not in seg.columns:
        seg["was_outlier"] = False
    seg["theme_id"] = seg["theme_id"].map(_text).replace("", "unassigned")
    seg["was_outlier"] = seg["was_outlier"].fillna(False).astype(bool)
    lookup = _group_theme_lookup(group_themes)
    label = group_label or group

    fig = _figure(10, 7.5)
    themes = sorted(t for t in seg["theme_id"].unique() if t != "unassigned")
    colours = theme_colours(themes)
    colours["unassigned"] = LIGHT
    handles = [Line2D([], [], ls="", marker="o", ms=7, mfc=GREY, mec=GREY, label="segment in its theme"),
               Line2D([], [], ls="", marker="o", ms=7, mfc="white", mec=GREY, mew=1.4,
                      label="outlier reassigned to the nearest theme")]
    legend, legend_top = _legend_strip(fig, handles, [h.get_label() for h in handles], ncol=2)
    top = _title(fig, f"{label}: segments mapped by meaning, coloured by theme",
                 (f"{len(seg)} segments" if total is None or total == len(seg) else
                  f"{len(seg):,} of {total:,} segments (a fixed random sample)")
                 + f"; 2-D {used} of the sentence embeddings (axes have no units)")
    ax = fig.add_axes((0.03, legend_top + 0.02, 0.94, top - legend_top - 0.03))
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_color("#DDDDDD")
    ax.set_xlabel(f"{used} 1", fontsize=9, color=MID)
    ax.set_ylabel(f"{used} 2", fontsize=9, color=MID)
    ax.xaxis.set_label_coords(0.5, -0.01)
    if len(seg) == 0:
        ax.text(0.5, 0.5, f"No segments for {label}.", transform=ax.transAxes, ha="center", va="center",
                fontsize=12, color=MID)
        return fig
    span = np.ptp(coords, axis=0)
    span = np.where(span > 0, span, 1.0)
    lo = coords.min(axis=0) - 0.12 * span
    hi = coords.max(axis=0) + 0.12 * span
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    for t in themes + (["unassigned"] if "unassigned" in set(seg["theme_id"]) else []):
        sel = (seg["theme_id"] == t).to_numpy()
        reg, out = sel & ~seg["was_outlier"].to_numpy(), sel & seg["was_outlier"].to_numpy()
        ax.scatter(coords[reg, 0], coords[reg, 1], s=26, c=colours[t], edgecolors="white", linewidths=0.4,
                   zorder=2, alpha=0.9)
        ax.scatter(coords[out, 0], coords[out, 1], s=26, facecolors="white", edgecolors=colours[t], linewidths=1.3,
                   zorder=2)
    labels = []
    for t in themes:
        sel = (seg["theme_id"] == t).to_numpy()
        cx, cy = np.median(coords[sel], axis=0)
        name = _text(lookup.get(t, {}).get("label"))
        text = _wrap(f"{_local_id(t)} {name}".strip() + f" ({int(sel.sum())})", 24, 3)
        tx = ax.text(cx, cy, text, ha="center", va="center", fontsize=9, fontweight="bold", color=DARK, zorder=5,
                     gid=f"label:{t}", linespacing=1.1,
                     bbox=dict(boxstyle="round,pad=0.3", fc="white", ec=colours[t], lw=1.5, alpha=0.92))
        d = _display(ax, (cx, cy))
        labels.append(_Label(tx, d, anchor=d, anchor_radius=0, leader_colour=colours[t]))
    _place_labels(fig, ax, labels, hard=[_box_of(legend, fig.canvas.get_renderer())])
    return fig


def _tree(hierarchy: pd.DataFrame):
    children = {}
    distance = {}
    for r in hierarchy.to_dict("records"):
        p = _text(r.get("parent"))
        if not p:
            continue
        children[p] = (_text(r.get("left")), _text(r.get("right")))
        distance[p] = _num(r.get("distance"), 0.0)
    kids = {c for pair in children.values() for c in pair}
    roots = [p for p in children if p not in kids] or list(children)[:1]
    return children, distance, sorted(roots, key=lambda p: -distance.get(p, 0.0))


def plot_theme_dendrogram(hierarchy: pd.DataFrame, group_themes: pd.DataFrame, group: str,
                          group_label: str | None = None, colour: str = "#4477AA") -> Figure:
    """A participant group's theme hierarchy (``theme_hierarchy.csv``) as a dendrogram.

    Leaves are the group's themes (label and number of segments), merged right to left
    at the distance BERTopic recorded. With fewer than three themes there is no hierarchy:
    the figure says so instead.
    """
    label = group_label or group
    lookup = {k: v for k, v in _group_theme_lookup(group_themes).items()
              if (_text(v.get("participant_group")) or _group_of(k)) == group}
    h = hierarchy if hierarchy is not None else pd.DataFrame()
    if not h.empty and "participant_group" in h.columns:
        h = h[h["participant_group"].map(_text) == group]
    elif not h.empty and "parent" in h.columns:
        h = h[h["parent"].map(lambda p: _group_of(_text(p)) == group)]
    if h.empty or not {"parent", "left", "right"} <= set(h.columns):
        fig = _figure(9, 2.2)
        few = len(lookup) < 3
        message = "fewer than three themes: no hierarchy" if few else "no hierarchy was recorded for this group"
        fig.text(0.5, 0.8, label, ha="center", va="center", fontsize=12.5, fontweight="bold", color=DARK)
        fig.text(0.5, 0.6, message, ha="center", va="center", fontsize=11.5, color="#8B1A1A")
        listing = "; ".join(f"{_local_id(t)} {_short(_text(r.get('label')), 40)}" for t, r in sorted(lookup.items()))
        fig.text(0.5, 0.37, _wrap(f"Themes: {listing}" if listing else "No themes for this group.", 95, 3),
                 ha="center", va="center", fontsize=9.5, color=MID)
        fig.text(0.5, 0.14, "A dendrogram needs at least three themes to show which merge first.", ha="center",
                 va="center", fontsize=9, color=MID, style="italic")
        return fig

    children, distance, roots = _tree(h)
    order: list[str] = []
    seen = set()

    def walk(node):
        if node in seen:
            return
        seen.add(node)
        if node in children:
            for c in children[node]:
                walk(c)
        elif node:
            order.append(node)
    for root in roots:
        walk(root)
    for t in sorted(lookup):  # themes missing from the tree still get a row
        if t not in order:
            order.append(t)
    ypos = {leaf: float(k) for k, leaf in enumerate(order)}

    def place(node, depth=0):
        if node in ypos and node not in children:
            return ypos[node], 0.0
        if node not in children or depth > 500:
            return ypos.get(node, 0.0), 0.0
        (ya, xa), (yb, xb) = place(children[node][0], depth + 1), place(children[node][1], depth + 1)
        return (ya + yb) / 2, max(distance.get(node, 0.0), xa, xb)

    n = len(order)
    height = 1.5 + 0.42 * n
    fig = _figure(10, height)
    ax = fig.add_axes((0.42, 0.85 / height, 0.54, 0.42 * n / height))
    done = set()

    def draw(node, depth=0):
        if node not in children or node in done or depth > 500:
            return place(node)
        done.add(node)
        (ya, xa), (yb, xb) = draw(children[node][0], depth + 1), draw(children[node][1], depth + 1)
        x = max(distance.get(node, 0.0), xa, xb)
        ax.plot([xa, x, x, xb], [ya, ya, yb, yb], color=colour, lw=1.8, solid_capstyle="round",
                solid_joinstyle="round", zorder=2)
        return (ya + yb) / 2, x
    xmax = 0.0
    for root in roots:
        _, x = draw(root)
        xmax = max(xmax, x)
    sizes = [max(_num(lookup.get(t, {}).get("n_segments"), 1.0), 1.0) for t in order]
    smax = max(sizes, default=1.0)
    ax.scatter([0] * n, range(n), s=[30 + 170 * s / smax for s in sizes], c=colour, edgecolors="white", zorder=3)
    ax.set_yticks(range(n), [_wrap(f"{_local_id(t)} {_text(lookup.get(t, {}).get('label'))} "
                                   f"({int(_num(lookup.get(t, {}).get('n_segments')))} segments)", 46, 2)
                             for t in order], fontsize=9.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(-0.04 * (xmax or 1.0), (xmax or 1.0) * 1.06)
    ax.tick_params(axis="y", length=0, pad=10)
    ax.tick_params(axis="x", labelsize=9)
    ax.set_xlabel("distance at which themes merge (BERTopic hierarchy)", fontsize=9.5)
    for s in ("top", "right", "left"):
        ax.spines[s].set_visible(False)
    ax.grid(axis="x", color="#EEEEEE", zorder=0)
    fig.text(0.5, 1 - 0.12 / height, f"{label}: how the themes group together", ha="center", va="top",
             fontsize=12.5, fontweight="bold", color=DARK)
    return fig


def start_group_figures(folder: Path, segments: pd.DataFrame, assignments: pd.DataFrame, hierarchy: pd.DataFrame,
                        group_themes: pd.DataFrame, group_ids, group_labels: dict[str, str], palette: dict[str, str],
                        coords: pd.DataFrame, dpi: int = 200):
    """Start :func:`save_group_figures` (from notebook 04's segment positions) in a
    process of its own and return a task whose ``.result()`` is the files written.

    They need none of notebook 05's tables, so notebook 06 draws them on the second core
    while it draws the integrated maps."""
    from functools import partial

    from ._workers import in_own_process

    return in_own_process(partial(save_group_figures, Path(folder), segments, None, assignments, hierarchy,
                                  group_themes, list(group_ids), dict(group_labels), dict(palette), dpi=dpi,
                                  coords=coords))


def save_group_figures(folder: Path, segments: pd.DataFrame, embeddings: np.ndarray | None, assignments: pd.DataFrame,
                       hierarchy: pd.DataFrame, group_themes: pd.DataFrame, group_ids, group_labels: dict[str, str],
                       palette: dict[str, str], seed: int = 0, dpi: int = 200,
                       coords: pd.DataFrame | None = None) -> list[Path]:
    """Each participant group's segment map and theme dendrogram, saved as
    ``segments_<group>.png`` and ``hierarchy_<group>.png`` under ``folder``.

    ``coords`` (segment_map.parquet) places the segments; without it they are projected
    from ``embeddings`` here."""
    written = []
    for group in group_ids:
        label = group_labels.get(group, group)
        fig = plot_segment_map(segments, embeddings, assignments, group, group_themes, seed=seed, group_label=label,
                               coords=coords)
        written += save_figure(fig, Path(folder) / f"segments_{group}", dpi=dpi)
        fig = plot_theme_dendrogram(hierarchy, group_themes, group, group_label=label,
                                    colour=palette.get(group, "#4477AA"))
        written += save_figure(fig, Path(folder) / f"hierarchy_{group}", dpi=dpi)
    return written
