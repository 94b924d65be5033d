"""What the tests of stage 6 share (tests/test_maps.py, tests/test_thematic_map.py): the
contract-shaped tables and their co-occurrence edges, the fixture after a workshop split
a theme, edge cases, hostile labels, and checks that labels do not overlap, stay inside
the figure and are readable, and that a page is self-contained.
"""

from __future__ import annotations

import itertools
import re

import pandas as pd
import pytest
from matplotlib.text import Text

import contract_tables as ct
from helpers import maps
from helpers.study import group_palette

PALETTE = group_palette(ct.GROUPS)
LABELS = ct.GROUP_LABELS


@pytest.fixture(scope="module")
def tables():
    return ct.make_tables()


@pytest.fixture(scope="module")
def cooc(tables):
    return maps.cooccurrence_edges(tables["segment_themes"], tables["segments"], window=1, min_count=3)


@pytest.fixture(scope="module")
def split_tables():
    """The fixture after a workshop split students:T02 into two labelled parts (I02 and I04)."""
    tables = ct.make_tables(split=True)
    tables["themes_and_parts"] = maps.with_split_parts(tables["group_themes"], tables["split_parts"])
    return tables


# --------------------------------------------------------------------------- helpers

def visible_texts(fig):
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
    small = [(t.get_text(), t.get_fontsize()) for t in visible_texts(fig) if t.get_fontsize() < minimum - 1e-9]
    assert not small, f"text smaller than {minimum} pt: {small[:5]}"


def variants(t):
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


def assert_offline(page: str):
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?//""", page)
    assert not re.search(r"<script[^>]*\bsrc=", page) and "<link" not in page and "@import" not in page
    for url in re.findall(r"url\(([^)]*)\)", page):
        assert url.startswith("#"), url


def hostile(tables):
    integrated = tables["integrated"].copy()
    integrated.loc[0, "label"] = '<script>alert("x")</script> & known'
    integrated.loc[0, "description"] = "</script><img src=x onerror=alert(1)>"
    gt = tables["group_themes"].copy()
    gt.loc[0, "quote_1"] = "“</script><b>bold</b>” (Ruth, FG01)"
    return integrated, gt
