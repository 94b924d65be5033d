"""Drawing the thematic map from its :class:`~.thematic_map.ThematicMapLayout`.

:func:`render_thematic_map` draws it with matplotlib (PNG and SVG files);
:func:`thematic_map_svg` writes it as inline SVG (``templates/maps/thematic_map.svg.j2``)
for :func:`thematic_map_html`'s page and the workshop board. Both read the layout and
nothing else, so the three show the same map.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
from matplotlib import patches as mpatches
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .._io import cell_number
from ._common import (_HALO, DARK, GREY, MID, NODE_FILL, _figure, _group_theme_lookup, _integrated_table,
                      _quotes_of, _split, _text, _theme_row, collect_quotes)
from ._html import figure_page, legend_items, render, svg_text
from .thematic_map import LINK_BEND, MapNode, ThematicMapLayout, _frame, thematic_map_layout


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

    def line(a: MapNode, b: MapNode) -> dict:
        (x1, y1), (x2, y2) = layout.pixel(a.x, a.y), layout.pixel(b.x, b.y)
        return {"x1": x1, "y1": y1, "x2": x2, "y2": y2}

    cooc = [{**line(by_id[e.source], by_id[e.target]), "a": e.source, "b": e.target, "width": e.width * px,
             "count": e.count, "weight": e.weight} for e in layout.cooc]
    spokes = [{**line(by_id[n.parent], n), "colour": n.colour}
              for n in layout.nodes if n.kind == "satellite" and n.parent in by_id]
    links = []
    for link in layout.links:
        na, nb = by_id[link.source], by_id[link.target]
        p0, p2 = np.array(layout.pixel(na.x, na.y)), np.array(layout.pixel(nb.x, nb.y))
        # the same arc3 curve in pixel space (y flipped: the control point mirrors)
        d = p2 - p0
        ctrl = (p0 + p2) / 2 + LINK_BEND * np.array([-d[1], d[0]])
        start = p0 + (ctrl - p0) / (np.linalg.norm(ctrl - p0) or 1) * (na.r * unit + 1)
        end = p2 + (ctrl - p2) / (np.linalg.norm(ctrl - p2) or 1) * (nb.r * unit + 3)
        links.append({"a": link.source, "b": link.target, "relation": link.relation, "start": start, "ctrl": ctrl,
                      "end": end})
    nodes = [{"id": n.id, "x": layout.pixel(n.x, n.y)[0], "y": layout.pixel(n.x, n.y)[1], "r": n.r * unit,
              "main": n.kind == "main", "proposed": n.proposed, "colour": n.colour,
              "tip": _text(tips.get(n.id, n.id))} for n in layout.nodes]
    leaders = []
    for t in layout.texts:
        if t.leader is not None:
            (x1, y1), (x2, y2) = layout.pixel(*t.leader[0]), layout.pixel(*t.leader[1])
            leaders.append({"x1": x1, "y1": y1, "x2": x2, "y2": y2, "colour": t.leader_colour})
    labels = []
    for t in layout.texts:
        x, y = layout.pixel(t.x, t.y)
        node_id = t.key[len("label:"):]
        labels.append({"node": node_id if node_id in by_id else None,
                       "text": svg_text(x, y, t.text, t.fontsize * px, weight="bold" if t.bold else "normal",
                                        style="italic" if t.italic else "normal")})
    message = svg_text(w / 2, h / 2, layout.message, 12 * px, fill=MID, cls="") if layout.message else None
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
    return render("thematic_map.svg.j2", view=(x0, y0, x1 - x0, y1 - y0), title=_text(layout.title), width=w,
                  height=h, colours={"dark": DARK, "grey": GREY, "node_fill": NODE_FILL}, cooc=cooc, spokes=spokes,
                  links=links, nodes=nodes, leaders=leaders, labels=labels, message=message, interactive=interactive)


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
    legend = legend_items(palette, group_labels, ("dashed circle = proposed", "arrow = link decided in a workshop",
                                                  "grey line = raised together in talk"))
    return figure_page(layout.title, "Integrated themes (large circles) and the participant groups' themes they came "
                                     "from (small circles). Self-contained: works offline.", svg, legend,
                       "Hover over, click or tab to a circle to read its label, keywords, how much each group "
                       "contributed, and quotes. Quotes are pseudonymised.", "map-data", details, "thematic_map.js")


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
