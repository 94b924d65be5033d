"""Stage 6: thematic maps, heatmap, lineage, segment maps, dendrograms, co-occurrence."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

import contract_tables as ct
from helpers import maps
from helpers.study import group_palette
from theme_groups import three_theme_group

PALETTE = group_palette(ct.GROUPS)
LABELS = ct.GROUP_LABELS


@pytest.fixture(scope="module")
def tables():
    return ct.make_tables()


@pytest.fixture(scope="module")
def cooc(tables):
    return maps.cooccurrence_edges(tables["segment_themes"], tables["segments"], window=1, min_count=3)


# --------------------------------------------------------------------------- helpers

def _visible_texts(fig):
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def _label_boxes(fig):
    """Window extents of the free-floating labels (texts placed inside axes)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for ax in fig.axes for t in ax.texts if t.get_visible() and t.get_text().strip()]
    return texts, [t.get_window_extent(renderer) for t in texts]


def _overlap(a, b, tol=0.5) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > tol) and (min(a.y1, b.y1) - max(a.y0, b.y0) > tol)


def assert_labels_do_not_overlap(fig):
    texts, boxes = _label_boxes(fig)
    for (ta, a), (tb, b) in itertools.combinations(zip(texts, boxes), 2):
        assert not _overlap(a, b), f"labels overlap: {ta.get_text()!r} and {tb.get_text()!r}"
    renderer = fig.canvas.get_renderer()
    others = [lg.get_window_extent(renderer) for lg in fig.legends]
    others += [t.get_window_extent(renderer) for t in fig.texts if t.get_text().strip()]
    for t, box in zip(texts, boxes):
        for other in others:
            assert not _overlap(box, other), f"label {t.get_text()!r} covers the legend or title"


