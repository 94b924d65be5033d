"""The workshop board: its data, its page, its JavaScript, and a whole workshop in a real browser.

Everything that needs JavaScript runs in headless Debian chromium through playwright (a
test dependency that drives /usr/bin/chromium and never downloads a browser), with every
request that is not a local file refused. Without chromium or playwright these tests skip
with the reason on a developer's machine and fail in CI (``CI`` is set there), where
``.ci/run`` installs chromium.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

import contract_tables as ct
from helpers import balance, board, coproduction
from helpers.identity import fingerprint

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]


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


# --------------------------------------------------------------------------- in a real browser

def _missing_browser() -> str:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (a test dependency: pip install -e '.[test]')"
    return ""


@pytest.fixture(scope="module")
def chromium():
    """One headless chromium for the module's tests; each test opens its own context."""
    reason = _missing_browser()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI runs the board's browser tests, they may not skip there")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


class Opened:
    """A board page in a fresh browser context, with the requests it tried and its errors."""

    def __init__(self, browser, path: Path, viewport=(1600, 1100)):
        self.context = browser.new_context(accept_downloads=True,
                                           viewport={"width": viewport[0], "height": viewport[1]})
        self.attempts: list[str] = []
        self.errors: list[str] = []

        def refuse(route):
            url = route.request.url
            if url.startswith(("file:", "blob:", "data:")):
                route.continue_()
            else:
                self.attempts.append(url)
                route.abort()
        self.context.route("**/*", refuse)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(path.resolve().as_uri())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.context.close()


def _fill_dialog(page, values: dict):
    for name, value in values.items():
        page.fill(f"#dialog [name={name}]", value)
    page.click("#dialog button[type=submit]")


def _session(browser, path: Path, tmp_path: Path, groups, three: list[str], drop: str) -> dict:
    """Drive a board as a room would: merge three cards (two selected by keyboard, one
    dragged), name the pile, rename it, drop a card with its reason, download the file, then
    reload the page and load the file back. Returns what the test checks."""
    data = _data(path)
    with Opened(browser, path) as opened:
        page = opened.page
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
        flags = [f.get_attribute("data-flag") for f in pile.locator(".flag").all()]
        shown_flags = [f.removeprefix("⚠ ") for f in pile.locator(".flag").all_inner_texts()]
        labels = {g["id"]: g["label"] for g in data["groups"]}
        # the room reads the groups' names, not their ids
        assert shown_flags == [next((f.replace(g, labels[g]) for g in labels if f.endswith(" " + g)), f) for f in flags]
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
    return {"data": data, "three": three, "drop": drop, "new_id": new_id, "balance": shown, "flags": flags,
            "refused": refused, "saved": saved, "before": before, "after": after, "date": date,
            "attempts": opened.attempts, "errors": opened.errors}


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


def test_board_in_chromium_merge_drop_download_apply_and_reload(chromium, tables, tmp_path):
    # two agreed themes so far, the rest of the group themes still to place
    integrated = tables["integrated"][tables["integrated"]["theme_id"].isin(["I01", "I02"])]
    path = board.write_board(tmp_path / "workshop_board.html", ct.make_study(tmp_path), tables["group_themes"],
                             tables["assignments"], tables["segments"], integrated, _audit().iloc[0:0],
                             tables["segment_themes"], tables["links"], workshop=2)
    data = _data(path)
    by_group = {g: [t for t in data["unplaced"] if t.startswith(g + ":")] for g in ct.GROUPS}
    three = [by_group[g][0] for g in ct.GROUPS]   # one theme from each group
    run = _session(chromium, path, tmp_path, list(ct.GROUPS), three, by_group["students"][1])
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


@pytest.mark.slow
def test_bundled_board_records_workshop_4_that_notebook_05_applies(chromium, bundled, tmp_path):
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
    run = _session(chromium, path, tmp_path, study.group_ids, three, drop)
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


