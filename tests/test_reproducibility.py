"""A reviewer's rerun: the same inputs give the same bytes, with the network disabled,
and `make verify` says so (or names what differs).

Two full `make all` runs of the small fixture study. The first is made the README's way
(conftest's ``readme_run``, shared with test_explore): from the repository root, the
default relative ``OUTPUT_DIR`` and the default environment. The second is `make verify`
against the first run's manifest, inside a network namespace with no interface but
loopback (``unshare -n``) where the machine allows it. Both runs carry the Python-level
guard of tests/no_network, which refuses and logs any connection or host-name lookup
outside this machine in every process they start.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import GUARD, ROOT, SMALL_STUDY, guarded_env
from helpers import runs
from helpers.manifest import result_files

#: Runs `make`, a notebook, a browser or a whole study: left out of `make test-fast`.
pytestmark = pytest.mark.slow

TABLES = ("group_themes.csv", "integrated_themes.csv", "theme_assignments.parquet")


def can_isolate_network() -> bool:
    """True when this machine lets us run a command in a namespace with no network."""
    if not (shutil.which("unshare") and shutil.which("ip")):
        return False
    probe = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True)
    return probe.returncode == 0


@pytest.fixture(scope="module")
def reruns(readme_run, tmp_path_factory):
    """The README's run (conftest.readme_run), then `make verify` of it into a folder of its own."""
    first, log = readme_run["out"], readme_run["log"]
    second = tmp_path_factory.mktemp("rerun") / "second"
    verify = ["make", "--no-print-directory", "verify", f"STUDY={SMALL_STUDY.relative_to(ROOT)}",
              f"MANIFEST={first / 'run_manifest.json'}", f"VERIFY_DIR={second}"]
    isolated = can_isolate_network()
    if isolated:  # no interface but loopback: nothing could leave this machine even unguarded
        verify = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *verify]
    rerun = subprocess.run(verify, cwd=ROOT, env=guarded_env(log), capture_output=True, text=True)
    return {"first": first, "second": second, "rerun": rerun, "log": log, "isolated": isolated,
            "run": readme_run["run"], "new_entries": readme_run["new_entries"]}


def test_two_runs_give_byte_identical_theme_tables(reruns):
    assert reruns["rerun"].returncode == 0, reruns["rerun"].stdout[-2000:] + reruns["rerun"].stderr[-2000:]
    for name in TABLES:
        first, second = reruns["first"] / name, reruns["second"] / name
        assert first.stat().st_size > 0
        assert first.read_bytes() == second.read_bytes(), f"{name} differs between two runs"


def test_the_readme_run_prints_no_kernel_error_or_warning(reruns):
    printed = reruns["run"].stdout + reruns["run"].stderr
    for sign in ("Error", "error", "Warning", "warning", "didn't respond", "Traceback", "failed"):
        assert sign not in printed, f"`make all` printed {sign!r}:\n{printed[-3000:]}"
    assert printed.count("✓") == len(runs.stages()) + 1  # every stage, then the manifest


def test_the_readme_run_writes_nothing_outside_its_output_folder(reruns):
    # .venv/ is where `make venv` installs; everything else must stay untouched.
    stray = sorted(p for p in reruns["new_entries"] if not p.startswith(("outputs/", ".venv/")))
    assert stray == [], f"a run wrote outside outputs/: {stray}"


def test_the_manifest_of_the_readme_run_is_complete(reruns):
    manifest = json.loads((reruns["first"] / "run_manifest.json").read_text())
    assert [n["notebook"] for n in manifest["notebooks"]] == [f"notebooks/{s}.ipynb" for s in runs.stages()]
    assert all(n["wall_seconds"] > 0 and n["peak_mb"] > 0 for n in manifest["notebooks"])
    on_disk = {str(p.relative_to(reruns["first"])) for p in result_files(reruns["first"])}
    assert {o["path"] for o in manifest["outputs"]} == on_disk
    assert {i["path"] for i in manifest["inputs"]} >= {str(SMALL_STUDY.relative_to(ROOT))}


def test_the_report_of_the_readme_run_has_its_reproducibility_section_filled(reruns):
    import hashlib
    import html
    import re

    manifest = json.loads((reruns["first"] / "run_manifest.json").read_text())
    page = (reruns["first"] / "report.html").read_text(encoding="utf-8")
    section = html.unescape(re.search(r'<section id="reproducibility">(.*?)</section>', page, re.S).group(1))
    assert "Not filled" not in section and "could not be built" not in section
    for item in manifest["inputs"]:
        assert item["path"] in section and item["sha256"][:12] in section
    for name, version in manifest["environment"]["packages"].items():
        assert f"<td>{name}</td><td>{version}</td>" in section
    assert f"make verify STUDY={SMALL_STUDY.relative_to(ROOT)} MANIFEST=" in section
    assert "seed</code> = 20200" in section
    # each notebook's own settings, as values (never a Python object's repr)
    assert "04_group_themes: max_themes=12, model=default, n_runs=10, n_themes={}, seed=20200" in section
    assert "built-in method" not in section and " object at 0x" not in page
    # the report lists every output but itself; the manifest adds the report's own sha256 last
    others = [o for o in manifest["outputs"] if o["path"] != "report.html"]
    assert len(others) == len(manifest["outputs"]) - 1
    assert f"{len(others)} output files carry a sha256" in section
    digest = hashlib.sha256("".join(f"{o['path']}  {o['sha256']}\n"
                                    for o in sorted(others, key=lambda o: o["path"])).encode()).hexdigest()
    assert digest in section
    report = next(o for o in manifest["outputs"] if o["path"] == "report.html")
    assert report["sha256"] == runs.sha256(reruns["first"] / "report.html")


