"""The reproducibility section, from ``run_manifest.json``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .._io import cell_text as _text
from ..study import Study
from .formatting import fmt
from .run_files import REPORT, RunFiles


def _outputs_digest(outputs: list[dict]) -> str:
    """One sha256 over every output's path and sha256 (sorted), to compare two runs at a glance."""
    lines = "".join(f"{o.get('path')}  {o.get('sha256')}\n" for o in sorted(outputs, key=lambda o: str(o.get("path"))))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def _reproducibility(run: RunFiles, study: Study, manifest: dict | None) -> dict:
    """What the manifest says, without what changes from run to run (timings, the output
    folder's path), so two runs of the same inputs give the same report."""
    manifest = manifest if manifest is not None else run.manifest
    if manifest is None:
        if run.manifest_problem:
            raise ValueError(run.manifest_problem)
        return {"manifest": None}
    outputs = [o for o in manifest.get("outputs") or [] if o.get("path") != REPORT]
    by_folder: dict[str, int] = {}
    for o in outputs:
        folder = str(o.get("path")).split("/", 1)[0] if "/" in str(o.get("path")) else "(top level)"
        by_folder[folder] = by_folder.get(folder, 0) + 1
    inputs = [{"path": _text(i.get("path")), "sha": _text(i.get("sha256"))[:12], "bytes": fmt(i.get("bytes"), "int")}
              for i in manifest.get("inputs") or []]
    params = manifest.get("parameters") or {}
    common: dict = {}
    for values in params.values():
        for k, v in (values or {}).items():
            common.setdefault(k, set()).add(json.dumps(v, sort_keys=True))
    shared = {k: json.loads(next(iter(v))) for k, v in common.items()
              if len(v) == 1 and k not in ("study", "output_dir") and all(k in (p or {}) for p in params.values())}
    own = [{"notebook": Path(nb).stem, "given": ", ".join(f"{k}={v}" for k, v in (values or {}).items()
                                                           if k not in ("study", "output_dir") and k not in shared)}
           for nb, values in params.items()]
    settings = manifest.get("settings") or manifest.get("analysis") or {}
    env = manifest.get("environment") or {}
    try:
        study_path = str(Path(study.path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        study_path = next((i["path"] for i in inputs if i["path"].endswith((".yml", ".yaml"))), str(study.path))
    return {"manifest": True, "inputs": inputs, "n_outputs": len(outputs), "digest": _outputs_digest(outputs),
            "by_folder": sorted(by_folder.items()), "shared": sorted(shared.items()),
            "own": [o for o in own if o["given"]],
            "settings": sorted((str(k), json.dumps(v) if isinstance(v, (dict, list)) else str(v))
                               for k, v in settings.items()),
            "python": _text(env.get("python")), "platform": _text(env.get("platform")),
            "packages": sorted((env.get("packages") or {}).items()), "study_path": study_path,
            "listed_report": any(o.get("path") == REPORT for o in manifest.get("outputs") or [])}