def test_board_in_chromium_writes_every_action_as_docs_workshop_files_states(chromium, tables, tmp_path):
    """Agree a suggested pile, define, link, assign and split on the board; the file holds each
    decision in the shape docs/workshop_files.md gives, and loading it back restores the board."""
    integrated = tables["integrated"][tables["integrated"]["theme_id"].isin(["I01", "I02", "I04"])]
    path = board.write_board(tmp_path / "workshop_board.html", ct.make_study(tmp_path), tables["group_themes"],
                             tables["assignments"], tables["segments"], integrated, _audit().iloc[0:0],
                             tables["segment_themes"], tables["links"], workshop=2)
    data = _data(path)
    proposal = data["cards"]["I04"]
    free = [t for t in data["unplaced"] if t not in proposal["sources"]]
    to_split = data["cards"][free[0]]
    with Opened(chromium, path) as opened:
        page, errors = opened.page, opened.errors
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
    assert opened.attempts == []
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


# --------------------------------------------------------------------------- where the files go

def test_the_board_names_the_studys_own_workshop_folder_and_the_snapshot(tmp_path, monkeypatch):
    """A private study's files go to its own (git-ignored) folder, never to data/workshops/."""
    monkeypatch.setattr(board, "repo_root", lambda: tmp_path)
    private = ct.make_study(tmp_path / "data" / "private")
    fresh = dataclasses.replace(private, workshops=())          # no workshop recorded yet
    assert board.workshop_file_places(fresh, 1) == {
        "yaml": "workshop_1.yml", "snapshot": "workshop_1.snapshot.csv", "snapshot_from": "workshop_packs/",
        "folder": "data/private/workshops/", "study": "data/private/study.yml", "entry": "workshops/workshop_1.yml"}
    elsewhere = tmp_path / "data" / "private" / "decisions" / "workshop_1.yml"
    elsewhere.parent.mkdir()
    elsewhere.write_text("workshop: 1\ndecisions: []\n", encoding="utf-8")
    moved = board.workshop_file_places(dataclasses.replace(private, workshops=(elsewhere,)), 2)
    assert (moved["folder"], moved["entry"]) == ("data/private/decisions/", "decisions/workshop_2.yml")
    # the bundled (synthetic) study keeps its own committed folder
    from helpers.study import load_study

    monkeypatch.setattr(board, "repo_root", lambda: ROOT)
    assert board.workshop_file_places(load_study(ROOT / "data" / "study.yml"), 4)["folder"] == "data/workshops/"
    # the page's help says the same as the status line will
    monkeypatch.setattr(board, "repo_root", lambda: tmp_path)
    tables = ct.make_tables()
    page = board.write_board(tmp_path / "b.html", fresh, tables["group_themes"], tables["assignments"],
                             tables["segments"], tables["integrated"], _audit(), tables["segment_themes"],
                             workshop=1).read_text(encoding="utf-8")
    assert "<code>data/private/workshops/</code>" in page and "<code>workshop_1.snapshot.csv</code>" in page
    assert "data/workshops/" not in page.replace("data/private/workshops/", "")


def test_board_page_comes_from_its_template_and_asset_files():
    """The JavaScript and CSS are files of the package, js-yaml is vendored with its licence."""
    from importlib import resources

    files = resources.files("helpers")
    assert "MIT" in files.joinpath("assets/vendor/js-yaml/LICENSE").read_text(encoding="utf-8")
    script = board.board_scripts()
    assert "sourceMappingURL" not in script and "jsyaml" in script and "WorkshopYaml" in script
    for name in ("board.js", "balance.js", "workshop_yaml.js"):
        assert files.joinpath("assets/board", name).read_text(encoding="utf-8").strip() in script
    assert not list((ROOT / "src" / "helpers").glob("board_assets.py"))


# --------------------------------------------------------------------------- JavaScript in the browser

@pytest.fixture(scope="module")
def js_page(chromium, tables, tmp_path_factory):
    """One board page whose scripts (js-yaml, balance, workshop files) the checks below call."""
    folder = tmp_path_factory.mktemp("js")
    path = board.write_board(folder / "workshop_board.html", ct.make_study(folder), tables["group_themes"],
                             tables["assignments"], tables["segments"], tables["integrated"], _audit(),
                             tables["segment_themes"], tables["links"], workshop=2)
    with Opened(chromium, path) as opened:
        yield opened.page
        assert opened.errors == [] and opened.attempts == []


