"""Lineage: an alluvial diagram from each group's themes to the integrated themes.

:func:`_lineage_layout` computes bars and bands once; :func:`plot_lineage` (matplotlib)
and :func:`lineage_html` (SVG) draw them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd
from matplotlib import patches as mpatches
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.path import Path as MplPath

from .._io import cell_number
from ._common import (DARK, DROPPED, GREY, LIGHT, MID, _figure, _group_of, _group_theme_lookup, _integrated_table,
                      _is_proposed, _legend_strip, _local_id, _short, _split, _text, _theme_row, _title, _wrap,
                      split_parent)
from ._html import figure_page, legend_items, render, svg_text


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
    """Segments flowing from each group theme to its integrated theme (or to ``dropped``).

    A theme a workshop split flows through its parts only: its segments belong to the
    parts, so the totals on the left and on the right are the same."""
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
    was_split = {split_parent(t) for t in seen | set(lookup)} | {_text(r.get("parent")) for r in lookup.values()}
    targets: dict[str, list[str]] = {}
    for row in integ.itertuples(index=False):
        for src in _split(row.source_themes):
            targets.setdefault(src, []).append(row.theme_id)
    for tid, row in lookup.items():
        if tid in seen or tid in was_split:
            continue
        n = max(cell_number(row.get("n_segments"), 0.0), 0.0)
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
    split = {split_parent(g) for g, _ in flows} | {_text(r.get("parent")) for r in lookup.values()}
    left_ids = sorted({g for g, _ in flows} | (set(lookup) - split),
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
        row = _theme_row(lookup, g)
        group = _text(row.get("participant_group")) or _group_of(g)
        n = out_n.get(g, 0.0) or max(cell_number(row.get("n_segments"), 0.0), 0.0)
        part_of = f" · part of {_local_id(_text(row.get('parent')))}" if _text(row.get("parent")) else ""
        left.append(_Bar(g, f"{_local_id(g)} {_short(_text(row.get('label')) or g, 38)}{part_of} ({n:.0f})",
                         palette.get(group, LIGHT), n, group=group))
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

    bands_drawn, band_tips, details = [], [], {}
    for g, i, n, yl0, yl1, yr0, yr1, colour in bands:
        xm = (xl1 + xr0) / 2
        d = (f"M{xl1},{y(yl1):.1f} C{xm},{y(yl1):.1f} {xm},{y(yr1):.1f} {xr0},{y(yr1):.1f} L{xr0},{y(yr0):.1f} "
             f"C{xm},{y(yr0):.1f} {xm},{y(yl0):.1f} {xl1},{y(yl0):.1f} Z")
        tip = (f"{g} {_text(_theme_row(lookup, g).get('label'))} → "
               f"{i if i != DROPPED else 'dropped'}: {n:.0f} segments")
        band_tips.append((g, i, tip))
        bands_drawn.append({"a": g, "b": i, "path": d, "colour": colour, "tip": tip})
    for b in left:
        row = _theme_row(lookup, b.id)
        group = group_labels.get(b.group, b.group)
        parent = _text(row.get("parent"))
        origin = f"; split from {parent} {_text(_theme_row(lookup, parent).get('label'))}" if parent else ""
        details[b.id] = f"{b.id} · {_text(row.get('label'))} ({group}{origin}): {b.n:.0f} segments"
    for b in right:
        if b.id == DROPPED:
            details[b.id] = f"dropped in the workshops: {b.n:.0f} segments"
        else:
            row = integ_rows.get(b.id, {})
            details[b.id] = (f"{b.id} · {_text(row.get('label'))} ({_text(row.get('status')) or 'agreed'}): "
                             f"{b.n:.0f} segments")
    font = 12.5
    themes = []
    for bars, x_bar, x_node, x_text, anchor in ((left, xl0, xl0, xl0 - 8, "end"), (right, xr0, xr1, xr1 + 8, "start")):
        centres = [-(y((b.y0 + b.y1) / 2)) for b in bars]  # y up for the spreading
        heights = [(b.label.count("\n") + 1) * font * 1.2 for b in bars]
        ys = _spread_1d(centres, heights, -(height - 4), -(top - 6), 3)
        for b, yy, c in zip(bars, ys, centres):
            yy = -yy
            leader = ({"x1": x_node, "y1": -c, "x2": x_text + (4 if anchor == "end" else -4), "y2": yy}
                      if abs(yy + c) > 1.5 else None)
            themes.append({"id": b.id, "detail": details[b.id], "leader": leader, "x": x_bar, "y": y(b.y1),
                           "width": xl1 - xl0, "height": max(y(b.y0) - y(b.y1), 1), "proposed": b.proposed,
                           "colour": b.colour, "label": svg_text(x_text, yy, b.label, font, anchor=anchor,
                                                                 style="italic" if b.proposed else "normal")})
    svg = render("lineage.svg.j2", width=width, height=height, title=_text(title), heads={"left": xl1, "right": xr0},
                 colours={"mid": MID, "grey": GREY}, bands=bands_drawn, themes=themes)
    data = {node: {"title": text, "flows": [tip for g, i, tip in band_tips if node in (g, i)]}
            for node, text in details.items()}
    legend = legend_items(palette, group_labels, ("dark bar = integrated theme", "dashed = proposed", "grey = dropped"))
    return figure_page(title, "Band width ∝ number of segments. Hover over, click or tab to a theme for details. "
                              "Self-contained: works offline.", svg, legend,
                       "Hover over, click or tab to a theme to see where its segments went.", "lineage-data", data,
                       "lineage.js")
