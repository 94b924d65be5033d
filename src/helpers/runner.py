"""Running one stage: its notebook executed by papermill in a kernel of its own, the
one-sentence error when a cell fails, the run statistics, and the record of what the
stage wrote (``python -m helpers.pipeline run``, from the stage's Makefile rule)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from ._io import WRITE_LOG, UserError, write_text_atomic
from .runs import (NEEDS, RUNS, STAGE_SETTINGS, downstream, key_changes, read_keys, record_outputs, recorded_outputs,
                   rel_to_root, resolve_settings, sha256, upstream, withdraw)
from .study import Study, load_study


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


# --------------------------------------------------------------------------- one stage

def cli_run(args: list[str]) -> int:
    """``run NOTEBOOK EXECUTED STUDY OUTPUT_DIR SEED [KEY=VALUE ...]``: one stage, as its Makefile rule
    runs it; what it wrote is recorded, and a failure withdraws it and everything downstream."""
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
        record_outputs(out, name, journal)
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
    decisions = {"workshops", *(rel_to_root(p) for p in [*study.workshops, *study.workshop_snapshots()])}

    def causes(key: dict) -> dict:
        return {**key, "inputs": {k: v for k, v in key.get("inputs", {}).items() if k not in decisions}}

    changes = [change for name in upstream(stage)
               for change in key_changes(causes(keys.get(name, {})), causes(now.get(name, {})))]
    changes = list(dict.fromkeys(changes))
    what = ("; ".join(changes) if changes else
            "no setting or input differs, so the compendium's code did (helpers/themes.py, notebook 04)")
    return (f" Since {source}: {what}. Either run `make rebase-workshops` to move the decisions to the new "
            "themes, or revert that change (study.yml's analysis: block, SEED=, or the transcript) and rerun.")
