"""The sections between the workshops and reproducibility: study design, who spoke, the
themes of each group, theme quality, integrated themes, maps, definition and framework,
agreement with human coding, and disclosure status."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .._io import cell_flag, cell_number
from .._io import cell_text as _text
from ..study import Study, group_palette
from ..themes import quotes_of
from .formatting import _figure, _figure_or_missing, _group_label, _ordered_groups, _records, fmt
from .run_files import RunFiles, _Missing
from .summary import _definition_text, _integrated_rows

#: Figures of the maps section: (file, alt text, caption, its interactive page).
MAP_FIGURES = (
    ("figures/thematic_map.png", "Thematic map of the integrated themes",
     "Integrated themes (large circles, dashed while proposed), the participant groups' themes they came from "
     "(small circles, coloured by group; parts of a split theme carry the label the workshop gave them), links "
     "decided in workshops (arrows) and themes raised together in talk (grey, width ∝ weight).",
     "figures/thematic_map.html"),
    ("figures/theme_group_heatmap.png", "Heatmap of integrated themes by participant group",
     "Share of each participant group's segments in each integrated theme, with balance and flags.", ""),
    ("figures/theme_lineage.png", "Lineage from group themes to integrated themes",
     "How each group's themes became integrated themes (band width ∝ segments; a split theme flows through its "
     "parts); grey: dropped.", "figures/theme_lineage.html"),
)


def _design(run: RunFiles, study: Study) -> dict:
    palette = group_palette(study.group_ids)
    groups = [{"label": g.label, "id": g.id, "colour": palette[g.id],
               "fgs": [fg.id for fg in study.focus_groups if fg.participant_group == g.id]}
              for g in study.participant_groups]
    fgs = [{"id": fg.id, "group": _group_label(study, fg.participant_group), "transcript": Path(fg.transcript).name,
            "facilitators": ", ".join(fg.facilitators), "date": fg.date or ""} for fg in study.focus_groups]
    figure = (_figure(run, "figures/process_model.png", "The co-production process model",
                      "The co-production process model: each stage is one notebook and one set of files.")
              if "figures/process_model.png" in run.figures else None)
    return {"groups": groups, "focus_groups": fgs, "n_workshops": len(study.workshops), "figure": figure}


def _notes(run: RunFiles, key: str, column: str) -> list[str]:
    table = run.optional(key)
    return [n for n in table[column].map(_text) if n] if column in table.columns else []


def _talk(run: RunFiles, study: Study) -> dict:
    ctx = {"rows": None, "missing": "", "figure": _figure_or_missing(
        run, "figures/talk_share.png", "Share of words per participant in each focus group",
        "Each block is one participant's share of the words, largest first; grey is the facilitator."),
        "gaps": _notes(run, "talk_gaps", "note"), "warnings": _notes(run, "ingest_warnings", "message")}
    try:
        ts = run.table("talk_share")
    except _Missing as exc:
        ctx["missing"] = str(exc)
        return ctx
    order = {"study": 0, "participant_group": 1, "focus_group": 2}
    names = {"participant_group": "group", "focus_group": "focus group"}
    rows = sorted(_records(ts), key=lambda r: order.get(_text(r.get("level")), 3))
    ctx["rows"] = [{"level": names.get(_text(r.get("level")), _text(r.get("level"))), "id": _text(r.get("id")),
                    "group": "all" if _text(r.get("participant_group")) == "all"
                    else _group_label(study, _text(r.get("participant_group"))),
                    "cells": [fmt(r.get("n_focus_groups"), "int"), fmt(r.get("n_participants"), "int"),
                              fmt(r.get("participant_turns"), "int"), fmt(r.get("participant_words"), "int"),
                              fmt(r.get("facilitator_share_of_words"), "pct"),
                              fmt(r.get("gini_participant_words"), "dec"), fmt(r.get("top_speaker_share"), "pct")]}
                   for r in rows]
    return ctx


def _themes(run: RunFiles, study: Study) -> dict:
    gt = run.table("group_themes")
    if gt.empty or "theme_id" not in gt.columns:
        return {"groups": [], "empty": "group_themes.csv has no themes."}
    palette = group_palette(study.group_ids)
    parts_of = {}
    for part in _records(run.optional("split_parts")):
        parts_of.setdefault(_text(part.get("parent")), []).append(
            f"{_text(part.get('theme_id'))} ‘{_text(part.get('label'))}’ ({fmt(part.get('n_segments'), 'int')} "
            "segments)")
    groups = []
    for g in _ordered_groups(study, gt.get("participant_group", pd.Series(dtype=str))):
        themes = []
        for rec in _records(gt[gt["participant_group"].map(_text) == g]):
            meta = (f"{fmt(rec.get('n_segments'), 'int')} segments · {fmt(rec.get('n_speakers'), 'int')} speakers · "
                    f"{fmt(rec.get('n_focus_groups'), 'int')} focus groups · {fmt(rec.get('share_of_group'), 'pct')} "
                    "of the group's segments")
            if _text(rec.get("fingerprint")):
                meta += f" · fingerprint {_text(rec.get('fingerprint'))}"
            tid = _text(rec.get("theme_id"))
            themes.append({"id": tid, "label": _text(rec.get("label")), "meta": meta,
                           "unstable": cell_flag(rec.get("unstable")), "caveat": _text(rec.get("caveat")),
                           "keywords": _text(rec.get("keywords")), "quotes": quotes_of(rec)[:3],
                           "parts": parts_of.get(tid, [])})
        groups.append({"label": _group_label(study, g), "colour": palette.get(g, "#BBBBBB"), "themes": themes})
    return {"groups": groups, "empty": ""}


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


def _quality(run: RunFiles, study: Study) -> dict:
    q = run.table("theme_quality")
    if q.empty or not {"participant_group", "scope", "model", "metric", "value"} <= set(q.columns):
        return {"empty": "theme_quality.csv has no rows in the expected columns."}
    q = q.assign(participant_group=q["participant_group"].map(_text), scope=q["scope"].map(_text),
                 model=q["model"].map(lambda v: _text(v).lower()), metric=q["metric"].map(_text))
    group_rows = q[q["scope"] == "group"]
    rows = []
    for g in _ordered_groups(study, q["participant_group"]):
        sub = group_rows[group_rows["participant_group"] == g]
        cells = []
        for metric, model, _title, kind in _QUALITY_COLS:
            hit = sub[(sub["metric"] == metric) & (sub["model"] == model)]["value"]
            cells.append(fmt(hit.iloc[0] if len(hit) else None, kind))
        rows.append({"group": _group_label(study, g), "cells": cells})
    per_theme = []
    theme_rows = q[(q["scope"] != "group") & q["metric"].isin(["consensus", "coherence_npmi"])]
    if not theme_rows.empty:
        rank = {g: k for k, g in enumerate(_ordered_groups(study, theme_rows["participant_group"]))}
        wide = theme_rows.pivot_table(index=["participant_group", "scope"], columns="metric", values="value",
                                      aggfunc="first").reset_index()
        wide = wide.assign(_r=wide["participant_group"].map(rank)).sort_values(["_r", "scope"], kind="stable")
        for rec in _records(wide):
            consensus = cell_number(rec.get("consensus"))
            per_theme.append({"group": _group_label(study, rec["participant_group"]), "theme": rec["scope"],
                              "consensus": fmt(consensus, "dec"), "npmi": fmt(rec.get("coherence_npmi"), "dec"),
                              "note": "unstable: check before naming" if consensus is not None and consensus < 0.5
                              else ""})
    return {"empty": "", "headings": [c[2] for c in _QUALITY_COLS], "rows": rows, "per_theme": per_theme}


def _integrated(run: RunFiles, study: Study) -> dict:
    rows, groups = _integrated_rows(run, study)
    if not rows:
        return {"rows": [], "empty": "integrated_themes.csv has no themes."}
    links = [{"source": _text(r.get("source")), "relation": _text(r.get("relation")), "target": _text(r.get("target")),
              "workshop": _text(r.get("workshop"))} for r in _records(run.optional("links"))]
    return {"rows": rows, "groups": [_group_label(study, g) for g in groups], "empty": "", "links": links,
            "n_proposed": sum(r["proposed"] for r in rows)}


def _maps(run: RunFiles, study: Study) -> dict:
    figures = [_figure_or_missing(run, name, alt, caption, interactive)
               for name, alt, caption, interactive in MAP_FIGURES]
    kinds = (("segments", "segments mapped by meaning", "Segment map"),
             ("hierarchy", "how the themes group together", "Theme hierarchy"))
    per_group = []
    for g in study.group_ids:
        found = [_figure(run, f"figures/{prefix}_{g}.png", f"{alt}: {_group_label(study, g)}",
                         f"{_group_label(study, g)}: {caption}.")
                 for prefix, caption, alt in kinds if f"figures/{prefix}_{g}.png" in run.figures]
        if found:
            per_group.append({"label": _group_label(study, g), "figures": found})
    return {"figures": figures, "per_group": per_group}


def _definition(run: RunFiles, study: Study) -> dict:
    ctx = {"definition": None, "definition_missing": "", "framework": None, "framework_missing": ""}
    try:
        ctx["definition"] = _definition_text(run)
    except _Missing as exc:
        ctx["definition_missing"] = str(exc)
    try:
        fw = run.table("framework")
    except _Missing as exc:
        ctx["framework_missing"] = str(exc)
        return ctx
    quote_cols = [c for c in fw.columns if str(c).startswith("quote_")]
    ctx["framework"] = [{"behaviour": _text(r.get("behaviour")), "theme": _text(r.get("theme_id")),
                         "label": _text(r.get("label")), "attribute": _text(r.get("attribute")),
                         "description": _text(r.get("description")),
                         "quotes": [{"group": _group_label(study, c[len("quote_"):]), "text": _text(r.get(c))}
                                    for c in quote_cols if _text(r.get(c))]} for r in _records(fw)]
    return ctx


_AGREEMENT_COLS = [
    ("participant_group", "group", "text"), ("code", "human code", "text"), ("n_human", "segments coded", "int"),
    ("theme", "best-matching theme", "text"), ("f1", "F1", "dec"), ("cohen_kappa", "Cohen's κ", "dec"),
    ("gwet_ac1", "Gwet's AC1", "dec"), ("kmeans_f1", "k-means F1", "dec"), ("kmeans_kappa", "k-means κ", "dec"),
    ("kmeans_ac1", "k-means AC1", "dec"),
]
_DISAGREEMENT_COLS = [("segment_id", "segment"), ("speaker", "speaker"), ("human_codes", "human codes"),
                      ("model_theme", "model theme"), ("quote", "quote")]


def _agreement(run: RunFiles, study: Study) -> dict:
    """Human codes against the themes, beside the k-means baseline (notebook 07 writes the
    tables only when human coding was given)."""
    if "human_agreement" not in run.tables:
        return {"rows": None}
    table = run.tables["human_agreement"]
    rows = [[fmt(r.get(c), k) if k != "text" else _text(r.get(c)) for c, _t, k in _AGREEMENT_COLS]
            for r in _records(table)]
    disagreements = [[_text(r.get(c)) for c, _t in _DISAGREEMENT_COLS]
                     for r in _records(run.optional("human_disagreements"))]
    return {"headings": [t for _c, t, _k in _AGREEMENT_COLS], "rows": rows,
            "numeric": [k != "text" for _c, _t, k in _AGREEMENT_COLS],
            "dis_headings": [t for _c, t in _DISAGREEMENT_COLS], "disagreements": disagreements}


def _disclosure(run: RunFiles, study: Study) -> dict:
    ctx = {"missing": "", "export_status": run.export_status}
    try:
        d = run.table("disclosures")
    except _Missing as exc:
        ctx["missing"] = str(exc)
        return ctx
    status = (d["status"] if "status" in d.columns else pd.Series([""] * len(d))).map(lambda v: _text(v) or "unresolved")
    kinds = d.assign(status=status, kind=(d["kind"] if "kind" in d.columns else pd.Series(["?"] * len(d))).map(_text))

    def counts(by: str) -> list[dict]:
        if kinds.empty or by not in kinds.columns:
            return []
        table = kinds.groupby([by, "status"]).size().unstack(fill_value=0)
        return [{"name": k, "allowed": int(r.get("allowed", 0)), "unresolved": int(r.get("unresolved", 0))}
                for k, r in table.iterrows()]
    ctx.update({"n": len(d), "unresolved": int((status == "unresolved").sum()), "by_kind": counts("kind"),
                "by_focus_group": counts("focus_group")})
    return ctx
