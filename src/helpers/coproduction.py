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

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ._io import UserError
from .balance import balance_flags, balance_index, dominance_threshold, group_shares  # noqa: F401
from .themes import quotes_of

ACTIONS = ("merge", "rename", "split", "drop", "define", "link", "assign")
RELATIONS = ("part of", "leads to", "in tension with")
#: Taylor et al. (2017): the five defining attributes of compassion.
ATTRIBUTES = ("recognition", "connection", "altruistic desire", "humanistic response", "action")
_INTEGRATED_ID = re.compile(r"^I\d{2,}$")


class WorkshopError(UserError):
    """A workshop decision cannot be applied; the message names the file and the decision."""


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
class Workshop:
    path: Path
    number: int
    title: str
    date: str
    attendees: dict
    decisions: list[dict]
    definition: str = ""
    illustrative: bool = False

    @property
    def name(self) -> str:
        return f"workshop_{self.number}"


def load_workshop(path: Path, number: int) -> Workshop:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise WorkshopError(f"{path}{where}: this is not valid YAML; check the indentation and colons there.") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("decisions", []), list):
        raise WorkshopError(f"{path}: expected a mapping with a list under 'decisions:'; see data/workshops/workshop_1.yml.")
    return Workshop(path=Path(path), number=int(raw.get("workshop", number)), title=str(raw.get("title", f"Workshop {number}")),
                    date=str(raw.get("date", "")), attendees=dict(raw.get("attendees") or {}),
                    decisions=list(raw.get("decisions") or []), definition=str(raw.get("definition") or "").strip(),
                    illustrative=bool(raw.get("illustrative", False)))


def workshop_table(workshops: list[Workshop]) -> pd.DataFrame:
    """The workshops to apply, one row each (empty when the study has none yet)."""
    return pd.DataFrame([{"workshop": w.name, "title": w.title, "date": w.date, "decisions": len(w.decisions),
                          "attendees": ", ".join(f"{g}: {n}" for g, n in w.attendees.items()),
                          "illustrative": w.illustrative, "file": str(w.path)} for w in workshops],
                        columns=["workshop", "title", "date", "decisions", "attendees", "illustrative", "file"])


