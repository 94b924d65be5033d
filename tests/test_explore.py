"""Exploring in JupyterLab never breaks the run: a notebook run by hand reads the
pipeline's outputs and writes to its scratch folder; committed notebooks stay clean."""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import ROOT
from helpers import pipeline
from test_board import chromium  # noqa: F401  (the fixture: one headless chromium, or skip / fail in CI)
from test_runs import _free_port, make, make_env, ran, start_lab

#: Runs `make`, a notebook, a browser or a whole study: left out of `make test-fast`.
pytestmark = pytest.mark.slow

SMALL = ROOT / "tests" / "fixtures" / "small_study" / "study.yml"


def _files(out):
    """Every file of the output folder but the scratch folders, with its checksum."""
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file() and p.relative_to(out).parts[0] != "explore"}


def _git_status():
    return subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def test_notebook_04_run_as_jupyterlab_runs_it_leaves_the_pipeline_untouched(readme_run, monkeypatch):
    """After `make all`, notebook 04 executed the way JupyterLab does (nbclient, no
    parameters injected, from notebooks/): every pipeline output byte-identical, the scratch
    folder written, git status unchanged, and `make all` afterwards runs nothing."""
    import nbformat
    from nbclient import NotebookClient

    study = SMALL.relative_to(ROOT)
    out = readme_run["out"]                           # the README's default output folder
    before, status = _files(out), _git_status()
    scratch = out / "explore" / "04_group_themes"
    monkeypatch.setenv("COMPENDIUM_STUDY", str(SMALL))   # which study; nothing says where to write
    monkeypatch.delenv("COMPENDIUM_OUTPUT_DIR", raising=False)
    nb = nbformat.read(ROOT / "notebooks" / "04_group_themes.ipynb", as_version=4)
    NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert f"Writing to the scratch folder {scratch}" in printed
    assert _files(out) == before
    assert (scratch / "group_themes.csv").read_bytes() == (out / "group_themes.csv").read_bytes()
    assert (scratch / "theme_assignments.parquet").exists()
    assert _git_status() == status
    assert ran(make(study, out.relative_to(ROOT))) == []
    assert "explore/" not in json.dumps(json.loads((out / "run_manifest.json").read_text())["outputs"])


def test_a_stage_run_by_hand_reads_the_pipeline_and_writes_to_scratch(tmp_path, make_study, monkeypatch):
    study = make_study()
    monkeypatch.delenv("COMPENDIUM_OUTPUT_DIR", raising=False)
    monkeypatch.setattr(pipeline, "repo_root", lambda start=None: tmp_path)
    pipeline_out = tmp_path / "outputs" / "tiny"
    (pipeline_out / ".runs").mkdir(parents=True)
    (pipeline_out / "segments.parquet").write_bytes(b"segments")
    (pipeline_out / ".runs" / "03_embed_segments.json").write_text(json.dumps({"outputs": {"segments.parquet": "x"}}))
    stage = pipeline.open_stage(str(study), notebook="04_group_themes")
    assert stage.output_dir == pipeline_out / "explore" / "04_group_themes" and stage.source_dir == pipeline_out
    assert stage.require("segments.parquet", "03_embed_segments").read_bytes() == b"segments"
    assert stage.path("group_themes.csv").parent == stage.output_dir
    assert stage.settings(seed=None, max_themes=4) == (20200, 4)
    # a parameter saying where to write is obeyed
    assert pipeline.open_stage(str(study), str(tmp_path / "mine"), notebook="04_group_themes").source_dir is None


