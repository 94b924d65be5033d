"""Worker processes end with the process that started them."""

import os
import signal
import subprocess
import sys
import time

from conftest import ROOT

CHILD = """
import os, sys, time
sys.path.insert(0, {src!r})
from helpers import _workers
future = _workers.submit(os.getpid, n_jobs=2)
print(future.result(), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its reaper is gone for our purpose
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_workers_die_when_their_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", CHILD.format(src=str(ROOT / "src"))], stdout=subprocess.PIPE,
                              text=True)
    worker = int(parent.stdout.readline())
    assert worker != parent.pid and _alive(worker)
    parent.send_signal(signal.SIGKILL)  # as when a notebook kernel is killed
    parent.wait()
    deadline = time.monotonic() + 60  # generous: the watchdog checks every second
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(worker), f"worker {worker} outlived its killed parent"
