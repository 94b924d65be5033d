"""The knobs of the per-group procedure, its seeds and its theme ids."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: a segment's theme when it has none (its second theme, mostly)
NO_THEME = -1
#: A group's tree is built on at most this many distinct texts (``consensus_max_segments``);
#: the rest join the theme with the nearest centroid. Focus-group studies stay far below it.
CLUSTER_MAX_SEGMENTS = 3000


@dataclass(frozen=True)
class ThemeSettings:
    """Knobs of the per-group procedure; :meth:`candidates` scales the number of themes
    tried to a group's size."""

    seed: int = 20200
    #: R, the seeded runs of the procedure behind each group's consensus
    n_runs: int = 10
    max_themes: int = 12
    #: a theme above this share of its group is avoided, or explained when unavoidable
    max_share: float = 0.35
    #: a theme whose members share it in fewer than this share of runs is ``unstable``
    unstable_below: float = 0.5
    #: a segment's second theme: one whose members it sat with in at least this share of runs
    secondary_min: float = 0.3
    #: share of a group's distinct texts each seeded run fits
    resample_fraction: float = 0.9
    #: the tree is built on at most this many distinct texts of a group (others join by centroid)
    consensus_max_segments: int = CLUSTER_MAX_SEGMENTS
    top_n_words: int = 10
    n_quotes: int = 5
    #: e.g. speaker pseudonyms: names say who spoke, not what the theme is about
    extra_stop_words: tuple[str, ...] = ()
    #: the sentence-transformers model that embeds words, labels and representative documents
    embedding_model: str = "default"
    #: a number of themes asked for (``n_themes`` of the group); None: the most stable is reported
    fixed_k: int | None = None

    def candidates(self, n_distinct: int) -> list[int]:
        """Numbers of themes tried for a group of ``n_distinct`` distinct texts:
        2 … round(sqrt(n / 2)), at most ``max_themes`` (a theme should hold a few
        segments: 200 segments give at most 10 themes, 50 give 5), and ``fixed_k``
        when one was asked for."""
        top = int(np.clip(round(math.sqrt(n_distinct / 2)), 2, self.max_themes))
        tried = set(range(2, min(top, n_distinct - 1) + 1))
        if self.fixed_k is not None and 2 <= self.fixed_k <= n_distinct - 1:
            tried.add(int(self.fixed_k))
        return sorted(tried)


def run_seed(seed: int, run: int, n_themes: int = 0) -> int:
    """The seed of run ``run`` at ``n_themes`` themes, derived from the one seed (and
    not from the group or its neighbours, so groups are independent)."""
    return int(np.random.SeedSequence([int(seed), int(run), int(n_themes)]).generate_state(1)[0])


def theme_id(group: str, index: int) -> str:
    """The id of a group's theme ``index`` (0-based): ``radiographers:T01``."""
    return f"{group}:T{index + 1:02d}"
