"""Each group's saved BERTopic model opens in a fresh, offline process and matches group_themes.csv."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from helpers import themes as T
from helpers._io import write_csv_atomic

from theme_groups import three_theme_group

#: Fits and loads models in a fresh process: left out of `make test-fast`.
pytestmark = pytest.mark.slow

GUARD = ROOT / "tests" / "no_network"

LOAD = """
import json, sys
from bertopic import BERTopic
from helpers.themes import bertopic_model

out = {}
for group in sys.argv[2:]:
    folder = sys.argv[1] + "/" + group
    plain = BERTopic.load(folder)
    model = bertopic_model.load(folder)
    out[group] = {"topics": plain.topics_, "sizes": {str(k): v for k, v in plain.topic_sizes_.items()},
                  "words": {str(t): [w for w, _ in plain.get_topic(t)] for t in plain.get_topics()},
                  "labels": plain.custom_labels_, "docs": {str(t): model.get_representative_docs(t)
                                                          for t in plain.get_topics()},
                  "found": int(plain.find_topics("being treated with dignity", top_n=1)[0][0]),
                  "has_ctfidf": plain.c_tf_idf_ is not None}
print(json.dumps(out))
"""


def test_saved_models_load_offline_with_the_topics_words_and_quotes_of_group_themes(tmp_path):
    seg_a, emb_a = three_theme_group(20, group="staff")
    seg_b, emb_b = three_theme_group(15, seed=1, group="students")
    seg_b["segment_id"] = seg_b["segment_id"].str.replace("FG0", "FG1")
    seg, emb = pd.concat([seg_a, seg_b], ignore_index=True), np.vstack([emb_a, emb_b])
    result = T.analyse_groups(seg, emb, ["staff", "students"], T.ThemeSettings(n_runs=3))
    write_csv_atomic(result.themes, tmp_path / "group_themes.csv")
    T.save_models(result, tmp_path / "models")
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["staff", "students"]  # nothing half-written

    log = tmp_path / "network.log"
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(PYTHONPATH=os.pathsep.join([str(GUARD), str(ROOT / "src")]), NETWORK_GUARD_LOG=str(log))
    run = subprocess.run([sys.executable, "-c", LOAD, str(tmp_path / "models"), "staff", "students"],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert not log.exists() or log.read_text() == ""  # nothing even tried the network
    loaded = json.loads(run.stdout.strip().splitlines()[-1])

    themes = pd.read_csv(tmp_path / "group_themes.csv", keep_default_na=False)
    for group, got in loaded.items():
        rows = themes[themes["participant_group"] == group]
        members = result.assignments[result.assignments["participant_group"] == group]
        assert got["topics"] == (members["theme_id"].str[-2:].astype(int) - 1).tolist()
        assert got["has_ctfidf"]
        for row in rows.itertuples():
            t = str(int(row.theme_id[-2:]) - 1)
            assert got["words"][t] == row.keywords.split("; ")
            assert got["labels"][int(t)] == row.label
            assert got["sizes"][t] == row.n_segments
            quotes = [q.split("” (")[0][1:] for q in T.quotes_of(pd.Series(row._asdict()))]
            assert got["docs"][t] == quotes
        # find_topics embeds the phrase with the installed model, offline (the synthetic themes'
        # embeddings are random directions, so which theme it finds says nothing here)
        assert f"{group}:T{got['found'] + 1:02d}" in rows["theme_id"].tolist()
