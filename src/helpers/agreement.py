"""Agreement between codes applied by people and the model's themes.

Human coding is compared with the themes only where a comparison is fair: over the
segments people actually coded (an uncoded transcript says nothing), and, for each
participant group, against that group's themes on that group's segments (a theme cannot
agree or disagree with text it never saw). For each human code the best-matching theme
(highest F1) is reported with precision, recall, F1, Cohen's κ and Gwet's AC1 on the
yes/no question "does this segment carry the code / the theme?". κ collapses when a code
is rare even if people and model agree almost everywhere; AC1 does not, so both are
shown. Beside them stands a baseline: k-means on the same segments' embeddings, with as
many clusters as the group has themes there, matched to each code the same way. A theme
that does no better than k-means has not earned its interpretation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._io import write_csv_atomic
from .human_codes import map_codes_to_segments, read_human_codes_csv, read_human_codes_qdpx
from .qda_layout import clean as _clean
from .qda_layout import coded_text
from .qda_layout import require as _require

__all__ = ["binary_agreement", "agreement_by_code", "compare_with_themes", "disagreements",
           "HumanComparison", "compare_human_coding", "write_agreement", "AGREEMENT_COLUMNS"]

_NO_THEME = "(no theme)"


def _theme_lookup(segment_themes: pd.DataFrame, level: str) -> dict[str, str]:
    if level not in ("group_theme", "integrated_theme"):
        raise ValueError(f"level must be 'group_theme' or 'integrated_theme', not {level!r}")
    _require(segment_themes, ["segment_id", level], "segment_themes")
    return {_clean(s): _clean(t) for s, t in zip(segment_themes["segment_id"], segment_themes[level])}


def _codes_by_segment(mapped: pd.DataFrame) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for sid, code in zip(mapped["segment_id"].map(_clean), mapped["code"].map(_clean)):
        codes = out.setdefault(sid, [])
        if code not in codes:
            codes.append(code)
    return out


def compare_with_themes(mapped: pd.DataFrame, segment_themes: pd.DataFrame,
                        level: str = "group_theme") -> tuple[pd.DataFrame, dict]:
    """Compare human codes with the themes, over the segments humans coded.

    Every count is taken over the segments that carry at least one human code (what the
    coders saw and coded), so an uncoded transcript does not lower precision. For each
    code, ``best_theme`` is the theme (at ``level``) with the highest F1 against it
    (ties: more shared segments, then theme id); ``precision`` = shared / ``n_theme``
    (segments of the theme among the coded ones), ``recall`` = shared / ``n_human``
    (segments with the code). A code sharing no segment with any theme has an empty
    ``best_theme`` and zeros.

    The summary holds ``level``, ``n_segments``, ``n_codes``; ``adjusted_rand``
    (sklearn) between each segment's first code and its theme (segments without a theme
    count as one group "(no theme)"); ``one_to_one`` (every code has a best theme and no
    two codes share one) and, only then, ``cohen_kappa`` between the best theme of each
    segment's first code and its theme (None otherwise or when undefined).
    """
    from sklearn.metrics import adjusted_rand_score, cohen_kappa_score

    theme_of = _theme_lookup(segment_themes, level)
    codes_of = _codes_by_segment(mapped)
    universe = list(codes_of)
    code_segments: dict[str, set[str]] = {}
    for sid, codes in codes_of.items():
        for code in codes:
            code_segments.setdefault(code, set()).add(sid)
    theme_segments: dict[str, set[str]] = {}
    for sid in universe:
        theme = theme_of.get(sid, "")
        if theme:
            theme_segments.setdefault(theme, set()).add(sid)

    rows = []
    best: dict[str, str] = {}
    for code, h in code_segments.items():
        candidates = []
        for theme, t in theme_segments.items():
            shared = len(h & t)
            if shared:
                p, r = shared / len(t), shared / len(h)
                candidates.append((-(2 * p * r / (p + r)), -shared, theme, p, r, len(t)))
        if candidates:
            f1, _, theme, p, r, n_theme = min(candidates)
            rows.append((code, theme, p, r, -f1, len(h), n_theme))
            best[code] = theme
        else:
            rows.append((code, "", 0.0, 0.0, 0.0, len(h), 0))
            best[code] = ""
    per_code = pd.DataFrame(rows, columns=["code", "best_theme", "precision", "recall", "f1",
                                           "n_human", "n_theme"])

    first = [codes_of[sid][0] for sid in universe]
    model = [theme_of.get(sid, "") or _NO_THEME for sid in universe]
    chosen = [b for b in best.values()]
    one_to_one = bool(chosen) and all(chosen) and len(set(chosen)) == len(chosen)
    kappa = None
    if one_to_one and universe:
        value = float(cohen_kappa_score([best[c] for c in first], model))
        kappa = None if math.isnan(value) else value
    summary = {
        "level": level,
        "n_segments": len(universe),
        "n_codes": len(code_segments),
        "adjusted_rand": float(adjusted_rand_score(first, model)) if universe else None,
        "one_to_one": one_to_one,
        "cohen_kappa": kappa,
    }
    return per_code, summary


def disagreements(mapped: pd.DataFrame, segment_themes: pd.DataFrame, segments: pd.DataFrame,
                  n: int = 10, level: str = "group_theme", utterances: pd.DataFrame | None = None) -> pd.DataFrame:
    """Segments where the human coding and the model part ways, with the quote.

    A segment disagrees when none of its human codes has the segment's own theme as its
    best-matching theme (see :func:`compare_with_themes`). Returns at most ``n`` rows, in
    transcript order: ``segment_id, focus_group, speaker, human_codes, human_best_theme,
    model_theme, quote`` (codes and their best themes ``"; "``-joined; speakers are the
    pseudonyms of the transcripts). ``quote`` is the text the coders saw, as transcribed,
    when ``utterances`` is given (the same span as in the QDA export), else the segment's
    text with annotations removed.
    """
    per_code, _ = compare_with_themes(mapped, segment_themes, level)
    best = dict(zip(per_code["code"], per_code["best_theme"]))
    theme_of = _theme_lookup(segment_themes, level)
    codes_of = _codes_by_segment(mapped)
    _require(segments, ["segment_id", "focus_group", "speaker", "turn", "char_start"], "segments")
    segs = segments.assign(segment_id=segments["segment_id"].map(_clean))
    quotes = coded_text(segments, utterances) if utterances is not None else \
        dict(zip(segs["segment_id"], segs.get("text", pd.Series("", index=segs.index)).map(_clean)))
    segs = segs.sort_values(["focus_group", "turn", "char_start", "segment_id"], kind="mergesort")
    rows = []
    for _, seg in segs.iterrows():
        codes = codes_of.get(seg["segment_id"])
        if not codes:
            continue
        theme = theme_of.get(seg["segment_id"], "")
        if theme and any(best.get(c) == theme for c in codes):
            continue
        rows.append((seg["segment_id"], _clean(seg["focus_group"]), _clean(seg["speaker"]),
                     "; ".join(codes), "; ".join(best.get(c, "") for c in codes),
                     theme, quotes.get(seg["segment_id"], "")))
        if len(rows) >= n:
            break
    return pd.DataFrame(rows, columns=["segment_id", "focus_group", "speaker", "human_codes",
                                       "human_best_theme", "model_theme", "quote"])



# --------------------------------------------------------------------------- per code, per group

def binary_agreement(human: np.ndarray, model: np.ndarray) -> dict:
    """Agreement of two yes/no ratings of the same items.

    ``precision``/``recall``/``f1`` take the human rating as the reference;
    ``cohen_kappa`` = (po − pe) / (1 − pe) with pe from each rater's own rate of "yes"
    (None when pe is 1: both said the same thing of every item); ``gwet_ac1`` uses
    pe = 2π(1 − π), π the mean rate of "yes" of the two raters.
    """
    h, m = np.asarray(human, dtype=bool), np.asarray(model, dtype=bool)
    n = len(h)
    tp = int((h & m).sum())
    n_h, n_m = int(h.sum()), int(m.sum())
    po = float((h == m).mean()) if n else math.nan
    ph, pm = (n_h / n, n_m / n) if n else (math.nan, math.nan)
    pe_kappa = ph * pm + (1 - ph) * (1 - pm)
    pi = (ph + pm) / 2
    pe_ac1 = 2 * pi * (1 - pi)
    return {
        "precision": tp / n_m if n_m else 0.0,
        "recall": tp / n_h if n_h else 0.0,
        "f1": 2 * tp / (n_h + n_m) if n_h + n_m else 0.0,
        "cohen_kappa": (po - pe_kappa) / (1 - pe_kappa) if n and pe_kappa < 1 else None,
        "gwet_ac1": (po - pe_ac1) / (1 - pe_ac1) if n else None,
    }


def _best_label(has_code: np.ndarray, labels: np.ndarray) -> str:
    """The label whose yes/no column best matches the code (F1, then overlap, then id)."""
    best = None
    for label in sorted(set(labels) - {""}):
        is_label = labels == label
        shared = int((has_code & is_label).sum())
        f1 = 2 * shared / (has_code.sum() + is_label.sum())
        key = (-f1, -shared, label)
        if shared and (best is None or key < best):
            best = key
    return best[2] if best else ""


def _kmeans_labels(vectors: np.ndarray, k: int, seed: int) -> np.ndarray | None:
    if vectors is None or k < 2 or len(vectors) <= k:
        return None
    from sklearn.cluster import KMeans

    fitted = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(vectors)
    return np.array([f"k{j}" for j in fitted.labels_])


AGREEMENT_COLUMNS = ["participant_group", "code", "n_segments", "n_human", "theme", "n_theme", "precision",
                     "recall", "f1", "cohen_kappa", "gwet_ac1", "kmeans_k", "kmeans_f1", "kmeans_kappa",
                     "kmeans_ac1"]


def agreement_by_code(mapped: pd.DataFrame, segments: pd.DataFrame, segment_themes: pd.DataFrame,
                      embeddings: np.ndarray | None = None, seed: int = 0,
                      level: str = "group_theme") -> pd.DataFrame:
    """Each human code against the best-matching theme of each participant group.

    For every participant group, the items are that group's segments that carry at least
    one human code (``mapped``, from :func:`helpers.human_codes.map_codes_to_segments`), in
    segment order; the model's label of an item is its theme at ``level`` (a segment
    whose theme was dropped has none). Every code found on those segments is matched to
    the theme with the highest F1 (:func:`binary_agreement` for the measures). With
    ``embeddings`` (rows in the order of ``segments``, as ``embeddings.npy``), k-means
    (``seed``) clusters the same segments into as many clusters as they have themes
    (at least 2, fewer than the segments), and each code is matched to a cluster the same
    way: the ``kmeans_*`` columns, empty when there are too few segments.
    Columns: :data:`AGREEMENT_COLUMNS`; rows by group (study order of ``segments``), then
    code in order of first appearance.
    """
    _require(segments, ["segment_id", "participant_group"], "segments")
    theme_of = _theme_lookup(segment_themes, level)
    codes_of = _codes_by_segment(mapped)
    row_of = {sid: i for i, sid in enumerate(segments["segment_id"].map(_clean))}
    group_of = dict(zip(segments["segment_id"].map(_clean), segments["participant_group"].map(_clean)))
    code_order = {c: i for i, c in enumerate(dict.fromkeys(mapped["code"].map(_clean)))}
    groups = list(dict.fromkeys(segments["participant_group"].map(_clean)))
    rows = []
    for group in groups:
        items = [sid for sid in row_of if group_of[sid] == group and sid in codes_of]
        if not items:
            continue
        themes = np.array([theme_of.get(sid, "") for sid in items])
        k = len(set(themes) - {""})
        vectors = embeddings[[row_of[sid] for sid in items]] if embeddings is not None else None
        clusters = _kmeans_labels(vectors, max(k, 2), seed) if vectors is not None else None
        codes = sorted({c for sid in items for c in codes_of[sid]}, key=code_order.get)
        for code in codes:
            has = np.array([code in codes_of[sid] for sid in items])
            theme = _best_label(has, themes)
            measures = binary_agreement(has, themes == theme) if theme else \
                {"precision": 0.0, "recall": 0.0, "f1": 0.0, "cohen_kappa": None, "gwet_ac1": None}
            baseline = {"f1": None, "cohen_kappa": None, "gwet_ac1": None}
            if clusters is not None:
                cluster = _best_label(has, clusters)
                baseline = binary_agreement(has, clusters == cluster) if cluster else \
                    {"f1": 0.0, "cohen_kappa": None, "gwet_ac1": None}
            rows.append([group, code, len(items), int(has.sum()), theme, int((themes == theme).sum()) if theme else 0,
                         measures["precision"], measures["recall"], measures["f1"], measures["cohen_kappa"],
                         measures["gwet_ac1"], max(k, 2) if clusters is not None else None, baseline["f1"],
                         baseline["cohen_kappa"], baseline["gwet_ac1"]])
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


# --------------------------------------------------------------------------- the notebook's step

@dataclass
class HumanComparison:
    """Human coding against the model's themes (empty tables when there is no coding)."""

    message: str
    per_code: pd.DataFrame
    summary: pd.DataFrame
    disagreements: pd.DataFrame


