"""The stage's tables: group_themes.csv (with each theme's quotes), theme_assignments.parquet
and theme_hierarchy.csv for every group, and each group's BERTopic model saved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..identity import fingerprint
from .consensus import ConsensusRuns, checked_n_themes
from .group_fit import GroupFit, fit_group, relabel_hierarchy, theme_caveat
from .settings import NO_THEME, ThemeSettings, theme_id
from .stop_words import with_speaker_stop_words
from .words import speaker_keys


def pick_quotes(members: pd.DataFrame, member_embeddings: np.ndarray, n_quotes: int = 5) -> pd.DataFrame:
    """Representative quotes: closest to the theme's centroid, spread over speakers.

    Prefers segments of 12–70 words (long enough to mean something, short enough to read
    on a card) and takes no second quote from a speaker until every speaker has one.
    """
    if members.empty:
        return members
    centroid = member_embeddings.mean(axis=0)
    centroid /= np.linalg.norm(centroid) + 1e-12
    scores = member_embeddings @ centroid
    readable = members["n_words"].between(12, 70).to_numpy()
    ranked = members.assign(_score=scores + 0.5 * readable).sort_values(["_score", "segment_id"], ascending=[False, True])
    chosen, used = [], set()
    speakers = set(zip(ranked["focus_group"], ranked["speaker"]))
    for row in ranked.itertuples():
        who = (row.focus_group, row.speaker)
        if who in used and len(used) < len(speakers):
            continue
        chosen.append(row.Index)
        used.add(who)
        if len(chosen) >= n_quotes:
            break
    if len(chosen) < min(n_quotes, len(ranked)):
        rest = [i for i in ranked.index if i not in chosen]
        chosen += rest[: min(n_quotes, len(ranked)) - len(chosen)]
    return members.loc[chosen]


def quotes_of(row) -> list[str]:
    """The non-empty ``quote_1``, ``quote_2``, … cells of a group_themes.csv row, in order."""
    from .._io import cell_text

    keys = sorted((k for k in row.keys() if str(k).startswith("quote_") and str(k)[6:].isdigit()),
                  key=lambda k: int(str(k)[6:]))
    return [cell_text(row[k]) for k in keys if cell_text(row[k])]


def format_quote(row) -> str:
    return f"“{row.text}” ({row.speaker}, {row.focus_group})"


@dataclass
class GroupThemes:
    """The stage's three tables."""

    themes: pd.DataFrame        # group_themes.csv
    assignments: pd.DataFrame   # theme_assignments.parquet
    hierarchy: pd.DataFrame     # theme_hierarchy.csv
    fits: dict[str, GroupFit]

    @property
    def notes(self) -> pd.DataFrame:
        """What each group's procedure had to do or say (repeats, homogeneous talk)."""
        return pd.DataFrame([{"participant_group": g, "note": n} for g, fit in self.fits.items() for n in fit.notes],
                            columns=["participant_group", "note"])


THEME_COLUMNS = ["participant_group", "theme_id", "label", "keywords", "fingerprint", "n_segments", "n_speakers",
                 "n_focus_groups", "share_of_group", "consensus", "unstable", "method", "caveat"]
ASSIGNMENT_COLUMNS = ["segment_id", "participant_group", "theme_id", "secondary_theme_id", "uncertain"]


def save_models(result: GroupThemes, folder) -> None:
    """Save each group's BERTopic model under ``folder/<group>/`` (see
    :func:`helpers.themes.bertopic_model.save_models`); load one with ``BERTopic.load``."""
    from . import bertopic_model as M

    models = {g: fit.model for g, fit in result.fits.items() if fit.model is not None}
    settings = next(iter(result.fits.values())).settings if result.fits else ThemeSettings()
    M.save_models(models, folder, settings.embedding_model)


