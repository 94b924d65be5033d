"""Seconds per step of a benchmark script."""

import time


class Laps:
    """``lap(name)`` records the seconds since the previous lap (or since creation)."""

    def __init__(self, digits: int = 1):
        self.seconds: dict[str, float] = {}
        self._digits = digits
        self._mark = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._mark, self._digits)
        self._mark = now
