"""Workshop decision files: reading them, checking what their decisions point at, and
updating them after a rerun (``make rebase-workshops``).

A workshop decides on the group themes it saw. Those themes are named by id
(``radiographers:T02``), which is a handle for one run, and pinned by fingerprint in the
file's ``based_on:`` block; the members of each pinned theme are kept in the snapshot
file named under ``snapshot:`` (one row per member segment). When the analysis is rerun
and a pinned theme's members change, its successor is the current theme of the same
participant group that shares **more than half** of the combined members (Jaccard
overlap > 0.5). At most one theme can do that, because a group's themes do not share
segments, so "more than half" is also "the one clear successor". Anything less stops
the run: a decision is never applied to content the workshop did not see.

The file format is described in docs/workshop_files.md.
"""

from __future__ import annotations

import difflib
import re
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ._io import UserError, read_yaml, write_csv_atomic, write_text_atomic
from .identity import KeptNumber, change_summary, fingerprint, jaccard, translate_legacy_ids

#: A successor must share more than this share of the combined members (Jaccard).
CARRY_OVER_OVERLAP = 0.5
#: A group theme id as it appears in a decision: group, ':T', digits, optional split part.
GROUP_THEME_ID = re.compile(r"(?<![\w:.])([A-Za-z][\w-]*:T\d+)((?:\.\d+)*)(?!\w)")
SNAPSHOT_COLUMNS = ["theme_id", "fingerprint", "segment_id"]
#: Written since segment ids are by content: how many themes the theme's participant group
#: had when the workshop saw it (reruns keep that number, helpers.identity.n_themes_to_keep).
SNAPSHOT_N_THEMES = "n_themes"
#: Decision keys whose values name themes.
THEME_KEYS = ("themes", "theme", "from", "to", "source", "target")


class WorkshopError(UserError):
    """A workshop file or decision cannot be applied; the message names the file and the decision."""


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
    based_on: dict[str, str] = field(default_factory=dict)
    snapshot: Path | None = None

    @property
    def name(self) -> str:
        return f"workshop_{self.number}"


# --------------------------------------------------------------------------- reading

def load_workshop(path: Path, number: int) -> Workshop:
    """Read one workshop file; ``number`` is used when the file does not say ``workshop:``."""
    path = Path(path)
    raw = read_yaml(path, WorkshopError, "workshop file")
    if raw is None:
        raise WorkshopError(f"{path}: the file is empty (or only comments), so it records no workshop; write the "
                            "workshop's decisions in it (start from the template in workshop_packs/, see "
                            "docs/workshop_files.md) or remove it from the study's 'workshops:'.")
    if not isinstance(raw, dict) or not isinstance(raw.get("decisions", []), list):
        raise WorkshopError(f"{path}: expected a mapping with a list under 'decisions:'; see docs/workshop_files.md.")
    declared = raw.get("workshop", number)
    if isinstance(declared, str) and declared.strip().isdigit():
        declared = int(declared)  # 'workshop: "1"' means workshop 1
    if isinstance(declared, bool) or not isinstance(declared, int) or declared < 1:
        raise WorkshopError(f"{path}: 'workshop:' is {declared!r}, which is not a workshop number; write a whole "
                            "number such as 'workshop: 1'.")
    based_on = raw.get("based_on") or {}
    if isinstance(based_on, dict):
        # An unquoted all-digit fingerprint reads as a number; its digits are still the fingerprint.
        based_on = {k: f"{v:08d}" if isinstance(v, int) and not isinstance(v, bool) else v for k, v in based_on.items()}
    if not isinstance(based_on, dict) or not all(isinstance(v, str) and re.fullmatch(r"[0-9a-f]{8}", v)
                                                 for v in based_on.values()):
        raise WorkshopError(f"{path}: 'based_on:' should map theme ids to 8-character fingerprints in quotes "
                            "(e.g. 'radiographers:T02: \"3f9a1c2e\"'); copy the lines from the workshop pack.")
    # A missing snapshot matters only when a pinned theme changed (resolve_themes says so).
    snapshot = path.parent / str(raw["snapshot"]) if raw.get("snapshot") else None
    return Workshop(path=path, number=declared, title=str(raw.get("title", f"Workshop {declared}")),
                    date=str(raw.get("date", "") or ""), attendees=dict(raw.get("attendees") or {}),
                    decisions=list(raw.get("decisions") or []), definition=str(raw.get("definition") or "").strip(),
                    illustrative=bool(raw.get("illustrative", False)),
                    based_on={str(k): v for k, v in based_on.items()}, snapshot=snapshot or None)


