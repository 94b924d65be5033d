"""report.html as a reviewer sees it: in headless Chromium at 1366×768, and printed to A4.

The report is built from the contract tables with the real figures of stage 6 (drawn
here, saved by ``save_figure``, which records each PNG's smallest text size), including a
workshop split. Chromium is Debian's (/usr/bin/chromium), driven by playwright; every
request that is not a local file is refused and recorded.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

import contract_tables as ct
from helpers import maps, report
from helpers.describe import plot_talk_share
from helpers.study import group_palette

#: Runs `make`, a notebook, a browser or a whole study: left out of `make test-fast`.
pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREEN = {"width": 1366, "height": 768}
PALETTE = group_palette(ct.GROUPS)


def _playwright():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed: cannot render the report headless (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (a test dependency: pip install playwright==1.65.2)")
    return sync_playwright


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """An output folder with the contract tables (a split included) and the real figures."""
    tables = ct.make_tables(split=True)
    out = ct.write_output_dir(tmp_path_factory.mktemp("browser") / "fixture-study", tables, figures=False)
    study = ct.make_study(tmp_path_factory.mktemp("study"))
    themes = maps.with_split_parts(tables["group_themes"], tables["split_parts"])
    cooc = maps.cooccurrence_edges(tables["segment_themes"], tables["segments"], window=1, min_count=3)
    figures = out / "figures"
    args = (tables["integrated"], themes, tables["segment_themes"], tables["links"], cooc, PALETTE, ct.GROUP_LABELS)
    maps.save_figure(maps.plot_thematic_map(*args), figures / "thematic_map", dpi=200)
    (figures / "thematic_map.html").write_text(maps.thematic_map_html(*args), encoding="utf-8")
    maps.save_figure(maps.plot_theme_group_heatmap(tables["integrated"], list(ct.GROUPS), ct.GROUP_LABELS),
                     figures / "theme_group_heatmap", dpi=200)
    lineage = (themes, tables["integrated"], tables["segment_themes"], PALETTE, ct.GROUP_LABELS)
    maps.save_figure(maps.plot_lineage(*lineage), figures / "theme_lineage", dpi=200)
    (figures / "theme_lineage.html").write_text(maps.lineage_html(*lineage), encoding="utf-8")
    speakers = tables["segments"].groupby(["focus_group", "participant_group", "speaker"]).size().rename(
        "words").reset_index().assign(role="participant")
    speakers["share_of_words"] = speakers["words"] / speakers.groupby("focus_group")["words"].transform("sum") * 0.8
    maps.save_figure(plot_talk_share(speakers, ct.GROUP_LABELS, PALETTE), figures / "talk_share", dpi=200)
    path = report.write_report(out, study)
    return {"out": out, "path": path, "study": study}


def _open(p, url: str, viewport=SCREEN):
    browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    context = browser.new_context(viewport=viewport)
    attempts, problems = [], []

    def refuse(route):
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            attempts.append(route.request.url)
            route.abort()
    context.route("**/*", refuse)
    page = context.new_page()
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(url)
    page.wait_for_load_state("load")
    return browser, page, attempts, problems


def _pdf_pages(pdf: Path) -> int:
    text = pdf.read_bytes()
    return len(re.findall(rb"/Type\s*/Page(?!s)", text))


@pytest.fixture(scope="module")
def rendered(run, tmp_path_factory):
    """What Chromium shows and prints: measurements, screenshots and the PDF."""
    sync_playwright = _playwright()
    shots = tmp_path_factory.mktemp("shots")
    with sync_playwright() as p:
        browser, page, attempts, problems = _open(p, run["path"].resolve().as_uri())
        try:
            page.screenshot(path=str(shots / "first_screen.png"))
            page.screenshot(path=str(shots / "full.png"), full_page=True)
            summary = page.eval_on_selector("#summary", "e => e.getBoundingClientRect().toJSON()")
            parts = page.eval_on_selector_all(
                "#summary h2, #summary p.definition, #summary table, #summary ul.trust, #summary ul.open",
                "es => es.map(e => [e.tagName + '.' + e.className, e.getBoundingClientRect().bottom])")
            figures = page.eval_on_selector_all(
                "figure.fig img", "es => es.map(e => ({file: e.closest('figure').dataset.file, "
                "width: e.getBoundingClientRect().width, natural: e.naturalWidth}))")
            links = page.eval_on_selector_all("figure.fig figcaption a", "es => es.map(e => e.getAttribute('href'))")
            # a click opens the figure full size; the close link brings the page back
            page.click("#fig-thematic-map a.open")
            full = page.eval_on_selector("#fig-thematic-map img", "e => [e.getBoundingClientRect().width, "
                                                                  "e.naturalWidth, getComputedStyle(e.closest("
                                                                  "'figure')).position]")
            page.screenshot(path=str(shots / "full_size.png"))
            page.click("#fig-thematic-map a.close")
            closed = page.eval_on_selector("#fig-thematic-map", "e => getComputedStyle(e).position")
            pdf = shots / "report.pdf"
            page.pdf(path=str(pdf), prefer_css_page_size=True)
        finally:
            browser.close()
    pages = _pdf_pages(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(shots / "page")], check=True)
    return {"summary": summary, "parts": parts, "figures": figures, "links": links, "full": full,
            "closed": closed, "pdf": pdf, "pages": pages, "attempts": attempts, "problems": problems,
            "shots": shots}


def test_report_opens_without_console_errors_or_requests(rendered):
    assert rendered["problems"] == []
    assert rendered["attempts"] == []


def test_summary_is_on_the_first_screen(rendered):
    assert rendered["summary"]["top"] < 120  # straight under the title
    for what, bottom in rendered["parts"]:
        assert bottom <= SCREEN["height"], f"{what} ends at {bottom:.0f} px, below the first screen"


def test_figure_text_is_at_least_9_pt_at_the_width_shown(rendered, run):
    checked = []
    for fig in rendered["figures"]:
        png = run["out"] / fig["file"]
        with Image.open(png) as img:
            smallest_pt, dpi = float(img.text["min_font_pt"]), float(img.info["dpi"][0])
            assert img.size[0] == fig["natural"]
        smallest_px = smallest_pt * dpi / 72 * fig["width"] / fig["natural"]  # CSS pixels on screen
        checked.append((fig["file"], smallest_px * 72 / 96))
    assert {f for f, _ in checked} >= {"figures/thematic_map.png", "figures/theme_lineage.png",
                                       "figures/theme_group_heatmap.png", "figures/talk_share.png"}
    small = [(f, round(pt, 2)) for f, pt in checked if pt < report.MIN_FIGURE_TEXT_PT - 0.05]
    assert small == [], f"figure text below 9 pt at the width the report shows: {small}"


def test_figures_open_full_size_and_link_their_interactive_page(rendered):
    width, natural, position = rendered["full"]
    assert position == "fixed" and width == pytest.approx(natural, abs=3)  # (its border)
    assert rendered["closed"] == "static"
    assert {"figures/thematic_map.html", "figures/theme_lineage.html"} <= set(rendered["links"])


def test_report_prints_to_a_few_a4_pages(rendered):
    pdf = rendered["pdf"].read_bytes()
    sizes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf))
    assert sizes and all(abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2 for w, h in sizes)  # A4
    assert 6 <= rendered["pages"] <= 20, rendered["pages"]


def test_interactive_pages_are_keyboard_focusable_with_the_hover_details(run):
    sync_playwright = _playwright()
    with sync_playwright() as p:
        for name, first_panel in (("theme_lineage.html", "Where its segments went"),
                                  ("thematic_map.html", "Share of each group")):
            browser, page, attempts, problems = _open(p, (run["out"] / "figures" / name).resolve().as_uri())
            try:
                page.keyboard.press("Tab")
                node = page.evaluate("document.activeElement.dataset.node")
                label = page.evaluate("document.activeElement.getAttribute('aria-label')")
                panel = page.inner_text("#panel")
                assert node and label.split(" · ")[0] == node
                assert label.split(" (")[0].split(":")[0] in panel and first_panel in panel
                hover = page.evaluate("document.activeElement.querySelector('title').textContent")
                assert hover == label  # focus reads what hovering shows
                # every theme can be reached with Tab
                ids = set()
                for _ in range(60):
                    ids.add(page.evaluate("document.activeElement.dataset.node"))
                    page.keyboard.press("Tab")
                assert {"students:T02.1", "students:T02.2"} <= ids
                assert problems == [] and attempts == []
            finally:
                browser.close()
