"""Co-occurrence: which integrated themes speakers raise together (the thematic map's grey edges)."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import pandas as pd

from ._common import _text


def cooccurrence_edges(segment_themes: pd.DataFrame, segments: pd.DataFrame, window: int = 1,
                       min_count: int = 3) -> pd.DataFrame:
    """Pairs of integrated themes that speakers raise together.

    Two themes co-occur when they are raised in the same participant turn, or in turns at
    most ``window`` participant turns apart in the same focus group (turns are ranked
    among the participant turns present in ``segments``, so facilitator turns in between
    do not count). Each pair of turns counts once, however many segments it holds.

    ``weight`` is a Jaccard index over those turn pairs: the turn pairs where the two
    themes co-occur, divided by the turn pairs where either theme is raised. With
    ``window=0`` it is exactly the Jaccard index of the two themes' sets of turns.
    Segments whose ``integrated_theme`` is empty (dropped in a workshop) are ignored.
    Only pairs with ``count >= min_count`` are returned, strongest first.
    """
    empty = pd.DataFrame({"source": pd.Series(dtype=object), "target": pd.Series(dtype=object),
                          "count": pd.Series(dtype="int64"), "weight": pd.Series(dtype="float64")})
    if window < 0:
        raise ValueError(f"window must be 0 or more participant turns, not {window}.")
    needed_st = {"segment_id", "integrated_theme"}
    needed_seg = {"segment_id", "focus_group", "turn"}
    if (segment_themes is None or segments is None or segment_themes.empty or segments.empty
            or not needed_st <= set(segment_themes.columns) or not needed_seg <= set(segments.columns)):
        return empty
    st = segment_themes[["segment_id", "integrated_theme"]].copy()
    st["integrated_theme"] = st["integrated_theme"].map(_text)
    st = st[st["integrated_theme"] != ""]
    seg = segments[["segment_id", "focus_group", "turn"]]
    merged = st.merge(seg, on="segment_id", how="inner")
    if merged.empty:
        return empty

    together: Counter = Counter()   # turn pairs where a and b co-occur
    either: Counter = Counter()     # turn pairs where a theme is raised in either turn
    both: Counter = Counter()       # turn pairs where both themes are raised (either turn)
    for fg, rows in merged.groupby("focus_group", sort=True):
        turns = sorted(pd.unique(seg.loc[seg["focus_group"] == fg, "turn"]))
        by_turn = rows.groupby("turn")["integrated_theme"].agg(frozenset).to_dict()
        themes = [by_turn.get(t, frozenset()) for t in turns]
        for i, here in enumerate(themes):
            for d in range(window + 1):
                j = i + d
                if j >= len(themes):
                    break
                there = themes[j]
                union = here | there
                if not union:
                    continue
                for a in union:
                    either[a] += 1
                for pair in combinations(sorted(union), 2):
                    both[pair] += 1
                if d == 0:
                    pairs = set(combinations(sorted(here), 2))
                else:
                    pairs = {tuple(sorted((a, b))) for a in here for b in there if a != b}
                for pair in pairs:
                    together[pair] += 1
    rows = []
    for (a, b), count in together.items():
        if count < min_count:
            continue
        denominator = either[a] + either[b] - both[(a, b)]
        rows.append({"source": a, "target": b, "count": int(count),
                     "weight": round(count / denominator, 4) if denominator else 0.0})
    if not rows:
        return empty
    out = pd.DataFrame(rows).sort_values(["count", "source", "target"], ascending=[False, True, True], kind="stable")
    return out.reset_index(drop=True).astype({"count": "int64", "weight": "float64"})
