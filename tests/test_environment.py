"""The environment is declared once and the committed notebooks carry no participant data."""

import json
import re
import tomllib
from importlib import metadata

import yaml

from conftest import ROOT


def _pyproject_pins():
    """Every pin of pyproject.toml: the run dependencies and the test extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    assert all("==" in p for p in pins), "every dependency is pinned to an exact version"
    return dict(p.split("==") for p in pins)


def test_environment_yml_has_the_same_pins_as_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_pins = dict(p.split("==") for p in pip if "==" in p)
    assert conda_pins == _pyproject_pins()


def test_the_environment_running_the_tests_has_the_pinned_versions():
    # A venv left behind by an older pyproject.toml would run other code than the pins say.
    wrong = {name: metadata.version(name) for name, pin in _pyproject_pins().items()
             if metadata.version(name).split("+")[0] != pin}
    assert wrong == {}, f"installed versions differ from the pins (run `make venv`): {wrong}"


def test_committed_notebooks_carry_no_outputs_and_one_parameters_cell():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert [p.stem[:2] for p in notebooks] == [f"{i:02d}" for i in range(8)]
    for path in notebooks:
        nb = json.loads(path.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), path.name
        tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, path.name
        source = "".join(tagged[0]["source"])
        assert all(name in source for name in ("study =", "output_dir =")), path.name
        # Notebooks narrate, helpers compute: no function definitions in notebooks.
        assert not any(re.search(r"^\s*def ", "".join(c["source"]), re.M) for c in code), path.name


def test_outputs_and_private_data_are_ignored_by_git():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "outputs/" in ignored and "data/private/*" in ignored


def test_make_venv_switches_off_jupyterlabs_news_prompt():
    """JupyterLab would ask on first start whether to fetch news from the internet; the
    venv `make venv` builds has that plugin switched off (the compendium runs offline)."""
    import sys
    from pathlib import Path

    import pytest

    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip("these tests run outside the .venv that `make venv` builds")
    config = Path(sys.prefix) / "etc" / "jupyter" / "labconfig" / "page_config.json"
    disabled = json.loads(config.read_text())["disabledExtensions"]
    assert disabled.get("@jupyterlab/apputils-extension:announcements") is True
