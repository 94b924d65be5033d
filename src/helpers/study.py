"""The study design: load and validate ``study.yml``.

``study.yml`` is the one file a researcher edits to run the compendium on their own
focus groups. Every problem found here is reported as one sentence naming the file,
the key and the fix (:class:`StudyError`), before any analysis starts.

Run as a module it prints what the Makefile needs::

    python -m helpers.study name data/study.yml      # output sub-folder name
    python -m helpers.study check data/study.yml     # validate it, one sentence per problem
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ._io import UserError, read_yaml

#: Speaker roles in the tidy turns table.
FACILITATOR = "facilitator"
PARTICIPANT = "participant"

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class StudyError(UserError):
    """study.yml is malformed; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class ParticipantGroup:
    id: str
    label: str


@dataclass(frozen=True)
class FocusGroup:
    id: str
    participant_group: str
    transcript: Path
    facilitators: tuple[str, ...]
    #: participant label -> a type recorded by the study (e.g. patient / carer)
    speaker_types: dict = field(default_factory=dict, hash=False, compare=False)
    date: str | None = None
    #: False when study.yml says ``speakers: unlisted``: labels cannot be checked, so
    #: every label that is not a facilitator is read as a participant (with a warning)
    speakers_listed: bool = True


@dataclass(frozen=True)
class Disclosure:
    #: reviewed strings that are not identifying (e.g. a pseudonym that looks like a name)
    allow: tuple[str, ...] = ()
    #: hospital, ward or unit names that would identify a site
    places: tuple[str, ...] = ()
    refuse_exports_with_disclosures: bool = True


#: The analysis settings study.yml may set under ``analysis:`` and their defaults. These
#: are the only settings that change results: ``make all`` passes each notebook the ones
#: it uses (``helpers.runs.STAGE_SETTINGS``), and reruns exactly those notebooks when
#: one changes.
ANALYSIS_DEFAULTS = {
    "seed": 20200,                 # the one seed of every random step
    "model": "default",            # sentence-embedding model: installed default or a local folder
    "max_sentences": 3,            # a segment is at most this many sentences…
    "max_words": 80,               # …or about this many words
    "max_themes": 12,              # at most this many themes per participant group
    "n_runs": 10,                  # resampled runs behind each group's stability and consensus
    "n_themes": {},                # a fixed number of themes for some groups: {group_id: k}
    "proposal_threshold": 0.55,    # similarity needed to propose aligning two groups' themes
    "cooccurrence_window": 1,      # neighbouring participant turns that count as "together"
    "cooccurrence_min_count": 3,   # draw a co-occurrence line only from this many turn pairs
    "human_codes": "",             # a .qdpx or .csv of people's codes (relative to study.yml)
}


@dataclass(frozen=True)
class Analysis:
    """The validated ``analysis:`` block (defaults for what it leaves out)."""

    seed: int = ANALYSIS_DEFAULTS["seed"]
    model: str = ANALYSIS_DEFAULTS["model"]
    max_sentences: int = ANALYSIS_DEFAULTS["max_sentences"]
    max_words: int = ANALYSIS_DEFAULTS["max_words"]
    max_themes: int = ANALYSIS_DEFAULTS["max_themes"]
    n_runs: int = ANALYSIS_DEFAULTS["n_runs"]
    #: group id -> k, as sorted pairs (a frozen dataclass holds no dict)
    n_themes_items: tuple = ()
    proposal_threshold: float = ANALYSIS_DEFAULTS["proposal_threshold"]
    cooccurrence_window: int = ANALYSIS_DEFAULTS["cooccurrence_window"]
    cooccurrence_min_count: int = ANALYSIS_DEFAULTS["cooccurrence_min_count"]
    #: resolved path of the human coding file, or "" for none
    human_codes: str = ""

    @property
    def n_themes(self) -> dict[str, int]:
        return dict(self.n_themes_items)

    def as_dict(self) -> dict:
        """Every setting by its study.yml name (what notebooks receive as parameters)."""
        return {name: getattr(self, name) for name in ANALYSIS_DEFAULTS}


