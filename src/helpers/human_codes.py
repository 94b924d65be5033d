"""Codes applied by people, read back in and laid onto the analysis segments.

Researchers who coded the transcripts in QDA software export a REFI-QDA project
(``.qdpx``) or write a CSV; :func:`read_human_codes_qdpx` and :func:`read_human_codes_csv`
read them, and :func:`map_codes_to_segments` attaches each code to the segments it
covers, in the positions of :func:`helpers.qda_layout.plain_text_layout`.
"""

from __future__ import annotations

import bisect
import csv
import re
import zipfile
from pathlib import Path

import pandas as pd
from lxml import etree

from ._io import UserError
from .qda_layout import clean as _clean
from .qda_layout import require as _require
from .qda_layout import segment_spans, sorted_utterances

__all__ = ["read_human_codes_qdpx", "read_human_codes_csv", "map_codes_to_segments"]

_HUMAN_COLUMNS = ["source_name", "start", "end", "code", "coder", "text"]


def _norm_guid(value: str | None) -> str:
    return (value or "").strip().strip("{}").lower()


def _zip_member(zf: zipfile.ZipFile, internal: str) -> str | None:
    """The zip member an ``internal://name`` path points at (``sources/`` or ``Sources/``)."""
    name = internal[len("internal://"):].lstrip("/")
    by_lower = {n.lower(): n for n in zf.namelist()}
    for candidate in (f"sources/{name}", name):
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    for n in zf.namelist():
        if n.lower().endswith("/" + name.lower()):
            return n
    return None


def _utf16_to_codepoints(text: str):
    units = [0]
    for ch in text:
        units.append(units[-1] + (2 if ord(ch) > 0xFFFF else 1))

    def convert(pos: int) -> int:
        return bisect.bisect_right(units, pos) - 1
    return convert


def read_human_codes_qdpx(path, *, crlf: str = "auto", positions: str = "codepoints") -> pd.DataFrame:
    """Read the codings of text selections from a REFI-QDA project (``.qdpx``).

    Works on projects written by QualCoder, NVivo, ATLAS.ti or MAXQDA (namespace
    ``urn:QDA-XML:project:1.0``): every ``Coding`` inside a ``PlainTextSelection`` of a
    ``TextSource`` becomes one row. Columns: ``source_name`` (the TextSource name),
    ``start``, ``end`` (code points in the source text with ``"\\n"`` line endings, end
    exclusive), ``code`` (the code's path in the code tree, ``"Parent/Child"``),
    ``coder`` (the coding's or selection's user name, else ""), and ``text`` (the selected
    text, or None when the source text is not inside the file).

    The source text is read from ``PlainTextContent`` or the ``internal://`` file
    (UTF-8, a leading byte-order mark dropped). When it has Windows line endings, ``crlf``
    says how the software counted them: ``"two"`` (CR and LF each a position, as NVivo),
    ``"one"`` (CR LF as one, as ATLAS.ti and MAXQDA) or ``"auto"`` (``"one"`` when the
    project's ``origin`` names ATLAS.ti or MAXQDA, else ``"two"``); positions are returned
    for the text with ``"\\n"`` endings either way. ``positions="utf16"`` reads positions
    counted in UTF-16 code units. Selections without a Coding (annotations) and codings
    of cases are skipped.
    """
    if crlf not in ("auto", "one", "two"):
        raise ValueError(f"crlf must be 'auto', 'one' or 'two', not {crlf!r}")
    if positions not in ("codepoints", "utf16"):
        raise ValueError(f"positions must be 'codepoints' or 'utf16', not {positions!r}")
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise UserError(f"{path} is not a REFI-QDA project ({err}); export the project from your "
                        f"QDA software as a REFI-QDA Project (.qdpx).") from err
    with zf:
        qde = sorted((n for n in zf.namelist() if n.lower().endswith(".qde")),
                     key=lambda n: (n.count("/"), n != "project.qde", n))
        if not qde:
            raise UserError(f"{path} holds no .qde project file; export the project from your QDA "
                            f"software as a REFI-QDA Project (.qdpx).")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        try:
            root = etree.fromstring(zf.read(qde[0]), parser)
        except etree.XMLSyntaxError as err:
            raise UserError(f"{path}: {qde[0]} is not well-formed XML ({err}); export the project "
                            f"again from your QDA software.") from err
        ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
        if not ns.startswith("urn:QDA-XML:project:"):
            raise UserError(f"{path}: {qde[0]} is not a REFI-QDA project (root {root.tag}); export "
                            f"the project from your QDA software as a REFI-QDA Project (.qdpx).")

        def q(tag: str) -> str:
            return f"{{{ns}}}{tag}"

        users = {_norm_guid(u.get("guid")): u.get("name") or "" for u in root.iter(q("User"))}
        codes: dict[str, str] = {}

        def walk(el, prefix: str) -> None:
            for code in el.findall(q("Code")):
                name = (code.get("name") or "").strip()
                full = f"{prefix}/{name}" if prefix else name
                codes[_norm_guid(code.get("guid"))] = full
                walk(code, full)

        for codes_el in root.iterfind(f"{q('CodeBook')}/{q('Codes')}"):
            walk(codes_el, "")
        # A code sharing its GUID with a Case holds that case's text (NVivo and this
        # compendium write cases so; QualCoder reads them so): not a code people applied.
        for case in root.iterfind(f"{q('Cases')}/{q('Case')}"):
            codes.pop(_norm_guid(case.get("guid")), None)
        origin = root.get("origin") or ""
        mode = crlf
        if mode == "auto":
            mode = "one" if re.search(r"atlas|maxqda", origin, re.I) else "two"

        rows = []
        for src in root.iter(q("TextSource")):
            name = src.get("name") or _norm_guid(src.get("guid"))
            raw = None
            content = src.find(q("PlainTextContent"))
            if content is not None and content.text is not None:
                raw = content.text
            elif (src.get("plainTextPath") or "").startswith("internal://"):
                member = _zip_member(zf, src.get("plainTextPath"))
                if member is not None:
                    raw = zf.read(member).decode("utf-8-sig", errors="replace")
            text = None
            convert = None
            if raw is not None:
                text = raw.replace("\r\n", "\n").replace("\r", "\n")
                base = raw if mode == "two" else raw.replace("\r\n", "\n")
                utf16 = _utf16_to_codepoints(base) if positions == "utf16" else None
                crs = [i for i in range(len(base) - 1) if base[i] == "\r" and base[i + 1] == "\n"] \
                    if mode == "two" else []

                def convert(pos, utf16=utf16, crs=crs):
                    if utf16 is not None:
                        pos = utf16(pos)
                    return pos - bisect.bisect_left(crs, pos)
            for sel in src.findall(q("PlainTextSelection")):
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
                if start > end:
                    start, end = end, start
                if convert is not None:
                    start, end = convert(start), convert(end)
                sel_user = sel.get("creatingUser") or sel.get("modifyingUser")
                for coding in sel.findall(q("Coding")):
                    ref = coding.find(q("CodeRef"))
                    code = codes.get(_norm_guid(ref.get("targetGUID") if ref is not None else ""))
                    if code is None:
                        continue
                    coder = users.get(_norm_guid(coding.get("creatingUser") or sel_user), "")
                    rows.append((name, start, end, code, coder,
                                 text[start:end] if text is not None else None))
    out = pd.DataFrame(rows, columns=_HUMAN_COLUMNS)
    return out.astype({"start": "int64", "end": "int64"})


