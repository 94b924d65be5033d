"""What a reviewer reads first in report.html: the summary and the workshops.

The workshops section is checked against the bundled workshop files themselves: their
decisions are applied by ``coproduction.integrate`` to group themes made from the members
each workshop pinned (the snapshot files), so the audit the report reads is the one a run
writes, with no theme fit needed.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest

import contract_tables as ct
from conftest import ROOT
from helpers import coproduction, report
from helpers.study import load_study
from helpers.workshop_files import load_workshops, read_snapshot


def _section(page: str, key: str) -> str:
    match = re.search(rf'<section id="{key}">(.*?)</section>', page, re.S)
    assert match, f"section {key} missing"
    return match.group(1)


def _plain(fragment: str) -> str:
    """The text of an HTML fragment (tags removed, entities decoded, spaces collapsed)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


# --------------------------------------------------------------------------- bundled workshops

@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """A run's stage-5 tables for the bundled study, from its own workshop files."""
    study = load_study(ROOT / "data" / "study.yml")
    workshops = load_workshops(list(study.workshops))
    members: dict[str, set[str]] = {}
    for w in workshops:
        if w.snapshot:
            for tid, segs in read_snapshot(w.snapshot).items():
                members.setdefault(tid, set()).update(segs)
    seg_ids = sorted({s for segs in members.values() for s in segs})
    theme_of = {s: t for t, segs in members.items() for s in segs}
    group_of = {t: t.split(":")[0] for t in members}
    segments = pd.DataFrame({"segment_id": seg_ids, "participant_group": [group_of[theme_of[s]] for s in seg_ids],
                             "focus_group": [s.split("-")[0] for s in seg_ids], "speaker": "P",
                             "text": "words", "n_words": 20})
    assignments = pd.DataFrame({"segment_id": seg_ids, "participant_group": segments["participant_group"],
                                "theme_id": [theme_of[s] for s in seg_ids]})
    labels = {}
    for w in workshops:  # the label each file's comment gives its pinned themes
        for line in w.path.read_text(encoding="utf-8").splitlines():
            found = re.match(r'\s+(\S+:T\d+): "[0-9a-f]{8}"\s+#\s*(.+)$', line)
            if found:
                labels[found.group(1)] = found.group(2)
    group_themes = pd.DataFrame([{"participant_group": group_of[t], "theme_id": t, "label": labels.get(t, t),
                                  "keywords": labels.get(t, ""), "n_segments": len(members[t]), "unstable": False,
                                  "caveat": ""} for t in sorted(members)])
    vectors = np.random.default_rng(0).normal(size=(len(seg_ids), 8)).astype(np.float32)
    result = coproduction.integrate(group_themes, assignments, segments, vectors, workshops, study.group_ids)
    out = tmp_path_factory.mktemp("bundled") / "compassion-coproduction"
    out.mkdir()
    group_themes.to_csv(out / "group_themes.csv", index=False)
    result.integrated.to_csv(out / "integrated_themes.csv", index=False)
    result.audit.to_csv(out / "workshop_audit.csv", index=False)
    coproduction.definition_table(result).to_csv(out / "definition.csv", index=False)
    coproduction.split_parts_table(result).to_csv(out / "split_themes.csv", index=False)
    return {"study": study, "workshops": workshops, "audit": result.audit, "out": out,
            "page": report.build_report(out, study), "result": result}


def test_workshops_section_carries_every_bundled_decision_with_its_reason(bundled):
    section = _section(bundled["page"], "workshops")
    text = _plain(section)
    decisions = re.findall(r'<li class="decision (\w+)">(.*?)</li>', section, re.S)
    assert len(decisions) == len(bundled["audit"])  # one item per applied decision, renames by merges included
    for (action, item), row in zip(decisions, bundled["audit"].itertuples()):
        item = _plain(item)
        assert action == row.action
        for theme in [t for t in str(row.inputs).split(";") if t] + [t for t in str(row.outputs).split(";") if t]:
            if row.action not in ("link", "assign") or theme.startswith("I"):
                assert theme in item, (theme, item)
        if row.rationale:
            assert f"Reason: {row.rationale}" in item
        else:
            assert "No reason recorded" in item
    for w in bundled["workshops"]:
        for d in w.decisions:
            if d.get("rationale"):
                assert " ".join(str(d["rationale"]).split()) in text
    # plain words, with labels
    assert ("Merged radiographers:T04 ‘eye contact’ and students:T01 ‘eye contact’ into I04 ‘Touch and tone of "
            "voice’.") in text
    assert "Dropped radiographers:T07 ‘treatment review’: its segments go into no integrated theme." in text
    assert "Renamed I03 to ‘Honesty about waiting and breakdowns’." in text


def test_workshops_section_says_when_who_and_what_was_checked(bundled):
    text = _plain(_section(bundled["page"], "workshops"))
    assert "Workshop 1 · 4 March 2026 · Workshop 1: reading across the three data sets" in text
    assert ("Attended by 3 therapeutic radiographers, 4 patients and carers and 3 student therapeutic "
            "radiographers.") in text
    assert "Workshop 3 · 27 May 2026" in text
    assert "Illustrative decisions for the synthetic study" in text
    assert "13 group themes the workshop pinned held the same segments in this run." in text
    assert "Nothing was carried over after a rerun." in text


