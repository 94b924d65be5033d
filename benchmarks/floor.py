"""The compute floor of a pipeline run: the same heavy work in one plain process.

Given a finished run's ``segments.parquet``, this script does, with no notebooks, no
kernels, no tables or figures written:

1. load the embedding model and ``SentenceTransformer.encode`` every segment, one
   participant group at a time (as the pipeline does);
2. per participant group, the same fits notebook 04 makes: the theme procedure on the
   whole group and on R seeded resamples (Ward clustering cut at every candidate k), the
   consensus, the BERTopic model of the themes (c-TF-IDF, KeyBERTInspired, MMR; the labels'
   candidate phrases embedded) and of the k-means baseline, the merge tree, LDA and k-means
   with the same number of themes, and gensim coherence (c_v, NPMI) of the three;
3. the same 2-D UMAP projection per group that the segment maps draw.

It prints one JSON object: seconds per phase, fits per group, peak memory. The settings
and steps are the pipeline's own (``helpers.themes``), called in this one process.

    python benchmarks/floor.py OUTPUT_DIR/segments.parquet [SEED] [N_RUNS]
"""

from __future__ import annotations

import json
import resource
import sys
import time

T0 = time.perf_counter()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(segments_path: str, seed: int = 20200, n_runs: int = 10) -> dict:
    import numpy as np
    import pandas as pd

    from helpers import themes
    from helpers._numba import cache_compiled_umap
    from helpers.embeddings import resolve_model

    from _laps import Laps

    laps = Laps(digits=2)
    lap = laps.lap

    from sentence_transformers import SentenceTransformer
    from gensim.models.coherencemodel import CoherenceModel  # noqa: F401
    from bertopic import BERTopic  # noqa: F401  (notebook 04 fits one per group)
    from umap import UMAP
    cache_compiled_umap()  # the pipeline's machine code cache, so neither side pays numba's compile
    lap("imports")

    model = SentenceTransformer(str(resolve_model("default")), device="cpu")
    lap("load_model")

    segments = pd.read_parquet(segments_path)
    vectors = np.zeros((len(segments), model.get_sentence_embedding_dimension()), dtype=np.float32)
    for group in sorted(segments["participant_group"].unique()):
        rows = np.flatnonzero((segments["participant_group"] == group).to_numpy())
        texts = sorted(set(segments["text"].iloc[rows]))
        encoded = model.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True)
        lookup = dict(zip(texts, encoded))
        vectors[rows] = np.vstack([lookup[t] for t in segments["text"].iloc[rows]])
    lap("encode")

    settings = themes.ThemeSettings(seed=seed, n_runs=n_runs)
    groups = sorted(segments["participant_group"].unique())
    runs = {g: [themes.theme_procedure(vectors[(segments["participant_group"] == g).to_numpy()],
                                       segments.loc[segments["participant_group"] == g, "text"].tolist(),
                                       settings, themes.run_seed(seed, r)) for r in range(n_runs)] for g in groups}
    lap("resampled_runs")

    class Done:  # the runs above, handed to analyse_groups as notebook 04 hands its started runs
        def runs(self, group):
            return runs.get(group)

    result = themes.analyse_groups(segments, vectors, groups, settings, runs=Done())
    lap("theme_fits")
    themes.theme_quality(segments, vectors, result, seed, n_jobs=1)
    lap("baselines_and_coherence")

    for group in groups:
        emb = vectors[(segments["participant_group"] == group).to_numpy()]
        UMAP(n_components=2, n_neighbors=min(15, len(emb) - 1), min_dist=0.15, metric="cosine",
             random_state=seed, n_jobs=1).fit_transform(emb.astype(float))
    lap("map_projections")

    return {
        "segments": int(len(segments)),
        "seconds": round(time.perf_counter() - T0, 2),
        "phases": laps.seconds,
        "fits_per_group": {g: {"theme_model": 1, "stability_refits": n_runs, "map_projection": 1}
                           for g in groups},
        "peak_mb": round(peak_mb(), 1),
    }


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    print(json.dumps(main(args[0], *(int(a) for a in args[1:]))))