def test_make_verify_finds_every_output_of_the_published_run_identical(reruns):
    published = json.loads((reruns["first"] / "run_manifest.json").read_text())
    n = len(published["outputs"])
    assert n >= 20 and {o["path"] for o in published["outputs"]} >= set(TABLES)
    assert f"{n} of {n} outputs identical" in reruns["rerun"].stdout


def test_the_pipeline_ran_without_reaching_for_the_network(reruns):
    assert reruns["rerun"].returncode == 0
    attempts = reruns["log"].read_text() if reruns["log"].exists() else ""
    assert attempts == "", f"the pipeline tried to use the network:\n{attempts}"
    if not reruns["isolated"]:
        pytest.skip("unshare -n is not permitted here; the run was checked by the socket guard alone")


def test_make_verify_names_an_output_that_differs(reruns, tmp_path):
    published = json.loads((reruns["first"] / "run_manifest.json").read_text())
    for item in published["outputs"]:
        if item["path"] == "group_themes.csv":
            item["sha256"] = "0" * 64
    tampered = tmp_path / "run_manifest.json"
    tampered.write_text(json.dumps(published))
    check = subprocess.run([sys.executable, "-m", "helpers.pipeline", "verify", str(tampered),
                            str(reruns["second"] / "run_manifest.json")], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 1
    assert "✗ group_themes.csv: sha256 differs" in check.stdout


def test_make_verify_without_a_manifest_says_how_to_call_it():
    run = subprocess.run(["make", "--no-print-directory", "verify", "MANIFEST=no/such/run_manifest.json"], cwd=ROOT,
                         env=guarded_env(os.devnull), capture_output=True, text=True)
    assert run.returncode != 0 and "does not exist" in run.stdout


def _guard_module():
    spec = importlib.util.spec_from_file_location("network_guard", GUARD / "sitecustomize.py")
    module = importlib.util.module_from_spec(spec)
    saved = (__import__("socket").socket.connect, __import__("socket").socket.connect_ex,
             __import__("socket").getaddrinfo)
    try:
        spec.loader.exec_module(module)
    finally:  # only the decision function is wanted here; keep this process's sockets as they were
        import socket

        socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = saved
    return module


def test_network_guard_allows_loopback_only():
    import socket

    guard = _guard_module()
    assert guard.allowed(socket.AF_INET, ("127.0.0.1", 8888))
    assert guard.allowed(socket.AF_INET6, ("::1", 8888, 0, 0))
    assert guard.allowed(socket.AF_INET, ("localhost", 0))
    assert guard.allowed(getattr(socket, "AF_UNIX", 1), "/tmp/kernel.sock")
    assert not guard.allowed(socket.AF_INET, ("10.0.0.1", 443))
    assert not guard.allowed(socket.AF_INET, ("huggingface.co", 443))
    assert not guard.allowed(socket.AF_INET6, ("2001:db8::1", 443, 0, 0))


def test_network_guard_is_installed_in_every_python_process_of_a_run():
    probe = subprocess.run([sys.executable, "-c", "import socket; print(socket.socket.connect.__name__, "
                            "socket.getaddrinfo.__name__)"], env=guarded_env(os.devnull), capture_output=True,
                           text=True)
    assert probe.stdout.split() == ["guarded_connect", "guarded_getaddrinfo"]


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in os.listdir("/proc"):
        if stat.isdigit():
            try:
                ppid = int(open(f"/proc/{stat}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(stat))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads the process tree from /proc")
def test_a_killed_run_leaves_no_process_and_nothing_looking_current_and_a_rerun_matches(reruns, tmp_path):
    import signal
    import time

    out = tmp_path / "killed"
    shutil.copytree(reruns["first"], out)            # a finished run, as a user would have it
    for executed in (out / "notebooks").glob("0[3-7]*.ipynb"):
        executed.unlink()                              # stages 03-07 must run again
    study = SMALL_STUDY.relative_to(ROOT)
    make = subprocess.Popen(["make", "--no-print-directory", "all", f"STUDY={study}", f"OUTPUT_DIR={out}"],
                            cwd=ROOT, env=guarded_env(os.devnull), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    printed = ""
    while "▶ 04_group_themes" not in printed:
        line = make.stdout.readline()
        assert line, f"the run ended before stage 04:\n{printed}"
        printed += line
    time.sleep(3)                                      # the theme fits and their workers are running
    tree = _descendants(make.pid) | {make.pid}
    os.killpg(make.pid, signal.SIGKILL)
    make.wait()
    deadline = time.time() + 20
    while time.time() < deadline and any(_alive(p) for p in tree):
        time.sleep(0.5)
    assert [p for p in tree if _alive(p)] == [], "processes of the killed run are still alive"
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert manifest["status"].startswith("incomplete") and not (out / "report.html").exists()
    assert not (out / "export").exists()
    rerun = subprocess.run(["make", "--no-print-directory", "all", f"STUDY={study}", f"OUTPUT_DIR={out}"], cwd=ROOT,
                           env=guarded_env(os.devnull), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]
    for item in json.loads((reruns["first"] / "run_manifest.json").read_text())["outputs"]:
        assert (out / item["path"]).read_bytes() == (reruns["first"] / item["path"]).read_bytes(), item["path"]
