"""Kernels started ahead of the stage that will use them ("spare kernels").

Every numbered notebook runs in a kernel of its own, so a stage never sees another
stage's variables. Starting a kernel and importing the libraries a stage needs costs
time on the critical path: about 0.6 s for the kernel, and seconds for torch,
sentence-transformers and BERTopic (notebook 04 imports them again after 03 did).

Under ``make``, the runner of a stage therefore starts one spare kernel for each stage
that directly depends on it, while its own notebook runs. A spare imports that stage's
libraries and helper modules and then waits, with an empty user namespace, to be
claimed. The next stage's runner claims it (by creating a marker file, which only one
process can) and executes the notebook in it exactly as in a freshly started kernel: the same
interpreter, environment, working directory and modules, only imported earlier, on a
core that would otherwise wait. Results are identical with and without spares
(``COMPENDIUM_SPARE_KERNELS=0`` turns them off; a test compares the two).

A spare that is never claimed (a stage failed, or only one target was asked for) exits
as soon as the ``make`` that started its runner exits, and after an hour at most.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

#: The stages that read each stage's results directly; mirrors the Makefile (a test
#: compares the two). The runner of a stage starts spares for these.
NEXT_STAGES: dict[str, tuple[str, ...]] = {
    "00_process_model": (),
    "01_ingest_transcripts": ("02_describe_groups", "03_embed_segments"),
    "02_describe_groups": (),  # 07 also reads 02, but 06 finishes later and starts 07's spare
    "03_embed_segments": ("04_group_themes",),
    "04_group_themes": ("05_coproduction_workshops",),
    "05_coproduction_workshops": ("06_thematic_maps",),
    "06_thematic_maps": ("07_export",),
    "07_export": (),
}

#: What a stage's spare imports before it is claimed: the helper modules its notebook
#: imports and the slow libraries behind them. A module missing here is only imported later.
PRELOAD: dict[str, tuple[str, ...]] = {
    "02_describe_groups": ("helpers.pipeline", "helpers.describe", "matplotlib.pyplot"),
    "03_embed_segments": ("helpers.pipeline", "helpers.embeddings", "sentence_transformers"),
    "04_group_themes": ("helpers.pipeline", "helpers.themes", "bertopic", "hdbscan", "umap"),
    "05_coproduction_workshops": ("helpers.pipeline", "helpers.coproduction"),
    "06_thematic_maps": ("helpers.pipeline", "helpers.maps"),
    "07_export": ("helpers.pipeline", "helpers.qda_export", "helpers.agreement", "helpers.report"),
}

#: Stages whose results nothing reads until the run's end (00's figure, 02's tables for
#: 07's report). Under make they, and their spares, run at a lower CPU priority, so the
#: stages every later one waits for (01, then 03 and 04) get the cores first.
LOW_PRIORITY = ("00_process_model", "02_describe_groups")
NICENESS = 10


def lower_priority_if_background(stage: str) -> bool:
    """Lower this process's CPU priority (and so that of the kernel and workers it starts)
    when ``stage`` is one nothing waits for; True if it did."""
    if stage not in LOW_PRIORITY:
        return False
    try:
        os.nice(NICENESS)
    except OSError:
        return False
    return True


#: The kernel's start-up warning about unencrypted TCP (it listens on loopback only) would
#: otherwise print once per notebook; cell warnings still show.
QUIET_KERNEL_ARGUMENT = "--IPKernelApp.log_level=ERROR"
#: What a freshly started kernel gets from the runner (the first) and nbclient (the second).
KERNEL_ARGUMENTS = (QUIET_KERNEL_ARGUMENT, "--HistoryManager.hist_file=:memory:")

#: A spare nobody claims exits after this many seconds even if make is still running
#: (long enough for notebook 03 to embed a 100,000-segment corpus while 04's spare waits).
MAX_WAIT_SECONDS = 3600

ENABLE_VARIABLE = "COMPENDIUM_SPARE_KERNELS"


def enabled() -> bool:
    """Spares are used only by runners that make started (so a make process bounds their
    life), and not when ``COMPENDIUM_SPARE_KERNELS=0``."""
    return "MAKELEVEL" in os.environ and os.environ.get(ENABLE_VARIABLE, "1") != "0"


def spare_folder(executed_folder: Path) -> Path:
    return executed_folder / ".spare-kernels"


def _connection_file(folder: Path, stage: str) -> Path:
    return folder / f"{stage}.json"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A killed process whose parent has not collected it yet still answers kill(0).
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def start_spares(stage: str, executed_folder: Path, cwd: Path, make_pid: int | None = None) -> list[Path]:
    """Start a spare kernel for each stage that directly follows ``stage``; return their
    connection files. Each lives while ``make_pid`` (by default this runner's parent, the
    make that started it) does. Does nothing unless :func:`enabled`."""
    if not enabled():
        return []
    make_pid = os.getppid() if make_pid is None else int(make_pid)
    from jupyter_client.connect import write_connection_file

    folder = spare_folder(executed_folder)
    folder.mkdir(parents=True, exist_ok=True)
    # A kernel given JPY_PARENT_PID exits when that process does; a spare must outlive
    # the runner that starts it (its watchdog ties it to make instead).
    env = {k: v for k, v in os.environ.items() if k != "JPY_PARENT_PID"}
    started = []
    for following in NEXT_STAGES.get(stage, ()):
        connection = _connection_file(folder, following)
        discard(connection)  # files left by an earlier run, if any
        _, info = write_connection_file(str(connection), ip="127.0.0.1")
        with open(connection.with_suffix(".log"), "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "helpers.kernels", str(connection), str(make_pid),
                 ",".join(PRELOAD.get(following, ()))],
                cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        # The claimer reads the ports and key from here: the kernel rewrites its connection
        # file while it starts, and a half-written file must not be read.
        info = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in info.items()}
        _write_json(connection.with_suffix(".owner"), {"pid": process.pid, "make_pid": make_pid,
                                                        "connection": info})
        started.append(connection)
    return started


def _write_json(path: Path, value: dict) -> None:
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(value), encoding="utf-8")
    os.replace(part, path)


def _read_owner(connection: Path) -> dict | None:
    try:
        return json.loads(connection.with_suffix(".owner").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def discard(connection: Path) -> None:
    """Remove a spare's files. (A spare of another make run stops itself; its pid is not
    ours to kill, as it may since have been reused.)"""
    for suffix in (".json", ".claimed", ".owner", ".log"):
        connection.with_suffix(suffix).unlink(missing_ok=True)


def kill_group(pid: int) -> None:
    """Kill a spare kernel and the worker processes it started (its own session)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def claim(stage: str, executed_folder: Path):
    """The spare kernel started for ``stage`` by this make run, as a kernel manager for
    papermill, or None (no spare, another make's spare, or it has exited)."""
    if not enabled():
        return None
    connection = _connection_file(spare_folder(executed_folder), stage)
    owner = _read_owner(connection)
    if not owner or int(owner["make_pid"]) != os.getppid():
        return None  # none, or another make's (which stops by itself)
    if not alive(int(owner["pid"])):
        discard(connection)
        return None
    try:  # exactly one runner creates the marker; the spare's watchdog sees it is taken
        os.close(os.open(connection.with_suffix(".claimed"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return None
    # The connection file itself stays: a spare still starting reads its ports from it.
    return SpareKernelManager(connection, int(owner["pid"]), owner["connection"])


class SpareKernelManager(AsyncKernelManager):
    """A kernel manager for a spare: it connects to a kernel another process started, and
    kills it (with its workers); it never starts one."""

    def __init__(self, connection: Path, pid: int, info: dict, **kwargs):
        super().__init__(kernel_name="python3", **kwargs)
        self.spare_connection, self.spare_pid = connection, pid
        self.load_connection_info(info)

    @property
    def has_kernel(self) -> bool:
        return alive(self.spare_pid)

    async def _async_is_alive(self) -> bool:
        return alive(self.spare_pid)

    is_alive = _async_is_alive

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        kill_group(self.spare_pid)

    shutdown_kernel = _async_shutdown_kernel

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        discard(self.spare_connection)

    cleanup_resources = _async_cleanup_resources

    def stop(self) -> None:
        """Kill the kernel and its workers, and remove the spare's files."""
        kill_group(self.spare_pid)
        discard(self.spare_connection)


def peak_mb(pid: int) -> float | None:
    """The peak resident memory of a running process, from /proc (None if unreadable)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# --------------------------------------------------------------------------- the spare itself

def _watch(connection: Path, make_pid: int) -> None:
    """Exit this spare when the make that started it has gone (claimed or not, so a
    runner killed mid-notebook leaves nothing behind), or when nobody claims it in time
    (claiming creates the marker ``.claimed`` beside its connection file)."""
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    claimed = connection.with_suffix(".claimed")
    while True:
        if not alive(make_pid) or (time.monotonic() > deadline and not claimed.exists()):
            discard(connection)
            os._exit(0)
        time.sleep(0.2)


def preload(modules: tuple[str, ...]) -> None:
    """Import ``modules`` (called in the spare's user namespace, leaving no names in it).
    A module that fails to import is skipped: the notebook's own import will report it."""
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the notebook shows the real error
            pass


def serve(connection: Path, make_pid: int, modules: tuple[str, ...]) -> None:
    """Run a spare kernel: watch for make's exit, import ``modules``, then serve."""
    lower_priority_if_background(connection.stem)  # before any thread starts: all inherit it
    threading.Thread(target=_watch, args=(connection, make_pid), daemon=True).start()
    from ipykernel.kernelapp import IPKernelApp

    # exec_lines run in the kernel's shell once it exists, as a notebook's first import
    # would (so, for example, a library's log handler writes to the notebook's output).
    # The call returns None and binds no name, so the user namespace stays empty.
    startup = f"__import__('helpers.kernels').kernels.preload({tuple(modules)!r})" if modules else ""
    IPKernelApp.launch_instance(argv=["-f", str(connection), *KERNEL_ARGUMENTS],
                                exec_lines=[startup] if startup else [])


if __name__ == "__main__":
    connection_arg, make_pid_arg, modules_arg = sys.argv[1:4]
    serve(Path(connection_arg), int(make_pid_arg), tuple(m for m in modules_arg.split(",") if m))
