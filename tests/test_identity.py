from helpers.identity import fingerprint, jaccard


def test_fingerprint_ignores_order_and_duplicates():
    assert fingerprint(["FG01-t002-s0", "FG03-t010-s1"]) == fingerprint(["FG03-t010-s1", "FG01-t002-s0", "FG01-t002-s0"])


def test_fingerprint_changes_when_one_member_changes():
    base = [f"FG01-t{i:03d}-s0" for i in range(40)]
    assert fingerprint(base) != fingerprint(base[:-1])
    assert fingerprint(base) != fingerprint(base[:-1] + ["FG02-t001-s0"])
    assert len(fingerprint(base)) == 8


def test_jaccard():
    assert jaccard(["a", "b", "c"], ["b", "c", "d"]) == 0.5
    assert jaccard([], []) == 0.0
    assert jaccard(["a"], ["a"]) == 1.0


# --------------------------------------------------------------------------- segment ids by content

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from conftest import ROOT  # noqa: E402
from helpers import identity, themes, workshop_files  # noqa: E402
from helpers.embeddings import make_segments  # noqa: E402
from helpers.study import load_study  # noqa: E402
from helpers.transcripts import read_study_turns  # noqa: E402
from helpers.workshop_files import load_workshop, resolve_themes, snapshot_table, theme_members  # noqa: E402


@pytest.fixture(scope="module")
def fg03():
    """The turns of a bundled transcript as stage 01 reads them."""
    turns = read_study_turns(load_study(ROOT / "data" / "study.yml"))
    return turns[turns["focus_group"] == "FG03"].reset_index(drop=True)


def renumbered(turns: pd.DataFrame) -> pd.DataFrame:
    """Turns as a reader numbers them after an edit: 1, 2, 3, … in transcript order."""
    return turns.reset_index(drop=True).assign(turn=lambda t: np.arange(1, len(t) + 1))


def ids_by_text(segments: pd.DataFrame) -> dict[tuple[str, str], str]:
    return {(s, t): sid for sid, s, t in zip(segments["segment_id"], segments["speaker"], segments["text"])}


def test_a_segment_id_names_focus_group_speaker_and_content():
    sid = identity.segment_id("FG01", "Dr Imogen Thwaite", "I always use their names.")
    assert re_fullmatch(r"FG01-dr-imogen-thwait-[0-9a-f]{8}", sid)
    assert identity.SEGMENT_ID.match(sid)
    assert sid == identity.segment_id("FG01", "Dr Imogen Thwaite", "I always  use their\nnames.")  # spacing only
    assert sid != identity.segment_id("FG01", "Dr Imogen Thwaite", "I always use their name.")    # a word
    assert sid != identity.segment_id("FG01", "Siobhan", "I always use their names.")            # who said it
    assert sid != identity.segment_id("FG02", "Dr Imogen Thwaite", "I always use their names.")  # where


def re_fullmatch(pattern, text):
    import re

    return re.fullmatch(pattern, text) is not None


def test_inserting_a_turn_keeps_every_other_segment_id(fg03):
    before = make_segments(fg03)
    new = fg03.iloc[[10]].assign(speaker="Jude", role="participant",
                                 text="Can I just add, the mask room was freezing that whole winter and nobody fixed it.")
    after = make_segments(renumbered(pd.concat([fg03.iloc[:10], new, fg03.iloc[10:]])))
    assert len(after) == len(before) + 1
    assert set(before["segment_id"]) < set(after["segment_id"])  # every earlier id is still there
    # ... for the same talk, which now sits one turn later
    moved = after.merge(before, on="segment_id", suffixes=("", "_before"))
    assert (moved["text"] == moved["text_before"]).all()
    assert (moved["turn"] - moved["turn_before"]).isin([0, 1]).all() and (moved["turn"] > moved["turn_before"]).any()


def test_deleting_a_turn_keeps_every_other_segment_id(fg03):
    before = make_segments(fg03)
    participant = fg03.index[(fg03["role"] == "participant").to_numpy()]
    removed = participant[5]
    gone = set(before.loc[before["turn"] == fg03.loc[removed, "turn"], "segment_id"])
    assert gone
    after = make_segments(renumbered(fg03.drop(index=removed)))
    assert set(after["segment_id"]) == set(before["segment_id"]) - gone
    assert ids_by_text(after).items() <= ids_by_text(before).items()


def test_joining_a_turn_to_the_previous_speaker_changes_only_the_joined_turn(fg03):
    before = make_segments(fg03)
    participant = fg03.index[(fg03["role"] == "participant").to_numpy()]
    i = participant[8]
    joined = fg03.copy()
    joined.loc[i - 1, "text"] = joined.loc[i - 1, "text"] + " " + joined.loc[i, "text"]
    after = make_segments(renumbered(joined.drop(index=i)))
    touched = set(before.loc[before["turn"].isin(fg03.loc[[i - 1, i], "turn"]), "segment_id"])
    assert set(before["segment_id"]) - touched <= set(after["segment_id"])


