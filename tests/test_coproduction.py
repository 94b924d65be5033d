"""Tests for helpers.coproduction: workshop decisions, the audit trail, error messages,
proposals, balance across participant groups and the printable workshop packs.

Everything is built in memory: a handful of group themes per participant group, short
segments, and seeded random unit vectors in which themes that should align across groups
share a common direction (a basis vector) plus a little noise.
"""

from __future__ import annotations

import html
import math
import re

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers.coproduction import (
    Integration,
    WorkshopError,
    balance_flags,
    balance_index,
    definition_markdown,
    dominance_threshold,
    integrate,
    load_workshop,
    workshop_packs,
    workshop_table,
    write_workshop_packs,
)

DIM = 16
GROUPS = ["radiographers", "patients_carers", "students"]
LABELS = {"radiographers": "Therapeutic radiographers", "patients_carers": "Patients and carers",
          "students": "Student therapeutic radiographers"}
PALETTE = {"radiographers": "#4477AA", "patients_carers": "#EE6677", "students": "#228833"}
FOCUS = {"radiographers": ("FG01", ["Ruth", "Dev", "Maeve"]),
         "patients_carers": ("FG02", ["Margaret", "Stan"]),
         "students": ("FG03", ["Ellie", "Kofi"])}

R1, R2, R3 = "radiographers:T01", "radiographers:T02", "radiographers:T03"
P1, P2, P3 = "patients_carers:T01", "patients_carers:T02", "patients_carers:T03"
S1, S2 = "students:T01", "students:T02"


def e(k: int) -> np.ndarray:
    v = np.zeros(DIM)
    v[k] = 1.0
    return v


class Data:
    """Builds group_themes, theme_assignments, segments and embeddings together."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.segments: list[dict] = []
        self.vectors: list[np.ndarray] = []
        self.assignments: list[dict] = []
        self.themes: list[dict] = []

    def theme(self, tid, label, keywords, items, speakers=None, quotes=None):
        """items: list of (text, direction). Speakers cycle through the group's speakers."""
        group = tid.split(":")[0]
        fg, default_speakers = FOCUS[group]
        speakers = speakers or default_speakers
        ids = []
        for i, (text, direction) in enumerate(items):
            n = len(self.segments) + 1
            sid = f"{fg}-t{n:03d}-s1"
            speaker = speakers[i % len(speakers)]
            self.segments.append({"segment_id": sid, "focus_group": fg, "participant_group": group,
                                  "speaker": speaker, "turn": n, "n_words": len(text.split()), "text": text})
            v = np.asarray(direction, dtype=float) + 0.08 * self.rng.normal(size=DIM)
            self.vectors.append(v / np.linalg.norm(v))
            self.assignments.append({"segment_id": sid, "participant_group": group, "theme_id": tid,
                                     "uncertain": False})
            ids.append(sid)
        seg_by_id = {s["segment_id"]: s for s in self.segments}
        quotes = quotes if quotes is not None else [
            f"“{seg_by_id[s]['text']}” ({seg_by_id[s]['speaker']}, {fg})" for s in ids[:5]]
        row = {"participant_group": group, "theme_id": tid, "label": label, "keywords": keywords,
               "n_segments": len(ids)}
        for k in range(1, 6):
            row[f"quote_{k}"] = quotes[k - 1] if k <= len(quotes) else ""
        self.themes.append(row)
        return ids

    def tables(self):
        return (pd.DataFrame(self.themes), pd.DataFrame(self.assignments), pd.DataFrame(self.segments),
                np.vstack(self.vectors).astype(np.float32))


def words(stem: str, i: int) -> str:
    return f"{stem} and that is how it felt on the day number {i} for me"


def standard_data(extra=None, script_quote: bool = False) -> Data:
    """Three groups. Concept 0 ('being known') in every group; concept 2 ('delays') in two;
    R2 mixes a 'rota' and a 'targets' sub-direction (to split); S2 and P3 stand alone."""
    d = Data(seed=1)
    d.theme(R1, "names / remember", "names; remember; person",
            [(words("I always use their names", i), e(0)) for i in range(4)])
    d.theme(P1, "name / known", "name; known; person",
            [(words("she knew my name", i), e(0)) for i in range(3)])
    d.theme(S1, "eye contact / name", "eye contact; smile; person",
            [(words("eye contact and a name", i), e(0)) for i in range(3)],
            quotes=["“<script>alert('x')</script> she smiled” (Ellie, FG03)"] if script_quote else None)
    d.theme(R2, "time / rota / targets", "rota; targets; time",
            [(words("the rota is impossible", i), e(1) + 0.9 * e(5)) for i in range(3)]
            + [(words("the targets are relentless", i), e(1) + 0.9 * e(6)) for i in range(3)])
    d.theme(R3, "explain / delays", "explain; delays; honest",
            [(words("we explain the machine delays", i), e(2)) for i in range(3)])
    d.theme(P2, "waiting / delays", "waiting; delays; hours",
            [(words("waiting hours with the delays", i), e(2)) for i in range(4)])
    d.theme(P3, "gown / dignity", "gown; dignity; covered",
            [(words("the gown left me exposed", i), e(4)) for i in range(3)], speakers=["Margaret"])
    d.theme(S2, "paperwork / portfolio", "paperwork; portfolio; forms",
            [(words("the portfolio paperwork", i), e(3)) for i in range(3)])
    if extra:
        extra(d)
    return d


