"""The thematic map: integrated themes, the group themes they came from, links, co-occurrence.

One :class:`ThematicMapLayout` holds everything a drawing needs — node positions and
sizes, colours, wrapped labels at the places the label search chose, leader lines, link
and co-occurrence edges — built once in Python by :func:`thematic_map_layout`. Two
renderers read it and nothing else: :func:`render_thematic_map` (matplotlib, for PNG and
SVG) and :func:`thematic_map_svg` (inline SVG for the HTML page and the workshop board).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib import patches as mpatches
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .._io import cell_number
from ._common import (
    _HALO,
    DARK,
    GREY,
    LIGHT,
    MID,
    NODE_FILL,
    _box_of,
    _display,
    _e,
    _figure,
    _fit_limits,
    _group_of,
    _group_theme_lookup,
    _integrated_table,
    _is_proposed,
    _json_script,
    _Label,
    _legend_html,
    _legend_strip,
    _local_id,
    _page,
    _place_labels,
    _quotes_of,
    _segment_counts,
    _short,
    _split,
    _svg_text,
    _text,
    _theme_row,
    _title,
    _wrap,
    asset_text,
    collect_quotes,
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


# --------------------------------------------------------------------------- matplotlib renderer

def render_thematic_map(layout: ThematicMapLayout) -> Figure:
    """Draw a layout with matplotlib (12 × 9 inches)."""
    fig = _figure(*layout.size, dpi=layout.dpi)
    _frame(fig, layout.title, layout.subtitle, layout.palette, layout.group_labels)
    ax = fig.add_axes(layout.axes)
    ax.set_axis_off()
    ax.set_xlim(*layout.xlim)
    ax.set_ylim(*layout.ylim)
    if layout.message:
        ax.text(sum(layout.xlim) / 2, sum(layout.ylim) / 2, layout.message, ha="center", va="center", fontsize=12,
                color=MID)
    by_id = {n.id: n for n in layout.nodes}
    pt_per_unit = layout.unit / (layout.dpi / 72.0)
    for e in layout.cooc:  # under everything
        na, nb = by_id[e.source], by_id[e.target]
        ax.add_line(Line2D([na.x, nb.x], [na.y, nb.y], color=GREY, alpha=0.55, lw=e.width, solid_capstyle="round",
                           zorder=1, gid=f"cooc:{e.source}--{e.target}"))
    for n in layout.nodes:  # spokes to satellites
        if n.kind == "satellite" and n.parent in by_id:
            p = by_id[n.parent]
            ax.add_line(Line2D([p.x, n.x], [p.y, n.y], color=n.colour, lw=1.3, alpha=0.9, zorder=2))
    for n in layout.nodes:
        if n.kind == "main":
            ax.add_patch(mpatches.Circle((n.x, n.y), n.r, fc=NODE_FILL, ec=DARK, lw=2.0,
                                         ls="--" if n.proposed else "-", zorder=4, gid=f"node:{n.id}"))
        else:
            ax.add_patch(mpatches.Circle((n.x, n.y), n.r, fc=n.colour, ec="white", lw=1.2, zorder=4,
                                         gid=f"node:{n.id}"))
    for link in layout.links:
        na, nb = by_id[link.source], by_id[link.target]
        ax.add_patch(mpatches.FancyArrowPatch(
            (na.x, na.y), (nb.x, nb.y), arrowstyle="-|>", mutation_scale=16, connectionstyle=f"arc3,rad={LINK_BEND}",
            shrinkA=na.r * pt_per_unit + 1, shrinkB=nb.r * pt_per_unit + 2, color=DARK, lw=1.6, zorder=3,
            gid=f"link:{link.source}->{link.target}"))
    for t in layout.texts:
        extra = {}
        if t.boxed:
            extra["bbox"] = dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.9)
        else:
            extra["path_effects"] = _HALO
        text = ax.text(t.x, t.y, t.text, ha="center", va="center", fontsize=t.fontsize, color=DARK,
                       fontweight="bold" if t.bold else "normal", style="italic" if t.italic else "normal",
                       linespacing=t.linespacing, zorder=6 if t.boxed or not t.bold else 7, gid=t.key,
                       **extra)
        if t.leader is not None:
            (x1, y1), (x2, y2) = t.leader
            ax.add_line(Line2D([x1, x2], [y1, y2], color=t.leader_colour, lw=0.7, zorder=text.get_zorder() - 0.5))
    return fig


def plot_thematic_map(integrated: pd.DataFrame, group_themes: pd.DataFrame, segment_themes: pd.DataFrame,
                      links: pd.DataFrame, cooc: pd.DataFrame, palette: dict[str, str],
                      group_labels: dict[str, str], title: str | None = None) -> Figure:
    """The thematic map: integrated themes, their source group themes, links and co-occurrence.

    Integrated themes sit on an ellipse in id order (size ∝ segments; dashed outline while
    ``proposed``); each one's source group themes are satellites coloured by participant
    group; workshop links (``theme_links.csv``) are labelled arrows; co-occurrence edges
    (:func:`cooccurrence_edges`) are grey lines, width ∝ weight. 12 × 9 inches.
    """
    return render_thematic_map(thematic_map_layout(integrated, group_themes, segment_themes, links, cooc, palette,
                                                   group_labels, title))


# --------------------------------------------------------------------------- SVG / HTML renderer

def thematic_map_svg(layout: ThematicMapLayout, tips: dict[str, str] | None = None, interactive: bool = True) -> str:
    """A layout as inline SVG, cropped to what is drawn. ``tips``: hover text per node id.
    With ``interactive`` the nodes are focusable buttons (the map page's side panel)."""
    tips = tips or {}
    px = layout.dpi / 72.0
    unit = layout.unit
    w, h = layout.axes_pixels
    by_id = {n.id: n for n in layout.nodes}
    parts = [f'<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{DARK}"/></marker></defs>',
             f'<rect width="{w:.0f}" height="{h:.0f}" fill="#fff"/>']
    for e in layout.cooc:
        (x1, y1), (x2, y2) = layout.pixel(by_id[e.source].x, by_id[e.source].y), layout.pixel(by_id[e.target].x,
                                                                                           by_id[e.target].y)
        parts.append(f'<g class="edge" data-a="{_e(e.source)}" data-b="{_e(e.target)}"><line x1="{x1:.1f}" '
                     f'y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{GREY}" stroke-opacity="0.55" '
                     f'stroke-linecap="round" stroke-width="{e.width * px:.1f}"><title>{_e(e.source)} and '
                     f'{_e(e.target)} raised together: {e.count} turn pairs, weight {e.weight:.2f}</title></line></g>')
    for n in layout.nodes:
        if n.kind == "satellite" and n.parent in by_id:
            (x1, y1), (x2, y2) = layout.pixel(by_id[n.parent].x, by_id[n.parent].y), layout.pixel(n.x, n.y)
            parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{_e(n.colour)}" '
                         'stroke-width="1.8"/>')
    for link in layout.links:
        na, nb = by_id[link.source], by_id[link.target]
        p0, p2 = np.array(layout.pixel(na.x, na.y)), np.array(layout.pixel(nb.x, nb.y))
        # the same arc3 curve in pixel space (y flipped: the control point mirrors)
        d = p2 - p0
        ctrl = (p0 + p2) / 2 + LINK_BEND * np.array([-d[1], d[0]])
        s = p0 + (ctrl - p0) / (np.linalg.norm(ctrl - p0) or 1) * (na.r * unit + 1)
        end = p2 + (ctrl - p2) / (np.linalg.norm(ctrl - p2) or 1) * (nb.r * unit + 3)
        parts.append(f'<g class="edge" data-a="{_e(link.source)}" data-b="{_e(link.target)}"><path '
                     f'd="M{s[0]:.1f},{s[1]:.1f} Q{ctrl[0]:.1f},{ctrl[1]:.1f} {end[0]:.1f},{end[1]:.1f}" fill="none" '
                     f'stroke="{DARK}" stroke-width="2.2" marker-end="url(#arrow)"><title>{_e(link.source)} '
                     f'{_e(link.relation) or "→"} {_e(link.target)}</title></path></g>')
    focus = ' tabindex="0" role="button"' if interactive else ""
    for n in layout.nodes:
        x, y = layout.pixel(n.x, n.y)
        r = n.r * unit
        if n.kind == "main":
            dash = ' stroke-dasharray="7 5"' if n.proposed else ""
            circle = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{NODE_FILL}" stroke="{DARK}" '
                      f'stroke-width="2.6"{dash}/>')
        else:
            circle = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{_e(n.colour)}" stroke="#fff" '
                      'stroke-width="1.5"/>')
        tip = tips.get(n.id, n.id)
        parts.append(f'<g class="node" data-node="{_e(n.id)}"{focus} aria-label="{_e(tip)}"><title>{_e(tip)}</title>'
                     f'{circle}</g>')
    for t in layout.texts:
        if t.leader is not None:
            (x1, y1), (x2, y2) = layout.pixel(*t.leader[0]), layout.pixel(*t.leader[1])
            parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                         f'stroke="{_e(t.leader_colour)}" stroke-width="1"/>')
    for t in layout.texts:
        x, y = layout.pixel(t.x, t.y)
        label = _svg_text(x, y, t.text, t.fontsize * px, weight="bold" if t.bold else "normal",
                          style="italic" if t.italic else "normal")
        node_id = t.key[len("label:"):]
        parts.append(f'<g class="node" data-node="{_e(node_id)}" aria-hidden="true">{label}</g>' if node_id in by_id
                     else label)
    if layout.message:
        parts.append(_svg_text(w / 2, h / 2, layout.message, 12 * px, fill=MID, cls=""))
    # crop to what is drawn (label boxes and nodes), with a small margin
    xs = [v for b in layout.text_boxes for v in (b[0], b[2])]
    ys = [v for b in layout.text_boxes for v in (b[1], b[3])]
    for n in layout.nodes:
        x, y = layout.pixel(n.x, n.y)
        xs += [x - n.r * unit, x + n.r * unit]
        ys += [y - n.r * unit, y + n.r * unit]
    x0, y0, x1, y1 = 0.0, 0.0, w, h
    if xs:
        pad = 12
        x0, x1 = max(min(xs) - pad, 0), min(max(xs) + pad, w)
        y0, y1 = max(min(ys) - pad, 0), min(max(ys) + pad, h)
    return (f'<svg viewBox="{x0:.0f} {y0:.0f} {x1 - x0:.0f} {y1 - y0:.0f}" role="img" '
            f'aria-label="{_e(layout.title)}">' + "".join(parts) + "</svg>")