def test_workshops_section_shows_carry_over_and_splits(bundled, tmp_path):
    import shutil

    out = tmp_path / "run"
    shutil.copytree(bundled["out"], out)
    audit = pd.read_csv(out / "workshop_audit.csv", keep_default_na=False)
    audit.loc[0, "check"] = ("carried over from radiographers:T05 (fingerprint 2da2726c) to radiographers:T06 "
                             "(1a2b3c4d), overlap 0.74")
    split = {"workshop": "workshop_2", "index": 99, "action": "split", "inputs": "students:T08",
             "outputs": "students:T08.1;students:T08.2", "rationale": "Masks and fear are two stories.", "check": ""}
    pd.concat([audit, pd.DataFrame([split])]).to_csv(out / "workshop_audit.csv", index=False)
    pd.DataFrame([{"theme_id": f"students:T08.{k}", "parent": "students:T08", "participant_group": "students",
                   "label": label, "keywords": "", "n_segments": 4, "workshop": "workshop_2"}
                  for k, label in ((1, "The mask itself"), (2, "Being afraid"))]).to_csv(out / "split_themes.csv",
                                                                                       index=False)
    text = _plain(_section(report.build_report(out, bundled["study"]), "workshops"))
    assert "Carried over after a rerun" in text and "overlap 0.74" in text
    assert ("Split students:T08 ‘mask patients’ into students:T08.1 ‘The mask itself’ and students:T08.2 ‘Being "
            "afraid’. Reason: Masks and fear are two stories.") in text


# --------------------------------------------------------------------------- summary

def test_summary_comes_first_with_definition_themes_trust_and_next_step(bundled):
    page = bundled["page"]
    assert page.index('<section id="summary">') < page.index('<section id="workshops">') < page.index(
        '<section id="design">')
    text = _plain(_section(page, "summary"))
    definition = bundled["result"].definition
    assert " ".join(definition.split()) in text
    integrated = _plain(_section(page, "integrated"))
    labels = bundled["study"].group_labels
    for row in bundled["result"].integrated.itertuples():
        assert f"{row.theme_id} {row.label}" in text
        assert f"{row.balance:.2f}" in text
        cell = re.search(rf"<td><strong>{row.theme_id}</strong>.*?</tr>", _section(page, "summary"), re.S).group(0)
        for flag in [f for f in row.flags.split("; ") if f]:
            assert flag in integrated  # in words in the table of integrated themes
            if not flag.startswith(("missing voice: ", "dominated by ")):
                assert flag in _plain(cell)  # a flag about no one group ("rests on one speaker") as it is
                continue
            kind, group = flag.split(": ") if ": " in flag else (flag, "")
            group = group or flag.rsplit(" ", 1)[-1]
            short = {"missing voice": "no voice from"}.get(kind, "dominated by")
            assert short in _plain(cell) and labels[group] in _plain(cell)  # in the summary: by kind, group chips
    proposed = bundled["result"].integrated.query("status == 'proposed'")
    if len(proposed):
        assert f"{len(proposed)} integrated theme" in text and "still proposed" in text
    else:
        assert "Every integrated theme has been agreed by a workshop." in text
    assert "Next step: workshop 4" in text


def test_summary_trust_sentences_carry_the_numbers_of_theme_quality(tmp_path):
    tables = ct.make_tables()
    out = ct.write_output_dir(tmp_path / "run", tables, figures=False)
    text = _plain(_section(report.build_report(out, ct.make_study(tmp_path / "s")), "summary"))
    q = tables["theme_quality"]
    group = q[(q["scope"] == "group") & (q["model"] == "consensus")]
    for metric in ("stability_ari_mean", "consensus_mean", "coherence_npmi_mean"):
        for value in group[group["metric"] == metric]["value"]:
            assert f"{value:.2f}" in text, metric
    assert "Stability:" in text and "Consensus:" in text and "Coherence:" in text
    assert "against LDA / k-means" in text and "0.05" in text  # the baselines' numbers


def test_integrated_theme_on_an_unstable_or_small_group_theme_says_so(tmp_path):
    tables = ct.make_tables()
    gt = tables["group_themes"]
    gt["unstable"] = gt["theme_id"] == "radiographers:T03"
    gt["caveat"] = np.where(gt["participant_group"] == "students", "a small group (30 segments): a starting point",
                            "")
    segments, assignments = tables["segments"], tables["assignments"]
    embeddings = tables["embeddings"]
    workshop = tmp_path / "workshop_1.yml"
    workshop.write_text("workshop: 1\ndecisions:\n  - {action: merge, themes: [radiographers:T03, "
                        "patients_carers:T01], into: I01, label: Being known}\n", encoding="utf-8")
    result = coproduction.integrate(gt, assignments, segments, embeddings, load_workshops([workshop]), list(ct.GROUPS))
    caveats = dict(zip(result.integrated["theme_id"], result.integrated["caveats"]))
    assert caveats["I01"] == "rests on an unstable theme: radiographers:T03"
    assert any("rests on a small group's theme: students:" in c for c in caveats.values())
    tables["integrated"] = result.integrated
    out = ct.write_output_dir(tmp_path / "run", tables, figures=False)
    page = report.build_report(out, ct.make_study(tmp_path / "s"))
    assert "rests on an unstable theme: radiographers:T03" in _plain(_section(page, "integrated"))
    assert "unstable source radiographers:T03" in _plain(_section(page, "summary"))
