"""Tests for helpers.coproduction and helpers.integration: replaying the workshops (the
state before each one), reading workshop files, proposals, balance across participant
groups, the integrated table and the table of workshops. What each decision does is
tests/test_decisions.py; the printable packs are tests/test_packs.py.

The data are built in memory (tests/coproduction_data.py).
"""

from __future__ import annotations

import math
import re

import pytest

from coproduction_data import (MERGE_DELAYS, MERGE_KNOWN, P1, P2, P3, R1, R2, R3, S1, S2, Data,
                               assert_each_group_theme_once, e, row, run, sources, standard_data, words,
                               write_workshop)
from helpers.coproduction import (WorkshopError, balance_flags, balance_index, dominance_threshold, load_workshop,
                                  workshop_table)
from helpers.integration import Integration


@pytest.fixture
def data() -> Data:
    return standard_data()


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


def test_workshop_table_lists_each_workshop_and_is_empty_without_any(tmp_path):
    assert workshop_table([]).empty and "decisions" in workshop_table([]).columns
    path = tmp_path / "w.yml"
    path.write_text("title: First\ndate: 2026-01-01\nillustrative: true\nattendees: {staff: 2}\n"
                    "decisions:\n  - {action: drop, theme: x, rationale: y}\n")
    table = workshop_table([load_workshop(path, 1)])
    assert table.iloc[0][["workshop", "title", "decisions", "attendees", "illustrative"]].tolist() == \
        ["workshop_1", "First", 1, "staff: 2", True]
