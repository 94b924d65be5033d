"""Co-production workshops: from independent analyses to integrated themes (stage 5).

In the study, three workshops brought radiographers, patients and carers, and students
together to synthesise the three independently analysed data sets, so that the final
themes represent every group equally. Here each workshop is a YAML file of ordered
decisions, applied in study.yml order, every one logged in an audit trail:

``merge``   group themes (or integrated themes) into one integrated theme
``rename``  give an integrated theme the name the workshop agreed
``split``   divide a group theme by seed keywords or seed quotes
``drop``    set a theme aside, with the rationale
``define``  describe an integrated theme and add elements to the definition
``link``    relate two integrated themes (part of, leads to, in tension with)
``assign``  place an integrated theme in the conceptual framework

Group themes no decision has placed yet are *proposed* for integration by similarity, so a
new study without workshop files still gets integrated themes to take to its first
workshop.
"""

from __future__ import annotations

import copy
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._io import cell_flag, cell_text
from .balance import balance_flags, balance_index, dominance_threshold, group_shares  # noqa: F401
from .identity import LEGACY_SEGMENT_ID, SEGMENT_ID, fingerprint, legacy_segment_ids
from .study import ANALYSIS_DEFAULTS
from .themes import quotes_of
from .themes.stop_words import BEHAVIOUR_QUOTE_STOP_WORDS
from .workshop_files import (  # noqa: F401  (re-exported: notebooks and tests use them from here)
    Resolution,
    Workshop,
    WorkshopError,
    decision_template,
    load_workshop,
    load_workshops,
    named_group_themes,
    resolved_decisions,
    snapshot_table,
    snapshot_themes,
    theme_members,
)

RELATIONS = ("part of", "leads to", "in tension with")
#: Taylor et al. (2017): the five defining attributes of compassion.
ATTRIBUTES = ("recognition", "connection", "altruistic desire", "humanistic response", "action")
_INTEGRATED_ID = re.compile(r"^I\d{2,}$")
#: A segment id (``FG03-morag-1c9e20b4``, or the older ``FG03-t012-s1``): a split seed that
#: names a quote rather than a keyword.
GROUP_SEGMENT_ID = re.compile(f"{SEGMENT_ID.pattern}|{LEGACY_SEGMENT_ID.pattern}")
#: Proposal rule: two themes from different groups are proposed together when
#: 0.8 × cosine(centroids) + 0.2 × Jaccard(keywords) reaches the threshold.
PROPOSAL_WEIGHTS = (0.8, 0.2)
PROPOSAL_THRESHOLD = ANALYSIS_DEFAULTS["proposal_threshold"]   # study.yml's analysis: may set another
AUDIT_COLUMNS = ["workshop", "index", "action", "inputs", "outputs", "rationale", "check", "changed"]


def workshop_table(workshops: list[Workshop]) -> pd.DataFrame:
    """The workshops to apply, one row each (empty when the study has none yet)."""
    return pd.DataFrame([{"workshop": w.name, "title": w.title, "date": w.date, "decisions": len(w.decisions),
                          "attendees": ", ".join(f"{g}: {n}" for g, n in w.attendees.items()),
                          "themes pinned": len(w.based_on), "illustrative": w.illustrative, "file": str(w.path)}
                         for w in workshops],
                        columns=["workshop", "title", "date", "decisions", "attendees", "themes pinned",
                                 "illustrative", "file"])


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