@pytest.fixture
def data() -> Data:
    return standard_data()


def write_workshop(tmp_path, number, decisions, **extra):
    path = tmp_path / f"workshop_{number}.yml"
    doc = {"workshop": number, "title": f"Workshop {number}", "date": "2024-05-0%d" % number, **extra,
           "decisions": decisions}
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_workshop(path, number)


def run(data: Data, tmp_path, *decision_lists, group_ids=GROUPS, **extra):
    workshops = [write_workshop(tmp_path, i + 1, decs, **extra) for i, decs in enumerate(decision_lists)]
    gt, asg, seg, emb = data.tables()
    return integrate(gt, asg, seg, emb, workshops, group_ids)


def row(result, tid) -> pd.Series:
    rows = result.integrated[result.integrated["theme_id"] == tid]
    assert len(rows) == 1, f"{tid} not (once) in the integrated table: {result.integrated['theme_id'].tolist()}"
    return rows.iloc[0]


def sources(result) -> dict[str, list[str]]:
    return {r.theme_id: r.source_themes.split(";") for r in result.integrated.itertuples()}


def integrated_of(result) -> dict[str, str]:
    st = result.segment_themes
    return dict(zip(st["segment_id"], st["integrated_theme"]))


def segment_ids(data, tid):
    return [a["segment_id"] for a in data.assignments if a["theme_id"] == tid]


def assert_each_group_theme_once(result, expected):
    placed = [s for srcs in sources(result).values() for s in srcs]
    assert sorted(placed) == sorted(expected)


MERGE_KNOWN = {"action": "merge", "themes": [R1, P1, S1], "label": "Being known as a person",
               "rationale": "all three groups talk about names"}
MERGE_DELAYS = {"action": "merge", "themes": [R3, P2], "label": "Honest about delays"}


# --------------------------------------------------------------------------- merge

def test_merge_creates_an_agreed_integrated_theme_from_group_themes(data, tmp_path):
    result = run(data, tmp_path, [MERGE_KNOWN])
    r = row(result, "I01")
    assert r.label == "Being known as a person"
    assert r.status == "agreed"
    assert r.source_themes.split(";") == [R1, P1, S1]
    assert r.n_segments == 10
    assert r.workshop == "workshop_1"
    members = segment_ids(data, R1) + segment_ids(data, P1) + segment_ids(data, S1)
    assert {integrated_of(result)[s] for s in members} == {"I01"}


def test_merge_of_integrated_themes_absorbs_them(data, tmp_path):
    result = run(data, tmp_path, [
        {"action": "merge", "themes": [R1, P1], "label": "Names"},
        {"action": "merge", "themes": [S1], "label": "Eye contact"},
        {"action": "merge", "themes": ["I01", "I02"], "label": "Being known"},
    ])
    ids = result.integrated["theme_id"].tolist()
    assert "I01" not in ids and "I02" not in ids
    r = row(result, "I03")
    assert r.label == "Being known"
    assert sorted(r.source_themes.split(";")) == sorted([R1, P1, S1])
    members = segment_ids(data, R1) + segment_ids(data, P1) + segment_ids(data, S1)
    assert {integrated_of(result)[s] for s in members} == {"I03"}
    assert_each_group_theme_once(result, [R1, P1, S1, R2, R3, P2, P3, S2])


def test_merge_into_an_existing_theme_extends_it_and_keeps_its_label(data, tmp_path):
    result = run(data, tmp_path, [{"action": "merge", "themes": [R1, P1], "label": "Being known"}],
                 [{"action": "merge", "themes": [S1], "into": "I01"}])
    r = row(result, "I01")
    assert r.label == "Being known"
    assert r.source_themes.split(";") == [R1, P1, S1]
    assert r.workshop == "workshop_1"
    assert {integrated_of(result)[s] for s in segment_ids(data, S1)} == {"I01"}
    assert_each_group_theme_once(result, [R1, P1, S1, R2, R3, P2, P3, S2])
    assert result.audit.iloc[1]["outputs"] == "I01"