def test_balance_js_equals_helpers_balance(js_page):
    rng = random.Random(3)
    cases = []
    for _ in range(300):
        groups = [f"g{j}" for j in range(rng.choice([1, 2, 3, 4, 6]))]
        totals = {g: rng.choice([0, 5, 40, 400]) for g in groups}
        counts = {g: rng.randint(0, totals[g]) if rng.random() > 0.25 else 0 for g in groups}
        cases.append({"groups": groups, "totals": totals, "counts": counts, "top": rng.choice([0.0, 0.5, 0.51, 0.9])})
    cases.append({"groups": ["a", "b", "c"], "totals": {"a": 10, "b": 10, "c": 10}, "counts": {"a": 5, "b": 5, "c": 5},
                  "top": 0.2})
    cases.append({"groups": ["a", "b", "c"], "totals": {"a": 10, "b": 10, "c": 10}, "counts": {"a": 9}, "top": 1.0})
    out = js_page.evaluate("""cases => cases.map(c => {
        const s = Balance.groupShares(c.counts, c.totals, c.groups);
        return {shares: s, index: Balance.balanceIndex(s), flags: Balance.balanceFlags(s, c.top),
                threshold: Balance.dominanceThreshold(c.groups.length)};
      })""", cases)
    for case, js in zip(cases, out):
        shares = balance.group_shares(case["counts"], case["totals"], case["groups"])
        assert js["shares"] == pytest.approx(shares, abs=1e-15)
        assert js["index"] == pytest.approx(balance.balance_index(shares), abs=1e-12)
        assert js["flags"] == balance.balance_flags(shares, case["top"])
        assert js["threshold"] == pytest.approx(balance.dominance_threshold(len(case["groups"])))


@pytest.mark.parametrize("number", [1, 2, 3])
def test_yaml_in_the_browser_reads_the_bundled_workshop_files_as_pyyaml_does(js_page, number):
    text = (ROOT / "data" / "workshops" / f"workshop_{number}.yml").read_text(encoding="utf-8")
    assert js_page.evaluate("text => WorkshopYaml.load(text)", text) == json.loads(
        json.dumps(yaml.safe_load(text), default=str))


def test_yaml_in_the_browser_writes_what_pyyaml_reads_back(js_page):
    file = {"workshop": 4, "title": 'Workshop 4: "quotes", colons: and # hashes', "date": "2026-06-01",
            "attendees": {"radiographers": 2, "no": 1}, "illustrative": False, "snapshot": "workshop_4.snapshot.csv",
            "based_on": {"radiographers:T02": "00001234", "students:T01": "0b101010", "students:T02": "1e100000"},
            "decisions": [{"action": "merge", "themes": ["radiographers:T02", "students:T01"], "into": "I10",
                           "label": "yes", "rationale": "line one\nline two — ‘curly’ \\ back"},
                          {"action": "split", "theme": "students:T03", "parts": {"Part: one": ["FG01-t001-s0"],
                                                                                 "two": ["kw", "FG01-t002-s1"]}},
                          {"action": "assign", "theme": "I10", "attribute": "action", "behaviours": [],
                           "note": "a key the board does not know is kept"},
                          {"action": "rename", "theme": "I10", "label": "on", "rationale": "  leading spaces"}],
            "definition": "Compassion is…"}
    keys = {"merge": ["action", "themes", "into", "label", "rationale"], "split": ["action", "theme", "parts"],
            "assign": ["action", "theme", "attribute", "behaviours"], "rename": ["action", "theme", "label", "rationale"]}
    text = js_page.evaluate("([f, k]) => WorkshopYaml.dump(f, d => k[d.action])", [file, keys])
    back = yaml.safe_load(text)
    assert back["based_on"] == file["based_on"] and back["attendees"] == file["attendees"]
    assert back["decisions"] == file["decisions"] and back["title"] == file["title"]
    assert str(back["date"]) == "2026-06-01" and back["definition"] == file["definition"]
    assert back["snapshot"] == "workshop_4.snapshot.csv"
    # laid out as docs/workshop_files.md shows: short lists on one line, fingerprints quoted
    assert "themes: [radiographers:T02, students:T01]" in text and 'radiographers:T02: "00001234"' in text
    assert text.startswith("# Written by the workshop board")
    assert js_page.evaluate("text => WorkshopYaml.load(text)", text)["decisions"] == file["decisions"]


