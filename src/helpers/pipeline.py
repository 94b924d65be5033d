"""The pipeline's two doors: a notebook's :class:`Stage`, and the command line the Makefile calls.

Notebooks call :func:`open_stage` in their first code cell to resolve their parameters;
the stage then names, reads and writes their files. The Makefile calls
``python -m helpers.pipeline session|run|manifest|verify``; the work is done in
:mod:`helpers.session` (the lock and the keys), :mod:`helpers.runner` (one stage's
notebook) and :mod:`helpers.manifest`, and the stages' records are kept by :mod:`helpers.runs`.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from . import _io, manifest, runner, session
from ._io import UserError
from .runs import recorded_outputs, repo_root, upstream
from .study import Study, load_study


#: What a stage reads and writes, by the file's suffix.
FILE_KINDS = {".csv": "csv", ".parquet": "parquet", ".npy": "array",
              **dict.fromkeys((".txt", ".md", ".json", ".html"), "text")}


def _kind(name: str, verb: str) -> str:
    """The kind of file ``name`` is, by its suffix; one sentence for a suffix no stage uses."""
    kind = FILE_KINDS.get(Path(name).suffix.lower())
    if kind is None:
        raise UserError(f"{name}: a stage {verb} only {', '.join(FILE_KINDS)} files; give the file one of "
                        "these suffixes.")
    return kind


@dataclass(frozen=True)
class Stage:
    """What a notebook needs to know about its run: the study, where to write, the seed,
    and (for a notebook run by hand) where the pipeline's own outputs are read from; its
    methods name, read and write the stage's files."""

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

    def read(self, name: str, from_stage: str, **options):
        """A file ``from_stage`` wrote (found as :meth:`require` finds it), read by its
        suffix: a table from .csv or .parquet (pandas), an array from .npy (numpy), text
        from .txt, .md, .json or .html. ``options`` go to the reader, e.g.
        ``keep_default_na=False`` for pandas to keep an empty cell as ""."""
        kind = _kind(name, "reads")
        path = self.require(name, from_stage)
        if kind == "text":
            return path.read_text(encoding="utf-8", **options)
        if kind == "array":
            import numpy as np

            return np.load(path, **options)
        import pandas as pd

        return pd.read_csv(path, **options) if kind == "csv" else pd.read_parquet(path, **options)

    def write(self, name: str, content) -> Path:
        """Write ``content`` as ``name`` in the output folder, in the format its suffix names:
        a table to .csv (no index, "\n" line ends) or .parquet (no index), an array to .npy,
        text to .txt, .md, .json or .html. The file is written atomically: a failure half-way
        leaves no file (and an earlier one as it was). Returns its path."""
        kind, path = _kind(name, "writes"), self.path(name)
        fits = isinstance(content, str) if kind == "text" else kind == "array" or hasattr(content, "to_" + kind)
        if not fits:
            what = "text (a str)" if kind == "text" else "a table (a pandas DataFrame)"
            raise UserError(f"{name} holds {what}, not a {type(content).__name__}; pass that instead.")
        if kind == "text":
            return _io.write_text_atomic(path, content)
        writer = {"csv": _io.write_csv_atomic, "parquet": _io.write_parquet_atomic, "array": _io.write_npy_atomic}[kind]
        return writer(content, path)

    def save_figure(self, fig, name: str, formats=("png",), dpi: int = 200) -> list[Path]:
        """Write ``fig`` as ``figures/<name>.<format>`` for each format, atomically and with the
        same bytes on every run, and close it; returns the paths."""
        return _io.save_figure(fig, self.figures / name, formats=formats, dpi=dpi)

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


def _quiet_exit(code: int):
    """Leave now, after Ctrl-C: nothing more to print (no asyncio teardown messages about
    the kernel that was just stopped)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


# --------------------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> int:
    """The command line the Makefile calls; each command is done by its own module."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["session"] and len(argv) >= 5 and argv[4] == "--":
        return session.cli_session(argv[1:])
    if argv[:1] == ["run"] and len(argv) >= 6:
        return runner.cli_run(argv[1:])
    if argv[:1] == ["manifest"] and len(argv) in (3, 4):
        return manifest.cli_manifest(argv[1:])
    if argv[:1] == ["verify"] and len(argv) == 3:
        return manifest.cli_verify(argv[1:])
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
