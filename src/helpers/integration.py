"""The state of integration while workshop decisions are applied (stage 5).

An :class:`Integration` holds the group themes of a run, the integrated themes the
decisions have made so far, what each decision placed, dropped or split, the links and
the audit trail; :mod:`helpers.decisions` changes it, one decision at a time. Group
themes no decision has placed are *proposed* for integration by similarity
(:meth:`Integration.propose`), so a new study without workshop files still gets
integrated themes to take to its first workshop.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
import numpy as np
import pandas as pd

from .identity import legacy_segment_ids
from .study import ANALYSIS_DEFAULTS
from .workshop_files import Decision


INTEGRATED_ID = re.compile(r"^I\d{2,}$")
#: Proposal rule: two themes from different groups are proposed together when
#: 0.8 × cosine(centroids) + 0.2 × Jaccard(keywords) reaches the threshold.
PROPOSAL_WEIGHTS = (0.8, 0.2)
PROPOSAL_THRESHOLD = ANALYSIS_DEFAULTS["proposal_threshold"]   # study.yml's analysis: may set another
AUDIT_COLUMNS = ["workshop", "index", "action", "inputs", "outputs", "rationale", "check", "changed"]


@dataclass
class IntegratedTheme:
    id: str
    label: str
    sources: list[str]
    status: str = "agreed"
    description: str = ""
    definition_elements: list[str] = field(default_factory=list)
    attribute: str = ""
    behaviours: list[str] = field(default_factory=list)
    workshop: str = ""
    dropped: bool = False


class Integration:
    """The state of integration as decisions are applied, with the audit trail."""

    def __init__(self, group_themes: pd.DataFrame, assignments: pd.DataFrame, embeddings: np.ndarray,
                 segments: pd.DataFrame):
        self.group_themes = group_themes.set_index("theme_id", drop=False)
        self.segment_theme = assignments.set_index("segment_id")["theme_id"].astype(str).to_dict()
        self.segments = segments.reset_index(drop=True)
        self.embeddings = embeddings
        self.row_of = {sid: i for i, sid in enumerate(self.segments["segment_id"])}
        self.legacy_ids = legacy_segment_ids(self.segments)
        self.labels = self.group_themes["label"].astype(str).to_dict()
        self.keywords = {t: [k.strip() for k in str(v).split(";") if k.strip()]
                         for t, v in self.group_themes["keywords"].fillna("").items()}
        self.group_of = self.group_themes["participant_group"].astype(str).to_dict()
        self.integrated: dict[str, IntegratedTheme] = {}
        self.placed: dict[str, tuple[str, str]] = {}      # group theme -> (integrated id, where decided)
        self.dropped: dict[str, str] = {}                 # theme -> where decided
        self.split_from: dict[str, str] = {}
        self.merged_into: dict[str, tuple[str, str]] = {}  # retired integrated theme -> (target, where decided)
        self.links: list[dict] = []
        self.audit: list[dict] = []
        self.definition = ""
        self.definition_source = ""

    def copy(self) -> "Integration":
        """The state as it is now, for a workshop pack; the data it reads are shared."""
        twin = copy.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, (dict, list)):  # decision state; data frames and arrays are only read
                setattr(twin, name, copy.copy(value))
        twin.integrated = copy.deepcopy(self.integrated)  # its themes change in place
        return twin

    def group_theme(self, tid: str, decision: Decision) -> str:
        if tid not in self.group_of:
            raise decision.error(f"names the theme '{tid}', which is not in group_themes.csv",
                                 "check the current ids in group_themes.csv, or pin the theme by fingerprint "
                                 "under 'based_on:' so a rerun can find it (docs/workshop_files.md)")
        if tid in self.dropped:
            raise decision.error(f"uses '{tid}', which was dropped by {self.dropped[tid]}",
                                 "remove one of the two decisions")
        if tid in self.split_from.values() and tid not in self.split_from:
            raise decision.error(f"uses '{tid}', which was split into parts earlier",
                                 "refer to its parts (e.g. " + ", ".join(k for k, v in self.split_from.items() if v == tid) + ")")
        return tid

    def integrated_theme(self, tid: str, decision: Decision) -> IntegratedTheme:
        theme = self.integrated.get(tid)
        if theme is None:
            raise decision.error(f"names the integrated theme '{tid}', which no earlier decision created",
                                 "merge group themes into it first, or correct the id")
        if tid in self.merged_into:
            target, where = self.merged_into[tid]
            raise decision.error(f"uses '{tid}', which {where} already merged into {target}",
                                 f"name {target} instead, or remove one of the two decisions")
        if theme.dropped:
            raise decision.error(f"uses '{tid}', which {self.dropped.get(tid, 'an earlier decision')} dropped",
                                 "remove one of the two decisions")
        return theme

    def next_id(self) -> str:
        used = {int(t[1:]) for t in self.integrated if INTEGRATED_ID.match(t)}
        n = 1
        while n in used:
            n += 1
        return f"I{n:02d}"

    def log(self, decision: Decision, action: str, inputs, outputs, rationale: str = "") -> None:
        self.audit.append({"workshop": decision.workshop.name, "index": decision.index, "action": action,
                           "inputs": ";".join(inputs), "outputs": ";".join(outputs), "rationale": rationale,
                           "check": decision.check, "changed": decision.changed})

    # -- proposals -------------------------------------------------------------------------
    def unplaced(self) -> list[str]:
        themes = set(self.group_of) - set(self.placed) - set(self.dropped)
        themes -= {t for t in self.split_from.values()}
        return sorted(themes)

    def centroid(self, theme: str) -> np.ndarray:
        rows = [self.row_of[s] for s, t in self.segment_theme.items() if t == theme and s in self.row_of]
        c = self.embeddings[rows].mean(axis=0) if rows else np.zeros(self.embeddings.shape[1])
        return c / (np.linalg.norm(c) + 1e-12)

    def propose(self, threshold: float = PROPOSAL_THRESHOLD) -> list[list[str]]:
        """Align themes no decision placed across groups: the most similar cross-group pairs
        join first (at most one theme per group in a proposal), while similarity stays above
        ``threshold``. Similarity is PROPOSAL_WEIGHTS: 0.8 × cosine of centroids + 0.2 × keyword Jaccard."""
        themes = self.unplaced()
        if not themes:
            return []
        cents = {t: self.centroid(t) for t in themes}
        w_cosine, w_keywords = PROPOSAL_WEIGHTS
        pairs = []
        for i, a in enumerate(themes):
            for b in themes[i + 1:]:
                if self.group_of[a] == self.group_of[b]:
                    continue
                ka, kb = set(self.keywords.get(a, [])), set(self.keywords.get(b, []))
                jac = len(ka & kb) / len(ka | kb) if ka | kb else 0.0
                pairs.append((w_cosine * float(cents[a] @ cents[b]) + w_keywords * jac, a, b))
        cluster = {t: [t] for t in themes}
        for sim, a, b in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
            if sim < threshold or cluster[a] is cluster[b]:
                continue
            groups_a = {self.group_of[t] for t in cluster[a]}
            if groups_a & {self.group_of[t] for t in cluster[b]}:
                continue
            merged = cluster[a] + cluster[b]
            for t in merged:
                cluster[t] = merged
        seen, proposals = set(), []
        for t in themes:
            if id(cluster[t]) not in seen:
                seen.add(id(cluster[t]))
                proposals.append(sorted(cluster[t]))
        return proposals

    def add_proposals(self, threshold: float = PROPOSAL_THRESHOLD) -> None:
        for group in self.propose(threshold):
            tid = self.next_id()
            biggest = max(group, key=lambda t: (self.segment_count(t), t))
            self.integrated[tid] = IntegratedTheme(tid, self.labels.get(biggest, tid), list(group), status="proposed")
            for t in group:
                self.placed[t] = (tid, "the proposal step")

    def segment_count(self, theme: str) -> int:
        """How many segments the theme holds now (a split moves them to its parts)."""
        return sum(1 for t in self.segment_theme.values() if t == theme)


@dataclass
class IntegrationResult:
    integrated: pd.DataFrame
    segment_themes: pd.DataFrame
    links: pd.DataFrame
    audit: pd.DataFrame
    framework: pd.DataFrame
    definition: str
    definition_elements: list[str]
    state: Integration
    #: The state just before each workshop (its pack), and before the next one.
    before: dict[str, Integration] = field(default_factory=dict)
    next_workshop: int = 1
    members: dict[str, set[str]] = field(default_factory=dict)
