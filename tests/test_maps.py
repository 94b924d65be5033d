"""Stage 6: co-occurrence, heatmap, lineage, segment maps, dendrograms, and saving the
figures. The thematic map is tests/test_thematic_map.py."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import contract_tables as ct
from helpers import maps
from theme_groups import three_theme_group

# the fixtures (tables, cooc, split_tables) are imported for pytest to find
from map_checks import (LABELS, PALETTE, assert_fonts_readable, assert_inside_figure, assert_labels_do_not_overlap,
                        assert_offline, cooc, hostile, split_tables, tables, variants, visible_texts)  # noqa: F401


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


# --------------------------------------------------------------------------- heatmap

def test_heatmap_shows_shares_balance_and_flags(tables):
    fig = maps.plot_theme_group_heatmap(tables["integrated"], list(ct.GROUPS), LABELS)
    texts = [t.get_text() for t in visible_texts(fig)]
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
    integrated = variants(tables)[variant].drop(columns=["share_students"])  # a group without a column
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
    integrated = variants(tables)[variant]
    st = tables["segment_themes"]
    st = st.assign(integrated_theme=[i if i in set(integrated["theme_id"]) else "" for i in st["integrated_theme"]])
    fig = maps.plot_lineage(tables["group_themes"], integrated, st, PALETTE, LABELS)
    assert_labels_do_not_overlap(fig)
    assert_inside_figure(fig)
    page = maps.lineage_html(tables["group_themes"], integrated, st, PALETTE, LABELS)
    assert_offline(page)


def test_lineage_html_has_hover_titles_and_escapes(tables):
    integrated, gt = hostile(tables)
    page = maps.lineage_html(gt, integrated, tables["segment_themes"], PALETTE, LABELS)
    assert_offline(page)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert page.count('class="band"') == tables["segment_themes"].assign(
        i=tables["segment_themes"]["integrated_theme"].replace("", "x")).groupby(["group_theme", "i"]).ngroups
    assert "<title>" in page and "dropped" in page


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
    assert_offline(page)
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
    assert "⚠ missing voice: students" in "\n".join(t.get_text() for t in visible_texts(figs[1]))


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