@dataclass
class Decision:
    """One decision being applied: where it comes from (for messages and the audit)."""

    workshop: Workshop
    index: int
    fields: dict
    check: str = ""
    #: the largest share of members changed among the group themes it names (None: none checked)
    changed: float | None = None

    @property
    def where(self) -> str:
        return f"{self.workshop.path}, decision {self.index} ({self.fields.get('action')})"

    def error(self, problem: str, fix: str) -> WorkshopError:
        return WorkshopError(f"{self.where}: {problem}; {fix}.")

    def get(self, key: str, kind=str):
        """A required field of the decision, as ``kind``; one sentence if it is missing."""
        value = self.fields.get(key)
        if value in (None, "", []):
            raise self.error(f"has no '{key}'", f"add '{key}:' to the decision")
        if kind is list and isinstance(value, str):
            value = [value]
        if not isinstance(value, kind):
            raise self.error(f"'{key}' should be a {kind.__name__}", f"fix '{key}:'")
        return value

    @property
    def rationale(self) -> str:
        return str(self.fields.get("rationale") or "")


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
        used = {int(t[1:]) for t in self.integrated if _INTEGRATED_ID.match(t)}
        n = 1
        while n in used:
            n += 1
        return f"I{n:02d}"

    def log(self, decision: Decision, action: str, inputs, outputs, rationale: str = "") -> None:
        self.audit.append({"workshop": decision.workshop.name, "index": decision.index, "action": action,
                           "inputs": ";".join(inputs), "outputs": ";".join(outputs), "rationale": rationale,
                           "check": decision.check, "changed": decision.changed})

    def apply(self, workshop: Workshop, members: dict[str, set[str]]) -> Resolution:
        """Apply a workshop's decisions in order, after checking the themes they name
        against this run (carried over to successors where the content moved)."""
        decisions, resolution = resolved_decisions(workshop, members, self.segments)
        for index, fields in enumerate(decisions, start=1):
            action = fields.get("action") if isinstance(fields, dict) else fields
            if action not in HANDLERS:
                raise WorkshopError(f"{workshop.path}, decision {index}: has action '{action}'; use one of: "
                                    f"{', '.join(ACTIONS)}.")
            themes = named_group_themes(workshop.decisions[index - 1])
            named = [resolution.notes[t] for t in themes if t in resolution.notes]
            changed = [resolution.changed[t] for t in themes if t in resolution.changed]
            HANDLERS[action](self, Decision(workshop, index, fields, "; ".join(named),
                                            max(changed) if changed else None))
        if workshop.definition:
            self.definition, self.definition_source = workshop.definition, workshop.name
        return resolution

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
            biggest = max(group, key=lambda t: (self._size(t), t))
            self.integrated[tid] = IntegratedTheme(tid, self.labels.get(biggest, tid), list(group), status="proposed")
            for t in group:
                self.placed[t] = (tid, "the proposal step")

    def _size(self, theme: str) -> int:
        return sum(1 for t in self.segment_theme.values() if t == theme)


# --------------------------------------------------------------------------- decisions

def merge(state: Integration, d: Decision) -> None:
    """Put group themes (and integrated themes) into one integrated theme: ``into`` if
    given (created, or extended when it exists), otherwise the next free id. Integrated
    themes merged into another are retired. A label that differs from the target's
    current one is logged as a relabel."""
    themes = [str(t) for t in d.get("themes", list)]
    target = str(d.fields.get("into") or "")
    if target and not _INTEGRATED_ID.match(target):
        raise d.error(f"'into: {target}' is not an integrated theme id", "use I01, I02, …")
    if target and all(t == target for t in themes):
        raise d.error(f"merges '{target}' into itself", "name at least one other theme under 'themes:', or remove "
                      "the decision")
    sources, absorbed = [], []
    for t in themes:
        if _INTEGRATED_ID.match(t):
            theme = state.integrated_theme(t, d)
            if t != target:
                absorbed.append(t)
            sources += theme.sources
            continue
        state.group_theme(t, d)
        if t in state.placed and state.placed[t][0] != target:
            raise d.error(f"merges '{t}', which {state.placed[t][1]} already placed in {state.placed[t][0]}",
                          "merge the integrated theme instead, or remove one of the decisions")
        sources.append(t)
    if not target:
        target = state.next_id()
    existing = state.integrated.get(target)
    if existing is not None:
        state.integrated_theme(target, d)  # refuses a dropped or retired target
    label = str(d.fields.get("label") or (existing.label if existing else
                                          state.labels.get(sources[0], target) if sources else target))
    theme = existing or IntegratedTheme(target, label, [], workshop=d.workshop.name)
    if existing is not None and label != existing.label:
        state.log(d, "rename", [target], [target], f"relabelled by this merge: was '{existing.label}'")
    theme.label = label
    for s in sources:
        if s not in theme.sources:
            theme.sources.append(s)
        state.placed[s] = (target, f"{d.workshop.path} decision {d.index}")
    for a in absorbed:
        state.integrated[a].dropped = True
        state.integrated[a].sources = []
        state.merged_into[a] = (target, f"{d.workshop.path} decision {d.index}")
    state.integrated[target] = theme
    state.log(d, "merge", themes, [target], d.rationale)


