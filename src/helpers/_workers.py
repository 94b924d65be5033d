"""Worker processes shared by the helpers.

Notebook 04 runs its resampled theme runs (and the LDA and k-means baselines) in a pool
of worker processes; notebook 06 draws the per-group figures in a process
of its own while it draws the integrated maps. On a one-core machine every task runs in
the calling process instead, when its result is asked for.
"""

from __future__ import annotations

import os
import threading
import time

#: How often a worker checks that the process that started it is still alive (seconds).
PARENT_CHECK_SECONDS = 1.0


def _die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker when the process that started it is gone.

    A notebook kernel killed with SIGKILL cannot shut its pool down, and idle workers
    would otherwise live on, holding memory. Where Linux allows, the kernel itself kills
    the worker (PR_SET_PDEATHSIG); everywhere, a watchdog thread exits once the parent
    process id changes (the worker was re-parented)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError, TypeError):
        pass
    if os.getppid() != parent_pid:
        os._exit(0)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="watch-parent").start()


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent_pid:
            os._exit(0)


def _pool(max_workers: int, env: dict | None = None):
    from joblib.externals.loky.process_executor import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=max_workers, env=env, initializer=_die_with_parent,
                               initargs=(os.getpid(),))


def n_workers(n_jobs: int | None = None) -> int:
    """Processes for independent runs: ``n_jobs`` if given (>0), else every core."""
    if n_jobs and n_jobs > 0:
        return int(n_jobs)
    return max(os.cpu_count() or 1, 1)


class _Later:
    """A task run in this process when its result is asked for (the one-process case)."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def result(self):
        return self.func(*self.args)


def submit(func, *args, n_jobs: int | None = None):
    """Start ``func(*args)`` in this module's pool of worker processes (kept for reuse
    until :func:`stop_workers`) and return a future; with one worker, return a task that
    runs here when ``.result()`` is called."""
    global _POOL
    workers = n_workers(n_jobs)
    if workers <= 1:
        return _Later(func, args)
    if _POOL is None:
        # A pool of our own, not loky's process-wide reusable one: joblib.Parallel
        # expects that one to be its own kind of executor.
        # One BLAS thread per worker: the workers already fill the cores.
        single = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
        _POOL = _pool(workers, single)
    return _POOL.submit(func, *args)


_POOL = None


def stop_workers() -> None:
    """Shut the worker processes down (they are otherwise kept for reuse)."""
    global _POOL
    if _POOL is not None:
        _POOL.shutdown(wait=True)
        _POOL = None


class _OwnProcess:
    """A task in a worker process of its own, which stops once the result is collected."""

    def __init__(self, func, args):
        self._pool = _pool(1)
        self._future = self._pool.submit(func, *args)

    def result(self):
        try:
            return self._future.result()
        finally:
            self._pool.shutdown(wait=True)


def in_own_process(func, *args):
    """Start ``func(*args)`` in a new worker process and return a task whose ``.result()``
    waits for it; with one core, a task that runs here when ``.result()`` is called."""
    if n_workers() <= 1:
        return _Later(func, args)
    return _OwnProcess(func, args)

