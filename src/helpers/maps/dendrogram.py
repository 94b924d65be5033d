"""One participant group's theme hierarchy (Ward merges of the themes' c-TF-IDF rows) as a dendrogram."""

from __future__ import annotations

import numpy as np
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


def _linkage(root: str, children: dict, distance: dict, seen: set) -> tuple[list[str], np.ndarray]:
    """The tree under ``root`` as a scipy linkage matrix, and its leaves (numbered left
    branch first). A merge is drawn at its recorded distance, or at its highest branch when
    a hand-edited table records less; a node already met (under another root, or in a loop
    of a malformed table) is left out, and a merge left with one branch is that branch."""
    leaves: list[str] = []
    merges: list[tuple] = []

    def build(node: str, depth: int = 0):
        if not node or node in seen or depth > 500:
            return None
        seen.add(node)
        if node not in children:
            leaves.append(node)
            return ("leaf", len(leaves) - 1), 0.0, 1
        branches = [b for b in (build(c, depth + 1) for c in children[node]) if b is not None]
        if len(branches) < 2:
            return branches[0] if branches else None
        (a, height_a, n_a), (b, height_b, n_b) = branches
        height = max(distance.get(node, 0.0), height_a, height_b)
        merges.append((a, b, height, n_a + n_b))
        return ("merge", len(merges) - 1), height, n_a + n_b

    build(root)

    def cluster(ref) -> int:  # scipy's numbering: leaves 0..n-1, merge i is cluster n + i
        kind, i = ref
        return i if kind == "leaf" else len(leaves) + i

    return leaves, np.array([[cluster(a), cluster(b), h, n] for a, b, h, n in merges], dtype=float).reshape(-1, 4)


def _dendrogram(children: dict, distance: dict, roots: list[str]) -> tuple[list[str], list[tuple]]:
    """The leaves top to bottom and the branch lines ``(distances, rows)`` of each tree,
    largest first, laid out by scipy's ``dendrogram`` (the layout BERTopic's
    ``visualize_hierarchy`` draws) from the linkage of the merges; rows count leaves from 0."""
    from scipy.cluster.hierarchy import dendrogram

    order: list[str] = []
    lines: list[tuple] = []
    seen: set = set()
    for root in roots:
        leaves, linkage = _linkage(root, children, distance, seen)
        if len(leaves) > 1:
            laid = dendrogram(linkage, no_plot=True, labels=leaves)
            leaves = list(laid["ivl"])
            # scipy puts leaf k at 10k + 5
            lines += [(list(xs), [len(order) + (y - 5) / 10 for y in ys])
                      for ys, xs in zip(laid["icoord"], laid["dcoord"])]
        order += leaves
    return order, lines


def plot_theme_dendrogram(hierarchy: pd.DataFrame, group_themes: pd.DataFrame, group: str,
                          group_label: str | None = None, colour: str = "#4477AA") -> Figure:
    """A participant group's theme hierarchy (``theme_hierarchy.csv``) as a dendrogram.

    Leaves are the group's themes (label and number of segments), merged right to left
    at the distance recorded in the table, in the layout of scipy's ``dendrogram``. With
    fewer than three themes there is no hierarchy: the figure says so instead.
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

    order, lines = _dendrogram(*_tree(h))
    for t in sorted(lookup):  # themes missing from the tree still get a row
        if t not in order:
            order.append(t)

    n = len(order)
    height = 1.5 + 0.42 * n
    fig = _figure(10, height)
    ax = fig.add_axes((0.42, 0.85 / height, 0.54, 0.42 * n / height))
    for xs, ys in lines:
        ax.plot(xs, ys, color=colour, lw=1.8, solid_capstyle="round", solid_joinstyle="round", zorder=2)
    xmax = max((max(xs) for xs, _ in lines), default=0.0)
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
