"""Thematic maps (stage 6 of the process model).

After the co-production workshops, the integrated themes are shown as maps a reader can
check against the data: which group themes each integrated theme came from, which themes
speakers raise together, how evenly each participant group is represented, and how the
groups' own themes became (or did not become) integrated themes.

One module per figure: :mod:`.thematic_map` (a layout object, drawn by the matplotlib and
SVG renderers of :mod:`.thematic_map_draw`; the workshop board draws the same layout),
:mod:`.heatmap`, :mod:`.lineage`, :mod:`.segment_map`, :mod:`.dendrogram`;
:mod:`.cooccurrence` computes the map's edges and :mod:`.projection` the segment maps' 2-D
positions (in notebook 04, which has the embeddings).

Every figure is a :class:`matplotlib.figure.Figure` that is not registered with pyplot
(so a notebook shows it once, where the cell returns it); :func:`save_figure` writes it
atomically and closes it. The HTML versions are single self-contained files: inline SVG,
inline CSS and a few lines of inline JavaScript, no external requests, rendered from the
templates under ``helpers/templates/maps/`` (:mod:`._html`).

Layouts are deterministic (no random numbers, no networkx). Labels never overlap: every
figure with free-floating labels runs a greedy search, in display coordinates measured
by matplotlib's text engine, for the nearest free spot to each label's preferred
position (with a thin leader line when a label had to move away).
"""

from .._io import save_figure
from ._common import MIN_FONT, collect_quotes, split_parent, with_split_parts
from .cooccurrence import cooccurrence_edges
from .dendrogram import plot_theme_dendrogram
from .group_figures import save_group_figures, start_group_figures
from .heatmap import format_share, plot_theme_group_heatmap
from .lineage import lineage_html, plot_lineage
from .projection import MAP_MAX_SEGMENTS, project_2d, segment_positions
from .segment_map import plot_segment_map, theme_colours
from .thematic_map import ThematicMapLayout, thematic_map_layout
from .thematic_map_draw import plot_thematic_map, render_thematic_map, thematic_map_html, thematic_map_svg

__all__ = [
    "MAP_MAX_SEGMENTS", "MIN_FONT", "ThematicMapLayout", "collect_quotes", "cooccurrence_edges", "format_share",
    "lineage_html", "plot_lineage", "plot_segment_map", "project_2d", "plot_theme_dendrogram",
    "plot_theme_group_heatmap", "plot_thematic_map", "render_thematic_map", "save_figure", "segment_positions",
    "save_group_figures", "start_group_figures", "theme_colours", "thematic_map_html", "thematic_map_layout",
    "thematic_map_svg", "split_parent", "with_split_parts",
]
