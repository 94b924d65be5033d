"""The stages and their records in an output folder: which stage reads which, what each
must be run with (its key), what it wrote (its run record), and withdrawing what stages
wrote when one of them reruns or fails."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

from ._io import UserError, write_text_atomic
from .study import Study

#: Folders under an output directory that are not results (left out of the manifest):
#: executed notebooks, the embedding cache, and the scratch folders of notebooks run by hand.
NOT_RESULTS = ("notebooks", "cache", "explore")
MANIFEST = "run_manifest.json"
#: Per-stage records under the output folder: ``.keys/<stage>.json`` holds what the stage
#: must have been run with (settings and input checksums; the Makefile's stage targets
#: depend on it), ``.runs/<stage>.json`` what it wrote when it last succeeded.
KEYS, RUNS, LOCK = ".keys", ".runs", ".lock"

#: Which stages read which stages' files: the Makefile's stage prerequisites, written here
#: too so a failure can withdraw exactly what lies downstream (a test checks they agree).
NEEDS = {
    "00_process_model": (),
    "01_ingest_transcripts": (),
    "02_describe_groups": ("01_ingest_transcripts",),
    "03_embed_segments": ("01_ingest_transcripts",),
    "04_group_themes": ("03_embed_segments",),
    "05_coproduction_workshops": ("04_group_themes",),
    "06_thematic_maps": ("05_coproduction_workshops",),
    "07_export": ("06_thematic_maps", "02_describe_groups"),
}

#: The study.yml ``analysis:`` settings each stage uses: passed to its notebook as
#: papermill parameters, and part of its key, so changing one reruns exactly these stages.
STAGE_SETTINGS = {
    "03_embed_segments": ("model", "max_sentences", "max_words"),
    "04_group_themes": ("seed", "max_themes", "n_runs", "n_themes", "model"),  # model: labels are embedded too
    "05_coproduction_workshops": ("proposal_threshold",),
    "06_thematic_maps": ("cooccurrence_window", "cooccurrence_min_count"),
    "07_export": ("seed", "human_codes"),
}

#: Files a stage is known to write that claim a finished result: withdrawn with the stage
#: even when no record of its outputs exists (an output folder from an older version).
CLAIMS_SUCCESS = {
    "05_coproduction_workshops": ("workshop_board.html", "workshop_packs"),
    "07_export": ("report.html", "export", "export_status.txt"),
}


# --------------------------------------------------------------------------- the stages

def stages(root: Path | None = None) -> list[str]:
    """The stages of the process model, in order: the numbered notebooks. (Which stage
    needs which is written once, in the Makefile.)"""
    return sorted(p.stem for p in ((root or repo_root()) / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def repo_root(start: Path | None = None) -> Path:
    """The compendium's root: the nearest folder above ``start`` holding pyproject.toml and data/."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "data").is_dir():
            return folder
    # Installed elsewhere: fall back to the source tree this module lives in.
    return Path(__file__).resolve().parents[2]


def upstream(stage: str) -> list[str]:
    """Every stage whose files ``stage`` reads, directly or through another, in order."""
    found, todo = set(), list(NEEDS.get(stage, ()))
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(NEEDS.get(name, ()))
    return sorted(found)


def downstream(stage: str) -> list[str]:
    """``stage`` and every stage that reads its files, directly or through another, in order."""
    return sorted({stage, *(other for other in NEEDS if stage in upstream(other))})

def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def rel_to_root(path: Path) -> str:
    """``path`` as the manifest and the keys name it: relative to the compendium's root when inside it."""
    try:
        return str(path.resolve().relative_to(repo_root()))
    except ValueError:
        return str(path.resolve())


# --------------------------------------------------------------------------- settings and keys

def parse_seed(text: str | int | None) -> int | None:
    """``SEED=`` from the make command line: a whole number, or empty for study.yml's."""
    if text is None or str(text).strip() == "":
        return None
    if not re.fullmatch(r"\d+", str(text).strip()):
        raise UserError(f"SEED={text} is not a whole number; write e.g. `make all SEED=7`, or leave SEED out "
                        "to use the seed in study.yml's analysis block.")
    return int(str(text).strip())


def resolve_settings(study: Study, seed: str | int | None = None) -> dict:
    """The analysis settings of a run: study.yml's ``analysis:`` block (defaults for what it
    leaves out), with ``SEED=`` from the make command line winning over its seed."""
    settings = study.analysis.as_dict()
    override = parse_seed(seed)
    if override is not None:
        settings["seed"] = override
    return settings


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def stage_keys(study: Study, settings: dict) -> dict[str, dict]:
    """What each stage's results are made from, by content: the settings it uses, the
    checksums of the input files it reads and of the parts of study.yml it reads. A stage
    whose key differs from the one its last run had is rerun (``make`` sees the key file
    change), whatever the files' modification times say."""
    import yaml

    raw = yaml.safe_load(study.path.read_text(encoding="utf-8"))
    design = {k: v for k, v in raw.items() if k != "analysis"}
    snapshots = study.workshop_snapshots()
    files = {
        "transcripts": [fg.transcript for fg in study.focus_groups],
        "workshops": [*study.workshops, *snapshots],
        "human_codes": [Path(settings["human_codes"])] if settings["human_codes"] else [],
    }
    workshops = {"workshops": [rel_to_root(p) for p in files["workshops"]],
                 **{rel_to_root(p): _file_digest(p) for p in files["workshops"]}}
    reads = {  # which parts of study.yml and which input files each stage reads
        "00_process_model": {"study.yml": _digest(design)},
        "01_ingest_transcripts": {"study.yml": _digest({k: v for k, v in design.items() if k != "workshops"}),
                                  **{rel_to_root(p): _file_digest(p) for p in files["transcripts"]}},
        # 04 keeps the number of themes and the themes the workshops' snapshots record: it
        # reads the snapshots and each workshop file's based_on and snapshot, not its decisions
        "04_group_themes": {"workshops": workshops["workshops"],
                            **{rel_to_root(p): _pins_digest(p) for p in study.workshops},
                            **{rel_to_root(p): _file_digest(p) for p in snapshots}},
        "05_coproduction_workshops": workshops,
        "07_export": {rel_to_root(p): _file_digest(p) for p in files["human_codes"]},
    }
    return {stage: {"settings": {name: settings[name] for name in STAGE_SETTINGS.get(stage, ())},
                    "inputs": reads.get(stage, {})} for stage in stages()}


