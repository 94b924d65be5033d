"""How the embedding and theme stages grow with the corpus.

Builds a corpus of N segments by resampling sentences of the bundled transcripts across
many synthetic focus groups (each keeps its participant group: a patient's sentence only
lands in a patients-and-carers group), then runs, in this one process, exactly what
notebooks 03 and 04 run: embed every segment (cold cache), start the resampled theme runs,
build each group's themes, collect the quality table, and compute the 2-D segment
map, then save each group's BERTopic model. Prints one JSON object with seconds per step and
the peak memory of each stage's work (03: the corpus and embedding; 04: everything after).

    python benchmarks/scale.py N_SEGMENTS [WORK_FOLDER] [SEED]
"""

from __future__ import annotations

import json
import resource
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class PeakMemory:
    """Samples the resident memory of this process and all its children (the refit
    workers included) every 0.2 s; ``peak_mb`` is the largest total seen."""

    def __init__(self, interval: float = 0.2):
        import psutil

        self._me = psutil.Process()
        self.interval, self.peak_mb = interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _total_mb(self) -> float:
        import psutil

        total = 0
        for proc in [self._me, *self._me.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self._total_mb())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def sentence_pools(study_path: Path) -> dict[str, list[str]]:
    """Every participant sentence of the study, by participant group."""
    from helpers.embeddings import window_turn
    from helpers.study import load_study
    from helpers.transcripts import read_study_turns

    turns = read_study_turns(load_study(study_path))
    turns = turns[turns["role"] == "participant"]
    pools: dict[str, list[str]] = {}
    for turn in turns.itertuples(index=False):
        for start, end in window_turn(turn.text, max_sentences=1, max_words=10_000, min_words=0):
            pools.setdefault(turn.participant_group, []).append(turn.text[start:end])
    return pools


def synthetic_segments(n_segments: int, seed: int, study_path: Path = ROOT / "data" / "study.yml"):
    """``n_segments`` analysis segments from synthetic focus groups of resampled sentences.

    Groups of 6 speakers take 60 turns each; a turn is 1–5 sentences of its participant
    group, so windowing into segments works as it does on real talk."""
    import numpy as np
    import pandas as pd

    from helpers.embeddings import make_segments

    rng = np.random.default_rng(seed)
    pools = sentence_pools(study_path)
    groups = sorted(pools)
    parts, total, fg = [], 0, 0
    while total < n_segments:
        rows = []
        for _ in range(max(30, (n_segments - total) // 60 + 1)):
            fg += 1
            group = groups[fg % len(groups)]
            pool = pools[group]
            for turn in range(1, 61):
                picks = rng.integers(0, len(pool), size=int(rng.integers(1, 6)))
                rows.append({"focus_group": f"SFG{fg:05d}", "participant_group": group, "turn": turn,
                             "speaker": f"Speaker{int(rng.integers(1, 7))}", "role": "participant",
                             "text": " ".join(pool[i] for i in picks)})
        segments = make_segments(pd.DataFrame(rows))
        parts.append(segments)
        total += len(segments)
    return pd.concat(parts, ignore_index=True).head(n_segments)


def run(n_segments: int, work: Path, seed: int = 20200) -> dict:
    import numpy as np

    from helpers import embeddings, maps, themes

    from _laps import Laps

    laps = Laps()
    lap, steps = laps.lap, laps.seconds

    with PeakMemory() as memory_03:
        segments = synthetic_segments(n_segments, seed)
        lap("build corpus")
        cache = embeddings.EmbeddingCache(work / "cache", model="default")
        vectors = cache.embed(segments["text"].tolist(), groups=segments["participant_group"].tolist())
        lap("embed (notebook 03)")
    with PeakMemory() as memory_04:
        groups = sorted(segments["participant_group"].unique())
        settings = themes.ThemeSettings(seed=seed)
        runs = themes.ConsensusRuns(segments, vectors, groups, settings)
        result = themes.analyse_groups(segments, vectors, groups, settings, runs=runs)
        lap("theme models (consensus runs, BERTopic per group, labels)")
        quality = themes.theme_quality(segments, vectors, result, seed)
        lap("stability and baseline")
        maps.segment_positions(segments, vectors, groups, seed)
        lap("segment map")
        themes.save_models(result, work / "models")
        lap("save BERTopic models")
    return {
        "segments": int(len(segments)),
        "segments_per_group": {g: int(n) for g, n in segments["participant_group"].value_counts().sort_index().items()},
        "themes_per_group": {g: int(len(set(fit.topics))) for g, fit in result.fits.items()},
        "stability_ari": {r.participant_group: float(r.value) for r in quality.itertuples()
                          if r.scope == "group" and r.model == "consensus" and r.metric == "stability_ari_mean"},
        "seconds": steps,
        "seconds_total": round(sum(steps.values()), 1),
        "seconds_embed_and_themes": round(sum(v for k, v in steps.items() if k != "build corpus"), 1),
        "seconds_03": round(sum(v for k, v in steps.items() if k.startswith("embed")), 1),
        "seconds_04": round(sum(v for k, v in steps.items() if k not in ("build corpus",) and not k.startswith("embed")), 1),
        "peak_mb_03_all_processes": round(memory_03.peak_mb, 1),
        "peak_mb_04_all_processes": round(memory_04.peak_mb, 1),
        "peak_mb_main_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "embedding_bytes": int(np.asarray(vectors).nbytes),
    }


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    n = int(sys.argv[1])
    work = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "benchmarks" / "work" / f"scale_{n}"
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20200
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(run(n, work, seed)))