def rename(state: Integration, d: Decision) -> None:
    """Give an integrated theme the name the workshop agreed (the old name is logged)."""
    theme = state.integrated_theme(str(d.get("theme")), d)
    old = theme.label
    theme.label = str(d.get("label"))
    state.log(d, "rename", [theme.id], [theme.id], d.rationale or f"was '{old}'")


def drop(state: Integration, d: Decision) -> None:
    """Set a group or integrated theme aside, with the required rationale; its segments
    belong to no integrated theme."""
    tid = str(d.get("theme"))
    rationale = str(d.get("rationale"))
    if _INTEGRATED_ID.match(tid):
        theme = state.integrated_theme(tid, d)
        theme.dropped = True
        for s in theme.sources:
            state.dropped[s] = f"{d.workshop.path} decision {d.index}"
    else:
        state.group_theme(tid, d)
        if tid in state.placed:
            raise d.error(f"drops '{tid}', which {state.placed[tid][1]} placed in {state.placed[tid][0]}",
                          "drop the integrated theme, or remove one of the decisions")
    state.dropped[tid] = f"{d.workshop.path} decision {d.index}"
    state.log(d, "drop", [tid], [], rationale)


def split(state: Integration, d: Decision) -> None:
    """Divide a group theme not yet merged into parts ``<id>.1``, ``<id>.2``, …: each part
    is seeded by keywords or segment ids, and every member goes to the nearest seed centroid."""
    tid = str(d.get("theme"))
    if _INTEGRATED_ID.match(tid):
        raise d.error(f"splits the integrated theme '{tid}'", "split its group themes before merging them")
    state.group_theme(tid, d)
    if tid in state.placed:
        raise d.error(f"splits '{tid}', which {state.placed[tid][1]} already placed in {state.placed[tid][0]}",
                      "split it before it is merged")
    if isinstance(d.fields.get("parts"), dict):
        # The board's (and docs/workshop_files.md's) form: {label: [segment ids or keywords]}.
        parts = [{"label": label, "quotes": [str(v) for v in seeds or [] if GROUP_SEGMENT_ID.match(str(v))],
                  "keywords": [str(v) for v in seeds or [] if not GROUP_SEGMENT_ID.match(str(v))]}
                 for label, seeds in d.fields["parts"].items()]
    else:
        parts = d.get("into", list)
    if len(parts) < 2:
        raise d.error("needs at least two parts under 'into:'", "add a second part")
    if not all(isinstance(p, dict) for p in parts):
        raise d.error("each part under 'into:' should be a mapping",
                      "write '- label: ...' with 'keywords: [...]' or 'quotes: [...]'")
    members = [s for s, t in state.segment_theme.items() if t == tid]
    rows = [state.row_of[s] for s in members]
    texts = state.segments.loc[rows, "text"].str.lower().tolist()
    emb = state.embeddings[rows]
    centroids = []
    for k, part in enumerate(parts):
        seeds_kw = [str(w).lower() for w in part.get("keywords") or []]
        seeds_q = [str(q) for q in part.get("quotes") or []]
        if not seeds_kw and not seeds_q:
            raise d.error(f"part {k + 1} has neither keywords nor quotes", "give seed keywords or segment ids")
        seeds_q = [state.legacy_ids.get(q, q) for q in seeds_q]  # position ids of older files, matched by text
        foreign = [q for q in seeds_q if q not in members]
        if foreign:
            raise d.error(f"part {k + 1} names the quote {foreign[0]}, which is not a segment of '{tid}'"
                          + (f" (it is in {state.segment_theme[foreign[0]]})" if foreign[0] in state.segment_theme else ""),
                          f"choose quotes of {tid} (its segment ids are in theme_assignments.parquet), or seed the "
                          "part by keywords")
        idx = [i for i, t in enumerate(texts) if any(w in t for w in seeds_kw)]
        idx += [members.index(q) for q in seeds_q]
        if not idx:
            raise d.error(f"part {k + 1}'s seeds match no segment of '{tid}'",
                          "choose keywords that occur in its quotes (see group_themes.csv)")
        c = emb[sorted(set(idx))].mean(axis=0)
        centroids.append(c / (np.linalg.norm(c) + 1e-12))
    nearest = np.argmax(emb @ np.vstack(centroids).T, axis=1)
    outputs = []
    for k, part in enumerate(parts):
        new = f"{tid}.{k + 1}"
        state.split_from[new] = tid
        state.group_of[new] = state.group_of[tid]
        state.labels[new] = str(part.get("label") or f"{state.labels[tid]} ({k + 1})")
        state.keywords[new] = [str(w) for w in part.get("keywords") or []] or state.keywords[tid]
        for s, n in zip(members, nearest):
            if n == k:
                state.segment_theme[s] = new
        outputs.append(new)
    state.log(d, "split", [tid], outputs, d.rationale)


