"""Small, contract-shaped tables for testing stages 6 and 7 without running stages 1–5.

Everything follows docs/data_contracts.md: three participant groups
(radiographers, patients_carers, students), four or five group themes each, five
integrated themes (one proposed, some with a missing voice, one group theme dropped),
workshop links, segments with turn numbers and seeded random unit-length 384-d embeddings
clustered by theme (so a 2-D map shows structure), and a theme hierarchy.

    tables = make_tables()            # dict of DataFrames (+ embeddings, definition, manifest)
    study = make_study(tmp_path)      # a helpers.study.Study matching the tables
    write_output_dir(tmp_path / "out", tables)   # the files, under contract names
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.study import Disclosure, FocusGroup, ParticipantGroup, Study

GROUPS = ("radiographers", "patients_carers", "students")
GROUP_LABELS = {
    "radiographers": "Therapeutic radiographers",
    "patients_carers": "Patients and carers",
    "students": "Student therapeutic radiographers",
}
FOCUS_GROUPS = {"FG01": "radiographers", "FG02": "radiographers", "FG03": "patients_carers",
                "FG04": "patients_carers", "FG05": "students", "FG06": "students"}
SPEAKERS = {
    "FG01": ["Ruth", "Dev", "Maeve", "Tomasz"], "FG02": ["Asha", "Glen", "Priya"],
    "FG03": ["Margaret", "Stan", "Lorna", "Bill"], "FG04": ["Joy", "Ken", "Yusuf"],
    "FG05": ["Ellie", "Kofi", "Sam"], "FG06": ["Jade", "Oren", "Lily", "Max"],
}

# group theme -> (label in the provisional keyword style, keywords)
GROUP_THEMES = {
    "radiographers:T01": ("time / throughput / targets", "time; throughput; targets; list; running late"),
    "radiographers:T02": ("tired / switch off / protect", "tired; switch off; protect; emotional; home"),
    "radiographers:T03": ("names / remember / small talk", "names; remember; small talk; details; person"),
    "radiographers:T04": ("explain / delays / honest", "explain; delays; honest; breakdown; tell"),
    "radiographers:T05": ("gown / privacy / dignity", "gown; privacy; dignity; cover; exposed"),
    "patients_carers:T01": ("name / known / person", "name; known; person; remembered; first name"),
    "patients_carers:T02": ("gown / exposed / covered", "gown; exposed; covered; mask; undress"),
    "patients_carers:T03": ("waiting / delays / machine", "waiting; delays; machine; broke; hours"),
    "patients_carers:T04": ("told / explained / understand", "told; explained; understand; questions; next"),
    "students:T01": ("paperwork / assessment / portfolio", "paperwork; assessment; portfolio; sign off; forms"),
    "students:T02": ("mask / explain / scared", "mask; explain; scared; first time; calm"),
    "students:T03": ("eye contact / chat / smile", "eye contact; chat; smile; warm; name"),
    "students:T04": ("rushed / placement / busy", "rushed; placement; busy; list; pressure"),
}

INTEGRATED = [
    # id, label, status, sources, workshop, description
    ("I01", "Being known as a person", "agreed",
     ["radiographers:T03", "patients_carers:T01", "students:T03"], "workshop_1",
     "Using names, remembering details and making eye contact so the patient is a person, not a list entry."),
    ("I02", "Honest explanation & checking understanding", "agreed",
     ["radiographers:T04", "patients_carers:T04", "students:T02"], "workshop_1",
     "Telling patients what will happen and why, including delays, and checking they have understood."),
    ("I03", "Dignity & privacy during set-up", "agreed",
     ["radiographers:T05", "patients_carers:T02"], "workshop_2",
     "Keeping patients covered and in control while they are positioned on the couch."),
    ("I04", "Time pressure versus time with the patient", "proposed",
     ["radiographers:T01", "patients_carers:T03", "students:T04"], "",
     "Throughput targets and machine delays squeezing the moments in which compassion is shown."),
    ("I05", "Protecting oneself to keep caring", "agreed",
     ["radiographers:T02"], "workshop_2",
     "Emotional labour: how staff switch off to protect themselves and still care the next day."),
]
DROPPED = {"students:T01"}

LINKS = [("I01", "I02", "makes possible", "workshop_2"),
         ("I04", "I01", "threatens", "workshop_2"),
         ("I05", "I04", "responds to", "workshop_3")]

DEFINITION = """# A co-produced definition of compassion in radiotherapy