def test_merge_without_label_takes_the_first_group_themes_label(data, tmp_path):
    result = run(data, tmp_path, [{"action": "merge", "themes": [P1, R1]}])
    assert row(result, "I01").label == "name / known"


# --------------------------------------------------------------------------- rename

def test_rename_changes_the_label_and_logs_the_old_one(data, tmp_path):
    result = run(data, tmp_path, [MERGE_KNOWN, {"action": "rename", "theme": "I01", "label": "Known by name"}])
    assert row(result, "I01").label == "Known by name"
    audit = result.audit.iloc[1]
    assert (audit.action, audit.inputs, audit.outputs) == ("rename", "I01", "I01")
    assert audit.rationale == "was 'Being known as a person'"


# --------------------------------------------------------------------------- split

ROTA_SPLIT = {"action": "split", "theme": R2, "rationale": "two different pressures",
              "into": [{"label": "Rota pressures", "keywords": ["rota"]},
                       {"label": "Targets", "keywords": ["targets"]}]}


def _assert_rota_split(data, result):
    group_theme = dict(zip(result.segment_themes["segment_id"], result.segment_themes["group_theme"]))
    seg = pd.DataFrame(data.segments).set_index("segment_id")
    for sid in segment_ids(data, R2):
        expected = f"{R2}.1" if "rota" in seg.loc[sid, "text"] else f"{R2}.2"
        assert group_theme[sid] == expected, (sid, seg.loc[sid, "text"])
    placed = [s for srcs in sources(result).values() for s in srcs]
    assert R2 not in placed
    assert placed.count(f"{R2}.1") == 1 and placed.count(f"{R2}.2") == 1


def test_split_by_keywords_reassigns_segments_to_the_parts(data, tmp_path):
    result = run(data, tmp_path, [ROTA_SPLIT])
    _assert_rota_split(data, result)
    audit = result.audit.iloc[0]
    assert (audit.action, audit.inputs, audit.outputs) == ("split", R2, f"{R2}.1;{R2}.2")
    assert audit.rationale == "two different pressures"
    labels = dict(zip(result.integrated["source_themes"], result.integrated["label"]))
    assert labels[f"{R2}.1"] == "Rota pressures" and labels[f"{R2}.2"] == "Targets"


def test_split_by_seed_quotes_reassigns_segments_to_the_parts(data, tmp_path):
    ids = segment_ids(data, R2)          # the first three are about the rota, the last three targets
    result = run(data, tmp_path, [{"action": "split", "theme": R2,
                                   "into": [{"label": "Rota", "quotes": [ids[0]]},
                                            {"label": "Targets", "quotes": [ids[5]]}]}])
    _assert_rota_split(data, result)


def test_split_parts_can_be_merged_but_the_original_cannot(data, tmp_path):
    result = run(data, tmp_path, [ROTA_SPLIT, {"action": "merge", "themes": [f"{R2}.2", S2], "label": "Targets"}])
    assert row(result, "I01").source_themes == f"{R2}.2;{S2}"
    path = tmp_path / "workshop_1.yml"
    with pytest.raises(WorkshopError) as exc:
        run(data, tmp_path, [ROTA_SPLIT, {"action": "merge", "themes": [R2, S2]}])
    message = str(exc.value)
    assert str(path) in message and "decision 2" in message and "split" in message


# --------------------------------------------------------------------------- drop

def test_dropped_group_theme_leaves_no_integrated_theme(data, tmp_path):
    result = run(data, tmp_path, [{"action": "drop", "theme": P3, "rationale": "about the building, not care"}])
    placed = [s for srcs in sources(result).values() for s in srcs]
    assert P3 not in placed
    assert {integrated_of(result)[s] for s in segment_ids(data, P3)} == {""}
    audit = result.audit.iloc[0]
    assert (audit.action, audit.inputs, audit.outputs, audit.rationale) == (
        "drop", P3, "", "about the building, not care")


def test_dropped_integrated_theme_disappears_with_its_group_themes(data, tmp_path):
    result = run(data, tmp_path, [MERGE_DELAYS, {"action": "drop", "theme": "I01", "rationale": "out of scope"}])
    assert "I01" not in result.integrated["theme_id"].tolist()
    placed = [s for srcs in sources(result).values() for s in srcs]
    assert R3 not in placed and P2 not in placed
    assert {integrated_of(result)[s] for s in segment_ids(data, R3) + segment_ids(data, P2)} == {""}


# --------------------------------------------------------------------------- define, link, assign