def load_workshops(paths: list[Path]) -> list[Workshop]:
    """Read the study's workshop files in order; two files may not share a number."""
    workshops = [load_workshop(p, i) for i, p in enumerate(paths, start=1)]
    seen: dict[int, Path] = {}
    for w in workshops:
        if w.number in seen:
            raise WorkshopError(f"{w.path}: says 'workshop: {w.number}', as {seen[w.number]} does; give each "
                                "workshop its own number.")
        seen[w.number] = w.path
    return workshops


def read_snapshot(path: Path) -> dict[str, set[str]]:
    """The members of each theme a workshop saw: theme id -> segment ids."""
    table = pd.read_csv(path, dtype=str)
    missing = set(SNAPSHOT_COLUMNS) - set(table.columns)
    if missing:
        raise WorkshopError(f"{path}: a snapshot needs the columns {', '.join(SNAPSHOT_COLUMNS)} "
                            f"(missing {', '.join(sorted(missing))}); use the file the workshop pack came with.")
    return {tid: set(rows["segment_id"]) for tid, rows in table.groupby("theme_id")}


def snapshot_table(members: dict[str, set[str]], theme_ids) -> pd.DataFrame:
    """Rows of a snapshot file for ``theme_ids``: one per member segment, with the number
    of themes its participant group has in ``members`` (this run)."""
    group_k = pd.Series([t.split(":")[0] for t in members]).value_counts().to_dict()
    rows = [{"theme_id": t, "fingerprint": fingerprint(members[t]), "segment_id": s,
             SNAPSHOT_N_THEMES: int(group_k[t.split(":")[0]])}
            for t in sorted(theme_ids) for s in sorted(members[t])]
    return pd.DataFrame(rows, columns=[*SNAPSHOT_COLUMNS, SNAPSHOT_N_THEMES])


def snapshot_themes(members: dict[str, set[str]], pinned) -> list[str]:
    """The themes a snapshot holds: every theme of each participant group with a theme in
    ``pinned`` (the pinned ones are checked by fingerprint; the others let a rerun keep the
    group's themes as the workshop saw them)."""
    groups = {t.split(":")[0] for t in pinned}
    return sorted(t for t in members if t.split(":")[0] in groups)


# --------------------------------------------------------------------------- theme ids

def theme_members(assignments: pd.DataFrame) -> dict[str, set[str]]:
    """This run's group themes: theme id -> member segment ids (primary theme)."""
    table = assignments[assignments["theme_id"].astype(str) != ""]
    return {str(t): set(rows["segment_id"].astype(str)) for t, rows in table.groupby("theme_id")}


def named_group_themes(decision) -> list[str]:
    """The group theme ids (without split parts) a decision names, in order."""
    if not isinstance(decision, dict):
        return []
    names = []
    for key in THEME_KEYS:
        value = decision.get(key)
        for v in value if isinstance(value, list) else [value]:
            match = GROUP_THEME_ID.fullmatch(str(v)) if v is not None else None
            if match and match.group(1) not in names:
                names.append(match.group(1))
    return names


def rename_in_decision(decision, mapping: dict[str, str]):
    """A copy of ``decision`` whose group theme ids (and their split parts) follow ``mapping``."""
    if not isinstance(decision, dict) or not mapping:
        return decision

    def rename(v):
        match = GROUP_THEME_ID.fullmatch(str(v)) if isinstance(v, str) else None
        return mapping.get(match.group(1), match.group(1)) + match.group(2) if match else v

    copy = dict(decision)
    for key in THEME_KEYS:
        if key in copy:
            copy[key] = [rename(v) for v in copy[key]] if isinstance(copy[key], list) else rename(copy[key])
    return copy


