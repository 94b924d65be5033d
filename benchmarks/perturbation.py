"""Do the workshop's decisions survive ordinary corrections to the transcripts?

``make perturbation`` applies small edits to the bundled study's transcripts, one at a
time, each to a fresh copy, and reruns stages 03–05 on it, in this one process (the calls
notebooks 03, 04 and 05 make, as benchmarks/one_process.py runs the notebooks' code; the
quality table, maps, packs and board do not decide what carries over and are left out):

* **merge** — a participant turn loses its speaker label and is read as the end of the
  turn before it;
* **split** — a participant turn of two or more sentences is cut in two at a sentence
  boundary (the same speaker twice, as when a transcriber marks an interruption);
* **delete** — a participant turn is removed;
* **correct** — one word of a participant turn is corrected (a plural ``s`` added or
  removed, as when a misheard word is fixed).

Edits are drawn with one seed: kind in turn, then focus group, then turn (and sentence or
word). They are applied to the turns as stage 01 reads them (``utterances.parquet``), with
the turns renumbered as a reader would, so every transcript format is edited the same way.
Then one new focus group (benchmarks/perturbation/FG12_patients_carers.txt, a fourth
synthetic patients-and-carers group) is added to the study and the stages rerun from 01.

For each run: segment ids that changed, whether notebook 05 applied every bundled decision,
how many decisions carried over (every group theme they name resolved to the same content
or a clear successor, and every integrated theme they use was built by decisions that
carried), the smallest member overlap of a carried theme, and the number-of-themes notes.
Writes its section of benchmarks/validity.md (between the perturbation markers; the rest of
the file is left as `make validity` wrote it).

    python benchmarks/perturbation.py [--edits 24] [--seed 20200] [--work outputs/_perturbation]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "data" / "study.yml"
NEW_GROUP = Path(__file__).resolve().parent / "perturbation" / "FG12_patients_carers.txt"
KINDS = ("merge", "split", "delete", "correct")
BEGIN, END = "<!-- perturbation: begin -->", "<!-- perturbation: end -->"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"\b[A-Za-z]{4,}\b")


# --------------------------------------------------------------------------- stages 03-05

@dataclass
class Run:
    """What notebooks 03-05 compute that the carry-over depends on."""

    segments: pd.DataFrame
    themes: object            # helpers.themes.GroupThemes
    theme_counts: pd.DataFrame
    stop: str = ""            # the one sentence notebook 05 stopped with (empty: every decision applied)


def rerun(study, utterances: pd.DataFrame, cache_dir: Path, seed: int) -> Run:
    """The calls notebooks 03, 04 and 05 make, in this process: segments and embeddings
    (new texts only: the cache holds the rest), each group's themes with the number its
    workshop saw, the workshops' decisions. The quality table, maps, packs and board of
    those notebooks do not decide what carries over and are left out."""
    from helpers import coproduction, embeddings, identity, themes, workshop_files

    segments = embeddings.make_segments(utterances)
    vectors = embeddings.EmbeddingCache(cache_dir).embed(segments["text"].tolist(),
                                                         groups=segments["participant_group"].tolist())
    workshops = workshop_files.load_workshops(list(study.workshops))
    kept = identity.n_themes_to_keep(workshops, None, study.group_ids)
    settings = themes.ThemeSettings(seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # old-style snapshot ids: none in the bundled files
        anchors = workshop_files.workshop_anchors(workshops, segments, kept)
    result = themes.analyse_groups(segments, vectors, study.group_ids, settings,
                                   n_themes=identity.numbers_of_themes(kept), anchors=anchors)
    counts = identity.k_table(themes.choice_of_k(result.fits), kept, result.themes)
    run = Run(segments, result, counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            coproduction.integrate(result.themes, result.assignments, segments, vectors, workshops, study.group_ids)
        except coproduction.WorkshopError as exc:
            run.stop = str(exc)
    return run


# --------------------------------------------------------------------------- edits

@dataclass
class Edit:
    kind: str
    focus_group: str
    turn: int
    what: str


def participant_rows(utterances: pd.DataFrame, focus_group: str) -> np.ndarray:
    rows = utterances.index[(utterances["focus_group"] == focus_group) & (utterances["role"] == "participant")]
    return np.asarray(rows)


def draw_edit(utterances: pd.DataFrame, kind: str, rng: np.random.Generator) -> tuple[pd.DataFrame, Edit]:
    """One edit of ``kind`` at a seeded place; returns the edited turns (renumbered)."""
    groups = sorted(utterances["focus_group"].unique())
    while True:
        fg = groups[int(rng.integers(len(groups)))]
        rows = participant_rows(utterances, fg)
        if kind == "merge":  # a turn with a turn before it in the same focus group
            rows = [r for r in rows if r - 1 in utterances.index and utterances.at[r - 1, "focus_group"] == fg]
        elif kind == "split":
            rows = [r for r in rows if len(_SENTENCE_END.split(utterances.at[r, "text"].strip())) >= 2]
        elif kind == "correct":
            rows = [r for r in rows if _WORD.search(utterances.at[r, "text"])]
        if len(rows):
            break
    r = int(rows[int(rng.integers(len(rows)))])
    table = utterances.copy()
    text, turn = table.at[r, "text"], int(table.at[r, "turn"])
    if kind == "merge":
        table.at[r - 1, "text"] = table.at[r - 1, "text"].rstrip() + " " + text.lstrip()
        table = table.drop(index=r)
        what = f"{table.at[r - 1, 'speaker']}'s turn {turn - 1} absorbs turn {turn}"
    elif kind == "split":
        sentences = _SENTENCE_END.split(text.strip())
        cut = int(rng.integers(1, len(sentences)))
        first, second = " ".join(sentences[:cut]), " ".join(sentences[cut:])
        table.at[r, "text"] = first
        table = pd.concat([table.loc[:r], table.loc[[r]].assign(text=second), table.loc[r + 1:]])
        what = f"turn {turn} cut after sentence {cut} of {len(sentences)}"
    elif kind == "delete":
        table = table.drop(index=r)
        what = f"{utterances.at[r, 'speaker']}'s turn {turn} removed ({len(text.split())} words)"
    else:
        words = list(_WORD.finditer(text))
        word = words[int(rng.integers(len(words)))]
        fixed = word.group(0)[:-1] if word.group(0).endswith("s") else word.group(0) + "s"
        table.at[r, "text"] = text[:word.start()] + fixed + text[word.end():]
        what = f"turn {turn}: '{word.group(0)}' → '{fixed}'"
    table = table.reset_index(drop=True)
    mask = table["focus_group"] == fg
    table.loc[mask, "turn"] = np.arange(1, int(mask.sum()) + 1)
    return table, Edit(kind, fg, turn, what)


# --------------------------------------------------------------------------- what carried

@dataclass
class Outcome:
    label: str
    ids_changed: int = 0
    decisions: int = 0
    carried: int = 0
    completed: bool = False
    stop: str = ""
    min_overlap: float = 1.0
    themes_changed: int = 0
    k_notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def carried_decisions(run: Run, study) -> tuple[int, int, float, int]:
    """(decisions, decisions that carry over, smallest overlap of a carried theme, themes
    whose members changed), from this run's themes and the study's workshop files."""
    from helpers.workshop_files import load_workshops, named_group_themes, resolve_themes, theme_members

    members = theme_members(run.themes.assignments)
    total = carried = changed = 0
    smallest = 1.0
    broken: set[str] = set()
    for workshop in load_workshops(list(study.workshops)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            resolution = resolve_themes(workshop, members, run.segments)
        for share in resolution.changed.values():
            smallest = min(smallest, 1 - share)
            changed += share > 0
        for decision in workshop.decisions:
            total += 1
            named = named_group_themes(decision)
            integrated = [str(v) for key in ("themes", "theme", "from", "to", "source", "target")
                          for v in (decision.get(key) if isinstance(decision.get(key), list) else [decision.get(key)])
                          if v is not None and re.fullmatch(r"I\d{2,}", str(v))]
            if not any(t in resolution.unresolved for t in named) and not broken & set(integrated):
                carried += 1
            elif decision.get("into"):
                broken.add(str(decision["into"]))
    return total, carried, smallest, changed


def measure(label: str, study, utterances: pd.DataFrame, cache_dir: Path, seed: int,
            baseline_ids: set[str] | None) -> Outcome:
    start = time.perf_counter()
    run = rerun(study, utterances, cache_dir, seed)
    outcome = Outcome(label, completed=not run.stop, stop=run.stop)
    outcome.seconds = time.perf_counter() - start
    ids = set(run.segments["segment_id"])
    outcome.ids_changed = len(ids ^ baseline_ids) if baseline_ids is not None else 0
    outcome.decisions, outcome.carried, outcome.min_overlap, outcome.themes_changed = carried_decisions(run, study)
    table = run.theme_counts
    outcome.k_notes = table.loc[table["n_themes"] != table["data_choice"], "note"].tolist()
    return outcome


def study_with_new_group(work: Path) -> Path:
    """A copy of the bundled study with the fourth patients-and-carers group added."""
    folder = work / "study_fg12"
    shutil.rmtree(folder, ignore_errors=True)
    for sub in ("transcripts", "workshops"):
        shutil.copytree(STUDY.parent / sub, folder / sub)
    shutil.copy2(NEW_GROUP, folder / "transcripts" / NEW_GROUP.name)
    doc = yaml.safe_load(STUDY.read_text(encoding="utf-8"))
    doc["name"] = "perturbation-fg12"
    doc["focus_groups"].append({"id": "FG12", "participant_group": "patients_carers",
                                "transcript": f"transcripts/{NEW_GROUP.name}", "facilitators": ["Moderator"],
                                "speakers": {"Dilys": "patient", "Gordon": "patient", "Priya": "carer",
                                             "Hannah": "patient", "Mick": "carer"}})
    (folder / "study.yml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return folder / "study.yml"


# --------------------------------------------------------------------------- report

def section(baseline: Outcome, edits: list[tuple[Edit, Outcome]], new_group: Outcome, seed: int,
            seconds: float) -> str:
    all_carried = sum(o.completed and o.carried == o.decisions for _, o in edits)
    lines = [BEGIN, "## Decisions survive corrected transcripts (perturbation benchmark)", "",
             f"Written by `make perturbation` (benchmarks/perturbation.py, seed {seed}, {seconds:.0f} s): "
             f"{len(edits)} single edits to the bundled transcripts, each on its own copy, then stages 03–05 rerun "
             "with the bundled workshop files. Segment ids are by content (helpers.identity.segment_id); each "
             "group a workshop pinned keeps the number of themes it saw (theme_counts.csv), and the segments it saw "
             "keep their theme (helpers.themes.anchored_topics).", "",
             f"* Unedited study: {baseline.carried} of {baseline.decisions} decisions applied "
             f"({'completed' if baseline.completed else 'stopped: ' + baseline.stop}).",
             f"* **Every bundled decision carried over in {all_carried} of {len(edits)} edited runs "
             f"({all_carried / len(edits):.0%}).** Smallest overlap of a carried theme with what the workshop saw: "
             f"{min(o.min_overlap for _, o in edits):.2f}.",
             f"* The number of themes the data alone would choose moved in {sum(bool(o.k_notes) for _, o in edits)} "
             f"of {len(edits)} edited runs (single edits moved it by up to "
             f"{max((abs(int(n)) for _, o in edits for n in _k_moves(o.k_notes)), default=0)}); it was kept each time.",
             f"* New focus group (FG12, a fourth patients-and-carers group, {new_group.ids_changed} new segments): "
             f"**{new_group.carried} of {new_group.decisions} decisions carried over "
             f"({new_group.carried / max(new_group.decisions, 1):.0%})**; {new_group.themes_changed} pinned themes "
             f"gained members, smallest overlap {new_group.min_overlap:.2f}; notebook 05 "
             + ("completed." if new_group.completed else f"stopped with: “{new_group.stop}”"), ""]
    if new_group.k_notes:
        lines += ["  Number of themes: " + " ".join(new_group.k_notes), ""]
    lines += ["| # | edit | focus group | where | segment ids changed | decisions carried | themes changed | "
              "smallest overlap | 05 | k kept (data would choose) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for i, (edit, o) in enumerate(edits, start=1):
        k = "; ".join(re.sub(r"\. To move on.*$", "", n) for n in o.k_notes) or "same"
        lines.append(f"| {i} | {edit.kind} | {edit.focus_group} | {edit.what} | {o.ids_changed} | "
                     f"{o.carried}/{o.decisions} | {o.themes_changed} | {o.min_overlap:.2f} | "
                     f"{'applied' if o.completed else 'stopped: ' + o.stop} | {k} |")
    lines += ["", "Segment ids changed: ids in the edited run's segments.parquet and not in the unedited run's, "
              "or the other way round (only the edited turn's segments should change). Themes changed: pinned "
              "themes whose members are not exactly those the workshop saw; smallest overlap: the lowest Jaccard "
              "overlap of such a theme with its successor (a decision carries over above 0.5).", END]
    return "\n".join(lines)


def _k_moves(notes: list[str]) -> list[int]:
    """How far each note's 'the data would now choose' is from the number kept."""
    moves = []
    for note in notes:
        match = re.search(r"the workshop saw (\d+) .*?would now choose (\d+)", note)
        if match:
            moves.append(int(match.group(2)) - int(match.group(1)))
    return moves


