"""The summary section: the definition, the integrated themes with their balance, flags
and caveats, how far to trust the group themes, and what is still open."""

from __future__ import annotations

import re

from .._io import cell_flag, cell_number
from .._io import cell_list as _split
from .._io import cell_text as _text
from ..study import Study, group_palette
from .formatting import _and, _group_label, _ordered_groups, _records, fmt
from .run_files import TABLES, RunFiles, _Missing, _missing_text


def _trust(run: RunFiles, study: Study) -> dict:
    """One sentence each for stability, consensus and coherence against the baselines."""
    q = run.table("theme_quality")
    if q.empty or not {"participant_group", "scope", "model", "metric", "value"} <= set(q.columns):
        raise _Missing(TABLES["theme_quality"])
    q = q.assign(participant_group=q["participant_group"].map(_text), scope=q["scope"].map(_text),
                 model=q["model"].map(lambda v: _text(v).lower()), metric=q["metric"].map(_text))
    groups = _ordered_groups(study, q["participant_group"])

    def value(group, metric, model="consensus"):
        hit = q[(q["participant_group"] == group) & (q["scope"] == "group") & (q["model"] == model)
                & (q["metric"] == metric)]["value"]
        return cell_number(hit.iloc[0]) if len(hit) else None

    def per_group(metric, kind="dec"):
        parts = [f"{fmt(value(g, metric), kind)} ({_group_label(study, g).lower()})" for g in groups
                 if value(g, metric) is not None]
        return _and(parts)

    themes = _records(run.optional("group_themes"))
    unstable = [_text(t.get("theme_id")) for t in themes if cell_flag(t.get("unstable"))]
    sentences = []
    if any(value(g, "stability_ari_mean") is not None for g in groups):
        sentences.append(("Stability", f"seeded runs on resampled segments agree with the reported themes at an "
                          f"adjusted Rand index of {per_group('stability_ari_mean')} (0 = chance, 1 = identical)."))
    if any(value(g, "consensus_mean") is not None for g in groups):
        marked = (f"{len(unstable)} of {len(themes)} themes fall below 0.5 and are marked unstable"
                  + (" (listed under Theme quality)" if unstable else "")) if themes else ""
        sentences.append(("Consensus", f"two members of a theme were grouped together in a mean share of "
                          f"{per_group('consensus_mean')} of the runs; {marked or 'no per-theme values'}."))
    coherence, better = [], 0
    for g in groups:
        own, lda, km = (value(g, "coherence_npmi_mean", m) for m in ("consensus", "lda", "kmeans"))
        if own is None:
            continue
        coherence.append(f"{fmt(own, 'dec')} vs {fmt(lda, 'dec')} / {fmt(km, 'dec')} ({_group_label(study, g).lower()})")
        better += all(b is None or own >= b for b in (lda, km))
    if coherence:
        sentences.append(("Coherence", f"the themes match or beat both baselines in {better} of {len(coherence)} "
                          f"groups: their top words occur together at an NPMI (−1 to 1) of {_and(coherence)}, "
                          "against LDA / k-means given the same number of themes."))
    return {"sentences": sentences}


def _open_items(run: RunFiles, study: Study, integrated: list[dict]) -> dict:
    proposed = [r for r in integrated if _text(r.get("status")).lower() == "proposed"]
    numbers = [int(n) for n in (_text(r.get("workshop")).rsplit("_", 1)[-1] for r in _records(run.optional("audit")))
               if n.isdigit()]
    next_number = max(numbers, default=0) + 1
    pack = f"workshop_packs/workshop_{next_number}.html"
    unresolved = 0
    if "disclosures" in run.tables and "status" in run.tables["disclosures"].columns:
        unresolved = int((run.tables["disclosures"]["status"].map(_text).replace("", "unresolved")
                          == "unresolved").sum())
    return {"proposed": [{"id": _text(r.get("theme_id")), "label": _text(r.get("label"))} for r in proposed],
            "next": next_number, "pack": pack if pack in run.files else "",
            "board": "workshop_board.html" if "workshop_board.html" in run.files else "",
            "unresolved": unresolved}


