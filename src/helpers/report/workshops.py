"""The workshops section: every decision of every workshop in plain words, with its
reason and what the rerun checked."""

from __future__ import annotations

from .._io import cell_list as _split
from .._io import cell_number
from .._io import cell_text as _text
from ..study import Study
from .formatting import _and, _date, _group_label, _group_theme_rows, _integrated_labels, _named, _records
from .run_files import RunFiles


def _decision_sentence(row: dict, fields: dict, group_rows: dict, integrated: dict) -> str:
    """One audit row in plain words (ids from the audit, as applied to this run; labels
    and wording from the workshop file)."""
    action = _text(row.get("action"))
    inputs, outputs = _split(row.get("inputs")), _split(row.get("outputs"))
    name = lambda t, label="": _named(t, group_rows, integrated, label)  # noqa: E731
    if action == "merge":
        target = outputs[0] if outputs else ""
        return f"Merged {_and([name(t) for t in inputs])} into {name(target, _text(fields.get('label')))}."
    if action == "rename":
        label = _text(fields.get("label")) or integrated.get(inputs[0] if inputs else "", "")
        return f"Renamed {inputs[0] if inputs else ''} to ‘{label}’."
    if action == "split":
        parts = [name(p) for p in outputs]
        return f"Split {name(inputs[0] if inputs else '')} into {_and(parts)}."
    if action == "drop":
        return (f"Dropped {name(inputs[0] if inputs else '')}: its segments go into no integrated theme.")
    if action == "define":
        theme = inputs[0] if inputs else ""
        text = f"Described {name(theme)}: “{_text(fields.get('description'))}”"
        elements = fields.get("elements") or fields.get("definition_elements") or []
        elements = [elements] if isinstance(elements, str) else list(elements)
        if elements:
            text += "; added to the definition: " + _and([f"“{e}”" for e in elements])
        return text + "."
    if action == "link":
        relation = outputs[0] if outputs else _text(fields.get("relation"))
        return f"Linked {name(inputs[0])} to {name(inputs[1])}: {relation}." if len(inputs) == 2 else \
            f"Linked {_and(inputs)}: {relation}."
    if action == "assign":
        attribute = outputs[0] if outputs else _text(fields.get("attribute"))
        behaviours = [str(b) for b in fields.get("behaviours") or []]
        text = f"Placed {name(inputs[0] if inputs else '')} under the attribute ‘{attribute}’"
        return text + (f", shown by: {'; '.join(behaviours)}." if behaviours else ".")
    return f"{action.capitalize()} {_and(inputs)}" + (f" → {_and(outputs)}" if outputs else "") + "."


def _workshop_files(study: Study) -> tuple[dict, str]:
    """The study's workshop files by name (``workshop_1``), or a sentence saying why not."""
    from ..workshop_files import WorkshopError, load_workshops

    try:
        return {w.name: w for w in load_workshops(list(study.workshops))}, ""
    except (WorkshopError, OSError) as exc:
        return {}, str(exc)


def _attendees(value, study: Study) -> str:
    """Who attended, by role (participant group), never by name."""
    if isinstance(value, dict):
        parts = [f"{n} {_group_label(study, str(g)).lower()}" for g, n in value.items() if cell_number(n)]
        return _and(parts)
    if isinstance(value, (list, tuple)):
        return f"{len(value)} people (names are not shown)"
    return _text(value)


def _masked(run: RunFiles, text: str) -> str:
    """``text`` with the run's unreviewed identifying details masked (as the tables are)."""
    if "disclosures" not in run.tables or run.tables["disclosures"].empty:
        return text
    from ..disclosure import mask_identifying

    return mask_identifying(text, run.tables["disclosures"])


def _workshops(run: RunFiles, study: Study) -> dict:
    audit = run.table("audit")
    files, problem = _workshop_files(study)
    group_rows, integrated = _group_theme_rows(run), _integrated_labels(run)
    rows = _records(audit)
    names = list(dict.fromkeys([*sorted(files, key=lambda n: files[n].number), *(_text(r.get("workshop")) for r in rows)]))
    workshops = []
    for name in names:
        w = files.get(name)
        decisions, checked, notes = [], set(), []
        for r in rows:
            if _text(r.get("workshop")) != name:
                continue
            index = int(cell_number(r.get("index")) or 0)
            fields = w.decisions[index - 1] if w and 0 < index <= len(w.decisions) else {}
            fields = fields if isinstance(fields, dict) else {}
            for note in (n.strip() for n in _text(r.get("check")).split(";")):
                if note.startswith("checked"):
                    checked.add(note)
                elif note and note not in notes:
                    notes.append(note)
            decisions.append({"index": index, "action": _text(r.get("action")),
                              # the wording comes partly from the workshop file, which the tables'
                              # masking never saw: unreviewed identifying details are masked here
                              "text": _masked(run, _decision_sentence(r, fields, group_rows, integrated)),
                              "reason": _text(r.get("rationale"))})
        workshops.append({
            "name": name, "number": w.number if w else name.rsplit("_", 1)[-1],
            "title": _masked(run, w.title) if w else "", "date": _date(w.date) if w else "",
            "attendees": _attendees(w.attendees, study) if w else "",
            "illustrative": bool(w and w.illustrative), "decisions": decisions,
            "n_checked": len(checked), "notes": notes,
            "carried": [n for n in notes if n.startswith("carried over")],
            "unchecked": [n for n in notes if n.startswith("unchecked")],
        })
    return {"workshops": workshops, "problem": problem}
