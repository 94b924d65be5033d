"""docs/teaching.md: every command on the page is run as written (from the repository's
root, in order) and every path it names is checked to exist."""

import re
import shutil
import subprocess

import pytest

from conftest import ROOT
from test_runs import make_env, ran

#: Runs `make`, a notebook, a browser or a whole study: left out of `make test-fast`.
pytestmark = pytest.mark.slow

GUIDE = ROOT / "docs" / "teaching.md"


def _commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", GUIDE.read_text(), re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def _paths() -> list[str]:
    quoted = re.findall(r"`([^`\s]+)`", GUIDE.read_text())
    return sorted({q for q in quoted if "/" in q and "<" not in q and not q.startswith(("-", "make"))})


def _run(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=ROOT, env=make_env(), capture_output=True, text=True)


def test_every_command_and_path_of_the_teaching_guide():
    from test_runs import test_make_lab_answers_on_localhost_with_the_projects_kernel_and_stops as lab_check

    commands = _commands()
    assert commands[0] == "mkdir -p data/private/class" and commands[-1] == "rm -rf data/private/class outputs/class"
    shutil.rmtree(ROOT / "data" / "private" / "class", ignore_errors=True)
    shutil.rmtree(ROOT / "outputs" / "class", ignore_errors=True)
    makes, stopped = [], False
    try:
        for command in commands[:-1]:
            if command == "make lab":       # a server: started, asked, stopped by the same check as make lab's
                import pathlib
                import tempfile

                with tempfile.TemporaryDirectory() as tmp:
                    lab_check(pathlib.Path(tmp))
                continue
            run = _run(command)
            if command.startswith("make all") and makes:
                # the exercise: 04 to 07 rerun; notebook 05 carries the decisions over or stops
                # with its sentence naming the setting that changed
                stopped = run.returncode != 0
                assert ran(run) == (["04", "05"] if stopped else ["04", "05", "06", "07"]), run.stdout[-2000:]
                assert not stopped or "n_themes" in run.stderr, run.stderr[-2000:]
            else:
                assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
            makes += [command] if command.startswith("make all") else []
        rebase = "make rebase-workshops STUDY=data/private/class/study.yml OUTPUT_DIR=outputs/class"
        assert rebase in GUIDE.read_text().replace("\n", " ")
        if stopped:
            files = {p: p.read_bytes() for p in (ROOT / "data" / "private" / "class" / "workshops").iterdir()}
            rebased = _run(rebase)
            if rebased.returncode == 0:   # every pinned theme had a successor: the guide's `make all` applies
                assert _run(makes[0]).returncode == 0
            else:  # a theme only a person can place: said so, and its workshop file left as it was
                assert "need a person's decision" in rebased.stdout, rebased.stdout[-2000:] + rebased.stderr[-2000:]
                undecided = re.findall(r"^= (\S+): left as it is", rebased.stdout, re.M)
                assert undecided and all((ROOT / p).read_bytes() == files[ROOT / p] for p in undecided)
            # the guide's way back: n_themes as it was, and the run applies every decision again
            (ROOT / "data" / "private" / "class" / "study.yml.bak").replace(ROOT / "data" / "private" / "class" / "study.yml")
            for p, content in files.items():
                p.write_bytes(content)
            assert _run(makes[0]).returncode == 0
        missing = [p for p in _paths() if not (ROOT / p).exists()]
        assert missing == [], missing
    finally:
        assert _run(commands[-1]).returncode == 0
    assert not (ROOT / "data" / "private" / "class").exists() and not (ROOT / "outputs" / "class").exists()
