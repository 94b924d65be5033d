"""The Jinja2 templates the pages are rendered from: files under ``helpers/templates/``,
read with importlib.resources (so they work from an installed package as from the
source tree), with their CSS beside them.

Autoescape is always on: a value a template prints is escaped unless it is markup the
code built itself and marked safe. Undefined names are an error, not an empty string.
``trim_blocks`` and ``lstrip_blocks`` let a template lay out its blocks on lines of
their own without those lines reaching the page; ``keep_trailing_newline`` keeps a
page's last line break.
"""

from __future__ import annotations

import html
from importlib import resources

import jinja2
from markupsafe import Markup


def template_text(name: str) -> str:
    """A file under ``helpers/templates/`` (``name`` with ``/`` between folders)."""
    return resources.files("helpers").joinpath("templates", *name.split("/")).read_text(encoding="utf-8")


def _escaped_by_html_module(value):
    """``value`` escaped as :func:`html.escape` escapes it (quotes as ``&quot;`` and
    ``&#x27;``, where markupsafe writes ``&#34;`` and ``&#39;``); markup passes as it is."""
    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value)))


def environment(folder: str = "", *, html_module_entities: bool = False) -> jinja2.Environment:
    """An environment for the templates under ``helpers/templates/<folder>/``.

    ``html_module_entities``: escape printed values with :func:`html.escape`'s entities
    rather than markupsafe's, for the pages (workshop packs, map pages) that were built
    with :func:`html.escape` before they had templates and must stay byte for byte the
    same. Either way every printed value is escaped.
    """
    prefix = f"{folder}/" if folder else ""

    def source(name: str):
        try:
            return template_text(prefix + name), None, lambda: True
        except FileNotFoundError:
            return None   # Jinja says which template is missing

    return jinja2.Environment(loader=jinja2.FunctionLoader(source), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True,
                              finalize=_escaped_by_html_module if html_module_entities else None)