def test_yaml_in_the_browser_names_the_line_of_a_broken_file(js_page):
    message = js_page.evaluate("""() => { try { WorkshopYaml.load('workshop: 4\\ndecisions:\\n  - action: merge\\n'
                                                                 + '    themes: [a, b\\n  - action: drop\\n'); }
                                          catch (e) { return e.message; } }""")
    assert re.match(r"line [45]: this is not valid YAML", message), message


# --------------------------------------------------------------------------- a workshop by keyboard only

def _active(page) -> dict:
    """What has the focus: its data-id (or its card's/pile's), data-act, name, id, class."""
    return page.evaluate("""() => { const a = document.activeElement, home = a.closest('[data-id]');
        return {id: a.id, own: a.getAttribute('data-id'), home: home ? home.getAttribute('data-id') : null,
                act: a.getAttribute('data-act'), name: a.getAttribute('name'), tag: a.tagName,
                cls: a.className, inDialog: !!a.closest('dialog')}; }""")


def _press_until(page, done, key: str = "Tab", limit: int = 80) -> int:
    """Press ``key`` until ``done(active)``; the number of presses (fails past ``limit``)."""
    for presses in range(limit + 1):
        if done(_active(page)):
            return presses
        page.keyboard.press(key)
    raise AssertionError(f"{key} x{limit} never reached the element; focus is on {_active(page)}")


def _press_button(page, home: str, act: str) -> None:
    """Tab to the ``act`` button of the card or pile ``home`` and press Enter."""
    _press_until(page, lambda x: x["home"] == home and x["act"] == act)
    page.keyboard.press("Enter")


def _arrow_to(page, target: str) -> None:
    """Step with the arrow keys from the focused card or pile to ``target``."""
    order = page.evaluate("[...document.querySelectorAll('[data-id][tabindex=\"0\"]')].map(e => e.dataset.id)")
    here = _active(page)["own"]
    step = "ArrowRight" if order.index(target) > order.index(here) else "ArrowLeft"
    _press_until(page, lambda x: x["own"] == target, step, limit=len(order))


def _first_workshop(tables, folder: Path):
    """Workshop 1 as a file: the merges that agreed I01 and I02 of the contract tables."""
    rows = tables["integrated"].set_index("theme_id").loc[["I01", "I02"]]
    path = folder / "workshop_1.yml"
    path.write_text(yaml.safe_dump({"workshop": 1, "decisions": [
        {"action": "merge", "themes": row["source_themes"].split(";"), "into": tid, "label": row["label"]}
        for tid, row in rows.iterrows()]}), encoding="utf-8")
    return coproduction.load_workshop(path, 1)


def _keyboard_board(tmp_path, tables, monkeypatch):
    """A private study's board (data/private/ under a fake repository root) for workshop 2."""
    monkeypatch.setattr(board, "repo_root", lambda: tmp_path)
    study = dataclasses.replace(ct.make_study(tmp_path / "data" / "private"), workshops=())
    integrated = tables["integrated"][tables["integrated"]["theme_id"].isin(["I01", "I02"])]
    return board.write_board(tmp_path / "workshop_board.html", study, tables["group_themes"], tables["assignments"],
                             tables["segments"], integrated, _audit().iloc[0:0], tables["segment_themes"],
                             tables["links"], workshop=2)