class Integration:
    """The state of integration as decisions are applied, with the audit trail."""

    def __init__(self, group_themes: pd.DataFrame, assignments: pd.DataFrame, embeddings: np.ndarray,
                 segments: pd.DataFrame):
        self.group_themes = group_themes.set_index("theme_id", drop=False)
        self.segment_theme = assignments.set_index("segment_id")["theme_id"].astype(str).to_dict()
        self.segments = segments.reset_index(drop=True)
        self.embeddings = embeddings
        self.row_of = {sid: i for i, sid in enumerate(self.segments["segment_id"])}
        self.labels = self.group_themes["label"].astype(str).to_dict()
        self.keywords = {t: [k.strip() for k in str(v).split(";") if k.strip()]
                         for t, v in self.group_themes["keywords"].fillna("").items()}
        self.group_of = self.group_themes["participant_group"].astype(str).to_dict()
        self.integrated: dict[str, IntegratedTheme] = {}
        self.placed: dict[str, tuple[str, str]] = {}      # group theme -> (integrated id, where decided)
        self.dropped: dict[str, str] = {}                 # theme -> where decided
        self.split_from: dict[str, str] = {}
        self.links: list[dict] = []
        self.audit: list[dict] = []
        self.definition = ""
        self.definition_source = ""

    # -- helpers ---------------------------------------------------------------------------
    def _err(self, where: str, problem: str, fix: str) -> WorkshopError:
        return WorkshopError(f"{where}: {problem}; {fix}.")

    def _group_theme(self, tid: str, where: str) -> str:
        if tid not in self.group_of:
            raise self._err(where, f"names the theme '{tid}', which is not in group_themes.csv",
                            "themes change when the data change: check the current ids in group_themes.csv "
                            "and update the workshop file")
        if tid in self.dropped:
            raise self._err(where, f"uses '{tid}', which was dropped by {self.dropped[tid]}",
                            "remove one of the two decisions")
        if tid in self.split_from.values() and tid not in self.split_from:
            raise self._err(where, f"uses '{tid}', which was split into parts earlier",
                            "refer to its parts (e.g. " + ", ".join(k for k, v in self.split_from.items() if v == tid) + ")")
        return tid

    def _integrated_theme(self, tid: str, where: str) -> IntegratedTheme:
        theme = self.integrated.get(tid)
        if theme is None:
            raise self._err(where, f"names the integrated theme '{tid}', which no earlier decision created",
                            "merge group themes into it first, or correct the id")
        if theme.dropped:
            raise self._err(where, f"uses '{tid}', which was dropped earlier", "remove one of the two decisions")
        return theme

    def _next_id(self) -> str:
        used = {int(t[1:]) for t in self.integrated if _INTEGRATED_ID.match(t)}
        n = 1
        while n in used:
            n += 1
        return f"I{n:02d}"

    def _log(self, workshop: Workshop, index: int, action: str, inputs, outputs, rationale: str = ""):
        self.audit.append({"workshop": workshop.name, "index": index, "action": action,
                           "inputs": ";".join(inputs), "outputs": ";".join(outputs), "rationale": rationale})

    # -- decisions -------------------------------------------------------------------------
    def apply(self, workshop: Workshop) -> None:
        for index, decision in enumerate(workshop.decisions, start=1):
            where = f"{workshop.path}, decision {index}"
            if not isinstance(decision, dict) or decision.get("action") not in ACTIONS:
                got = decision.get("action") if isinstance(decision, dict) else decision
                raise self._err(where, f"has action '{got}'", f"use one of: {', '.join(ACTIONS)}")
            action = decision["action"]
            getattr(self, f"_{action}")(workshop, index, decision, f"{where} ({action})")
        if workshop.definition:
            self.definition, self.definition_source = workshop.definition, workshop.name

    def _field(self, decision: dict, key: str, where: str, kind=str):
        value = decision.get(key)
        if value in (None, "", []):
            raise self._err(where, f"has no '{key}'", f"add '{key}:' to the decision")
        if kind is list and isinstance(value, str):
            value = [value]
        if not isinstance(value, kind):
            raise self._err(where, f"'{key}' should be a {kind.__name__}", f"fix '{key}:'")
        return value

    def _merge(self, workshop, index, d, where):
        themes = [str(t) for t in self._field(d, "themes", where, list)]
        target = str(d.get("into") or "")
        if target and not _INTEGRATED_ID.match(target):
            raise self._err(where, f"'into: {target}' is not an integrated theme id", "use I01, I02, …")
        sources: list[str] = []
        absorbed: list[str] = []
        for t in themes:
            if _INTEGRATED_ID.match(t):
                theme = self._integrated_theme(t, where)
                if t != target:
                    absorbed.append(t)
                sources += theme.sources
                continue
            self._group_theme(t, where)
            if t in self.placed and self.placed[t][0] != target:
                raise self._err(where, f"merges '{t}', which {self.placed[t][1]} already placed in {self.placed[t][0]}",
                                "merge the integrated theme instead, or remove one of the decisions")
            sources.append(t)
        if not target:
            target = self._next_id()
        elif target in self.integrated:
            self._integrated_theme(target, where)  # refuses a dropped or absorbed target
        label = str(d.get("label") or (self.integrated[target].label if target in self.integrated else
                                       self.labels.get(sources[0], target) if sources else target))
        theme = self.integrated.get(target) or IntegratedTheme(target, label, [], workshop=workshop.name)
        theme.label = label
        for s in sources:
            if s not in theme.sources:
                theme.sources.append(s)
            self.placed[s] = (target, f"{workshop.path} decision {index}")
        for a in absorbed:
            self.integrated[a].dropped = True
            self.integrated[a].sources = []
        self.integrated[target] = theme
        self._log(workshop, index, "merge", themes, [target], str(d.get("rationale", "")))

    def _rename(self, workshop, index, d, where):
        theme = self._integrated_theme(str(self._field(d, "theme", where)), where)
        old = theme.label
        theme.label = str(self._field(d, "label", where))
        self._log(workshop, index, "rename", [theme.id], [theme.id], d.get("rationale") or f"was '{old}'")

    def _drop(self, workshop, index, d, where):
        tid = str(self._field(d, "theme", where))
        rationale = str(self._field(d, "rationale", where))
        if _INTEGRATED_ID.match(tid):
            theme = self._integrated_theme(tid, where)
            theme.dropped = True
            for s in theme.sources:
                self.dropped[s] = f"{workshop.path} decision {index}"
        else:
            self._group_theme(tid, where)
            if tid in self.placed:
                raise self._err(where, f"drops '{tid}', which {self.placed[tid][1]} placed in {self.placed[tid][0]}",
                                "drop the integrated theme, or remove one of the decisions")
        self.dropped[tid] = f"{workshop.path} decision {index}"
        self._log(workshop, index, "drop", [tid], [], rationale)

    def _split(self, workshop, index, d, where):
        tid = str(self._field(d, "theme", where))
        if _INTEGRATED_ID.match(tid):
            raise self._err(where, f"splits the integrated theme '{tid}'", "split its group themes before merging them")
        self._group_theme(tid, where)
        if tid in self.placed:
            raise self._err(where, f"splits '{tid}', which {self.placed[tid][1]} already placed in {self.placed[tid][0]}",
                            "split it before it is merged")
        parts = self._field(d, "into", where, list)
        if len(parts) < 2:
            raise self._err(where, "needs at least two parts under 'into:'", "add a second part")
        members = [s for s, t in self.segment_theme.items() if t == tid]
        rows = [self.row_of[s] for s in members]
        texts = self.segments.loc[rows, "text"].str.lower().tolist()
        emb = self.embeddings[rows]
        centroids = []
        if not all(isinstance(p, dict) for p in parts):
            raise self._err(where, "each part under 'into:' should be a mapping",
                            "write '- label: ...' with 'keywords: [...]' or 'quotes: [...]'")
        for k, part in enumerate(parts):
            seeds_kw = [str(w).lower() for w in part.get("keywords") or []]
            seeds_q = [str(q) for q in part.get("quotes") or []]
            if not seeds_kw and not seeds_q:
                raise self._err(where, f"part {k + 1} has neither keywords nor quotes", "give seed keywords or segment ids")
            idx = [i for i, t in enumerate(texts) if any(w in t for w in seeds_kw)]
            idx += [members.index(q) for q in seeds_q if q in members]
            if not idx:
                raise self._err(where, f"part {k + 1}'s seeds match no segment of '{tid}'",
                                "choose keywords that occur in its quotes (see group_themes.csv)")
            c = emb[sorted(set(idx))].mean(axis=0)
            centroids.append(c / (np.linalg.norm(c) + 1e-12))
        nearest = np.argmax(emb @ np.vstack(centroids).T, axis=1)
        outputs = []
        for k, part in enumerate(parts):
            new = f"{tid}.{k + 1}"
            self.split_from[new] = tid
            self.group_of[new] = self.group_of[tid]
            self.labels[new] = str(part.get("label") or f"{self.labels[tid]} ({k + 1})")
            self.keywords[new] = [str(w) for w in part.get("keywords") or []] or self.keywords[tid]
            for s, n in zip(members, nearest):
                if n == k:
                    self.segment_theme[s] = new
            outputs.append(new)
        self._log(workshop, index, "split", [tid], outputs, str(d.get("rationale", "")))

    def _define(self, workshop, index, d, where):
        theme = self._integrated_theme(str(self._field(d, "theme", where)), where)
        theme.description = str(self._field(d, "description", where)).strip()
        elements = d.get("definition_elements") or []
        theme.definition_elements += [str(e) for e in ([elements] if isinstance(elements, str) else elements)]
        self._log(workshop, index, "define", [theme.id], [theme.id], str(d.get("rationale", "")))

    def _link(self, workshop, index, d, where):
        a = self._integrated_theme(str(self._field(d, "from", where)), where)
        b = self._integrated_theme(str(self._field(d, "to", where)), where)
        relation = str(self._field(d, "relation", where))
        if relation not in RELATIONS:
            raise self._err(where, f"has relation '{relation}'", f"use one of: {', '.join(RELATIONS)}")
        if a.id == b.id:
            raise self._err(where, f"links '{a.id}' to itself", "link two different themes")
        self.links.append({"source": a.id, "target": b.id, "relation": relation, "workshop": workshop.name})
        self._log(workshop, index, "link", [a.id, b.id], [relation], str(d.get("rationale", "")))

    def _assign(self, workshop, index, d, where):
        theme = self._integrated_theme(str(self._field(d, "theme", where)), where)
        attribute = str(self._field(d, "attribute", where)).strip().lower()
        if attribute not in ATTRIBUTES:
            raise self._err(where, f"assigns the attribute '{attribute}'", f"use one of: {', '.join(ATTRIBUTES)}")
        if theme.attribute and theme.attribute != attribute:
            raise self._err(where, f"assigns '{theme.id}' to '{attribute}' but an earlier decision assigned '{theme.attribute}'",
                            "keep one assignment")
        theme.attribute = attribute
        theme.behaviours += [str(b) for b in d.get("behaviours") or []]
        self._log(workshop, index, "assign", [theme.id], [attribute], str(d.get("rationale", "")))

    # -- proposals -------------------------------------------------------------------------
    def unplaced(self) -> list[str]:
        themes = set(self.group_of) - set(self.placed) - set(self.dropped)
        themes -= {t for t in self.split_from.values()}
        return sorted(themes)

    def centroid(self, theme: str) -> np.ndarray:
        rows = [self.row_of[s] for s, t in self.segment_theme.items() if t == theme and s in self.row_of]
        c = self.embeddings[rows].mean(axis=0) if rows else np.zeros(self.embeddings.shape[1])
        return c / (np.linalg.norm(c) + 1e-12)

    def propose(self, threshold: float = 0.55) -> list[list[str]]:
        """Align themes no decision placed across groups: the most similar cross-group pairs
        join first (at most one theme per group in a proposal), while similarity stays above
        ``threshold``. Similarity is 0.8 × cosine of centroids + 0.2 × keyword Jaccard."""
        themes = self.unplaced()
        if not themes:
            return []
        cents = {t: self.centroid(t) for t in themes}
        pairs = []
        for i, a in enumerate(themes):
            for b in themes[i + 1:]:
                if self.group_of[a] == self.group_of[b]:
                    continue
                ka, kb = set(self.keywords.get(a, [])), set(self.keywords.get(b, []))
                jac = len(ka & kb) / len(ka | kb) if ka | kb else 0.0
                pairs.append((0.8 * float(cents[a] @ cents[b]) + 0.2 * jac, a, b))
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

    def add_proposals(self, threshold: float = 0.55) -> None:
        for group in self.propose(threshold):
            tid = self._next_id()
            biggest = max(group, key=lambda t: (self._size(t), t))
            self.integrated[tid] = IntegratedTheme(tid, self.labels.get(biggest, tid), list(group), status="proposed")
            for t in group:
                self.placed[t] = (tid, "the proposal step")

    def _size(self, theme: str) -> int:
        return sum(1 for t in self.segment_theme.values() if t == theme)


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


