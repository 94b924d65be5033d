"""The files of a run the report reads: :func:`read_run` reads the contract files under
an output folder (docs/data_contracts.md) into a :class:`RunFiles`, noting which are
missing or unreadable, so each section can say so plainly."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

REPORT = "report.html"
MANIFEST = "run_manifest.json"

#: Which notebook writes each file (for "not available" messages).
WRITTEN_BY = {
    "talk_share.csv": "02_describe_groups", "figures/talk_share.png": "02_describe_groups",
    "group_themes.csv": "04_group_themes", "theme_quality.csv": "04_group_themes",
    "integrated_themes.csv": "05_coproduction_workshops", "theme_links.csv": "05_coproduction_workshops",
    "framework.csv": "05_coproduction_workshops", "definition.csv": "05_coproduction_workshops",
    "workshop_audit.csv": "05_coproduction_workshops", "split_themes.csv": "05_coproduction_workshops",
    "figures/thematic_map.png": "06_thematic_maps", "figures/theme_group_heatmap.png": "06_thematic_maps",
    "figures/theme_lineage.png": "06_thematic_maps", "disclosures.csv": "01_ingest_transcripts",
    "figures/process_model.png": "00_process_model",
}

#: The tables the report reads, by the name the sections use.
TABLES = {
    "talk_share": "talk_share.csv", "talk_gaps": "talk_gaps.csv", "ingest_warnings": "ingest_warnings.csv",
    "group_themes": "group_themes.csv", "theme_quality": "theme_quality.csv",
    "integrated": "integrated_themes.csv", "links": "theme_links.csv", "audit": "workshop_audit.csv",
    "split_parts": "split_themes.csv", "framework": "framework.csv", "definition": "definition.csv",
    "disclosures": "disclosures.csv", "human_agreement": "human_agreement.csv",
    "human_disagreements": "human_disagreements.csv",
}


class _Missing(Exception):
    """A file the section needs is not in the output folder."""


@dataclass
class RunFiles:
    """What the report shows, read from an output folder: the tables (a missing file is
    absent from ``tables``, an unreadable one is in ``unreadable`` with the reason), the
    figures that exist, the export status and the manifest (``None`` until a complete
    run wrote one)."""

    output_dir: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    export_status: str | None = None
    manifest: dict | None = None
    manifest_problem: str = ""
    files: set[str] = field(default_factory=set)

    def table(self, key: str) -> pd.DataFrame:
        """A table the section needs; :class:`_Missing` when the file is not there."""
        name = TABLES[key]
        if key in self.unreadable:
            raise ValueError(f"{name} could not be read: {self.unreadable[key]}")
        if key not in self.tables:
            raise _Missing(name)
        return self.tables[key]

    def optional(self, key: str) -> pd.DataFrame:
        """A table that may be absent: empty when it is."""
        return self.tables.get(key, pd.DataFrame())


def read_run(output_dir: Path) -> RunFiles:
    """Read every file the report shows from ``output_dir`` (see :class:`RunFiles`)."""
    out = Path(output_dir)
    run = RunFiles(out)
    for key, name in TABLES.items():
        path = out / name
        if not path.is_file():
            continue
        try:
            run.tables[key] = pd.read_csv(path, keep_default_na=False)
        except pd.errors.EmptyDataError:
            run.tables[key] = pd.DataFrame()
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            run.unreadable[key] = " ".join(str(exc).split())[:200]
    figures = out / "figures"
    if figures.is_dir():
        run.figures = {f"figures/{p.name}": p for p in sorted(figures.iterdir()) if p.suffix in (".png", ".svg")}
    for name in ("figures/thematic_map.html", "figures/theme_lineage.html", "workshop_board.html"):
        if (out / name).is_file():
            run.files.add(name)
    packs = out / "workshop_packs"
    if packs.is_dir():
        run.files |= {f"workshop_packs/{p.name}" for p in packs.glob("*.html")}
    status = out / "export_status.txt"
    if status.is_file():
        run.export_status = status.read_text(encoding="utf-8", errors="replace")
    manifest = out / MANIFEST
    if manifest.is_file():
        try:
            loaded = json.loads(manifest.read_text(encoding="utf-8"))
        except ValueError as exc:
            run.manifest_problem = f"{MANIFEST} could not be read: {exc}"
        else:
            if loaded.get("status", "complete") == "complete":
                run.manifest = loaded
    return run


def _missing_text(name: str) -> str:
    who = WRITTEN_BY.get(name)
    return f"Not available: {name} was not found in the output folder." + (
        f" It is written by notebook {who}." if who else "")