def analyse_groups(segments: pd.DataFrame, embeddings: np.ndarray, groups: list[str],
                   settings: ThemeSettings = ThemeSettings(), runs: ConsensusRuns | None = None,
                   n_themes: Mapping[str, int] | None = None,
                   anchors: Mapping[str, str] | None = None) -> GroupThemes:
    """Consensus themes per participant group, each from that group's segments only
    (``runs``: started with :class:`ConsensusRuns`, else run here; ``n_themes``: group id →
    a number of themes to report instead of the most stable (e.g. the number a workshop saw),
    as the runs were started with; ``anchors``: segment id → the workshop theme it was in,
    kept, see :func:`anchored_topics`).
    Each group's fitted BERTopic model is ``fits[group].model``; its representative
    documents are the theme's quotes."""
    asked = checked_n_themes(n_themes, segments, groups)
    theme_rows, assign_rows, hierarchies, fits = [], [], [], {}
    for group in groups:
        mask = (segments["participant_group"] == group).to_numpy()
        seg = segments[mask].reset_index(drop=True)
        emb = embeddings[mask]
        if seg.empty:
            continue
        group_settings = replace(with_speaker_stop_words(seg, settings), fixed_k=asked.get(group))  # this group only
        fit = fit_group(seg["text"].astype(str).tolist(), emb, group, group_settings,
                        runs=runs.runs(group) if runs is not None else None, speakers=speaker_keys(seg),
                        anchors=[anchors.get(str(s), "") for s in seg["segment_id"]] if anchors else None)
        fits[group] = fit
        hierarchies.append(fit.hierarchy)
        representative = {}
        for t in sorted(set(fit.topics.tolist())):
            idx = np.flatnonzero(fit.topics == t)
            members = seg.iloc[idx]
            quotes = pick_quotes(members, emb[idx], settings.n_quotes)
            representative[t] = quotes["text"].astype(str).tolist()
            share = len(members) / len(seg)
            row = {
                "participant_group": group,
                "theme_id": theme_id(group, t),
                "label": fit.labels.get(t, ""),
                "keywords": "; ".join(fit.keywords.get(t, [])),
                "fingerprint": fingerprint(members["segment_id"]),
                "n_segments": int(len(members)),
                "n_speakers": int(members[["focus_group", "speaker"]].drop_duplicates().shape[0]),
                "n_focus_groups": int(members["focus_group"].nunique()),
                "share_of_group": round(share, 4),
                "consensus": round(fit.consensus_by_theme.get(t, 1.0), 4),
                "unstable": bool(fit.consensus_by_theme.get(t, 1.0) < fit.settings.unstable_below),
                "method": fit.method,
                "caveat": theme_caveat(fit, t, share),
            }
            for k in range(settings.n_quotes):
                row[f"quote_{k + 1}"] = format_quote(quotes.iloc[k]) if k < len(quotes) else ""
            row["quote_segments"] = ";".join(quotes["segment_id"])
            theme_rows.append(row)
        if fit.model is not None:
            fit.model.representative_docs_ = representative  # the quotes group_themes.csv shows
        assign_rows.append(pd.DataFrame({
            "segment_id": seg["segment_id"],
            "participant_group": group,
            "theme_id": [theme_id(group, t) for t in fit.topics],
            "secondary_theme_id": [theme_id(group, t) if t != NO_THEME else "" for t in fit.secondary],
            "uncertain": fit.uncertain.astype(bool),
        }))
    quote_columns = [f"quote_{k + 1}" for k in range(settings.n_quotes)] + ["quote_segments"]
    themes = pd.DataFrame(theme_rows, columns=THEME_COLUMNS + quote_columns)
    assignments = (pd.concat(assign_rows, ignore_index=True) if assign_rows
                   else pd.DataFrame(columns=ASSIGNMENT_COLUMNS))[ASSIGNMENT_COLUMNS]
    hierarchy = pd.concat([h for h in hierarchies if not h.empty], ignore_index=True) if any(
        not h.empty for h in hierarchies) else relabel_hierarchy(pd.DataFrame(), {}, "")
    return GroupThemes(themes, assignments, hierarchy, fits)
