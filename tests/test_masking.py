"""Tests for helpers.disclosure's masking: every unresolved detail (and the parts of it
that identify on their own) replaced by its kind in what people are shown, the notice a
page carries meanwhile, and the line a finished run ends with.

Each test writes the tiny study of tests/disclosure_study.py into tmp_path.
"""

from __future__ import annotations

import pandas as pd

from disclosure_study import disclosures
from helpers.disclosure import mask_identifying, masking_notice, run_summary


def test_masking_replaces_each_unresolved_detail_with_its_kind(tmp_path):
    text = ("Margaret: Dr Siân Llewellyn has my NHS number, 943 476 5919; ring 07700 900123 "
            "or write to 14 Acacia Road, LS6 2QT.\n")
    found, utterances, _ = disclosures(tmp_path, fg01="Facilitator: Go on.\n" + text)
    masked = mask_identifying(utterances, found)
    said = masked.loc[masked["speaker"] == "Margaret", "text"].iloc[0]
    assert said == "[name] has my NHS number, [NHS number]; ring [phone number] or write to [address], [postcode]."
    assert masked["turn"].tolist() == utterances["turn"].tolist()          # other columns untouched
    assert utterances["text"].str.contains("Llewellyn").any()                # the input is not changed


def test_masking_finds_the_detail_in_other_spellings_and_its_identifying_parts(tmp_path):
    found, _, _ = disclosures(tmp_path, fg01="Facilitator: Dr Siân Llewellyn, 943 476 5919, 14 Acacia Road, LS6 2QT.\n"
                                              "Margaret: Yes, that is what I remember.\n")
    shown = pd.DataFrame({"keywords": ["llewellyn; siân; scan", "acacia; ls6"],
                          "quote": ["SIÂN  LLEWELLYN rang about 943-476-5919", "9434765919 and ls6 2qt"],
                          "n": [1, 2]})
    masked = mask_identifying(shown, found)
    assert masked["keywords"].tolist() == ["[name]; [name]; scan", "[address]; [postcode]"]
    assert masked["quote"].tolist() == ["[name] rang about [NHS number]", "[NHS number] and [postcode]"]
    assert masked["n"].tolist() == [1, 2]


def test_masking_leaves_allowed_details_and_returns_the_same_table_when_nothing_is_unresolved(tmp_path):
    found, utterances, _ = disclosures(tmp_path)
    reviewed = found.assign(status="allowed")
    assert mask_identifying(utterances, reviewed) is utterances
    assert mask_identifying("Karen was kind.", reviewed) == "Karen was kind."
    assert masking_notice(reviewed) == ""
    partly = found.assign(status=["allowed" if m == "Karen" else "unresolved" for m in found["match"]])
    assert mask_identifying("Karen and Dr Okafor.", partly) == "Karen and [name]."
    assert masking_notice(partly).startswith(f"{len(found) - 1} possible identifying detail(s)")


def test_masking_does_not_touch_ids_that_contain_a_masked_word(tmp_path):
    found, _, _ = disclosures(tmp_path, fg01="Facilitator: Go on.\nMargaret: Ed Balls came by.\n")
    ids = pd.DataFrame({"segment_id": ["FG01-t002-s0", "x3ed4balls9"], "text": ["Ed Balls", "balls"]})
    masked = mask_identifying(ids, found)
    assert masked["segment_id"].tolist() == ["FG01-t002-s0", "x3ed4balls9"]
    assert masked["text"].tolist() == ["[name]", "[name]"]


def test_the_runs_last_line_says_what_was_masked_and_whether_the_export_was_withheld(tmp_path):
    found, _, study = disclosures(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    found.to_csv(out / "disclosures.csv", index=False)
    (out / "export_status.txt").write_text("No export written: …\n", encoding="utf-8")
    line = run_summary(out)
    n = int((found["status"] == "unresolved").sum())
    assert line.startswith(f"⚠ {n} possible identifying detail(s) in {out / 'disclosures.csv'} are unresolved: "
                           "masked as ")
    assert "[NHS number]" in line and "[name]" in line and "the QDA export is withheld" in line
    assert "\n" not in line
    (out / "export_status.txt").write_text("Exported planted.qdpx …\n", encoding="utf-8")
    assert "the QDA export was written unmasked" in run_summary(out)
    found.assign(status="allowed").to_csv(out / "disclosures.csv", index=False)
    assert run_summary(out) == ""
