"""UMAP's compiled code is kept on disk, so each notebook kernel skips numba's compile."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

#: Runs `make`, a notebook, a browser or a whole study: left out of `make test-fast`.
pytestmark = pytest.mark.slow


def _env(tmp_path) -> dict:
    """A fresh numba cache folder for the probe, seeded with the machine's cache (as
    `make test` sets NUMBA_CACHE_DIR) so importing umap does not recompile all of it,
    but without the entry the test looks for."""
    cache = tmp_path / "numba"
    machine = os.environ.get("NUMBA_CACHE_DIR")
    if machine and Path(machine).is_dir():
        shutil.copytree(machine, cache, ignore=shutil.ignore_patterns("layouts.clip-*"))
    return {"NUMBA_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src"),
            "PYTHONDONTWRITEBYTECODE": "1"}  # as every run: no __pycache__ beside the sources


def test_umap_functions_get_a_disk_cache_once(tmp_path):
    probe = """
import os
from helpers._numba import cache_compiled_umap
first, again = cache_compiled_umap(), cache_compiled_umap()
from umap import umap_
from numba.core.caching import NullCache
print(first, again, isinstance(umap_.smooth_knn_dist._cache, NullCache))
"""
    out = subprocess.run([sys.executable, "-c", probe], env=_env(tmp_path), capture_output=True, text=True,
                         check=True).stdout
    first, again, still_uncached = out.split()
    assert int(first) > 50 and int(again) == 0 and still_uncached == "False"


def test_compiled_umap_code_is_written_to_the_cache_folder(tmp_path):
    """After a call, numba has stored the machine code where NUMBA_CACHE_DIR points, for
    the next process to load (a small function, so the test compiles in a second)."""
    call = """
from helpers._numba import cache_compiled_umap
cache_compiled_umap()
from umap import layouts
assert layouts.clip(5.0) == 4.0
"""
    env = _env(tmp_path)
    subprocess.run([sys.executable, "-c", call], env=env, check=True, capture_output=True)
    assert list(Path(env["NUMBA_CACHE_DIR"]).rglob("layouts.clip-*.nbi")), "no cache index written for layouts.clip"
