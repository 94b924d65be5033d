"""What reruns and when: settings in study.yml, stage keys by content, the output folder's
lock, and no result left looking current after a change or a failure.

The runs use a copy of the small fixture study in a folder of the test's own, through
`make` as a user calls it.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time

import pandas as pd
import pytest

from conftest import ROOT
from helpers import manifest as run_manifest, pipeline, runs
from helpers.study import StudyError, load_study

#: Runs `make`, a notebook, a browser or a whole study: left out of `make test-fast`.
pytestmark = pytest.mark.slow

SMALL = ROOT / "tests" / "fixtures" / "small_study"
#: what claims a finished, shareable result in an output folder
CLAIMS = ("report.html", "export_status.txt", "workshop_board.html", "workshop_packs")


def make_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS", "COMPENDIUM_"))}


def make(study, out, *extra, check=True):
    run = subprocess.run(["make", "--no-print-directory", "all", f"STUDY={study}", f"OUTPUT_DIR={out}", *extra],
                         cwd=ROOT, env=make_env(), capture_output=True, text=True)
    if check:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


def ran(run) -> list[str]:
    """The stages a make run executed, by number."""
    return sorted(set(re.findall(r"▶ (\d\d)_", run.stdout)))


def manifest(out) -> dict:
    return json.loads((out / "run_manifest.json").read_text())


def tables(out) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.csv")) + sorted(out.glob("*.parquet"))}


# --------------------------------------------------------------------------- settings in study.yml

def test_analysis_block_defaults_and_values(make_study):
    assert load_study(make_study()).analysis.as_dict()["seed"] == 20200
    study = load_study(make_study("analysis:\n  seed: 7\n  max_themes: 5\n  n_themes: {staff: 3}\n"))
    assert (study.analysis.seed, study.analysis.max_themes, study.analysis.n_themes) == (7, 5, {"staff": 3})


@pytest.mark.parametrize("block, message", [
    ("analysis:\n  max_theme: 5\n", "key 'analysis.max_theme': is not an analysis setting; did you mean 'max_themes'?"),
    ("analysis:\n  seed: abc\n", "key 'analysis.seed': 'abc' is not a whole number of at least 0"),
    ("analysis:\n  n_themes: {nurses: 4}\n", "key 'analysis.n_themes.nurses': 'nurses' is not one of the participant"),
    ("analysis:\n  n_themes: {staff: many}\n", "key 'analysis.n_themes.staff': 'many' is not a whole number"),
    ("analysis:\n  proposal_threshold: 2\n", "'2' is not a number from 0 to 1"),
    ("analysis:\n  human_codes: codes.csv\n", "codes.csv does not exist"),
    ("analysis: 5\n", "key 'analysis': should be a mapping of settings"),
])
def test_analysis_block_errors_are_one_sentence_naming_the_key(make_study, block, message):
    with pytest.raises(StudyError) as err:
        load_study(make_study(block))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_each_setting_changes_the_key_of_exactly_the_stages_that_use_it(make_study):
    study = load_study(make_study())
    base = runs.stage_keys(study, runs.resolve_settings(study))

    def changed(settings=None, seed=None):
        s = load_study(make_study(settings or ""))
        keys = runs.stage_keys(s, runs.resolve_settings(s, seed))
        return sorted(stage[:2] for stage in keys if keys[stage] != base[stage])

    assert changed(seed="7") == ["04", "07"]
    assert changed("analysis:\n  max_themes: 4\n") == ["04"]
    assert changed("analysis:\n  n_themes: {staff: 2}\n") == ["04"]
    assert changed("analysis:\n  max_words: 40\n") == ["03"]
    assert changed("analysis:\n  model: ./my-model\n") == ["03", "04"]  # 04 embeds its labels with it
    assert changed("analysis:\n  proposal_threshold: 0.6\n") == ["05"]
    assert changed("analysis:\n  cooccurrence_min_count: 2\n") == ["06"]
    retitled = make_study()
    retitled.write_text(retitled.read_text(encoding="utf-8").replace("title: Tiny study", "title: Another title"),
                        encoding="utf-8")
    keys = runs.stage_keys(load_study(retitled), runs.resolve_settings(load_study(retitled)))
    assert sorted(stage[:2] for stage in keys if keys[stage] != base[stage]) == ["00", "01"]


def test_a_transcript_is_tracked_by_content_not_mtime(make_study):
    path = make_study()
    study = load_study(path)
    before = runs.stage_keys(study, runs.resolve_settings(study))
    transcript = path.parent / "FG02.txt"
    stat = transcript.stat()
    transcript.write_text(transcript.read_text().replace("terrified", "scared"))
    os.utime(transcript, ns=(stat.st_atime_ns, stat.st_mtime_ns))   # as `cp -p` or unzip leave it
    after = runs.stage_keys(study, runs.resolve_settings(study))
    assert [s for s in after if after[s] != before[s]] == ["01_ingest_transcripts"]


def test_a_workshop_decision_edit_reruns_05_on_and_a_pin_edit_04_on(make_study):
    """After a workshop the facilitator types its decisions into the workshop file: that
    reruns 05-07 (seconds), not the theme fits of 04; what 04 reads of the file (based_on,
    the snapshot) reruns 04 too."""
    path = make_study("workshops: [workshop_1.yml]\n")
    workshop, snapshot = path.parent / "workshop_1.yml", path.parent / "workshop_1.snapshot.csv"
    pins = "workshop: 1\nbased_on: {'staff:T01': 'abcdef01'}\nsnapshot: workshop_1.snapshot.csv\n"
    workshop.write_text(pins + "decisions: []\n")
    snapshot.write_text("theme_id,segment_id,n_themes\nstaff:T01,FG01-anna-1,2\n")
    study = load_study(path)
    base = runs.stage_keys(study, runs.resolve_settings(study))

    def changed() -> list[str]:
        keys = runs.stage_keys(study, runs.resolve_settings(study))
        return sorted(stage[:2] for stage in keys if keys[stage] != base[stage])

    workshop.write_text(pins + "decisions:\n  - {action: drop, theme: 'staff:T01', rationale: Not about care.}\n")
    assert changed() == ["05"]
    workshop.write_text(pins.replace("abcdef01", "abcdef02") + "decisions: []\n")
    assert changed() == ["04", "05"]
    workshop.write_text(pins + "decisions: []\n")
    snapshot.write_text("theme_id,segment_id,n_themes\nstaff:T01,FG01-anna-2,2\n")
    assert changed() == ["04", "05"]
    workshop.write_text("workshop: [1\n")                 # not YAML: the whole file counts, 04 reruns and says why
    assert changed() == ["04", "05"]


def test_the_stage_graph_here_is_the_makefiles():
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    for stage, needs in runs.NEEDS.items():
        rule = re.search(rf"^\$\(NB_OUT\)/{stage}\.ipynb:(.*)$", text, re.M)
        assert rule, stage
        assert sorted(re.findall(r"\$\(NB_OUT\)/(\d\d_\w+)\.ipynb", rule.group(1))) == sorted(needs), stage
        assert f"$(KEY)/{stage}.json" in rule.group(1), stage
    assert sorted(runs.NEEDS) == runs.stages()


def test_every_notebook_setting_is_one_of_study_yml_and_passed_by_the_runner():
    """A result-changing parameter a notebook takes is an analysis setting that `make all`
    passes it: nothing a notebook cell says can differ from what the study says."""
    import papermill

    from helpers.study import ANALYSIS_DEFAULTS

    interactive_only = {"study", "output_dir", "n_jobs"}
    for stage in runs.stages():
        params = set(papermill.inspect_notebook(str(ROOT / "notebooks" / f"{stage}.ipynb"))) - interactive_only
        assert params == set(runs.STAGE_SETTINGS.get(stage, ())), stage
        assert params <= set(ANALYSIS_DEFAULTS), stage


def test_the_seed_on_the_command_line_must_be_a_whole_number(tmp_path):
    run = make(SMALL / "study.yml", tmp_path / "out", "SEED=abc", check=False)
    sentence, *rest = run.stderr.splitlines()
    assert run.returncode == 2 and sentence == (
        "✗ SEED=abc is not a whole number; write e.g. `make all SEED=7`, or leave SEED out to use the seed in "
        "study.yml's analysis block.")
    assert all(line.startswith("make: *** ") for line in rest) and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


def test_a_read_only_output_folder_is_one_sentence(monkeypatch, capsys, tmp_path):
    real_open = os.open

    def read_only(path, *args, **kwargs):
        if str(path).endswith(runs.LOCK):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    code = pipeline.main(["session", str(SMALL / "study.yml"), str(tmp_path), "", "--", "true"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot be written (Permission denied" in err and "chmod -R u+w" in err
    assert "Traceback" not in err and err.count("\n") == 1


# --------------------------------------------------------------------------- real runs

@pytest.fixture(scope="module")
def study_copy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs") / "study"
    shutil.copytree(SMALL, folder)
    return folder / "study.yml"


@pytest.fixture(scope="module")
def first_run(study_copy):
    out = study_copy.parent.parent / "out"
    run = make(study_copy, out)
    assert ran(run) == ["00", "01", "02", "03", "04", "05", "06", "07"]
    return out


def test_nothing_changed_runs_nothing_and_is_quick(study_copy, first_run):
    started = time.perf_counter()
    run = make(study_copy, first_run)
    seconds = time.perf_counter() - started
    assert ran(run) == [] and manifest(first_run)["status"] == "complete"
    print(f"\nsecond `make all` with nothing changed: {seconds:.2f} s")   # reported, not asserted


def test_a_seed_on_the_command_line_reruns_04_onward_and_is_recorded(study_copy, first_run):
    run = make(study_copy, first_run, "SEED=7")
    assert ran(run) == ["04", "05", "06", "07"]
    assert "↻ 04_group_themes: seed 20200 → 7" in run.stdout
    record = manifest(first_run)
    assert record["status"] == "complete" and record["settings"]["seed"] == 7
    assert record["seed_from"] == "SEED on the make command line"
    assert record["parameters"]["notebooks/04_group_themes.ipynb"]["seed"] == 7
    assert ran(make(study_copy, first_run, "SEED=7")) == []
    assert ran(make(study_copy, first_run)) == ["04", "05", "06", "07"]        # back to study.yml's seed


def test_an_analysis_setting_edited_in_study_yml_reruns_exactly_its_stages(study_copy, first_run):
    original = study_copy.read_text()
    try:
        study_copy.write_text(original + "analysis:\n  proposal_threshold: 0.6\n")
        run = make(study_copy, first_run)
        assert ran(run) == ["05", "06", "07"]
        assert manifest(first_run)["settings"]["proposal_threshold"] == 0.6
    finally:
        study_copy.write_text(original)
    assert ran(make(study_copy, first_run)) == ["05", "06", "07"]


def test_a_back_dated_transcript_edit_reruns_from_01(study_copy, first_run):
    transcript = study_copy.parent / "FG06_patients_carers.txt"
    original, stat = transcript.read_text(), transcript.stat()
    try:
        transcript.write_text(original.replace("the", "teh", 1))
        os.utime(transcript, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert ran(make(study_copy, first_run)) == ["01", "02", "03", "04", "05", "06", "07"]
    finally:
        transcript.write_text(original)
        os.utime(transcript, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert ran(make(study_copy, first_run)) == ["01", "02", "03", "04", "05", "06", "07"]


def test_a_deleted_output_reruns_its_stage_and_the_manifest_lists_it_again(study_copy, first_run):
    before = (first_run / "group_themes.csv").read_bytes()
    (first_run / "group_themes.csv").unlink()
    run = make(study_copy, first_run)
    assert ran(run) == ["04", "05", "06", "07"]
    assert (first_run / "group_themes.csv").read_bytes() == before
    record = manifest(first_run)
    assert record["status"] == "complete" and "group_themes.csv" in {o["path"] for o in record["outputs"]}


def test_the_manifest_never_says_complete_with_an_output_missing(study_copy, first_run):
    (first_run / "talk_share.csv").unlink()
    study = load_study(study_copy)
    run_manifest.write_manifest(study, first_run)
    assert manifest(first_run)["status"] == "incomplete: talk_share.csv (written by 02_describe_groups) is missing"
    assert ran(make(study_copy, first_run)) == ["02", "07"]
    assert manifest(first_run)["status"] == "complete"


def _claims(out) -> list[str]:
    return [name for name in CLAIMS if (out / name).exists()]


def test_a_failed_stage_leaves_no_file_claiming_success(study_copy, first_run):
    assert _claims(first_run) == list(CLAIMS)
    transcript = study_copy.parent / "FG03_radiographers.txt"
    original = transcript.read_text()
    try:
        transcript.write_text(original + "\nInterviwer: And what about the mask?\n")
        run = make(study_copy, first_run, check=False)
        assert run.returncode != 0 and "Interviwer" in run.stderr and "Traceback" not in run.stderr
        assert _claims(first_run) == []
        status = manifest(first_run)["status"]
        assert status.startswith("failed at 01_ingest_transcripts") and manifest(first_run)["outputs"] == []
        assert [s for s in runs.stages() if (first_run / "notebooks" / f"{s}.ipynb").exists()] == [
            "00_process_model"]                       # 00 does not read the transcripts
    finally:
        transcript.write_text(original)
    make(study_copy, first_run)
    assert _claims(first_run) == list(CLAIMS) and manifest(first_run)["status"] == "complete"


def test_a_broken_study_yml_after_a_good_run_withdraws_what_claims_success(study_copy, first_run):
    original = study_copy.read_text()
    try:
        study_copy.write_text(original.replace("participant_groups:", "participant_groups: [", 1))
        run = make(study_copy, first_run, check=False)
        assert run.returncode != 0 and "is not valid YAML" in run.stderr and "Traceback" not in run.stderr
        assert _claims(first_run) == [] and manifest(first_run)["status"].startswith("failed: ")
    finally:
        study_copy.write_text(original)
    assert ran(make(study_copy, first_run)) == ["05", "06", "07"]
    assert _claims(first_run) == list(CLAIMS)


def test_a_second_run_on_the_same_folder_is_refused_and_the_first_finishes(study_copy, first_run):
    first = subprocess.Popen(["make", "--no-print-directory", "all", f"STUDY={study_copy}", f"OUTPUT_DIR={first_run}",
                              "SEED=11"], cwd=ROOT, env=make_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    printed = ""
    while "▶ 04_group_themes" not in printed:
        line = first.stdout.readline()
        assert line, printed
        printed += line
    second = make(study_copy, first_run, "SEED=11", check=False)
    printed += first.stdout.read()
    assert first.wait() == 0, printed
    assert second.returncode == 2 and "Traceback" not in second.stderr
    sentence, *rest = second.stderr.splitlines()
    assert re.fullmatch(rf"✗ {re.escape(str(first_run))} is in use by `make all` \(process \d+, started "
                        r"[\d:]+\); wait for it to finish \(or stop it\), then run make again\.", sentence)
    assert all(line.startswith("make: *** ") for line in rest), second.stderr   # make's own exit line
    assert manifest(first_run)["status"] == "complete" and manifest(first_run)["settings"]["seed"] == 11
    assert ran(make(study_copy, first_run)) == ["04", "05", "06", "07"]


def test_ctrl_c_in_stage_04_prints_one_line_and_no_traceback(study_copy, first_run):
    run = subprocess.Popen(["make", "--no-print-directory", "all", f"STUDY={study_copy}", f"OUTPUT_DIR={first_run}",
                            "SEED=12"], cwd=ROOT, env=make_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, start_new_session=True)
    printed = ""
    while "▶ 04_group_themes" not in printed:
        printed += run.stdout.readline()
    time.sleep(2)
    os.killpg(run.pid, signal.SIGINT)        # what Ctrl-C in the terminal sends
    printed += run.stdout.read()
    assert run.wait() != 0
    assert "✗ 04_group_themes interrupted; `make all` resumes from this stage." in printed
    assert "Traceback" not in printed and "DeadKernelError" not in printed, printed
    # our lines, then make's own report of the stopped recipe ("make: *** … Error 130")
    assert all(line.startswith(("↻", "▶", "✗", "make")) for line in printed.splitlines() if line), printed
    assert manifest(first_run)["status"] == "interrupted during 04_group_themes" and _claims(first_run) == []
    assert ran(make(study_copy, first_run)) == ["04", "05", "06", "07"]


def test_editing_a_notebook_parameter_default_changes_nothing_make_all_produces(study_copy, first_run):
    import nbformat

    path = ROOT / "notebooks" / "04_group_themes.ipynb"
    original = path.read_bytes()
    before = tables(first_run)
    try:
        nb = nbformat.read(path, as_version=4)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        cell.source = cell.source.replace("seed = None", "seed = 99").replace("max_themes = None", "max_themes = 3")
        assert "max_themes = 3" in cell.source and "seed = 99" in cell.source
        nbformat.write(nb, path)
        assert ran(make(study_copy, first_run)) == ["04", "05", "06", "07"]   # the notebook changed: it reruns…
    finally:
        path.write_bytes(original)
    assert tables(first_run) == before                                         # …with the study's settings
    assert ran(make(study_copy, first_run)) == ["04", "05", "06", "07"]        # the restored notebook too


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_lab(port: int, env: dict) -> tuple[subprocess.Popen, str, str]:
    """`make lab LAB_PORT=port` as a user starts it: the server, the token from the URL it
    prints, and what it printed; returns once it accepts connections (or has ended)."""
    lab = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_PORT={port}"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    printed, token = "", None
    try:
        while token is None:
            line = lab.stdout.readline()
            assert line, printed
            printed += line
            found = re.search(rf"http://127\.0\.0\.1:{port}/\S*token=(\w+)", line)
            token = found and found.group(1)
        while lab.poll() is None and not _answers(port):   # printed; wait until it accepts connections
            time.sleep(0.2)
    except BaseException:
        os.killpg(lab.pid, signal.SIGTERM)
        raise
    return lab, token, printed


def test_make_lab_answers_on_localhost_with_the_projects_kernel_and_stops(tmp_path):
    import urllib.request

    port = _free_port()
    env = dict(make_env(), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"))
    lab, token, printed = start_lab(port, env)
    try:
        assert lab.poll() is None, printed + lab.stdout.read()
        status = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}"))
        assert "started" in status
        specs = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs?token={token}"))
        assert specs["default"] == "python3"
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/lab/tree/notebooks?token={token}")
        assert page.status == 200
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        printed += lab.stdout.read()
        lab.wait()
    assert "JupyterLab on http://127.0.0.1" in printed and "Traceback" not in printed
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5)


def test_a_stop_in_05_names_the_setting_that_changed_since_the_workshops_snapshot(study_copy, first_run):
    """A workshop decides on the themes of this run; a changed analysis setting changes
    them; notebook 05 stops saying which setting differs and the two ways forward."""
    import yaml

    folder, original = study_copy.parent, study_copy.read_text()
    template = (first_run / "workshop_packs" / "workshop_1.template.yml").read_text()
    pinned = [t for t in yaml.safe_load(template)["based_on"] if t.startswith("radiographers:")]
    decisions = "".join(f"  - {{action: drop, theme: '{t}', rationale: Not about care.}}\n" for t in pinned)
    (folder / "workshop_1.yml").write_text(template.replace("decisions: []\n", "decisions:\n" + decisions))
    shutil.copy(first_run / "workshop_packs" / "workshop_1.snapshot.csv", folder)
    try:
        study_copy.write_text(original.replace("workshops: []", "workshops: [workshop_1.yml]"))
        # 04 reruns too: it keeps the number of themes and the themes the snapshot records
        assert ran(make(study_copy, first_run)) == ["00", "04", "05", "06", "07"]   # the decisions apply
        # a setting the workshop's themes do not survive: another number of themes, asked for
        seen = int(pd.read_csv(folder / "workshop_1.snapshot.csv").query("theme_id.str.startswith('radiographers:')",
                                                                            engine="python")["n_themes"].iloc[0])
        other = seen + 1 if seen < 3 else seen - 1
        study_copy.write_text(study_copy.read_text() + f"analysis:\n  n_themes: {{radiographers: {other}}}\n")
        run = make(study_copy, first_run, check=False)
        assert run.returncode != 0 and ran(run) == ["04", "05"]
        message = run.stderr.split("✗ 05_coproduction_workshops failed: ", 1)[1]
        assert "\n" not in message.split(" (open ")[0]
        assert (f'Since the run workshop_1.snapshot.csv came from: n_themes {{}} → {{"radiographers": {other}}}.'
                in message), message
        assert "`make rebase-workshops`" in message and "revert that change" in message
        assert _claims(first_run) == [] and manifest(first_run)["status"].startswith("failed at 05")
    finally:
        study_copy.write_text(original)
        (folder / "workshop_1.yml").unlink()
        (folder / "workshop_1.snapshot.csv").unlink()
    assert ran(make(study_copy, first_run)) == ["00", "04", "05", "06", "07"]