def assert_inside_figure(fig):
    """Nothing drawn (axes with their tick labels and texts, figure texts, legends) leaves the figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    W, H = fig.bbox.width, fig.bbox.height
    boxes = [(f"axes {k}", ax.get_tightbbox(renderer)) for k, ax in enumerate(fig.axes)]
    boxes += [(t.get_text(), t.get_window_extent(renderer)) for ax in fig.axes for t in ax.texts
              if t.get_visible() and t.get_text().strip()]
    boxes += [(t.get_text(), t.get_window_extent(renderer)) for t in fig.texts if t.get_text().strip()]
    boxes += [("legend", lg.get_window_extent(renderer)) for lg in fig.legends]
    for what, b in boxes:
        if b is None:
            continue
        assert b.x0 >= -0.5 and b.y0 >= -0.5 and b.x1 <= W + 0.5 and b.y1 <= H + 0.5, \
            f"{what!r} is clipped by the figure edge ({b}, figure {W}x{H})"


def assert_fonts_readable(fig, minimum=maps.MIN_FONT):
    small = [(t.get_text(), t.get_fontsize()) for t in _visible_texts(fig) if t.get_fontsize() < minimum - 1e-9]
    assert not small, f"text smaller than {minimum} pt: {small[:5]}"


def _variants(t):
    """Edge cases every function must cope with."""
    one = t["integrated"].head(1).copy()
    missing_group = t["integrated"][t["integrated"]["flags"].str.contains("missing voice", na=False)].copy()
    many = [t["integrated"]]
    for k in range(7):
        extra = t["integrated"].copy()
        extra["theme_id"] = [f"I{int(i[1:]) + 5 * (k + 1):02d}" for i in extra["theme_id"]]
        extra["label"] = extra["label"] + " and a longer name to wrap"
        many.append(extra)
    many = pd.concat(many, ignore_index=True).head(14)
    return {"one theme": one, "missing voices only": missing_group, "fourteen themes": many}


# --------------------------------------------------------------------------- co-occurrence

def _cooc_inputs():
    rows = [  # focus group, turn, segment, integrated theme
        ("FG01", 2, 1, "I01"), ("FG01", 2, 2, "I02"), ("FG01", 4, 1, "I03"), ("FG01", 4, 2, ""),
        ("FG01", 6, 1, "I01"), ("FG01", 9, 1, "I02"), ("FG01", 9, 2, None),
        ("FG02", 2, 1, "I01"), ("FG02", 2, 2, "I03"),
    ]
    segments = pd.DataFrame({"segment_id": [f"{fg}-t{t:03d}-s{s}" for fg, t, s, _ in rows],
                             "focus_group": [r[0] for r in rows], "participant_group": "radiographers",
                             "turn": [r[1] for r in rows]})
    st = pd.DataFrame({"segment_id": segments["segment_id"], "participant_group": "radiographers",
                       "group_theme": "radiographers:T01", "integrated_theme": [r[3] for r in rows]})
    return st, segments


def test_cooccurrence_counts_turn_pairs_within_the_window_of_participant_turns():
    st, segments = _cooc_inputs()
    edges = maps.cooccurrence_edges(st, segments, window=1, min_count=1)
    assert list(edges.columns) == ["source", "target", "count", "weight"]
    got = {(r.source, r.target): r.count for r in edges.itertuples()}
    # (I01,I02): same turn FG01 t2, and neighbours t6/t9 (facilitator turns between do not count);
    # never across focus groups (FG01 t9 and FG02 t2 are not neighbours).
    assert got == {("I01", "I02"): 2, ("I01", "I03"): 3, ("I02", "I03"): 1}
    assert edges["count"].is_monotonic_decreasing
    assert ((edges["weight"] > 0) & (edges["weight"] <= 1)).all()


def test_cooccurrence_window_zero_is_jaccard_of_turn_sets_and_min_count_filters():
    st, segments = _cooc_inputs()
    edges = maps.cooccurrence_edges(st, segments, window=0, min_count=1)
    row = edges[(edges["source"] == "I01") & (edges["target"] == "I02")].iloc[0]
    # I01 in 3 turns, I02 in 2, together in 1 -> 1 / (3 + 2 - 1)
    assert row["count"] == 1 and row["weight"] == pytest.approx(0.25)
    strong = maps.cooccurrence_edges(st, segments, window=1, min_count=3)
    assert list(zip(strong["source"], strong["target"])) == [("I01", "I03")]


def test_cooccurrence_ignores_dropped_and_copes_with_empty_input():
    st, segments = _cooc_inputs()
    st["integrated_theme"] = ""
    assert maps.cooccurrence_edges(st, segments).empty
    empty = maps.cooccurrence_edges(st.iloc[0:0], segments.iloc[0:0])
    assert list(empty.columns) == ["source", "target", "count", "weight"] and empty.empty
    with pytest.raises(ValueError):
        maps.cooccurrence_edges(st, segments, window=-1)


def test_cooccurrence_on_fixture(tables, cooc):
    assert not cooc.empty and (cooc["count"] >= 3).all()
    assert (cooc["source"] < cooc["target"]).all()
    again = maps.cooccurrence_edges(tables["segment_themes"], tables["segments"], window=1, min_count=3)
    pd.testing.assert_frame_equal(cooc, again)


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
    integrated = _variants(tables)[variant]
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


# --------------------------------------------------------------------------- HTML

def _assert_offline(page: str):
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?//""", page)
    assert not re.search(r"<script[^>]*\bsrc=", page) and "<link" not in page and "@import" not in page
    for url in re.findall(r"url\(([^)]*)\)", page):
        assert url.startswith("#"), url


def _hostile(tables):
    integrated = tables["integrated"].copy()
    integrated.loc[0, "label"] = '<script>alert("x")</script> & known'
    integrated.loc[0, "description"] = "</script><img src=x onerror=alert(1)>"
    gt = tables["group_themes"].copy()
    gt.loc[0, "quote_1"] = "“</script><b>bold</b>” (Ruth, FG01)"
    return integrated, gt


def test_thematic_map_html_is_self_contained_and_escaped(tables, cooc):
    integrated, gt = _hostile(tables)
    quotes = maps.collect_quotes(integrated, gt)
    page = maps.thematic_map_html(integrated, gt, tables["segment_themes"], tables["links"], cooc, PALETTE, LABELS,
                                  quotes)
    _assert_offline(page)
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
    integrated = _variants(tables)[variant]
    page = maps.thematic_map_html(integrated, tables["group_themes"], tables["segment_themes"],
                                  tables["links"].iloc[0:0], pd.DataFrame(), PALETTE, LABELS, {})
    _assert_offline(page)
    assert f'data-node="{integrated["theme_id"].iloc[0]}"' in page


