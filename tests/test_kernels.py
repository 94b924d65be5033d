"""Spare kernels: started by one stage's runner for the next stage, claimed once, and gone
when make is."""

import json
import os
import re
import subprocess
import time

import pytest

from conftest import ROOT
from helpers import kernels, pipeline


def makefile_prerequisites() -> dict[str, set[str]]:
    """For each stage, the stages whose executed notebooks its Makefile rule lists."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    rules = {}
    for target, prerequisites in re.findall(r"^\$\(NB_OUT\)/(\d\d_\w+)\.ipynb:(.*)$", text, flags=re.M):
        rules[target] = set(re.findall(r"\$\(NB_OUT\)/(\d\d_\w+)\.ipynb", prerequisites))
    return rules


def test_each_stage_gets_its_spare_from_the_last_stage_it_waits_for():
    rules = makefile_prerequisites()
    assert set(rules) == set(pipeline.STAGES)
    for stage, before in rules.items():
        starters = {s for s, following in kernels.NEXT_STAGES.items() if stage in following}
        if not before:
            assert not starters, f"{stage} runs first; nothing can start a spare for it"
            continue
        # The stage runs once all of `before` have finished; the latest of them (in the
        # process model's order) is the one whose runner is still there to start a spare.
        assert starters == {max(before, key=pipeline.STAGES.index)}, stage


@pytest.fixture
def under_make(monkeypatch, tmp_path):
    """Pretend this process is a runner started by make, with a small stage table."""
    monkeypatch.setenv("MAKELEVEL", "1")
    monkeypatch.delenv(kernels.ENABLE_VARIABLE, raising=False)
    monkeypatch.setattr(kernels, "NEXT_STAGES", {"first": ("second",)})
    monkeypatch.setattr(kernels, "PRELOAD", {"second": ("helpers.study",)})
    return tmp_path


def probe_notebook(path):
    """A notebook that reports its process, its user namespace and a preloaded module."""
    cells = [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": None, "outputs": [],
         "source": "x = 0"},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source":
         "import os, sys\n"
         "print('PID', os.getpid())\n"
         "print('NAMES', sorted(k for k in globals() if not k.startswith('_') and k not in ('os', 'sys')))\n"
         "print('PRELOADED', 'helpers.study' in sys.modules)"},
    ]
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))
    return path


def printed(executed) -> dict[str, str]:
    nb = json.loads(executed.read_text())
    text = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    return dict(line.split(" ", 1) for line in text.splitlines() if " " in line)


def spare_pid(folder, stage) -> int:
    owner = kernels.spare_folder(folder) / f"{stage}.owner"
    return json.loads(owner.read_text())["pid"]


def wait_until(condition, seconds=20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_the_next_stage_runs_in_its_spare_with_nothing_in_its_namespace(under_make, monkeypatch):
    folder = under_make / "executed"
    notebook = probe_notebook(under_make / "second.ipynb")
    kernels.start_spares("first", folder, under_make)
    pid = spare_pid(folder, "second")

    stats = pipeline.run_notebook(notebook, folder / "second.ipynb", {"x": 1}, spares=True)
    seen = printed(folder / "second.ipynb")
    assert stats["kernel"] == "spare" and int(seen["PID"]) == pid
    assert seen["PRELOADED"] == "True"
    assert wait_until(lambda: not kernels.alive(pid)), "the spare is stopped once its notebook has run"
    assert not list(kernels.spare_folder(folder).glob("second.*"))

    # The same notebook in a kernel started the usual way sees the same namespace.
    monkeypatch.setenv(kernels.ENABLE_VARIABLE, "0")
    fresh = pipeline.run_notebook(notebook, under_make / "fresh.ipynb", {"x": 1}, spares=True)
    assert fresh["kernel"] == "new"
    assert printed(under_make / "fresh.ipynb")["NAMES"] == seen["NAMES"]
    assert "'x'" in seen["NAMES"] and "helpers" not in seen["NAMES"] and "importlib" not in seen["NAMES"]


def test_a_spare_that_dies_while_starting_gives_way_to_a_new_kernel(under_make, monkeypatch, capfd):
    (under_make / "dies_on_import.py").write_text("import os, time\ntime.sleep(2)\nos._exit(3)\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(under_make), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setattr(kernels, "PRELOAD", {"second": ("dies_on_import",)})
    folder = under_make / "executed"
    notebook = probe_notebook(under_make / "second.ipynb")
    kernels.start_spares("first", folder, under_make)

    stats = pipeline.run_notebook(notebook, folder / "second.ipynb", {"x": 1}, spares=True)
    assert stats["kernel"] == "new" and "'x'" in printed(folder / "second.ipynb")["NAMES"]
    assert "the spare kernel failed" in capfd.readouterr().err


def test_an_unclaimed_spare_exits_with_its_make(under_make):
    folder = under_make / "executed"
    make = subprocess.Popen(["sleep", "60"])
    try:
        kernels.start_spares("first", folder, under_make, make_pid=make.pid)
        pid = spare_pid(folder, "second")
        assert kernels.alive(pid)
        # Only a runner of the make that started a spare may claim it.
        assert kernels.claim("second", folder) is None
        assert (kernels.spare_folder(folder) / "second.json").exists()
    finally:
        make.kill()
        make.wait()
    assert wait_until(lambda: not kernels.alive(pid)), "a spare outlived the make that started it"
    assert wait_until(lambda: not list(kernels.spare_folder(folder).glob("second.*")))


def test_spares_are_only_started_under_make(monkeypatch, tmp_path):
    monkeypatch.delenv("MAKELEVEL", raising=False)
    assert kernels.start_spares("03_embed_segments", tmp_path, tmp_path) == []
    monkeypatch.setenv("MAKELEVEL", "1")
    monkeypatch.setenv(kernels.ENABLE_VARIABLE, "0")
    assert kernels.start_spares("03_embed_segments", tmp_path, tmp_path) == []
    assert kernels.claim("04_group_themes", tmp_path) is None


def test_a_notebook_run_from_python_starts_no_spares(under_make):
    """Only the command line make calls starts spares; a test or script calling
    run_notebook directly must not leave kernels waiting for stages that never come."""
    folder = under_make / "executed"
    stats = pipeline.run_notebook(probe_notebook(under_make / "first.ipynb"), folder / "first.ipynb", {"x": 1})
    assert stats["kernel"] == "new"
    assert not kernels.spare_folder(folder).exists()


def test_background_stages_are_ones_only_the_last_stage_reads():
    rules = makefile_prerequisites()
    for stage in kernels.LOW_PRIORITY:
        readers = {s for s, before in rules.items() if stage in before}
        assert readers <= {pipeline.STAGES[-1]}, f"{readers} wait for {stage}; it must not run at low priority"


def test_a_background_stage_gets_a_spare_at_lower_priority(under_make, monkeypatch):
    monkeypatch.setattr(kernels, "NEXT_STAGES", {"first": ("02_describe_groups",)})
    monkeypatch.setattr(kernels, "PRELOAD", {})
    folder = under_make / "executed"
    kernels.start_spares("first", folder, under_make)
    pid = spare_pid(folder, "02_describe_groups")
    try:
        expected = min(os.getpriority(os.PRIO_PROCESS, 0) + kernels.NICENESS, 19)
        assert wait_until(lambda: os.getpriority(os.PRIO_PROCESS, pid) == expected, seconds=10)
    finally:
        kernels.kill_group(pid)
        kernels.discard(kernels.spare_folder(folder) / "02_describe_groups.json")