def write_section(path: Path, text: str) -> None:
    """Put ``text`` between the markers in ``path`` (appended when the markers are absent)."""
    from helpers._io import write_text_atomic

    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN)] + text + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + text + "\n"
    write_text_atomic(path, new)


def kept_section(path: Path) -> str:
    """The perturbation section of ``path`` as it stands (for validity.py, which rewrites the rest)."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    return old[old.index(BEGIN):old.index(END) + len(END)] if BEGIN in old and END in old else ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=24)
    parser.add_argument("--seed", type=int, default=20200)
    parser.add_argument("--work", type=Path, default=ROOT / "outputs" / "_perturbation")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "validity.md")
    args = parser.parse_args(argv)
    from helpers.study import load_study
    from helpers.transcripts import read_study_turns

    start = time.perf_counter()
    cache = args.work / "cache" / "embeddings"   # kept between benchmark runs: embeddings depend on text only
    study = load_study(STUDY)
    utterances = read_study_turns(study)
    baseline = measure("unedited", study, utterances, cache, args.seed, None)
    if not baseline.completed:
        print(f"The unedited study does not apply its own decisions: {baseline.stop}", file=sys.stderr)
        return 1
    baseline_ids = set(rerun_segments(utterances))
    rng = np.random.default_rng(args.seed)
    edits = []
    for i in range(args.edits):
        edited, edit = draw_edit(utterances, KINDS[i % len(KINDS)], rng)
        outcome = measure(edit.kind, study, edited, cache, args.seed, baseline_ids)
        edits.append((edit, outcome))
        print(f"{i + 1:2d} {edit.kind:8s} {edit.focus_group} {edit.what}: ids changed {outcome.ids_changed}, "
              f"carried {outcome.carried}/{outcome.decisions}, {'applied' if outcome.completed else outcome.stop} "
              f"({outcome.seconds:.1f} s)", flush=True)
    bigger = load_study(study_with_new_group(args.work))
    new_group = measure("new focus group", bigger, read_study_turns(bigger), cache, args.seed, baseline_ids)
    print(f"new focus group: carried {new_group.carried}/{new_group.decisions}, "
          f"{'applied' if new_group.completed else new_group.stop}", flush=True)
    text = section(baseline, edits, new_group, args.seed, time.perf_counter() - start)
    write_section(args.out, text)
    print(text)
    all_carried = all(o.completed and o.carried == o.decisions for _, o in edits)
    return 0 if all_carried and new_group.carried >= 0.9 * new_group.decisions else 1


def rerun_segments(utterances: pd.DataFrame) -> list[str]:
    from helpers.embeddings import make_segments

    return make_segments(utterances)["segment_id"].tolist()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    raise SystemExit(main())