# --------------------------------------------------------------------------- heatmap

def test_heatmap_shows_shares_balance_and_flags(tables):
    fig = maps.plot_theme_group_heatmap(tables["integrated"], list(ct.GROUPS), LABELS)
    texts = [t.get_text() for t in _visible_texts(fig)]
    joined = "\n".join(texts)
    assert "⚠ missing voice: students" in joined
    assert "⚠ missing voice: patients_carers" in joined
    for row in tables["integrated"].itertuples():
        assert f"balance {max(row.balance, 0):.2f}" in joined
        for g in ct.GROUPS:
            assert maps.format_share(getattr(row, f"share_{g}")) in texts
    ticks = {t.get_text(): t for t in fig.axes[0].get_yticklabels()}
    proposed = [k for k in ticks if "(proposed)" in k]
    assert len(proposed) == 1 and proposed[0].startswith("I04") and ticks[proposed[0]].get_fontstyle() == "italic"
    assert all(LABELS[g].split()[0] in " ".join(t.get_text() for t in fig.axes[0].get_xticklabels()) for g in ct.GROUPS)
    assert_inside_figure(fig)
    assert_fonts_readable(fig)


@pytest.mark.parametrize("variant", ["one theme", "missing voices only", "fourteen themes"])
def test_heatmap_edge_cases(tables, variant):
    integrated = _variants(tables)[variant].drop(columns=["share_students"])  # a group without a column
    fig = maps.plot_theme_group_heatmap(integrated, list(ct.GROUPS), LABELS)
    assert "n/a" in [t.get_text() for t in fig.axes[0].texts]
    assert_inside_figure(fig)
    assert_fonts_readable(fig)


# --------------------------------------------------------------------------- lineage

def test_lineage_bands_are_proportional_and_dropped_themes_have_a_node(tables):
    fig = maps.plot_lineage(tables["group_themes"], tables["integrated"], tables["segment_themes"], PALETTE, LABELS)
    ax = fig.axes[0]
    patches = {p.get_gid(): p for p in ax.patches if p.get_gid()}
    assert "node:dropped" in patches
    assert "band:students:T01->dropped" in patches
    flows = tables["segment_themes"].assign(i=tables["segment_themes"]["integrated_theme"].replace("", "dropped"))
    flows = flows.groupby(["group_theme", "i"]).size()
    bands = [k for k in patches if k.startswith("band:")]
    assert len(bands) == len(flows)
    sizes = tables["segment_themes"]["group_theme"].value_counts()
    ratios = [patches[f"node:{g}"].get_height() / n for g, n in sizes.items()]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-6)
    assert_labels_do_not_overlap(fig)
    assert_inside_figure(fig)
    assert_fonts_readable(fig)


@pytest.mark.parametrize("variant", ["one theme", "missing voices only", "fourteen themes"])
def test_lineage_edge_cases(tables, variant):
    integrated = _variants(tables)[variant]
    st = tables["segment_themes"]
    st = st.assign(integrated_theme=[i if i in set(integrated["theme_id"]) else "" for i in st["integrated_theme"]])
    fig = maps.plot_lineage(tables["group_themes"], integrated, st, PALETTE, LABELS)
    assert_labels_do_not_overlap(fig)
    assert_inside_figure(fig)
    page = maps.lineage_html(tables["group_themes"], integrated, st, PALETTE, LABELS)
    _assert_offline(page)


def test_lineage_html_has_hover_titles_and_escapes(tables):
    integrated, gt = _hostile(tables)
    page = maps.lineage_html(gt, integrated, tables["segment_themes"], PALETTE, LABELS)
    _assert_offline(page)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert page.count('class="band"') == tables["segment_themes"].assign(
        i=tables["segment_themes"]["integrated_theme"].replace("", "x")).groupby(["group_theme", "i"]).ngroups
    assert "<title>" in page and "dropped" in page


@pytest.fixture(scope="module")
def split_tables():
    """The fixture after a workshop split students:T02 into two labelled parts (I02 and I04)."""
    tables = ct.make_tables(split=True)
    tables["themes_and_parts"] = maps.with_split_parts(tables["group_themes"], tables["split_parts"])
    return tables