Compassion is **recognising** a person's distress and **connecting** with them as a person,
and acting to relieve it, in ways patients, carers, students and radiographers all recognise.

## Elements

- *Recognition*: noticing fear before the mask is made.
- *Connection*: using names and remembering details.
- *Action*: explaining delays honestly & checking understanding.
"""


def _group_themes_of(group: str) -> list[str]:
    return [t for t in GROUP_THEMES if t.startswith(group + ":")]


def make_segments(seed: int = 7, turns_per_fg: int = 18):
    """Segments, their group themes (assignments) and clustered unit-length embeddings."""
    rng = np.random.default_rng(seed)
    dim = 384
    centres = {t: rng.normal(size=dim) for t in GROUP_THEMES}
    rows, assign, vectors = [], [], []
    for fg, group in FOCUS_GROUPS.items():
        themes = _group_themes_of(group)
        current = themes[0]
        turn = 1
        for k in range(turns_per_fg):
            turn += 1 + int(rng.integers(0, 2))  # facilitator turns in between
            if rng.random() < 0.45:
                current = themes[int(rng.integers(len(themes)))]
            raised = [current]
            if rng.random() < 0.35:
                other = themes[int(rng.integers(len(themes)))]
                if other != current:
                    raised.append(other)
            speaker = SPEAKERS[fg][int(rng.integers(len(SPEAKERS[fg])))]
            for s, theme in enumerate(raised, start=1):
                words = GROUP_THEMES[theme][1].split("; ")
                text = (f"I think {words[0]} really matters, you know, because the {words[1]} "
                        f"and the {words[2]} are what people remember about {words[-1]}.")
                if theme == "patients_carers:T01" and k == 0:
                    text = "She said <b>my name</b> & \"remembered\" me — that's what I'll remember."
                sid = f"{fg}-t{turn:03d}-s{s}"
                rows.append({"segment_id": sid, "focus_group": fg, "participant_group": group, "speaker": speaker,
                             "turn": turn, "char_start": 0, "char_end": len(text), "n_words": len(text.split()),
                             "text": text})
                outlier = bool(rng.random() < 0.08)
                assign.append({"segment_id": sid, "participant_group": group, "theme_id": theme,
                               "uncertain": outlier})
                v = 2.2 * centres[theme] / np.linalg.norm(centres[theme]) * np.sqrt(dim) / 6 + rng.normal(size=dim)
                vectors.append(v / np.linalg.norm(v))
    segments = pd.DataFrame(rows)
    assignments = pd.DataFrame(assign)
    embeddings = np.asarray(vectors, dtype=np.float32)
    return segments, assignments, embeddings


def make_group_themes(segments: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    merged = segments.merge(assignments[["segment_id", "theme_id"]], on="segment_id")
    group_sizes = segments.groupby("participant_group").size()
    rows = []
    for tid, (label, keywords) in GROUP_THEMES.items():
        group = tid.split(":")[0]
        members = merged[merged["theme_id"] == tid]
        quotes = members.drop_duplicates(["focus_group", "speaker"]).head(5)
        row = {"participant_group": group, "theme_id": tid, "label": label, "keywords": keywords,
               "n_segments": len(members),
               "n_speakers": members[["focus_group", "speaker"]].drop_duplicates().shape[0],
               "n_focus_groups": members["focus_group"].nunique(),
               "share_of_group": round(len(members) / group_sizes[group], 4),
               "method": "consensus"}
        for k in range(5):
            row[f"quote_{k + 1}"] = (f"“{quotes.iloc[k]['text']}” ({quotes.iloc[k]['speaker']}, "
                                     f"{quotes.iloc[k]['focus_group']})" if k < len(quotes) else "")
        row["quote_segments"] = ";".join(quotes["segment_id"])
        rows.append(row)
    return pd.DataFrame(rows)


def make_integration(segments: pd.DataFrame, assignments: pd.DataFrame):
    """integrated_themes, segment_themes and theme_links as stage 5 writes them."""
    to_integrated = {src: iid for iid, _l, _s, sources, _w, _d in INTEGRATED for src in sources}
    st = assignments[["segment_id", "participant_group", "theme_id"]].rename(columns={"theme_id": "group_theme"})
    st["integrated_theme"] = [to_integrated.get(t, "") for t in st["group_theme"]]
    merged = st.merge(segments[["segment_id", "focus_group", "speaker"]], on="segment_id")
    group_sizes = segments.groupby("participant_group").size()
    rows = []
    for iid, label, status, sources, workshop, description in INTEGRATED:
        members = merged[merged["integrated_theme"] == iid]
        shares = {g: round(float((members["participant_group"] == g).sum() / group_sizes[g]), 4) for g in GROUPS}
        total = sum(shares.values())
        p = np.array([v / total for v in shares.values()]) if total else np.zeros(len(GROUPS))
        nz = p[p > 0]
        balance = max(0.0, float(-(nz * np.log(nz)).sum() / np.log(len(GROUPS)))) if len(nz) > 1 else 0.0
        flags = [f"missing voice: {g}" for g, v in shares.items() if v == 0]
        flags += [f"dominated by {g}" for g, v in zip(GROUPS, p) if v > 0.6]
        n_speakers = members[["focus_group", "speaker"]].drop_duplicates().shape[0]
        if n_speakers == 1:
            flags.append("rests on one speaker")
        row = {"theme_id": iid, "label": label, "description": description, "status": status,
               "source_themes": ";".join(sources), "n_segments": len(members), "n_speakers": n_speakers}
        row.update({f"share_{g}": shares[g] for g in GROUPS})
        row.update({"balance": round(balance, 4), "flags": "; ".join(flags), "workshop": workshop})
        rows.append(row)
    links = pd.DataFrame(LINKS, columns=["source", "target", "relation", "workshop"])
    return pd.DataFrame(rows), st.reset_index(drop=True), links


def make_hierarchy(group_themes: pd.DataFrame, embeddings: np.ndarray, segments: pd.DataFrame,
                   assignments: pd.DataFrame) -> pd.DataFrame:
    """Average-linkage merges of theme centroids per group, named as helpers.themes names them."""
    merged = segments[["segment_id"]].assign(_row=np.arange(len(segments))).merge(assignments, on="segment_id")
    rows = []
    for group in GROUPS:
        ids = [t for t in group_themes["theme_id"] if t.startswith(group + ":")]
        if len(ids) < 3:
            continue
        cent = {t: embeddings[merged.loc[merged["theme_id"] == t, "_row"]].mean(axis=0) for t in ids}
        clusters = {t: [t] for t in ids}
        vecs = {t: cent[t] for t in ids}
        next_id = len(ids)
        while len(clusters) > 1:
            keys = sorted(clusters)
            best = None
            for i, a in enumerate(keys):
                for b in keys[i + 1:]:
                    d = 1 - float(vecs[a] @ vecs[b] / (np.linalg.norm(vecs[a]) * np.linalg.norm(vecs[b])))
                    if best is None or d < best[0]:
                        best = (d, a, b)
            d, a, b = best
            parent = f"{group}:N{next_id:03d}"
            next_id += 1
            leaves = sorted(clusters[a] + clusters[b])
            rows.append({"participant_group": group, "parent": parent, "left": a, "right": b,
                         "distance": round(d, 4), "leaves": ";".join(leaves)})
            clusters[parent] = leaves
            vecs[parent] = np.mean([cent[t] for t in leaves], axis=0)
            del clusters[a], clusters[b]
    return pd.DataFrame(rows, columns=["participant_group", "parent", "left", "right", "distance", "leaves"])


def make_talk_share(segments: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for fg, group in FOCUS_GROUPS.items():
        n = len(SPEAKERS[fg])
        words = int(segments.loc[segments["focus_group"] == fg, "n_words"].sum())
        rows.append({"level": "focus_group", "id": fg, "participant_group": group, "n_focus_groups": 1,
                     "n_participants": n, "turns": 40, "participant_turns": 22, "words": int(words * 1.3),
                     "participant_words": words, "facilitator_share_of_words": 0.23,
                     "gini_participant_words": 0.21, "turns_per_participant": round(22 / n, 2),
                     "top_speaker_share": 0.38})
    for group in GROUPS:
        part = [r for r in rows if r["participant_group"] == group]
        rows.append({"level": "participant_group", "id": group, "participant_group": group,
                     "n_focus_groups": len(part), "n_participants": sum(r["n_participants"] for r in part),
                     "turns": 80, "participant_turns": 44, "words": sum(r["words"] for r in part),
                     "participant_words": sum(r["participant_words"] for r in part),
                     "facilitator_share_of_words": 0.23, "gini_participant_words": 0.25,
                     "turns_per_participant": 6.3, "top_speaker_share": 0.3})
    rows.append({"level": "study", "id": "all", "participant_group": "all", "n_focus_groups": 6,
                 "n_participants": 21, "turns": 240, "participant_turns": 132,
                 "words": sum(r["words"] for r in rows[:6]), "participant_words": sum(r["participant_words"] for r in rows[:6]),
                 "facilitator_share_of_words": 0.23, "gini_participant_words": 0.27, "turns_per_participant": 6.29,
                 "top_speaker_share": 0.12})
    return pd.DataFrame(rows)


def make_theme_quality(group_themes: pd.DataFrame) -> pd.DataFrame:
    rows = []

    def add(group, scope, model, metric, value):
        rows.append({"participant_group": group, "scope": scope, "model": model, "metric": metric, "value": value})
    for k, group in enumerate(GROUPS):
        ids = [t for t in group_themes["theme_id"] if t.startswith(group + ":")]
        add(group, "group", "consensus", "n_themes", len(ids))
        add(group, "group", "consensus", "largest_share", 0.3)
        add(group, "group", "consensus", "consensus_mean", 0.7 - 0.1 * k)
        add(group, "group", "consensus", "stability_ari_mean", 0.71 - 0.1 * k)
        add(group, "group", "consensus", "n_runs", 10)
        add(group, "group", "consensus", "coherence_cv_mean", 0.42 + 0.01 * k)
        add(group, "group", "consensus", "coherence_npmi_mean", 0.12 + 0.01 * k)
        for j, t in enumerate(ids):
            add(group, t, "consensus", "consensus", round(0.9 - 0.12 * j, 4))
            add(group, t, "consensus", "coherence_npmi", round(0.15 - 0.02 * j, 4))
        for model in ("lda", "kmeans"):
            add(group, "group", model, "n_themes", len(ids))
            add(group, "group", model, "coherence_cv_mean", 0.35)
            add(group, "group", model, "coherence_npmi_mean", 0.05)
            add(group, "group", model, "agreement_ari_with_consensus", 0.33)
    return pd.DataFrame(rows)


def make_disclosures() -> pd.DataFrame:
    return pd.DataFrame([
        {"focus_group": "FG01", "turn": 4, "line": 12, "speaker": "Ruth", "kind": "name", "match": "Sister Kay",
         "context": "…Sister Kay on the ward…", "status": "allowed"},
        {"focus_group": "FG03", "turn": 9, "line": 31, "speaker": "Stan", "kind": "place", "match": "Oak Ward",
         "context": "…up on Oak Ward…", "status": "unresolved"},
        {"focus_group": "FG05", "turn": 2, "line": 5, "speaker": "Kofi", "kind": "date", "match": "12/03/1961",
         "context": "…born 12/03/1961…", "status": "allowed"},
    ])


def make_framework(integrated: pd.DataFrame, group_themes: pd.DataFrame) -> pd.DataFrame:
    attributes = ["connection", "action", "recognition", "humanistic response", "altruistic desire"]
    behaviours = ["Uses the patient's preferred name", "Explains each delay as it happens",
                  "Keeps the patient covered until the last moment", "Protects a minute to talk",
                  "Debriefs with colleagues after a hard day"]
    quote = dict(zip(group_themes["theme_id"], group_themes["quote_1"]))
    rows = []
    for k, r in enumerate(integrated.itertuples(index=False)):
        row = {"theme_id": r.theme_id, "label": r.label, "attribute": attributes[k % 5],
               "behaviour": behaviours[k % 5], "description": r.description}
        for g in GROUPS:
            src = [s for s in r.source_themes.split(";") if s.startswith(g + ":")]
            row[f"quote_{g}"] = quote.get(src[0], "") if src else ""
        rows.append(row)
    return pd.DataFrame(rows)


def make_manifest() -> dict:
    return {
        "study": "fixture-study", "title": "Fixture study",
        "inputs": [{"path": "data/study.yml", "sha256": "a" * 64, "bytes": 1200},
                   {"path": "data/transcripts/FG01.txt", "sha256": "0123456789abcdef" * 4, "bytes": 5400}],
        "parameters": {"notebooks/04_group_themes.ipynb": {"seed": 20200}},
        "notebooks": [{"notebook": "notebooks/01_ingest_transcripts.ipynb", "executed": "x", "seconds": 3.2},
                      {"notebook": "notebooks/04_group_themes.ipynb", "executed": "y", "seconds": 41.5}],
        "seconds_total": 44.7,
        "outputs": [{"path": "group_themes.csv", "sha256": "b" * 64, "bytes": 999}],
        "environment": {"python": "3.11.9", "platform": "Linux", "packages": {"bertopic": "0.17.4", "numpy": "2.4.6"}},
    }


DEFINITION_ROWS = [
    {"part": "definition", "theme_id": "", "workshop": "workshop_2",
     "text": "Compassion is recognising a person's distress and connecting with them as a person, and acting to "
             "relieve it, in ways patients, carers, students and radiographers all recognise."},
    {"part": "element", "theme_id": "I01", "text": "staff use names and remember details", "workshop": "workshop_1"},
    {"part": "element", "theme_id": "I02", "text": "delays are explained honestly & understanding is checked",
     "workshop": "workshop_1"},
]

#: With ``make_tables(split=True)``: workshop 2 splits students:T02 into two parts by turn,
#: the first merged into I02, the second into I04 (so a split flows to two integrated themes).
SPLIT_PARTS = {"students:T02.1": ("Explaining the mask", "I02"), "students:T02.2": ("Staying calm when scared", "I04")}


def _apply_split(tables: dict) -> None:
    st = tables["segment_themes"]
    members = st.index[st["group_theme"] == "students:T02"]
    half = len(members) // 2
    for k, (part, (_label, target)) in enumerate(SPLIT_PARTS.items()):
        rows = members[:half] if k == 0 else members[half:]
        st.loc[rows, "group_theme"] = part
        st.loc[rows, "integrated_theme"] = target
    integ = tables["integrated"]
    for tid, sources in (("I02", "radiographers:T04;patients_carers:T04;students:T02.1"),
                         ("I04", "radiographers:T01;patients_carers:T03;students:T04;students:T02.2")):
        row = integ["theme_id"] == tid
        integ.loc[row, "source_themes"] = sources
        integ.loc[row, "n_segments"] = int((st["integrated_theme"] == tid).sum())
    tables["split_parts"] = pd.DataFrame(
        [{"theme_id": part, "parent": "students:T02", "participant_group": "students", "label": label,
          "keywords": "mask; calm", "n_segments": int((st["group_theme"] == part).sum()), "workshop": "workshop_2"}
         for part, (label, _t) in SPLIT_PARTS.items()])
    tables["audit"] = pd.concat([tables["audit"], pd.DataFrame([{
        "workshop": "workshop_2", "index": 1, "action": "split", "inputs": "students:T02",
        "outputs": "students:T02.1;students:T02.2", "rationale": "Two different things: the mask, and fear itself.",
        "check": ""}])], ignore_index=True)


def make_audit() -> pd.DataFrame:
    """workshop_audit.csv of the fixture's decisions (merges, a drop, links)."""
    rows = [{"workshop": w or "workshop_1", "index": k + 1, "action": "merge", "inputs": ";".join(sources),
             "outputs": iid, "rationale": f"The room heard {label.lower()} from every group.",
             "check": ";".join(f"checked: {s} (0000000{k}) unchanged" for s in sources)}
            for k, (iid, label, status, sources, w, _d) in enumerate(INTEGRATED) if status == "agreed"]
    rows.append({"workshop": "workshop_1", "index": 9, "action": "drop", "inputs": "students:T01", "outputs": "",
                 "rationale": "Paperwork talk from the warm-up question.", "check": ""})
    rows += [{"workshop": w, "index": 20 + k, "action": "link", "inputs": f"{a};{b}", "outputs": rel,
              "rationale": "", "check": ""} for k, (a, b, rel, w) in enumerate(LINKS)]
    return pd.DataFrame(rows, columns=["workshop", "index", "action", "inputs", "outputs", "rationale", "check"])