def test_define_sets_description_and_builds_the_definition(data, tmp_path):
    result = run(data, tmp_path, [
        MERGE_KNOWN, MERGE_DELAYS,
        {"action": "define", "theme": "I01", "description": "Using names so the patient is a person.",
         "definition_elements": ["the patient is known by name"]},
        {"action": "define", "theme": "I02", "description": "Explaining delays honestly.",
         "definition_elements": "delays are explained honestly"},
    ])
    assert row(result, "I01").description == "Using names so the patient is a person."
    assert result.definition_elements == ["the patient is known by name", "delays are explained honestly"]
    assert "the patient is known by name" in result.definition
    assert "delays are explained honestly" in result.definition
    md = definition_markdown(result, "Test study")
    assert "Test study" in md and "- the patient is known by name" in md


def test_workshop_definition_is_used_when_given(data, tmp_path):
    result = run(data, tmp_path, [MERGE_KNOWN, {"action": "define", "theme": "I01", "description": "d",
                                                "definition_elements": ["known by name"]}],
                 definition="Compassion is being seen as a person.")
    assert result.definition == "Compassion is being seen as a person."
    assert result.definition_elements == ["known by name"]


def test_no_definition_without_define_decisions(data, tmp_path):
    result = run(data, tmp_path, [MERGE_KNOWN])
    assert result.definition == ""
    assert "No definition has been agreed yet" in definition_markdown(result, "T")


def test_link_is_recorded_in_theme_links(data, tmp_path):
    result = run(data, tmp_path, [MERGE_KNOWN, MERGE_DELAYS,
                                  {"action": "link", "from": "I02", "to": "I01", "relation": "leads to",
                                   "rationale": "honesty builds recognition"}])
    assert result.links.to_dict("records") == [
        {"source": "I02", "target": "I01", "relation": "leads to", "workshop": "workshop_1"}]
    audit = result.audit.iloc[2]
    assert (audit.action, audit.inputs, audit.outputs) == ("link", "I02;I01", "leads to")


def test_assign_places_the_theme_in_the_framework_with_a_quote_per_group(data, tmp_path):
    result = run(data, tmp_path, [
        {"action": "merge", "themes": [R1, P1], "label": "Known by name"},
        {"action": "define", "theme": "I01", "description": "Names matter."},
        {"action": "assign", "theme": "I01", "attribute": "Recognition",
         "behaviours": ["uses the patient's name", "remembers details"]},
    ])
    fw = result.framework
    assert list(fw.columns) == ["theme_id", "label", "attribute", "behaviour", "description",
                                "quote_radiographers", "quote_patients_carers", "quote_students"]
    assert fw["behaviour"].tolist() == ["uses the patient's name", "remembers details"]
    assert set(fw["theme_id"]) == {"I01"} and set(fw["attribute"]) == {"recognition"}
    assert set(fw["description"]) == {"Names matter."}
    seg = pd.DataFrame(data.segments)
    for group, theme in (("radiographers", R1), ("patients_carers", P1)):
        quote = fw.iloc[0][f"quote_{group}"]
        texts = seg[seg["segment_id"].isin(segment_ids(data, theme))]["text"]
        assert quote.startswith("“") and any(f"“{t}”" in quote for t in texts), quote
        assert FOCUS[group][0] in quote
    assert set(fw["quote_students"]) == {"no supporting talk from students"}   # students do not voice this theme


def test_unassigned_themes_are_not_in_the_framework(data, tmp_path):
    result = run(data, tmp_path, [MERGE_KNOWN])
    assert result.framework.empty


# --------------------------------------------------------------------------- audit

def test_audit_lists_every_decision_in_order(data, tmp_path):
    result = run(data, tmp_path,
                 [MERGE_KNOWN, {"action": "drop", "theme": P3, "rationale": "about the building"}],
                 [MERGE_DELAYS, {"action": "assign", "theme": "I02", "attribute": "action", "rationale": "doing"}])
    assert list(result.audit.columns) == ["workshop", "index", "action", "inputs", "outputs", "rationale", "check",
                                         "changed"]
    unchecked = "unchecked: {} has no fingerprint in based_on".format
    assert result.audit.drop(columns="changed").values.tolist() == [
        ["workshop_1", 1, "merge", f"{R1};{P1};{S1}", "I01", "all three groups talk about names",
         "; ".join(unchecked(t) for t in (R1, P1, S1))],
        ["workshop_1", 2, "drop", P3, "", "about the building", unchecked(P3)],
        ["workshop_2", 1, "merge", f"{R3};{P2}", "I02", "", f"{unchecked(R3)}; {unchecked(P2)}"],
        ["workshop_2", 2, "assign", "I02", "action", "doing", ""],
    ]
    assert result.audit["changed"].isna().all()   # nothing was checked, so nothing is said to have changed


# --------------------------------------------------------------------------- bad decisions

