"""The thematic map: integrated themes, the group themes they came from, links, co-occurrence.

One :class:`ThematicMapLayout` holds everything a drawing needs — node positions and
sizes, colours, wrapped labels at the places the label search chose, leader lines, link
and co-occurrence edges — built once in Python by :func:`thematic_map_layout`. Two
renderers read it and nothing else (:mod:`.thematic_map_draw`): matplotlib, for PNG and
SVG, and inline SVG for the HTML page and the workshop board.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from matplotlib import patches as mpatches
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .._io import cell_number
from ._common import (
    DARK,
    GREY,
    LIGHT,
    NODE_FILL,
    _box_of,
    _display,
    _figure,
    _fit_limits,
    _group_of,
    _group_theme_lookup,
    _integrated_table,
    _is_proposed,
    _Label,
    _legend_strip,
    _local_id,
    _place_labels,
    _segment_counts,
    _short,
    _split,
    _text,
    _theme_row,
    _title,
    _wrap,
)

DEFAULT_TITLE = "Thematic map: integrated themes and the group themes they came from"
#: Bend of a link arrow (matplotlib's ``arc3`` ``rad``); the SVG draws the same curve.
LINK_BEND = 0.18
FIG_SIZE = (12, 9)   # inches
FIG_DPI = 100        # the layout's pixel grid; saved files may use another dpi
#: Labels shrink no smaller than this to find a free spot: the report shows the 12-inch map
#: 1,240 CSS pixels wide, where 8.5 pt reads as 9 pt.
LABEL_MIN_FONT = 8.5


@dataclass(frozen=True)
class MapNode:
    id: str
    kind: str            # "main" (integrated theme) or "satellite" (a source group theme)
    x: float             # data coordinates (equal scale)
    y: float
    r: float             # radius, data units
    n: float             # segments
    label: str           # wrapped, "\n" between lines
    colour: str
    group: str = ""
    parent: str = ""
    proposed: bool = False


@dataclass(frozen=True)
class MapText:
    """A label where the label search put it (centre, data coordinates) and at its size."""

    key: str             # "label:<node id>" or "label:link:<a>-><b>"
    text: str
    x: float
    y: float
    fontsize: float      # points
    bold: bool = False
    italic: bool = False
    boxed: bool = False  # a white box behind (link relations)
    linespacing: float = 1.2
    leader: tuple[tuple[float, float], tuple[float, float]] | None = None
    leader_colour: str = GREY


@dataclass(frozen=True)
class MapLink:
    source: str
    target: str
    relation: str


@dataclass(frozen=True)
class MapCooc:
    source: str
    target: str
    weight: float
    count: int
    width: float         # points


@dataclass(frozen=True)
class ThematicMapLayout:
    """Everything both renderers draw. Data coordinates map to the figure through
    ``axes`` (left, bottom, width, height as figure fractions) and ``xlim``/``ylim``."""

    title: str
    subtitle: str
    palette: dict
    group_labels: dict
    size: tuple[float, float]
    dpi: int
    axes: tuple[float, float, float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    nodes: tuple[MapNode, ...]
    links: tuple[MapLink, ...]
    cooc: tuple[MapCooc, ...]
    texts: tuple[MapText, ...]
    text_boxes: tuple[tuple[float, float, float, float], ...]   # padded label boxes, axes pixels, y down
    message: str = ""    # shown instead of a map when there is nothing to map

    def node(self, node_id: str) -> MapNode:
        return {n.id: n for n in self.nodes}[node_id]

    @property
    def axes_pixels(self) -> tuple[float, float]:
        """Width and height of the drawing area, pixels at ``dpi``."""
        return self.axes[2] * self.size[0] * self.dpi, self.axes[3] * self.size[1] * self.dpi

    @property
    def unit(self) -> float:
        """Pixels per data unit (the same on both axes)."""
        return self.axes_pixels[0] / (self.xlim[1] - self.xlim[0])

    def pixel(self, x: float, y: float) -> tuple[float, float]:
        """Data coordinates to pixels in the drawing area, origin top left, y down."""
        w, h = self.axes_pixels
        return ((x - self.xlim[0]) / (self.xlim[1] - self.xlim[0]) * w,
                (self.ylim[1] - y) / (self.ylim[1] - self.ylim[0]) * h)


# --------------------------------------------------------------------------- layout

def _map_nodes(integrated: pd.DataFrame, group_themes: pd.DataFrame, segment_themes: pd.DataFrame,
               palette: dict[str, str]) -> list[MapNode]:
    integ = _integrated_table(integrated)
    lookup = _group_theme_lookup(group_themes)
    seg_counts = _segment_counts(segment_themes)
    group_order = {g: i for i, g in enumerate(palette)}
    n_main = len(integ)
    sizes = [max(cell_number(v, 0.0), 1.0) for v in integ["n_segments"]]
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
            sat_sizes.append(max(cell_number(_theme_row(lookup, src).get("n_segments"), seg_counts.get(src, 1)), 1.0))
    smax = max(sat_sizes, default=1.0)

    nodes: list[MapNode] = []
    for (x, y), size, row in zip(positions, sizes, integ.itertuples(index=False)):
        r = 0.2 + 0.15 * math.sqrt(size / nmax)
        label = f"{row.theme_id}\n{_wrap(row.label or row.theme_id, 19, 4 if n_main <= 8 else 3)}"
        nodes.append(MapNode(row.theme_id, "main", x, y, r, size, label, NODE_FILL, proposed=_is_proposed(row.status)))
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
            info = _theme_row(lookup, src)
            n = max(cell_number(info.get("n_segments"), seg_counts.get(src, 1)), 1.0)
            rs = 0.05 + 0.065 * math.sqrt(n / smax)
            d = r + 0.34 + rs
            group = _text(info.get("participant_group")) or _group_of(src)
            text = f"{_local_id(src)} {_text(info.get('label'))}".strip()
            nodes.append(MapNode(src, "satellite", x + d * math.cos(ang), y + d * math.sin(ang), rs, n,
                                 _wrap(_short(text, 40), 20, 2), palette.get(group, LIGHT), group, row.theme_id))
    return nodes


def _arc_midpoint(x1, y1, x2, y2, rad):
    """Midpoint of matplotlib's ``arc3`` curve between two points (and its control point)."""
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    dx, dy = x2 - x1, y2 - y1
    cx, cy = mx + rad * dy, my - rad * dx
    return (0.25 * x1 + 0.5 * cx + 0.25 * x2, 0.25 * y1 + 0.5 * cy + 0.25 * y2), (cx, cy)