@pytest.mark.parametrize("with_parts_table", [True, False])
def test_lineage_split_theme_flows_to_its_parts_only_and_totals_are_conserved(split_tables, with_parts_table):
    st = split_tables["segment_themes"]
    themes = split_tables["themes_and_parts"] if with_parts_table else split_tables["group_themes"]
    fig = maps.plot_lineage(themes, split_tables["integrated"], st, PALETTE, LABELS)
    ax = fig.axes[0]
    nodes = {p.get_gid()[len("node:"):]: p for p in ax.patches if (p.get_gid() or "").startswith("node:")}
    bands = [p.get_gid() for p in ax.patches if (p.get_gid() or "").startswith("band:")]
    assert "students:T02" not in nodes and not [b for b in bands if b.startswith("band:students:T02->")]
    assert {"band:students:T02.1->I02", "band:students:T02.2->I04"} <= set(bands)
    left = [n for n in nodes if ":" in n]
    right = [n for n in nodes if ":" not in n]
    # one height per segment on both sides: the totals left and right are the segments of the study
    height = sum(nodes[n].get_height() for n in left)
    assert height == pytest.approx(sum(nodes[n].get_height() for n in right), rel=1e-9)
    sizes = st["group_theme"].value_counts()
    assert set(left) == set(sizes.index)
    assert height / len(st) == pytest.approx(nodes["students:T02.1"].get_height() / sizes["students:T02.1"], rel=1e-9)
    labels = {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}
    if with_parts_table:
        assert labels["label:students:T02.1"].startswith("T02.1 Explaining the mask · part of T02 (")
        assert labels["label:students:T02.2"].startswith("T02.2 Staying calm when scared · part of T02 (")
    else:  # without the parts table a part is still named, after its parent
        assert labels["label:students:T02.1"].startswith("T02.1 mask / explain / scared (part 1) · part of T02")
    assert_labels_do_not_overlap(fig)


def test_lineage_html_names_split_parts_and_is_keyboard_focusable(split_tables):
    page = maps.lineage_html(split_tables["themes_and_parts"], split_tables["integrated"],
                             split_tables["segment_themes"], PALETTE, LABELS)
    _assert_offline(page)
    assert 'data-b="I02"' in page and 'data-a="students:T02"' not in page
    focusable = re.findall(r'<g class="node" data-node="([^"]+)" tabindex="0" role="button" aria-label="([^"]+)">'
                           r'<title>([^<]+)</title>', page)
    ids = {node for node, _label, _title in focusable}
    assert {"students:T02.1", "students:T02.2", "I02", "I04", "dropped"} <= ids
    assert all(label == title for _node, label, title in focusable)  # focus tells what hovering tells
    assert "students:T02.1 · Explaining the mask (Student therapeutic radiographers; split from students:T02" in page
    data = json.loads(re.search(r'<script type="application/json" id="lineage-data">(.*?)</script>', page,
                                re.S).group(1))
    assert any("→ I04" in f for f in data["students:T02.2"]["flows"])


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


# --------------------------------------------------------------------------- segment map and dendrogram

@pytest.mark.parametrize("group", ct.GROUPS)
def test_segment_map_pca_labels_and_determinism(tables, group):
    args = (tables["segments"], tables["embeddings"], tables["assignments"], group, tables["group_themes"])
    fig = maps.plot_segment_map(*args, seed=3, method="pca", group_label=LABELS[group])
    offsets = np.vstack([c.get_offsets() for c in fig.axes[0].collections])
    again = maps.plot_segment_map(*args, seed=3, method="pca", group_label=LABELS[group])
    np.testing.assert_array_equal(offsets, np.vstack([c.get_offsets() for c in again.axes[0].collections]))
    n = (tables["segments"]["participant_group"] == group).sum()
    assert len(offsets) == n
    themes = sorted(tables["assignments"].loc[tables["assignments"]["participant_group"] == group, "theme_id"].unique())
    assert sorted(t.get_gid()[len("label:"):] for t in fig.axes[0].texts if t.get_gid()) == themes
    assert "PCA" in fig.texts[1].get_text()
    assert_labels_do_not_overlap(fig)
    assert_inside_figure(fig)
    assert_fonts_readable(fig)