@dataclass(frozen=True)
class Study:
    path: Path
    name: str
    title: str
    participant_groups: tuple[ParticipantGroup, ...]
    focus_groups: tuple[FocusGroup, ...]
    workshops: tuple[Path, ...]
    disclosure: Disclosure
    synthetic: bool = False
    #: study.yml's ``allow_paths_outside_study: true``: transcripts and workshop files
    #: may live outside the study's folder
    allow_paths_outside_study: bool = False
    analysis: Analysis = field(default_factory=Analysis)

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def group_ids(self) -> list[str]:
        return [g.id for g in self.participant_groups]

    @property
    def group_labels(self) -> dict[str, str]:
        return {g.id: g.label for g in self.participant_groups}

    def inputs(self) -> list[Path]:
        """Every file the analysis reads: study.yml, transcripts, workshop files and the
        theme snapshots they name."""
        human = [Path(self.analysis.human_codes)] if self.analysis.human_codes else []
        return [self.path, *(fg.transcript for fg in self.focus_groups), *self.workshops,
                *self.workshop_snapshots(), *human]

    def workshop_snapshots(self) -> list[Path]:
        """The member snapshots named under ``snapshot:`` in the workshop files (a file
        that cannot be read is left to notebook 05 to report)."""
        found = []
        for workshop in self.workshops:
            try:
                raw = yaml.safe_load(workshop.read_text(encoding="utf-8")) or {}
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                continue
            if isinstance(raw, dict) and raw.get("snapshot") and (workshop.parent / str(raw["snapshot"])).is_file():
                found.append(workshop.parent / str(raw["snapshot"]))
        return found


def _fail(path: Path, key: str, problem: str, fix: str) -> StudyError:
    return StudyError(f"{path}, key '{key}': {problem}; {fix}.")


def _require(mapping: dict, key: str, where: str, path: Path, kind=str):
    if key not in mapping or mapping[key] in (None, ""):
        raise _fail(path, f"{where}{key}", "is missing", f"add '{key}:' to {where.rstrip('.') or 'the top level'}")
    value = mapping[key]
    if not isinstance(value, kind):
        raise _fail(path, f"{where}{key}", f"should be a {kind.__name__}, not {type(value).__name__}",
                    "fix its value")
    return value


#: How study.yml's lists of entries with ids word their problems: an entry that is not a
#: mapping (the problem and the fix), and an id given twice (what the entry is, the fix).
_ENTRY_WORDING = {
    "participant_groups": ("should be a mapping with id and label", "write '- id: ...' and 'label: ...'",
                           "participant group", "give each group a unique id"),
    "focus_groups": ("should be a mapping", "write '- id: ...' with participant_group and transcript",
                     "focus group", "give each focus group a unique id"),
}


def _entry_id(path: Path, section: str, i: int, entry, taken: set[str]) -> str:
    """The id of entry ``i`` of the list ``section``: the entry must be a mapping, its id
    letters, digits, '-' or '_', and not one of the ids ``taken`` by the entries before it."""
    not_mapping, write, noun, unique = _ENTRY_WORDING[section]
    where = f"{section}[{i}]."
    if not isinstance(entry, dict):
        raise _fail(path, f"{section}[{i}]", not_mapping, write)
    entry_id = str(_require(entry, "id", where, path))
    if not _SAFE_ID.match(entry_id):
        raise _fail(path, f"{where}id", f"'{entry_id}' has spaces or punctuation", "use letters, digits, '-' or '_'")
    if entry_id in taken:
        raise _fail(path, f"{where}id", f"{noun} '{entry_id}' is listed twice", unique)
    return entry_id


