"""One participant group's segments mapped by meaning, coloured by its own themes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ._common import (DARK, GREY, LIGHT, MID, TOL_MUTED, _box_of, _display, _draw_leaders, _figure, _group_theme_lookup,
                      _Label, _legend_strip, _local_id, _place_labels, _text, _title, _wrap)
from .projection import project_2d


def theme_colours(theme_ids) -> dict[str, str]:
    """One colour per theme of a group (Paul Tol's muted scheme, in theme order)."""
    return {t: TOL_MUTED[k % len(TOL_MUTED)] for k, t in enumerate(sorted(theme_ids))}


def plot_segment_map(segments: pd.DataFrame, embeddings: np.ndarray | None, assignments: pd.DataFrame, group: str,
                     group_themes: pd.DataFrame, seed: int = 0, method: str = "auto",
                     group_label: str | None = None, coords: pd.DataFrame | None = None) -> Figure:
    """A 2-D map of one participant group's segments, coloured by group theme.

    Uses UMAP (cosine, ``random_state=seed``) when ``umap`` is importable and there are at
    least 10 segments, else PCA (``method`` forces "umap" or "pca"). Theme labels sit at
    the theme centroids without overlapping; hollow points are segments whose place in
    their theme is uncertain (``uncertain``: with their theme's members in under half the
    runs). ``embeddings`` are all rows of ``embeddings.npy`` (same order as ``segments``).
    ``coords`` (``segment_map.parquet`` from notebook 04) gives the 2-D positions already
    computed; then ``embeddings`` may be None.
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
    xy, used = project_2d(emb.astype(float), seed, method)
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
        a = assignments[["segment_id", "theme_id"] + (["uncertain"] if "uncertain" in assignments.columns else [])]
        seg = seg.merge(a, on="segment_id", how="left")
    if "theme_id" not in seg.columns:
        seg["theme_id"] = None
    if "uncertain" not in seg.columns:
        seg["uncertain"] = False
    seg["theme_id"] = seg["theme_id"].map(_text).replace("", "unassigned")
    seg["uncertain"] = seg["uncertain"].fillna(False).astype(bool)
    lookup = _group_theme_lookup(group_themes)
    label = group_label or group

    fig = _figure(10, 7.5)
    themes = sorted(t for t in seg["theme_id"].unique() if t != "unassigned")
    colours = theme_colours(themes)
    colours["unassigned"] = LIGHT
    handles = [Line2D([], [], ls="", marker="o", ms=7, mfc=GREY, mec=GREY, label="segment in its theme"),
               Line2D([], [], ls="", marker="o", ms=7, mfc="white", mec=GREY, mew=1.4,
                      label="place in its theme uncertain")]
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
        reg, out = sel & ~seg["uncertain"].to_numpy(), sel & seg["uncertain"].to_numpy()
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
    _draw_leaders(ax, _place_labels(fig, ax, labels, hard=[_box_of(legend, fig.canvas.get_renderer())]))
    return fig