def make_tables(seed: int = 7, split: bool = False) -> dict:
    """Every stage-1–5 table the maps and the report read (see module docstring); with
    ``split``, one group theme split into two parts (:data:`SPLIT_PARTS`)."""
    segments, assignments, embeddings = make_segments(seed)
    group_themes = make_group_themes(segments, assignments)
    integrated, segment_themes, links = make_integration(segments, assignments)
    tables = {
        "segments": segments, "embeddings": embeddings, "assignments": assignments,
        "group_themes": group_themes, "integrated": integrated, "segment_themes": segment_themes,
        "links": links, "hierarchy": make_hierarchy(group_themes, embeddings, segments, assignments),
        "talk_share": make_talk_share(segments), "theme_quality": make_theme_quality(group_themes),
        "disclosures": make_disclosures(), "framework": make_framework(integrated, group_themes),
        "definition": DEFINITION, "definition_table": pd.DataFrame(DEFINITION_ROWS), "manifest": make_manifest(),
        "audit": make_audit(),
        "split_parts": pd.DataFrame(columns=["theme_id", "parent", "participant_group", "label", "keywords",
                                             "n_segments", "workshop"]),
    }
    if split:
        _apply_split(tables)
    return tables


def make_study(root: Path, synthetic: bool = True) -> Study:
    """A Study object matching the tables; its one workshop file is written under ``root``
    (the transcripts are not needed)."""
    root = Path(root)
    (root / "workshops").mkdir(parents=True, exist_ok=True)
    (root / "workshops" / "workshop_1.yml").write_text("workshop: 1\ndecisions: []\n", encoding="utf-8")
    groups = tuple(ParticipantGroup(g, GROUP_LABELS[g]) for g in GROUPS)
    fgs = tuple(FocusGroup(fg, g, root / "transcripts" / f"{fg}_{g}.txt", ("Facilitator",), {}, None)
                for fg, g in FOCUS_GROUPS.items())
    return Study(path=root / "study.yml", name="fixture-study", title="Compassion in radiotherapy <fixture>",
                 participant_groups=groups, focus_groups=fgs, workshops=(root / "workshops" / "workshop_1.yml",),
                 disclosure=Disclosure(), synthetic=synthetic)


