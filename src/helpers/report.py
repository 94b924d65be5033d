"""The study report: one self-contained HTML page built from the files of a run.

``build_report(output_dir, study)`` reads the contract files under ``output_dir`` (see
docs/data_contracts.md) and returns one HTML page: every figure embedded as a base64
data URI, inline CSS, no scripts, no fonts, no external requests of any kind, and a
print stylesheet for A4. A file that is missing or unreadable makes its section say so
plainly; the report is still built. All text from data is escaped.

The report does not reprint identifying details: the disclosure section gives counts
only, never the matched strings.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from pathlib import Path

import pandas as pd

from ._io import cell_list as _split
from ._io import cell_text as _text
from ._io import html_text as _e
from ._io import cell_flag, write_text_atomic
from .study import Study, group_palette
from .themes import quotes_of

REPORT = "report.html"

#: Which notebook writes each file (for "not available" messages).
WRITTEN_BY = {
    "talk_share.csv": "02_describe_groups", "figures/talk_share.png": "02_describe_groups",
    "group_themes.csv": "04_group_themes", "theme_quality.csv": "04_group_themes",
    "integrated_themes.csv": "05_coproduction_workshops", "theme_links.csv": "05_coproduction_workshops",
    "framework.csv": "05_coproduction_workshops", "definition.md": "05_coproduction_workshops",
    "figures/thematic_map.png": "06_thematic_maps", "figures/theme_group_heatmap.png": "06_thematic_maps",
    "figures/theme_lineage.png": "06_thematic_maps", "disclosures.csv": "01_ingest_transcripts",
    "run_manifest.json": "the final step of `make all`", "figures/process_model.png": "00_process_model",
}

SECTIONS = (
    ("design", "Study design"),
    ("talk", "Who spoke"),
    ("themes", "Themes of each participant group"),
    ("quality", "Theme quality"),
    ("integrated", "Integrated themes"),
    ("maps", "Thematic maps"),
    ("definition", "Co-produced definition and framework"),
    ("agreement", "Agreement with human coding"),
    ("disclosure", "Disclosure status"),
    ("reproducibility", "Reproducibility"),
)

CSS = """
:root{--ink:#1f1f1f;--mid:#555;--line:#d9d9d9;--soft:#f6f6f4;--warn:#8B1A1A;--accent:#4477AA}
*{box-sizing:border-box}
html{font-size:15px}
body{margin:0 auto;max-width:62rem;padding:1.5rem 1.75rem 3rem;color:var(--ink);background:#fff;
  font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;line-height:1.5}
h1{font-size:1.7rem;line-height:1.25;margin:.2rem 0 .3rem}
h2{font-size:1.3rem;margin:2.2rem 0 .6rem;padding-bottom:.25rem;border-bottom:2px solid var(--ink)}
h3{font-size:1.08rem;margin:1.4rem 0 .4rem}
h4{font-size:.98rem;margin:.9rem 0 .25rem}
p.lead{color:var(--mid);margin:.1rem 0 1rem}
.banner{border:2px solid var(--warn);background:#fbeeee;color:var(--warn);padding:.6rem .9rem;border-radius:6px;
  font-weight:600;margin:.8rem 0 1rem}
.banner span{display:block;font-weight:400;color:var(--ink);font-size:.92rem}
nav.toc{background:var(--soft);border-radius:6px;padding:.6rem 1rem;margin:1rem 0}
nav.toc ol{margin:.2rem 0;padding-left:1.4rem;columns:2}
nav.toc a{color:var(--ink)}
.wide{overflow-x:auto;margin:.5rem 0 1rem}
table{border-collapse:collapse;width:100%;font-size:.84rem}
th,td{border-bottom:1px solid var(--line);padding:.3rem .4rem;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600;vertical-align:bottom;hyphens:auto}
td{overflow-wrap:break-word}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.num{white-space:nowrap;overflow-wrap:normal}
tr.proposed td{font-style:italic;background:#fafaf2}
.missing{border-left:4px solid var(--line);background:var(--soft);padding:.5rem .8rem;color:var(--mid)}
.flag{color:var(--warn);font-weight:600}
.warn{border-left:4px solid var(--warn);background:#fbeeee;padding:.5rem .8rem}
figure{margin:1rem 0 1.4rem;text-align:center}
figure img{max-width:100%;height:auto;border:1px solid var(--line)}
figcaption{font-size:.86rem;color:var(--mid);margin-top:.3rem}
.theme{border:1px solid var(--line);border-radius:6px;padding:.5rem .8rem;margin:.6rem 0}
.theme h4{margin:.1rem 0 .2rem}
.theme p{margin:.15rem 0}
.meta{color:var(--mid);font-size:.86rem}
blockquote{margin:.35rem 0 .35rem .2rem;padding:.15rem .7rem;border-left:3px solid var(--line);font-size:.9rem}
.chip{display:inline-block;width:.8rem;height:.8rem;border-radius:50%;margin-right:.35rem;vertical-align:-.05rem;
  print-color-adjust:exact;-webkit-print-color-adjust:exact}
code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.85rem}
pre{background:var(--soft);padding:.6rem .8rem;border-radius:6px;white-space:pre-wrap}
.definition{background:var(--soft);border-radius:6px;padding:.4rem 1rem}
footer{margin-top:3rem;color:var(--mid);font-size:.82rem;border-top:1px solid var(--line);padding-top:.5rem}
@media print{
  @page{size:A4;margin:16mm 14mm}
  html{font-size:10.5pt}
  body{max-width:none;padding:0}
  nav.toc{display:none}
  h2{break-after:avoid;page-break-after:avoid}
  h3,h4{break-after:avoid;page-break-after:avoid}
  figure,.theme,tr,blockquote,.banner{break-inside:avoid;page-break-inside:avoid}
  .wide{overflow:visible}
  table{font-size:8.5pt}
  figure img{max-height:235mm;border:none}
  section#maps,section#reproducibility{break-before:page;page-break-before:always}
  .banner,tr.proposed td,th{print-color-adjust:exact;-webkit-print-color-adjust:exact}
  a{color:inherit;text-decoration:none}
}
"""


class _Missing(Exception):
    """A file the section needs is not in the output folder."""


# --------------------------------------------------------------------------- small helpers

def _num(value):
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def _fmt(value, kind: str = "num") -> str:
    v = _num(value)
    if v is None:
        return _e(value) if _text(value) else "–"
    if kind == "pct":
        return f"{v * 100:.0f}%"
    if kind == "int":
        return f"{v:,.0f}"
    if kind == "sec":
        return f"{v:,.1f}"
    if kind == "dec":
        return f"{v:.2f}"
    if float(v).is_integer() and abs(v) < 1e9:
        return f"{v:,.0f}"
    return f"{v:.2f}"


def _missing(name: str) -> str:
    who = WRITTEN_BY.get(name)
    hint = f" It is written by notebook {who}." if who and not who.startswith("the ") else (
        f" It is written by {who}." if who else "")
    return f'<p class="missing">Not available: <code>{_e(name)}</code> was not found in the output folder.{_e(hint)}</p>'


def _read_csv(out: Path, name: str) -> pd.DataFrame:
    path = out / name
    if not path.is_file():
        raise _Missing(name)
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _rows_or_message(out: Path, name: str, needed: set[str], empty: str) -> tuple[pd.DataFrame | None, str]:
    """A section's table, or the message the section shows instead (missing, or no rows)."""
    try:
        df = _read_csv(out, name)
    except _Missing as exc:
        return None, _missing(str(exc))
    if df.empty or not needed <= set(df.columns):
        return None, f'<p class="missing">{name} {empty}.</p>'
    return df, ""


def _table(df: pd.DataFrame, columns: list[tuple[str, str, str]], row_class=None) -> str:
    """``columns``: (column, heading, kind); kind is text, html (already escaped), flags, or a number
    format: num, int, pct, sec, dec."""
    if df is None or df.empty:
        return '<p class="missing">No rows.</p>'
    numeric = ("num", "int", "pct", "sec", "dec")
    head = "".join(f'<th class="{"num" if kind in numeric else ""}">{_e(title)}</th>'
                   for _c, title, kind in columns)
    rows = []
    for rec in df.to_dict("records"):
        cells = []
        for col, _title, kind in columns:
            value = rec.get(col)
            if kind == "text":
                cells.append(f"<td>{_e(value)}</td>")
            elif kind == "html":
                cells.append(f"<td>{value}</td>")
            elif kind == "flags":
                flags = _split(value)
                cells.append("<td>" + "<br>".join(f'<span class="flag">⚠ {_e(f)}</span>' for f in flags) + "</td>")
            else:
                cells.append(f'<td class="num">{_fmt(value, kind)}</td>')
        cls = row_class(rec) if row_class else ""
        attr = f' class="{_e(cls)}"' if cls else ""
        rows.append(f"<tr{attr}>{''.join(cells)}</tr>")
    return f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".gif": "image/gif", ".webp": "image/webp"}


def _image(path: Path, alt: str, caption: str = "") -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{_e(alt)}" src="data:{mime};base64,{data}">{cap}</figure>'


def _figure(out: Path, name: str, alt: str, caption: str = "") -> str:
    path = out / name
    if not path.is_file():
        svg = path.with_suffix(".svg")
        if svg.is_file():
            return _image(svg, alt, caption)
        return _missing(name)
    return _image(path, alt, caption)


def _inline_md(text: str) -> str:
    """Escaped text with **bold**, *italic*/_italic_ and `code`; links keep their text only."""
    text = html.escape(text, quote=True)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", text)
    text = re.sub(r"(?<![\w])_(?!\s)(.+?)(?<!\s)_(?![\w])", r"<em>\1</em>", text)
    return text


def markdown_to_html(markdown: str, top_level: int = 3) -> str:
    """A small, safe Markdown subset: headings, paragraphs, bullet and numbered lists,
    block quotes, emphasis and code. Headings start at ``<h{top_level}>``; no raw HTML
    and no links survive (everything is escaped)."""
    out, para, items, list_tag = [], [], [], None

    def flush():
        nonlocal para, items, list_tag
        if para:
            out.append(f"<p>{_inline_md(' '.join(para))}</p>")
            para = []
        if items:
            out.append(f"<{list_tag}>" + "".join(f"<li>{_inline_md(i)}</li>" for i in items) + f"</{list_tag}>")
            items, list_tag = [], None

    for raw in markdown.splitlines():
        line = raw.rstrip()
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        bullet = re.match(r"^\s*[-*+]\s+(.*)$", line)
        number = re.match(r"^\s*\d+[.)]\s+(.*)$", line)
        quote = re.match(r"^\s*>\s?(.*)$", line)
        if not line.strip():
            flush()
        elif heading:
            flush()
            level = min(6, len(heading.group(1)) + top_level - 1)
            out.append(f"<h{level}>{_inline_md(heading.group(2).strip())}</h{level}>")
        elif bullet or number:
            tag = "ul" if bullet else "ol"
            if para or (list_tag and list_tag != tag):
                flush()
            list_tag = tag
            items.append((bullet or number).group(1))
        elif quote:
            flush()
            out.append(f"<blockquote>{_inline_md(quote.group(1))}</blockquote>")
        elif items and raw.startswith((" ", "\t")):
            items[-1] += " " + line.strip()
        else:
            if items:
                flush()
            para.append(line.strip())
    flush()
    return "\n".join(out)


def _group_label(study: Study, group: str) -> str:
    return study.group_labels.get(group, group)


def _ordered_groups(study: Study, present) -> list[str]:
    present = [g for g in dict.fromkeys(_text(p) for p in present) if g]
    return [g for g in study.group_ids if g in present] + [g for g in present if g not in study.group_ids]


def _chip(colour: str) -> str:
    return f'<span class="chip" style="background:{_e(colour)}"></span>'


# --------------------------------------------------------------------------- sections

def _design(out: Path, study: Study) -> str:
    palette = group_palette(study.group_ids)
    parts = [f"<p><strong>{_e(study.title)}</strong> (study <code>{_e(study.name)}</code>): "
             f"{len(study.focus_groups)} focus groups, run independently, in {len(study.participant_groups)} "
             f"participant groups; {len(study.workshops)} co-production workshop file"
             f"{'s' if len(study.workshops) != 1 else ''}.</p>"]
    rows = []
    for g in study.participant_groups:
        fgs = [fg.id for fg in study.focus_groups if fg.participant_group == g.id]
        rows.append({"group": g.id, "label": g.label, "n": len(fgs), "fgs": ", ".join(fgs)})
    head = "<tr><th>participant group</th><th>id</th><th class=\"num\">focus groups</th><th>which</th></tr>"
    body = "".join(f"<tr><td>{_chip(palette[r['group']])}{_e(r['label'])}</td><td><code>{_e(r['group'])}</code></td>"
                   f"<td class=\"num\">{r['n']}</td><td>{_e(r['fgs'])}</td></tr>" for r in rows)
    parts.append(f"<h3>Participant groups</h3><table><thead>{head}</thead><tbody>{body}</tbody></table>")
    fg_rows = "".join(
        f"<tr><td>{_e(fg.id)}</td><td>{_e(_group_label(study, fg.participant_group))}</td>"
        f"<td><code>{_e(Path(fg.transcript).name)}</code></td><td>{_e(', '.join(fg.facilitators))}</td>"
        f"<td>{_e(fg.date or '')}</td></tr>" for fg in study.focus_groups)
    parts.append("<h3>Focus groups</h3><table><thead><tr><th>focus group</th><th>participant group</th>"
                 f"<th>transcript</th><th>facilitators</th><th>date</th></tr></thead><tbody>{fg_rows}</tbody></table>")
    if study.workshops:
        parts.append("<h3>Co-production workshops</h3><ol>" + "".join(
            f"<li><code>{_e(Path(w).name)}</code></li>" for w in study.workshops) + "</ol>")
    else:
        parts.append("<p>No workshop decision files yet: the integration shown is the pipeline's proposal for the "
                     "first workshop to discuss.</p>")
    if (out / "figures" / "process_model.png").is_file():
        parts.append(_figure(out, "figures/process_model.png", "The co-production process model",
                             "The co-production process model: each stage is one notebook and one set of files."))
    return "\n".join(parts)


def _talk(out: Path, study: Study) -> str:
    parts = []
    try:
        ts = _read_csv(out, "talk_share.csv")
        if "level" in ts.columns:
            order = {"study": 0, "participant_group": 1, "focus_group": 2}
            ts = ts.assign(_o=ts["level"].map(lambda v: order.get(_text(v), 3))).sort_values(["_o"], kind="stable")
        names = {"participant_group": "group", "focus_group": "focus group"}
        ts = ts.assign(level=ts.get("level", pd.Series(dtype=str)).map(lambda v: names.get(_text(v), _text(v))))
        if "participant_group" in ts.columns:
            ts["participant_group"] = ts["participant_group"].map(
                lambda g: "all" if _text(g) == "all" else _group_label(study, _text(g)))
        parts.append("<p>Focus groups are uneven: some participants dominate, some hardly speak, and a facilitator "
                     "who talks a lot shapes the data. Gini 0 means everyone spoke equally; towards 1, one voice.</p>")
        parts.append(_table(ts, [("level", "level", "text"), ("id", "id", "text"),
                                 ("participant_group", "participant group", "text"),
                                 ("n_focus_groups", "focus groups", "int"), ("n_participants", "participants", "int"),
                                 ("participant_turns", "participant turns", "int"),
                                 ("participant_words", "participant words", "int"),
                                 ("facilitator_share_of_words", "facilitator share", "pct"),
                                 ("gini_participant_words", "Gini", "dec"),
                                 ("top_speaker_share", "top speaker share", "pct")]))
    except _Missing as exc:
        parts.append(_missing(str(exc)))
    parts.append(_figure(out, "figures/talk_share.png", "Share of words per participant in each focus group",
                         "Each block is one participant's share of the words, largest first; grey is the facilitator."))
    parts += _optional_notes(out, "talk_gaps.csv", "note", "Where nobody but the facilitator spoke:")
    parts += _optional_notes(out, "ingest_warnings.csv", "message",
                             "Read faithfully, but worth a look (from reading the transcripts):")
    return "\n".join(parts)


def _optional_notes(out: Path, name: str, column: str, lead: str) -> list[str]:
    """A list of one-sentence notes from ``name``, or nothing when it is absent or empty."""
    try:
        notes = _read_csv(out, name)
    except _Missing:
        return []
    if notes.empty or column not in notes.columns:
        return []
    items = "".join(f"<li>{_e(n)}</li>" for n in notes[column].map(_text) if n)
    return [f'<p class="flag">{_e(lead)}</p><ul>{items}</ul>']


def _quotes(rec: dict, n: int = 3) -> list[str]:
    return quotes_of(rec)[:n]


def _themes(out: Path, study: Study) -> str:
    gt, message = _rows_or_message(out, "group_themes.csv", {"theme_id"}, "has no themes")
    if gt is None:
        return message
    palette = group_palette(study.group_ids)
    groups = _ordered_groups(study, gt.get("participant_group", pd.Series(dtype=str)))
    parts = ["<p>Each participant group's data set was analysed on its own (stage 4). Labels are provisional, made "
             "from each theme's keywords; quotes are pseudonymised and chosen to be typical of the theme and to come "
             "from different speakers.</p>"]
    for g in groups:
        rows = gt[gt["participant_group"].map(_text) == g]
        parts.append(f"<h3>{_chip(palette.get(g, '#BBBBBB'))}{_e(_group_label(study, g))} "
                     f"<span class=\"meta\">({len(rows)} theme{'s' if len(rows) != 1 else ''})</span></h3>")
        for rec in rows.to_dict("records"):
            meta = (f"{_fmt(rec.get('n_segments'), 'int')} segments · {_fmt(rec.get('n_speakers'), 'int')} speakers · "
                    f"{_fmt(rec.get('n_focus_groups'), 'int')} focus groups · {_fmt(rec.get('share_of_group'), 'pct')} "
                    "of the group's segments")
            if _text(rec.get("fingerprint")):
                meta += f" · fingerprint {_text(rec.get('fingerprint'))}"
            quotes = "".join(f"<blockquote>{_e(q)}</blockquote>" for q in _quotes(rec))
            unstable = ' <span class="flag">⚠ unstable</span>' if cell_flag(rec.get("unstable")) else ""
            caveat = f'<p class="flag">⚠ {_e(_text(rec.get("caveat")))}</p>' if _text(rec.get("caveat")) else ""
            parts.append(f'<div class="theme"><h4><code>{_e(rec.get("theme_id"))}</code> {_e(rec.get("label"))}'
                         f'{unstable}</h4><p class="meta">{meta}</p>{caveat}'
                         f'<p><strong>Keywords:</strong> {_e(rec.get("keywords"))}</p>{quotes}</div>')
    return "\n".join(parts)


_QUALITY_COLS = (
    ("n_themes", "consensus", "themes", "int"),
    ("largest_share", "consensus", "largest theme", "pct"),
    ("consensus_mean", "consensus", "mean consensus", "dec"),
    ("stability_ari_mean", "consensus", "stability (ARI, resampled runs)", "dec"),
    ("coherence_cv_mean", "consensus", "c_v", "dec"),
    ("coherence_cv_mean", "lda", "c_v, LDA", "dec"),
    ("coherence_cv_mean", "kmeans", "c_v, k-means", "dec"),
    ("coherence_npmi_mean", "consensus", "NPMI", "dec"),
    ("coherence_npmi_mean", "lda", "NPMI, LDA", "dec"),
    ("coherence_npmi_mean", "kmeans", "NPMI, k-means", "dec"),
)


def _quality(out: Path, study: Study) -> str:
    q, message = _rows_or_message(out, "theme_quality.csv", {"participant_group", "scope", "model", "metric", "value"},
                                  "has no rows in the expected columns")
    if q is None:
        return message
    parts = ["<p>How far to trust each group's themes. <em>Consensus</em> (0 to 1) is how often a theme's members "
             "were grouped together across the seeded runs on resamples; <em>stability</em> (adjusted Rand index, "
             "0 = chance, 1 = identical) compares those runs with the reported themes. <em>Coherence</em> (gensim's "
             "c_v, 0 to 1, and NPMI, −1 to 1) is how often a theme's top words occur together in that group's turns; "
             "LDA and k-means given the same number of themes are the baselines, and may score higher.</p>"]
    q = q.assign(participant_group=q["participant_group"].map(_text), scope=q["scope"].map(_text),
                 model=q["model"].map(lambda v: _text(v).lower()), metric=q["metric"].map(_text))
    group_rows = q[q["scope"] == "group"]
    rows = []
    for g in _ordered_groups(study, q["participant_group"]):
        sub = group_rows[group_rows["participant_group"] == g]
        rec = {"group": _group_label(study, g)}
        for metric, model, title, _kind in _QUALITY_COLS:
            hit = sub[(sub["metric"] == metric) & (sub["model"] == model)]["value"]
            rec[title] = hit.iloc[0] if len(hit) else None
        rows.append(rec)
    parts.append("<h3>Per participant group, beside LDA and k-means</h3>")
    parts.append(_table(pd.DataFrame(rows), [("group", "participant group", "text")]
                        + [(title, title, kind) for _m, _mod, title, kind in _QUALITY_COLS]))
    per_theme = q[(q["scope"] != "group") & q["metric"].isin(["consensus", "coherence_npmi"])]
    if not per_theme.empty:
        wide = per_theme.pivot_table(index=["participant_group", "scope"], columns="metric", values="value",
                                     aggfunc="first").reset_index()
        for col in ("consensus", "coherence_npmi"):
            if col not in wide.columns:
                wide[col] = None
        wide["note"] = [("unstable: check before naming" if _num(v) is not None and _num(v) < 0.5 else "")
                        for v in wide["consensus"]]
        rank = {g: k for k, g in enumerate(_ordered_groups(study, wide["participant_group"]))}
        wide = wide.assign(_r=wide["participant_group"].map(rank)).sort_values(["_r", "scope"], kind="stable")
        wide["participant_group"] = wide["participant_group"].map(lambda g: _group_label(study, g))
        parts.append("<h3>Per theme</h3><p>Consensus is the mean share of runs in which two of the theme's members "
                     "were grouped together; below 0.5 the theme is marked unstable.</p>")
        parts.append(_table(wide, [("participant_group", "participant group", "text"), ("scope", "theme", "text"),
                                   ("consensus", "consensus", "dec"),
                                   ("coherence_npmi", "coherence (NPMI)", "dec"), ("note", "note", "text")]))
    return "\n".join(parts)


def _integrated(out: Path, study: Study) -> str:
    it, message = _rows_or_message(out, "integrated_themes.csv", {"theme_id"}, "has no themes")
    if it is None:
        return message
    share_cols = [c for c in it.columns if str(c).startswith("share_")]
    groups = _ordered_groups(study, [c[len("share_"):] for c in share_cols])
    it = it.assign(sources=it.get("source_themes", pd.Series([""] * len(it))).map(lambda v: ", ".join(_split(v))),
                   theme=[f"<code>{_e(i)}</code> {_e(lab)}" for i, lab in zip(it["theme_id"], it.get("label", it["theme_id"]))])
    n_prop = sum(_text(s).lower() == "proposed" for s in it.get("status", []))
    parts = [f"<p>{len(it)} integrated theme{'s' if len(it) != 1 else ''} from the co-production workshops"
             f"{f', {n_prop} still proposed (in italics)' if n_prop else ''}. Each share is the part of that "
             "participant group's segments the theme covers; <em>balance</em> is 1 when every group is equally "
             "represented and 0 when one group carries the theme alone.</p>"]
    cols = [("theme", "integrated theme", "html"), ("status", "status", "text"), ("n_segments", "segments", "int"),
            ("n_speakers", "speakers", "int")]
    cols += [(f"share_{g}", _group_label(study, g), "pct") for g in groups]
    cols += [("balance", "balance", "dec"), ("flags", "flags", "flags")]
    parts.append(_table(it, cols, row_class=lambda r: "proposed" if _text(r.get("status")).lower() == "proposed" else ""))
    parts.append("<h3>Descriptions and sources</h3>")
    for rec in it.to_dict("records"):
        where = _text(rec.get("workshop"))
        parts.append(f'<div class="theme"><h4><code>{_e(rec.get("theme_id"))}</code> {_e(rec.get("label"))}</h4>'
                     + (f'<p>{_e(rec.get("description"))}</p>' if _text(rec.get("description")) else "")
                     + f'<p class="meta">{_e(_text(rec.get("status")) or "agreed")}'
                     f'{(" in " + _e(where)) if where else ""} · from group themes: {_e(rec.get("sources")) or "none"}'
                     "</p></div>")
    links_path = out / "theme_links.csv"
    if links_path.is_file():
        links = _read_csv(out, "theme_links.csv")
        if not links.empty:
            parts.append("<h3>Links between themes decided in the workshops</h3>")
            parts.append(_table(links, [("source", "from", "text"), ("relation", "relation", "text"),
                                        ("target", "to", "text"), ("workshop", "workshop", "text")]))
    parts += _decision_checks(out)
    return "\n".join(parts)


def _decision_checks(out: Path) -> list[str]:
    """What checking the workshop decisions against this run's themes found (the audit's
    ``check`` column): how many were unchanged, and every carry-over and unchecked theme."""
    try:
        audit = _read_csv(out, "workshop_audit.csv")
    except _Missing:
        return []
    if audit.empty or "check" not in audit.columns:
        return []
    notes = sorted({n.strip() for cell in audit["check"].map(_text) for n in cell.split(";") if n.strip()})
    checked = [n for n in notes if n.startswith("checked")]
    others = [n for n in notes if not n.startswith("checked")]
    lines = [f"<h3>Workshop decisions checked against this run</h3><p>{len(checked)} group theme(s) named by the "
             "workshops hold exactly the segments the workshop saw (fingerprint unchanged).</p>"]
    if others:
        lines.append("<ul>" + "".join(f'<li class="{"flag" if n.startswith("unchecked") else ""}">{_e(n)}</li>'
                                      for n in others) + "</ul>")
    return lines


def _maps(out: Path, study: Study) -> str:
    parts = [
        _figure(out, "figures/thematic_map.png", "Thematic map of the integrated themes",
                "Integrated themes (large circles, dashed while proposed), the participant groups' themes they came "
                "from (small circles, coloured by group), links decided in workshops (arrows) and themes raised "
                "together in talk (grey, width ∝ weight)."),
        _figure(out, "figures/theme_group_heatmap.png", "Heatmap of integrated themes by participant group",
                "Share of each participant group's segments in each integrated theme, with balance and flags."),
        _figure(out, "figures/theme_lineage.png", "Lineage from group themes to integrated themes",
                "How each group's themes became integrated themes (band width ∝ segments); grey: dropped."),
    ]
    interactive = [n for n in ("figures/thematic_map.html", "figures/theme_lineage.html") if (out / n).is_file()]
    if interactive:
        parts.append("<p>Interactive versions (self-contained, open them from the output folder): "
                     + ", ".join(f"<code>{_e(n)}</code>" for n in interactive) + ".</p>")
    figures = out / "figures"
    per_group = sorted(figures.glob("*.png")) if figures.is_dir() else []
    kinds = ((("segment",), "segments mapped by meaning", "Segment map"),
             (("dendrogram", "hierarchy"), "how the themes group together", "Theme hierarchy"))
    for g in study.group_ids:
        found = []
        for keys, caption, alt in kinds:
            for path in per_group:
                stem = path.stem
                if any(k in stem for k in keys) and (stem.endswith(f"_{g}") or stem.endswith(f"-{g}")):
                    found.append(_image(path, f"{alt}: {_group_label(study, g)}",
                                        f"{_group_label(study, g)}: {caption}."))
        if found:
            parts.append(f"<h3>{_e(_group_label(study, g))}</h3>" + "".join(found))
    return "\n".join(parts)


def _definition(out: Path, study: Study) -> str:
    parts = []
    path = out / "definition.md"
    if path.is_file():
        parts.append(f'<div class="definition">{markdown_to_html(path.read_text(encoding="utf-8"), top_level=3)}</div>')
    else:
        parts.append(_missing("definition.md"))
    parts.append("<h3>Conceptual framework: how compassion is displayed</h3>")
    try:
        fw = _read_csv(out, "framework.csv")
    except _Missing as exc:
        parts.append(_missing(str(exc)))
        return "\n".join(parts)
    if fw.empty:
        parts.append('<p class="missing">framework.csv has no behaviours yet.</p>')
        return "\n".join(parts)
    quote_cols = [c for c in fw.columns if str(c).startswith("quote_")]
    for rec in fw.to_dict("records"):
        quotes = "".join(f"<blockquote><span class=\"meta\">{_e(_group_label(study, c[len('quote_'):]))}:</span> "
                         f"{_e(rec.get(c))}</blockquote>" for c in quote_cols if _text(rec.get(c)))
        parts.append(f'<div class="theme"><h4>{_e(rec.get("behaviour"))}</h4>'
                     f'<p class="meta"><code>{_e(rec.get("theme_id"))}</code> {_e(rec.get("label"))} · attribute: '
                     f'{_e(rec.get("attribute"))}</p><p>{_e(rec.get("description"))}</p>{quotes}</div>')
    return "\n".join(parts)


_AGREEMENT_COLS = [
    ("participant_group", "group", "text"), ("code", "human code", "text"), ("n_human", "segments coded", "int"),
    ("theme", "best-matching theme", "text"), ("f1", "F1", "dec"), ("cohen_kappa", "Cohen's κ", "dec"),
    ("gwet_ac1", "Gwet's AC1", "dec"), ("kmeans_f1", "k-means F1", "dec"), ("kmeans_kappa", "k-means κ", "dec"),
    ("kmeans_ac1", "k-means AC1", "dec"),
]


def _agreement(out: Path, study: Study) -> str:
    """Human codes against the themes, beside the k-means baseline (notebook 07 writes the
    tables only when human coding was given)."""
    path = out / "human_agreement.csv"
    if not path.is_file():
        return ("<p>No human coding was compared in this run. To compare, export the codes people applied in "
                "their QDA software (<code>.qdpx</code>, or a CSV of source, start, end or turn, and code) and set "
                "<code>human_codes</code> in notebook 07.</p>")
    table = _read_csv(out, "human_agreement.csv")
    parts = ["<p>Only the segments people coded count, and each participant group's themes are held against that "
             "group's segments. Each human code is matched to the theme that overlaps it best. Cohen's κ collapses "
             "for rare codes even when people and model agree almost everywhere, so Gwet's AC1 stands beside it. The "
             "k-means columns match the same code against k-means clusters of the same segments: where a theme "
             "does no better, its interpretation rests on the researchers, not on the model.</p>",
             _table(table, _AGREEMENT_COLS)]
    if (out / "human_disagreements.csv").is_file():
        rows = _read_csv(out, "human_disagreements.csv")
        if not rows.empty:
            parts.append("<h3>Where people and model part ways</h3><p>Quoted as the coders saw the text (as "
                         "transcribed, the same span as the coded selection in the QDA export); speakers are "
                         "pseudonyms.</p>")
            parts.append(_table(rows, [("segment_id", "segment", "text"), ("speaker", "speaker", "text"),
                                       ("human_codes", "human codes", "text"), ("model_theme", "model theme", "text"),
                                       ("quote", "quote", "text")]))
    return "\n".join(parts)


def _disclosure(out: Path, study: Study) -> str:
    parts = []
    try:
        d = _read_csv(out, "disclosures.csv")
        status = d.get("status", pd.Series(dtype=str)).map(lambda v: _text(v) or "unresolved")
        n_un = int((status == "unresolved").sum())
        parts.append(f"<p>{len(d)} candidate identifying detail{'s' if len(d) != 1 else ''} found in participant "
                     f"turns; {len(d) - n_un} reviewed and allowed, <strong>{n_un} unresolved</strong>. "
                     "Only counts are shown here; the details themselves stay in <code>disclosures.csv</code>.</p>")
        if n_un:
            parts.append('<p class="warn">Unresolved details remain: review them (and list reviewed strings under '
                         '<code>disclosure.allow</code> in study.yml) before sharing any export.</p>')
        if len(d):
            kinds = d.assign(status=status, kind=d.get("kind", pd.Series(["?"] * len(d))).map(_text))
            table = kinds.groupby(["kind", "status"]).size().unstack(fill_value=0).reset_index()
            for col in ("allowed", "unresolved"):
                if col not in table.columns:
                    table[col] = 0
            parts.append(_table(table, [("kind", "kind of detail", "text"), ("allowed", "allowed", "int"),
                                        ("unresolved", "unresolved", "int")]))
            if "focus_group" in d.columns:
                per_fg = kinds.assign(focus_group=d["focus_group"].map(_text)).groupby(
                    ["focus_group", "status"]).size().unstack(fill_value=0).reset_index()
                for col in ("allowed", "unresolved"):
                    if col not in per_fg.columns:
                        per_fg[col] = 0
                parts.append(_table(per_fg, [("focus_group", "focus group", "text"), ("allowed", "allowed", "int"),
                                             ("unresolved", "unresolved", "int")]))
    except _Missing as exc:
        parts.append(_missing(str(exc)))
    status_file = out / "export_status.txt"
    if status_file.is_file():
        parts.append(f"<h3>Export status</h3><pre>{_e(status_file.read_text(encoding='utf-8', errors='replace'))}</pre>")
    else:
        parts.append("<p class=\"missing\">No <code>export_status.txt</code>: the export stage has not reported yet.</p>")
    return "\n".join(parts)


def _reproducibility(out: Path, study: Study) -> str:
    path = out / "run_manifest.json"
    if not path.is_file():
        return _missing("run_manifest.json")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("status", "complete") != "complete":  # a run in progress: nothing to report yet
        return _missing("run_manifest.json")
    parts = ["<p>Everything below comes from <code>run_manifest.json</code>. Rerunning <code>make all</code> on the "
             "same inputs gives identical tables; compare manifests with "
             "<code>python -m helpers.pipeline verify</code>.</p>"]
    inputs = pd.DataFrame(manifest.get("inputs") or [])
    if not inputs.empty:
        inputs["short"] = inputs.get("sha256", pd.Series([""] * len(inputs))).map(lambda s: _text(s)[:12])
        parts.append("<h3>Inputs</h3>" + _table(inputs, [("path", "file", "text"), ("short", "sha256 (first 12)", "text"),
                                                          ("bytes", "bytes", "int")]))
    notebooks = pd.DataFrame(manifest.get("notebooks") or [])
    if not notebooks.empty:
        parts.append("<h3>Notebooks</h3>" + _table(notebooks, [("notebook", "notebook", "text"),
                                                               ("seconds", "seconds", "sec")]))
        if manifest.get("seconds_total") is not None:
            parts.append(f"<p>Total: {_fmt(manifest.get('seconds_total'), 'sec')} seconds of notebooks.</p>")
    params = manifest.get("parameters") or {}
    if params:
        rows = [{"notebook": k, "parameters": ", ".join(f"{a}={b}" for a, b in (v or {}).items()
                                                         if a not in ("study", "output_dir"))}
                for k, v in params.items()]
        parts.append("<h3>Parameters</h3>" + _table(pd.DataFrame(rows), [("notebook", "notebook", "text"),
                                                                          ("parameters", "parameters", "text")]))
    env = manifest.get("environment") or {}
    if env:
        parts.append(f"<h3>Environment</h3><p>Python {_e(env.get('python'))} on {_e(env.get('platform'))}.</p>")
        packages = pd.DataFrame(sorted((env.get("packages") or {}).items()), columns=["package", "version"])
        if not packages.empty:
            parts.append(_table(packages, [("package", "package", "text"), ("version", "version", "text")]))
    outputs = manifest.get("outputs") or []
    if outputs:
        plural = "s" if len(outputs) != 1 else ""
        parts.append(f"<p>The manifest records {len(outputs)} output file{plural} with a sha256 each.</p>")
    return "\n".join(parts)


_BUILDERS = {"design": _design, "talk": _talk, "themes": _themes, "quality": _quality, "integrated": _integrated,
             "maps": _maps, "definition": _definition, "agreement": _agreement, "disclosure": _disclosure,
             "reproducibility": _reproducibility}


def _section(key: str, title: str, out: Path, study: Study) -> str:
    try:
        body = _BUILDERS[key](out, study)
    except _Missing as exc:
        body = _missing(str(exc))
    except Exception as exc:  # a report must never crash on one bad file
        body = (f'<p class="missing">This section could not be built: {_e(type(exc).__name__)}: '
                f"{_e(' '.join(str(exc).split())[:300])}</p>")
    return f'<section id="{key}">\n<h2>{_e(title)}</h2>\n{body}\n</section>'


# --------------------------------------------------------------------------- public

def build_report(output_dir: Path, study: Study) -> str:
    """The whole report as one self-contained HTML string (see the module docstring)."""
    out = Path(output_dir)
    banner = ""
    if study.synthetic:
        banner = ('<div class="banner" role="note">Synthetic illustration: no substantive claims'
                  "<span>The transcripts behind this report are synthetic. It shows how the co-production process "
                  "runs; nothing in it is a finding about compassion in radiotherapy.</span></div>")
    toc = "".join(f'<li><a href="#{key}">{_e(title)}</a></li>' for key, title in SECTIONS)
    sections = "\n".join(_section(key, title, out, study) for key, title in SECTIONS)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{_e(study.title)}: report</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<header><h1>{_e(study.title)}</h1>\n<p class=\"lead\">Report of the co-production compendium, study "
            f"<code>{_e(study.name)}</code>: from independent focus groups to co-produced thematic maps.</p>\n"
            f"{banner}\n<nav class=\"toc\" aria-label=\"Contents\"><strong>Contents</strong><ol>{toc}</ol></nav>\n"
            f"</header>\n<main>\n{sections}\n</main>\n<footer>Built by <code>helpers.report</code> from the files of this run's "
            "output folder (the same page wherever that folder is, so reruns can be compared byte for byte). "
            "Self-contained: no part of this page is fetched from elsewhere.</footer>\n</body>\n</html>\n")


def write_report(output_dir: Path, study: Study) -> Path:
    """Write ``report.html`` into ``output_dir`` atomically; return its path."""
    out = Path(output_dir)
    return write_text_atomic(out / REPORT, build_report(out, study))
