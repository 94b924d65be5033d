"""Keep numba's compiled machine code for UMAP between processes.

UMAP and pynndescent compile most of their numba functions without ``cache=True``, so
every new process (each notebook kernel, each test run) spends about nine seconds
compiling the same code before its first fit. Turning on numba's own on-disk cache for
those functions makes the compile a one-off per machine; the machine code, and so every
result, is the same as a fresh compile.

The cache lives where ``NUMBA_CACHE_DIR`` points (the Makefile puts it in ``.venv``),
or beside the installed package when that is writable.
"""

from __future__ import annotations

import sys

_DONE = False
_PACKAGES = ("umap", "pynndescent")


def cache_compiled_umap() -> int:
    """Import UMAP and enable numba's disk cache on its uncached functions (idempotent).

    Returns how many functions were switched over (0 on later calls)."""
    global _DONE
    if _DONE:
        return 0
    import umap  # noqa: F401  (imports every submodule that defines numba functions)
    import umap.umap_  # noqa: F401
    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher

    switched = 0
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in _PACKAGES:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, Dispatcher) and isinstance(value._cache, NullCache):
                value.enable_caching()
                switched += 1
    _DONE = True
    return switched


def warm_up() -> None:
    """Compile and cache UMAP's code for the inputs the pipeline gives it (float32
    embeddings for the theme models, float64 for segment maps), so that even the first
    notebook run after installing starts from compiled code. `make venv` calls this."""
    import warnings

    import numpy as np

    cache_compiled_umap()
    from umap import UMAP

    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dtype, dims in ((np.float32, 5), (np.float64, 2)):
            x = rng.normal(size=(40, 16)).astype(dtype)
            UMAP(n_neighbors=5, n_components=dims, metric="cosine", random_state=0, n_jobs=1,
                 n_epochs=5).fit_transform(x)


if __name__ == "__main__":
    import time

    started = time.perf_counter()
    warm_up()
    print(f"UMAP compiled and cached for this machine in {time.perf_counter() - started:.0f} s")
