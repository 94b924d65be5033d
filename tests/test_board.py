"""The workshop board: its data, its balance formula and YAML in JavaScript, and a real browser.

The JavaScript checks run in node when it is installed; the browser test runs headless
Debian chromium through playwright (a test-only dependency) with every non-file request
refused, and skips with its reason when either is missing.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

import contract_tables as ct
from helpers import balance, board, coproduction
from helpers.board_assets import BALANCE_JS, YAML_JS
from helpers.identity import fingerprint

NODE = shutil.which("node") or shutil.which("nodejs")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed (apt-get install nodejs): cannot run the "
                                                     "board's JavaScript outside a browser")


@pytest.fixture(scope="module")
def tables():
    return ct.make_tables()


@pytest.fixture()
def built(tables, tmp_path):
    study = ct.make_study(tmp_path)
    path = board.write_board(tmp_path / "workshop_board.html", study, tables["group_themes"], tables["assignments"],
                             tables["segments"], tables["integrated"], _audit(), tables["segment_themes"],
                             tables["links"], workshop=2)
    return study, path


def _audit() -> pd.DataFrame:
    return pd.DataFrame([{"workshop": "workshop_1", "index": 1, "action": "drop", "inputs": "students:T01",
                          "outputs": "", "rationale": "warm-up talk"}])


def _data(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    return json.loads(re.search(r'id="board-data">(.*?)</script>', text, re.S).group(1))


def _node(script: str) -> str:
    result = subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


# --------------------------------------------------------------------------- the data the page starts from

def test_board_embeds_counts_totals_and_fingerprints(tables, built):
    _study, path = built
    data = _data(path)
    gt = tables["group_themes"]
    members = tables["assignments"].groupby("theme_id")["segment_id"].apply(list)
    for tid in gt["theme_id"]:
        card = data["cards"][tid]
        assert card["fingerprint"] == fingerprint(members[tid])
        assert sum(card["counts"].values()) == len(members[tid]) == card["n"]
        assert sum(card["speakers"].values()) == len(members[tid])
        assert 1 <= len(card["quotes"]) <= board.MAX_QUOTES and all(q["segment"] for q in card["quotes"])
    assert data["totals"] == tables["segments"]["participant_group"].value_counts().to_dict()
    integ = tables["integrated"]
    assert data["agreed"] == sorted(integ.loc[integ["status"] == "agreed", "theme_id"])
    assert data["proposed"] == sorted(integ.loc[integ["status"] == "proposed", "theme_id"])
    placed = {s for t in data["agreed"] for s in data["cards"][t]["sources"]}
    assert "students:T01" in data["dropped"] and "students:T01" not in data["unplaced"]
    assert not placed & set(data["unplaced"])
    assert data["workshop"] == 2
    # speakers are counted, never named
    assert not any(sp in path.read_text(encoding="utf-8") for sp in ("Facilitator/", "FG01/"))


def test_board_uses_fingerprint_column_when_present(tables, tmp_path):
    gt = tables["group_themes"].assign(fingerprint="abcdef12", unstable=["true"] + ["false"] * (len(tables["group_themes"]) - 1))
    data = board.board_data(ct.make_study(tmp_path), gt, tables["assignments"], tables["segments"], tables["integrated"],
                            _audit(), tables["segment_themes"], workshop=2)
    first = gt["theme_id"].iloc[0]
    assert data["cards"][first]["fingerprint"] == "abcdef12" and data["cards"][first]["unstable"] is True


def test_board_refuses_tables_without_their_columns(tables, tmp_path):
    with pytest.raises(board.BoardError, match="integrated_themes.csv has no column 'source_themes'"):
        board.board_data(ct.make_study(tmp_path), tables["group_themes"], tables["assignments"], tables["segments"],
                         tables["integrated"].drop(columns=["source_themes"]), _audit())


def test_board_is_offline_escaped_and_small(tables, tmp_path):
    gt = tables["group_themes"].copy()
    gt.loc[0, "label"] = '</script><script>alert("x")</script>'
    path = board.write_board(tmp_path / "b.html", ct.make_study(tmp_path), gt, tables["assignments"],
                             tables["segments"], tables["integrated"], _audit(), tables["segment_themes"])
    page = path.read_text(encoding="utf-8")
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    assert not re.search(r"<script[^>]*\bsrc=", page) and "<link" not in page
    assert '<script>alert("x")' not in page
    assert path.stat().st_size < 2_000_000


def test_next_workshop_number_follows_the_study_files(tmp_path):
    from helpers.study import load_study

    study = load_study(ROOT / "data" / "study.yml")
    assert board.next_workshop_number(study) == 4


# --------------------------------------------------------------------------- JavaScript beside Python

@needs_node
def test_balance_js_equals_helpers_balance():
    rng = random.Random(3)
    cases = []
    for k in range(300):
        groups = [f"g{j}" for j in range(rng.choice([1, 2, 3, 4, 6]))]
        totals = {g: rng.choice([0, 5, 40, 400]) for g in groups}
        counts = {g: rng.randint(0, totals[g]) if rng.random() > 0.25 else 0 for g in groups}
        cases.append({"groups": groups, "totals": totals, "counts": counts, "top": rng.choice([0.0, 0.5, 0.51, 0.9])})
    cases.append({"groups": ["a", "b", "c"], "totals": {"a": 10, "b": 10, "c": 10}, "counts": {"a": 5, "b": 5, "c": 5},
                  "top": 0.2})
    cases.append({"groups": ["a", "b", "c"], "totals": {"a": 10, "b": 10, "c": 10}, "counts": {"a": 9}, "top": 1.0})
    out = _node(BALANCE_JS + f"var cases = {json.dumps(cases)};" + """
        console.log(JSON.stringify(cases.map(function (c) {
          var s = Balance.groupShares(c.counts, c.totals, c.groups);
          return {shares: s, index: Balance.balanceIndex(s), flags: Balance.balanceFlags(s, c.top),
                  threshold: Balance.dominanceThreshold(c.groups.length)};
        })));""")
    for case, js in zip(cases, json.loads(out)):
        shares = balance.group_shares(case["counts"], case["totals"], case["groups"])
        assert js["shares"] == pytest.approx(shares, abs=1e-15)
        assert js["index"] == pytest.approx(balance.balance_index(shares), abs=1e-12)
        assert js["flags"] == balance.balance_flags(shares, case["top"])
        assert js["threshold"] == pytest.approx(balance.dominance_threshold(len(case["groups"])))


@needs_node
@pytest.mark.parametrize("number", [1, 2, 3])
def test_yaml_js_reads_the_bundled_workshop_files_as_pyyaml_does(number):
    path = ROOT / "data" / "workshops" / f"workshop_{number}.yml"
    out = _node(YAML_JS + f"console.log(JSON.stringify(WorkshopYaml.load({json.dumps(path.read_text())})));")
    assert json.loads(out) == json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))


@needs_node
def test_yaml_js_writes_what_pyyaml_reads_back():
    file = {"workshop": 4, "title": 'Workshop 4: "quotes", colons: and # hashes', "date": "2026-06-01",
            "attendees": {"radiographers": 2, "no": 1}, "illustrative": False,
            "based_on": {"radiographers:T02": "00001234", "students:T01": "0b101010"},
            "decisions": [{"action": "merge", "themes": ["radiographers:T02", "students:T01"], "into": "I10",
                           "label": "yes", "rationale": "line one\nline two — ‘curly’ \\ back"},
                          {"action": "split", "theme": "students:T03", "parts": {"Part: one": ["FG01-t001-s0"],
                                                                                 "two": ["kw", "FG01-t002-s1"]}},
                          {"action": "assign", "theme": "I10", "attribute": "action", "behaviours": []}],
            "definition": "Compassion is…"}
    keys = {"merge": ["action", "themes", "into", "label", "rationale"], "split": ["action", "theme", "parts"],
            "assign": ["action", "theme", "attribute", "behaviours"]}
    text = _node(YAML_JS + f"var f = {json.dumps(file)}, k = {json.dumps(keys)};"
                 "process.stdout.write(WorkshopYaml.dump(f, function (d) { return k[d.action]; }));")
    back = yaml.safe_load(text)
    assert back["based_on"] == file["based_on"] and back["attendees"] == file["attendees"]
    assert back["decisions"] == file["decisions"] and back["title"] == file["title"]
    assert str(back["date"]) == "2026-06-01" and back["definition"] == file["definition"]
    again = _node(YAML_JS + f"console.log(JSON.stringify(WorkshopYaml.load({json.dumps(text)})));")
    assert json.loads(again)["decisions"] == file["decisions"]


@needs_node
def test_yaml_js_names_the_line_of_a_broken_file():
    script = YAML_JS + """try { WorkshopYaml.load('workshop: 4\\ndecisions:\\n  - action: merge\\n    themes: [a, b\\n'); }
      catch (e) { console.log(e.message); }"""
    assert "line 4" in _node(script)


# --------------------------------------------------------------------------- in a real browser

def _playwright():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed: cannot drive the board headless (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (a test dependency: pip install playwright==1.65.2)")
    return sync_playwright


def _open(p, path: Path, downloads: Path):
    browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    context = browser.new_context(accept_downloads=True, viewport={"width": 1600, "height": 1100})
    attempts = []

    def refuse(route):
        url = route.request.url
        if url.startswith(("file:", "blob:", "data:")):
            route.continue_()
        else:
            attempts.append(url)
            route.abort()
    context.route("**/*", refuse)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.resolve().as_uri())
    return browser, page, attempts, errors


def _fill_dialog(page, values: dict):
    for name, value in values.items():
        page.fill(f"#dialog [name={name}]", value)
    page.click("#dialog button[type=submit]")


def _session(path: Path, tmp_path: Path, groups, three: list[str], drop: str) -> dict:
    """Drive a board as a room would: merge three cards (two selected by keyboard, one
    dragged), name the pile, rename it, drop a card with its reason, download the file, then
    reload the page and load the file back. Returns what the test checks."""
    sync_playwright = _playwright()
    data = _data(path)
    with sync_playwright() as p:
        browser, page, attempts, errors = _open(p, path, tmp_path)
        try:
            page.screenshot(path=str(tmp_path / "board_before.png"), full_page=True)
            # keyboard: Space selects, M opens the merge dialog
            for tid in three[:2]:
                page.focus(f'[data-id="{tid}"]')
                page.keyboard.press("Space")
            page.keyboard.press("m")
            _fill_dialog(page, {"label": "Being heard at the machine", "rationale": "Three groups, one moment."})
            new_id = page.evaluate("WorkshopBoard.decisions()")[0]["into"]
            # drag the third card onto the new pile (HTML drag and drop, as a mouse does it)
            transfer = page.evaluate_handle("new DataTransfer()")
            source = f'.card[data-id="{three[2]}"]' if data["cards"][three[2]]["kind"] == "group" else \
                f'.pile[data-id="{three[2]}"] > header'
            page.dispatch_event(source, "dragstart", {"dataTransfer": transfer})
            page.dispatch_event(f'.pile[data-id="{new_id}"]', "dragover", {"dataTransfer": transfer})
            page.dispatch_event(f'.pile[data-id="{new_id}"]', "drop", {"dataTransfer": transfer})
            assert page.evaluate("WorkshopBoard.decisions()")[0]["themes"] == three
            pile = page.locator(f'.pile[data-id="{new_id}"]')
            assert "Being heard at the machine" in pile.inner_text()
            shown = float(pile.locator(".balance-line").get_attribute("data-balance"))
            flags = [f.removeprefix("⚠ ") for f in pile.locator(".flag").all_inner_texts()]
            page.screenshot(path=str(tmp_path / "board_after_merge.png"), full_page=True)
            # rename the pile, then drop a card: the rationale is required
            pile.locator("button[data-act=rename]").click()
            _fill_dialog(page, {"label": "Being heard on the couch"})
            page.locator(f'[data-id="{drop}"] > .actions button[data-act=drop]').click()
            page.click("#dialog button[type=submit]")
            refused = page.inner_text("#dialog .error")
            _fill_dialog(page, {"rationale": "Warm-up talk, not about care."})
            page.fill("#w-date", "2026-06-10")
            page.dispatch_event("#w-date", "input")
            page.fill(f"#att-{groups[0]}", "3")
            page.dispatch_event(f"#att-{groups[0]}", "input")
            with page.expect_download() as info:
                page.click("#download")
            saved = tmp_path / info.value.suggested_filename
            info.value.save_as(saved)
            before = (page.evaluate("WorkshopBoard.piles()"), page.evaluate("WorkshopBoard.unplaced()"))
            # a fresh page and Load reproduce the state
            page.reload()
            page.set_input_files("#load-file", str(saved))
            page.wait_for_function("WorkshopBoard.decisions().length > 0")
            after = (page.evaluate("WorkshopBoard.piles()"), page.evaluate("WorkshopBoard.unplaced()"))
            date = page.input_value("#w-date")
        finally:
            browser.close()
    return {"data": data, "three": three, "drop": drop, "new_id": new_id, "balance": shown, "flags": flags,
            "refused": refused, "saved": saved, "before": before, "after": after, "date": date,
            "attempts": attempts, "errors": errors}


def _check_session(run: dict, groups, workshop: int) -> dict:
    assert run["attempts"] == [] and run["errors"] == []
    assert "Please fill in" in run["refused"]          # no drop without a reason
    assert run["after"] == run["before"] and run["date"] == "2026-06-10"
    data, three, drop = run["data"], run["three"], run["drop"]
    assert run["saved"].name == f"workshop_{workshop}.yml"
    raw = yaml.safe_load(run["saved"].read_text(encoding="utf-8"))
    assert raw["workshop"] == workshop and str(raw["date"]) == "2026-06-10" and raw["attendees"][groups[0]] == 3
    named = [s for t in [*three, drop] for s in (data["cards"][t].get("sources") or [t])]
    assert raw["based_on"] == {t: data["cards"][t]["fingerprint"] for t in sorted(named)}
    merge, drop_decision = raw["decisions"]
    assert merge == {"action": "merge", "themes": three, "into": run["new_id"], "label": "Being heard on the couch",
                     "rationale": "Three groups, one moment."}
    assert drop_decision == {"action": "drop", "theme": drop, "rationale": "Warm-up talk, not about care."}
    # the live balance is notebook 05's formula on the embedded counts
    counts: dict[str, int] = {}
    for tid in three:
        for g, n in data["cards"][tid]["counts"].items():
            counts[g] = counts.get(g, 0) + n
    shares = balance.group_shares(counts, data["totals"], list(groups))
    assert run["balance"] == pytest.approx(balance.balance_index(shares), abs=1e-4)
    return raw


def _check_applied(result, run: dict, audit_before: int = 0):
    """Notebook 05's integrate() made the pile an agreed theme, with the board's balance and flags."""
    row = result.integrated.set_index("theme_id").loc[run["new_id"]]
    assert row["label"] == "Being heard on the couch" and row["status"] == "agreed"
    cards = run["data"]["cards"]
    assert row["source_themes"].split(";") == [s for t in run["three"] for s in (cards[t].get("sources") or [t])]
    assert row["balance"] == pytest.approx(run["balance"], abs=1e-4)
    assert [f for f in str(row["flags"]).split("; ") if f] == run["flags"]
    new_rows = result.audit.iloc[audit_before:]
    assert list(new_rows["action"]) == ["merge", "drop"]
    assert new_rows.iloc[0]["outputs"] == run["new_id"] and new_rows.iloc[1]["inputs"] == run["drop"]
    assert new_rows.iloc[1]["rationale"] == "Warm-up talk, not about care."


def test_board_in_chromium_merge_drop_download_apply_and_reload(tables, tmp_path):
    # two agreed themes so far, the rest of the group themes still to place
    integrated = tables["integrated"][tables["integrated"]["theme_id"].isin(["I01", "I02"])]
    path = board.write_board(tmp_path / "workshop_board.html", ct.make_study(tmp_path), tables["group_themes"],
                             tables["assignments"], tables["segments"], integrated, _audit().iloc[0:0],
                             tables["segment_themes"], tables["links"], workshop=2)
    data = _data(path)
    by_group = {g: [t for t in data["unplaced"] if t.startswith(g + ":")] for g in ct.GROUPS}
    three = [by_group[g][0] for g in ct.GROUPS]   # one theme from each group
    run = _session(path, tmp_path, list(ct.GROUPS), three, by_group["students"][1])
    _check_session(run, list(ct.GROUPS), 2)
    result = coproduction.integrate(tables["group_themes"], tables["assignments"], tables["segments"],
                                    tables["embeddings"], [coproduction.load_workshop(run["saved"], 2)],
                                    list(ct.GROUPS))
    _check_applied(result, run)
    assert (tmp_path / "board_before.png").stat().st_size > 10_000
    assert (tmp_path / "board_after_merge.png").stat().st_size > 10_000


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """The bundled study run through notebook 05 (its board is written there), the way
    `make all` does, in a folder of this test's own."""
    import os
    import subprocess

    out = tmp_path_factory.mktemp("bundled") / "compassion-coproduction"
    target = out / "notebooks" / "05_coproduction_workshops.ipynb"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "COMPENDIUM_"))}
    run = subprocess.run(["make", "--no-print-directory", str(target), f"OUTPUT_DIR={out}"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return out


def test_bundled_board_records_workshop_4_that_notebook_05_applies(bundled, tmp_path):
    """The bundled board (after workshops 1-3) records a fourth workshop; applying the
    four files as notebook 05 does gives the new theme and its audit rows."""
    import numpy as np

    from helpers.study import load_study

    path = bundled / "workshop_board.html"
    assert path.stat().st_size < 2_000_000
    study = load_study(ROOT / "data" / "study.yml")
    data = _data(path)
    # every group theme is placed after workshop 3: the room merges three integrated themes
    # and drops a fourth
    three, drop = data["agreed"][:3], data["agreed"][3]
    run = _session(path, tmp_path, study.group_ids, three, drop)
    _check_session(run, study.group_ids, 4)
    group_themes = pd.read_csv(bundled / "group_themes.csv")
    assignments = pd.read_parquet(bundled / "theme_assignments.parquet")
    segments = pd.read_parquet(bundled / "segments.parquet")
    vectors = np.load(bundled / "embeddings.npy")
    workshops = [coproduction.load_workshop(p, k) for k, p in enumerate(study.workshops, start=1)]
    before = coproduction.integrate(group_themes, assignments, segments, vectors, workshops, study.group_ids)
    workshops.append(coproduction.load_workshop(run["saved"], 4))
    result = coproduction.integrate(group_themes, assignments, segments, vectors, workshops, study.group_ids)
    _check_applied(result, run, audit_before=len(before.audit))


def test_board_in_chromium_writes_every_action_as_docs_workshop_files_states(tables, tmp_path):
    """Agree a suggested pile, define, link, assign and split on the board; the file holds each
    decision in the shape docs/workshop_files.md gives, and loading it back restores the board."""
    sync_playwright = _playwright()
    integrated = tables["integrated"][tables["integrated"]["theme_id"].isin(["I01", "I02", "I04"])]
    path = board.write_board(tmp_path / "workshop_board.html", ct.make_study(tmp_path), tables["group_themes"],
                             tables["assignments"], tables["segments"], integrated, _audit().iloc[0:0],
                             tables["segment_themes"], tables["links"], workshop=2)
    data = _data(path)
    proposal = data["cards"]["I04"]
    free = [t for t in data["unplaced"] if t not in proposal["sources"]]
    to_split = data["cards"][free[0]]
    with sync_playwright() as p:
        browser, page, attempts, errors = _open(p, path, tmp_path)
        try:
            page.locator('.pile.proposed[data-id="I04"] button[data-act=agree]').click()
            _fill_dialog(page, {"label": "Explaining before touching"})
            page.locator('.pile[data-id="I01"] button[data-act=define]').click()
            _fill_dialog(page, {"description": "Seeing the person.", "elements": "names are used\n\nthey are remembered"})
            page.locator('.pile[data-id="I01"] button[data-act=link]').click()
            page.select_option("#dialog [name=relation]", "leads to")
            page.select_option("#dialog [name=target]", "I04")
            page.click("#dialog button[type=submit]")
            page.locator('.pile[data-id="I04"] button[data-act=assign]').click()
            page.select_option("#dialog [name=attribute]", "connection")
            _fill_dialog(page, {"behaviours": "explains before touching\nasks first"})
            page.locator(f'.card[data-id="{to_split["id"]}"] button[data-act=split]').click()
            page.select_option("#dialog [name=q0]", "1")
            page.select_option("#dialog [name=q1]", "2")
            _fill_dialog(page, {"label1": "First part", "label2": "Second part", "keywords2": "rota"})
            assert page.locator(f'.card[data-id="{to_split["id"]}.1"]').count() == 1
            page.screenshot(path=str(tmp_path / "board_all_actions.png"), full_page=True)
            text = page.evaluate("WorkshopBoard.fileText()")
            state = (page.evaluate("WorkshopBoard.piles()"), page.evaluate("WorkshopBoard.unplaced()"))
            page.reload()
            page.evaluate("text => WorkshopBoard.load(text, 'workshop_2.yml')", text)
            assert (page.evaluate("WorkshopBoard.piles()"), page.evaluate("WorkshopBoard.unplaced()")) == state
            # a file for another workshop is refused with the reason
            page.evaluate("text => WorkshopBoard.load(text, 'workshop_1.yml')", text.replace("workshop: 2", "workshop: 1"))
            assert "this board records workshop 2" in page.inner_text("#status")
            assert not errors, errors
        finally:
            browser.close()
    assert attempts == []
    decisions = yaml.safe_load(text)["decisions"]
    seg = [q["segment"] for q in to_split["quotes"][:2]]
    assert decisions == [
        {"action": "merge", "themes": [t for t in proposal["sources"] if t in data["unplaced"]], "into": "I04",
         "label": "Explaining before touching"},
        {"action": "define", "theme": "I01", "description": "Seeing the person.",
         "elements": ["names are used", "they are remembered"]},
        {"action": "link", "source": "I01", "target": "I04", "relation": "leads to"},
        {"action": "assign", "theme": "I04", "attribute": "connection",
         "behaviours": ["explains before touching", "asks first"]},
        {"action": "split", "theme": to_split["id"], "parts": {"First part": [seg[0]], "Second part": [seg[1], "rota"]}},
    ]
