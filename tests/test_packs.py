"""Tests for helpers.packs: the printable workshop packs (one per recorded workshop, from
the state before it, and one for the next), their escaping and the files written.

The data are built in memory (tests/coproduction_data.py).
"""

from __future__ import annotations

import html
import re

import pytest

from coproduction_data import (GROUPS, LABELS, MERGE_DELAYS, MERGE_KNOWN, PALETTE, ROTA_SPLIT, Data, standard_data,
                               write_workshop)
from helpers.coproduction import integrate
from helpers.packs import workshop_packs, write_workshop_packs


@pytest.fixture
def data() -> Data:
    return standard_data()


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