def define(state: Integration, d: Decision) -> None:
    """Describe an integrated theme and add its elements to the co-produced definition."""
    theme = state.integrated_theme(str(d.get("theme")), d)
    theme.description = str(d.get("description")).strip()
    elements = d.fields.get("elements") or d.fields.get("definition_elements") or []
    theme.definition_elements += [str(e) for e in ([elements] if isinstance(elements, str) else elements)]
    state.log(d, "define", [theme.id], [theme.id], d.rationale)


def link(state: Integration, d: Decision) -> None:
    """Relate two integrated themes: part of, leads to, or in tension with."""
    a = state.integrated_theme(str(d.get("source" if "source" in d.fields else "from")), d)
    b = state.integrated_theme(str(d.get("target" if "target" in d.fields else "to")), d)
    relation = str(d.get("relation"))
    if relation not in RELATIONS:
        raise d.error(f"has relation '{relation}'", f"use one of: {', '.join(RELATIONS)}")
    if a.id == b.id:
        raise d.error(f"links '{a.id}' to itself", "link two different themes")
    state.links.append({"source": a.id, "target": b.id, "relation": relation, "workshop": d.workshop.name})
    state.log(d, "link", [a.id, b.id], [relation], d.rationale)


def assign(state: Integration, d: Decision) -> None:
    """Place an integrated theme under one of the five attributes of compassion in the
    conceptual framework, with the observable behaviours the workshop named."""
    theme = state.integrated_theme(str(d.get("theme")), d)
    attribute = str(d.get("attribute")).strip().lower()
    if attribute not in ATTRIBUTES:
        raise d.error(f"assigns the attribute '{attribute}'", f"use one of: {', '.join(ATTRIBUTES)}")
    if theme.attribute and theme.attribute != attribute:
        raise d.error(f"assigns '{theme.id}' to '{attribute}' but an earlier decision assigned '{theme.attribute}'",
                      "keep one assignment")
    theme.attribute = attribute
    theme.behaviours += [str(b) for b in d.fields.get("behaviours") or []]
    state.log(d, "assign", [theme.id], [attribute], d.rationale)


#: What each action does to the integration state (see each function's docstring).
HANDLERS = {"merge": merge, "rename": rename, "split": split, "drop": drop, "define": define, "link": link,
            "assign": assign}
ACTIONS = tuple(HANDLERS)


# --------------------------------------------------------------------------- tables

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