BAD_DECISIONS = {
    "unknown action": ([{"action": "combine", "themes": [R1, P1]}], 1, ["combine", "merge"]),
    "unknown group theme": ([{"action": "merge", "themes": [R1, "radiographers:T99"]}], 1,
                            ["radiographers:T99", "group_themes.csv"]),
    "unknown integrated theme": ([MERGE_KNOWN, {"action": "rename", "theme": "I07", "label": "x"}], 2, ["I07"]),
    "merge already placed": ([{"action": "merge", "themes": [R1, P1]}, {"action": "merge", "themes": [S1, R1]}], 2,
                             [R1, "already placed in I01"]),
    "drop already merged": ([MERGE_KNOWN, {"action": "drop", "theme": P1, "rationale": "x"}], 2, [P1, "I01"]),
    "use dropped group theme": ([{"action": "drop", "theme": R3, "rationale": "x"},
                                 {"action": "merge", "themes": [R3, P2]}], 2, [R3, "dropped"]),
    "use dropped integrated theme": ([MERGE_KNOWN, {"action": "drop", "theme": "I01", "rationale": "x"},
                                      {"action": "rename", "theme": "I01", "label": "y"}], 3, ["I01", "dropped"]),
    "use absorbed integrated theme": ([{"action": "merge", "themes": [R1]}, {"action": "merge", "themes": [P1]},
                                       {"action": "merge", "themes": ["I01", "I02"]},
                                       {"action": "define", "theme": "I01", "description": "d"}], 4, ["I01"]),
    "split integrated theme": ([MERGE_KNOWN, {"action": "split", "theme": "I01",
                                              "into": [{"keywords": ["name"]}, {"keywords": ["eye"]}]}], 2,
                               ["I01", "integrated"]),
    "split merged group theme": ([MERGE_KNOWN, {"action": "split", "theme": R1,
                                                "into": [{"keywords": ["names"]}, {"keywords": ["always"]}]}], 2,
                                 [R1, "I01"]),
    "split seeds match nothing": ([{"action": "split", "theme": R2,
                                    "into": [{"keywords": ["rota"]}, {"keywords": ["zebra"]}]}], 1,
                                  ["part 2", R2]),
    "split seed quote not in theme": ([{"action": "split", "theme": R2,
                                        "into": [{"keywords": ["rota"]}, {"quotes": ["FG01-t001-s1"]}]}], 1,
                                      ["part 2"]),
    "split one part": ([{"action": "split", "theme": R2, "into": [{"keywords": ["rota"]}]}], 1, ["two parts"]),
    "split again": ([ROTA_SPLIT, dict(ROTA_SPLIT)], 2, [R2, "split"]),
    "link bad relation": ([MERGE_KNOWN, MERGE_DELAYS,
                           {"action": "link", "from": "I01", "to": "I02", "relation": "causes"}], 3,
                          ["causes", "leads to"]),
    "link to itself": ([MERGE_KNOWN, {"action": "link", "from": "I01", "to": "I01", "relation": "part of"}], 2,
                       ["I01", "itself"]),
    "assign unknown attribute": ([MERGE_KNOWN, {"action": "assign", "theme": "I01", "attribute": "kindness"}], 2,
                                 ["kindness", "recognition"]),
    "conflicting assign": ([MERGE_KNOWN, {"action": "assign", "theme": "I01", "attribute": "recognition"},
                            {"action": "assign", "theme": "I01", "attribute": "action"}], 3,
                           ["recognition", "action"]),
    "drop without rationale": ([{"action": "drop", "theme": P3}], 1, ["rationale"]),
    "merge with bad into": ([{"action": "merge", "themes": [R1], "into": "radiographers:T02"}], 1, ["into"]),
    "merge without themes": ([{"action": "merge", "label": "x"}], 1, ["themes"]),
    "decision not a mapping": ([MERGE_KNOWN, "merge everything"], 2, ["merge everything"]),
}


@pytest.mark.parametrize("decisions, index, fragments", BAD_DECISIONS.values(), ids=BAD_DECISIONS.keys())
def test_bad_decision_names_the_file_and_the_decision(data, tmp_path, decisions, index, fragments):
    with pytest.raises(WorkshopError) as exc:
        run(data, tmp_path, decisions)
    message = str(exc.value)
    assert str(tmp_path / "workshop_1.yml") in message
    assert re.search(rf"\bdecision {index}\b", message), message
    for fragment in fragments:
        assert fragment in message


