"""Stage 6: the thematic map, its layout, and the two renderers that draw it (matplotlib,
and inline SVG for the HTML page and the workshop board)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

import contract_tables as ct
from helpers import maps
# the fixtures (tables, cooc, split_tables) are imported for pytest to find
from map_checks import (LABELS, PALETTE, assert_fonts_readable, assert_inside_figure, assert_labels_do_not_overlap,
                        assert_offline, cooc, hostile, split_tables, tables, variants)  # noqa: F401


# --------------------------------------------------------------------------- thematic map

def test_thematic_map_labels_never_overlap_and_stay_inside(tables, cooc):
    fig = maps.plot_thematic_map(tables["integrated"], tables["group_themes"], tables["segment_themes"],
                                 tables["links"], cooc, PALETTE, LABELS)
    assert tuple(fig.get_size_inches()) == (12, 9)
    assert_labels_do_not_overlap(fig)
    assert_inside_figure(fig)
    assert_fonts_readable(fig)
    gids = {t.get_gid() for t in fig.axes[0].texts}
    for theme in tables["integrated"]["theme_id"]:
        assert f"label:{theme}" in gids
    for src in tables["integrated"]["source_themes"].str.split(";").sum():
        assert f"label:{src}" in gids
    assert {f"label:link:{a}->{b}" for a, b in zip(tables["links"]["source"], tables["links"]["target"])} <= gids
    assert len(fig.legends) == 1
    legend_text = [t.get_text() for t in fig.legends[0].get_texts()]
    assert all(LABELS[g] in legend_text for g in ct.GROUPS)
    assert any("proposed" in t for t in legend_text) and any("link" in t for t in legend_text)


def test_thematic_map_marks_proposed_themes_dashed(tables, cooc):
    fig = maps.plot_thematic_map(tables["integrated"], tables["group_themes"], tables["segment_themes"],
                                 tables["links"], cooc, PALETTE, LABELS)
    patches = {p.get_gid(): p for p in fig.axes[0].patches if p.get_gid()}
    status = dict(zip(tables["integrated"]["theme_id"], tables["integrated"]["status"]))
    for theme, st in status.items():
        dashed = patches[f"node:{theme}"].get_linestyle() not in ("-", "solid")
        assert dashed == (st == "proposed"), theme
    # co-occurrence width grows with weight
    lines = {ln.get_gid(): ln.get_linewidth() for ln in fig.axes[0].lines if (ln.get_gid() or "").startswith("cooc:")}
    weights = {f"cooc:{r.source}--{r.target}": r.weight for r in cooc.itertuples()}
    ordered = sorted(weights, key=weights.get)
    assert [lines[k] for k in ordered] == sorted(lines[k] for k in ordered)


@pytest.mark.parametrize("variant", ["one theme", "missing voices only", "fourteen themes"])
def test_thematic_map_edge_cases(tables, variant):
    integrated = variants(tables)[variant]
    empty_links = tables["links"].iloc[0:0]
    empty_cooc = maps.cooccurrence_edges(tables["segment_themes"].iloc[0:0], tables["segments"])
    fig = maps.plot_thematic_map(integrated, tables["group_themes"], tables["segment_themes"], empty_links,
                                 empty_cooc, PALETTE, LABELS)
    assert_labels_do_not_overlap(fig)
    assert_inside_figure(fig)
    assert_fonts_readable(fig)


def test_thematic_map_with_no_themes_does_not_crash(tables):
    fig = maps.plot_thematic_map(tables["integrated"].iloc[0:0], tables["group_themes"], tables["segment_themes"],
                                 tables["links"], pd.DataFrame(), PALETTE, LABELS)
    assert any("No integrated themes" in t.get_text() for t in fig.axes[0].texts)


def test_thematic_map_is_deterministic(tables, cooc, tmp_path):
    digests = []
    for k in range(2):
        fig = maps.plot_thematic_map(tables["integrated"], tables["group_themes"], tables["segment_themes"],
                                     tables["links"], cooc, PALETTE, LABELS)
        (path,) = maps.save_figure(fig, tmp_path / f"map{k}")
        digests.append(path.read_bytes())
    assert digests[0] == digests[1]


def test_thematic_map_html_is_self_contained_and_escaped(tables, cooc):
    integrated, gt = hostile(tables)
    quotes = maps.collect_quotes(integrated, gt)
    page = maps.thematic_map_html(integrated, gt, tables["segment_themes"], tables["links"], cooc, PALETTE, LABELS,
                                  quotes)
    assert_offline(page)
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert" in page  # the label, escaped, in the SVG
    data = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', page, re.S).group(1)
    details = json.loads(data)
    for theme in tables["integrated"]["theme_id"]:
        assert f'data-node="{theme}"' in page and theme in details
    first = details[tables["integrated"]["theme_id"].iloc[0]]
    assert first["title"].endswith('<script>alert("x")</script> & known')  # raw in JSON, shown via textContent
    assert first["keywords"] and first["shares"] and first["quotes"]
    assert any("missing voice" in f for d in details.values() for f in d["flags"])
    sat = details["radiographers:T01"]
    assert sat["quotes"] and sat["keywords"][0] == "time"
    assert len(page) < 400_000


@pytest.mark.parametrize("variant", ["one theme", "missing voices only"])
def test_thematic_map_html_edge_cases(tables, variant):
    integrated = variants(tables)[variant]
    page = maps.thematic_map_html(integrated, tables["group_themes"], tables["segment_themes"],
                                  tables["links"].iloc[0:0], pd.DataFrame(), PALETTE, LABELS, {})
    assert_offline(page)
    assert f'data-node="{integrated["theme_id"].iloc[0]}"' in page


def test_thematic_map_labels_split_parts(split_tables, cooc):
    args = (split_tables["integrated"], split_tables["themes_and_parts"], split_tables["segment_themes"],
            split_tables["links"], cooc, PALETTE, LABELS)
    layout = maps.thematic_map_layout(*args)
    labels = {n.id: n.label.replace("\n", " ") for n in layout.nodes}
    assert labels["students:T02.1"].startswith("T02.1 Explaining")
    assert labels["students:T02.2"].startswith("T02.2 Staying calm")
    page = maps.thematic_map_html(*args)
    assert 'aria-label="students:T02.1 · Explaining the mask"' in page
    bare = maps.thematic_map_layout(split_tables["integrated"], split_tables["group_themes"],
                                    split_tables["segment_themes"], split_tables["links"], cooc, PALETTE, LABELS)
    assert {n.id: n.label for n in bare.nodes}["students:T02.1"].replace("\n", " ").startswith("T02.1 mask / explain")


# --------------------------------------------------------------------------- one layout, two renderers

def test_thematic_map_layout_drives_both_renderers(tables, cooc):
    """The matplotlib figure and the SVG draw the same layout object: every label at the
    place the label search chose, every node, link and co-occurrence edge."""
    layout = maps.thematic_map_layout(tables["integrated"], tables["group_themes"], tables["segment_themes"],
                                      tables["links"], cooc, PALETTE, LABELS)
    assert isinstance(layout, maps.ThematicMapLayout)
    fig = maps.render_thematic_map(layout)
    drawn = {t.get_gid(): t for t in fig.axes[0].texts if t.get_gid()}
    assert set(drawn) == {t.key for t in layout.texts}
    for t in layout.texts:
        assert drawn[t.key].get_position() == pytest.approx((t.x, t.y))
        assert drawn[t.key].get_fontsize() == pytest.approx(t.fontsize)
    assert not [a for a in vars(fig) if a.startswith("_compendium")]   # nothing passed on the figure
    svg = maps.thematic_map_svg(layout)
    for n in layout.nodes:
        x, y = layout.pixel(n.x, n.y)
        assert f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{n.r * layout.unit:.1f}"' in svg
    for t in layout.texts:
        x, _y = layout.pixel(t.x, t.y)
        assert f'<tspan x="{x:.1f}"' in svg
    assert svg.count("marker-end") == len(layout.links) == len(tables["links"])
    assert sum(t.leader is not None for t in layout.texts) == svg.count('stroke-width="1"/>')
    # built the same way twice, it is the same layout
    assert layout == maps.thematic_map_layout(tables["integrated"], tables["group_themes"], tables["segment_themes"],
                                              tables["links"], cooc, PALETTE, LABELS)
