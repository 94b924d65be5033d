"""Who spoke, how much (stage 2 of the process model).

Focus groups are uneven: some participants dominate, some hardly speak, and a facilitator
who talks a lot shapes the data. Before reading themes, a researcher should see whose
voice the data mostly carries.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .transcripts import count_words, strip_annotations


def gini(values) -> float:
    """Gini coefficient of non-negative values: 0 = everyone equal, toward 1 = one voice."""
    x = np.asarray(list(values), dtype=float)
    if x.size == 0 or x.sum() == 0:
        return 0.0
    diffs = np.abs(x[:, None] - x[None, :]).sum()
    return float(diffs / (2 * x.size ** 2 * x.mean()))


def add_word_counts(utterances: pd.DataFrame) -> pd.DataFrame:
    """Words per turn, spoken words only (annotations such as [laughs] are not counted)."""
    return utterances.assign(words=[count_words(strip_annotations(t)) for t in utterances["text"]])


def speaker_share(utterances: pd.DataFrame) -> pd.DataFrame:
    """One row per speaker per focus group: turns, words and share of the group's words."""
    u = add_word_counts(utterances)
    per = (u.groupby(["focus_group", "participant_group", "speaker", "role"], sort=False)
           .agg(turns=("turn", "size"), words=("words", "sum")).reset_index())
    totals = per.groupby("focus_group")["words"].transform("sum")
    part_totals = per[per["role"] == "participant"].groupby("focus_group")["words"].sum()
    per["share_of_words"] = (per["words"] / totals).round(4)
    per["share_of_participant_words"] = [
        round(w / part_totals[fg], 4) if r == "participant" and part_totals.get(fg, 0) else np.nan
        for fg, w, r in zip(per["focus_group"], per["words"], per["role"])]
    return per.sort_values(["focus_group", "role", "words"], ascending=[True, True, False], kind="stable").reset_index(drop=True)


def _summarise(rows: pd.DataFrame, level: str, ident: str, participant_group: str) -> dict:
    part = rows[rows["role"] == "participant"]
    words = rows["words"].sum()
    n = len(part)
    return {
        "level": level,
        "id": ident,
        "participant_group": participant_group,
        "n_focus_groups": rows["focus_group"].nunique(),
        "n_participants": n,
        "turns": int(rows["turns"].sum()),
        "participant_turns": int(part["turns"].sum()),
        "words": int(words),
        "participant_words": int(part["words"].sum()),
        "facilitator_share_of_words": round(1 - part["words"].sum() / words, 4) if words else np.nan,
        "gini_participant_words": round(gini(part["words"]), 4),
        "turns_per_participant": round(part["turns"].sum() / n, 2) if n else np.nan,
        "top_speaker_share": round(part["words"].max() / part["words"].sum(), 4) if n and part["words"].sum() else np.nan,
    }


def talk_share(utterances: pd.DataFrame) -> pd.DataFrame:
    """Per focus group and per participant group: who spoke and how unevenly.

    Gini is computed across participants *within* a focus group; for a participant group
    it is computed across all of its participants (speakers are scoped to their focus
    group, so the same pseudonym in two groups counts as two people).
    """
    speakers = speaker_share(utterances)
    rows = [_summarise(g, "focus_group", fg, g["participant_group"].iloc[0])
            for fg, g in speakers.groupby("focus_group", sort=True)]
    order = list(dict.fromkeys(utterances["participant_group"]))
    rows += [_summarise(speakers[speakers["participant_group"] == pg], "participant_group", pg, pg) for pg in order]
    rows.append(_summarise(speakers, "study", "all", "all"))
    return pd.DataFrame(rows)


TALK_GAP_COLUMNS = ["level", "id", "participant_group", "note"]


def talk_gaps(utterances: pd.DataFrame) -> pd.DataFrame:
    """Focus groups and whole participant groups with no participant talk, said in words.

    Facilitators' questions are not data, so such a group contributes no segments and no
    themes; a reader of the report would otherwise see it only by its absence. One row per
    gap (``talk_gaps.csv``): level (``focus_group`` / ``participant_group``), id,
    participant_group and a note such as "students: no participant talk; no themes".
    """
    spoke = utterances["role"] == "participant"
    rows = []
    for fg, turns in utterances.groupby("focus_group", sort=True):
        if not spoke[turns.index].any():
            group = turns["participant_group"].iloc[0]
            rows.append({"level": "focus_group", "id": fg, "participant_group": group,
                         "note": f"{fg}: no participant talk ({len(turns)} facilitator "
                                 f"turn{'s' * (len(turns) != 1)}); "
                                 "adds nothing to the themes"})
    for group, turns in utterances.groupby("participant_group", sort=False):
        if not spoke[turns.index].any():
            rows.append({"level": "participant_group", "id": group, "participant_group": group,
                         "note": f"{group}: no participant talk; no themes"})
    return pd.DataFrame(rows, columns=TALK_GAP_COLUMNS)


def plot_talk_share(speakers: pd.DataFrame, labels: dict[str, str], palette: dict[str, str]):
    """Horizontal bars, one per focus group: each participant's share of the words,
    largest first, with the facilitator's share in grey at the end."""
    import matplotlib.pyplot as plt

    groups = sorted(speakers["focus_group"].unique())
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(groups) + 1.6), dpi=100)
    for y, fg in enumerate(groups):
        rows = speakers[speakers["focus_group"] == fg]
        left = 0.0
        colour = palette.get(rows["participant_group"].iloc[0], "#4477AA")
        part = rows[rows["role"] == "participant"].sort_values("words", ascending=False)
        for i, r in enumerate(part.itertuples()):
            ax.barh(y, r.share_of_words, left=left, color=colour, edgecolor="white", linewidth=1.2,
                    alpha=1.0 - 0.08 * min(i, 6))
            left += r.share_of_words
        fac = rows[rows["role"] == "facilitator"]["share_of_words"].sum()
        ax.barh(y, fac, left=left, color="#BBBBBB", edgecolor="white", linewidth=1.2)
        g = gini(part["words"])
        ax.text(1.01, y, f"{len(part)} people · Gini {g:.2f}", va="center", fontsize=8, color="#333333")
    ax.set_yticks(range(len(groups)), groups)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of words spoken (each block one participant, largest first; grey = facilitator)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=palette[k]) for k in labels if k in palette]
    handles.append(plt.Rectangle((0, 0), 1, 1, color="#BBBBBB"))
    ax.legend(handles, [labels[k] for k in labels if k in palette] + ["Facilitator"], loc="upper center",
              bbox_to_anchor=(0.5, -0.14 - 0.2 / max(len(groups), 1)), ncol=4, frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