def write_output_dir(out: Path, tables: dict | None = None, figures: bool = True) -> Path:
    """Write the tables under their contract names (and tiny placeholder figures)."""
    tables = tables or make_tables()
    out = Path(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    tables["segments"].to_parquet(out / "segments.parquet", index=False)
    np.save(out / "embeddings.npy", tables["embeddings"])
    tables["assignments"].to_parquet(out / "theme_assignments.parquet", index=False)
    tables["segment_themes"].to_parquet(out / "segment_themes.parquet", index=False)
    for name, key in (("group_themes.csv", "group_themes"), ("integrated_themes.csv", "integrated"),
                      ("theme_links.csv", "links"), ("theme_hierarchy.csv", "hierarchy"),
                      ("talk_share.csv", "talk_share"), ("theme_quality.csv", "theme_quality"),
                      ("disclosures.csv", "disclosures"), ("framework.csv", "framework"),
                      ("definition.csv", "definition_table"), ("workshop_audit.csv", "audit"),
                      ("split_themes.csv", "split_parts")):
        if key in tables:
            tables[key].to_csv(out / name, index=False)
    (out / "definition.md").write_text(tables["definition"], encoding="utf-8")
    (out / "run_manifest.json").write_text(json.dumps(tables["manifest"], indent=2), encoding="utf-8")
    (out / "export_status.txt").write_text("Export refused: 1 unresolved disclosure (FG03 turn 9).\n",
                                           encoding="utf-8")
    if figures:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        names = ["talk_share", "thematic_map", "theme_group_heatmap", "theme_lineage",
                 *(f"segments_{g}" for g in GROUPS), *(f"hierarchy_{g}" for g in GROUPS)]
        for name in names:
            fig = Figure(figsize=(2, 1), dpi=50)
            FigureCanvasAgg(fig)
            fig.text(0.5, 0.5, name, ha="center", fontsize=8)
            fig.savefig(out / "figures" / f"{name}.png")
    return out
