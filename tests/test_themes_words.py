"""Themes per participant group, in words: stop lists, keywords said by two speakers, labels
that point at their theme, each group a BERTopic model (helpers.themes.words, .labels,
.representation, .bertopic_model)."""

import numpy as np
import pandas as pd

from helpers import themes as T
from helpers.themes.word_checks import word_checks

from theme_groups import three_theme_group


def test_label_candidates_are_phrases_of_the_talk_said_by_two_speakers():
    docs = ["the waiting room was cold", "the waiting room was cold again", "in the waiting room",
            "my mask felt tight", "the mask felt tight today", "mask felt tight"]
    speakers = ["a", "a", "b", "c", "c", "c"]
    stop = T.stop_words_of(T.ThemeSettings())
    candidates = T.candidate_phrases(docs, np.array([0, 0, 0, 1, 1, 1]), speakers, stop)
    assert "waiting room" in candidates[0] and "room" in candidates[0]
    assert "room was cold" not in candidates[0]  # twice, but by one of the theme's two speakers
    assert "mask felt tight" in candidates[1]  # a theme with one speaker keeps that speaker's phrases
    assert not any(p.split()[0] in stop or p.split()[-1] in stop for ps in candidates.values() for p in ps)


def test_the_label_is_the_candidate_nearest_its_own_theme_and_labels_differ():
    centres = np.eye(3)
    vectors = {"dignity gown": [0.9, 0.1, 0.0], "waiting room": [0.6, 0.55, 0.0], "room": [0.2, 0.9, 0.1],
               "gown": [0.7, 0.0, 0.7], "mask": [0.1, 0.0, 1.0]}

    def embed(texts):
        v = np.array([vectors[t] for t in texts], dtype=float)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    labels = T.choose_labels({0: ["waiting room", "dignity gown"], 1: ["waiting room", "room"], 2: ["gown", "mask"]},
                             centres, embed)
    # theme 0: "dignity gown" is further ahead of the other centres than "waiting room";
    # theme 1: "waiting room" is said there but points at theme 0, so "room"; theme 2 may not reuse "gown"
    assert labels == {0: "dignity gown", 1: "room", 2: "mask"}


def test_a_keyword_label_never_repeats_the_same_words():
    from helpers.themes import label_from_keywords

    assert label_from_keywords(["everybody quicker", "quicker everybody", "list", "waiting room"]) == \
        "everybody quicker / list / waiting room"


def test_each_group_is_a_bertopic_model_of_its_consensus_themes():
    """BERTopic's manual mode: its topics are the consensus themes (same members), its words the keywords."""
    seg, emb = three_theme_group(15)
    result = T.analyse_groups(seg, emb, ["staff"], T.ThemeSettings(n_runs=3))
    model = result.fits["staff"].model
    ids = result.assignments["theme_id"].str[-2:].astype(int) - 1
    assert model.topics_ == ids.tolist()
    for row in result.themes.itertuples():
        t = int(row.theme_id[-2:]) - 1
        assert [w for w, _ in model.get_topic(t)] == row.keywords.split("; ")
        assert model.custom_labels_[t] == row.label
        assert model.get_representative_docs(t) == [q.split("” (")[0][1:] for q in T.quotes_of(pd.Series(row._asdict()))]
    assert model.c_tf_idf_.shape[0] == 3 and model.topic_embeddings_.shape == (3, 384)


def test_keywords_are_said_by_two_speakers_hold_no_filler_and_repeat_no_word():
    rng = np.random.default_rng(5)
    rows, vecs = [], []
    centres = rng.normal(size=(2, 384))
    talk = {0: ["the gown was lovely and the door stayed shut", "a gown and a blanket, honestly lovely, door shut",
                "blanket over me, gown on, door shut, aye fine"],
            1: ["the mask was tight on my face", "tight mask, face pinned, could not breathe",
                "breathe slowly with the mask on your face"]}
    for t in (0, 1):
        for i in range(24):
            v = centres[t] + 0.3 * rng.normal(size=384)
            vecs.append(v / np.linalg.norm(v))
            text = talk[t][i % 3] + (" beans beans church" if i == 0 else "")  # one speaker's anecdote
            rows.append({"segment_id": f"FG01-t{t}{i:03d}-s1", "focus_group": "FG01", "participant_group": "staff",
                         "speaker": f"P{i % 4}", "turn": 100 * t + i, "n_words": 12, "text": f"{text} ({i})"})
    seg, emb = pd.DataFrame(rows), np.vstack(vecs).astype(np.float32)
    result = T.analyse_groups(seg, emb, ["staff"], T.ThemeSettings(n_runs=3))
    checks = word_checks(result.themes, result.assignments, seg, emb, T.ThemeSettings())
    assert checks["filler_keywords"].tolist() == [""] and checks["keywords_one_voice"].tolist() == [""]
    words = [w for k in result.themes["keywords"] for w in k.split("; ")]
    assert not {"lovely", "fine", "aye", "honestly", "beans", "church"} & {x for w in words for x in w.split()}
    for k in result.themes["keywords"]:
        said = [x for w in k.split("; ") for x in w.split()]
        assert len(said) == len(set(said))


def test_a_theme_whose_words_no_two_speakers_share_has_no_keywords_and_its_model_still_works():
    rng = np.random.default_rng(6)
    unique = "apple river violin harbour lantern meadow copper saddle walnut glacier orchid tundra".split()
    docs = [f"gown door blanket dignity {i}" for i in range(12)] + [f"{w} {w}s" for w in unique]
    speakers = [f"P{i % 3}" for i in range(12)] + [f"Q{i}" for i in range(12)]
    emb = rng.normal(size=(24, 384)).astype(np.float32)
    words = T.describe(docs, emb, np.repeat([0, 1], 12), speakers, T.ThemeSettings())
    assert words.keywords[1] == [] and words.keywords[0]
    assert words.model.get_topic_info()["Count"].tolist() == [12, 12]


def test_a_group_that_says_only_stop_words_gets_themes_without_keywords():
    rng = np.random.default_rng(0)
    filler = ["yeah", "okay", "right", "mm", "well", "just", "really", "like", "know", "so", "and", "the"]
    docs = [" ".join(rng.choice(filler, 6)) + " um" * i for i in range(40)]  # 40 distinct texts: k up to 4
    fit = T.fit_group(docs, rng.normal(size=(40, 16)).astype(np.float32), "g", T.ThemeSettings(n_runs=3))
    assert set(fit.labels.values()) == {"(no distinctive words)"}
    assert all(words == [] for words in fit.keywords.values()) and fit.hierarchy.empty


def test_keywords_do_not_repeat_a_word_of_a_higher_keyword():
    vocabulary = np.array(["car park", "park", "everybody quicker", "quicker everybody", "quicker", "hook"])
    assert [vocabulary[j] for j in T.distinct_words(range(6), vocabulary, 10)] == ["car park", "everybody quicker", "hook"]
    assert T.distinct_words(range(6), vocabulary, 2) == [0, 2]