def test_the_same_words_twice_from_one_speaker_get_two_ids():
    turns = pd.DataFrame({"focus_group": "FG01", "participant_group": "staff", "speaker": ["Anna", "Ben", "Anna"],
                          "role": "participant", "turn": [1, 2, 3],
                          "text": ["It is about the person in front of you.", "And their family waiting outside too.",
                                   "It is about the person in front of you."]})
    seg = make_segments(turns)
    assert seg["segment_id"].is_unique and len(seg) == 3
    assert seg["segment_id"].iloc[0] == identity.segment_id("FG01", "Anna", "It is about the person in front of you.")


# --------------------------------------------------------------------------- old-style ids in a snapshot

def test_old_style_snapshot_ids_are_resolved_by_text(fg03, tmp_path):
    segments = make_segments(fg03)
    members = {"radiographers:T01": set(segments["segment_id"][:12]), "radiographers:T02": set(segments["segment_id"][12:])}
    old_id = {sid: f"FG03-t{t:03d}-s{w}" for sid, t, w in zip(segments["segment_id"], segments["turn"], segments["window"])}
    old_members = {t: {old_id[s] for s in ids} for t, ids in members.items()}
    # A snapshot and decision file as written before ids were by content
    pd.DataFrame([{"theme_id": t, "fingerprint": identity.fingerprint(ids), "segment_id": s}
                  for t, ids in old_members.items() for s in sorted(ids)]).to_csv(tmp_path / "w1.snapshot.csv", index=False)
    path = tmp_path / "workshop_1.yml"
    path.write_text(yaml.safe_dump({"workshop": 1, "snapshot": "w1.snapshot.csv",
                                    "based_on": {"radiographers:T01": identity.fingerprint(old_members["radiographers:T01"])},
                                    "decisions": [{"action": "drop", "theme": "radiographers:T01", "rationale": "x"}]}))
    workshop = load_workshop(path, 1)
    with pytest.warns(UserWarning, match=rf"position ids .* {len(segments)} of {len(segments)} were matched by the text"):
        resolution = resolve_themes(workshop, members, segments)
    assert resolution.mapping == {"radiographers:T01": "radiographers:T01"} and not resolution.unresolved
    assert "matched by text" in resolution.notes["radiographers:T01"] and resolution.changed["radiographers:T01"] == 0
    assert "w1.snapshot.csv" in resolution.log[0]
    # without the segments (nothing to match by) the same file cannot be resolved
    with pytest.warns(UserWarning):
        assert resolve_themes(workshop, members, None).unresolved


# --------------------------------------------------------------------------- the number of themes the room saw

def clustered(n_clusters: int, per: int = 12, dim: int = 384, seed: int = 3):
    """Segments in ``n_clusters`` well-separated directions (the data choose that k), in
    the embedding model's 384 dimensions (the themes' BERTopic model embeds its labels
    with it and compares them with these vectors)."""
    rng = np.random.default_rng(seed)
    vectors, texts = [], []
    for c in range(n_clusters):
        centre = np.zeros(dim)
        centre[c] = 1.0
        for i in range(per):
            v = centre + 0.15 * np.sqrt(24 / dim) * rng.normal(size=dim)  # the spread of 24 dimensions
            vectors.append(v / np.linalg.norm(v))
            texts.append(f"topic{c} words number {i} about thing{c}")
    segments = pd.DataFrame({"segment_id": [f"FG01-anna-{i:08x}" for i in range(len(texts))], "focus_group": "FG01",
                             "participant_group": "radiographers", "speaker": "Anna", "turn": range(len(texts)),
                             "n_words": 6, "text": texts})
    return segments, np.asarray(vectors, dtype=np.float32)


def workshop_with_k(tmp_path, members, k):
    """A workshop file pinning one radiographers theme whose snapshot says the group had k themes."""
    table = snapshot_table(members, ["radiographers:T01"]).assign(n_themes=k)
    table.to_csv(tmp_path / "workshop_1.snapshot.csv", index=False)
    path = tmp_path / "workshop_1.yml"
    path.write_text(yaml.safe_dump({"workshop": 1, "snapshot": "workshop_1.snapshot.csv",
                                    "based_on": {"radiographers:T01": identity.fingerprint(members["radiographers:T01"])},
                                    "decisions": []}))
    return load_workshop(path, 1)