def thematic_map_html(integrated: pd.DataFrame, group_themes: pd.DataFrame, segment_themes: pd.DataFrame,
                      links: pd.DataFrame, cooc: pd.DataFrame, palette: dict[str, str],
                      group_labels: dict[str, str], quotes_by_theme: dict[str, list[str]] | None = None,
                      title: str | None = None) -> str:
    """The thematic map as one self-contained interactive HTML page (inline SVG, no requests).

    Hovering, focusing (Tab) or clicking a node shows its label, keywords, group shares,
    flags and quotes (``quotes_by_theme``; default :func:`collect_quotes`; a group theme
    without an entry falls back to its own quote columns). Drawn from the same
    :class:`ThematicMapLayout` as :func:`plot_thematic_map`.
    """
    palette = dict(palette or {})
    group_labels = dict(group_labels or {})
    quotes_by_theme = collect_quotes(integrated, group_themes) if quotes_by_theme is None else dict(quotes_by_theme)
    layout = thematic_map_layout(integrated, group_themes, segment_themes, links, cooc, palette, group_labels, title)
    details = node_details(integrated, group_themes, palette, group_labels, quotes_by_theme, layout.nodes)
    svg = thematic_map_svg(layout, {k: d["title"] for k, d in details.items()})
    legend = _legend_html(palette, group_labels, ("dashed circle = proposed", "arrow = link decided in a workshop",
                                                  "grey line = raised together in talk"))
    body = (f'<main><div class="chart">{svg}{legend}</div>'
            '<aside id="panel" aria-live="polite"><h2>Select a theme</h2><p class="meta">Hover over, click or '
            'tab to a circle to read its label, keywords, how much each group contributed, and quotes. '
            'Quotes are pseudonymised.</p></aside></main>')
    script = _json_script("map-data", details) + f"<script>{asset_text('thematic_map.js')}</script>"
    return _page(layout.title, "Integrated themes (large circles) and the participant groups' themes they came from "
                               "(small circles). Self-contained: works offline.", body, script)