_SOURCE_COLUMNS = ("source", "source_name", "focus_group", "transcript")


def read_human_codes_csv(path) -> pd.DataFrame:
    """Read human codes from a CSV: one row per coded passage or turn.

    Header (case-insensitive): ``source`` (focus-group id, e.g. ``FG01``, or transcript
    file name), ``code``, and either ``start`` and ``end`` (zero-based, end-exclusive
    character positions, in code points, in the exported plain text of that source) or
    ``turn`` (the whole turn carries the code); optional ``coder``. Returns columns
    ``source, start, end, turn, code, coder`` (positions and turn as nullable integers).
    A missing column or a bad row raises a ValueError naming the file, the line and the fix.
    """
    path = Path(path)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise UserError(f"{path}, line 1: the file is empty; add the header "
                            f"'source,start,end,code' (or 'source,turn,code') and one row per "
                            f"coded passage.") from None
        cols = [h.strip().lower() for h in header]
        index: dict[str, int] = {}
        for i, c in enumerate(cols):
            index.setdefault(c, i)
        source_col = next((c for c in _SOURCE_COLUMNS if c in index), None)
        has_pos = "start" in index and "end" in index
        missing = ([] if source_col else ["source"]) + ([] if "code" in index else ["code"]) + \
            ([] if has_pos or "turn" in index else ["start and end, or turn"])
        if missing:
            raise UserError(
                f"{path}, line 1: missing column(s) {', '.join(missing)}; the header must name "
                f"source, code and either start and end (character positions in the exported "
                f"plain text) or turn.")

        def integer(value: str, what: str, line: int, minimum: int) -> int:
            try:
                number = float(value)
                if not number.is_integer() or number < minimum:
                    raise ValueError
            except ValueError:
                raise UserError(f"{path}, line {line}: {what} {value!r} is not a whole number of at "
                                f"least {minimum}; correct it or delete the row.") from None
            return int(number)

        rows = []
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue

            def get(col: str) -> str:
                i = index.get(col)
                return row[i].strip() if i is not None and i < len(row) else ""

            source, code = get(source_col), get("code")
            if not source or not code:
                raise UserError(f"{path}, line {line}: the {'source' if not source else 'code'} is "
                                f"empty; fill it in or delete the row.")
            start_s, end_s, turn_s = get("start"), get("end"), get("turn")
            start = end = turn = None
            if start_s or end_s:
                if not (start_s and end_s):
                    raise UserError(f"{path}, line {line}: give both start and end (or leave both "
                                    f"empty and give turn).")
                start = integer(start_s, "start", line, 0)
                end = integer(end_s, "end", line, 0)
                if end <= start:
                    raise UserError(f"{path}, line {line}: end ({end}) is not after start ({start}); "
                                    f"swap or correct them.")
            elif turn_s:
                turn = integer(turn_s, "turn", line, 1)
            else:
                raise UserError(f"{path}, line {line}: the row has neither start and end nor turn; "
                                f"give the character positions or the turn number.")
            rows.append((source, start, end, turn, code, get("coder")))
    out = pd.DataFrame(rows, columns=["source", "start", "end", "turn", "code", "coder"])
    return out.astype({"start": "Int64", "end": "Int64", "turn": "Int64"})