def test_the_number_of_themes_the_workshop_saw_is_kept_and_said(tmp_path):
    segments, vectors = clustered(3)
    settings = themes.ThemeSettings(seed=1, n_runs=4)
    fresh = themes.analyse_groups(segments, vectors, ["radiographers"], settings)
    assert fresh.fits["radiographers"].consensus.k == 3
    workshop = workshop_with_k(tmp_path, theme_members(fresh.assignments), 4)
    kept = identity.n_themes_to_keep([workshop], None, ["radiographers"])
    assert kept["radiographers"].k == 4 and kept["radiographers"].source == "workshop_1.snapshot.csv"
    rerun = themes.analyse_groups(segments, vectors, ["radiographers"], settings,
                                  n_themes=identity.numbers_of_themes(kept))
    assert rerun.themes["theme_id"].nunique() == 4
    table = identity.k_table(themes.choice_of_k(rerun.fits), kept).set_index("participant_group")
    row = table.loc["radiographers"]
    assert (row["n_themes"], row["data_choice"], row["source"]) == (4, 3, "workshop_1.snapshot.csv")
    assert row["note"].startswith("radiographers: the workshop saw 4 (workshop_1.snapshot.csv); the data would now "
                                  f"choose 3 (stability {row['data_choice_stability']:.2f} vs {row['stability']:.2f}); "
                                  "kept 4")
    assert "n_themes: {radiographers: 3}" in row["note"] and "make rebase-workshops" in row["note"]


def test_an_explicit_n_themes_wins_over_the_workshop(tmp_path):
    segments, vectors = clustered(3)
    settings = themes.ThemeSettings(seed=1, n_runs=4)
    fresh = themes.analyse_groups(segments, vectors, ["radiographers"], settings)
    workshop = workshop_with_k(tmp_path, theme_members(fresh.assignments), 4)
    kept = identity.n_themes_to_keep([workshop], {"radiographers": 3}, ["radiographers"])
    assert kept["radiographers"].k == 3 and kept["radiographers"].explicit
    # an explicit number refits the group afresh: nothing is held in the workshop's themes
    assert workshop_files.workshop_anchors([workshop], segments, kept) == {}
    seen = workshop_files.workshop_anchors([workshop], segments, identity.n_themes_to_keep([workshop]))
    assert set(seen) == theme_members(fresh.assignments)["radiographers:T01"]
    with pytest.raises(identity.UserError, match="n_themes names the participant group 'nurses'"):
        identity.n_themes_to_keep([workshop], {"nurses": 3}, ["radiographers"])


def test_a_snapshot_from_before_the_n_themes_column_keeps_nothing(tmp_path):
    segments, vectors = clustered(3)
    fresh = themes.analyse_groups(segments, vectors, ["radiographers"], themes.ThemeSettings(seed=1, n_runs=4))
    workshop = workshop_with_k(tmp_path, theme_members(fresh.assignments), 4)
    pd.read_csv(workshop.snapshot).drop(columns="n_themes").to_csv(workshop.snapshot, index=False)
    assert identity.n_themes_to_keep([workshop]) == {}


def test_rebase_writes_an_old_style_snapshot_anew_with_content_ids_and_the_number_of_themes(fg03, tmp_path):
    from helpers.workshop_files import rebase_workshop

    segments = make_segments(fg03)
    members = {"radiographers:T01": set(segments["segment_id"][:12]), "radiographers:T02": set(segments["segment_id"][12:])}
    old_id = {sid: f"FG03-t{t:03d}-s{w}" for sid, t, w in zip(segments["segment_id"], segments["turn"], segments["window"])}
    old = {old_id[s] for s in members["radiographers:T01"]}
    pd.DataFrame([{"theme_id": "radiographers:T01", "fingerprint": identity.fingerprint(old), "segment_id": s}
                  for s in sorted(old)]).to_csv(tmp_path / "w1.snapshot.csv", index=False)
    path = tmp_path / "workshop_1.yml"
    path.write_text(f'workshop: 1\nsnapshot: w1.snapshot.csv\nbased_on:\n  radiographers:T01: "{identity.fingerprint(old)}"'
                    "   # names\ndecisions: []\n")
    with pytest.warns(UserWarning, match="position ids"):
        plan = rebase_workshop(load_workshop(path, 1), members, segments)
    assert f'radiographers:T01: "{identity.fingerprint(members["radiographers:T01"])}"   # names' in plan.new_text
    written = plan.snapshot.groupby("theme_id")["segment_id"].apply(set).to_dict()
    assert written == members                 # every theme of the group, as the rerun has it, by content id
    assert (plan.snapshot["n_themes"] == 2).all()
    assert any("matched by text" in c for c in plan.changes)


def test_segments_the_workshop_saw_keep_their_theme_and_new_talk_joins_or_stands_alone():
    # this run's clustering reshuffled: A's and B's segments share cluster 0
    fresh = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    anchors = ["A", "B", "B", "A", "", "", "", "B"]
    topics, kept, joined = themes.anchored_topics(fresh, anchors)
    name = {t: a for t, a in zip(topics, anchors) if a}
    assert [name.get(t, "new") for t in topics[:4]] == ["A", "B", "B", "A"]   # as the workshop saw them
    assert name[topics[4]] == "A"             # corrected talk goes where its cluster's seen members are
    assert name[topics[5]] == name[topics[6]] == "B"
    assert (kept, joined) == (5, 3)
    alone = themes.anchored_topics(np.array([0, 0, 1, 1]), ["A", "A", "", ""])[0]
    assert alone[2] == alone[3] != alone[0]   # talk the workshop never saw stays a theme of its own
