"""The self-contained study report (report.html)."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess

import pandas as pd
import pytest

import contract_tables as ct
from helpers import maps, report
from helpers.study import group_palette


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    tables = ct.make_tables()
    out = ct.write_output_dir(tmp_path_factory.mktemp("run") / "fixture-study", tables)
    # one real figure, to embed something of realistic size
    fig = maps.plot_theme_group_heatmap(tables["integrated"], list(ct.GROUPS), ct.GROUP_LABELS)
    maps.save_figure(fig, out / "figures" / "theme_group_heatmap")
    (out / "figures" / "thematic_map.html").write_text("<!DOCTYPE html><p>map</p>", encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return ct.make_study(tmp_path_factory.mktemp("study"))


@pytest.fixture(scope="module")
def page(out_dir, study):
    return report.build_report(out_dir, study)


def _section(page: str, key: str) -> str:
    match = re.search(rf'<section id="{key}">(.*?)</section>', page, re.S)
    assert match, f"section {key} missing"
    return match.group(1)


def assert_self_contained(page: str):
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*//""", page, re.I)
    assert not re.search(r"<(?:script|link|iframe|object|embed)\b", page, re.I)
    assert "@import" not in page and "url(" not in page
    for src in re.findall(r"""src\s*=\s*["']([^"']*)["']""", page):
        assert src.startswith("data:image/"), src[:40]
    for href in re.findall(r"""href\s*=\s*["']([^"']*)["']""", page):
        # in-page anchors, or a file of the same output folder (interactive figures, board, packs)
        assert href.startswith("#") or re.fullmatch(r"(figures|workshop_packs)/[\w.-]+\.html|workshop_board\.html",
                                                    href), href


def test_report_has_every_section_in_order(page):
    positions = [page.index(f'<section id="{key}">') for key, _title in report.SECTIONS]
    assert positions == sorted(positions)
    for _key, title in report.SECTIONS:
        assert f"<h2>{html.escape(title)}</h2>" in page
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def test_report_stylesheet_reaches_the_browser_as_written(page):
    """The page's CSS is the package's own file, inlined unescaped: an escaped quote
    (`&#34;Segoe UI&#34;`) makes the browser drop the whole font-family rule."""
    from helpers._templates import template_text

    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    assert template_text("report/report.css").strip() in style
    assert "&#34;" not in style and "&quot;" not in style


def test_report_is_self_contained_with_embedded_images(page):
    assert_self_contained(page)
    images = re.findall(r'<img [^>]*src="(data:image/png;base64,[A-Za-z0-9+/=]+)"', page)
    assert len(images) >= 10  # talk share, 3 maps, 3 segment maps, 3 dendrograms
    assert "@media print" in page and "size:A4" in page


def test_report_names_every_integrated_theme(page, out_dir):
    import pandas as pd

    integrated = pd.read_csv(out_dir / "integrated_themes.csv")
    section = _section(page, "integrated")
    for row in integrated.itertuples():
        assert row.theme_id in section
        assert html.escape(row.label) in section
    assert "⚠ missing voice: students" in section
    assert 'class="proposed"' in section  # I04 is marked
    assert "makes possible" in section  # workshop links


def test_report_sections_show_the_data(page, study):
    design = _section(page, "design")
    for g in study.participant_groups:
        assert html.escape(g.label) in design
    for fg in study.focus_groups:
        assert fg.id in design
    themes = _section(page, "themes")
    assert "radiographers:T01" in themes and "time / throughput / targets" in themes
    assert "<blockquote>" in themes
    quality = _section(page, "quality")
    assert "LDA" in quality and "k-means" in quality and "consensus" in quality and "unstable" in quality
    maps_section = _section(page, "maps")
    for g in study.group_ids:
        assert html.escape(study.group_labels[g]) in maps_section
    assert '<a href="figures/thematic_map.html">' in maps_section  # a link, not text
    assert 'href="figures/theme_lineage.html"' not in maps_section  # no link to a file that is not there
    definition = _section(page, "definition")
    assert "Compassion is recognising a person&#39;s distress" in definition and "<li>" in definition
    assert "delays are explained honestly &amp; understanding is checked" in definition
    assert "Uses the patient&#39;s preferred name" in definition
    repro = _section(page, "reproducibility")
    assert "0123456789ab" in repro and "0123456789abcdef0123" not in repro  # short sha256
    assert "bertopic" in repro and "0.17.4" in repro and "make verify STUDY=" in repro
    assert "41.5" not in repro  # timings change from run to run; they stay in the manifest


def test_report_disclosure_gives_counts_not_details(page):
    section = _section(page, "disclosure")
    assert "<strong>1 unresolved</strong>" in section
    assert "Oak Ward" not in page and "12/03/1961" not in page and "Sister Kay" not in page
    assert "Export refused" in section


def test_synthetic_banner(out_dir, tmp_path):
    synthetic = report.build_report(out_dir, ct.make_study(tmp_path, synthetic=True))
    real = report.build_report(out_dir, ct.make_study(tmp_path, synthetic=False))
    assert "Synthetic illustration: no substantive claims" in synthetic
    assert "Synthetic illustration" not in real