def test_a_whole_workshop_by_keyboard_only_that_notebook_05_applies(chromium, tables, tmp_path, monkeypatch):
    """Skip link, arrows, Space, M, Enter and Ctrl+Enter only: merge, rename with a reason,
    define, link (Enter from a drop-down), drop, split (quotes first), a refused self-merge, a
    refused empty download, then the download; the focus comes back to what changed after
    every dialog; notebook 05 applies the file and keeps the rename's reason in the audit."""
    path = _keyboard_board(tmp_path, tables, monkeypatch)
    data = _data(path)
    cards = {g: [t for t in data["unplaced"] if t.startswith(g + ":")] for g in ct.GROUPS}
    with Opened(chromium, path, viewport=(1366, 768)) as opened:
        page, downloads = opened.page, []
        page.on("download", lambda d: downloads.append(d))
        key = page.keyboard.press
        # the first Tab is the skip link; Enter lands on the first card still to place
        key("Tab")
        assert "skip" in _active(page)["cls"]
        key("Enter")
        first = page.evaluate("document.querySelector('#cards [data-id]').getAttribute('data-id')")
        assert _active(page)["own"] == first
        page.screenshot(path=str(tmp_path / "keyboard_skip_1366.png"))

        # an empty download is refused, with an offer that needs a second, deliberate step
        _press_until(page, lambda a: a["id"] == "download", "Shift+Tab")
        key("Enter")
        status = page.inner_text("#status")
        assert "no decisions to download" in status and page.locator("#save-no-changes").count() == 1
        assert downloads == []

        # merge: Space selects, arrows move, M opens the dialog, Ctrl+Enter saves from the text box
        _press_until(page, lambda a: "skip" in a["cls"], "Shift+Tab")
        key("Enter")
        a, b = cards["radiographers"][0], cards["patients_carers"][0]
        _arrow_to(page, a)
        key("Space")
        _arrow_to(page, b)
        key("Space")
        key("m")
        assert _active(page)["name"] == "label"
        page.keyboard.type("Being heard at the machine")
        key("Tab")
        page.keyboard.type("Two groups, one moment.")
        key("Control+Enter")
        new_id = page.evaluate("WorkshopBoard.decisions()")[0]["into"]
        assert _active(page)["own"] == new_id            # focus on the new pile, not <body>

        # rename with a reason: Enter on the pile's button, the reason is kept
        _press_button(page, new_id, "rename")
        page.keyboard.press("Control+A")
        page.keyboard.type("Being heard on the couch")
        key("Tab")
        page.keyboard.type("The room said couch, not machine.")
        key("Control+Enter")
        assert _active(page)["own"] == new_id

        # define, with two elements typed on two lines
        _press_button(page, new_id, "define")
        page.keyboard.type("Being listened to while lying on the couch.")
        key("Tab")
        page.keyboard.type("someone listens")
        key("Enter")
        page.keyboard.type("they answer")
        key("Control+Enter")
        assert _active(page)["own"] == new_id

        # link: choose in the drop-downs with the arrows, Enter saves from the drop-down
        _press_button(page, new_id, "link")
        assert _active(page)["name"] == "relation"
        key("ArrowDown")                                  # part of -> leads to
        key("Tab")
        assert _active(page)["name"] == "target"
        key("Enter")
        assert not page.evaluate("document.getElementById('dialog').open")
        assert _active(page)["own"] == new_id

        # a pile cannot take itself: refused with one sentence, nothing recorded
        before = page.evaluate("WorkshopBoard.decisions()")
        _arrow_to(page, "I01")
        key("Space")
        _press_button(page, "I01", "add")
        assert "cannot be merged into itself" in page.inner_text("#status")
        assert page.evaluate("WorkshopBoard.decisions()") == before
        key("Shift+Tab")                                  # back to its Select button: unselect it
        assert _active(page)["act"] == "select"
        key("Enter")

        # drop a card, with its reason; the focus moves to the card beside it
        drop = cards["students"][1]
        _arrow_to(page, drop)
        _press_button(page, drop, "drop")
        page.keyboard.type("Warm-up talk, not about care.")
        key("Control+Enter")
        assert _active(page)["own"] in data["unplaced"] and _active(page)["own"] != drop

        # split: the quotes come first, then the names of the parts
        to_split = next(t for t in cards["students"][2:] + cards["radiographers"][1:]
                        if sum(1 for q in data["cards"][t]["quotes"] if q["segment"]) >= 2)
        _arrow_to(page, to_split)
        _press_button(page, to_split, "split")
        assert _active(page)["name"] == "q0"
        assert page.evaluate("""() => { const f = document.querySelector('#dialog fieldset'),
                                        l = document.querySelector('#dialog [name=label1]');
                                        return !!(f.compareDocumentPosition(l) & Node.DOCUMENT_POSITION_FOLLOWING); }""")
        page.screenshot(path=str(tmp_path / "keyboard_split_1366.png"))
        key("ArrowDown")                                  # quote 1 -> part 1
        key("Tab")
        key("ArrowDown")
        key("ArrowDown")                                  # quote 2 -> part 2
        _press_until(page, lambda x: x["name"] == "label1")
        page.keyboard.type("First part")
        _press_until(page, lambda x: x["name"] == "label2")
        page.keyboard.type("Second part")
        key("Enter")
        assert _active(page)["own"] == f"{to_split}.1"

        # attendees and the download, from the toolbar
        _press_until(page, lambda x: x["id"] == "att-radiographers", "Shift+Tab", limit=200)
        page.keyboard.press("Control+A")
        page.keyboard.type("3")
        _press_until(page, lambda x: x["id"] == "download")
        with page.expect_download() as info:
            key("Enter")
        saved = tmp_path / info.value.suggested_filename
        info.value.save_as(saved)
        status = page.inner_text("#status")
        page.set_viewport_size({"width": 1024, "height": 768})
        page.screenshot(path=str(tmp_path / "keyboard_saved_1024.png"))
        assert opened.errors == [] and opened.attempts == []

    # the status names the study's own private folder, the study file and the snapshot
    assert "data/private/workshops/" in status and "workshop_2.snapshot.csv" in status
    assert "data/private/study.yml" in status and "workshops/workshop_2.yml" in status
    raw = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert raw["snapshot"] == "workshop_2.snapshot.csv" and raw["attendees"]["radiographers"] == 3
    actions = [d["action"] for d in raw["decisions"]]
    assert actions == ["merge", "rename", "define", "link", "drop", "split"]
    merge, rename, define, link, dropped, split = raw["decisions"]
    assert merge == {"action": "merge", "themes": [a, b], "into": new_id, "label": "Being heard at the machine",
                     "rationale": "Two groups, one moment."}
    assert rename == {"action": "rename", "theme": new_id, "label": "Being heard on the couch",
                      "rationale": "The room said couch, not machine."}
    assert define["elements"] == ["someone listens", "they answer"]
    assert link == {"action": "link", "source": new_id, "target": "I01", "relation": "leads to"}
    assert dropped == {"action": "drop", "theme": drop, "rationale": "Warm-up talk, not about care."}
    assert list(split["parts"]) == ["First part", "Second part"]

    # notebook 05 applies it after the workshop that agreed I01 and I02
    result = coproduction.integrate(tables["group_themes"], tables["assignments"], tables["segments"],
                                    tables["embeddings"], [_first_workshop(tables, tmp_path),
                                                           coproduction.load_workshop(saved, 2)], list(ct.GROUPS))
    row = result.integrated.set_index("theme_id").loc[new_id]
    assert row["label"] == "Being heard on the couch" and row["source_themes"].split(";") == [a, b]
    assert row["description"] == "Being listened to while lying on the couch."
    audit = result.audit[result.audit["workshop"] == "workshop_2"]
    assert list(audit["action"]) == actions
    assert audit.loc[audit["action"] == "rename", "rationale"].tolist() == ["The room said couch, not machine."]
    assert audit.loc[audit["action"] == "split", "outputs"].tolist() == [f"{to_split}.1;{to_split}.2"]


