"""Each participant group's segment map and theme dendrogram, written together."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._io import save_figure
from .dendrogram import plot_theme_dendrogram
from .segment_map import plot_segment_map


def start_group_figures(folder: Path, segments: pd.DataFrame, assignments: pd.DataFrame, hierarchy: pd.DataFrame,
                        group_themes: pd.DataFrame, group_ids, group_labels: dict[str, str], palette: dict[str, str],
                        coords: pd.DataFrame, dpi: int = 200):
    """Start :func:`save_group_figures` (from notebook 04's segment positions) in a
    process of its own and return a task whose ``.result()`` is the files written.

    They need none of notebook 05's tables, so notebook 06 draws them on the second core
    while it draws the integrated maps."""
    from functools import partial

    from .._workers import in_own_process

    return in_own_process(partial(save_group_figures, Path(folder), segments, None, assignments, hierarchy,
                                  group_themes, list(group_ids), dict(group_labels), dict(palette), dpi=dpi,
                                  coords=coords))


def save_group_figures(folder: Path, segments: pd.DataFrame, embeddings: np.ndarray | None, assignments: pd.DataFrame,
                       hierarchy: pd.DataFrame, group_themes: pd.DataFrame, group_ids, group_labels: dict[str, str],
                       palette: dict[str, str], seed: int = 0, dpi: int = 200,
                       coords: pd.DataFrame | None = None) -> list[Path]:
    """Each participant group's segment map and theme dendrogram, saved as
    ``segments_<group>.png`` and ``hierarchy_<group>.png`` under ``folder``.

    ``coords`` (segment_map.parquet) places the segments; without it they are projected
    from ``embeddings`` here."""
    written = []
    for group in group_ids:
        label = group_labels.get(group, group)
        fig = plot_segment_map(segments, embeddings, assignments, group, group_themes, seed=seed, group_label=label,
                               coords=coords)
        written += save_figure(fig, Path(folder) / f"segments_{group}", dpi=dpi)
        fig = plot_theme_dendrogram(hierarchy, group_themes, group, group_label=label,
                                    colour=palette.get(group, "#4477AA"))
        written += save_figure(fig, Path(folder) / f"hierarchy_{group}", dpi=dpi)
    return written