def test_each_workshops_pack_shows_the_state_before_it_untouched_by_later_decisions(data, tmp_path):
    """A workshop's pack is drawn from the state before that workshop: decisions made in
    it or later (merges, renames, the audit rows) must not leak into that copy."""
    result = run(data, tmp_path, [MERGE_KNOWN],
                 [MERGE_DELAYS, {"action": "rename", "theme": "I01", "label": "Known by name"}])
    first, second, third = (result.before[f"workshop_{n}"] for n in (1, 2, 3))
    assert first.integrated == {} and first.audit == [] and first.placed == {}
    assert set(second.integrated) == {"I01"} and second.integrated["I01"].label == "Being known as a person"
    assert {row["workshop"] for row in second.audit} == {"workshop_1"}
    assert set(third.integrated) == {"I01", "I02"} and third.integrated["I01"].label == "Known by name"


def test_error_in_a_later_workshop_names_that_workshop(data, tmp_path):
    with pytest.raises(WorkshopError) as exc:
        run(data, tmp_path, [MERGE_KNOWN], [MERGE_DELAYS, {"action": "link", "from": "I01", "to": "I09",
                                                           "relation": "part of"}])
    message = str(exc.value)
    assert str(tmp_path / "workshop_2.yml") in message and "decision 2" in message and "I09" in message


@pytest.mark.parametrize("retire", [
    [{"action": "drop", "theme": "I01", "rationale": "not about care"}],
    [{"action": "merge", "themes": [S1]}, {"action": "merge", "themes": ["I01", "I02"]}],
], ids=["dropped", "absorbed"])
def test_merge_into_a_retired_integrated_theme_is_refused(data, tmp_path, retire):
    decisions = [{"action": "merge", "themes": [R1]}, *retire, {"action": "merge", "themes": [P1], "into": "I01"}]
    with pytest.raises(WorkshopError, match=f"decision {len(decisions)}"):
        run(data, tmp_path, decisions)


def test_group_theme_merged_into_a_dropped_theme_is_not_lost(data, tmp_path):
    try:
        result = run(data, tmp_path, [{"action": "merge", "themes": [R1]},
                                      {"action": "drop", "theme": "I01", "rationale": "not about care"},
                                      {"action": "merge", "themes": [P1], "into": "I01"}])
    except WorkshopError:
        return  # refusing the decision is also acceptable
    placed = [s for srcs in sources(result).values() for s in srcs]
    assert P1 in placed


def test_split_part_that_is_not_a_mapping_is_a_workshop_error(data, tmp_path):
    with pytest.raises(WorkshopError, match="decision 1"):
        run(data, tmp_path, [{"action": "split", "theme": R2, "into": ["rota", "targets"]}])


def test_invalid_yaml_names_the_file_and_line(tmp_path):
    path = tmp_path / "workshop_1.yml"
    path.write_text("workshop: 1\ndecisions:\n  - action: merge\n    themes: [a, b\n  - action: drop\n",
                    encoding="utf-8")
    with pytest.raises(WorkshopError) as exc:
        load_workshop(path, 1)
    message = str(exc.value)
    assert str(path) in message
    assert re.search(r"line \d+", message), message


def test_workshop_file_that_is_not_a_mapping_is_refused(tmp_path):
    path = tmp_path / "workshop_1.yml"
    path.write_text("- action: merge\n", encoding="utf-8")
    with pytest.raises(WorkshopError, match="decisions"):
        load_workshop(path, 1)


def test_load_workshop_reads_the_fields(tmp_path):
    w = write_workshop(tmp_path, 2, [MERGE_KNOWN], definition="  Compassion is X.  ", illustrative=True)
    assert (w.number, w.name, w.title, w.date) == (2, "workshop_2", "Workshop 2", "2024-05-02")
    assert w.decisions == [MERGE_KNOWN]
    assert w.definition == "Compassion is X." and w.illustrative is True


# --------------------------------------------------------------------------- proposals

def test_without_workshops_similar_themes_across_groups_are_proposed_together(data, tmp_path):
    result = run(data, tmp_path)
    assert set(result.integrated["status"]) == {"proposed"}
    groups = {frozenset(s) for s in sources(result).values()}
    assert frozenset({R1, P1, S1}) in groups
    assert frozenset({R3, P2}) in groups
    for lone in (R2, P3, S2):                          # dissimilar themes stay apart
        assert frozenset({lone}) in groups
    assert_each_group_theme_once(result, [R1, P1, S1, R2, R3, P2, P3, S2])
    assert result.audit.empty and result.links.empty


def test_proposal_holds_at_most_one_theme_per_group(tmp_path):
    def extra(d):   # a second radiographer theme in the same direction as R1
        d.theme("radiographers:T04", "small talk / names", "small talk; names; person",
                [(words("small talk and their names", i), e(0)) for i in range(3)])
    data = standard_data(extra)
    gt, asg, seg, emb = data.tables()
    proposals = Integration(gt, asg, emb, seg).propose()
    for p in proposals:
        groups = [t.split(":")[0] for t in p]
        assert len(groups) == len(set(groups)), p
    known = [p for p in proposals if P1 in p][0]
    assert S1 in known and len({R1, "radiographers:T04"} & set(known)) == 1
    flat = sorted(t for p in proposals for t in p)
    assert flat == sorted(gt["theme_id"])