def test_board_refuses_a_self_merge_and_saves_an_empty_workshop_only_when_confirmed(chromium, tables, tmp_path,
                                                                                      monkeypatch):
    path = _keyboard_board(tmp_path, tables, monkeypatch)
    with Opened(chromium, path) as opened:
        page = opened.page
        # a loaded file that merges a pile into itself is refused with its decision number
        page.evaluate("""() => WorkshopBoard.load('workshop: 2\\ndecisions:\\n  - action: merge\\n'
                                                  + '    themes: [I01]\\n    into: I01\\n', 'workshop_2.yml')""")
        assert page.inner_text("#status") == ('workshop_2.yml: decision 1: merges I01 into itself; name at least one '
                                              'other theme under "themes:".')
        assert page.evaluate("WorkshopBoard.decisions()") == []
        # as in notebook 05, an id dropped earlier is not reused
        page.evaluate("""() => WorkshopBoard.load('workshop: 2\\ndecisions:\\n  - {action: drop, theme: I02, rationale: gone}\\n'
                                                  + '  - {action: merge, themes: [I01], into: I02}\\n', 'workshop_2.yml')""")
        assert "decision 2: merges into I02, which was dropped or merged into another theme earlier" in \
            page.inner_text("#status")
        # selecting a pile and pressing its own "Add selected" is the same nonsense
        page.locator('.pile[data-id="I01"] button[data-act=select]').click()
        page.locator('.pile[data-id="I01"] button[data-act=add]').click()
        assert "cannot be merged into itself" in page.inner_text("#status")
        page.click("#download")
        assert "no decisions to download" in page.inner_text("#status")
        with page.expect_download() as info:
            page.click("#save-no-changes")
        saved = tmp_path / "workshop_2.yml"
        info.value.save_as(saved)
        assert "as “no changes”" in page.inner_text("#status") and "snapshot" not in page.inner_text("#status")
        assert opened.errors == []
    text = saved.read_text(encoding="utf-8")
    assert "# Workshop 2 met and changed nothing (confirmed on the board)." in text
    assert yaml.safe_load(text)["decisions"] == []