def load_study(path: str | Path) -> Study:
    """Read and validate a study file; raise :class:`StudyError` with one sentence on any problem."""
    path = Path(path)
    if not path.is_file():
        raise StudyError(f"{path}: no such study file; pass STUDY=path/to/study.yml (the bundled one is data/study.yml).")
    raw = read_yaml(path, StudyError, "study file")
    if not isinstance(raw, dict):
        raise StudyError(f"{path}: expected a mapping with name, participant_groups and focus_groups at the top level.")

    name = str(_require(raw, "name", "", path))
    if not _SAFE_NAME.match(name):
        raise _fail(path, "name", f"'{name}' cannot be a folder name",
                    "use letters, digits, '-', '_' or '.' only (it names the output folder)")
    title = str(raw.get("title") or name)

    groups_raw = _require(raw, "participant_groups", "", path, list)
    groups: list[ParticipantGroup] = []
    for i, g in enumerate(groups_raw):
        gid = _entry_id(path, "participant_groups", i, g, {x.id for x in groups})
        groups.append(ParticipantGroup(gid, str(g.get("label") or gid)))
    known = {g.id for g in groups}

    outside_ok = raw.get("allow_paths_outside_study", False)
    if not isinstance(outside_ok, bool):
        raise _fail(path, "allow_paths_outside_study", "should be true or false", "fix its value")
    fgs_raw = _require(raw, "focus_groups", "", path, list)
    fgs: list[FocusGroup] = []
    for i, f in enumerate(fgs_raw):
        where = f"focus_groups[{i}]."
        fid = _entry_id(path, "focus_groups", i, f, {x.id for x in fgs})
        pg = str(_require(f, "participant_group", where, path))
        if pg not in known:
            raise _fail(path, f"{where}participant_group", f"'{pg}' is not one of the participant groups ({', '.join(sorted(known))})",
                        "add it under participant_groups or correct the spelling")
        transcript = _inside_study(path, f"{where}transcript", str(_require(f, "transcript", where, path)),
                                   outside_ok)
        if not transcript.is_file():
            raise _fail(path, f"{where}transcript", f"{transcript} does not exist",
                        "check the path, which is relative to the study file")
        facilitators = f.get("facilitators") or []
        if isinstance(facilitators, str):
            facilitators = [facilitators]
        if not isinstance(facilitators, list):
            raise _fail(path, f"{where}facilitators", "should be a list of speaker labels", "write facilitators: [Label, ...]")
        facilitators = tuple(_label(path, f"{where}facilitators", x) for x in facilitators)
        speaker_types, listed = _speakers(path, where, f, facilitators)
        fgs.append(FocusGroup(fid, pg, transcript, facilitators, speaker_types,
                              str(f["date"]) if f.get("date") else None, speakers_listed=listed))

    for g in groups:
        if not any(fg.participant_group == g.id for fg in fgs):
            raise _fail(path, "participant_groups", f"group '{g.id}' has no focus group",
                        "add a focus group for it or remove the group")

    workshops_raw = raw.get("workshops") or []
    if not isinstance(workshops_raw, list):
        raise _fail(path, "workshops", "should be a list of workshop files", "write '- workshops/workshop_1.yml'")
    workshops = []
    for i, w in enumerate(workshops_raw):
        wpath = _inside_study(path, f"workshops[{i}]", str(w), outside_ok)
        if not wpath.is_file():
            raise _fail(path, f"workshops[{i}]", f"{wpath} does not exist",
                        "check the path (relative to the study file) or remove the entry")
        workshops.append(wpath)

    disc = raw.get("disclosure") or {}
    if not isinstance(disc, dict):
        raise _fail(path, "disclosure", "should be a mapping", "see data/study.yml for an example")
    refuse = disc.get("refuse_exports_with_disclosures", True)
    if not isinstance(refuse, bool):
        raise _fail(path, "disclosure.refuse_exports_with_disclosures", "should be true or false", "fix its value")
    disclosure = Disclosure(
        allow=_strings(path, "disclosure.allow", disc.get("allow")),
        places=_strings(path, "disclosure.places", disc.get("places")),
        refuse_exports_with_disclosures=refuse,
    )
    analysis = _analysis(path, raw.get("analysis"), known, outside_ok)
    return Study(path=path, name=name, title=title, participant_groups=tuple(groups),
                 focus_groups=tuple(fgs), workshops=tuple(workshops), disclosure=disclosure,
                 synthetic=bool(raw.get("synthetic", False)), allow_paths_outside_study=outside_ok,
                 analysis=analysis)