@dataclass
class Resolution:
    """How one workshop file's theme ids map onto this run's themes."""

    mapping: dict[str, str] = field(default_factory=dict)   # id in the file -> id in this run
    notes: dict[str, str] = field(default_factory=dict)     # id in the file -> what the check found
    unresolved: dict[str, str] = field(default_factory=dict)  # id in the file -> why not (one sentence)
    changed: dict[str, float] = field(default_factory=dict)   # id in the file -> share of its members changed
    log: list[str] = field(default_factory=list)              # notes on the file as a whole


def resolve_themes(workshop: Workshop, members: dict[str, set[str]],
                   segments: pd.DataFrame | None = None) -> Resolution:
    """Check every group theme the workshop names against this run (see the module doc).
    ``segments`` (this run's segments.parquet) lets a snapshot written with position ids
    be matched by text (helpers.identity.translate_legacy_ids); the match is logged."""
    import warnings

    written = read_snapshot(workshop.snapshot) if workshop.snapshot and workshop.snapshot.is_file() else {}
    translation = translate_legacy_ids(written, segments, workshop.snapshot or workshop.path,
                                       set().union(*members.values()))
    snapshot = translation.members
    first_use = {}
    for index, decision in enumerate(workshop.decisions, start=1):
        for tid in named_group_themes(decision):
            first_use.setdefault(tid, index)
    result = Resolution()
    if translation.note:
        result.log.append(translation.note)
        warnings.warn(translation.note, stacklevel=2)
    for tid in [*first_use, *(t for t in workshop.based_on if t not in first_use)]:
        where = f"{workshop.path}, decision {first_use[tid]}" if tid in first_use else f"{workshop.path}, based_on"
        pinned = workshop.based_on.get(tid)
        if pinned is None:
            result.mapping[tid] = tid
            result.notes[tid] = f"unchecked: {tid} has no fingerprint in based_on"
            continue
        current = fingerprint(members[tid]) if tid in members else None
        if current == pinned:
            result.mapping[tid] = tid
            result.notes[tid] = f"checked: {tid} ({pinned}) unchanged"
            result.changed[tid] = 0.0
            continue
        seen = snapshot.get(tid)
        now = f"now {current}" if current else "no longer in group_themes.csv"
        if seen is None or fingerprint(written[tid]) != pinned:
            result.unresolved[tid] = (
                f"{where}: the theme {tid} the workshop saw (fingerprint {pinned}) has changed ({now}) and no "
                "snapshot of its members came with the file, so its successor cannot be found; copy the "
                "snapshot file from the workshop pack beside the workshop file and name it under 'snapshot:', "
                "or check the theme by hand and update its id and fingerprint.")
            continue
        group = tid.split(":")[0]
        candidates = sorted(((jaccard(seen, m), t) for t, m in members.items() if t.split(":")[0] == group),
                            key=lambda c: (-c[0], c[1]))
        if candidates and candidates[0][0] == 1.0 and written[tid] != seen:
            successor = candidates[0][1]
            result.mapping[tid] = successor
            result.notes[tid] = (f"checked: {tid} ({pinned}) unchanged, its position ids matched by text"
                                 + (f" (now {successor})" if successor != tid else ""))
            result.changed[tid] = 0.0
            continue
        if candidates and candidates[0][0] > CARRY_OVER_OVERLAP:
            overlap, successor = candidates[0]
            result.mapping[tid] = successor
            result.notes[tid] = (f"carried over from {tid} (fingerprint {pinned}) to {successor} "
                                 f"({fingerprint(members[successor])}), overlap {overlap:.2f}: "
                                 f"{change_summary(seen, members[successor])}")
            result.changed[tid] = round(1 - overlap, 4)
            continue
        best = ", ".join(f"{t} (overlap {o:.2f})" for o, t in candidates[:3]) or "none"
        result.unresolved[tid] = (
            f"{where}: the theme {tid} the workshop saw (fingerprint {pinned}) has changed ({now}) and no "
            f"current theme holds more than half of its members (best: {best}); decide with the workshop's "
            "record which theme the decision meant, then update its id and fingerprint (make rebase-workshops "
            "lists the candidates).")
    taken: dict[str, str] = {}
    for old, new in result.mapping.items():
        if new in taken and old not in result.unresolved:
            result.unresolved[old] = (f"{workshop.path}: {old} and {taken[new]} would both carry over to {new}; "
                                      "decide which one the workshop meant and update the other's id by hand.")
        taken.setdefault(new, old)
    return result