def test_segment_map_umap_when_available(tables):
    pytest.importorskip("umap")
    args = (tables["segments"], tables["embeddings"], tables["assignments"], "students", tables["group_themes"])
    a = maps.plot_segment_map(*args, seed=11)
    b = maps.plot_segment_map(*args, seed=11)
    assert "UMAP" in a.texts[1].get_text()
    np.testing.assert_allclose(np.vstack([c.get_offsets() for c in a.axes[0].collections]),
                               np.vstack([c.get_offsets() for c in b.axes[0].collections]))
    assert_labels_do_not_overlap(a)


def test_segment_map_draws_precomputed_positions(tables):
    """Notebook 06 draws the positions notebook 04 wrote (segment_map.parquet) as they are."""
    coords = maps.segment_positions(tables["segments"], tables["embeddings"], ct.GROUPS, seed=5, method="pca")
    fig = maps.plot_segment_map(tables["segments"], None, tables["assignments"], "students", tables["group_themes"],
                                coords=coords)
    drawn = np.vstack([c.get_offsets() for c in fig.axes[0].collections])
    expected = coords.loc[coords["participant_group"] == "students", ["x", "y"]].to_numpy()
    assert sorted(map(tuple, drawn.round(9))) == sorted(map(tuple, expected.round(9)))
    assert "PCA" in fig.texts[1].get_text()


def test_segment_map_of_a_sample_says_how_many_it_shows(tables):
    n = int((tables["segments"]["participant_group"] == "students").sum())
    coords = maps.segment_positions(tables["segments"], tables["embeddings"], ct.GROUPS, seed=5, method="pca",
                                    max_segments=10)
    assert (coords["participant_group"] == "students").sum() == 10
    fig = maps.plot_segment_map(tables["segments"], None, tables["assignments"], "students", tables["group_themes"],
                                coords=coords)
    assert len(np.vstack([c.get_offsets() for c in fig.axes[0].collections])) == 10
    assert f"10 of {n} segments" in fig.texts[1].get_text()


def test_segment_map_refuses_positions_of_another_run(tables):
    coords = maps.segment_positions(tables["segments"], tables["embeddings"], ct.GROUPS, seed=5, method="pca")
    coords.loc[coords["participant_group"] == "students", "segment_id"] += "-old"
    with pytest.raises(ValueError, match="rerun notebook 04"):
        maps.plot_segment_map(tables["segments"], None, tables["assignments"], "students", tables["group_themes"],
                              coords=coords)


def test_segment_map_rejects_misaligned_embeddings(tables):
    with pytest.raises(ValueError, match="same run"):
        maps.plot_segment_map(tables["segments"], tables["embeddings"][:-1], tables["assignments"], "students",
                              tables["group_themes"])


def test_segment_map_tiny_group(tables):
    seg = tables["segments"].head(3)
    fig = maps.plot_segment_map(seg, tables["embeddings"][:3], tables["assignments"], "radiographers",
                                tables["group_themes"])
    assert_inside_figure(fig)


def test_segment_map_gives_every_segment_a_position_in_its_group():
    seg_a, emb_a = three_theme_group(40, group="staff")
    seg_b, emb_b = three_theme_group(2, seed=1, group="students")
    seg, emb = pd.concat([seg_a, seg_b], ignore_index=True), np.vstack([emb_a, emb_b])
    coords = maps.segment_positions(seg, emb, ["staff", "students"], seed=3)
    assert coords["segment_id"].tolist() == seg["segment_id"].tolist()
    assert set(coords.loc[coords["participant_group"] == "students", "projection"]) == {"PCA"}  # 6 points: too few
    assert np.isfinite(coords[["x", "y"]].to_numpy()).all()
    pd.testing.assert_frame_equal(coords, maps.segment_positions(seg, emb, ["staff", "students"], seed=3))


@pytest.mark.parametrize("group", ct.GROUPS)
def test_dendrogram_lists_every_theme(tables, group):
    fig = maps.plot_theme_dendrogram(tables["hierarchy"], tables["group_themes"], group, LABELS[group], PALETTE[group])
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ids = [t.split(":")[1] for t in tables["group_themes"]["theme_id"] if t.startswith(group + ":")]
    assert sorted(t.split()[0] for t in ticks) == sorted(ids)
    assert_inside_figure(fig)
    assert_fonts_readable(fig)


