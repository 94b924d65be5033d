"""Every stage's work in one plain Python process: the pipeline without kernels.

Runs the code cells of notebooks/00 … 07, in order, in this one process and namespace
(each notebook's parameters cell, then ``study``, ``output_dir`` and ``seed`` as the
Makefile passes them), with no papermill, no kernel per stage, no Make and no executed
notebooks written. The tables, figures and exports are written as in a normal run, to
OUTPUT_DIR. What ``make all`` takes beyond this is what running each stage as its own
notebook costs; ``floor.py`` is the narrower floor of the fits alone.

    python benchmarks/one_process.py STUDY OUTPUT_DIR [SEED]

Prints one JSON object: seconds in all and per notebook.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

T0 = time.perf_counter()


def main(study: str, output_dir: str, seed: int = 20200) -> dict:
    import matplotlib

    matplotlib.use("Agg")  # before pyplot: figures are written, never shown
    import matplotlib.pyplot as plt
    import nbformat
    from IPython.display import display

    from helpers import runs

    namespace: dict = {"display": display, "__name__": "__main__"}
    seconds = {}
    for stage in runs.stages():
        start = time.perf_counter()
        notebook = nbformat.read(runs.repo_root() / "notebooks" / f"{stage}.ipynb", as_version=4)
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            exec(compile(cell.source, f"{stage}.ipynb", "exec"), namespace)
            if "parameters" in cell.metadata.get("tags", []):
                namespace.update(study=study, output_dir=output_dir, seed=seed)
        plt.close("all")
        seconds[stage] = round(time.perf_counter() - start, 2)
    return {"seconds": round(time.perf_counter() - T0, 2), "stages": seconds}


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    Path(args[1]).mkdir(parents=True, exist_ok=True)
    print(json.dumps(main(args[0], args[1], *(int(a) for a in args[2:]))))
