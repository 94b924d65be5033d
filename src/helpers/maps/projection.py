"""2-D positions of a group's segments for its segment map (segment_map.parquet): UMAP of
the sentence embeddings, or PCA for few points. Notebook 04 computes them (it has the
embeddings loaded) and its theme browser shows them; notebook 06 draws them
(:mod:`.segment_map`)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def project_2d(x: np.ndarray, seed: int, method: str = "auto") -> tuple[np.ndarray, str]:
    """2-D positions of embeddings for a segment map, and the method's name.

    UMAP (cosine, ``random_state=seed``) for 10 or more points when umap is installed,
    else PCA with signs fixed so the picture does not flip between runs."""
    n = len(x)
    if n == 0:
        return np.zeros((0, 2)), "PCA"
    if method in ("auto", "umap") and n >= 10:
        try:
            import umap  # noqa: F401

            from .._numba import cache_compiled_umap
            cache_compiled_umap()
        except ImportError:
            if method == "umap":
                raise
        else:
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reducer = umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), min_dist=0.15, metric="cosine",
                                    random_state=seed, n_jobs=1)
                return np.asarray(reducer.fit_transform(x), dtype=float), "UMAP"
    centred = x - x.mean(axis=0)
    if n == 1 or not np.any(centred):
        return np.zeros((n, 2)), "PCA"
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    coords = u[:, :2] * s[:2]
    signs = np.sign(vt[:2][np.arange(min(2, len(vt))), np.argmax(np.abs(vt[:2]), axis=1)])
    coords = coords * np.where(signs == 0, 1, signs)
    if coords.shape[1] < 2:
        coords = np.column_stack([coords, np.zeros(n)])
    return coords, "PCA"


#: A segment map shows at most this many segments of a group (a fixed random sample):
#: more points only overplot, and the projection's cost grows with them.
MAP_MAX_SEGMENTS = 5000


def segment_positions(segments: pd.DataFrame, embeddings: np.ndarray, groups, seed: int,
                      method: str = "auto", max_segments: int = MAP_MAX_SEGMENTS) -> pd.DataFrame:
    """segment_map.parquet: 2-D positions of a group's segments (all of them, or a fixed
    random sample of ``max_segments`` in larger groups), in segments.parquet order.

    Computed in notebook 04 (which has the embeddings loaded), so the maps notebook only
    draws."""
    parts = []
    rng = np.random.default_rng(seed)
    for group in groups:
        rows = np.flatnonzero((segments["participant_group"] == group).to_numpy())
        if len(rows) > max_segments:
            rows = np.sort(rng.choice(rows, size=max_segments, replace=False))
        xy, used = project_2d(np.asarray(embeddings[rows], dtype=float), seed, method)
        parts.append(pd.DataFrame({"segment_id": segments["segment_id"].to_numpy()[rows],
                                   "participant_group": group, "x": xy[:, 0], "y": xy[:, 1], "projection": used}))
    columns = ["segment_id", "participant_group", "x", "y", "projection"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
