"""Open the study's export with the QDA software researchers use, and list what was lost.

    python tools/qda_check.py --shared ../shared --export-dir outputs/<study>/export

Schema validity is not enough: a file can validate and still arrive broken. This check
runs QualCoder's own REFI-QDA importer (3.8.2 and the main branch, from
``<shared>/qda-clients``, headless) on the ``.qdpx`` and the ``.qdc``, and Taguette's own
codebook importer on ``codebook.csv``, in a throwaway venv (PyQt6 and taguette are tools
of this check, not dependencies of the compendium). What arrived is compared with what
the export holds: every code named, every coding attached to its code and matching the
source text, every case carrying text, every note arriving. Exit status 1 lists what was
lost; without ``<shared>`` the check is skipped (exit 0).

Only the standard library runs here, so the check needs no compendium venv.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path
from xml.etree import ElementTree

P = "{urn:QDA-XML:project:1.0}"
C = "{urn:QDA-XML:codebook:1.0}"
QUALCODER_VERSIONS = ("qualcoder-3.8.2", "qualcoder-master")
# The tools of the check, pinned so a result can be reproduced.
TOOL_PINS = ("PyQt6==6.11.0", "taguette==1.5.2")

TAGUETTE_SNIPPET = """
import json, sys
from taguette.import_codebook import list_tags
with open(sys.argv[1], "rb") as fh:
    tags = list_tags(fh)
print(json.dumps([t["path"] for t in tags]))
"""


def expected_from_project(qdpx: Path) -> dict:
    """What QualCoder should hold after importing the project: theme codes, their codings,
    cases with the codings of their case codes, sources and notes."""
    with zipfile.ZipFile(qdpx) as zf:
        root = ElementTree.fromstring(zf.read("project.qde"))
    case_guids = {c.get("guid") for c in root.iter(P + "Case")}
    codable = {c.get("guid") for c in root.iter(P + "Code") if c.get("isCodable") == "true"}
    targets = [coding.find(P + "CodeRef").get("targetGUID") for coding in root.iter(P + "Coding")]
    codings = [t for t in targets if t in codable and t not in case_guids]
    case_codings = [t for t in targets if t in case_guids]
    return {"source": sum(1 for _ in root.iter(P + "TextSource")),
            "code_name": len(codable - case_guids),
            "code_text": len(codings),
            "cases": len(case_guids),
            "case_text": len(case_codings),
            "journal": sum(1 for _ in root.iter(P + "Note"))}


def expected_from_codebook(qdc: Path) -> dict:
    root = ElementTree.parse(qdc).getroot()
    return {"code_name": sum(1 for c in root.iter(C + "Code") if c.get("isCodable") == "true")}


def losses(report: dict, expected: dict) -> list[str]:
    """What did not arrive, one phrase each (empty when everything did)."""
    lost = []
    if report.get("exception"):
        lost.append("the import raised: " + report["exception"].strip().splitlines()[-1])
    for key in ("codes_without_name", "codings_without_code", "codings_not_matching_source"):
        if report.get(key):
            lost.append(f"{report[key]} {key.replace('_', ' ')}")
    counts = report.get("counts") or {}
    for table, want in expected.items():
        got = counts.get(table)
        if got != want:
            lost.append(f"{table}: {got} arrived, {want} exported")
    return lost


def ensure_tools(venv_dir: Path) -> Path:
    """A venv with the check's tools (built once, reused while its pins are unchanged)."""
    python = venv_dir / "bin" / "python"
    stamp = venv_dir / "tools.txt"
    if not (python.exists() and stamp.exists() and stamp.read_text() == "\n".join(TOOL_PINS)):
        print(f"Building the check's venv in {venv_dir} ({', '.join(TOOL_PINS)})…", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *TOOL_PINS],
                       check=True)
        stamp.write_text("\n".join(TOOL_PINS))
    return python


def run_qualcoder(python: Path, clients: Path, version: str, path: Path) -> dict:
    done = subprocess.run([str(python), str(clients / "qualcoder_import.py"), "--qualcoder", str(clients / version),
                           str(path)], capture_output=True, text=True)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"exception": (done.stderr or done.stdout or "no output").strip()[-400:]}


def run_taguette(python: Path, csv_path: Path) -> tuple[list[str], str]:
    done = subprocess.run([str(python), "-c", TAGUETTE_SNIPPET, str(csv_path)], capture_output=True, text=True)
    if done.returncode:
        return [], (done.stderr.strip().splitlines() or ["no output"])[-1]
    return json.loads(done.stdout), ""


def taguette_losses(tags: list[str], error: str, qdc_codes: int) -> list[str]:
    if error:
        return [f"Taguette refused the codebook: {error}"]
    lost = []
    if len(set(tags)) != len(tags):
        lost.append(f"{len(tags) - len(set(tags))} repeated tags (Taguette imports one of each)")
    if len(set(tags)) != qdc_codes:
        lost.append(f"{len(set(tags))} tags arrived, {qdc_codes} codable codes exported")
    too_long = [t for t in tags if len(t) > 200]
    if too_long:
        lost.append(f"{len(too_long)} tags longer than Taguette's 200 characters")
    return lost


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"), help="folder holding qda-clients/")
    parser.add_argument("--export-dir", type=Path, required=True, help="the study's export/ folder")
    parser.add_argument("--venv", type=Path, default=Path("outputs/.qda-check-venv"),
                        help="where the throwaway venv with PyQt6 and taguette lives (git-ignored)")
    args = parser.parse_args(argv)

    clients = args.shared / "qda-clients"
    if not (clients / "qualcoder_import.py").is_file():
        print(f"qda-check skipped: {clients}/qualcoder_import.py is not here; give SHARED=path/to/shared "
              f"(the folder holding qda-clients/) to run it.")
        return 0
    qdpx = sorted(args.export_dir.glob("*.qdpx"))
    qdc, taguette_csv = args.export_dir / "codebook.qdc", args.export_dir / "codebook.csv"
    missing = [p.name for p in (qdc, taguette_csv) if not p.is_file()] + ([] if qdpx else ["<study>.qdpx"])
    if missing:
        print(f"qda-check: {args.export_dir} lacks {', '.join(missing)}; run `make all` first "
              f"(and see export_status.txt if the disclosure check refused the export).")
        return 2

    python = ensure_tools(args.venv.resolve())
    expected = {qdpx[0]: expected_from_project(qdpx[0]), qdc: expected_from_codebook(qdc)}
    failures = []
    for version in QUALCODER_VERSIONS:
        for path, want in expected.items():
            report = run_qualcoder(python, clients, version, path)
            lost = losses(report, want)
            counts = report.get("counts") or {}
            print(f"{version:18} {path.name:28} " + ", ".join(f"{k} {counts.get(k)}" for k in want)
                  + f", nameless {report.get('codes_without_name')}, without code {report.get('codings_without_code')}"
                  + (f", not matching {report.get('codings_not_matching_source')}" if path.suffix == ".qdpx" else ""))
            failures += [f"{version} {path.name}: {phrase}" for phrase in lost]
    tags, error = run_taguette(python, taguette_csv)
    print(f"{'taguette 1.5.2':18} {taguette_csv.name:28} tags {len(tags)}" + (f" (error: {error})" if error else ""))
    failures += [f"taguette {taguette_csv.name}: {phrase}" for phrase in
                 taguette_losses(tags, error, expected[qdc]["code_name"])]
    if failures:
        print("\nLost on the way into QDA software:")
        print("\n".join(f"  - {f}" for f in failures))
        return 1
    print("\nEverything arrived: every code named, every coding attached and matching its source, "
          "every case with its text, every note.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