def _pins_digest(path: Path) -> str:
    """The sha256 of what stage 04 reads in a workshop file: its ``based_on`` (the themes
    it pinned, by fingerprint) and ``snapshot`` (the file of their members). Decisions,
    rationales and the definition are notebook 05's, so editing them reruns 05-07 only. A
    file that cannot be read as a mapping counts as a whole (04 reruns and says why)."""
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return _file_digest(path)
    if not isinstance(raw, dict):
        return _file_digest(path)
    return "pins " + _digest({"based_on": raw.get("based_on"), "snapshot": raw.get("snapshot")})


def _file_digest(path: Path) -> str:
    """An input's sha256, or "missing": a file deleted since study.yml named it (a snapshot,
    a transcript) changes the key, and the stage that reads it says what is missing."""
    return sha256(path) if Path(path).is_file() else "missing"


def read_keys(output_dir: Path) -> dict[str, dict]:
    keys = {}
    for stage in stages():
        path = output_dir / KEYS / f"{stage}.json"
        if path.exists():
            keys[stage] = json.loads(path.read_text(encoding="utf-8"))
    return keys


def key_changes(old: dict, new: dict) -> list[str]:
    """What differs between two keys of a stage, in words ("seed 20200 → 7")."""
    changes = []
    for name in sorted(set(old.get("settings", {})) | set(new.get("settings", {}))):
        before, after = old.get("settings", {}).get(name), new.get("settings", {}).get(name)
        if before != after:
            changes.append(f"{name} {json.dumps(before)} → {json.dumps(after)}")
    for name in sorted(set(old.get("inputs", {})) | set(new.get("inputs", {}))):
        before, after = old.get("inputs", {}).get(name), new.get("inputs", {}).get(name)
        if before != after:
            changes.append(f"{name} {'added' if before is None else 'removed' if after is None else 'changed'}")
    return changes


# --------------------------------------------------------------------------- run records

def run_record(output_dir: Path, stage: str) -> Path:
    """Where the files ``stage`` wrote in its last successful run are recorded."""
    return output_dir / RUNS / f"{stage}.json"


def _write_run_record(output_dir: Path, stage: str, outputs: dict[str, str]) -> None:
    write_text_atomic(run_record(output_dir, stage), json.dumps({"outputs": outputs}, indent=1) + "\n")


def recorded_outputs(output_dir: Path, stage: str) -> dict[str, str]:
    """The files ``stage`` wrote when it last succeeded (relative path → sha256)."""
    try:
        return json.loads(run_record(output_dir, stage).read_text(encoding="utf-8"))["outputs"]
    except (OSError, ValueError, KeyError):
        return {}


def rerecord(output_dir: Path, stage: str, rel: str, path: Path) -> None:
    """After a later step rewrote a file ``stage`` recorded, record its new checksum (so
    the next session does not take the rewrite for a change made by hand)."""
    outputs = recorded_outputs(output_dir, stage)
    if rel in outputs:
        _write_run_record(output_dir, stage, {**outputs, rel: sha256(path)})


def record_outputs(output_dir: Path, stage: str, journal: Path) -> None:
    """Keep what the stage wrote (from the write log its kernel filled) with checksums."""
    out = output_dir.resolve()
    written = set(journal.read_text(encoding="utf-8").splitlines()) if journal.exists() else set()
    outputs = {}
    for line in sorted(written):
        path = Path(line)
        try:
            rel = path.resolve().relative_to(out)
        except ValueError:
            continue
        if path.is_file() and rel.parts[0] not in NOT_RESULTS and not rel.parts[0].startswith("."):
            outputs[str(rel)] = sha256(path)
    _write_run_record(output_dir, stage, outputs)
    journal.unlink(missing_ok=True)


# --------------------------------------------------------------------------- withdrawing

def set_status(output_dir: Path, status: str) -> None:
    """Mark the output folder as not a finished run; on a full disk, remove the manifest."""
    try:
        write_text_atomic(output_dir / MANIFEST, json.dumps({"status": status, "outputs": []}, indent=2) + "\n")
    except OSError:
        (output_dir / MANIFEST).unlink(missing_ok=True)


def withdraw(output_dir: Path, withdrawn: list[str], status: str) -> None:
    """Remove what ``withdrawn`` stages wrote (their recorded outputs, executed notebooks
    and records, and the files known to claim a finished result), and mark the manifest
    with ``status``: no earlier result stays looking current once one of its inputs has
    changed, a stage has failed or a run was interrupted."""
    for stage in withdrawn:
        for rel in [*recorded_outputs(output_dir, stage), *CLAIMS_SUCCESS.get(stage, ())]:
            path = output_dir / rel
            # two stages may start at once (JOBS=2): either may remove a shared downstream file
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        (output_dir / "notebooks" / f"{stage}.ipynb").unlink(missing_ok=True)
        run_record(output_dir, stage).unlink(missing_ok=True)
    if (output_dir / MANIFEST).exists() or any((output_dir / RUNS).glob("*.json")):
        set_status(output_dir, status)