def _cooc_width(weight: float, wmax: float) -> float:
    """Line width (points) of a co-occurrence edge: proportional to weight, strongest 6 pt."""
    return max(0.6, 6.0 * weight / wmax) if wmax > 0 else 0.6


def _edges(links, cooc, node_ids) -> tuple[list[MapLink], list[MapCooc]]:
    link_rows = []
    if links is not None and not links.empty and {"source", "target"} <= set(links.columns):
        for r in links.to_dict("records"):
            a, b = _text(r.get("source")), _text(r.get("target"))
            if a in node_ids and b in node_ids and a != b:
                link_rows.append(MapLink(a, b, _text(r.get("relation"))))
    raw = []
    if cooc is not None and not cooc.empty and {"source", "target"} <= set(cooc.columns):
        for r in cooc.to_dict("records"):
            a, b = _text(r.get("source")), _text(r.get("target"))
            if a in node_ids and b in node_ids and a != b:
                raw.append((a, b, cell_number(r.get("weight"), 0.0), int(cell_number(r.get("count"), 0))))
    wmax = max((w for _a, _b, w, _c in raw), default=0.0)
    return link_rows, [MapCooc(a, b, w, c, _cooc_width(w, wmax)) for a, b, w, c in raw]


def _legend_handles(palette, group_labels):
    handles = [Line2D([], [], ls="", marker="o", ms=9, mfc=palette[g], mec="white", label=group_labels.get(g, g))
               for g in palette]
    return handles + [
        mpatches.Patch(fc=NODE_FILL, ec=DARK, lw=1.6, label="integrated theme, agreed (size ∝ segments)"),
        mpatches.Patch(fc=NODE_FILL, ec=DARK, lw=1.6, ls="--", label="integrated theme, proposed"),
        Line2D([], [], color=DARK, lw=1.6, marker=">", ms=6, label="link decided in a workshop"),
        Line2D([], [], color=GREY, lw=3, alpha=0.7, label="raised together in talk (width ∝ weight)"),
    ]


def _frame(fig: Figure, title: str, subtitle: str, palette, group_labels):
    """Title, subtitle and legend strip; returns the legend and the free rectangle between them."""
    handles = _legend_handles(palette, group_labels)
    legend, legend_top = _legend_strip(fig, handles, [h.get_label() for h in handles], ncol=4)
    top = _title(fig, title, subtitle)
    return legend, (0.01, legend_top + 0.01, 0.98, top - legend_top - 0.02)