def integrate(group_themes: pd.DataFrame, assignments: pd.DataFrame, segments: pd.DataFrame,
              embeddings: np.ndarray, workshops: list[Workshop], group_ids: list[str],
              proposal_threshold: float = PROPOSAL_THRESHOLD) -> IntegrationResult:
    """Replay the workshops' decisions once, in order, keeping the state before each
    workshop (for its pack); then propose integration for the themes still unplaced."""
    state = Integration(group_themes, assignments, embeddings, segments)
    members = theme_members(assignments)
    before = {}
    for w in workshops:
        before[w.name] = state.copy()
        state.apply(w, members)
    next_workshop = max((w.number for w in workshops), default=0) + 1
    before[f"workshop_{next_workshop}"] = state.copy()
    state.add_proposals(proposal_threshold)

    seg = state.segments.assign(group_theme=[state.segment_theme.get(s, "") for s in state.segments["segment_id"]])
    to_integrated = {s: tid for tid, th in state.integrated.items() if not th.dropped for s in th.sources}
    seg["integrated_theme"] = [to_integrated.get(t, "") for t in seg["group_theme"]]
    group_totals = seg.groupby("participant_group").size().to_dict()

    rows = []
    for tid in sorted(state.integrated):
        th = state.integrated[tid]
        if th.dropped:
            continue
        members_of = seg[seg["integrated_theme"] == tid]
        shares = group_shares(members_of["participant_group"].value_counts().to_dict(), group_totals, group_ids)
        speakers = members_of.groupby(["focus_group", "speaker"]).size()
        top = float(speakers.max() / speakers.sum()) if len(speakers) else 0.0
        row = {"theme_id": tid, "label": th.label, "description": th.description, "status": th.status,
               "source_themes": ";".join(th.sources), "n_segments": int(len(members_of)),
               "n_speakers": int(len(speakers))}
        row.update({f"share_{g}": round(shares[g], 4) for g in group_ids})
        row["balance"] = round(balance_index(shares), 4)
        row["flags"] = "; ".join(balance_flags(shares, top))
        row["caveats"] = "; ".join(inherited_caveats(th.sources, state))
        row["workshop"] = th.workshop
        rows.append(row)
    integrated = pd.DataFrame(rows)

    elements = [e for tid in sorted(state.integrated) for e in state.integrated[tid].definition_elements
                if not state.integrated[tid].dropped]
    definition = state.definition or (
        "Compassion is recognised when " + "; ".join(elements) + "." if elements else "")
    return IntegrationResult(
        integrated=integrated,
        segment_themes=seg[["segment_id", "participant_group", "group_theme", "integrated_theme"]],
        links=pd.DataFrame(state.links, columns=["source", "target", "relation", "workshop"]),
        audit=pd.DataFrame(state.audit, columns=AUDIT_COLUMNS),
        framework=framework_table(state, seg, group_ids), definition=definition, definition_elements=elements,
        state=state, before=before, next_workshop=next_workshop, members=members,
    )


# --------------------------------------------------------------------------- framework quotes