def test_board_loads_every_form_docs_workshop_files_allows_as_notebook_05_reads_it(chromium, tables, tmp_path,
                                                                                  monkeypatch):
    """A hand-written file: merge without 'into', themes as one id, the older split form,
    definition_elements, from/to, an attribute in capitals, an unquoted date."""
    path = _keyboard_board(tmp_path, tables, monkeypatch)
    data = _data(path)
    free = [t for t in data["unplaced"] if t.startswith("radiographers:")]
    quotes = [q["segment"] for q in data["cards"][free[2]]["quotes"] if q["segment"]]
    text = f"""workshop: 2
date: 2026-05-01
decisions:
  - action: merge
    themes: [{free[0]}, {free[1]}]
    label: Without an id
  - action: merge
    themes: I02
    into: I01
  - action: split
    theme: {free[2]}
    into:
      - {{label: One, quotes: [{quotes[0]}]}}
      - {{label: Two, quotes: [{quotes[1]}]}}
  - action: define
    theme: I01
    description: Seen
    definition_elements: [names are used]
  - action: link
    from: I03
    to: I01
    relation: part of
  - action: assign
    theme: I03
    attribute: Connection
"""
    with Opened(chromium, path) as opened:
        page = opened.page
        page.evaluate("text => WorkshopBoard.load(text, 'workshop_2.yml')", text)
        assert page.inner_text("#status") == "Loaded workshop_2.yml: 6 decisions."
        piles = page.evaluate("WorkshopBoard.piles()")
        assert page.input_value("#w-date") == "2026-05-01"
        rewritten = page.evaluate("WorkshopBoard.fileText()")
        assert opened.errors == []
    (tmp_path / "workshop_2.yml").write_text(text, encoding="utf-8")
    result = coproduction.integrate(tables["group_themes"], tables["assignments"], tables["segments"],
                                    tables["embeddings"], [_first_workshop(tables, tmp_path),
                                                           coproduction.load_workshop(tmp_path / "workshop_2.yml", 2)],
                                    list(ct.GROUPS))
    agreed = result.integrated[result.integrated["status"] == "agreed"].set_index("theme_id")
    # the board gave the merge without 'into' the id notebook 05 gives it, with the same members
    assert sorted(piles) == sorted(agreed.index)
    for tid, pile in piles.items():
        assert pile["sources"] == agreed.loc[tid, "source_themes"].split(";")
    # the board writes the same decisions back in the board's own form
    again = (tmp_path / "again" / "workshop_2.yml")
    again.parent.mkdir()
    again.write_text(rewritten, encoding="utf-8")
    redo = coproduction.integrate(tables["group_themes"], tables["assignments"], tables["segments"],
                                  tables["embeddings"], [_first_workshop(tables, tmp_path),
                                                         coproduction.load_workshop(again, 2)], list(ct.GROUPS))
    pd.testing.assert_frame_equal(redo.integrated, result.integrated)


def test_notebook_05_refuses_a_self_merge_in_a_hand_written_file(tables, tmp_path):
    path = tmp_path / "workshop_2.yml"
    path.write_text("workshop: 2\ndecisions:\n  - action: merge\n    themes: [radiographers:T01]\n"
                    "    into: I09\n  - action: merge\n    themes: [I09, I09]\n    into: I09\n", encoding="utf-8")
    with pytest.raises(coproduction.WorkshopError) as caught:
        coproduction.integrate(tables["group_themes"], tables["assignments"], tables["segments"], tables["embeddings"],
                               [coproduction.load_workshop(path, 2)], list(ct.GROUPS))
    assert str(caught.value) == (f"{path}, decision 2 (merge): merges 'I09' into itself; name at least one other "
                                 "theme under 'themes:', or remove the decision.")


