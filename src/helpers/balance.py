"""Balance across participant groups: the one definition notebook 05 and the workshop board share.

The method asks that integrated themes represent every participant group equally. A
theme's balance is judged on each group's *share*: the fraction of that group's
participant segments that voice the theme, so a group that talked less overall is not
counted as under-represented for that reason alone.
"""

from __future__ import annotations

import math

import numpy as np


def group_shares(counts: dict[str, int], totals: dict[str, int], group_ids: list[str]) -> dict[str, float]:
    """s_g = (segments of group g in the theme) / (all participant segments of group g);
    0 for a group with no segments at all."""
    return {g: (counts.get(g, 0) / totals[g]) if totals.get(g) else 0.0 for g in group_ids}


def balance_index(shares: dict[str, float]) -> float:
    """Normalised Shannon entropy of the groups' normalised shares.

    With s_g the share of group g's participant segments that voice the theme, and
    p_g = s_g / Σ s, balance = −Σ p_g ln p_g / ln G. It is 1 when every group voices the
    theme equally (relative to how much each group said overall) and 0 when only one does.
    """
    values = np.array(list(shares.values()), dtype=float)
    if len(values) < 2 or values.sum() == 0:
        return 0.0
    p = values / values.sum()
    nz = p[p > 0]
    return abs(float(-(nz * np.log(nz)).sum() / math.log(len(values))))


def dominance_threshold(n_groups: int) -> float:
    """A group dominates when its normalised share is over halfway from an equal share to all."""
    return (1 + 1 / n_groups) / 2 if n_groups else 1.0


def balance_flags(shares: dict[str, float], speaker_top_share: float) -> list[str]:
    flags = [f"missing voice: {g}" for g, s in shares.items() if s == 0]
    total = sum(shares.values())
    if total:
        for g, s in shares.items():
            if s / total > dominance_threshold(len(shares)) and len(shares) > 1:
                flags.append(f"dominated by {g}")
    if speaker_top_share > 0.5:
        flags.append("rests on one speaker")
    return flags