def content_stems(text: str) -> set[str]:
    """The content words of ``text``, crudely stemmed (plural -s, -es, -ing, -ed) so that
    'keeps covered' and 'keeping them covered' share words."""
    stems = set()
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in BEHAVIOUR_QUOTE_STOP_WORDS or len(word) < 3:
            continue
        for suffix in ("ing", "ed", "es", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        stems.add(word)
    return stems


def supporting_quote(members: pd.DataFrame, behaviour: str) -> str:
    """The segment among ``members`` that shares the most content words with the
    behaviour (ties: the more readable, then the earlier); empty when none shares any."""
    wanted = content_stems(behaviour)
    if members.empty or not wanted:
        return ""
    overlap = np.array([len(wanted & content_stems(t)) for t in members["text"]])
    if overlap.max() == 0:
        return ""
    readable = members["n_words"].between(12, 70).to_numpy().astype(int)
    best = members.iloc[int(np.lexsort((np.arange(len(members)), -readable, -overlap))[0])]
    return f"“{best.text}” ({best.speaker}, {best.focus_group})"


def framework_table(state: Integration, seg: pd.DataFrame, group_ids: list[str]) -> pd.DataFrame:
    """One row per behaviour of each assigned theme, with one quote per participant group
    chosen for *that* behaviour (or a note that the group's talk does not support it)."""
    rows = []
    for tid in sorted(state.integrated):
        th = state.integrated[tid]
        if th.dropped or not (th.attribute or th.behaviours):
            continue
        for behaviour in th.behaviours or [""]:
            quotes = {}
            for g in group_ids:
                members = seg[(seg["integrated_theme"] == tid) & (seg["participant_group"] == g)]
                quote = supporting_quote(members, behaviour or th.label)
                quotes[f"quote_{g}"] = quote or f"no supporting talk from {g}"
            rows.append({"theme_id": tid, "label": th.label, "attribute": th.attribute, "behaviour": behaviour,
                         "description": th.description, **quotes})
    columns = ["theme_id", "label", "attribute", "behaviour", "description"] + [f"quote_{g}" for g in group_ids]
    return pd.DataFrame(rows, columns=columns)


def _parent_theme(state: Integration, tid: str) -> str:
    """The group theme a split part came from (itself for a theme that was not split)."""
    while tid in state.split_from:
        tid = state.split_from[tid]
    return tid


def inherited_caveats(sources: list[str], state: Integration) -> list[str]:
    """What an integrated theme inherits from the group themes it rests on: one caveat per
    source theme that stage 4 marked unstable or that comes from a small group (a split
    part inherits its parent's)."""
    caveats = []
    for src in sources:
        parent = _parent_theme(state, src)
        if parent not in state.group_themes.index:
            continue
        row = state.group_themes.loc[parent]
        if cell_flag(row.get("unstable")):
            caveats.append(f"rests on an unstable theme: {src}")
        if "small group" in cell_text(row.get("caveat")):
            caveats.append(f"rests on a small group's theme: {src}")
    return caveats


#: Columns of ``split_themes.csv``: the parts workshops made by splitting a group theme.
SPLIT_COLUMNS = ["theme_id", "parent", "participant_group", "label", "keywords", "n_segments", "workshop"]


def split_parts_table(result: IntegrationResult) -> pd.DataFrame:
    """One row per part made by a ``split`` decision, with the label the workshop gave it
    (so maps, lineage and report can name it) and the segments it holds in this run."""
    state = result.state
    sizes = result.segment_themes["group_theme"].value_counts().to_dict()
    where = {out: row["workshop"] for row in state.audit if row["action"] == "split"
             for out in row["outputs"].split(";") if out}
    rows = [{"theme_id": part, "parent": parent, "participant_group": state.group_of.get(part, ""),
             "label": state.labels.get(part, part), "keywords": "; ".join(state.keywords.get(part, [])),
             "n_segments": int(sizes.get(part, 0)), "workshop": where.get(part, "")}
            for part, parent in sorted(state.split_from.items())]
    return pd.DataFrame(rows, columns=SPLIT_COLUMNS)


#: Columns of ``definition.csv``: the co-produced definition as data for the report.
DEFINITION_COLUMNS = ["part", "theme_id", "text", "workshop"]


def definition_table(result: IntegrationResult) -> pd.DataFrame:
    """The co-produced definition as rows: ``definition`` (the agreed wording, or the one
    assembled from the elements) and each ``element`` with the integrated theme and
    workshop it came from."""
    state = result.state
    rows = []
    if result.definition:
        rows.append({"part": "definition", "theme_id": "", "text": result.definition,
                     "workshop": state.definition_source if state.definition else ""})
    define_at = {row["inputs"]: row["workshop"] for row in state.audit if row["action"] == "define"}
    for tid in sorted(state.integrated):
        theme = state.integrated[tid]
        if theme.dropped:
            continue
        rows += [{"part": "element", "theme_id": tid, "text": e, "workshop": define_at.get(tid, "")}
                 for e in theme.definition_elements]
    return pd.DataFrame(rows, columns=DEFINITION_COLUMNS)


def definition_markdown(result: IntegrationResult, study_title: str) -> str:
    lines = [f"# Co-produced definition of compassion — {study_title}", ""]
    if result.definition:
        lines += [result.definition, ""]
    else:
        lines += ["No definition has been agreed yet: add `define` decisions (with `definition_elements`) "
                  "or a `definition:` to a workshop file.", ""]
    if result.definition_elements:
        lines += ["## Elements contributed by the workshops", ""] + [f"- {e}" for e in result.definition_elements] + [""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- workshop packs

_PACK_CSS = """
@page { size: A4; margin: 14mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; color: #222; max-width: 190mm; margin: auto; }
h1 { font-size: 17pt; margin-bottom: 2pt; } h2 { font-size: 13pt; margin-top: 16pt; break-after: avoid; page-break-after: avoid; }
.meta { color: #555; margin-bottom: 10pt; }
.row { display: flex; gap: 6pt; break-inside: avoid; page-break-inside: avoid; margin-bottom: 8pt; }
.card { flex: 1; border: 1px solid #999; border-top: 6px solid var(--c); border-radius: 4px; padding: 6pt 8pt; break-inside: avoid; }
.card h3 { font-size: 11pt; margin: 0 0 3pt 0; } .card .kw { color: #555; font-size: 9pt; margin-bottom: 4pt; }
.card blockquote { margin: 3pt 0; padding-left: 6pt; border-left: 2px solid #ccc; font-size: 9.5pt; }
.share { font-size: 9pt; color: #333; } .status { font-size: 8.5pt; text-transform: uppercase; color: #777; }
.unstable { color: #a00; font-weight: bold; }
.copy { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; background: #f6f6f6; padding: 2pt 4pt;
        margin-top: 4pt; white-space: pre-wrap; word-break: break-all; }
.note { background: #f3f3f3; padding: 6pt; border-radius: 4px; font-size: 9.5pt; }
"""
# Only a pack that carries a warning has this rule (a reviewed study's packs stay as they were).
_WARNING_CSS = """
.warning { background: #fff0f0; border: 2px solid #a00; color: #600; padding: 6pt; border-radius: 4px;
           font-weight: bold; margin-bottom: 8pt; }
"""


def _quotes_of(group_themes: pd.DataFrame, theme: str, n: int = 5) -> list[str]:
    """Quotes of a group theme; a part made by ``split`` shows its parent's quotes."""
    base = theme.split(".")[0] if re.search(r"\.\d+$", theme) else theme
    return quotes_of(group_themes.loc[base])[:n] if base in group_themes.index else []


def _card(state: Integration, t: str, palette: dict[str, str], group_labels: dict[str, str],
          totals: dict[str, int], members: dict[str, set[str]]) -> str:
    gt = state.group_themes
    group = state.group_of.get(t, "")
    size = state._size(t)
    share = size / totals[group] if totals.get(group) else 0
    quotes = _quotes_of(gt, t)
    base = t.split(".")[0]
    row = gt.loc[base] if base in gt.index else {}
    unstable, caveat = cell_flag(row.get("unstable")), cell_text(row.get("caveat"))
    pin = fingerprint(members[t]) if t in members else ""
    label = state.labels.get(t, t)
    line = f'{t}: "{pin}"   # {label}' if pin else f"{t}   # {label} (a part made by a split)"
    first = quotes[0] if quotes else ""
    return (f"<div class='card' style='--c:{palette.get(group, '#888')}'>"
            f"<div class='status'>{html.escape(group_labels.get(group, group))} · {html.escape(t)}"
            + (f" · fingerprint {pin}" if pin else "") + "</div>"
            f"<h3>{html.escape(label)}"
            + (" <span class='unstable'>unstable</span>" if unstable else "") + "</h3>"
            f"<div class='kw'>{html.escape(', '.join(state.keywords.get(t, [])[:8]))}</div>"
            f"<div class='share'>{size} segments · {share:.0%} of this group's talk</div>"
            + (f"<div class='share'>{html.escape(caveat)}</div>" if caveat else "")
            + "".join(f"<blockquote>{html.escape(q)}</blockquote>" for q in quotes[:5])
            + f"<div class='copy' title='copy into based_on: of the workshop file'>{html.escape(line)}"
            + (f"\n# {html.escape(first[:120])}" if first else "") + "</div></div>")


def workshop_pack(title: str, subtitle: str, candidate_sets: list[list[str]], state: Integration,
                  palette: dict[str, str], group_labels: dict[str, str], members: dict[str, set[str]],
                  banner: str = "") -> str:
    """One printable page of theme cards; each row holds themes to discuss together.
    ``banner``: a warning printed above everything (unreviewed identifying details)."""
    totals = {g: sum(1 for s, t in state.segment_theme.items() if state.group_of.get(t) == g) for g in group_labels}
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{_PACK_CSS}{_WARNING_CSS if banner else ''}</style></head><body>",
             f"<h1>{html.escape(title)}</h1><div class='meta'>{html.escape(subtitle)}</div>",
             f"<div class='warning' role='alert'>{html.escape(banner)}</div>" if banner else "",
             "<div class='note'>Each row shows themes from different participant groups that may belong together. "
             "Quotes are pseudonymised. Share = the theme's part of that group's participant talk (segments). "
             "Decide together: merge, rename, split, drop, define, link, or place in the framework. The grey line "
             "on each card is its entry for the <code>based_on:</code> block of the workshop file: it pins the "
             "theme by fingerprint, so a rerun can check the decision still points at this content.</div>"]
    for k, themes in enumerate(candidate_sets, start=1):
        parts.append(f"<h2>Discussion {k}</h2><div class='row'>")
        parts += [_card(state, t, palette, group_labels, totals, members) for t in themes]
        parts.append("</div>")
    parts.append("</body></html>")
    return "".join(parts)


def workshop_packs(result: IntegrationResult, palette: dict[str, str], group_labels: dict[str, str],
                   study_title: str, workshops: list[Workshop],
                   proposal_threshold: float = PROPOSAL_THRESHOLD, banner: str = "") -> dict[str, str]:
    """A pack for each recorded workshop, built from the state just before it, and one
    for the next workshop (the integrated themes so far plus proposals for the rest);
    each carries ``banner`` as a warning when it is given."""
    titles = {w.name: (w.title, (f"{w.date} · " if w.date else "") + "Decisions recorded in " + w.path.name)
              for w in workshops}
    packs = {}
    for name, state in result.before.items():
        rows = [list(th.sources) for th in state.integrated.values() if not th.dropped] + state.propose(
            proposal_threshold)
        title, subtitle = titles.get(name, (f"Workshop {name.split('_')[-1]} (next)",
                                            "Proposed alignment for the next workshop: no decisions recorded yet"))
        packs[name] = workshop_pack(f"{study_title} — {title}", subtitle, rows, state, palette, group_labels,
                                    result.members, banner)
    return packs


def next_workshop_files(result: IntegrationResult, group_ids: list[str]) -> dict[str, str | pd.DataFrame]:
    """The decision template and the member snapshot for the next workshop, named
    ``workshop_N.template.yml`` and ``workshop_N.snapshot.csv``."""
    state = result.before[f"workshop_{result.next_workshop}"]
    on_table = sorted(t for t in state.group_of if t in result.members and t not in state.dropped)
    snapshot = f"workshop_{result.next_workshop}.snapshot.csv"
    return {f"workshop_{result.next_workshop}.template.yml":
            decision_template(result.next_workshop, group_ids, state.group_themes, result.members, on_table, snapshot),
            snapshot: snapshot_table(result.members, snapshot_themes(result.members, on_table))}


def write_workshop_packs(folder: Path, packs: dict[str, str], extra: dict | None = None) -> list[Path]:
    """Write each pack as ``<folder>/<name>.html`` and the next workshop's template and
    snapshot (atomically); return the paths."""
    from ._io import write_csv_atomic, write_text_atomic

    paths = [write_text_atomic(Path(folder) / f"{name}.html", page) for name, page in sorted(packs.items())]
    for name, content in sorted((extra or {}).items()):
        path = Path(folder) / name
        paths.append(write_csv_atomic(content, path) if isinstance(content, pd.DataFrame)
                     else write_text_atomic(path, content))
    return paths