def compare_human_coding(path, segments: pd.DataFrame, utterances: pd.DataFrame, segment_themes: pd.DataFrame,
                         embeddings: np.ndarray | None = None, seed: int = 0,
                         level: str = "group_theme") -> HumanComparison:
    """Read codes applied by people (``.qdpx`` or ``.csv``), map them onto segments and
    compare them with the model's themes at ``level``: per code and participant group
    (:func:`agreement_by_code`, with the k-means baseline when ``embeddings`` are given),
    overall (:func:`compare_with_themes`' summary) and the disagreements, quoted as the
    coders saw the text. An empty ``path`` compares nothing."""
    if not str(path or "").strip():
        empty = pd.DataFrame()
        return HumanComparison("No human coding given (parameter human_codes); nothing to compare.",
                               empty, empty, empty)
    path = Path(path)
    human = read_human_codes_qdpx(path) if path.suffix.lower() == ".qdpx" else read_human_codes_csv(path)
    mapped = map_codes_to_segments(human, segments, utterances)
    per_code = agreement_by_code(mapped, segments, segment_themes, embeddings, seed, level)
    _, summary = compare_with_themes(mapped, segment_themes, level=level)
    return HumanComparison(
        f"{len(human)} human codings from {path.name} cover {summary['n_segments']} segments.",
        per_code, pd.DataFrame([summary]),
        disagreements(mapped, segment_themes, segments, level=level, utterances=utterances))


AGREEMENT_FILE = "human_agreement.csv"
DISAGREEMENT_FILE = "human_disagreements.csv"


def write_agreement(output_dir, comparison: HumanComparison) -> list[Path]:
    """Write the per-code agreement and the disagreements for the report (atomically), or
    remove those of an earlier run when there is no human coding this time."""
    output_dir = Path(output_dir)
    targets = [output_dir / AGREEMENT_FILE, output_dir / DISAGREEMENT_FILE]
    if comparison.per_code.empty:
        for stale in targets:
            stale.unlink(missing_ok=True)
        return []
    write_csv_atomic(comparison.per_code, targets[0])
    write_csv_atomic(comparison.disagreements, targets[1])
    return targets
