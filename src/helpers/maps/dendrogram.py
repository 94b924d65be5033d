"""One participant group's theme hierarchy (Ward merges of the themes' c-TF-IDF rows) as a dendrogram."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from .._io import cell_number
from ._common import DARK, MID, _figure, _group_of, _group_theme_lookup, _local_id, _short, _text, _wrap


def _tree(hierarchy: pd.DataFrame):
    children = {}
    distance = {}
    for r in hierarchy.to_dict("records"):
        p = _text(r.get("parent"))
        if not p:
            continue
        children[p] = (_text(r.get("left")), _text(r.get("right")))
        distance[p] = cell_number(r.get("distance"), 0.0)
    kids = {c for pair in children.values() for c in pair}
    roots = [p for p in children if p not in kids] or list(children)[:1]
    return children, distance, sorted(roots, key=lambda p: -distance.get(p, 0.0))


def plot_theme_dendrogram(hierarchy: pd.DataFrame, group_themes: pd.DataFrame, group: str,
                          group_label: str | None = None, colour: str = "#4477AA") -> Figure:
    """A participant group's theme hierarchy (``theme_hierarchy.csv``) as a dendrogram.

    Leaves are the group's themes (label and number of segments), merged right to left
    at the distance recorded in the table. With fewer than three themes there is no hierarchy:
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
    sizes = [max(cell_number(lookup.get(t, {}).get("n_segments"), 1.0), 1.0) for t in order]
    smax = max(sizes, default=1.0)
    ax.scatter([0] * n, range(n), s=[30 + 170 * s / smax for s in sizes], c=colour, edgecolors="white", zorder=3)
    ax.set_yticks(range(n), [_wrap(f"{_local_id(t)} {_text(lookup.get(t, {}).get('label'))} "
                                   f"({int(cell_number(lookup.get(t, {}).get('n_segments'), 0.0))} segments)", 46, 2)
                             for t in order], fontsize=9.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(-0.04 * (xmax or 1.0), (xmax or 1.0) * 1.06)
    ax.tick_params(axis="y", length=0, pad=10)
    ax.tick_params(axis="x", labelsize=9)
    ax.set_xlabel("distance at which themes merge (Ward, on their keyword weights)", fontsize=9.5)
    for s in ("top", "right", "left"):
        ax.spines[s].set_visible(False)
    ax.grid(axis="x", color="#EEEEEE", zorder=0)
    fig.text(0.5, 1 - 0.12 / height, f"{label}: how the themes group together", ha="center", va="top",
             fontsize=12.5, fontweight="bold", color=DARK)
    return fig
