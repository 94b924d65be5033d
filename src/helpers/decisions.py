"""What each workshop decision does to the integration state (stage 5).

A workshop file (``docs/workshop_files.md``) is a list of ordered decisions; each one's
``action`` names its handler here, which checks what the decision names against the
state so far (one sentence naming the file, the decision and the fix when it does not
fit) and changes the state, logging the decision in the audit trail:

``merge``   group themes (or integrated themes) into one integrated theme
``rename``  give an integrated theme the name the workshop agreed
``split``   divide a group theme by seed keywords or seed quotes
``drop``    set a theme aside, with the rationale
``define``  describe an integrated theme and add elements to the definition
``link``    relate two integrated themes (part of, leads to, in tension with)
``assign``  place an integrated theme in the conceptual framework
"""

from __future__ import annotations

import re

import numpy as np

from .identity import LEGACY_SEGMENT_ID, SEGMENT_ID
from .integration import INTEGRATED_ID, IntegratedTheme, Integration
from .workshop_files import Decision, Resolution, Workshop, WorkshopError, named_group_themes, resolved_decisions

RELATIONS = ("part of", "leads to", "in tension with")
#: Taylor et al. (2017): the five defining attributes of compassion.
ATTRIBUTES = ("recognition", "connection", "altruistic desire", "humanistic response", "action")
#: A segment id (``FG03-morag-1c9e20b4``, or the older ``FG03-t012-s1``): a split seed that
#: names a quote rather than a keyword.
GROUP_SEGMENT_ID = re.compile(f"{SEGMENT_ID.pattern}|{LEGACY_SEGMENT_ID.pattern}")


def apply_workshop(state: Integration, workshop: Workshop, members: dict[str, set[str]]) -> Resolution:
    """Apply a workshop's decisions in order, after checking the themes they name
    against this run (carried over to successors where the content moved)."""
    decisions, resolution = resolved_decisions(workshop, members, state.segments)
    for index, fields in enumerate(decisions, start=1):
        action = fields.get("action") if isinstance(fields, dict) else fields
        if action not in HANDLERS:
            raise WorkshopError(f"{workshop.path}, decision {index}: has action '{action}'; use one of: "
                                f"{', '.join(ACTIONS)}.")
        themes = named_group_themes(workshop.decisions[index - 1])
        named = [resolution.notes[t] for t in themes if t in resolution.notes]
        changed = [resolution.changed[t] for t in themes if t in resolution.changed]
        HANDLERS[action](state, Decision(workshop, index, fields, "; ".join(named),
                                         max(changed) if changed else None))
    if workshop.definition:
        state.definition, state.definition_source = workshop.definition, workshop.name
    return resolution


def merge(state: Integration, d: Decision) -> None:
    """Put group themes (and integrated themes) into one integrated theme: ``into`` if
    given (created, or extended when it exists), otherwise the next free id. Integrated
    themes merged into another are retired. A label that differs from the target's
    current one is logged as a relabel."""
    themes = [str(t) for t in d.get("themes", list)]
    target = str(d.fields.get("into") or "")
    if target and not INTEGRATED_ID.match(target):
        raise d.error(f"'into: {target}' is not an integrated theme id", "use I01, I02, …")
    if target and all(t == target for t in themes):
        raise d.error(f"merges '{target}' into itself", "name at least one other theme under 'themes:', or remove "
                      "the decision")
    sources, absorbed = [], []
    for t in themes:
        if INTEGRATED_ID.match(t):
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
    if INTEGRATED_ID.match(tid):
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
    if INTEGRATED_ID.match(tid):
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