def thematic_map_layout(integrated: pd.DataFrame, group_themes: pd.DataFrame, segment_themes: pd.DataFrame,
                        links: pd.DataFrame, cooc: pd.DataFrame, palette: dict[str, str],
                        group_labels: dict[str, str], title: str | None = None) -> ThematicMapLayout:
    """Place the nodes, then search label positions that overlap nothing.

    Label sizes are measured with matplotlib's text engine on a scratch figure of the
    final size (the search needs real text extents); what it finds is returned as plain
    data and the scratch figure is thrown away.
    """
    palette = dict(palette or {})
    group_labels = dict(group_labels or {})
    nodes = _map_nodes(integrated, group_themes, segment_themes, palette)
    by_id = {n.id: n for n in nodes}
    link_rows, cooc_rows = _edges(links, cooc, set(by_id))
    n_main = sum(n.kind == "main" for n in nodes)
    title = title or DEFAULT_TITLE
    subtitle = (f"{n_main} integrated theme{'s' if n_main != 1 else ''}; satellites are the participant groups' own "
                "themes, coloured by group")

    fig = _figure(*FIG_SIZE, dpi=FIG_DPI)
    legend, rect = _frame(fig, title, subtitle, palette, group_labels)
    ax = fig.add_axes(rect)
    ax.set_axis_off()
    if nodes:
        _fit_limits(ax, [n.x for n in nodes], [n.y for n in nodes], margin=0.8)
    else:
        ax.set_xlim(-1, 1)
        ax.set_ylim(-1, 1)
    renderer = fig.canvas.get_renderer()
    px = fig.dpi / 72.0
    unit = (ax.transData.transform((1, 0))[0] - ax.transData.transform((0, 0))[0])   # pixels per data unit

    edge_labels = []
    for link in link_rows:
        if not link.relation:
            continue
        na, nb = by_id[link.source], by_id[link.target]
        (mx, my), _ = _arc_midpoint(na.x, na.y, nb.x, nb.y, LINK_BEND)
        t = ax.text(mx, my, _wrap(link.relation, 22, 2), ha="center", va="center", fontsize=8.5, style="italic",
                    gid=f"label:link:{link.source}->{link.target}",
                    bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.9))
        edge_labels.append(_Label(t, _display(ax, (mx, my))))
    circles = [(*_display(ax, (n.x, n.y)), n.r * unit) for n in nodes]
    index = {n.id: i for i, n in enumerate(nodes)}
    main_labels, sat_labels = [], []
    for n in nodes:
        cx, cy = _display(ax, (n.x, n.y))
        rpx = n.r * unit
        if n.kind == "main":
            t = ax.text(n.x, n.y, n.label, ha="center", va="center", fontsize=10 if n_main <= 8 else 9,
                        fontweight="bold", linespacing=1.15, gid=f"label:{n.id}")
            main_labels.append(_Label(t, (cx, cy), anchor=(cx, cy), anchor_radius=rpx, ignore=(index[n.id],),
                                      leader_colour=DARK))
        else:
            p = by_id.get(n.parent, n)
            dx, dy = n.x - p.x, n.y - p.y
            norm = math.hypot(dx, dy) or 1.0
            ux, uy = dx / norm, dy / norm
            t = ax.text(n.x, n.y, n.label, ha="center", va="center", fontsize=8.5, linespacing=1.1,
                        gid=f"label:{n.id}")
            bb = t.get_window_extent(renderer)
            reach = rpx + 3 * px + abs(ux) * bb.width / 2 + abs(uy) * bb.height / 2
            sat_labels.append(_Label(t, (cx + ux * reach, cy + uy * reach), anchor=(cx, cy), anchor_radius=rpx,
                                     leader_colour=n.colour))
    placements = _place_labels(fig, ax, main_labels + edge_labels + sat_labels, circles=circles,
                               hard=[_box_of(legend, renderer)], min_fontsize=LABEL_MIN_FONT)
    box = ax.get_window_extent(renderer)
    texts, boxes = [], []
    for p in placements:
        t = p.label.text
        texts.append(MapText(t.get_gid(), t.get_text(), p.xy[0], p.xy[1], p.fontsize,
                             bold=t.get_fontweight() in ("bold", 700), italic=t.get_style() == "italic",
                             boxed=t.get_bbox_patch() is not None, linespacing=t.get_linespacing(), leader=p.leader,
                             leader_colour=p.label.leader_colour))
        x0, y0, x1, y1 = p.box
        boxes.append((x0 - box.x0, box.y1 - y1, x1 - box.x0, box.y1 - y0))
    layout = ThematicMapLayout(
        title=title, subtitle=subtitle, palette=palette, group_labels=group_labels, size=FIG_SIZE, dpi=FIG_DPI,
        axes=tuple(rect), xlim=tuple(map(float, ax.get_xlim())), ylim=tuple(map(float, ax.get_ylim())),
        nodes=tuple(nodes), links=tuple(link_rows), cooc=tuple(cooc_rows), texts=tuple(texts),
        text_boxes=tuple(boxes), message="" if nodes else "No integrated themes to map yet.")
    fig.clear()
    return layout
