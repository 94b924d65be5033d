"""`make bench`: time the README's path and write benchmarks/results.md.

Everything runs the way a new user runs it: a fresh `git clone` of the committed HEAD
under benchmarks/work/clone, `make venv`, then `make all` with default variables
(relative paths, nothing exported). Measured, all in this one run:

1. building the venv, and the first `make all` after it (cold embedding cache);
2. ``--repeat`` times, interleaved: `make clean && make all`; the same notebooks run by a
   plain papermill loop in one shell, one stage after another (the reference the
   Makefile must stay within 1.2x of); the compute floor (benchmarks/floor.py); every
   notebook's code in one process (benchmarks/one_process.py);
3. `make all` with nothing changed; after editing a workshop file (which stages rerun);
   notebook 03 again with a warm embedding cache;
4. what each kept speed-up buys: `JOBS=1` against the default two jobs, an empty numba
   cache against the one `make venv` fills, and the runner's import with and without
   the rfc3987 grammar;
5. optionally `make test` (``--with-tests``) and generated corpora (``--scale``).

    python benchmarks/run.py [--repeat 3] [--scale 10000 50000 100000] [--with-tests]
    python benchmarks/run.py --render     # rewrite results.md from results.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
WORK = ROOT / "benchmarks" / "work"
CLONE = WORK / "clone"
OUT = "outputs/compassion-coproduction"      # the README's default, relative to the clone
RESULTS = ROOT / "benchmarks" / "results.md"
RAW = ROOT / "benchmarks" / "results.json"   # the same numbers, for reuse and for other tools
#: measurements made by hand (not by this script), kept at the end of results.md across reruns
BY_HAND = ROOT / "benchmarks" / "by_hand.md"

BUDGETS = {
    "make_all": 120.0,         # seconds, bundled study, venv built
    "loop_ratio": 1.2,         # make all / a papermill loop in one shell
    "floor_ratio": 1.3,        # make all / compute floor
    "no_change": 3.0,          # seconds
    "warm_03_share": 0.10,     # notebook 03 warm / cold
    "scale_100k_seconds": 1800.0,
    "scale_100k_mb": 6144.0,
    "make_test": 180.0,
}


def env() -> dict:
    """The caller's environment as a user's shell would have it: no parent make's flags,
    no compendium overrides. The Makefile sets everything else itself."""
    return {k: v for k, v in os.environ.items()
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL") and not k.startswith("COMPENDIUM_")}


def machine_cpu_seconds() -> float:
    """CPU seconds used by the whole machine since boot (user, nice, system, irq), from
    /proc/stat: the machine's counters see every process of a run (kernels, workers)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _run(cmd: list[str], cwd: Path = CLONE, extra_env: dict | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run ``cmd`` in the clone; wall seconds, and CPU seconds of the whole machine
    meanwhile (on an otherwise idle machine: the command and everything it started)."""
    before = machine_cpu_seconds()
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env={**env(), **(extra_env or {})}, capture_output=True, text=True)
    wall = time.perf_counter() - start
    cpu = machine_cpu_seconds() - before
    if proc.returncode != 0:
        sys.exit(f"benchmark step failed: {' '.join(cmd)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return wall, cpu, proc


def timed(cmd: list[str], cwd: Path = CLONE, extra_env: dict | None = None) -> tuple[float, float, str]:
    """Wall and CPU seconds of ``cmd``, and everything it printed."""
    wall, cpu, proc = _run(cmd, cwd, extra_env)
    return wall, cpu, proc.stdout + "\n" + proc.stderr


def json_of(cmd: list[str], extra_env: dict | None = None) -> tuple[float, float, dict]:
    """Wall and CPU seconds of a script that prints one JSON object as its last line."""
    wall, cpu, proc = _run(cmd, extra_env=extra_env)
    return wall, cpu, json.loads(proc.stdout.strip().splitlines()[-1])


def make(*args: str) -> list[str]:
    return ["make", "--no-print-directory", *args]


#: The same notebooks, one after another, by papermill in one shell: no make, no runner.
PAPERMILL_LOOP = r"""set -e
out="$PWD/outputs/_loop"; rm -rf "$out"; mkdir -p "$out/notebooks"
for nb in notebooks/0*.ipynb; do
  .venv/bin/papermill --no-progress-bar -k python3 --cwd notebooks "$nb" "$out/notebooks/$(basename "$nb")" \
    -p study "$PWD/data/study.yml" -p output_dir "$out" -p seed 20200
