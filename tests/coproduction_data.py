"""In-memory stage-5 data for the tests of helpers.coproduction, helpers.decisions and
helpers.packs: a handful of group themes per participant group, short segments, and
seeded random unit vectors in which themes that should align across groups share a common
direction (a basis vector) plus a little noise; and writers of workshop files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from helpers.coproduction import integrate, load_workshop

DIM = 16
GROUPS = ["radiographers", "patients_carers", "students"]
LABELS = {"radiographers": "Therapeutic radiographers", "patients_carers": "Patients and carers",
          "students": "Student therapeutic radiographers"}
PALETTE = {"radiographers": "#4477AA", "patients_carers": "#EE6677", "students": "#228833"}
FOCUS = {"radiographers": ("FG01", ["Ruth", "Dev", "Maeve"]),
         "patients_carers": ("FG02", ["Margaret", "Stan"]),
         "students": ("FG03", ["Ellie", "Kofi"])}

R1, R2, R3 = "radiographers:T01", "radiographers:T02", "radiographers:T03"
P1, P2, P3 = "patients_carers:T01", "patients_carers:T02", "patients_carers:T03"
S1, S2 = "students:T01", "students:T02"


def e(k: int) -> np.ndarray:
    v = np.zeros(DIM)
    v[k] = 1.0
    return v


class Data:
    """Builds group_themes, theme_assignments, segments and embeddings together."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.segments: list[dict] = []
        self.vectors: list[np.ndarray] = []
        self.assignments: list[dict] = []
        self.themes: list[dict] = []

    def theme(self, tid, label, keywords, items, speakers=None, quotes=None):
        """items: list of (text, direction). Speakers cycle through the group's speakers."""
        group = tid.split(":")[0]
        fg, default_speakers = FOCUS[group]
        speakers = speakers or default_speakers
        ids = []
        for i, (text, direction) in enumerate(items):
            n = len(self.segments) + 1
            sid = f"{fg}-t{n:03d}-s1"
            speaker = speakers[i % len(speakers)]
            self.segments.append({"segment_id": sid, "focus_group": fg, "participant_group": group,
                                  "speaker": speaker, "turn": n, "n_words": len(text.split()), "text": text})
            v = np.asarray(direction, dtype=float) + 0.08 * self.rng.normal(size=DIM)
            self.vectors.append(v / np.linalg.norm(v))
            self.assignments.append({"segment_id": sid, "participant_group": group, "theme_id": tid,
                                     "uncertain": False})
            ids.append(sid)
        seg_by_id = {s["segment_id"]: s for s in self.segments}
        quotes = quotes if quotes is not None else [
            f"“{seg_by_id[s]['text']}” ({seg_by_id[s]['speaker']}, {fg})" for s in ids[:5]]
        row = {"participant_group": group, "theme_id": tid, "label": label, "keywords": keywords,
               "n_segments": len(ids)}
        for k in range(1, 6):
            row[f"quote_{k}"] = quotes[k - 1] if k <= len(quotes) else ""
        self.themes.append(row)
        return ids

    def tables(self):
        return (pd.DataFrame(self.themes), pd.DataFrame(self.assignments), pd.DataFrame(self.segments),
                np.vstack(self.vectors).astype(np.float32))


def words(stem: str, i: int) -> str:
    return f"{stem} and that is how it felt on the day number {i} for me"


def standard_data(extra=None, script_quote: bool = False) -> Data:
    """Three groups. Concept 0 ('being known') in every group; concept 2 ('delays') in two;
    R2 mixes a 'rota' and a 'targets' sub-direction (to split); S2 and P3 stand alone."""
    d = Data(seed=1)
    d.theme(R1, "names / remember", "names; remember; person",
            [(words("I always use their names", i), e(0)) for i in range(4)])
    d.theme(P1, "name / known", "name; known; person",
            [(words("she knew my name", i), e(0)) for i in range(3)])
    d.theme(S1, "eye contact / name", "eye contact; smile; person",
            [(words("eye contact and a name", i), e(0)) for i in range(3)],
            quotes=["“<script>alert('x')</script> she smiled” (Ellie, FG03)"] if script_quote else None)
    d.theme(R2, "time / rota / targets", "rota; targets; time",
            [(words("the rota is impossible", i), e(1) + 0.9 * e(5)) for i in range(3)]
            + [(words("the targets are relentless", i), e(1) + 0.9 * e(6)) for i in range(3)])
    d.theme(R3, "explain / delays", "explain; delays; honest",
            [(words("we explain the machine delays", i), e(2)) for i in range(3)])
    d.theme(P2, "waiting / delays", "waiting; delays; hours",
            [(words("waiting hours with the delays", i), e(2)) for i in range(4)])
    d.theme(P3, "gown / dignity", "gown; dignity; covered",
            [(words("the gown left me exposed", i), e(4)) for i in range(3)], speakers=["Margaret"])
    d.theme(S2, "paperwork / portfolio", "paperwork; portfolio; forms",
            [(words("the portfolio paperwork", i), e(3)) for i in range(3)])
    if extra:
        extra(d)
    return d


def write_workshop(tmp_path, number, decisions, **extra):
    path = tmp_path / f"workshop_{number}.yml"
    doc = {"workshop": number, "title": f"Workshop {number}", "date": "2024-05-0%d" % number, **extra,
           "decisions": decisions}
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_workshop(path, number)


def run(data: Data, tmp_path, *decision_lists, group_ids=GROUPS, **extra):
    workshops = [write_workshop(tmp_path, i + 1, decs, **extra) for i, decs in enumerate(decision_lists)]
    gt, asg, seg, emb = data.tables()
    return integrate(gt, asg, seg, emb, workshops, group_ids)


def row(result, tid) -> pd.Series:
    rows = result.integrated[result.integrated["theme_id"] == tid]
    assert len(rows) == 1, f"{tid} not (once) in the integrated table: {result.integrated['theme_id'].tolist()}"
    return rows.iloc[0]


def sources(result) -> dict[str, list[str]]:
    return {r.theme_id: r.source_themes.split(";") for r in result.integrated.itertuples()}


def integrated_of(result) -> dict[str, str]:
    st = result.segment_themes
    return dict(zip(st["segment_id"], st["integrated_theme"]))


def segment_ids(data, tid):
    return [a["segment_id"] for a in data.assignments if a["theme_id"] == tid]


def assert_each_group_theme_once(result, expected):
    placed = [s for srcs in sources(result).values() for s in srcs]
    assert sorted(placed) == sorted(expected)


MERGE_KNOWN = {"action": "merge", "themes": [R1, P1, S1], "label": "Being known as a person",
               "rationale": "all three groups talk about names"}
MERGE_DELAYS = {"action": "merge", "themes": [R3, P2], "label": "Honest about delays"}

ROTA_SPLIT = {"action": "split", "theme": R2, "rationale": "two different pressures",
              "into": [{"label": "Rota pressures", "keywords": ["rota"]},
                       {"label": "Targets", "keywords": ["targets"]}]}
