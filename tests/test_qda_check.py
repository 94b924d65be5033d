"""Tests of tools/qda_check.py (`make qda-check`) that need neither ../shared nor PyQt6:
what it expects QualCoder to hold, how it words a loss, and its skip."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from test_qda_export import split, synthetic_inputs

from helpers.qda_codebook import export_codebook, export_taguette_codebook
from helpers.qda_export import export_qdpx, project_code_tree

TOOL = Path(__file__).resolve().parents[1] / "tools" / "qda_check.py"


@pytest.fixture(scope="module")
def qda_check():
    spec = importlib.util.spec_from_file_location("qda_check", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def export_dir(tmp_path):
    inputs = synthetic_inputs()
    export_qdpx(tmp_path / "refi-test.qdpx", *split(inputs))
    tree, _ = project_code_tree(*split(inputs))
    export_codebook(tmp_path / "codebook.qdc", tree, "refi-test")
    export_taguette_codebook(tmp_path / "codebook.csv", tree)
    return tmp_path


def test_expected_counts_of_the_synthetic_export(qda_check, export_dir):
    # codable codes: I01, I02 and the five group themes ("Not integrated" is a category);
    # codings: 11 group-theme + 10 integrated-theme; case text: one per participant turn
    # (Gwen 2, Lewis 1, Brenda 2, Alan 1); notes: 3 workshop decisions
    assert qda_check.expected_from_project(export_dir / "refi-test.qdpx") == {
        "source": 2, "code_name": 7, "code_text": 21, "cases": 4, "case_text": 6, "journal": 3}
    assert qda_check.expected_from_codebook(export_dir / "codebook.qdc") == {"code_name": 7}


def test_losses_name_what_did_not_arrive(qda_check):
    expected = {"source": 2, "code_name": 7, "code_text": 21, "cases": 4, "case_text": 6, "journal": 3}
    intact = {"counts": dict(expected), "codes_without_name": 0, "codings_without_code": 0,
              "codings_not_matching_source": 0, "exception": None}
    assert qda_check.losses(intact, expected) == []
    broken = {**intact, "codes_without_name": 5, "counts": {**expected, "case_text": 0},
              "exception": "Traceback ...\nAttributeError: 'NoneType' object has no attribute 'replace'\n"}
    assert qda_check.losses(broken, expected) == [
        "the import raised: AttributeError: 'NoneType' object has no attribute 'replace'",
        "5 codes without name", "case_text: 0 arrived, 6 exported"]


def test_taguette_losses(qda_check):
    assert qda_check.taguette_losses(["a", "b"], "", 2) == []
    assert qda_check.taguette_losses(["a", "a"], "", 2) == ["1 repeated tags (Taguette imports one of each)",
                                                            "1 tags arrived, 2 codable codes exported"]
    assert qda_check.taguette_losses([], "No 'tag', 'name', or 'path' column", 2) == [
        "Taguette refused the codebook: No 'tag', 'name', or 'path' column"]


def test_skipped_without_shared_and_stopped_without_an_export(qda_check, tmp_path, capsys):
    assert qda_check.main(["--shared", str(tmp_path / "nowhere"), "--export-dir", str(tmp_path)]) == 0
    assert "qda-check skipped" in capsys.readouterr().out
    clients = tmp_path / "shared" / "qda-clients"
    clients.mkdir(parents=True)
    (clients / "qualcoder_import.py").write_text("")
    assert qda_check.main(["--shared", str(tmp_path / "shared"), "--export-dir", str(tmp_path / "empty")]) == 2
    assert "run `make all` first" in capsys.readouterr().out