def _source_resolver(utterances: pd.DataFrame):
    fgs = sorted({_clean(x) for x in utterances["focus_group"]})
    lookup: dict[str, str] = {fg.lower(): fg for fg in fgs}
    if "source" in utterances.columns:
        for fg, src in zip(utterances["focus_group"].map(_clean), utterances["source"].map(_clean)):
            if src:
                name = Path(src.replace("\\", "/")).name
                for key in (src, name, Path(name).stem):
                    lookup.setdefault(key.lower(), fg)

    def resolve(source: object) -> str:
        name = _clean(source).strip()
        candidates = [name, Path(name.replace("\\", "/")).name]
        candidates.append(Path(candidates[-1]).stem)
        for c in candidates:
            if c.lower() in lookup:
                return lookup[c.lower()]
        hits = [fg for fg in fgs if re.search(rf"(?<![A-Za-z0-9]){re.escape(fg)}(?![0-9])", name, re.I)]
        if len(hits) == 1:
            return hits[0]
        raise UserError(f"human codes name the source {name!r}, which matches no focus group "
                        f"({', '.join(fgs)}); use the focus-group id or the transcript file name.")
    return resolve


def map_codes_to_segments(human: pd.DataFrame, segments: pd.DataFrame, utterances: pd.DataFrame,
                          *, min_overlap: float = 0.5) -> pd.DataFrame:
    """Attach human codes to analysis segments; returns ``DataFrame[segment_id, code]``.

    ``human`` comes from :func:`read_human_codes_qdpx` (``source_name``, ``start``,
    ``end``) or :func:`read_human_codes_csv` (``source``, ``start``/``end`` or ``turn``).
    Sources resolve to focus groups by id or transcript file name. A positional code goes
    to every segment of that focus group whose span it overlaps by at least
    ``min_overlap`` (half) of the segment's length, positions being those of
    :func:`plain_text_layout`; a turn-level code goes to every segment of the turn. Rows
    are ordered by segment (focus group, turn, position), and within a segment by the
    order the codes first appear in ``human``; duplicates are dropped.
    """
    src_col = "source_name" if "source_name" in human.columns else "source"
    _require(human, [src_col, "code"], "human codes")
    utts = sorted_utterances(utterances)
    segs = segment_spans(segments, utts)
    resolve = _source_resolver(utts)
    by_fg = {fg: rows for fg, rows in segs.groupby("focus_group", sort=False)}
    code_order: dict[str, int] = {}
    pairs: set[tuple[int, str]] = set()
    has_pos = "start" in human.columns and "end" in human.columns
    has_turn = "turn" in human.columns
    for _, row in human.iterrows():
        code = _clean(row["code"])
        if not code:
            continue
        code_order.setdefault(code, len(code_order))
        fg = resolve(row[src_col])
        rows = by_fg.get(fg)
        if rows is None:
            continue
        if has_pos and _clean(row["start"]) != "" and _clean(row["end"]) != "":
            a, b = int(row["start"]), int(row["end"])
            overlap = (rows["end"].clip(upper=b) - rows["start"].clip(lower=a)).clip(lower=0)
            length = rows["end"] - rows["start"]
            hit = rows.index[(length > 0) & (overlap >= min_overlap * length)]
        elif has_turn and _clean(row["turn"]) != "":
            hit = rows.index[rows["turn"] == int(row["turn"])]
        else:
            raise UserError(f"a human code ({code!r} in {_clean(row[src_col])}) has neither start "
                            f"and end nor turn; give the character positions or the turn.")
        pairs.update((int(i), code) for i in hit)
    ordered = sorted(pairs, key=lambda p: (p[0], code_order[p[1]]))
    return pd.DataFrame([(segs.at[i, "segment_id"], code) for i, code in ordered],
                        columns=["segment_id", "code"])