def test_proposals_only_cover_themes_no_decision_placed(data, tmp_path):
    result = run(data, tmp_path, [{"action": "merge", "themes": [R1, P1], "label": "Known"},
                                  {"action": "drop", "theme": P3, "rationale": "x"}])
    status = dict(zip(result.integrated["theme_id"], result.integrated["status"]))
    assert status["I01"] == "agreed"
    assert sum(1 for s in status.values() if s == "agreed") == 1
    assert_each_group_theme_once(result, [R1, P1, S1, R2, R3, P2, S2])
    assert frozenset({R3, P2}) in {frozenset(s) for s in sources(result).values()}


def test_a_high_threshold_proposes_every_theme_alone(data):
    gt, asg, seg, emb = data.tables()
    proposals = Integration(gt, asg, emb, seg).propose(threshold=1.01)
    assert sorted(proposals) == sorted([t] for t in gt["theme_id"])


# --------------------------------------------------------------------------- balance

def test_balance_index_is_one_for_equal_shares():
    assert balance_index({"a": 0.2, "b": 0.2, "c": 0.2}) == pytest.approx(1.0)


def test_balance_index_is_zero_for_one_group():
    assert balance_index({"a": 0.4, "b": 0.0, "c": 0.0}) == 0.0
    assert balance_index({"a": 0.0, "b": 0.0}) == 0.0
    assert balance_index({"a": 0.3}) == 0.0


def test_balance_index_follows_the_normalised_entropy_formula():
    shares = {"a": 0.3, "b": 0.1, "c": 0.0}
    p = [0.75, 0.25]
    expected = -sum(x * math.log(x) for x in p) / math.log(3)
    value = balance_index(shares)
    assert value == pytest.approx(expected)
    assert 0 < value < 1
    # only relative shares matter
    assert balance_index({"a": 3, "b": 1, "c": 0}) == pytest.approx(expected)


def test_dominance_threshold():
    assert dominance_threshold(2) == pytest.approx(0.75)
    assert dominance_threshold(3) == pytest.approx(2 / 3)


def test_balance_flags():
    assert balance_flags({"a": 0.2, "b": 0.2, "c": 0.2}, 0.3) == []
    assert balance_flags({"a": 0.2, "b": 0.2, "c": 0.0}, 0.3) == ["missing voice: c"]
    assert "dominated by a" in balance_flags({"a": 0.8, "b": 0.1, "c": 0.1}, 0.3)
    assert not any(f.startswith("dominated") for f in balance_flags({"a": 0.6, "b": 0.2, "c": 0.2}, 0.3))
    assert balance_flags({"a": 0.2, "b": 0.2, "c": 0.2}, 0.6) == ["rests on one speaker"]
    assert balance_flags({"a": 0.2, "b": 0.2, "c": 0.2}, 0.5) == []


def test_integrated_shares_are_normalised_by_each_groups_talk(tmp_path):
    d = Data(seed=3)   # radiographers said 10 segments, students only 4
    d.theme(R1, "names", "names", [(words("names matter", i), e(0)) for i in range(5)])
    d.theme(R2, "rota", "rota", [(words("the rota", i), e(1)) for i in range(5)])
    d.theme(S1, "names too", "names", [(words("their names", i), e(0)) for i in range(2)])
    d.theme(S2, "forms", "forms", [(words("the forms", i), e(3)) for i in range(2)])
    result = run(d, tmp_path, [{"action": "merge", "themes": [R1, S1], "label": "Names"}],
                 group_ids=["radiographers", "students"])
    r = row(result, "I01")
    assert r.n_segments == 7
    assert r.share_radiographers == pytest.approx(0.5)
    assert r.share_students == pytest.approx(0.5)
    assert r.balance == pytest.approx(1.0)
    assert "dominated" not in r["flags"] and "missing voice" not in r["flags"]
    assert list(result.integrated.columns) == [
        "theme_id", "label", "description", "status", "source_themes", "n_segments", "n_speakers",
        "share_radiographers", "share_students", "balance", "flags", "caveats", "workshop"]


