"""A theme browser for notebook 04: every group's themes, opened one at a time.

Plain HTML (``<details>`` sections, images inline), rendered from a Jinja2 template with
autoescape on: it needs no JavaScript, widget state or network, so it shows the same in
the executed notebook ``make all`` keeps, in JupyterLab (trusted or not) and in an HTML
export. Each theme shows its label, keywords, speakers, focus groups, quotes and where its
segments sit on the group's segment map.
"""

from __future__ import annotations

import base64
import io
from importlib import resources

import numpy as np
import pandas as pd

from .themes import quotes_of

#: width in pixels of each theme's segment map
MAP_SIZE = 220


def _template():
    import jinja2

    source = resources.files("helpers").joinpath("templates/theme_browser.html.j2").read_text("utf-8")
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(source)


def _maps(points: pd.DataFrame, theme_of: pd.Series, theme_ids: list[str], colours: dict[str, str]) -> dict[str, str]:
    """A small PNG (base64) of the group's segment map per theme, the theme's segments in
    its colour over the others in grey. One figure is redrawn per theme (cheaper than one
    figure each)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if points.empty:
        return {}
    themes = points["segment_id"].map(theme_of).to_numpy()
    fig, ax = plt.subplots(figsize=(MAP_SIZE / 80, MAP_SIZE / 80), dpi=80)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.scatter(points["x"], points["y"], s=4, c="#d0d0d0", linewidths=0)
    highlight = ax.scatter([], [], s=7, linewidths=0)
    fig.tight_layout(pad=0.2)
    out = {}
    for tid in theme_ids:
        mine = themes == tid
        highlight.set_offsets(np.column_stack([points["x"].to_numpy()[mine], points["y"].to_numpy()[mine]]))
        highlight.set_color(colours[tid])
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        out[tid] = base64.b64encode(buffer.getvalue()).decode("ascii")
    plt.close(fig)
    return out


def theme_browser(themes: pd.DataFrame, assignments: pd.DataFrame, segments: pd.DataFrame,
                  segment_map: pd.DataFrame, group_labels: dict[str, str] | None = None):
    """The browser as an IPython HTML object (``display`` it; ``.data`` is the HTML)."""
    from IPython.display import HTML
    from matplotlib import colormaps

    palette = colormaps["tab10"]
    members = assignments.merge(segments[["segment_id", "speaker", "focus_group"]], on="segment_id")
    theme_of = assignments.set_index("segment_id")["theme_id"]
    groups = []
    for gi, (group, own) in enumerate(themes.groupby("participant_group", sort=False)):
        ids = own["theme_id"].tolist()
        colours = {tid: _hex(palette(i % 10)) for i, tid in enumerate(ids)}
        maps = _maps(segment_map[segment_map["participant_group"] == group], theme_of, ids, colours)
        entries = []
        for row in own.to_dict("records"):
            who = members[members["theme_id"] == row["theme_id"]]
            entries.append({
                "id": row["theme_id"], "label": row["label"], "keywords": str(row["keywords"] or "").replace(";", ","),
                "n_segments": int(row["n_segments"]), "share": f"{float(row['share_of_group']):.0%} of the group",
                "unstable": bool(row["unstable"]), "consensus": f"{float(row['consensus']):.2f}",
                "caveat": row.get("caveat") if isinstance(row.get("caveat"), str) else "",
                "speakers": sorted(set(who["speaker"].astype(str) + " (" + who["focus_group"].astype(str) + ")")),
                "focus_groups": sorted(set(who["focus_group"].astype(str))),
                "quotes": quotes_of(pd.Series(row)), "colour": colours[row["theme_id"]], "map": maps.get(row["theme_id"], ""),
            })
        groups.append({"id": group, "label": (group_labels or {}).get(group, group), "themes": entries,
                       "open_first": gi == 0})
    return HTML(_template().render(groups=groups, map_size=MAP_SIZE))


def _hex(rgba) -> str:
    return "#" + "".join(f"{int(round(c * 255)):02x}" for c in rgba[:3])