def _analysis(path: Path, raw, group_ids: set[str], outside_ok: bool) -> Analysis:
    """The ``analysis:`` block, each value checked; unknown keys are refused (a misspelt
    ``max_theme`` would otherwise be ignored while the default runs)."""
    import difflib

    if raw is None:
        return Analysis()
    if not isinstance(raw, dict):
        raise _fail(path, "analysis", "should be a mapping of settings",
                    "write e.g. 'analysis:' then '  seed: 20200' on the next line")
    for key in raw:
        if key not in ANALYSIS_DEFAULTS:
            close = difflib.get_close_matches(str(key), list(ANALYSIS_DEFAULTS), n=1)
            fix = (f"did you mean '{close[0]}'? Correct it or remove it" if close
                   else f"the settings are {', '.join(ANALYSIS_DEFAULTS)}")
            raise _fail(path, f"analysis.{key}", "is not an analysis setting", fix)
    values = dict(ANALYSIS_DEFAULTS, **{k: v for k, v in raw.items() if v is not None})

    def whole(key: str, low: int) -> int:
        value = values[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise _fail(path, f"analysis.{key}", f"'{value}' is not a whole number of at least {low}",
                        f"write e.g. '{key}: {ANALYSIS_DEFAULTS[key] or low}'")
        return value

    threshold = values["proposal_threshold"]
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise _fail(path, "analysis.proposal_threshold", f"'{threshold}' is not a number from 0 to 1",
                    "write e.g. 'proposal_threshold: 0.55'")
    model = values["model"]
    if not isinstance(model, str) or not model.strip():
        raise _fail(path, "analysis.model", f"'{model}' is not a model name",
                    "write 'model: default' or the path of a local sentence-transformers folder")
    n_themes = values["n_themes"]
    if not isinstance(n_themes, dict):
        raise _fail(path, "analysis.n_themes", f"'{n_themes}' is not a mapping of participant groups to numbers",
                    "write e.g. 'n_themes: {radiographers: 6}'")
    for group, k in n_themes.items():
        if str(group) not in group_ids:
            raise _fail(path, f"analysis.n_themes.{group}", f"'{group}' is not one of the participant groups "
                        f"({', '.join(sorted(group_ids))})", "correct the spelling or remove it")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise _fail(path, f"analysis.n_themes.{group}", f"'{k}' is not a whole number of themes",
                        "write a number such as 6")
    human = values["human_codes"]
    if not isinstance(human, str):
        raise _fail(path, "analysis.human_codes", f"'{human}' is not a file path",
                    "write the path of a .qdpx or .csv file relative to study.yml, or leave it out")
    if human:
        human_path = _inside_study(path, "analysis.human_codes", human, outside_ok)
        if not human_path.is_file():
            raise _fail(path, "analysis.human_codes", f"{human_path} does not exist",
                        "check the path, which is relative to the study file")
        human = str(human_path.resolve())
    return Analysis(seed=whole("seed", 0), model=model, max_sentences=whole("max_sentences", 1),
                    max_words=whole("max_words", 1), max_themes=whole("max_themes", 2), n_runs=whole("n_runs", 1),
                    n_themes_items=tuple(sorted((str(g), int(k)) for g, k in n_themes.items())),
                    proposal_threshold=float(threshold), cooccurrence_window=whole("cooccurrence_window", 0),
                    cooccurrence_min_count=whole("cooccurrence_min_count", 1), human_codes=human)


def _strings(path: Path, key: str, value) -> tuple[str, ...]:
    """A list of words or names; one written on its own (``places: Rowan ward``) is a
    list of one, never its letters."""
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                              for v in value):
        raise _fail(path, key, "should be a list of names", "write them in brackets, [Rowan ward, St Mary's], or one "
                    "per line under it starting with '- '")
    return tuple(str(v) for v in value)


def _label(path: Path, key: str, value) -> str:
    """A speaker label as study.yml gives it: text, never a number, yes/no or nothing
    (YAML reads an unquoted 3, yes, no or on as those)."""
    if not isinstance(value, str) or not value.strip():
        shown = "nothing" if value is None else f"{value!r} ({type(value).__name__})"
        raise _fail(path, key, f"has a speaker label that YAML reads as {shown}, not as text",
                    "write the label exactly as the transcript does, in quotes if it is a number or "
                    "yes/no (\"3\", \"Yes\")")
    return value