def test_dendrogram_without_hierarchy_says_so(tables):
    two = tables["group_themes"][tables["group_themes"]["participant_group"] == "students"].head(2)
    fig = maps.plot_theme_dendrogram(tables["hierarchy"].iloc[0:0], two, "students", LABELS["students"])
    assert any("fewer than three themes: no hierarchy" in t.get_text() for t in fig.texts)
    assert_inside_figure(fig)
    fig = maps.plot_theme_dendrogram(pd.DataFrame(), tables["group_themes"], "students")
    assert any("no hierarchy" in t.get_text() for t in fig.texts)



def test_dendrogram_is_scipys_layout_of_the_themes_merge_tree():
    """The figure's leaves, top to bottom, are those of scipy's dendrogram of the linkage
    helpers.themes.merge_tree records (Ward on the themes' c-TF-IDF rows), each merge drawn
    at its distance."""
    from scipy.cluster import hierarchy as sch
    from scipy.spatial.distance import squareform
    from sklearn.metrics.pairwise import cosine_similarity

    from helpers import themes

    weights = np.random.default_rng(3).random((7, 12)) ** 3
    distances = 1 - cosine_similarity(weights)
    np.fill_diagonal(distances, 0)
    linkage = sch.linkage(np.clip(squareform(distances, checks=False), 0, None), "ward", optimal_ordering=True)
    expected = [f"g:T{leaf + 1:02d}" for leaf in sch.dendrogram(linkage, no_plot=True)["leaves"]]
    hierarchy = themes.relabel_hierarchy(themes.merge_tree(weights), {t: t for t in range(7)}, "g")
    group_themes = pd.DataFrame({"participant_group": "g", "theme_id": [f"g:T{t + 1:02d}" for t in range(7)],
                                 "label": [f"theme {t + 1}" for t in range(7)], "n_segments": 10})
    fig = maps.plot_theme_dendrogram(hierarchy, group_themes, "g")
    ax = fig.axes[0]
    assert ["g:" + t.get_text().split()[0] for t in ax.get_yticklabels()] == expected
    heights = sorted({round(float(x), 9) for line in ax.get_lines() for x in line.get_xdata()} - {0.0})
    assert heights == sorted(round(float(d), 9) for d in hierarchy["distance"])
    assert len(ax.get_lines()) == 6


def test_dendrogram_of_a_hand_edited_table_draws_each_tree_and_every_theme():
    """Two trees (a merge deleted by hand), and a theme in neither: the taller tree first,
    then the other, then the theme on its own; nothing drawn twice."""
    hierarchy = pd.DataFrame([
        {"participant_group": "g", "parent": "g:N005", "left": "g:T01", "right": "g:T02", "distance": 0.2},
        {"participant_group": "g", "parent": "g:N006", "left": "g:T03", "right": "g:T04", "distance": 0.5},
        {"participant_group": "g", "parent": "g:N007", "left": "g:N006", "right": "g:T05", "distance": 0.7}])
    group_themes = pd.DataFrame({"participant_group": "g", "theme_id": [f"g:T{t:02d}" for t in range(1, 7)],
                                 "label": "x", "n_segments": 5})
    fig = maps.plot_theme_dendrogram(hierarchy, group_themes, "g")
    ax = fig.axes[0]
    assert [t.get_text().split()[0] for t in ax.get_yticklabels()] == ["T03", "T04", "T05", "T01", "T02", "T06"]
    assert len(ax.get_lines()) == 3
    assert max(x for line in ax.get_lines() for x in line.get_xdata()) == pytest.approx(0.7)
    assert_inside_figure(fig)

# --------------------------------------------------------------------------- saving