done"""

#: What the Makefile exports to every stage, for the runs made outside it (the papermill
#: loop, the one-process run).
STAGE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
             "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
             "NUMBA_CACHE_DIR": str(CLONE / ".venv" / "numba-cache")}
ONE_PROCESS_OUT = "outputs/_one_process"
#: Tables both runs write, compared byte for byte.
SAME_TABLES = ("group_themes.csv", "theme_quality.csv", "theme_hierarchy.csv", "integrated_themes.csv",
               "workshop_audit.csv", "framework.csv", "talk_share.csv")

#: The runner's import of papermill, with and without jsonschema's IRI grammar.
IMPORT_PAPERMILL = "import sys, time; t = time.perf_counter(); {block}import papermill; print(time.perf_counter() - t)"


def fresh_clone() -> None:
    shutil.rmtree(CLONE, ignore_errors=True)
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(CLONE)], check=True)


def manifest_stages() -> list[dict]:
    manifest = json.loads((CLONE / OUT / "run_manifest.json").read_text())
    for stage in manifest["notebooks"]:
        stage["cells_seconds"] = cells_seconds(CLONE / stage["executed"])
    return manifest["notebooks"]


def cells_seconds(executed: Path) -> float:
    """Seconds the notebook's own cells took (papermill's total also counts kernel start)."""
    nb = json.loads(executed.read_text())
    return round(sum(c["metadata"]["papermill"]["duration"] or 0 for c in nb["cells"] if c["cell_type"] == "code"), 2)


def stages_run(output: str) -> list[str]:
    return re.findall(r"▶ (\d\d)_", output)


def bundled(repeat: int, venv_wall: float) -> dict:
    first_wall, first_cpu, first_out = timed(make("all"))
    first = {"wall": first_wall, "cpu": first_cpu, "stages": manifest_stages(),
             "kernel_errors": [line for line in first_out.splitlines() if "rror" in line or "arning" in line]}
    print(f"  first make all: {first_wall:.1f} s", flush=True)

    runs, loops, floors, singles = [], [], [], []
    for i in range(repeat):
        timed(make("clean"))
        wall, cpu, _ = timed(make("all"))
        runs.append({"wall": wall, "cpu": cpu, "stages": manifest_stages()})
        lwall, lcpu, _ = timed(["bash", "-c", PAPERMILL_LOOP], extra_env=STAGE_ENV)
        loops.append({"wall": lwall, "cpu": lcpu})
        fwall, fcpu, floor = json_of([".venv/bin/python", "benchmarks/floor.py", f"{OUT}/segments.parquet"])
        floors.append({"wall": fwall, "cpu": fcpu, **floor})
        shutil.rmtree(CLONE / ONE_PROCESS_OUT, ignore_errors=True)  # a cold embedding cache, as after make clean
        owall, ocpu, single = json_of([".venv/bin/python", "benchmarks/one_process.py", "data/study.yml", ONE_PROCESS_OUT],
                                      extra_env=STAGE_ENV)
        # The same work: the one-process run writes the same tables, byte for byte.
        differ = [name for name in SAME_TABLES
                  if (CLONE / OUT / name).read_bytes() != (CLONE / ONE_PROCESS_OUT / name).read_bytes()]
        singles.append({"wall": owall, "cpu": ocpu, "tables_differ": differ, **single})
        print(f"  run {i + 1}: make all {wall:.1f} s, papermill loop {lwall:.1f} s, floor {fwall:.1f} s, "
              f"one process {owall:.1f} s", flush=True)

    no_change = [timed(make("all"))[0] for _ in range(3)]
    print(f"  make all, nothing changed: {max(no_change):.2f} s", flush=True)
    # Stages are keyed by content, not modification time: a facilitator's edit, as a new
    # note on the workshop's last decision (a touched file reruns nothing).
    workshop = sorted((CLONE / "data" / "workshops").glob("*.yml"))[-1]
    workshop.write_text(workshop.read_text(encoding="utf-8") + "# a note added after the workshop\n", encoding="utf-8")
    edit_wall, _, edit_out = timed(make("all"))
    print(f"  make all after editing {workshop.name}: {edit_wall:.1f} s, stages {stages_run(edit_out)}", flush=True)

    cold = runs[-1]["stages"][3]
    executed_03 = CLONE / OUT / "notebooks" / "03_embed_segments.ipynb"
    executed_03.unlink()
    timed(make(f"{OUT}/notebooks/03_embed_segments.ipynb"))
    warm_meta = json.loads(executed_03.read_text())["metadata"]
    warm = {"wall_seconds": warm_meta["compendium"]["wall_seconds"], "cells_seconds": cells_seconds(executed_03)}
    print(f"  notebook 03 warm: {warm['wall_seconds']:.1f} s (cold {cold['wall_seconds']:.1f} s)", flush=True)

    # What the kept speed-ups buy, each switched off once on the same path.
    timed(make("clean"))
    one_job = timed(make("all", "JOBS=1"))[0]
    timed(make("clean"))
    empty_cache = WORK / "empty-numba-cache"
    shutil.rmtree(empty_cache, ignore_errors=True)
    no_numba_cache = timed(make("all", f"NUMBA_CACHE_DIR={empty_cache}"))[0]
    imports = {}
    for name, block in (("with the grammar", ""), ("without it", "sys.modules['rfc3987_syntax'] = None; ")):
        imports[name] = [float(timed([".venv/bin/python", "-c", IMPORT_PAPERMILL.format(block=block)])[2].split()[0])
                         for _ in range(3)]
    print(f"  JOBS=1 {one_job:.1f} s; empty numba cache {no_numba_cache:.1f} s; papermill import "
          + ", ".join(f"{k} {statistics.median(v):.2f} s" for k, v in imports.items()), flush=True)
    return {"venv": venv_wall, "first": first, "runs": runs, "loops": loops, "floors": floors, "singles": singles,
            "no_change": no_change, "edit": {"file": workshop.name, "wall": edit_wall, "stages": stages_run(edit_out)},
            "warm_03": warm, "cold_03": cold, "one_job": one_job, "no_numba_cache": no_numba_cache,
            "papermill_import": imports}


def make_test() -> dict:
    wall, cpu, out = timed(make("test"))
    summary = [line for line in out.splitlines() if re.search(r"\d+ passed", line)]
    return {"wall": wall, "cpu": cpu, "summary": summary[-1].strip("= ") if summary else ""}


def scale(sizes: list[int], rows: list[dict], save) -> list[dict]:
    """Run each size, appending to ``rows`` and saving after each (a long run that stops
    half-way keeps what it measured)."""
    for n in sizes:
        wall, cpu, row = json_of([".venv/bin/python", "benchmarks/scale.py", str(n), str(WORK / f"scale_{n}")])
        row.update(wall=wall, cpu=cpu)
        rows.append(row)
        save()
        print(f"  {n:,} segments: {row['seconds_embed_and_themes']:.0f} s, peak {peak_mb(row):.0f} MB", flush=True)
        shutil.rmtree(WORK / f"scale_{n}", ignore_errors=True)
    return rows


def peak_mb(row: dict) -> float:
    """A scaling row's peak memory: the larger of stage 03's and stage 04's (all processes)."""
    return max(row["peak_mb_03_all_processes"], row["peak_mb_04_all_processes"])