#: The value of a focus group's ``speakers`` that says its participants are not listed.
UNLISTED = "unlisted"


def _speakers(path: Path, where: str, entry: dict, facilitators: tuple[str, ...]) -> tuple[dict, bool]:
    """A focus group's declared participants (label -> type) and whether they are listed.

    Listing them is what lets ingestion check every label in the transcript (a typo such
    as 'Interviwer' would otherwise turn a facilitator into a participant), so the key is
    required; ``speakers: unlisted`` is the explicit way to say the study cannot list them.
    """
    key = f"{where}speakers"
    if "speakers" not in entry or entry["speakers"] in (None, "", [], {}):
        raise _fail(path, key, "is missing",
                    "list the participants' labels exactly as the transcript writes them (e.g. 'Margaret: patient'), "
                    f"or write 'speakers: {UNLISTED}' to read every label that is not a facilitator as a participant")
    speakers = entry["speakers"]
    if speakers == UNLISTED:
        return {}, False
    if isinstance(speakers, list):
        speakers = {label: "" for label in speakers}
    if not isinstance(speakers, dict):
        raise _fail(path, key, f"'{speakers}' is neither a list of labels nor '{UNLISTED}'",
                    "write e.g. 'Margaret: patient' under it, or a list [Margaret, Alan]")
    labels = [_label(path, key, k) for k in speakers]
    types = {}
    for label, kind in zip(labels, speakers.values()):
        if kind is not None and not isinstance(kind, str):
            raise _fail(path, f"{key}.{label}", f"the type {kind!r} is a {type(kind).__name__}, not a word",
                        "write who the speaker is (patient, carer, radiographer …), or list the labels "
                        "without types")
        types[label] = (kind or "").strip()
    untyped = [label for label, kind in types.items() if not kind]
    if untyped and len(untyped) < len(types):
        raise _fail(path, f"{key}.{untyped[0]}", "has no type while other speakers of the focus group have one",
                    "write its type after the colon (patient, carer …), or list the labels without types")
    both = sorted(set(types) & set(facilitators))
    if both:
        raise _fail(path, key, f"'{both[0]}' is listed both as a speaker and as a facilitator",
                    "keep it in one of the two lists")
    return types, True


def _inside_study(path: Path, key: str, value: str, outside_ok: bool) -> Path:
    """``value`` relative to the study file; refused when it leaves the study's folder
    (``../../etc/passwd``) unless the study sets ``allow_paths_outside_study: true``.

    The check is on the path as written and on where its links lead: a link inside the
    folder that points elsewhere reads a file from outside just the same.
    """
    root = Path(os.path.abspath(path.parent))
    target = Path(os.path.normpath(root / value))
    fix = ("move the file into that folder (data/private/ is the place for confidential transcripts), "
           "or set 'allow_paths_outside_study: true' in study.yml if that is intended")
    if not outside_ok and not target.is_relative_to(root):
        raise _fail(path, key, f"'{value}' leads outside the study's folder {root}", fix)
    if not outside_ok and target.exists() and not target.resolve().is_relative_to(root.resolve()):
        raise _fail(path, key, f"'{value}' is a link to {target.resolve()}, outside the study's folder {root}",
                    fix.replace("move the file", "copy the file itself"))
    return path.parent / value if not Path(value).is_absolute() else Path(value)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] not in {"name", "check"}:
        print("usage: python -m helpers.study {name|check} path/to/study.yml", file=sys.stderr)
        return 2
    try:
        study = load_study(argv[1])
    except StudyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if argv[0] == "name":
        print(study.name)
    else:
        print(f"{study.path}: {len(study.focus_groups)} focus groups in {len(study.participant_groups)} participant groups; OK")
    return 0


#: Paul Tol's colour-blind-safe "bright" scheme, one colour per participant group.
TOL_BRIGHT = ("#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB")


def group_palette(group_ids) -> dict[str, str]:
    """A fixed colour per participant group, in study.yml order (same in every figure)."""
    return {g: TOL_BRIGHT[i % len(TOL_BRIGHT)] for i, g in enumerate(group_ids)}


if __name__ == "__main__":
    sys.exit(main())
