"""A synthetic participant group with three clear themes, shared by the theme tests."""

import numpy as np
import pandas as pd

WORDS = {
    0: "mask face frightened clipped breathe screen",
    1: "gown covered door dignity exposed blanket",
    2: "name remembered chat eye contact morning",
}


def three_theme_group(n_per_theme, seed=0, group="staff"):
    """Segments with three clear themes: embeddings around three directions, matching words."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 384))
    rows, vecs = [], []
    for t in range(3):
        for i in range(n_per_theme):
            v = centres[t] + 0.35 * rng.normal(size=384)
            vecs.append(v / np.linalg.norm(v))
            words = WORDS[t].split()
            rows.append({"segment_id": f"FG0{t + 1}-t{i:03d}-s1", "focus_group": f"FG0{t % 2 + 1}",
                         "participant_group": group, "speaker": f"P{i % 4}", "turn": i,
                         "n_words": 20, "text": " ".join(rng.choice(words, 8)) + " and the radiographer"})
    return pd.DataFrame(rows), np.vstack(vecs).astype(np.float32)
