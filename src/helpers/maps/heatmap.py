"""The group × theme heatmap: how evenly each integrated theme represents the participant groups."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib import patches as mpatches
from matplotlib.figure import Figure

from .._io import cell_number
from ._common import DARK, HEATMAP_CMAP, MID, _figure, _integrated_table, _is_proposed, _split, _text, _wrap


def format_share(v) -> str:
    """A share as the heatmap prints it: "n/a", "0%", "<1%" or whole percent."""
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
    integ = _integrated_table(integrated)
    group_ids = list(group_ids)
    group_labels = dict(group_labels or {})
    n_rows, n_cols = max(len(integ), 1), max(len(group_ids), 1)
    notes = []
    for row in integ.itertuples(index=False):
        lines = [f"balance {max(cell_number(row.balance, 0.0), 0.0):.2f}" if _text(row.balance) else "balance n/a"]
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
                values[i, j] = cell_number(row[f"share_{g}"], 0.0)
    vmax = max(float(np.nanmax(values)) if np.isfinite(values).any() else 0.0, 0.01)
    import seaborn as sns  # here, not at the top: the per-group figures' process never needs it

    # seaborn draws the coloured cells and picks a legible ink for each annotation
    sns.heatmap(np.nan_to_num(values, nan=0.0), ax=ax, cmap=HEATMAP_CMAP, vmin=0, vmax=vmax, cbar=False,
                annot=np.array([[format_share(v if np.isfinite(v) else None) if i < len(integ) else "" for v in row]
                                for i, row in enumerate(values)]),
                fmt="", annot_kws={"fontsize": 10, "fontweight": "bold"}, linewidths=2, linecolor="white",
                square=False)
    im = ax.collections[0]
    for i in range(len(integ)):
        for j in range(len(group_ids)):
            v = values[i, j]
            if not np.isfinite(v) or v == 0:   # a missing voice: hatched, so it shows in grey print too
                ax.add_patch(mpatches.Rectangle((j, i), 1, 1, fc="#F2F2F2", ec="#C8C8C8", hatch="///", lw=0,
                                                zorder=2))
    for t in ax.texts:
        t.set_zorder(3)
    # seaborn puts cell (i, j) in [j, j + 1] x [i, i + 1], rows downwards
    ax.set_xticks(np.arange(len(group_ids)) + 0.5, [_wrap(group_labels.get(g, g), 14) for g in group_ids], fontsize=9.5,
                  rotation=0)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ticks = []
    for row in integ.itertuples(index=False):
        text = f"{row.theme_id} · {_wrap(row.label or '', 34, 2)}"
        ticks.append(text + (" (proposed)" if _is_proposed(row.status) else ""))
    ax.set_yticks(np.arange(len(integ)) + 0.5, ticks, fontsize=9.5, rotation=0)
    for tick, row in zip(ax.get_yticklabels(), integ.itertuples(index=False)):
        if _is_proposed(row.status):
            tick.set_fontstyle("italic")
    for s in ax.spines.values():
        s.set_visible(False)
    if integ.empty:
        ax.text(n_cols / 2, 0.5, "No integrated themes yet.", ha="center", va="center", fontsize=11, color=MID)
    ax_notes.set_axis_off()
    ax_notes.set_xlim(0, 1)
    line_h = 9 * 1.25 / (row_h * 72)  # one line of 9 pt text, in rows
    for i, (plain, flags) in enumerate(notes):
        n_lines = plain.count("\n") + 1 + (flags.count("\n") + 1 if flags else 0)
        top = i + 0.5 - n_lines * line_h / 2
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
