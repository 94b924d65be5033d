"""The study report: one self-contained HTML page built from the tables of a run.

:func:`read_run` reads the contract files under an output folder (docs/data_contracts.md)
into a :class:`RunFiles`; :func:`render_report` turns those tables into the page with
the Jinja2 templates under ``helpers/templates/report/`` (autoescape on, read with
``importlib.resources``). Every text shown comes from the tables it is given, so a
masking step can stand between the two. The page embeds every figure as a base64 data
URI and its CSS inline; it loads nothing from elsewhere and runs no script. It links only
to files of the same output folder (the interactive figures, the board, the packs).

What a reviewer reads first is the summary (the definition, the integrated themes with
their balance, flags and caveats, how far to trust the group themes, what is still open),
then the workshops (every decision in plain words with its reason). The reproducibility
section comes from ``run_manifest.json``: the Makefile's last step writes the manifest of
every other output, passes it to :func:`write_report`, and adds the report's own
checksum to the manifest afterwards (so the report never needs its own checksum).

A file that is missing or unreadable makes its section say so plainly; the report is
still built. The disclosure section gives counts only, never the matched strings.

Each section's data comes from a module of its own (:mod:`.summary`, :mod:`.workshops`,
:mod:`.sections` for the others, :mod:`.reproducibility`), reading the files through
:mod:`.run_files` and writing numbers, dates and figures as :mod:`.formatting` does;
this module puts the sections together and renders the page.
"""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from .._io import write_text_atomic
from .._templates import environment, template_text
from ..study import Study
from .formatting import MIN_FIGURE_TEXT_PT, fmt  # noqa: F401  (the report's tests read it here)
from .reproducibility import _reproducibility
from .run_files import REPORT, WRITTEN_BY, RunFiles, _Missing, _missing_text, read_run
from .sections import _agreement, _definition, _design, _disclosure, _integrated, _maps, _quality, _talk, _themes
from .summary import _summary
from .workshops import _workshops

SECTIONS = (
    ("summary", "Summary"),
    ("workshops", "Co-production workshops"),
    ("design", "Study design"),
    ("talk", "Who spoke"),
    ("themes", "Themes of each participant group"),
    ("quality", "Theme quality"),
    ("integrated", "Integrated themes"),
    ("maps", "Thematic maps"),
    ("definition", "Co-produced definition and framework"),
    ("agreement", "Agreement with human coding"),
    ("disclosure", "Disclosure status"),
    ("reproducibility", "Reproducibility"),
)

_BUILDERS = {"summary": _summary, "workshops": _workshops, "design": _design, "talk": _talk, "themes": _themes,
             "quality": _quality, "integrated": _integrated, "maps": _maps, "definition": _definition,
             "agreement": _agreement, "disclosure": _disclosure}


def _section(key: str, title: str, run: RunFiles, study: Study, manifest: dict | None) -> dict:
    section = {"key": key, "title": title, "missing": "", "error": "", "data": None}
    try:
        section["data"] = (_reproducibility(run, study, manifest) if key == "reproducibility"
                           else _BUILDERS[key](run, study))
    except _Missing as exc:
        section["missing"] = _missing_text(str(exc))
    except Exception as exc:  # a report must never crash on one bad file
        section["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    return section


def _environment():
    env = environment("report")
    env.globals.update(fmt=fmt, written_by=WRITTEN_BY)
    return env


def render_report(run: RunFiles, study: Study, manifest: dict | None = None) -> str:
    """The whole report as one HTML string, from the tables in ``run`` (see the module
    docstring); ``manifest`` is the run's manifest when the caller has it (the Makefile's
    last step), else the one in the output folder if a complete run wrote it."""
    sections = [_section(key, title, run, study, manifest) for key, title in SECTIONS]
    # the stylesheet is the package's own file: escaped, its quoted font names would break
    css = Markup(template_text("report/report.css"))
    return _environment().get_template("report.html.j2").render(study=study, sections=sections, toc=SECTIONS, css=css)


def build_report(output_dir: Path, study: Study, manifest: dict | None = None) -> str:
    """The report of the run in ``output_dir`` (:func:`read_run`, then :func:`render_report`)."""
    return render_report(read_run(output_dir), study, manifest)


def section_html(output_dir: Path, key: str, study: Study | None = None) -> str:
    """One section of the report as HTML (``study`` may be None for sections that need
    only the output folder, such as ``agreement``)."""
    title = dict(SECTIONS)[key]
    section = _section(key, title, read_run(output_dir), study, None)
    return _environment().get_template("section.html.j2").render(section=section, study=study)


def write_report(output_dir: Path, study: Study, manifest: dict | None = None) -> Path:
    """Write ``report.html`` into ``output_dir`` atomically; return its path."""
    out = Path(output_dir)
    return write_text_atomic(out / REPORT, build_report(out, study, manifest))
