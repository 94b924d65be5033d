"""Workshop decisions cannot silently point at other themes: fingerprints pinned in
`based_on:`, carry-over to one clear successor by member overlap, a one-sentence stop
otherwise, and `make rebase-workshops` rewriting the files for a rerun."""

from __future__ import annotations

import io
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from conftest import ROOT
from coproduction_data import GROUPS, P1, P2, P3, R1, R2, R3, S1, standard_data

from helpers.coproduction import WorkshopError, integrate, next_workshop_files
from helpers.identity import fingerprint
from helpers.workshop_files import (
    load_workshop,
    load_workshops,
    rebase_study,
    rebase_workshop,
    snapshot_table,
    theme_members,
)


def pinned_workshop(tmp_path, members, decisions, pins, snapshot=True, number=1, name=None):
    """A workshop file that pins ``pins`` (ids of the run it was made on, ``members``)."""
    doc = {"workshop": number, "title": f"Workshop {number}", "date": "2026-03-04",
           "based_on": {t: fingerprint(members[t]) for t in pins}, "decisions": decisions}
    if snapshot:
        snapshot_table(members, pins).to_csv(tmp_path / f"workshop_{number}.snapshot.csv", index=False)
        doc["snapshot"] = f"workshop_{number}.snapshot.csv"
    path = tmp_path / (name or f"workshop_{number}.yml")
    path.write_text("# a comment kept by rebase\n" + yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def rerun(data, rename=None, move=None):
    """The same data analysed again: theme ids renumbered (``rename``) and some segments
    moved to another theme (``move``: segment id -> new theme id)."""
    gt, asg, seg, emb = data.tables()
    rename = rename or {}
    asg = asg.assign(theme_id=asg["theme_id"].map(lambda t: rename.get(t, t)))
    for sid, theme in (move or {}).items():
        asg.loc[asg["segment_id"] == sid, "theme_id"] = theme
    gt = gt.assign(theme_id=gt["theme_id"].map(lambda t: rename.get(t, t)))
    return gt, asg, seg, emb


MERGE = {"action": "merge", "themes": [R1, P1, S1], "into": "I01", "label": "Being known"}
SWAP = {R1: R2, R2: R1}   # a rerun that numbers the radiographers' first two themes the other way


@pytest.fixture
def data():
    return standard_data()


@pytest.fixture
def first_run(data):
    return theme_members(data.tables()[1])


def test_a_pinned_theme_whose_members_are_unchanged_is_applied_and_marked_checked(data, first_run, tmp_path):
    path = pinned_workshop(tmp_path, first_run, [MERGE], [R1, P1, S1])
    result = integrate(*data.tables(), [load_workshop(path, 1)], GROUPS)
    assert result.integrated.set_index("theme_id").loc["I01", "source_themes"] == f"{R1};{P1};{S1}"
    assert result.audit.iloc[0]["check"] == "; ".join(f"checked: {t} ({fingerprint(first_run[t])}) unchanged"
                                                      for t in (R1, P1, S1))


def test_a_renumbered_theme_is_carried_over_to_its_successor_and_logged(data, first_run, tmp_path):
    path = pinned_workshop(tmp_path, first_run, [MERGE], [R1, P1, S1])
    moved = sorted(first_run[R1])[0]                      # one of R1's four segments moves elsewhere
    gt, asg, seg, emb = rerun(data, rename=SWAP, move={moved: R3})
    result = integrate(gt, asg, seg, emb, [load_workshop(path, 1)], GROUPS)
    # The content the workshop saw is now called R2; the decision follows the content.
    assert result.integrated.set_index("theme_id").loc["I01", "source_themes"] == f"{R2};{P1};{S1}"
    check = result.audit.iloc[0]["check"]
    assert f"carried over from {R1} (fingerprint {fingerprint(first_run[R1])}) to {R2}" in check
    assert "overlap 0.75" in check                        # 3 of the 4 segments stayed together
    # ... and says how much of the theme changed, in words and as a share
    assert "3 of its 4 segments kept, 1 left, 0 joined (25% changed)" in check
    assert result.audit.iloc[0]["changed"] == 0.25


def test_a_theme_without_a_clear_successor_stops_the_run_naming_the_candidates(data, first_run, tmp_path):
    path = pinned_workshop(tmp_path, first_run, [MERGE], [R1, P1, S1])
    half = sorted(first_run[R1])[:2]                      # R1 splits evenly over R1 and R3
    gt, asg, seg, emb = rerun(data, move={s: R3 for s in half})
    with pytest.raises(WorkshopError) as err:
        integrate(gt, asg, seg, emb, [load_workshop(path, 1)], GROUPS)
    message = str(err.value)
    assert message.startswith(f"{path}, decision 1: the theme {R1} the workshop saw")
    assert f"{R1} (overlap 0.50)" in message and f"{R3} (overlap" in message
    assert "make rebase-workshops" in message and "\n" not in message


def test_a_changed_theme_without_a_snapshot_stops_the_run(data, first_run, tmp_path):
    path = pinned_workshop(tmp_path, first_run, [MERGE], [R1, P1, S1], snapshot=False)
    with pytest.raises(WorkshopError, match=r"no snapshot of its members came with the file"):
        integrate(*rerun(data, rename=SWAP), [load_workshop(path, 1)], GROUPS)


def test_a_hand_written_decision_is_applied_with_an_unchecked_warning(data, tmp_path):
    path = tmp_path / "w.yml"
    path.write_text(yaml.safe_dump({"workshop": 1, "decisions": [MERGE]}))
    result = integrate(*data.tables(), [load_workshop(path, 1)], GROUPS)
    assert result.audit.iloc[0]["check"].startswith(f"unchecked: {R1} has no fingerprint in based_on")


def test_two_workshop_files_with_one_number_are_refused(tmp_path):
    a, b = tmp_path / "a.yml", tmp_path / "b.yml"
    for path in (a, b):
        path.write_text("workshop: 1\ndecisions: []\n")
    with pytest.raises(WorkshopError, match=r"b\.yml: says 'workshop: 1', as .*a\.yml does; give each workshop"):
        load_workshops([a, b])


def test_a_workshop_number_that_is_not_a_number_names_the_file_and_key(tmp_path):
    path = tmp_path / "w.yml"
    path.write_text("workshop: one\ndecisions: []\n")
    with pytest.raises(WorkshopError, match=r"w\.yml: 'workshop:' is 'one', which is not a workshop number"):
        load_workshop(path, 1)


def test_merging_into_a_used_integrated_id_with_a_new_label_logs_the_relabel(data, tmp_path):
    path = tmp_path / "w.yml"
    path.write_text(yaml.safe_dump({"workshop": 1, "decisions": [
        MERGE, {"action": "merge", "themes": [R3, P2], "into": "I01", "label": "Known and kept informed"}]}))
    result = integrate(*data.tables(), [load_workshop(path, 1)], GROUPS)
    relabel = result.audit[result.audit["action"] == "rename"].iloc[0]
    assert relabel["rationale"] == "relabelled by this merge: was 'Being known'"
    assert result.integrated.set_index("theme_id").loc["I01", "label"] == "Known and kept informed"


def test_rebase_rewrites_ids_and_fingerprints_so_the_file_then_applies_cleanly(data, first_run, tmp_path):
    path = pinned_workshop(tmp_path, first_run, [MERGE, {"action": "drop", "theme": P3, "rationale": "off topic"}],
                           [R1, P1, S1, P3])
    moved = sorted(first_run[R1])[0]
    gt, asg, seg, emb = rerun(data, rename=SWAP, move={moved: R3})
    out = tmp_path / "out"
    out.mkdir()
    asg.to_parquet(out / "theme_assignments.parquet")
    printed = io.StringIO()
    assert rebase_study(SimpleNamespace(workshops=[path]), out, printed) == 0
    text = path.read_text()
    assert text.startswith("# a comment kept by rebase")
    assert f"- {R2}\n" in text and f"- {R1}\n" not in text            # the merge now names the successor
    new_members = theme_members(asg)
    assert f'{R2}: "{fingerprint(new_members[R2])}"' in text
    assert "carried over from" in printed.getvalue() and f"+  - {R2}" in printed.getvalue()   # shown as a diff
    assert (out / "workshops_before_rebase" / path.name).read_text().count(R1) >= 2     # original kept
    result = integrate(gt, asg, seg, emb, [load_workshop(path, 1)], GROUPS)
    assert all(c.startswith("checked") for c in result.audit.iloc[0]["check"].split("; "))


def test_rebase_leaves_a_file_with_an_ambiguous_theme_for_a_person_untouched(data, first_run, tmp_path):
    path = pinned_workshop(tmp_path, first_run, [MERGE], [R1, P1, S1])
    half = sorted(first_run[R1])[:2]
    # R1 loses half its members; P1 is renumbered (it alone would be carried over)
    _, asg, _, _ = rerun(data, rename={P1: P2, P2: P1}, move={s: R3 for s in half})
    before = path.read_text()
    plan = rebase_workshop(load_workshop(path, 1), theme_members(asg))
    assert plan.new_text == before and plan.snapshot is None and len(plan.left) == 1 and R1 in plan.left[0]
    out = tmp_path / "out"
    out.mkdir()
    asg.to_parquet(out / "theme_assignments.parquet")
    printed = io.StringIO()
    assert rebase_study(SimpleNamespace(workshops=[path]), out, printed) == 1
    assert path.read_text() == before and "left as it is" in printed.getvalue()


def test_the_next_workshop_gets_a_template_and_snapshot_that_apply_cleanly(data, tmp_path):
    result = integrate(*data.tables(), [], GROUPS)
    files = next_workshop_files(result, GROUPS)
    template, snapshot = files["workshop_1.template.yml"], files["workshop_1.snapshot.csv"]
    doc = yaml.safe_load(template)
    assert doc["workshop"] == 1 and doc["based_on"][R1] == fingerprint(result.members[R1])
    assert set(snapshot["theme_id"]) == set(doc["based_on"])
    # A facilitator fills in one decision; the file applies and every theme checks.
    (tmp_path / "workshop_1.template.yml").write_text(template.replace("decisions: []", "decisions:\n"
                                                      f"  - {{action: merge, themes: [{R1}, {P1}], label: Known}}"))
    snapshot.to_csv(tmp_path / "workshop_1.snapshot.csv", index=False)
    applied = integrate(*data.tables(), [load_workshop(tmp_path / "workshop_1.template.yml", 1)], GROUPS)
    assert applied.audit.iloc[0]["check"].count("checked:") == 2


def test_each_framework_behaviour_gets_its_own_supporting_quote(tmp_path):
    def extra(d):
        d.theme("radiographers:T04", "names / tea", "names; tea", [
            ("I always use their names when they come in, every single day of the week", [0] * 15 + [1]),
            ("we make a cup of tea for the carers who wait outside in the corridor", [0] * 15 + [1]),
        ])
    data = standard_data(extra)
    path = tmp_path / "w.yml"
    path.write_text(yaml.safe_dump({"workshop": 1, "decisions": [
        {"action": "merge", "themes": ["radiographers:T04"], "into": "I01", "label": "Small kindnesses"},
        {"action": "assign", "theme": "I01", "attribute": "action",
         "behaviours": ["uses people's names", "makes tea for carers", "holds the hand of a frightened patient"]}]}))
    framework = integrate(*data.tables(), [load_workshop(path, 1)], GROUPS).framework.set_index("behaviour")
    assert "names" in framework.loc["uses people's names", "quote_radiographers"]
    assert "tea" in framework.loc["makes tea for carers", "quote_radiographers"]
    assert framework.loc["holds the hand of a frightened patient", "quote_radiographers"] == \
        "no supporting talk from radiographers"
    assert framework.loc["uses people's names", "quote_students"] == "no supporting talk from students"


def test_every_documented_action_has_a_handler_that_says_what_it_does_to_the_state():
    from helpers.decisions import HANDLERS

    documented = re.findall(r"^\| `(\w+)` \|", (ROOT / "docs" / "workshop_files.md").read_text(), re.M)
    assert sorted(documented) == sorted(HANDLERS)      # the table of actions is the handlers, no more, no fewer
    assert all(len((h.__doc__ or "").split()) >= 8 for h in HANDLERS.values())


def test_the_documented_keys_of_split_define_and_link_are_read(data, first_run, tmp_path):
    rota = [s for s in sorted(first_run[R2]) if "rota" in data.tables()[2].set_index("segment_id").loc[s, "text"]]
    path = tmp_path / "w.yml"
    path.write_text(yaml.safe_dump({"workshop": 1, "decisions": [
        {"action": "split", "theme": R2, "parts": {"Rota pressures": rota[:1], "Targets": ["targets"]}},
        {"action": "merge", "themes": [f"{R2}.1"], "into": "I01", "label": "Rota pressures"},
        {"action": "merge", "themes": [f"{R2}.2", R3], "into": "I02", "label": "Targets and delays"},
        {"action": "define", "theme": "I01", "description": "Rotas.", "elements": ["rotas leave room for people"]},
        {"action": "link", "source": "I01", "target": "I02", "relation": "leads to"}]}))
    result = integrate(*data.tables(), [load_workshop(path, 1)], GROUPS)
    assert result.definition_elements == ["rotas leave room for people"]
    assert result.links[["source", "target", "relation"]].values.tolist() == [["I01", "I02", "leads to"]]
    parts = result.segment_themes.set_index("segment_id")["group_theme"]
    assert {parts[s] for s in rota} == {f"{R2}.1"}


# --------------------------------------------------------------------------- files read strictly (issue 23)

FIXTURES = Path(__file__).parent / "fixtures" / "workshops"


def test_leftover_empty_decisions_after_the_decisions_is_refused_naming_the_line():
    path = FIXTURES / "leftover_decisions.yml"
    with pytest.raises(WorkshopError) as err:
        load_workshop(path, 1)
    assert str(err.value) == (f"{path}, line 12: 'decisions:' is given twice in the same block (first on line 5), "
                              "and YAML would silently keep only the second; merge the two or delete one.")


@pytest.mark.parametrize("name", ["empty.yml", "comments_only.yml"])
def test_empty_workshop_file_is_refused(name):
    path = FIXTURES / name
    with pytest.raises(WorkshopError) as err:
        load_workshop(path, 1)
    message = str(err.value)
    assert message.startswith(f"{path}: the file is empty") and "remove it from the study's 'workshops:'" in message


def test_workshop_number_in_quotes_is_that_number():
    assert load_workshop(FIXTURES / "quoted_number.yml", 1).number == 2


@pytest.mark.parametrize("value", ['"one"', "1.5", "0", "true"])
def test_a_workshop_number_that_is_not_one_says_what_it_is(tmp_path, value):
    path = tmp_path / "workshop_1.yml"
    path.write_text(f"workshop: {value}\ndecisions: []\n", encoding="utf-8")
    with pytest.raises(WorkshopError) as err:
        load_workshop(path, 1)
    assert str(err.value).startswith(f"{path}: 'workshop:' is ") and "write a whole number" in str(err.value)


def test_workshop_file_in_windows_1252_names_the_file_and_line():
    path = FIXTURES / "cp1252.yml"
    with pytest.raises(WorkshopError) as err:
        load_workshop(path, 1)
    assert str(err.value).startswith(f"{path}, line 2: the workshop file is not UTF-8 (byte 0x96")