# --------------------------------------------------------------------------- report

def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f", {kb / 2**20:.0f} GB memory"
    except (OSError, AttributeError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}; Python {platform.python_version()}"


def mark(ok: bool) -> str:
    return "met" if ok else "**not met**"


def commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()


def same_tables_sentence(singles: list[dict]) -> str:
    """Whether the one-process runs wrote the same tables as `make all`."""
    if not all("tables_differ" in o for o in singles):
        return "Its tables were not compared with `make all`'s in these runs."
    differ = sorted({name for o in singles for name in o["tables_differ"]})
    if differ:
        return "Its tables are **not** all identical to `make all`'s: " + ", ".join(f"`{n}`" for n in differ) + " differ."
    return ("Its tables are byte-identical to `make all`'s in every run ("
            + ", ".join(f"`{n}`" for n in SAME_TABLES) + ").")


def report(results: dict) -> str:
    """results.md from the results (as kept in results.json)."""
    b, tests, scaled = results["bundled"], results["make_test"], results["scale"]
    measured_at, measured_on = results.get("commit"), results.get("date")
    scale_measured_at = results.get("scale_commit")
    lines = ["# Benchmark results", "",
             f"Written by `make bench` on {measured_on or dt.date.today().isoformat()} at commit "
             f"`{measured_at or 'unknown'}`; "
             f"{machine()}. Rerun `make bench` to replace this file; numbers move by a few seconds between "
             "runs on a busy machine, so each bundled figure is the median of several runs.", ""]
    budget_rows = []
    if b:
        walls, lwalls = [r["wall"] for r in b["runs"]], [r["wall"] for r in b["loops"]]
        fwalls = [f["wall"] for f in b["floors"]]
        wall, lwall, fwall = statistics.median(walls), statistics.median(lwalls), statistics.median(fwalls)
        cpu, fcpu = statistics.median([r["cpu"] for r in b["runs"]]), statistics.median([f["cpu"] for f in b["floors"]])
        loop_ratio, ratio = wall / lwall, wall / fwall
        first = b["first"]
        lines += ["## The README's path: a fresh clone, default variables", "",
                  f"- `make venv` (the first half of the README's first command): {b['venv']:.0f} s with pip's "
                  "download cache warm.",
                  f"- First `make all` after it (cold embedding cache): **{first['wall']:.1f} s**; kernel errors "
                  f"or warnings printed: {len(first['kernel_errors']) or 'none'}.",
                  f"- `make clean && make all`, {len(walls)} runs: " + ", ".join(f"{w:.1f}" for w in walls)
                  + f" s; **median {wall:.1f} s** ({cpu:.0f} CPU-seconds for the whole machine).",
                  f"- The same notebooks by a plain papermill loop in one shell, one stage after another "
                  f"(`PAPERMILL_LOOP` in run.py), interleaved with those runs: " + ", ".join(f"{w:.1f}" for w in lwalls)
                  + f" s; median {lwall:.1f} s.",
                  f"- **make all / papermill loop: {loop_ratio:.2f}×** (run by run: "
                  + ", ".join(f"{r['wall'] / l['wall']:.2f}×" for r, l in zip(b["runs"], b["loops"])) + ").", "",
                  "Each stage is one papermill execution in a new kernel; its wall time includes starting that "
                  "kernel.", "",
                  "| stage | wall s | cells s | kernel peak memory MB |",
                  "| --- | ---: | ---: | ---: |"]
        for k, stage in enumerate(b["runs"][0]["stages"]):
            per = [r["stages"][k] for r in b["runs"]]
            lines.append(f"| {Path(stage['notebook']).stem} | {statistics.median(s['wall_seconds'] for s in per):.1f} "
                         f"| {statistics.median(s['cells_seconds'] for s in per):.1f} "
                         f"| {max(s['peak_mb'] for s in per):.0f} |")
        imports = {k: statistics.median(v) for k, v in b["papermill_import"].items()}
        lines += ["", "## What each kept speed-up buys (same path, switched off once)", "",
                  "| speed-up | with it | without it | gain |", "| --- | ---: | ---: | ---: |",
                  f"| two independent stages at once (`JOBS=2`, the default) | {wall:.1f} s | {b['one_job']:.1f} s "
                  f"(`JOBS=1`) | {1 - wall / b['one_job']:.0%} |",
                  f"| UMAP's numba code compiled once by `make venv` | {wall:.1f} s | {b['no_numba_cache']:.1f} s "
                  f"(empty cache) | {1 - wall / b['no_numba_cache']:.0%} |",
                  f"| the runner skips jsonschema's IRI grammar (per stage) | {imports['without it']:.2f} s | "
                  f"{imports['with the grammar']:.2f} s | {imports['with the grammar'] - imports['without it']:.2f} s "
                  "per stage |", ""]
        floor = b["floors"][-1]
        lines += ["## Compute floor", "",
                  "One plain Python process (`benchmarks/floor.py`) that imports the libraries, loads the model, "
                  "encodes the same segments and makes the same fits as notebook 04, writing no tables or figures.", "",
                  "Runs: " + ", ".join(f"{w:.1f}" for w in fwalls) + f" s; **median {fwall:.1f} s** ({fcpu:.0f} CPU-seconds).", "",
                  "| phase | seconds (last run) |", "| --- | ---: |"]
        lines += [f"| {name} | {sec:.1f} |" for name, sec in floor["phases"].items()]
        lines += ["", f"**make all / floor: {ratio:.2f}× wall** ({wall:.1f} s / {fwall:.1f} s). Run by run: "
                  + ", ".join(f"{r['wall'] / f['wall']:.2f}×" for r, f in zip(b["runs"], b["floors"])) + ".", ""]
        one_ratio = None
        if b.get("singles"):
            owalls = [o["wall"] for o in b["singles"]]
            owall = statistics.median(owalls)
            one_ratio = wall / owall
            stage_seconds = b["singles"][-1]["stages"]
            lines += ["## The same work in one process", "",
                      "The floor above leaves out what `make all` must also do: read the transcripts, draw the "
                      "figures, write the tables, workshop packs, report and export. `benchmarks/one_process.py` "
                      "runs every notebook's code cells in one Python process (cold embedding cache, no kernels, "
                      "no papermill, no Make), writing the same files; the difference to `make all` is what "
                      "running each stage as its own notebook costs.", "",
                      same_tables_sentence(b["singles"]),
                      "",
                      "Runs: " + ", ".join(f"{w:.1f}" for w in owalls) + f" s; **median {owall:.1f} s**. "
                      "Seconds per notebook (last run): "
                      + ", ".join(f"{name[:2]} {sec:.1f}" for name, sec in stage_seconds.items()) + ".", "",
                      f"**make all / one process: {one_ratio:.2f}× wall** ({wall:.1f} s / {owall:.1f} s). "
                      f"Of make all's {wall:.1f} s: {fwall:.1f} s the fits (floor), {owall - fwall:.1f} s the rest of "
                      f"the work, {wall - owall:.1f} s kernels, papermill and Make.", ""]

        nc = max(b["no_change"])
        warm, cold = b["warm_03"], b["cold_03"]
        share_in = warm["cells_seconds"] / cold["cells_seconds"]
        share_wall = warm["wall_seconds"] / cold["wall_seconds"]
        edit = b["edit"]
        lines += ["## Reruns", "",
                  f"- `make all` with nothing changed: {', '.join(f'{x:.2f}' for x in b['no_change'])} s.",
                  f"- After editing `data/workshops/{edit['file']}` (a comment added): stages {', '.join(edit['stages']) or 'none'} "
                  f"reran, {edit['wall']:.1f} s.",
                  f"- Notebook 03 rebuilt with a warm embedding cache: its cells took {warm['cells_seconds']:.2f} s "
                  f"({share_in:.0%} of the cold run's {cold['cells_seconds']:.1f} s); with the kernel's start, "
                  f"{warm['wall_seconds']:.1f} s ({share_wall:.0%} of {cold['wall_seconds']:.1f} s).", ""]
        budget_rows += [
            ("Bundled `make all` under 120 s", f"{wall:.1f} s", wall < BUDGETS["make_all"]),
            ("`make all` within 1.2× a papermill loop", f"{loop_ratio:.2f}×", loop_ratio <= BUDGETS["loop_ratio"]),
            ("`make all` within 1.3× the compute floor", f"{ratio:.2f}×", ratio <= BUDGETS["floor_ratio"]),
            *([("`make all` within 1.3× the same work in one process", f"{one_ratio:.2f}×",
                one_ratio <= BUDGETS["floor_ratio"])] if one_ratio is not None else []),
            ("No kernel error or warning on the first run", str(len(first["kernel_errors"])), not first["kernel_errors"]),
            ("`make all` with nothing changed under 3 s", f"{nc:.2f} s", nc < BUDGETS["no_change"]),
            ("A workshop edit reruns only 05–07", ", ".join(edit["stages"]), edit["stages"] == ["05", "06", "07"]),
            ("Notebook 03 warm under 10 % of cold: its cells", f"{share_in:.0%}", share_in < BUDGETS["warm_03_share"]),
        ]
    if tests:
        lines += ["## `make test`", "", f"{tests['wall']:.0f} s ({tests['summary']}).", ""]
        budget_rows.append(("`make test` under 3 minutes", f"{tests['wall']:.0f} s", tests["wall"] < BUDGETS["make_test"]))
    if scaled:
        from helpers.maps import MAP_MAX_SEGMENTS
        from helpers.themes import CLUSTER_MAX_SEGMENTS

        lines += ["## Scaling: generated corpora through embedding and themes", "",
                  "Segments built by resampling sentences of the bundled transcripts into synthetic focus groups "
                  "(`benchmarks/scale.py`), then exactly the work of notebooks 03 and 04 in one process: embed "
                  f"(cold cache); the resampled consensus runs per group (each tree on at most "
                  f"{CLUSTER_MAX_SEGMENTS:,} distinct texts), each group's BERTopic model with its keywords and "
                  "labels; the quality table (stability, LDA and k-means baselines); the 2-D segment map (at most "
                  f"{MAP_MAX_SEGMENTS:,} per group); saving the models. Peak memory is the largest total resident "
                  "memory of the process and its workers, sampled every 0.2 s, for 03's work and for 04's (which "
                  "includes what the process still holds from 03: the model and the embeddings). Sentences shuffled across turns keep little topical structure, "
                  "so these corpora give few themes; they measure cost, not analysis."
                  + (f" (These rows were measured at commit `{scale_measured_at}` and kept with --keep-scale.)"
                     if scale_measured_at and scale_measured_at != measured_at else ""), "",
                  "| segments | 03: embed s | 03 peak MB | 04: themes s | of which: consensus runs, BERTopic "
                  "per group and labels / stability and baselines / segment map / saving the models s | "
                  "04 peak MB | themes per group |",
                  "| ---: | ---: | ---: | ---: | --- | ---: | --- |"]
        for r in scaled:
            s = r["seconds"]
            parts = [s[k] for k in s if k not in ("build corpus",) and not k.startswith("embed")]
            lines.append(f"| {r['segments']:,} | {r['seconds_03']:.0f} | {r['peak_mb_03_all_processes']:,.0f} | "
                         f"{r['seconds_04']:.0f} | " + " / ".join(f"{v:.1f}" for v in parts) + " | "
                         f"{r['peak_mb_04_all_processes']:,.0f} | "
                         + " / ".join(str(v) for v in r["themes_per_group"].values()) + " |")
        big = [r for r in scaled if r["segments"] >= 100_000]
        if big:
            r = big[-1]
            budget_rows += [
                ("100,000 segments under 30 minutes", f"{r['seconds_embed_and_themes'] / 60:.1f} min",
                 r["seconds_embed_and_themes"] < BUDGETS["scale_100k_seconds"]),
                ("… with peak memory under 6 GB", f"{peak_mb(r) / 1024:.2f} GB", peak_mb(r) < BUDGETS["scale_100k_mb"]),
            ]
        lines.append("")
    if budget_rows:
        lines += ["## Budgets", "", "| budget | measured | |", "| --- | --- | --- |"]
        lines += [f"| {name} | {value} | {mark(ok)} |" for name, value, ok in budget_rows]
        lines.append("")
    if BY_HAND.exists():
        lines += [BY_HAND.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="bundled runs (and floor runs) to take the median of")
    parser.add_argument("--scale", type=int, nargs="*", default=[10_000, 50_000, 100_000],
                        help="corpus sizes for the growth curve (none: skip)")
    parser.add_argument("--with-tests", action="store_true", help="also time `make test`")
    parser.add_argument("--keep-scale", action="store_true",
                        help="reuse the scaling rows (and, without --with-tests, the make test timing) of the last "
                             "benchmarks/results.json instead of rerunning them")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--render", action="store_true",
                        help="measure nothing: rewrite the report from benchmarks/results.json")
    args = parser.parse_args()
    if args.render:
        from helpers._io import write_text_atomic

        write_text_atomic(args.output, report(json.loads(RAW.read_text())))
        print(f"✓ {args.output} (from {RAW.name})")
        return
    WORK.mkdir(parents=True, exist_ok=True)
    fresh_clone()
    venv_wall = timed(make("venv"))[0]
    print(f"make venv in a fresh clone of {commit()}: {venv_wall:.0f} s", flush=True)
    from helpers._io import write_text_atomic

    results: dict = {"bundled": None, "make_test": None, "scale": [], "commit": commit(),
                     "date": dt.date.today().isoformat()}

    def save() -> None:
        write_text_atomic(RAW, json.dumps(results, indent=1) + "\n")
        write_text_atomic(args.output, report(results))

    if args.keep_scale and RAW.exists():  # also keeps the last `make test` timing unless rerun
        previous = json.loads(RAW.read_text())
        results["scale"], results["make_test"] = previous.get("scale", []), previous.get("make_test")
        results["scale_commit"] = previous.get("scale_commit") or previous.get("commit")
    if args.repeat > 0:
        print("Bundled study:", flush=True)
        results["bundled"] = bundled(args.repeat, venv_wall)
        save()
    if args.with_tests:
        print("make test:", flush=True)
        results["make_test"] = make_test()
        print(f"  {results['make_test']['wall']:.0f} s", flush=True)
        save()
    if args.keep_scale:
        print(f"Scaling: kept {len(results['scale'])} rows from {RAW.name}", flush=True)
    else:
        print("Scaling:", flush=True)
        scale(args.scale, results["scale"], save)
    save()
    print(f"✓ {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")


if __name__ == "__main__":
    main()