def test_report_escapes_text_from_data(out_dir, study, tmp_path):
    import pandas as pd

    hostile = tmp_path / "hostile"
    shutil.copytree(out_dir, hostile)
    gt = pd.read_csv(hostile / "group_themes.csv")
    gt.loc[0, "quote_1"] = '“<script>alert("q")</script>” (Ruth, FG01)'
    gt.to_csv(hostile / "group_themes.csv", index=False)
    it = pd.read_csv(hostile / "integrated_themes.csv")
    it.loc[0, "label"] = '<img src="https://example.org/x.png">'
    it.to_csv(hostile / "integrated_themes.csv", index=False)
    pd.DataFrame([{"part": "definition", "theme_id": "", "text": "Def <b>x</b> and <iframe>", "workshop": ""}]).to_csv(
        hostile / "definition.csv", index=False)
    page = report.build_report(hostile, study)
    assert "<script>" not in page and "<iframe>" not in page and '<img src="https' not in page
    assert "&lt;script&gt;alert" in page and "&lt;img src=" in page and "Def &lt;b&gt;x&lt;/b&gt;" in page
    assert "Compassion in radiotherapy &lt;fixture&gt;" in page  # the study title is escaped too


def test_missing_files_are_said_plainly_and_never_crash(study, tmp_path):
    page = report.build_report(tmp_path / "empty", study)
    assert_self_contained(page)
    for key in ("summary", "workshops", "talk", "themes", "quality", "integrated", "maps", "definition",
                "disclosure"):
        assert "Not available" in _section(page, key), key
    assert "Not filled in this copy" in _section(page, "reproducibility")
    assert "talk_share.csv" in _section(page, "talk")
    assert "FG01" in _section(page, "design")  # the design comes from study.yml, always there


def test_unreadable_files_only_break_their_section(out_dir, study, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(out_dir, broken)
    (broken / "integrated_themes.csv").write_bytes(b"\x00\x01\x02 not,a\ncsv\x00,\n\"")
    (broken / "run_manifest.json").write_text("{not json")
    (broken / "theme_quality.csv").write_text("")
    page = report.build_report(broken, study)
    assert "could not be built" in _section(page, "reproducibility")
    assert "Who spoke" in page and "radiographers:T01" in _section(page, "themes")
    assert_self_contained(page)


def test_write_report_is_atomic(out_dir, study):
    path = report.write_report(out_dir, study)
    assert path == out_dir / "report.html"
    assert path.read_text(encoding="utf-8") == report.build_report(out_dir, study)
    assert not [p for p in out_dir.iterdir() if p.name.endswith(".part")]


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed: cannot load the report "
                                                           "headless (install chromium to run this check)")
def test_report_renders_in_headless_chromium(out_dir, study, tmp_path):
    path = report.write_report(out_dir, study)
    profile = tmp_path / "profile"
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={profile}", "--dump-dom",
         path.resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert '<section id="integrated">' in dom and "I05" in dom
    assert dom.count("<img") >= 10


def test_each_group_heading_carries_its_own_figure_colour(page):
    # A reader matches the report's headings to the figures by colour: every group's
    # chip is the colour the figures give that group, and no two groups share one.
    themes = _section(page, "themes")
    chips = dict(re.findall(r'<h3><span class="chip" style="background:(#[0-9A-Fa-f]{6})"></span>([^<]+)', themes))
    by_label = {label.strip(): colour for colour, label in chips.items()}
    palette = group_palette(list(ct.GROUPS))
    assert {ct.GROUP_LABELS[g]: palette[g] for g in ct.GROUPS} == by_label
    assert len(set(by_label.values())) == len(ct.GROUPS)


def test_report_shows_talk_gaps_ingest_warnings_theme_caveats_and_decision_checks(out_dir, study, tmp_path):
    import shutil

    out = tmp_path / "run"
    shutil.copytree(out_dir, out)
    pd.DataFrame([{"level": "participant_group", "id": "students", "participant_group": "students",
                   "note": "students: no participant talk; no themes"}]).to_csv(out / "talk_gaps.csv", index=False)
    pd.DataFrame([{"focus_group": "FG02", "source": "FG02.txt", "line": 7, "kind": "encoding",
                   "message": "FG02.txt, line 7: repaired from Windows-1252; check it."}]).to_csv(
        out / "ingest_warnings.csv", index=False)
    themes = pd.read_csv(out / "group_themes.csv")
    themes["unstable"] = [True] + [False] * (len(themes) - 1)
    themes["caveat"] = ["only 9 distinct segments: one theme, not clustered"] + [""] * (len(themes) - 1)
    themes.to_csv(out / "group_themes.csv", index=False)
    pd.DataFrame([{"workshop": "workshop_1", "index": 1, "action": "merge", "inputs": "staff:T05", "outputs": "I01",
                   "rationale": "", "check": "carried over from staff:T02 (fingerprint 1a2b3c4d) to staff:T05 "
                                             "(9f8e7d6c), overlap 0.74"}]).to_csv(out / "workshop_audit.csv", index=False)
    page = report.build_report(out, study)
    talk, themes_html, workshops = _section(page, "talk"), _section(page, "themes"), _section(page, "workshops")
    assert "students: no participant talk; no themes" in talk and "line 7: repaired from Windows-1252" in talk
    assert themes_html.count("⚠ unstable") == 1 and "only 9 distinct segments: one theme, not clustered" in themes_html
    assert "carried over from staff:T02 (fingerprint 1a2b3c4d) to staff:T05 (9f8e7d6c), overlap 0.74" in workshops
