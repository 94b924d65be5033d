"""Co-production workshops: from independent analyses to integrated themes (stage 5).

In the study, three workshops brought radiographers, patients and carers, and students
together to synthesise the three independently analysed data sets, so that the final
themes represent every group equally. Here each workshop is a YAML file of ordered
decisions, applied in study.yml order, every one logged in an audit trail.

:func:`integrate` replays them (:mod:`helpers.decisions` says what each action does to
the state in :mod:`helpers.integration`), proposes integration for the group themes no
decision has placed, and returns the tables notebook 05 writes: the integrated themes
with their balance across groups, the links, the audit trail, the framework with a
supporting quote per group for each behaviour, the parts of split themes and the
co-produced definition. The printable packs for each workshop are :mod:`helpers.packs`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ._io import cell_flag, cell_text
# Notebook 05, the tests and the benchmarks take the stage's names from here (noqa: re-exported).
from .balance import balance_flags, balance_index, dominance_threshold, group_shares  # noqa: F401
from .decisions import apply_workshop
from .integration import AUDIT_COLUMNS, PROPOSAL_THRESHOLD, Integration, IntegrationResult
from .packs import next_workshop_files, workshop_packs, write_workshop_packs  # noqa: F401
from .themes.stop_words import BEHAVIOUR_QUOTE_STOP_WORDS
from .workshop_files import Workshop, WorkshopError, load_workshop, load_workshops, theme_members  # noqa: F401


def workshop_table(workshops: list[Workshop]) -> pd.DataFrame:
    """The workshops to apply, one row each (empty when the study has none yet)."""
    return pd.DataFrame([{"workshop": w.name, "title": w.title, "date": w.date, "decisions": len(w.decisions),
                          "attendees": ", ".join(f"{g}: {n}" for g, n in w.attendees.items()),
                          "themes pinned": len(w.based_on), "illustrative": w.illustrative, "file": str(w.path)}
                         for w in workshops],
                        columns=["workshop", "title", "date", "decisions", "attendees", "themes pinned",
                                 "illustrative", "file"])


# --------------------------------------------------------------------------- tables

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
        apply_workshop(state, w, members)
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
