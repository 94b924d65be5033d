"""The interactive figure pages of stage 6 and their inline SVG, from the templates under
``helpers/templates/maps/``: the page every interactive figure shares (the figure, its
legend, the side panel its script fills in, the data the script reads), and the text of
the SVG drawings. Numbers are written in the templates (``|decimals(n)``); the drawings
compute where things go.
"""

from __future__ import annotations

import json
from importlib import resources

from markupsafe import Markup

from .._io import cell_text as _text
from .._templates import environment
from ._common import DARK


def asset_text(name: str) -> str:
    """A CSS or JavaScript file of the figure pages (package data under ``maps/assets``)."""
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


def _decimals(value: float, places: int) -> str:
    return f"{value:.{places}f}"


def render(name: str, **context) -> str:
    """``templates/maps/<name>`` rendered with ``context``. Values are escaped with
    :func:`html.escape`'s entities, as these pages were before they had templates."""
    env = environment("maps", html_module_entities=True)
    env.filters["decimals"] = _decimals
    return env.get_template(name).render(**context)


def json_text(payload) -> str:
    """JSON to put inside a <script> element, safe against ``</script>`` and HTML parsing."""
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def figure_page(title: str, subtitle: str, figure: str, legend: list[dict], hint: str, data_id: str, data,
                script: str) -> str:
    """A self-contained figure page: ``figure`` (inline SVG from :func:`render`), its
    ``legend`` (:func:`legend_items`), a side panel that says ``hint`` until the script
    (``maps/assets/<script>``) fills it from ``data``."""
    # Markup: the SVG is this package's own rendering (its text escaped there), the JSON is
    # made safe for a <script> element by json_text, the CSS and script are package files.
    return render("page.html.j2", title=_text(title), subtitle=_text(subtitle), css=Markup(asset_text("figure.css")),
                  figure=Markup(figure), legend=legend, hint=hint, data_id=data_id, data=Markup(json_text(data)),
                  script=Markup(asset_text(script)))


def legend_items(palette: dict[str, str], group_labels: dict[str, str], extra=()) -> list[dict]:
    """The legend of a page: a colour chip for each group, then the ``extra`` notes."""
    return ([{"colour": _text(c), "label": _text(group_labels.get(g, g))} for g, c in palette.items()]
            + [{"colour": None, "label": _text(x)} for x in extra])


def svg_text(x, y, text: str, size_px: float, anchor="middle", weight="normal", style="normal",
             fill=DARK, cls="halo") -> dict:
    """A label of an SVG drawing (``svg_macros.j2``'s ``text``), its lines centred on ``y``."""
    lines = text.split("\n")
    lh = size_px * 1.2
    first = y - (len(lines) - 1) * lh / 2 + 0.35 * size_px
    return {"anchor": anchor, "size": size_px, "weight": weight, "style": style, "fill": fill, "cls": cls,
            "lines": [{"x": x, "y": first + i * lh, "text": line} for i, line in enumerate(lines)]}