def node_details(integrated, group_themes, palette, group_labels, quotes_by_theme, nodes) -> dict:
    """What the map page's side panel shows for each node: title, meta line, keywords,
    group shares, flags and quotes."""
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
                    shares.append({"label": group_labels.get(g, g), "colour": palette[g], "pct": cell_number(v, 0.0),
                                   "text": f"{cell_number(v, 0.0) * 100:.0f}%"})
            status = _text(row.get("status")) or "agreed"
            balance = row.get("balance")
            meta = [f"{status}", f"{int(cell_number(row.get('n_segments'), 0.0))} segments",
                    f"{int(cell_number(row.get('n_speakers'), 0.0))} speakers"]
            if _text(balance):
                meta.append(f"balance {cell_number(balance, 0.0):.2f}")
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
            row = _theme_row(lookup, n.id)
            share = row.get("share_of_group")
            shares = ([{"label": group_labels.get(n.group, n.group), "colour": n.colour, "pct": cell_number(share, 0.0),
                        "text": f"{cell_number(share, 0.0) * 100:.0f}%"}] if _text(share) else [])
            details[n.id] = {
                "title": f"{n.id} · {_text(row.get('label'))}",
                "meta": (f"{group_labels.get(n.group, n.group)} · {int(n.n)} segments · part of {n.parent}"
                         + (f" · split from {_text(row.get('parent'))}" if _text(row.get("parent")) else "")),
                "description": "",
                "keywords": _split(row.get("keywords"))[:10],
                "shares": shares,
                "share_max": 1.0,
                "flags": [],
                "quotes": list(quotes_by_theme.get(n.id) or _quotes_of(row))[:5],
            }
    return details