def test_integrated_table_flags_missing_voices_and_a_single_speaker(data, tmp_path):
    result = run(data, tmp_path, [MERGE_DELAYS, {"action": "merge", "themes": [P3], "label": "Dignity"}])
    delays = row(result, "I01")
    assert delays["flags"] == "missing voice: students"
    assert delays.share_students == 0
    assert delays.share_radiographers == pytest.approx(round(3 / 13, 4))
    assert delays.share_patients_carers == pytest.approx(4 / 10)
    assert 0 < delays.balance < 1
    dignity = row(result, "I02")                      # all of it from Margaret
    flags = dignity["flags"].split("; ")
    assert "rests on one speaker" in flags
    assert "dominated by patients_carers" in flags
    assert {"missing voice: radiographers", "missing voice: students"} <= set(flags)
    assert dignity.balance == 0 and dignity.n_speakers == 1


# --------------------------------------------------------------------------- workshop packs

def packs(data, workshops):
    gt, asg, seg, emb = data.tables()
    result = integrate(gt, asg, seg, emb, workshops, GROUPS)
    return workshop_packs(result, PALETTE, LABELS, "Test study", workshops)


def test_one_proposed_pack_when_there_are_no_workshops():
    data = standard_data(script_quote=True)
    result = packs(data, [])
    assert list(result) == ["workshop_1"]
    page = result["workshop_1"]
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "proposed" in page.lower()
    for label in ("names / remember", "name / known", "waiting / delays", "paperwork / portfolio"):
        assert html.escape(label) in page
    assert page.count("<h2>Discussion") == 5          # the five proposals of the standard data


def test_pack_quotes_are_escaped_and_there_are_no_links():
    data = standard_data(script_quote=True)
    page = packs(data, [])["workshop_1"]
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; she smiled" in page
    assert "she knew my name" in page                  # other pseudonymised quotes are shown
    assert not re.search(r"https?://", page)
    assert "<a " not in page.lower()


def test_one_pack_per_workshop_built_from_the_state_before_it(data, tmp_path):
    w1 = write_workshop(tmp_path, 1, [ROTA_SPLIT, MERGE_KNOWN])
    w2 = write_workshop(tmp_path, 2, [MERGE_DELAYS])
    result = packs(data, [w1, w2])
    assert list(result) == ["workshop_1", "workshop_2", "workshop_3"]   # and the next one
    assert "Rota pressures" not in result["workshop_1"]       # the split happens in workshop 1
    assert "Rota pressures" in result["workshop_2"]
    assert "(next)" in result["workshop_3"] and "Honest about delays" not in result["workshop_2"]
    assert "workshop_1.yml" in result["workshop_1"] and "workshop_2.yml" in result["workshop_2"]
    for page in result.values():
        assert not re.search(r"https?://", page)


def test_write_workshop_packs_writes_one_page_per_pack(tmp_path):
    data = standard_data(script_quote=True)
    written = write_workshop_packs(tmp_path / "workshop_packs", packs(data, []))
    assert [p.name for p in written] == ["workshop_1.html"]
    assert written[0].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_workshop_table_lists_each_workshop_and_is_empty_without_any(tmp_path):
    assert workshop_table([]).empty and "decisions" in workshop_table([]).columns
    path = tmp_path / "w.yml"
    path.write_text("title: First\ndate: 2026-01-01\nillustrative: true\nattendees: {staff: 2}\n"
                    "decisions:\n  - {action: drop, theme: x, rationale: y}\n")
    table = workshop_table([load_workshop(path, 1)])
    assert table.iloc[0][["workshop", "title", "decisions", "attendees", "illustrative"]].tolist() == \
        ["workshop_1", "First", 1, "staff: 2", True]


# --------------------------------------------------------------------------- said clearly (issue 23)

def test_split_part_naming_a_quote_of_another_theme_is_refused(data, tmp_path):
    ids, other = segment_ids(data, R2), segment_ids(data, R1)[0]
    with pytest.raises(WorkshopError) as exc:
        run(data, tmp_path, [{"action": "split", "theme": R2,
                              "into": [{"label": "Rota", "quotes": [ids[0], other]},
                                       {"label": "Targets", "quotes": [ids[5]]}]}])
    message = str(exc.value)
    assert message.startswith(f"{tmp_path / 'workshop_1.yml'}, decision 1 (split): part 1 names the quote {other}, "
                              f"which is not a segment of '{R2}' (it is in {R1})")


def test_merging_an_integrated_theme_already_merged_names_where_it_went(data, tmp_path):
    decisions = [{"action": "merge", "themes": [R1]}, {"action": "merge", "themes": [S1]},
                 {"action": "merge", "themes": ["I01", "I02"], "into": "I01"},
                 {"action": "merge", "themes": ["I02", P1]}]
    with pytest.raises(WorkshopError) as exc:
        run(data, tmp_path, decisions)
    assert str(exc.value) == (f"{tmp_path / 'workshop_1.yml'}, decision 4 (merge): uses 'I02', which "
                              f"{tmp_path / 'workshop_1.yml'} decision 3 already merged into I01; name I01 instead, "
                              "or remove one of the two decisions.")