def integrate(group_themes: pd.DataFrame, assignments: pd.DataFrame, segments: pd.DataFrame,
              embeddings: np.ndarray, workshops: list[Workshop], group_ids: list[str],
              proposal_threshold: float = 0.55) -> IntegrationResult:
    """Apply the workshops' decisions in order, then propose integration for the rest."""
    state = Integration(group_themes, assignments, embeddings, segments)
    for w in workshops:
        state.apply(w)
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
        members = seg[seg["integrated_theme"] == tid]
        shares = group_shares(members["participant_group"].value_counts().to_dict(), group_totals, group_ids)
        speakers = members.groupby(["focus_group", "speaker"]).size()
        top = float(speakers.max() / speakers.sum()) if len(speakers) else 0.0
        row = {"theme_id": tid, "label": th.label, "description": th.description, "status": th.status,
               "source_themes": ";".join(th.sources), "n_segments": int(len(members)),
               "n_speakers": int(len(speakers))}
        row.update({f"share_{g}": round(shares[g], 4) for g in group_ids})
        row["balance"] = round(balance_index(shares), 4)
        row["flags"] = "; ".join(balance_flags(shares, top))
        row["workshop"] = th.workshop
        rows.append(row)
    integrated = pd.DataFrame(rows)

    elements = [e for tid in sorted(state.integrated) for e in state.integrated[tid].definition_elements
                if not state.integrated[tid].dropped]
    definition = state.definition or (
        "Compassion is recognised when " + "; ".join(elements) + "." if elements else "")
    framework = _framework(state, seg, group_ids)
    return IntegrationResult(
        integrated=integrated,
        segment_themes=seg[["segment_id", "participant_group", "group_theme", "integrated_theme"]],
        links=pd.DataFrame(state.links, columns=["source", "target", "relation", "workshop"]),
        audit=pd.DataFrame(state.audit, columns=["workshop", "index", "action", "inputs", "outputs", "rationale"]),
        framework=framework, definition=definition, definition_elements=elements, state=state,
    )