def _integrated_rows(run: RunFiles, study: Study) -> tuple[list[dict], list[str]]:
    """The integrated themes with their shares, flags and inherited caveats."""
    it = run.table("integrated")
    if it.empty or "theme_id" not in it.columns:
        return [], []
    groups = _ordered_groups(study, [c[len("share_"):] for c in it.columns if str(c).startswith("share_")])
    rows = []
    for rec in _records(it):
        rows.append({"id": _text(rec.get("theme_id")), "label": _text(rec.get("label")),
                     "status": _text(rec.get("status")) or "agreed", "description": _text(rec.get("description")),
                     "proposed": _text(rec.get("status")).lower() == "proposed",
                     "n_segments": fmt(rec.get("n_segments"), "int"), "n_speakers": fmt(rec.get("n_speakers"), "int"),
                     "shares": [fmt(rec.get(f"share_{g}"), "pct") for g in groups],
                     "balance": fmt(rec.get("balance"), "dec"), "flags": _split(rec.get("flags")),
                     "caveats": _split(rec.get("caveats")), "sources": _split(rec.get("source_themes")),
                     "workshop": _text(rec.get("workshop"))})
    return rows, groups


_FLAG_KINDS = ((re.compile(r"^missing voice: (.+)$"), "no voice from", "group"),
               (re.compile(r"^dominated by (.+)$"), "dominated by", "group"),
               (re.compile(r"^rests on an unstable theme: (.+)$"), "unstable source", "theme"),
               (re.compile(r"^rests on a small group's theme: (.+)$"), "small-group source", "theme"))


def _short_flags(flags: list[str], caveats: list[str], study: Study) -> list[dict]:
    """Flags and caveats grouped by kind for the summary's one-line cells: groups as their
    colour chips (with their names for screen readers and copy), themes by local id."""
    palette = group_palette(study.group_ids)
    tokens: dict[str, dict] = {}
    for text in flags + caveats:
        for pattern, label, what in _FLAG_KINDS:
            hit = pattern.match(text)
            if hit:
                token = tokens.setdefault(label, {"label": label, "groups": [], "themes": [],
                                                  "caveat": what == "theme"})
                if what == "group":
                    token["groups"].append({"label": _group_label(study, hit.group(1)),
                                            "colour": palette.get(hit.group(1), "#BBBBBB")})
                else:
                    token["themes"].append(hit.group(1))
                break
        else:
            tokens.setdefault(text, {"label": text, "groups": [], "themes": [], "caveat": False})
    return list(tokens.values())


def _definition_text(run: RunFiles) -> dict:
    table = run.table("definition")
    rows = _records(table)
    definition = next((_text(r.get("text")) for r in rows if _text(r.get("part")) == "definition"), "")
    where = next((_text(r.get("workshop")) for r in rows if _text(r.get("part")) == "definition"), "")
    elements = [{"text": _text(r.get("text")), "theme": _text(r.get("theme_id")), "workshop": _text(r.get("workshop"))}
                for r in rows if _text(r.get("part")) == "element"]
    return {"text": definition, "workshop": where, "elements": elements}


def _summary(run: RunFiles, study: Study) -> dict:
    palette = group_palette(study.group_ids)
    ctx = {"definition": None, "themes": [], "groups": [], "trust": None, "problems": {}}

    def attempt(part: str, build):
        try:
            return build()
        except _Missing as exc:
            ctx["problems"][part] = _missing_text(str(exc))
        except ValueError as exc:
            ctx["problems"][part] = str(exc)
        return None

    ctx["definition"] = attempt("definition", lambda: _definition_text(run))
    themes = attempt("themes", lambda: _integrated_rows(run, study))
    if themes:
        ctx["themes"] = [{**t, "short_flags": _short_flags(t["flags"], t["caveats"], study)} for t in themes[0]]
        ctx["groups"] = [{"id": g, "label": _group_label(study, g), "colour": palette.get(g, "#BBBBBB")}
                         for g in themes[1]]
    ctx["trust"] = attempt("trust", lambda: _trust(run, study))
    ctx["open"] = _open_items(run, study, [{"theme_id": t["id"], "label": t["label"], "status": t["status"]}
                                           for t in ctx["themes"]])
    ctx["n_flagged"] = sum(1 for t in ctx["themes"] if t["flags"] or t["caveats"])
    return ctx
