"""Masking: what people are shown while identifying details are unresolved.

:func:`mask_identifying` replaces every unresolved detail (and the parts of it that
identify on their own) by its kind; :func:`masking_notice` is the warning a page carries
meanwhile, :func:`run_summary` the line a finished run ends with.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .rules import _STREET_SUFFIXES, _TITLE_WORDS
from .words import COMMON_CAPITALISED, NAME_PARTICLES, fold


#: What stands in a shown file for each kind of unresolved detail.
MASKS = {
    "NHS number": "[NHS number]", "phone number": "[phone number]", "UK postcode": "[postcode]",
    "street address": "[address]", "personal name": "[name]", "email address": "[email address]",
    "date (possible date of birth)": "[date]", "date of birth": "[date of birth]",
    "hospital or ward name": "[place]",
}


def unresolved(disclosures: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``disclosures`` that nobody has reviewed and allowed yet."""
    if disclosures is None or disclosures.empty:
        return pd.DataFrame(columns=["kind", "match"])
    return disclosures[disclosures["status"].astype(str) == "unresolved"]


def _flexible(literal: str) -> str:
    """A pattern for ``literal`` that tolerates other spacing, and for a number other
    separators ("943 476 5919" also finds "943-476-5919" and "9434765919")."""
    if sum(c.isdigit() for c in literal) >= 7 and re.fullmatch(r"[\d\s().+-]+", literal):
        return r"[\s().+-]*".join(re.escape(c) for c in literal if c.isdigit() or c == "+")
    return r"\s+".join(re.escape(w) for w in literal.split())


def _identifying_parts(kind: str, match: str) -> list[str]:
    """Pieces of a reported detail that identify on their own, masked wherever they occur:
    each word of a name (keywords are single words), the street's name, the two halves of
    a postcode."""
    if kind == "personal name":
        words = [re.sub(r"['’]s$", "", w.rstrip(".")) for w in match.split()]
        words = [w for w in words if w.lower() not in _TITLE_WORDS and w.lower() not in NAME_PARTICLES]
        parts = set(words) | {p for w in words for p in re.split(r"[-'’]", w)}
        return sorted(p for p in parts if len(p) >= 3 and fold(p) not in COMMON_CAPITALISED)
    if kind == "street address":
        words = match.replace(",", " ").split()[1:]
        named = [w for w in words if w.lower() not in {x.lower() for x in _STREET_SUFFIXES.split("|")}]
        return sorted({" ".join(words)} | {w for w in named if len(w) >= 3 and w.lower() not in COMMON_CAPITALISED})
    if kind == "UK postcode":
        return [p for p in match.split() if len(p) >= 3]
    return []


def _mask_pattern(disclosures: pd.DataFrame) -> tuple[re.Pattern, list[str]] | None:
    """One pattern that finds every unresolved detail (longest first) and the mask of
    each of its alternatives, or None when nothing is unresolved."""
    pending = unresolved(disclosures)
    if pending.empty:
        return None
    literals: dict[str, str] = {}
    for kind, match in zip(pending["kind"].astype(str), pending["match"].astype(str)):
        mask = MASKS.get(kind, "[identifying detail]")
        for literal in [match.strip(), *_identifying_parts(kind, match)]:
            if literal:
                literals.setdefault(literal.lower(), mask)
    ordered = sorted(literals, key=len, reverse=True)
    alternatives = [rf"(?<![\w])(?:{_flexible(lit)})(?![\w])" if lit[:1].isalnum() and lit[-1:].isalnum()
                    else _flexible(lit) for lit in ordered]
    pattern = re.compile("|".join(f"({a})" for a in alternatives), re.IGNORECASE)
    return pattern, [literals[lit] for lit in ordered]


def mask_identifying(data, disclosures: pd.DataFrame):
    """``data`` (a text, a Series or a table) with every unresolved detail of
    ``disclosures`` replaced by its mask (``[name]``, ``[NHS number]``, ``[phone number]``,
    ``[postcode]``, ``[address]`` …), in every text cell of every column.

    This is the one step that stands between the analysis and everything shown to people
    (report, workshop packs and board, interactive maps, shared tables): the notebooks
    apply it to the tables before they are written or rendered. The analysis itself
    (segments, embeddings, themes, ids) keeps the transcripts' words. With nothing
    unresolved ``data`` itself is returned, so a reviewed study's files stay byte-identical.
    """
    compiled = _mask_pattern(disclosures)
    if compiled is None:
        return data
    pattern, masks = compiled

    def mask_text(value):
        if not isinstance(value, str):
            return value
        return pattern.sub(lambda m: masks[m.lastindex - 1], value)

    if isinstance(data, str):
        return mask_text(data)
    if isinstance(data, pd.Series):
        return data.map(mask_text) if data.dtype == object else data
    if isinstance(data, pd.DataFrame):
        masked = data.copy()
        for column in masked.columns:
            if masked[column].dtype == object or pd.api.types.is_string_dtype(masked[column]):
                masked[column] = masked[column].map(mask_text)
        return masked
    raise TypeError(f"mask_identifying takes a text, a Series or a DataFrame, not {type(data).__name__}")


def masking_notice(disclosures: pd.DataFrame) -> str:
    """The warning a page shown to people carries while details are unresolved ("" when
    none are)."""
    pending = unresolved(disclosures)
    if pending.empty:
        return ""
    masks = sorted({MASKS.get(k, "[identifying detail]") for k in pending["kind"].astype(str)})
    return (f"{len(pending)} possible identifying detail(s) found in the transcripts are not yet reviewed "
            f"(see disclosures.csv). They are masked on this page as {', '.join(masks)}. Review them before "
            "this page is shared or shown.")


def run_summary(output_dir) -> str:
    """The one line a finished run ends with while details are unresolved: how many,
    what was masked and whether the QDA export was withheld ("" when none are)."""
    output_dir = Path(output_dir)
    path = output_dir / "disclosures.csv"
    if not path.is_file():
        return ""
    pending = unresolved(pd.read_csv(path, keep_default_na=False, dtype=str))
    if pending.empty:
        return ""
    masks = ", ".join(sorted({MASKS.get(k, "[identifying detail]") for k in pending["kind"]}))
    status = output_dir / "export_status.txt"
    exported = status.is_file() and status.read_text(encoding="utf-8").startswith("Exported")
    export = ("the QDA export was written unmasked (disclosure.refuse_exports_with_disclosures is false)"
              if exported else "the QDA export is withheld")
    return (f"⚠ {len(pending)} possible identifying detail(s) in {path} are unresolved: masked as {masks} in the "
            f"report, workshop packs, board, maps and shared tables; {export}. Review them and list the safe ones "
            "under disclosure.allow in study.yml (or edit the transcript), then rerun.")