def _committed(path) -> dict:
    text = subprocess.run(["git", "show", f"HEAD:{path.relative_to(ROOT)}"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout
    return json.loads(text)


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")))
def test_committed_notebooks_carry_no_outputs_or_execution_counts(name):
    nb = _committed(ROOT / "notebooks" / name)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c.get("execution_count") for c in code] == [None] * len(code)
    assert [c.get("outputs") for c in code] == [[]] * len(code)


def test_nbstripout_is_the_git_filter_for_notebooks_and_strips_what_jupyterlab_saves(tmp_path):
    """`make venv` makes nbstripout the clean filter (.gitattributes names it): a notebook
    saved with outputs and counts is committed without them."""
    import nbformat

    attributes = (ROOT / ".gitattributes").read_text()
    assert "*.ipynb filter=nbstripout" in attributes
    configured = subprocess.run(["git", "config", "filter.nbstripout.clean"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
    assert "-m nbstripout" in configured, "run `make venv` (or `make git-filter`)"
    nb = nbformat.read(ROOT / "notebooks" / "00_process_model.ipynb", as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.execution_count = 3
    code.outputs = [nbformat.v4.new_output("stream", text="Study: …\n")]
    saved = tmp_path / "saved.ipynb"
    nbformat.write(nb, saved)
    blob = json.loads(subprocess.run(configured.split(), cwd=ROOT, input=saved.read_text(), capture_output=True,
                                     text=True, check=True).stdout)
    assert all(c.get("execution_count") is None and c.get("outputs") == [] for c in blob["cells"]
               if c["cell_type"] == "code")
    # and a clean notebook goes through the filter unchanged (no spurious diffs)
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        stripped = subprocess.run(configured.split() + ["-t"], cwd=ROOT, input=path.read_text(), capture_output=True,
                                  text=True, check=True).stdout
        assert stripped == path.read_text(), path.name


def test_notebook_04_in_jupyterlab_runs_every_cell_and_draws_its_bertopic_figures(readme_run, chromium, tmp_path):
    """What a researcher does: `make lab`, open notebook 04, Run All Cells. Every cell runs
    without an error, BERTopic's bar chart and hierarchy are drawn by JupyterLab's plotly
    extension, and the committed notebook is left as it was (autosave off for the check)."""
    import nbformat

    path = ROOT / "notebooks" / "04_group_themes.ipynb"
    committed = path.read_bytes()
    checkpoints = ROOT / "notebooks" / ".ipynb_checkpoints"   # JupyterLab writes one when it opens a notebook
    had_checkpoints = checkpoints.exists()
    n_code = sum(c.cell_type == "code" for c in nbformat.read(path, as_version=4).cells)
    # Autosave off (nothing may be written over the committed notebook) and every cell kept
    # in the page (JupyterLab otherwise leaves cells scrolled out of view unrendered).
    for plugin, setting in (("docmanager-extension/plugin", '{"autosave": false}'),
                            ("notebook-extension/tracker", '{"windowingMode": "none"}')):
        file = tmp_path / "settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(setting)
    port = _free_port()
    env = dict(make_env(), COMPENDIUM_STUDY=str(SMALL), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"), JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"))
    lab, token, printed = start_lab(port, env)
    try:
        assert lab.poll() is None, printed + lab.stdout.read()
        context = chromium.new_context(viewport={"width": 1400, "height": 900})
        try:
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/lab/tree/notebooks/04_group_themes.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)
            page.wait_for_timeout(3000)                  # the kernel starts
            page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
            page.click("li.lm-Menu-item:has-text('Run All Cells')")
            prompts = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt")
            errors = page.locator("[data-mime-type='application/vnd.jupyter.error']")

            def every_cell_ran(shown: list[str]) -> bool:
                return len(shown) == n_code and all(re.fullmatch(r"\[\d+\]:", t.strip()) for t in shown)

            deadline = time.time() + 600
            while time.time() < deadline and not every_cell_ran(prompts.all_inner_texts()) and not errors.count():
                page.wait_for_timeout(1000)
            assert errors.all_inner_texts() == [], errors.all_inner_texts()[0][-2000:]
            assert every_cell_ran(prompts.all_inner_texts()), prompts.all_inner_texts()
            figures = page.locator(".js-plotly-plot")
            assert figures.count() == 2                     # the keywords' bar chart and the hierarchy
            for i in range(2):
                figures.nth(i).scroll_into_view_if_needed()
                assert figures.nth(i).locator("svg.main-svg").count() >= 1
                assert figures.nth(i).bounding_box()["height"] > 200
            page.screenshot(path=str(tmp_path / "notebook_04_in_jupyterlab.png"))
        finally:
            context.close()
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait()
        if not had_checkpoints:
            shutil.rmtree(checkpoints, ignore_errors=True)
    assert path.read_bytes() == committed