# --------------------------------------------------------------------------- on paper

@pytest.mark.slow
def test_bundled_board_prints_with_its_colours_and_no_stranded_heading(chromium, bundled, tmp_path):
    """Print to PDF (A4, Chromium's defaults: no background graphics) and read the pages:
    no page ends on a heading, every pile's heading shares a page with its balance, and the
    balance bars print in the groups' colours."""
    import numpy as np
    import pypdfium2 as pdfium

    path = bundled / "workshop_board.html"
    data = _data(path)
    with Opened(chromium, path) as opened:
        page = opened.page
        page.emulate_media(media="print")
        headings = page.evaluate("""() => [...document.querySelectorAll('h1, h2')].filter(h => h.offsetParent)
                                          .map(h => h.textContent)""")
        piles = page.evaluate("() => [...document.querySelectorAll('.pile h3')].map(h => h.textContent)")
        empty = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('main section')]
            .filter(s => s.querySelector('.piles, .cards, ol') && !s.querySelector('.piles, .cards, ol').children.length)
            .map(s => [s.id, [s.hidden, s.querySelector('h2').textContent.replace(/\\s+/g, ' ').trim()]]))""")
        pdf = page.pdf(format="A4")
        assert opened.errors == []
    (tmp_path / "board.pdf").write_bytes(pdf)

    def flat(text: str) -> str:     # PDF text keeps words but not always the spaces between them
        return re.sub(r"\s+", "", text)

    headings = [flat(h) for h in headings]
    # a section with nothing in it (no decision yet, no suggestion left) is not printed at all
    assert empty and all(hidden for hidden, _ in empty.values()) and flat("Decisions so far") not in headings
    assert not any(flat(title) in headings for _, title in empty.values())
    assert piles and len(headings) >= 3
    document = pdfium.PdfDocument(pdf)
    texts, images = [], []
    for number in range(len(document)):
        sheet = document[number]
        texts.append(flat(sheet.get_textpage().get_text_bounded()))
        images.append(sheet.render(scale=100 / 72).to_pil().convert("RGB"))
        images[-1].save(tmp_path / f"board_page_{number + 1}.png")
    for number, text in enumerate(texts, start=1):
        assert text, f"page {number} is empty"
        stranded = [h for h in headings if text.endswith(h)]
        assert not stranded, f"page {number} ends on the heading {stranded[0]!r}"
    for heading in piles:
        on = [k for k, text in enumerate(texts) if flat(heading) in text]
        assert on, heading
        after = texts[on[0]][texts[on[0]].index(flat(heading)):]
        assert "balance" in after, f"the pile {heading!r} is cut from its balance at the foot of page {on[0] + 1}"
    # the bars: every group's colour covers a visible area on the pages with piles
    for group in data["groups"]:
        rgb = tuple(int(group["colour"].lstrip("#")[k:k + 2], 16) for k in (0, 2, 4))
        pixels = sum(int((np.abs(np.asarray(image, dtype=int) - rgb).max(axis=2) <= 8).sum())
                     for image, text in zip(images, texts) if "balance" in text)
        assert pixels > 2000, f"{group['label']}'s bars did not print ({pixels} pixels of {group['colour']})"


def test_bundled_workshop_pack_prints_with_no_discussion_heading_stranded(chromium, bundled, tmp_path):
    """A facilitator prints the next workshop's pack (A4): no page ends on a "Discussion N"
    heading whose cards went to the next page."""
    import pypdfium2 as pdfium

    path = bundled / "workshop_packs" / "workshop_4.html"
    with Opened(chromium, path) as opened:
        opened.page.emulate_media(media="print")
        headings = opened.page.evaluate("() => [...document.querySelectorAll('h2')].map(h => h.textContent)")
        pdf = opened.page.pdf(format="A4")
        assert opened.errors == []
    (tmp_path / "pack.pdf").write_bytes(pdf)
    document = pdfium.PdfDocument(pdf)
    assert len(headings) >= 3 and len(document) >= 2
    for number in range(len(document)):
        text = re.sub(r"\s+", "", document[number].get_textpage().get_text_bounded())
        stranded = [h for h in headings if text.endswith(re.sub(r"\s+", "", h))]
        assert not stranded, f"page {number + 1} ends on the heading {stranded[0]!r}"