def test_save_figure_is_atomic_and_closes(tables, tmp_path):
    from PIL import Image

    fig = maps.plot_theme_group_heatmap(tables["integrated"], list(ct.GROUPS), LABELS)
    paths = maps.save_figure(fig, tmp_path / "figures" / "theme_group_heatmap", formats=("png", "svg"), dpi=200)
    assert [p.name for p in paths] == ["theme_group_heatmap.png", "theme_group_heatmap.svg"]
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["theme_group_heatmap.png",
                                                                      "theme_group_heatmap.svg"]
    with Image.open(paths[0]) as im:
        assert round(im.info["dpi"][0]) == 200
        assert im.size[0] > 1500
    assert "<svg" in paths[1].read_text()[:1000]


def test_save_figure_leaves_nothing_on_failure(tables, tmp_path):
    fig = maps.plot_theme_group_heatmap(tables["integrated"], list(ct.GROUPS), LABELS)
    with pytest.raises(ValueError):
        maps.save_figure(fig, tmp_path / "broken", formats=("no-such-format",))
    assert list(tmp_path.iterdir()) == []


def test_works_on_tables_read_back_as_notebook_06_reads_them(tables, tmp_path):
    """CSV round trip with keep_default_na=False: empty cells are '' and some numbers are strings."""
    out = ct.write_output_dir(tmp_path / "out", tables, figures=False)

    def read(name):
        return pd.read_csv(out / name, keep_default_na=False)
    integrated, group_themes, links, hierarchy = (read(n) for n in ("integrated_themes.csv", "group_themes.csv",
                                                                    "theme_links.csv", "theme_hierarchy.csv"))
    segment_themes = pd.read_parquet(out / "segment_themes.parquet")
    segments = pd.read_parquet(out / "segments.parquet")
    cooc = maps.cooccurrence_edges(segment_themes, segments)
    # quotes keyed by group theme only, as the notebook builds them
    quotes = {r.theme_id: [r[f"quote_{k}"] for k in range(1, 6) if r.get(f"quote_{k}")] for _, r in group_themes.iterrows()}
    page = maps.thematic_map_html(integrated, group_themes, segment_themes, links, cooc, PALETTE, LABELS, quotes)
    details = json.loads(re.search(r'id="map-data">(.*?)</script>', page, re.S).group(1))
    assert all(details[t]["quotes"] for t in integrated["theme_id"])  # integrated themes borrow their sources' quotes
    figs = [maps.plot_thematic_map(integrated, group_themes, segment_themes, links, cooc, PALETTE, LABELS),
            maps.plot_theme_group_heatmap(integrated, list(ct.GROUPS), LABELS),
            maps.plot_lineage(group_themes, integrated, segment_themes, PALETTE, LABELS),
            maps.plot_theme_dendrogram(hierarchy, group_themes, "students")]
    for fig in figs:
        assert_inside_figure(fig)
    assert "⚠ missing voice: students" in "\n".join(t.get_text() for t in _visible_texts(figs[1]))


def test_save_group_figures_writes_a_map_and_a_tree_per_group(tables, tmp_path):
    from contract_tables import GROUP_LABELS, GROUPS

    from helpers.study import group_palette

    written = maps.save_group_figures(tmp_path, tables["segments"], tables["embeddings"], tables["assignments"],
                                      tables["hierarchy"], tables["group_themes"], GROUPS, GROUP_LABELS,
                                      group_palette(GROUPS), seed=3)
    assert sorted(p.name for p in written) == sorted([f"segments_{g}.png" for g in GROUPS] +
                                                     [f"hierarchy_{g}.png" for g in GROUPS])
    assert all(p.stat().st_size > 1000 for p in written)


def test_group_figures_drawn_in_their_own_process_match_those_drawn_here(tables, tmp_path):
    """Notebook 06 draws the per-group figures in a second process; the files must be the
    ones it would have drawn itself."""
    from contract_tables import GROUP_LABELS, GROUPS

    from helpers.study import group_palette

    coords = maps.segment_positions(tables["segments"], tables["embeddings"], GROUPS, seed=3)
    args = (tables["segments"], tables["assignments"], tables["hierarchy"], tables["group_themes"], GROUPS,
            GROUP_LABELS, group_palette(GROUPS))
    here = maps.save_group_figures(tmp_path / "here", args[0], None, *args[1:], coords=coords)
    task = maps.start_group_figures(tmp_path / "there", *args, coords=coords)
    there = task.result()
    assert [p.name for p in there] == [p.name for p in here]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(here, there))


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