def resolved_decisions(workshop: Workshop, members: dict[str, set[str]],
                       segments: pd.DataFrame | None = None) -> tuple[list, Resolution]:
    """The workshop's decisions with ids carried over to this run, and the checks made.
    Stops with the first theme that cannot be resolved."""
    resolution = resolve_themes(workshop, members, segments)
    if resolution.unresolved:
        raise WorkshopError(next(iter(resolution.unresolved.values())))
    return [rename_in_decision(d, resolution.mapping) for d in workshop.decisions], resolution


# --------------------------------------------------------------------------- the next workshop

def decision_template(number: int, group_ids: list[str], group_themes: pd.DataFrame,
                      members: dict[str, set[str]], theme_ids: list[str], snapshot_name: str) -> str:
    """A ready-to-fill workshop file for the next workshop: the themes on the table pinned
    by fingerprint, with their labels as comments."""
    labels = group_themes.set_index("theme_id")["label"].astype(str).to_dict() if len(group_themes) else {}
    lines = [f"# Decisions of workshop {number}: fill in during or after the workshop (docs/workshop_files.md).",
             f"workshop: {number}", f'title: "Workshop {number}"', "date:            # YYYY-MM-DD",
             "attendees: {" + ", ".join(f"{g}: 0" for g in group_ids) + "}",
             f"snapshot: {snapshot_name}   # members of the themes below, as the workshop saw them",
             "based_on:"]
    lines += [f'  {t}: "{fingerprint(members[t])}"   # {labels.get(t, "")}' for t in theme_ids if t in members]
    lines += ["decisions: []", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- rebase

@dataclass
class Rebase:
    path: Path
    new_text: str
    snapshot: pd.DataFrame | None
    changes: list[str]
    left: list[str]


def rebase_workshop(workshop: Workshop, members: dict[str, set[str]],
                    segments: pd.DataFrame | None = None) -> Rebase:
    """The workshop file rewritten for this run: ids and fingerprints of themes with one
    clear successor updated, everything else (comments, order, wording) kept. A snapshot
    that is out of date (position ids, or no ``n_themes`` column) is written anew.

    A file with a theme no current theme succeeds is left exactly as it is: rewriting the
    others would mix two runs' ids in one file (a successor may take the very id the
    undecided theme still holds), so a person decides that theme first."""
    resolution = resolve_themes(workshop, members, segments)
    if resolution.unresolved:
        return Rebase(workshop.path, workshop.path.read_text(encoding="utf-8"), None, [],
                      list(resolution.unresolved.values()))
    moves = {old: new for old, new in resolution.mapping.items() if old != new and old not in resolution.unresolved}
    text = workshop.path.read_text(encoding="utf-8")
    new_text = GROUP_THEME_ID.sub(lambda m: moves.get(m.group(1), m.group(1)) + m.group(2), text)
    pinned_now = {moves.get(old, old): fingerprint(members[moves.get(old, old)])
                  for old in workshop.based_on if old not in resolution.unresolved and moves.get(old, old) in members}

    def refresh(match):
        tid, pinned = match.group(2), match.group(4)
        if tid not in pinned_now or pinned_now[tid] == pinned:
            return match.group(0)
        return f'{match.group(1)}{tid}: "{pinned_now[tid]}"'

    new_text = re.sub(r"^(\s+)([A-Za-z][\w-]*:T\d+):\s*(['\"]?)([0-9a-f]{8})\3", refresh, new_text, flags=re.M)
    changes = [note for old, note in resolution.notes.items()
               if note.startswith("carried over") or "matched by text" in note]
    # every theme of the groups pinned: what the workshop saw of them (reruns keep it, helpers.identity)
    seen = snapshot_themes(members, pinned_now)
    snapshot = snapshot_table(members, seen) if workshop.snapshot is not None and pinned_now else None
    if snapshot is not None and workshop.snapshot.is_file() and new_text == text:
        written = pd.read_csv(workshop.snapshot, dtype=str)
        if (SNAPSHOT_N_THEMES in written.columns and not resolution.log
                and set(written["theme_id"]) == set(seen) and len(written) == len(snapshot)):
            snapshot = None  # up to date: nothing to rewrite
    return Rebase(workshop.path, new_text, snapshot, changes, list(resolution.unresolved.values()))


def rebase_study(study, output_dir: Path, out=sys.stdout) -> int:
    """``make rebase-workshops``: rewrite the study's workshop files for the current run.
    Shows each change as a diff, keeps the originals under ``<output_dir>/workshops_before_rebase/``,
    and returns the number of themes left for a person to decide."""
    assignments = pd.read_parquet(Path(output_dir) / "theme_assignments.parquet")
    segments_path = Path(output_dir) / "segments.parquet"
    segments = pd.read_parquet(segments_path) if segments_path.exists() else None
    members = theme_members(assignments)
    backup = Path(output_dir) / "workshops_before_rebase"
    left = 0
    for workshop in load_workshops(list(study.workshops)):
        plan = rebase_workshop(workshop, members, segments)
        old_text = workshop.path.read_text(encoding="utf-8")
        for line in plan.left:
            print(f"✗ left for a person: {line}", file=out)
        left += len(plan.left)
        if plan.left:
            print(f"= {workshop.path}: left as it is until the theme(s) above are decided", file=out)
            continue
        if plan.new_text == old_text and plan.snapshot is None:
            print(f"= {workshop.path}: nothing to change", file=out)
            continue
        out.writelines(difflib.unified_diff(old_text.splitlines(True), plan.new_text.splitlines(True),
                                            str(workshop.path), f"{workshop.path} (rebased)"))
        backup.mkdir(parents=True, exist_ok=True)
        shutil.copy2(workshop.path, backup / workshop.path.name)
        write_text_atomic(workshop.path, plan.new_text)
        if plan.snapshot is not None:
            if workshop.snapshot.is_file():
                shutil.copy2(workshop.snapshot, backup / workshop.snapshot.name)
            write_csv_atomic(plan.snapshot, workshop.snapshot)
        for change in plan.changes:
            print(f"✓ {workshop.path.name}: {change}", file=out)
    if left:
        print(f"{left} theme(s) need a person's decision (above); their workshop files were not changed, "
              "the other files were rebased.", file=out)
    return left


def main(argv: list[str] | None = None) -> int:
    from .study import load_study

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] != ["rebase"] or len(argv) != 3:
        print("usage: python -m helpers.workshop_files rebase STUDY OUTPUT_DIR", file=sys.stderr)
        return 2
    study, output_dir = load_study(argv[1]), Path(argv[2])
    if not (output_dir / "theme_assignments.parquet").exists():
        print(f"{output_dir / 'theme_assignments.parquet'} does not exist yet; run `make all` (at least stage 04) "
              "first.", file=sys.stderr)
        return 2
    try:
        return 1 if rebase_study(study, output_dir) else 0
    except UserError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())


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


def workshop_anchors(workshops, segments: pd.DataFrame, kept: Mapping[str, KeptNumber]) -> dict[str, str]:
    """Segment id -> the workshop theme it was in (``radiographers:T04@8ad96bd3``), for the
    groups whose number of themes is kept from a workshop (not those an explicit
    ``n_themes`` refits): what :func:`helpers.themes.anchored_topics` keeps. Read from the
    workshops' snapshots, which hold every theme of a group the workshop pinned a theme of
    (position ids matched by text); a theme pinned in ``based_on`` counts only when the
    snapshot agrees with its fingerprint. A later workshop's snapshot wins for a segment
    two workshops saw."""
    keep = {g for g, why in kept.items() if not why.explicit}
    current = set(segments["segment_id"])
    anchors: dict[str, str] = {}
    for w in workshops:
        if w.snapshot is None or not Path(w.snapshot).is_file():
            continue
        written = read_snapshot(Path(w.snapshot))
        members = translate_legacy_ids(written, segments, w.snapshot, current).members
        for tid, ids in written.items():
            seen = fingerprint(ids)
            if tid.split(":")[0] in keep and w.based_on.get(tid, seen) == seen:
                anchors.update({s: f"{tid}@{seen}" for s in members[tid] if s in current})
    return anchors
