"""The study design drawn for notebook 00: the co-production process model as a figure,
and the participant groups with their focus groups as a table."""

from __future__ import annotations

import textwrap

from .study import Study, group_palette


def design_table(study: Study):
    """One row per participant group: its label and its focus groups (for notebook 00)."""
    import pandas as pd

    return pd.DataFrame([{"participant group": g.label,
                          "focus groups": ", ".join(f.id for f in study.focus_groups if f.participant_group == g.id)}
                         for g in study.participant_groups])


def plot_process_model(study: Study):
    """The co-production process model drawn from study.yml: participant groups → focus
    groups → independent analyses → workshops → definition, framework and process model."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    palette = group_palette(study.group_ids)
    groups = study.participant_groups
    n_rows = max(len(groups), 1)
    fig, ax = plt.subplots(figsize=(12, 1.3 * n_rows + 2.2), dpi=100)
    ax.set_xlim(0, 12)
    ax.set_ylim(-0.85, n_rows * 1.3 + 0.2)
    ax.axis("off")

    def box(x, y, w, h, text, colour, fill="white", size=9, bold=False):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.04,rounding_size=0.12",
                                    linewidth=1.6, edgecolor=colour, facecolor=fill))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size, wrap=True,
                fontweight="bold" if bold else "normal", color="#222222")

    def arrow(x0, y0, x1, y1):
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=12,
                                     color="#555555", linewidth=1.2, shrinkA=2, shrinkB=2))

    top = n_rows * 1.3
    centres = []
    for i, g in enumerate(groups):
        y = top - (i + 1) * 1.3 + 0.25
        colour = palette[g.id]
        fgs = [f.id for f in study.focus_groups if f.participant_group == g.id]
        box(0.1, y, 2.5, 0.9, textwrap.fill(g.label, 22), colour, fill=colour + "22", bold=True)
        fg_text = ", ".join(fgs) if len(fgs) <= 4 else f"{fgs[0]} … {fgs[-1]}"
        box(3.0, y, 2.5, 0.9, f"{len(fgs)} focus group{'s' * (len(fgs) != 1)}\n{fg_text}", colour)
        box(5.9, y, 2.2, 0.9, "thematic analysis\nof this group alone", colour)
        arrow(2.6, y + 0.45, 3.0, y + 0.45)
        arrow(5.5, y + 0.45, 5.9, y + 0.45)
        centres.append(y + 0.45)
    n_ws = len(study.workshops)
    ws_text = (f"{n_ws} co-production\nworkshop{'s' * (n_ws != 1)}" if n_ws else "co-production\nworkshops\n(proposals only)")
    mid_low, mid_high = min(centres), max(centres)
    box(8.5, mid_low - 0.45, 1.5, mid_high - mid_low + 0.9, ws_text + "\n\nmerge · name\ndefine · link", "#333333", fill="#f2f2f2", bold=True)
    for c in centres:
        arrow(8.1, c, 8.5, c)
    outputs = ["definition\n(how compassion\nis recognised)", "conceptual framework\n(how it is displayed)",
               "process model\n(for future studies)"]
    step = (mid_high - mid_low + 0.9) / 3
    for k, text in enumerate(outputs):
        y = mid_high + 0.45 - (k + 1) * step + 0.06
        box(10.4, y, 1.5, step - 0.12, text, "#333333", size=8.5)  # 8.5 pt: 9 pt at the width the report shows it
        arrow(10.0, y + (step - 0.12) / 2, 10.4, y + (step - 0.12) / 2)
    labels = [(1.35, "participant groups"), (4.25, "01 ingest · 02 who spoke"), (7.0, "03 segments · 04 themes"),
              (9.25, "05 workshops"), (11.15, "06 maps · 07 export")]
    for x, text in labels:
        ax.text(x, -0.55, text, ha="center", va="center", fontsize=8.5, color="#555555", style="italic")
    title = study.title + ("  —  synthetic illustration" if study.synthetic and "synthetic" not in study.title.lower() else "")
    ax.set_title(title, fontsize=12, loc="left")
    fig.tight_layout()
    return fig
