"""Tests for helpers.decisions: what each workshop decision does (merge, rename, split,
drop, define, link, assign), the audit trail, and the one-sentence errors that name the
file, the decision and the fix.

The data are built in memory (tests/coproduction_data.py).
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from coproduction_data import (FOCUS, MERGE_DELAYS, MERGE_KNOWN, P1, P2, P3, R1, R2, R3, ROTA_SPLIT, S1, S2, Data,
                               assert_each_group_theme_once, integrated_of, row, run, segment_ids, sources,
                               standard_data)
from helpers.coproduction import WorkshopError, definition_markdown


@pytest.fixture
def data() -> Data:
    return standard_data()


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
