"""Workshop packs: printable theme cards for each co-production workshop (stage 5).

A pack is one page (``templates/workshop_pack.html.j2``, its CSS beside it) with a row
of cards for each discussion: themes from different participant groups that may belong
together. Each card shows a theme's label, keywords, share of its group's talk, caveats,
quotes, and the line that pins it under ``based_on:`` in the workshop file. There is a
pack for every recorded workshop, built from the state just before it, and one for the
next workshop, with its decision template and member snapshot.
"""

from __future__ import annotations

import re
from pathlib import Path
import pandas as pd
from markupsafe import Markup

from ._io import cell_flag, cell_text, write_csv_atomic, write_text_atomic
from ._templates import environment, template_text
from .identity import fingerprint
from .integration import PROPOSAL_THRESHOLD, Integration, IntegrationResult
from .themes import quotes_of
from .workshop_files import Workshop, decision_template, snapshot_table, snapshot_themes

def _quotes_of(group_themes: pd.DataFrame, theme: str, n: int = 5) -> list[str]:
    """Quotes of a group theme; a part made by ``split`` shows its parent's quotes."""
    base = theme.split(".")[0] if re.search(r"\.\d+$", theme) else theme
    return quotes_of(group_themes.loc[base])[:n] if base in group_themes.index else []


def _card(state: Integration, t: str, palette: dict[str, str], group_labels: dict[str, str],
          totals: dict[str, int], members: dict[str, set[str]]) -> dict:
    """What the card of theme ``t`` shows."""
    gt = state.group_themes
    group = state.group_of.get(t, "")
    size = state.segment_count(t)
    share = size / totals[group] if totals.get(group) else 0
    quotes = _quotes_of(gt, t)
    base = t.split(".")[0]
    row = gt.loc[base] if base in gt.index else {}
    pin = fingerprint(members[t]) if t in members else ""
    label = state.labels.get(t, t)
    line = f'{t}: "{pin}"   # {label}' if pin else f"{t}   # {label} (a part made by a split)"
    first = quotes[0] if quotes else ""
    return {"colour": palette.get(group, "#888"), "group": group_labels.get(group, group), "id": t, "pin": pin,
            "label": label, "unstable": cell_flag(row.get("unstable")),
            "keywords": ", ".join(state.keywords.get(t, [])[:8]), "size": size, "share": f"{share:.0%}",
            "caveat": cell_text(row.get("caveat")), "quotes": quotes[:5],
            # the based_on: entry, with the theme's first quote as a comment to recognise it by
            "pin_line": line + (f"\n# {first[:120]}" if first else "")}


def workshop_pack(title: str, subtitle: str, candidate_sets: list[list[str]], state: Integration,
                  palette: dict[str, str], group_labels: dict[str, str], members: dict[str, set[str]],
                  banner: str = "") -> str:
    """One printable page of theme cards; each row holds themes to discuss together.
    ``banner``: a warning printed above everything (unreviewed identifying details)."""
    totals = {g: sum(1 for s, t in state.segment_theme.items() if state.group_of.get(t) == g) for g in group_labels}
    rows = [[_card(state, t, palette, group_labels, totals, members) for t in themes] for themes in candidate_sets]
    # the stylesheets are files of this package: markup, not text to escape
    return environment(html_module_entities=True).get_template("workshop_pack.html.j2").render(
        title=title, subtitle=subtitle, banner=banner, rows=rows, css=Markup(template_text("workshop_pack.css")),
        warning_css=Markup(template_text("workshop_pack_warning.css")))


def workshop_packs(result: IntegrationResult, palette: dict[str, str], group_labels: dict[str, str],
                   study_title: str, workshops: list[Workshop],
                   proposal_threshold: float = PROPOSAL_THRESHOLD, banner: str = "") -> dict[str, str]:
    """A pack for each recorded workshop, built from the state just before it, and one
    for the next workshop (the integrated themes so far plus proposals for the rest);
    each carries ``banner`` as a warning when it is given."""
    titles = {w.name: (w.title, (f"{w.date} · " if w.date else "") + "Decisions recorded in " + w.path.name)
              for w in workshops}
    packs = {}
    for name, state in result.before.items():
        rows = [list(th.sources) for th in state.integrated.values() if not th.dropped] + state.propose(
            proposal_threshold)
        title, subtitle = titles.get(name, (f"Workshop {name.split('_')[-1]} (next)",
                                            "Proposed alignment for the next workshop: no decisions recorded yet"))
        packs[name] = workshop_pack(f"{study_title} — {title}", subtitle, rows, state, palette, group_labels,
                                    result.members, banner)
    return packs


def next_workshop_files(result: IntegrationResult, group_ids: list[str]) -> dict[str, str | pd.DataFrame]:
    """The decision template and the member snapshot for the next workshop, named
    ``workshop_N.template.yml`` and ``workshop_N.snapshot.csv``."""
    state = result.before[f"workshop_{result.next_workshop}"]
    on_table = sorted(t for t in state.group_of if t in result.members and t not in state.dropped)
    snapshot = f"workshop_{result.next_workshop}.snapshot.csv"
    return {f"workshop_{result.next_workshop}.template.yml":
            decision_template(result.next_workshop, group_ids, state.group_themes, result.members, on_table, snapshot),
            snapshot: snapshot_table(result.members, snapshot_themes(result.members, on_table))}


def write_workshop_packs(folder: Path, packs: dict[str, str], extra: dict | None = None) -> list[Path]:
    """Write each pack as ``<folder>/<name>.html`` and the next workshop's template and
    snapshot (atomically); return the paths."""
    paths = [write_text_atomic(Path(folder) / f"{name}.html", page) for name, page in sorted(packs.items())]
    for name, content in sorted((extra or {}).items()):
        path = Path(folder) / name
        paths.append(write_csv_atomic(content, path) if isinstance(content, pd.DataFrame)
                     else write_text_atomic(path, content))
    return paths