def _best_quote(state: Integration, seg: pd.DataFrame, tid: str, group: str) -> str:
    members = seg[(seg["integrated_theme"] == tid) & (seg["participant_group"] == group)]
    if members.empty:
        return ""
    rows = [state.row_of[s] for s in members["segment_id"]]
    emb = state.embeddings[rows]
    centroid = emb.mean(axis=0)
    readable = members["n_words"].between(12, 70).to_numpy()
    best = members.iloc[int(np.argmax(emb @ centroid + 0.5 * readable))]
    return f"“{best.text}” ({best.speaker}, {best.focus_group})"


def _framework(state: Integration, seg: pd.DataFrame, group_ids: list[str]) -> pd.DataFrame:
    rows = []
    for tid in sorted(state.integrated):
        th = state.integrated[tid]
        if th.dropped or not (th.attribute or th.behaviours):
            continue
        quotes = {f"quote_{g}": _best_quote(state, seg, tid, g) for g in group_ids}
        for behaviour in th.behaviours or [""]:
            rows.append({"theme_id": tid, "label": th.label, "attribute": th.attribute, "behaviour": behaviour,
                         "description": th.description, **quotes})
    columns = ["theme_id", "label", "attribute", "behaviour", "description"] + [f"quote_{g}" for g in group_ids]
    return pd.DataFrame(rows, columns=columns)


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
h1 { font-size: 17pt; margin-bottom: 2pt; } h2 { font-size: 13pt; margin-top: 16pt; }
.meta { color: #555; margin-bottom: 10pt; }
.row { display: flex; gap: 6pt; break-inside: avoid; page-break-inside: avoid; margin-bottom: 8pt; }
.card { flex: 1; border: 1px solid #999; border-top: 6px solid var(--c); border-radius: 4px; padding: 6pt 8pt; break-inside: avoid; }
.card h3 { font-size: 11pt; margin: 0 0 3pt 0; } .card .kw { color: #555; font-size: 9pt; margin-bottom: 4pt; }
.card blockquote { margin: 3pt 0; padding-left: 6pt; border-left: 2px solid #ccc; font-size: 9.5pt; }
.share { font-size: 9pt; color: #333; } .status { font-size: 8.5pt; text-transform: uppercase; color: #777; }
.note { background: #f3f3f3; padding: 6pt; border-radius: 4px; font-size: 9.5pt; }
"""


def _quotes_of(group_themes: pd.DataFrame, theme: str, n: int = 5) -> list[str]:
    """Quotes of a group theme; a part made by ``split`` shows its parent's quotes."""
    base = theme.split(".")[0] if re.search(r"\.\d+$", theme) else theme
    return quotes_of(group_themes.loc[base])[:n] if base in group_themes.index else []


def workshop_pack(title: str, subtitle: str, candidate_sets: list[list[str]], state: Integration,
                  palette: dict[str, str], group_labels: dict[str, str]) -> str:
    """One printable page of theme cards; each row holds themes to discuss together."""
    gt = state.group_themes
    totals = {g: sum(1 for s, t in state.segment_theme.items() if state.group_of.get(t) == g) for g in group_labels}
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{_PACK_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1><div class='meta'>{html.escape(subtitle)}</div>",
             "<div class='note'>Each row shows themes from different participant groups that may belong together. "
             "Quotes are pseudonymised. Share = the theme's part of that group's participant talk (segments). "
             "Decide together: merge, rename, split, drop, define, link, or place in the framework.</div>"]
    for k, themes in enumerate(candidate_sets, start=1):
        parts.append(f"<h2>Discussion {k}</h2><div class='row'>")
        for t in themes:
            group = state.group_of.get(t, "")
            size = state._size(t)
            share = size / totals[group] if totals.get(group) else 0
            quotes = "".join(f"<blockquote>{html.escape(q)}</blockquote>" for q in _quotes_of(gt, t)[:5])
            parts.append(
                f"<div class='card' style='--c:{palette.get(group, '#888')}'>"
                f"<div class='status'>{html.escape(group_labels.get(group, group))} · {html.escape(t)}</div>"
                f"<h3>{html.escape(state.labels.get(t, t))}</h3>"
                f"<div class='kw'>{html.escape(', '.join(state.keywords.get(t, [])[:8]))}</div>"
                f"<div class='share'>{size} segments · {share:.0%} of this group's talk</div>{quotes}</div>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "".join(parts)


def workshop_packs(group_themes, assignments, segments, embeddings, workshops: list[Workshop], group_ids,
                   palette, group_labels, study_title: str, proposal_threshold: float = 0.55) -> dict[str, str]:
    """A pack for each workshop, built from the state just before it; with no workshop files,
    one pack for the first workshop built from the proposals."""
    packs = {}
    state = Integration(group_themes, assignments, embeddings, segments)
    for w in [*workshops, None]:
        proposals = state.propose(proposal_threshold)
        # themes already integrated are also on the table: one row per integrated theme
        rows = [list(th.sources) for th in state.integrated.values() if not th.dropped] + proposals
        name = w.name if w else f"workshop_{len(workshops) + 1}"
        if w is None and workshops:
            break
        subtitle = (f"{w.date} · " if w and w.date else "") + (
            "Decisions recorded in " + w.path.name if w else "Proposed alignment: no decisions recorded yet")
        packs[name] = workshop_pack(f"{study_title} — {w.title if w else 'Workshop 1 (proposed)'}", subtitle,
                                    rows, state, palette, group_labels)
        if w is not None:
            state.apply(w)
    return packs


def write_workshop_packs(folder: Path, packs: dict[str, str]) -> list[Path]:
    """Write each pack as ``<folder>/<name>.html`` (atomically); return the paths."""
    from ._io import write_text_atomic

    return [write_text_atomic(Path(folder) / f"{name}.html", page) for name, page in sorted(packs.items())]
