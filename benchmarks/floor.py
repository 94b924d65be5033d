"""The compute floor of a pipeline run: the same heavy work in one plain process.

Given a finished run's ``segments.parquet``, this script does, with no notebooks, no
kernels, no tables or figures written:

1. load the embedding model and ``SentenceTransformer.encode`` every segment;
2. per participant group, the same BERTopic fit the pipeline makes (UMAP + HDBSCAN or
   the agglomerative fallback, outlier reassignment, keyword update, merge hierarchy);
3. the same stability refits (UMAP + clustering with other seeds and on bootstrap
   resamples), on the embeddings computed in step 1;
4. the same 2-D UMAP projection per group that the segment maps draw.

It prints one JSON object: seconds per phase, fits per group, peak memory. The settings
come from ``helpers.themes.ThemeSettings`` so the fits are the pipeline's fits; the
library calls are made here directly.

    python benchmarks/floor.py OUTPUT_DIR/segments.parquet [SEED] [N_SEEDS] [N_BOOTSTRAP]
"""

from __future__ import annotations

import json
import resource
import sys
import time
from dataclasses import replace

T0 = time.perf_counter()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(segments_path: str, seed: int = 20200, n_seeds: int = 5, n_bootstrap: int = 5) -> dict:
    import re

    import numpy as np
    import pandas as pd

    from helpers import themes
    from helpers._numba import cache_compiled_umap
    from helpers.embeddings import resolve_model

    from _laps import Laps

    laps = Laps(digits=2)
    lap = laps.lap

    from sentence_transformers import SentenceTransformer
    from bertopic import BERTopic
    from bertopic.dimensionality import BaseDimensionalityReduction
    from hdbscan import HDBSCAN
    from sklearn.cluster import AgglomerativeClustering
    from umap import UMAP
    cache_compiled_umap()  # the pipeline's machine code cache, so neither side pays numba's compile
    lap("imports")

    model = SentenceTransformer(str(resolve_model("default")), device="cpu")
    lap("load_model")

    segments = pd.read_parquet(segments_path)
    vectors = model.encode(segments["text"].tolist(), batch_size=64, convert_to_numpy=True,
                           normalize_embeddings=True).astype(np.float32)
    lap("encode")

    names = {w.lower() for s in segments["speaker"].unique() for w in re.findall(r"[A-Za-z]+", str(s))}
    base = themes.ThemeSettings(seed=seed, extra_stop_words=tuple(sorted(names)))
    fits, refits, topics_by_group = {}, {}, {}
    for group, seg in segments.groupby("participant_group", sort=True):
        mask = (segments["participant_group"] == group).to_numpy()
        docs, emb = seg["text"].tolist(), vectors[mask]
        settings = base.scaled(len(docs))
        n = len(docs)
        density = n >= settings.min_segments_for_density
        reducer = UMAP(n_neighbors=min(settings.n_neighbors, n - 1), n_components=min(settings.n_components, n - 2),
                       min_dist=0.0, metric="cosine", random_state=seed, n_jobs=1, low_memory=True)
        clusterer = HDBSCAN(min_cluster_size=settings.min_cluster_size, min_samples=settings.min_samples,
                            prediction_data=True)
        if not density:
            reducer = BaseDimensionalityReduction()
            clusterer = AgglomerativeClustering(n_clusters=themes.n_fallback_clusters(n), metric="cosine",
                                                linkage="average")
        model_fit = BERTopic(embedding_model=model, umap_model=reducer, hdbscan_model=clusterer,
                             vectorizer_model=themes.make_vectorizer(settings, n),
                             representation_model=themes.make_representation(settings),
                             ctfidf_model=themes.make_ctfidf(), top_n_words=settings.top_n_words, verbose=False)
        topics = model_fit.fit_transform(docs, emb)[0]
        if -1 in topics:
            topics = model_fit.reduce_outliers(docs, topics, strategy="embeddings", embeddings=emb)
            model_fit.update_topics(docs, topics=topics, vectorizer_model=themes.make_vectorizer(settings, n),
                                    ctfidf_model=themes.make_ctfidf(),
                                    representation_model=themes.make_representation(settings))
        if len(set(topics)) >= 3:
            themes.merge_tree(model_fit)  # the pipeline's theme hierarchy (Ward linkage of the c-TF-IDF)
        fits[group] = 1
        topics_by_group[group] = (emb, settings)
    lap("theme_fits")

    rng = np.random.default_rng(seed)
    for group, (emb, settings) in topics_by_group.items():
        n = len(emb)
        samples = [None] * n_seeds + [np.unique(rng.choice(n, size=n, replace=True)) for _ in range(n_bootstrap)]
        for i, sample in enumerate(samples):
            x = emb if sample is None else emb[sample]
            s = seed + i + 1 if sample is None else seed + 101 + i - n_seeds
            themes.cluster_labels(x, replace(settings, seed=s))  # UMAP + HDBSCAN (or agglomerative)
        refits[group] = len(samples)
    lap("stability_refits")

    for group, (emb, _) in topics_by_group.items():
        UMAP(n_components=2, n_neighbors=min(15, len(emb) - 1), min_dist=0.15, metric="cosine",
             random_state=seed, n_jobs=1).fit_transform(emb.astype(float))
    lap("map_projections")

    return {
        "segments": int(len(segments)),
        "seconds": round(time.perf_counter() - T0, 2),
        "phases": laps.seconds,
        "fits_per_group": {g: {"theme_model": fits[g], "stability_refits": refits[g], "map_projection": 1}
                           for g in fits},
        "peak_mb": round(peak_mb(), 1),
    }


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    print(json.dumps(main(args[0], *(int(a) for a in args[1:]))))
